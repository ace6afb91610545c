"""Rules that read memberships and events from a resolved sentence.

Every rule starts at a trigger word (found by the spaCy ``Matcher`` of nlp.py, on
lemmas) and looks for its arguments in the same clause: the acting countries before
it (a coordinated list, or an anaphor), the organization or treaty after it, and the
date nearest to the organization. Statements that are anticipated, hypothetical or
denied ("is expected to join", "may become", "did not join") yield nothing: a fact is
only kept when the sentence states it as having happened or being so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from spacy.tokens import Token

from extract.dates import Date, DateSpan
from extract.facts import Event, Membership, Mention
from extract.gazetteer import Gazetteer
from extract.mentions import DateMention, Ent, Sentence

#: Words that make a statement anticipated, hypothetical, reported as wish, or denied.
CUES = frozenset(
    [
        "not",
        "n't",
        "never",
        "no",
        "nor",
        "expected",
        "expect",
        "expects",
        "hope",
        "hopes",
        "hoped",
        "hoping",
        "plan",
        "plans",
        "planned",
        "planning",
        "may",
        "might",
        "could",
        "would",
        "will",
        "shall",
        "should",
        "must",
        "seek",
        "seeks",
        "sought",
        "seeking",
        "aim",
        "aims",
        "aimed",
        "apply",
        "applied",
        "applies",
        "applying",
        "application",
        "bid",
        "bids",
        "candidate",
        "candidacy",
        "want",
        "wants",
        "wanted",
        "intend",
        "intends",
        "intended",
        "consider",
        "considered",
        "considering",
        "refuse",
        "refused",
        "refuses",
        "reject",
        "rejected",
        "rejects",
        "decline",
        "declined",
        "declines",
        "fail",
        "failed",
        "negotiate",
        "negotiating",
        "likely",
        "unlikely",
        "potential",
        "possible",
        "possibly",
        "future",
        "aspire",
        "aspires",
        "aspiring",
        "aspiration",
        "if",
        "unless",
        "whether",
        "wish",
        "wishes",
        "attempt",
        "attempted",
        "try",
        "tried",
        "tries",
        "against",
        "prepare",
        "prepared",
        "prepares",
        "preparing",
        "ready",
        "eligible",
        "invite",
        "invited",
        "invitation",
        "push",
        "pushed",
        "pushes",
        "lobby",
        "lobbied",
        "poised",
        "'ll",
        "'d",
        "await",
        "awaits",
        "awaiting",
        "pending",
        "campaign",
        "campaigned",
        "deny",
        "denied",
        "denies",
        "cease",
        "ceased",
        "ceases",
        "suspended",
        "rumoured",
        "rumored",
        "reportedly",
        "allegedly",
        "considers",
        "proposal",
        "proposed",
        "proposes",
        "propose",
        "suggested",
        "suggest",
        "suggests",
        "urged",
        "urge",
        "urges",
        "called",
        "calls",
        "advocated",
        "advocates",
    ]
)

#: Words that end a clause when searching for a fact's arguments.
BOUNDARIES = frozenset({";", "but", "while", "whereas", "although", "though", "because"})
RELATIVES = frozenset({"which", "who", "that"})

#: Tokens allowed between the items of a coordinated list ("A, B, as well as C").
LIST_GLUE = frozenset({",", "and", "&", "as", "well", "both", "the", "The", "also", "(", ")"})

BE_FORMS = frozenset({"be", "is", "was", "were", "are", "been", "being", "has", "have", "had"})

#: Words that may stand between a linking verb and "member of" ("has been a full member of").
MEMBER_LEFT = frozenset(
    [
        "a",
        "an",
        "the",
        "full",
        "fully",
        "full-fledged",
        "fully-fledged",
        "founding",
        "permanent",
        "non",
        "non-permanent",
        "-",
        "associate",
        "its",
        "one",
        "of",
        "also",
        "now",
        "already",
        "still",
        "since",
        "then",
        "first",
        "new",
        "active",
        "longtime",
        "long-standing",
        "original",
        "formal",
        "official",
        "voting",
    ]
)
MEMBER_VERBS = frozenset({"be", "become", "remain", "as", ",", "make", "stay", "among"})

ORG_LABELS = ("ORG", "TREATY")
SUBJECT_WINDOW = 30
OBJECT_WINDOW = 16


@dataclass
class Trigger:
    """A matched trigger: its label and doc-absolute token range."""

    label: str
    start: int
    end: int


def _mention(s: Sentence) -> Mention:
    span = s.span
    text = s.text
    # The sentence without trailing whitespace, so that the slice is the sentence.
    stripped = text.rstrip()
    lead = len(stripped) - len(stripped.lstrip())
    begin = span.start_char + lead
    return Mention(begin, span.start_char + len(stripped), stripped.strip())


# ------------------------------------------------------------------ argument search


def countries_before(s: Sentence, i: int, allow_people: bool = False) -> list[Ent]:
    """The coordinated countries acting before token ``i`` in the same clause."""
    w = s.words
    j = i - 1
    lower = max(s.start, i - SUBJECT_WINDOW)
    while j >= lower:
        if w.text[j] in BOUNDARIES:
            return []
        if w.lower[j] in RELATIVES and w.lower[j] != "that":
            # "Poland, which joined NATO": the antecedent is the subject.
            k = j - 1
            while k >= s.start and w.text[k] == ",":
                k -= 1
            ante = s.ent_ending_at(k)
            if ante and (ante.label == "COUNTRY" or (allow_people and ante.label == "PERSON")):
                return _extend_left(s, ante)
            return []
        e = s.ent_ending_at(j)
        if e is not None:
            if e.label == "COUNTRY" or (allow_people and e.label == "PERSON"):
                if _is_object_of_preposition(s, e):
                    j = e.start - 1
                    continue
                return _extend_left(s, e)
            j = e.start - 1
            continue
        j -= 1
    return []


def _is_object_of_preposition(s: Sentence, e: Ent) -> bool:
    """'relations with Russia', 'in Kazakhstan' : not the actor of the clause."""
    if e.start == s.start:
        return False
    prev = s.words.lower[e.start - 1]
    if prev in {"with", "like", "than", "against", "from", "by", "for", "between", "toward"}:
        return True
    return prev == "in" and e.implicit is False and e.start - 1 > s.start


def _extend_left(s: Sentence, first: Ent) -> list[Ent]:
    """Add the countries listed before ``first``: 'Austria, Finland and Sweden'."""
    text = s.words.text
    group = [first]
    j = first.start - 1
    while j >= s.start:
        glue = False
        while j >= s.start and text[j] in LIST_GLUE and s.ent_at(j) is None:
            glue = glue or text[j] in {",", "and", "&"}
            j -= 1
        e = s.ent_ending_at(j) if j >= s.start else None
        if glue and e is not None and e.label == first.label:
            group.insert(0, e)
            j = e.start - 1
        else:
            break
    return group


def countries_after(s: Sentence, i: int) -> list[Ent]:
    """The coordinated countries right after token ``i`` ('admitted Latvia and Estonia')."""
    j = i
    while j < s.end and s.words.lower[j] in {"the", "by", "both"}:
        j += 1
    e = s.ent_at(j)
    if e is None or e.label != "COUNTRY":
        return []
    return _extend_right(s, e, ("COUNTRY",))


def orgs_after(s: Sentence, i: int, window: int = OBJECT_WINDOW) -> list[Ent]:
    """The coordinated organizations or treaties after token ``i`` in the same clause."""
    w = s.words
    j = i
    upper = min(s.end, i + window)
    while j < upper:
        if w.text[j] in BOUNDARIES or w.lower[j] in RELATIVES:
            return []
        e = s.ent_at(j)
        if e is not None:
            if e.label in ORG_LABELS:
                return _extend_right(s, e, ORG_LABELS)
            j = e.end
            continue
        j += 1
    return []


def _extend_right(s: Sentence, first: Ent, labels: tuple[str, ...]) -> list[Ent]:
    text = s.words.text
    group = [first]
    j = first.end
    while j < s.end:
        glue = False
        while j < s.end and text[j] in LIST_GLUE and s.ent_at(j) is None:
            glue = glue or text[j] in {",", "and", "&", "("}
            j += 1
        e = s.ent_at(j) if j < s.end else None
        if glue and e is not None and e.label in labels:
            if e.key != group[-1].key:
                group.append(e)
            j = e.end
        else:
            break
    return group


def hedged(s: Sentence, begin: int, end: int) -> bool:
    """Whether the words in [begin, end) (or just before a bare infinitive) hedge the fact."""
    w = s.words
    for k in range(max(s.start, begin), min(end, s.end)):
        if w.lower[k] in CUES or w.lemma[k] in {"hope", "plan", "expect", "seek", "intend"}:
            return True
    # "decided to join", "invited to join": the infinitive states an intention.
    return end - 1 >= s.start and w.lower[end - 1] == "to" and end - 1 >= begin


#: Words just before the subject that make the whole clause hypothetical or denied.
PRE_SUBJECT_CUES = frozenset(
    {"if", "unless", "whether", "should", "deny", "denied", "denies", "rumours", "rumors"}
)


def _hedged_before(s: Sentence, subject: list[Ent], trigger: Trigger) -> bool:
    if subject:
        begin = subject[-1].end
        # "If Norway joined the EU": a condition just before the subject.
        pre = s.words.lower[max(s.start, subject[0].start - 4) : subject[0].start]
        if any(word in PRE_SUBJECT_CUES for word in pre):
            return True
    else:
        begin = trigger.start - 5
    return hedged(s, begin, trigger.start)


def nearest_date(s: Sentence, anchor: Ent | Trigger) -> DateSpan | None:
    """The date in the sentence closest to ``anchor`` (a fact's organization)."""
    best: tuple[int, int, DateMention] | None = None
    for d in s.dates:
        if s.ent_at(d.start) is not None:
            continue
        lo, hi = (anchor.end, d.start) if d.start >= anchor.end else (d.end, anchor.start)
        if _clause_break(s, lo, hi):
            continue
        if d.start >= anchor.end:
            dist, after = d.start - anchor.end, 0
        else:
            dist, after = anchor.start - d.end, 1
        if best is None or (dist, after) < best[:2]:
            best = (dist, after, d)
    return best[2].span if best else None


def _clause_break(s: Sentence, lo: int, hi: int) -> bool:
    """Whether [lo, hi) crosses into another clause (', and', ';', 'but', 'before')."""
    lower = s.words.lower
    for k in range(lo, hi):
        word = lower[k]
        if word in BOUNDARIES or word in {"before", "after"}:
            return True
        if (
            word == ","
            and k + 1 < s.end
            and lower[k + 1] in {"and", "but", "only", "while", "before", "after", "when"}
        ):
            return True
    return False


def _date_role(s: Sentence, span: DateSpan | None) -> tuple[Date | None, Date | None]:
    """Start and end from a date span; 'until 2016' is an end."""
    if span is None:
        return None, None
    if span.end_date is not None:
        return span.start, span.end_date
    for d in s.dates:
        if d.span is span and d.start > s.start:
            if s.words.lower[d.start - 1] in {"until", "till", "through"}:
                return None, span.start
    return span.start, None


# ------------------------------------------------------------------ memberships


def memberships(s: Sentence, triggers: list[Trigger], gaz: Gazetteer) -> Iterator[Membership]:
    """All memberships the sentence states."""
    for t in triggers:
        handler = _HANDLERS.get(t.label)
        if handler is None:
            continue
        for m in handler(s, t, gaz):
            m.trigger = t.label
            yield m


def _make(
    s: Sentence,
    members: list[Ent],
    orgs: list[Ent],
    role: str,
    *,
    ending: bool = False,
) -> Iterator[Membership]:
    mention = _mention(s)
    for org in orgs:
        start, end = _date_role(s, nearest_date(s, org))
        if ending:
            start, end = None, end or start
        for m in members:
            if m.key == org.key:
                continue
            r = "party" if org.label == "TREATY" and role in ("member", "founding-member") else role
            yield Membership(m.key, org.key, r, start, end, [mention])


def _role_after(s: Sentence, orgs: list[Ent], default: str) -> str:
    """'joined the ASEAN Regional Forum as an observer' and similar."""
    j = orgs[-1].end
    words = s.words.lower[j : min(s.end, j + 5)]
    if words[:1] == ["as"]:
        rest = " ".join(words[1:])
        if "observer" in rest:
            return "observer"
        if "dialogue partner" in rest:
            return "dialogue-partner"
        if "founding" in rest or "founder" in rest:
            return "founding-member"
    return default


def _standard(s: Sentence, t: Trigger, role: str) -> tuple[list[Ent], list[Ent]] | None:
    """Subject countries before the trigger, organizations after it; None if hedged."""
    orgs = orgs_after(s, t.end)
    if not orgs:
        return None
    subject = countries_before(s, t.start)
    if not subject or _hedged_before(s, subject, t):
        return None
    return subject, orgs


def _passive_by(s: Sentence, t: Trigger) -> tuple[list[Ent], list[Ent]] | None:
    """'NATO was joined by Albania', 'OPEC was founded in Baghdad in 1960 by Iran, Iraq ...'."""
    w = s.words
    k = t.end
    while k < min(s.end, t.end + 14):
        if w.lower[k] == "by":
            break
        e = s.ent_at(k)
        if w.text[k] in BOUNDARIES or w.text[k] == "," or (e and e.label != "CITY"):
            if not any(d.start <= k < d.end for d in s.dates):
                return None
        k += 1
    else:
        return None
    if k >= s.end:
        return None
    members = countries_after(s, k + 1)
    org = _org_before(s, t.start)
    if members and org and not hedged(s, org.end, t.start):
        return members, [org]
    return None


def _org_before(s: Sentence, i: int, window: int = 6) -> Ent | None:
    j = i - 1
    while j >= max(s.start, i - window):
        e = s.ent_ending_at(j)
        if e is not None:
            return e if e.label in ORG_LABELS else None
        if s.words.text[j] in BOUNDARIES:
            return None
        j -= 1
    return None


def _is_passive(s: Sentence, t: Trigger) -> bool:
    """'was admitted', 'was for the first time elected': a form of *be* shortly before."""
    doc, w = s.doc, s.words
    for k in range(t.start - 1, max(s.start, t.start - 6) - 1, -1):
        if s.ent_at(k) is not None or doc[k].is_punct:
            return False
        if w.lemma[k] == "be" or w.lower[k] in {"been", "being", "get", "got"}:
            return True
    return False


def _join(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    if t.start > s.start and s.words.lower[t.start - 1] == "to" and not _is_passive(s, t):
        return
    by = _passive_by(s, t)
    if by:
        yield from _make(s, by[0], by[1], "member")
        return
    found = _standard(s, t, "member")
    if found is None:
        return
    subject, orgs = found
    role = _role_after(s, orgs, "member")
    # "... joined NATO in 2004, together with Bulgaria and Romania"
    extra = _together_with(s, orgs[-1].end)
    yield from _make(s, subject + extra, orgs, role)


#: Permanent members of the UN Security Council: every other member is elected.
P5 = frozenset(
    {"country:chn", "country:fra", "country:rus", "country:gbr", "country:usa", "country:sun"}
)


def _unsc_role(members: list[Ent], orgs: list[Ent], role: str) -> str:
    """A seat won or served on the Security Council is a non-permanent one (except the P5)."""
    if role == "member" and any(o.key == "organization:unsc" for o in orgs):
        if not any(m.key in P5 for m in members):
            return "non-permanent-member"
    return role


def _serve(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    """'served on the Security Council in 2022-2023', 'won a seat on the council'."""
    doc = s.doc
    if doc[t.start].lemma_ in {"serve", "sit"}:
        k = t.end
        while k < min(s.end, t.end + 3) and doc[k].lower_ not in {"on", "in"}:
            if doc[k].lower_ == "as":
                return
            k += 1
        orgs = orgs_after(s, k, window=4) if k < s.end and doc[k].lower_ in {"on"} else []
    else:
        left = {x.lemma_ for x in doc[max(s.start, t.start - 3) : t.start]}
        if not left & {"win", "take", "hold", "gain", "secure", "occupy"}:
            return
        # "a seat on the Security Council", not "a seat in a General Assembly vote"
        orgs = orgs_after(s, t.end, window=2)
        if orgs and any(x.lower_ != "the" for x in doc[t.end : orgs[0].start]):
            orgs = []
    if not orgs:
        return
    subject = countries_before(s, t.start)
    if not subject or _hedged_before(s, subject, t):
        return
    yield from _make(s, subject, orgs, _unsc_role(subject, orgs, "member"))


def _together_with(s: Sentence, i: int, plain_with: bool = False) -> list[Ent]:
    """'... together with Bulgaria and Romania', 'alongside Malaysia, the Philippines'."""
    w = s.words
    for k in range(i, min(s.end - 1, i + 14)):
        if w.lower[k] in {"together", "along"} and w.lower[k + 1] == "with":
            return countries_after(s, k + 2)
        if w.lower[k] == "alongside" or (plain_with and w.lower[k] == "with"):
            return countries_after(s, k + 1)
        if w.text[k] in BOUNDARIES or (w.text[k] == "," and w.lower[k + 1] == "and"):
            break
        e = s.ent_at(k)
        # (an acronym in brackets right after the organization is the same organization)
        if (e is not None and e.label in ORG_LABELS and k > i + 2) or w.lemma[k] in CLAUSE_VERBS:
            break  # "... and joined the EC together with Portugal" is another fact
    return []


CLAUSE_VERBS = frozenset({"join", "accede", "enter", "become", "sign", "leave", "withdraw"})


def _accede(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    doc = s.doc
    word = doc[t.start].lemma_
    nominal = word in {"accession", "admission", "ratification"}
    # "the accession of Croatia to the EU": the member follows the noun.
    if nominal and t.end < s.end and doc[t.end].lower_ == "of":
        members = countries_after(s, t.end + 1)
        if members:
            orgs = orgs_after(s, members[-1].end, window=6)
            if orgs and not hedged(s, t.start - 4, t.start):
                yield from _make(s, members, orgs, "member")
            return
    found = _standard(s, t, "member")
    if found is None:
        return
    subject, orgs = found
    if word in {"ratify", "ratification"}:
        orgs = [o for o in orgs if o.label == "TREATY"]
    yield from _make(s, subject, orgs, "member")


def _admit(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    if _is_passive(s, t):
        found = _standard(s, t, "member")
        if found:
            subject, orgs = found
            yield from _make(s, subject, orgs, _role_after(s, orgs, "member"))
        return
    # Active voice: "NATO admitted Albania and Croatia in 2009".
    org = _org_before(s, t.start)
    members = countries_after(s, t.end)
    if org and members and not hedged(s, org.end, t.start):
        role = "member"
        rest = " ".join(x.lower_ for x in s.doc[members[-1].end : min(s.end, members[-1].end + 5)])
        if "observer" in rest:
            role = "observer"
        elif "partner" in rest:
            role = "dialogue-partner"
        elif "member" not in rest and s.doc[t.start].lemma_ == "welcome":
            return
        # "The General Assembly admitted both Koreas": a body admits to its parent.
        parent = gaz.entities[org.key].parent
        if parent and gaz.entities[org.key].kind == "body":
            org = Ent(org.start, org.end, "ORG", f"organization:{parent}", org.text)
        yield from _make(s, members, [org], role)


def _member(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    doc = s.doc
    # What follows: "member of/in ORG" or a preceding "an EU member".
    j = t.end
    orgs: list[Ent] = []
    if j < s.end and doc[j].lower_ in {"of", "in", "to"}:
        orgs = orgs_after(s, j + 1, window=4)
    left = t.start - 1
    if not orgs:
        # "an EU member", "NATO's 31st member"
        k = left
        while k > s.start and (
            doc[k].like_num
            or _ordinal(doc[k])
            or doc[k].lower_ in {"full", "newest", "latest", "founding", "original"}
        ):
            k -= 1
        if doc[k].text in {"'s", "’s"}:
            k -= 1
        e = s.ent_ending_at(k)
        if e is not None and e.label in ORG_LABELS:
            orgs, left = [e], e.start - 1
    if not orgs:
        return
    # The words before "member" must link it to a subject: "is a", "became the 28th".
    words: list[Token] = []
    k = left
    while k >= s.start and (doc[k].lower_ in MEMBER_LEFT or doc[k].like_num or _ordinal(doc[k])):
        words.append(doc[k])
        k -= 1
    if k < s.start:
        return
    verb = doc[k]
    if not (verb.lemma_ in MEMBER_VERBS or verb.lower_ in MEMBER_VERBS):
        return
    text = " ".join(w.lower_ for w in reversed(words))
    if "non - permanent" in text or "non-permanent" in text:
        role = "non-permanent-member"
    elif "founding" in text or "original" in text:
        role = "founding-member"
    else:
        role = "member"
    subject = countries_before(s, k + 1)
    if verb.text == ",":
        # Apposition: "Kazakhstan, a member of the SCO, ..."
        e = s.ent_ending_at(k - 1)
        subject = _extend_left(s, e) if e is not None and e.label == "COUNTRY" else []
    if not subject or _hedged_before(s, subject, Trigger("MEMBER", k, t.start)):
        return
    if _negated_after(s, t.end):
        return
    yield from _make(s, subject, orgs, role)


def _membership(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    """'Colombia gained membership in the OECD', 'were granted full membership of the SCO'."""
    doc = s.doc
    left = doc[max(s.start, t.start - 3) : t.start]
    if not {x.lemma_ for x in left} & {"grant", "gain", "obtain", "win", "receive", "attain"}:
        return
    if t.end >= s.end or doc[t.end].lower_ not in {"of", "in"}:
        return
    orgs = orgs_after(s, t.end + 1, window=3)
    subject = countries_before(s, t.start)
    if orgs and subject and not _hedged_before(s, subject, t):
        yield from _make(s, subject, orgs, "member")


def _negated_after(s: Sentence, i: int) -> bool:
    return any(t.lower_ in {"no", "longer"} for t in s.doc[i : min(s.end, i + 1)])


def _ordinal(tok: Token) -> bool:
    return re.fullmatch(r"\d+(st|nd|rd|th)", tok.lower_) is not None


def _party(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    doc = s.doc
    if doc[t.start].lower_ not in {"party", "parties"}:
        return
    if t.end >= s.end or doc[t.end].lower_ not in {"to", "of"}:
        return
    orgs = [o for o in orgs_after(s, t.end + 1, window=4) if o.label == "TREATY"]
    if not orgs:
        return
    k = t.start - 1
    while k >= s.start and doc[k].lower_ in MEMBER_LEFT | {"state", "states"}:
        k -= 1
    if k < s.start or doc[k].lemma_ not in {"be", "become", "remain"}:
        return
    subject = countries_before(s, k + 1)
    if subject and not _hedged_before(s, subject, Trigger("PARTY", k, t.start)):
        yield from _make(s, subject, orgs, "party")


def _found(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    doc = s.doc
    word = doc[t.start].lower_
    lemma = doc[t.start].lemma_
    if word in {"founding", "founder", "founders", "co-founder", "co-founders"}:
        nxt = doc[t.end].lower_ if t.end < s.end else ""
        if word == "founding" and nxt in {"member", "members", "state", "states", "country"}:
            after = t.end + 1
        elif word.startswith(("founder", "co-founder")):
            after = t.end
        else:
            return
        if after < s.end and doc[after].lower_ in {"of", "to"}:
            orgs = orgs_after(s, after + 1, window=4)
        elif t.start > s.start + 1 and "its" in {x.lower_ for x in doc[t.start - 3 : t.start]}:
            # "with Norway among its eight founding states": the organization named before
            named = [e for e in s.ents if e.label == "ORG" and e.end <= t.start]
            orgs = named[-1:]
        else:
            orgs = []
        if orgs:
            subject = countries_before(s, t.start)
            if orgs and subject and not _hedged_before(s, subject, t):
                extra = _together_with(s, orgs[-1].end)
                yield from _make(s, subject + extra, orgs, "founding-member")
        return
    if lemma in {"creation", "establishment", "formation", "founding"}:
        # "took part in the creation of the SCO": only participation counts, not a call.
        left = {x.lemma_ for x in doc[max(s.start, t.start - 5) : t.start]}
        if not left & {"part", "participate", "help", "contribute", "involve", "role"}:
            return
        if t.end < s.end and doc[t.end].lower_ == "of":
            found = _standard(s, t, "founding-member")
            if found:
                yield from _make(s, found[0], found[1], "founding-member")
        return
    # Verbs: "Chile, Colombia, Mexico and Peru founded the Pacific Alliance in 2011".
    if lemma == "be":  # "ECOWAS was born in Lagos": an event, no members named
        return
    if t.start > s.start and doc[t.start - 1].lower_ in {"newly", "recently", "the", "a", "an"}:
        return  # "the newly founded SCO" is an adjective
    if _is_passive(s, t):
        by = _passive_by(s, t)
        if by:
            yield from _make(s, by[0], by[1], "founding-member")
        return
    found = _standard(s, t, "founding-member")
    if found and t.start - found[0][-1].end <= 6:  # "signing the agreement establishing X"
        subject, orgs = found
        adjacent = [o for o in orgs if o.start - t.end <= 3]
        if adjacent:
            extra = _together_with(s, adjacent[-1].end, plain_with=True)
            yield from _make(s, subject + extra, adjacent, "founding-member")


def _chair(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    doc = s.doc
    word = doc[t.start].lower_
    nominal = word in {"chairmanship", "chairpersonship", "chairship", "presidency", "chair"}
    if nominal and t.end < s.end and doc[t.end].lower_ == "of":
        # "the chairmanship of Kazakhstan in the OSCE in 2010"
        members = countries_after(s, t.end + 1)
        if members:
            k = members[-1].end
            if k < s.end and doc[k].lower_ in {"in", "of", "at", "over"}:
                orgs = orgs_after(s, k + 1, window=4)
                if orgs and not hedged(s, t.start - 4, t.start):
                    yield from _make(s, members, orgs, "chair")
            return
    if nominal:
        # "Saudi Arabia held the G20 presidency in 2020"
        e = s.ent_ending_at(t.start - 1)
        if e is not None and e.label == "ORG":
            subject = countries_before(s, e.start)
            if subject and not _hedged_before(s, subject, Trigger("CHAIR", e.start, e.end)):
                yield from _make(s, subject, [e], "chair")
            return
    by = _passive_by(s, t)
    if by:
        yield from _make(s, by[0], by[1], "chair")
        return
    if _is_passive(s, t):
        return
    found = _standard(s, t, "chair")
    if found:
        subject, orgs = found
        # "headed the country's delegation to the UN" is not a chairmanship.
        between = {x.lower_ for x in doc[t.end : orgs[0].start]}
        if between & {"delegation", "delegations", "mission", "team", "government"}:
            return
        yield from _make(s, subject, orgs, "chair")
        yield from _predecessor(s, orgs)


def _predecessor(s: Sentence, orgs: list[Ent]) -> Iterator[Membership]:
    """'took over the chairmanship of ASEAN from Cambodia': Cambodia held the chair before."""
    doc = s.doc
    j = orgs[-1].end
    if j < s.end and doc[j].lower_ == "from":
        before = countries_after(s, j + 1)
        mention = _mention(s)
        for c in before:
            yield Membership(c.key, orgs[-1].key, "chair", None, None, [mention])


def _succeed(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    """'South Africa succeeded Brazil as G20 president': both held the chair."""
    doc = s.doc
    previous = countries_after(s, t.end)
    if not previous:
        return
    k = previous[-1].end
    if k >= s.end or doc[k].lower_ != "as":
        return
    tail = doc[k + 1 : min(s.end, k + 7)]
    if not {x.lower_ for x in tail} & {"president", "chair", "chairman", "presidency", "head"}:
        return
    orgs = orgs_after(s, k + 1, window=6)
    subject = countries_before(s, t.start)
    if orgs and subject and not _hedged_before(s, subject, t):
        yield from _make(s, subject, orgs[:1], "chair")
        mention = _mention(s)
        for c in previous:
            yield Membership(c.key, orgs[0].key, "chair", None, None, [mention])


def _elect(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    doc = s.doc
    if _is_passive(s, t):
        found = _standard(s, t, "member")
        if not found:
            return
        subject, orgs = found
    else:
        org = _org_before(s, t.start)
        subject = countries_after(s, t.end)
        if not (org and subject) or hedged(s, org.end, t.start):
            return
        orgs = orgs_after(s, subject[-1].end, window=8) or [org]
    between = " ".join(x.lower_ for x in doc[t.end : orgs[0].start])
    if "non" in between and "permanent" in between:
        role = "non-permanent-member"
    elif re.search(r"\b(chair|president|chairman)\b", between):
        role = "chair"
    else:
        role = _unsc_role(subject, orgs, "member")
    yield from _make(s, subject, orgs, role)


def _observer(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    yield from _status(s, t, "observer")


def _partner(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    yield from _status(s, t, "dialogue-partner")


def _status(s: Sentence, t: Trigger, role: str) -> Iterator[Membership]:
    """'observer status in the OIC', 'a dialogue partner of the SCO', 'the SCO's observer'."""
    doc = s.doc
    j = t.end
    if j < s.end and doc[j].lower_ == "status":
        j += 1
    orgs: list[Ent] = []
    if j < s.end and doc[j].lower_ in {"of", "in", "at", "to", "with"}:
        orgs = orgs_after(s, j + 1, window=4)
    start = t.start
    if not orgs:
        e = s.ent_ending_at(t.start - 1)
        if e is None and t.start - 1 > s.start and doc[t.start - 1].text == "'s":
            e = s.ent_ending_at(t.start - 2)
        if e is not None and e.label in ORG_LABELS:
            orgs, start = [e], e.start
    if not orgs:
        return
    # "Mongolia was granted observer status", "the council granted Mongolia observer status"
    before = countries_before(s, start)
    if not before or _hedged_before(s, before, Trigger("S", start, start)):
        return
    yield from _make(s, before + _together_with(s, orgs[-1].end), orgs, role)


def _withdraw(s: Sentence, t: Trigger, gaz: Gazetteer) -> Iterator[Membership]:
    doc = s.doc
    j = t.end
    if doc[t.start].lemma_ == "suspend":
        # "suspended its membership in the CSTO", "suspended its OPEC membership"
        window = doc[t.end : min(s.end, t.end + 4)]
        k = next((w.i for w in window if w.lower_ == "membership"), None)
        if k is None:
            return
        org = _org_before(s, k, window=2)
        if org is not None:
            subject = countries_before(s, t.start)
            if subject and not _hedged_before(s, subject, t):
                yield from _make(s, subject, [org], "member", ending=True)
            return
        j = k + 1
    if j < s.end and doc[j].lower_ in {"from", "of"}:
        j += 1
    orgs = orgs_after(s, j, window=3)
    if not orgs:
        return
    subject = countries_before(s, t.start)
    if not subject:
        # "the withdrawal of France from NATO's command"
        if t.end < s.end and doc[t.end].lower_ == "of":
            subject = countries_after(s, t.end + 1)
    if not subject or _hedged_before(s, subject, t):
        return
    if t.start > s.start and doc[t.start - 1].lower_ == "to":
        return
    yield from _make(s, subject, orgs, "member", ending=True)


_HANDLERS = {
    "JOIN": _join,
    "ACCEDE": _accede,
    "ADMIT": _admit,
    "MEMBER": _member,
    "PARTY": _party,
    "FOUND": _found,
    "CHAIR": _chair,
    "ELECT": _elect,
    "OBSERVER": _observer,
    "PARTNER": _partner,
    "WITHDRAW": _withdraw,
    "SERVE": _serve,
    "SUCCEED": _succeed,
    "MEMBERSHIP": _membership,
    "PART": _member,
}


ELLIPSIS_VERBS = frozenset({"follow", "join", "accede", "do", "take", "be", "admit", "over"})


def ellipses(s: Sentence, found: list[Membership]) -> Iterator[Membership]:
    """', and Sweden followed on 7 March 2024': the same fact for another country."""
    if not found:
        return
    doc = s.doc
    last = found[-1]
    # Lower-case forms from the doc's arrays (s.words): a Token per word costs more.
    lower = s.words.lower
    for k in range(s.start + 1, s.end - 1):
        form = lower[k]
        if form == ";":  # "...; Finland followed in 1955"
            pass
        elif form != "and" or lower[k - 1] != ",":
            continue
        members = countries_after(s, k + 1)
        if not members or members[0].start > k + 2:
            continue
        j = members[-1].end
        rest = doc[j : min(s.end, j + 8)]
        if any(s.ent_at(x.i) is not None and s.ent_at(x.i).label in ORG_LABELS for x in rest):
            continue  # it names its own organization: another rule's business
        if any(x.lower_ in NEGATION_WORDS for x in rest):
            continue
        words = [x for x in rest if not x.is_punct]
        if not words:
            continue
        head = words[0]
        if not (head.lemma_ in ELLIPSIS_VERBS or head.lower_ in {"in", "on", "since", "a"}):
            continue
        dates = [d for d in s.dates if j <= d.start < j + 8]
        start = dates[0].span.start if dates else None
        if last.end is not None and last.start is None:
            continue  # withdrawals are not carried over
        if start is None and last.start is not None:
            continue  # without its own date the clause may not be the same kind of fact
        for m in members:
            yield Membership(
                m.key,
                last.organization,
                last.role,
                start,
                None,
                [_mention(s)],
                trigger=last.trigger,
            )


NEGATION_WORDS = frozenset({"not", "n't", "never", "no"})


def _election_date(s: Sentence, t: Trigger) -> Date | None:
    """The day of the vote: the single date nearest the verb, not the term ("2009-2010")."""
    best: tuple[int, Date] | None = None
    for d in s.dates:
        if d.span.end_date is not None:
            continue
        dist = d.start - t.end if d.start >= t.end else t.start - d.end
        if best is None or dist < best[0]:
            best = (dist, d.span.start)
    return best[1] if best else None


def events_from_memberships(
    s: Sentence, found: list[Membership], gaz: Gazetteer, triggers: list[Trigger] = ()
) -> Iterator[Event]:  # type: ignore[assignment]
    """Events implied by memberships: accession to a treaty, election, withdrawal."""
    elected: set[str] = set()
    seats = [m for m in found if m.trigger in {"ELECT", "SERVE", "MEMBER"}]
    for t in triggers:
        # "was elected to the Security Council", "won a seat on the council",
        # "served on the Security Council after being elected in October 2013"
        seat = t.label == "SERVE" and s.words.lower[t.start] in {"seat", "seats"}
        if not (t.label == "ELECT" or seat):
            continue
        mine = [m for m in seats if m.trigger in {"ELECT", "SERVE"}] or seats
        orgs = {m.organization for m in mine}
        if len(orgs) != 1 or orgs & elected:
            continue
        org = orgs.pop()
        members = list(dict.fromkeys(m.member for m in mine))
        label = f"election to the {gaz.entities[org].name}"
        date = _election_date(s, t)
        yield Event("Election", label, date, None, None, members, [org], [_mention(s)])
        elected.add(org)
    groups: dict[tuple[str, str], list[Membership]] = {}
    for m in found:
        groups.setdefault((m.trigger, m.organization), []).append(m)
    for (trigger, org), ms in groups.items():
        name = gaz.entities[org].name
        members = list(dict.fromkeys(m.member for m in ms))
        mentions = list(ms[0].mentions)
        if trigger in {"JOIN", "ACCEDE", "PARTY"} and ms[0].role == "party":
            label = f"accession to the {name}"
            yield Event("Accession", label, ms[0].start, None, None, members, [org], mentions)
        elif trigger == "WITHDRAW":
            label = f"withdrawal from the {name}"
            yield Event("Withdrawal", label, ms[0].end, None, None, members, [org], mentions)
