"""Rules for events: summits, signings, founding, renaming, exhibitions, talks, agreements,
proposals, independence and the relocation of a capital.

An event is only kept when the sentence anchors it: a date, a place, or the organization
or treaty it concerns. Generic plurals ("numerous international meetings") are not events.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterator

from spacy.tokens import Token

from extract.dates import Date
from extract.facts import Event, Membership
from extract.gazetteer import Gazetteer
from extract.mentions import Ent, Sentence
from extract.rules import (
    ORG_LABELS,
    Trigger,
    _date_role,
    _mention,
    countries_after,
    countries_before,
    hedged,
    nearest_date,
    orgs_after,
)

HOSTS = frozenset({"host", "stage", "welcome"})
NEGATIONS = frozenset({"not", "n't", "never", "no"})
GATHERINGS = {"summit": "Summit", "conference": "Conference", "meeting": "Meeting"}
DETERMINERS = frozenset({"the", "a", "an", "its", "this", "that", "their", "his", "her"})
EXPO = re.compile(r"\b(?:EXPO|Expo)[- ]?((?:19|20)\d\d)\b")
RENAMING = frozenset({"rename", "change", "adopt"})
TALKS = frozenset({"talks", "negotiations", "negotiation"})
AGREEMENTS = frozenset({"agreement", "accord"})
INDEPENDENCE = frozenset({"independence", "independent"})


def _date(s: Sentence, anchor: Ent | Trigger) -> Date | None:
    start, end = _date_role(s, nearest_date(s, anchor))
    return start or end


def _location(s: Sentence, near: int, within: int = 1000) -> str | None:
    """The city the sentence places the event in ('in Almaty', 'the Kazakh capital')."""
    best: tuple[int, str] | None = None
    for e in s.ents:
        if e.label != "CITY":
            continue
        prev = s.doc[e.start - 1].lower_ if e.start > s.start else ""
        after = {t.lemma_ for t in s.doc[e.end : min(s.end, e.end + 2)]}
        if not (e.implicit or prev in {"in", "at", "hosted", "host"} or after & HOSTS):
            continue
        dist = abs(e.start - near)
        if dist > within:
            continue
        if best is None or dist < best[0]:
            best = (dist, e.key)
    return best[1] if best else None


def _negated(s: Sentence, i: int) -> bool:
    return any(w in NEGATIONS for w in s.words.lower[max(s.start, i - 6) : i])


def _tokens(s: Sentence, forms: list[str], wanted: Container[str]) -> Iterator[Token]:
    """The tokens of the sentence whose form (``s.words.lower`` or ``.lemma``) is wanted.

    The rules below only look further at such words, so only those become ``Token``s
    (a ``Token`` for every word of every sentence cost more than the rules' own work).
    """
    doc = s.doc
    for i in range(s.start, s.end):
        if forms[i] in wanted:
            yield doc[i]


def gatherings(s: Sentence) -> Iterator[Event]:
    """Summits and conferences: 'Lima hosted the APEC summit in November 2016'."""
    doc = s.doc
    for tok in _tokens(s, s.words.lower, GATHERINGS):
        kind = GATHERINGS.get(tok.lower_)
        if kind is None or s.ent_at(tok.i) is not None:
            continue
        i = tok.i
        if kind == "Meeting" and any(
            w in {"leaders", "leaders'", "heads"} for w in s.words.lower[max(s.start, i - 3) : i]
        ):
            kind = "Summit"  # "the APEC leaders' meeting" is a summit
        if hedged(s, i - 6, i):
            continue
        anchor = Trigger(kind, i, i + 1)
        span = nearest_date(s, anchor)
        date, end = _date(s, anchor), (span.end_date if span else None)
        location = _location(s, i)
        concerns: list[str] = []
        k = i - 1
        while k >= max(s.start, i - 5) and doc[k].lower_ not in DETERMINERS:
            if doc[k].is_punct and doc[k].text not in {"'", "'s", "’"}:
                break
            e = s.ent_at(k)
            if e is not None:
                if e.label in ORG_LABELS:
                    concerns.append(e.key)
                elif e.label != "COUNTRY":
                    break
                k = e.start - 1
                continue
            k -= 1
        label_start = k + 1
        label_end = i + 1
        if i + 2 < s.end and doc[i + 1].lower_ == "of":
            after = orgs_after(s, i + 2, window=2)
            if after:
                concerns.append(after[0].key)
                label_end = after[0].end
        if not concerns and kind == "Meeting" and not (date and location):
            continue
        if not (date or location):
            continue
        label = doc[label_start:label_end].text
        named = any(t.is_title or t.is_upper for t in doc[label_start:i]) or tok.is_title
        if not concerns and location is None and not (named and date):
            continue
        yield Event(kind, label, date, end, location, [], concerns, [_mention(s)])


def meetings(s: Sentence) -> Iterator[Event]:
    """'The presidents of the United States and Russia met in Geneva on 16 June 2021'."""
    for tok in _tokens(s, s.words.lemma, {"meet"}):
        if tok.lemma_ != "meet" or tok.lower_ in {"meet", "meeting"} or _negated(s, tok.i):
            continue
        if hedged(s, tok.i - 4, tok.i):
            continue
        location = _location(s, tok.i)
        anchor = Trigger("MEET", tok.i, tok.i + 1)
        date = _date(s, anchor)
        if not (location and date):
            continue
        who = [e.key for e in s.ents if e.label in ("COUNTRY", "PERSON") and e.end <= tok.i]
        label = "meeting"  # completed with the place's name in pipeline.name_events
        yield Event(
            "Meeting", label, date, None, location, list(dict.fromkeys(who)), [], [_mention(s)]
        )
        return


def exhibitions(s: Sentence) -> Iterator[Event]:
    """'EXPO-2017' in Astana."""
    for m in EXPO.finditer(s.text):
        span = s.doc.char_span(
            s.span.start_char + m.start(), s.span.start_char + m.end(), alignment_mode="expand"
        )
        if span is not None and hedged(s, span.start - 4, span.start):
            continue  # "Busan's campaign to host Expo 2030"
        location = _location(s, s.start) or _any_city(s)
        label = f"Expo {m.group(1)}"
        # "Expo 2020 opened in Dubai on 1 October 2021": the sentence's own date wins.
        when = [d.span.start for d in s.dates if d.span.start.value[:4] >= m.group(1)]
        date = when[0] if len(when) == 1 else Date(m.group(1), "year")
        yield Event("Exhibition", label, date, None, location, [], [], [_mention(s)])


def _any_city(s: Sentence) -> str | None:
    cities = [e.key for e in s.ents if e.label == "CITY"]
    return cities[0] if len(set(cities)) == 1 else None


def renamings(s: Sentence) -> Iterator[Event]:
    """'the Organization of the Islamic Conference changed its name', 'was renamed'."""
    for tok in _tokens(s, s.words.lemma, RENAMING):
        hit = tok.lemma_ == "rename" or (
            tok.lemma_ in {"change", "adopt"}
            and any(w == "name" for w in s.words.lower[tok.i : tok.i + 4])
        )
        if not hit or _negated(s, tok.i) or hedged(s, tok.i - 3, tok.i):
            continue
        orgs = [e for e in s.ents if e.label in (*ORG_LABELS, "COUNTRY") and not e.implicit]
        if not orgs:
            continue
        before = [e for e in orgs if e.end <= tok.i]
        org = before[-1] if before else orgs[0]
        anchor = Trigger("RENAME", tok.i, tok.i + 1)
        yield Event(
            "Renaming",
            f"renaming of the {org.text}",
            _date(s, anchor),
            None,
            _location(s, tok.i),
            [],
            [org.key],
            [_mention(s)],
        )
        return


def talks(s: Sentence) -> Iterator[Event]:
    """Talks in a place: 'a further round of talks on Syria opened in Geneva'."""
    doc = s.doc
    for tok in _tokens(s, s.words.lower, TALKS):
        if tok.lower_ not in TALKS:
            continue
        if tok.lower_ == "negotiation" and not (
            tok.i + 1 < s.end and doc[tok.i + 1].lower_ in {"platform", "round", "process"}
        ):
            continue
        if hedged(s, tok.i - 4, tok.i):
            continue
        location = _location(s, tok.i, within=8)
        if location is None:
            continue
        concerns = [e.key for e in s.ents if e.label in ORG_LABELS][:1]
        anchor = Trigger("TALKS", tok.i, tok.i + 1)
        yield Event("Talks", "talks", _date(s, anchor), None, location, [], concerns, [_mention(s)])
        return


def agreements(s: Sentence) -> Iterator[Event]:
    """Agreements reached in a place or on a date: 'the sides agreed a truce in Minsk'."""
    doc = s.doc
    if not s.lemmas & {"reach", "conclude", "strike", "sign"}:
        return
    for tok in _tokens(s, s.words.lower, AGREEMENTS):
        if tok.lower_ not in AGREEMENTS or s.ent_at(tok.i) is not None:
            continue
        if _negated(s, tok.i) or hedged(s, tok.i - 4, tok.i):
            continue
        if tok.i + 1 < s.end and doc[tok.i + 1].lemma_ in {"establish", "create", "set"}:
            continue
        anchor = Trigger("AGREEMENT", tok.i, tok.i + 1)
        date, location = _date(s, anchor), _location(s, tok.i)
        signer = next((t for t in doc[max(s.start, tok.i - 4) : tok.i] if t.lemma_ == "sign"), None)
        if signer is not None:
            # "Turkey signed an association agreement ..., known as the Ankara Agreement"
            name = _known_as(s, tok.i)
            parties = [p.key for p in countries_before(s, signer.i)]
            label = f"signing of the {name}" if name else "signing of an agreement"
            yield Event("TreatySigning", label, date, None, location, parties, [], [_mention(s)])
            return
        if not (date or location):
            continue
        label = "agreement"
        on = next((t.i for t in doc[tok.i + 1 : min(s.end, tok.i + 5)] if t.lower_ == "on"), None)
        if on is not None:
            end = on + 1
            while end < min(s.end, on + 8):
                t = doc[end]
                if (t.is_punct and t.text != "-") or t.lower_ in {"in", "was", "were", "with"}:
                    break
                end += 1
            label = "agreement " + doc[on:end].text
        yield Event("Agreement", label, date, None, location, [], [], [_mention(s)])
        return


def _known_as(s: Sentence, i: int) -> str | None:
    """'..., known as the Ankara Agreement': the name a document is given."""
    doc = s.doc
    for k in range(i, min(s.end - 2, i + 12)):
        if doc[k].lower_ == "known" and doc[k + 1].lower_ == "as":
            j = k + 2 + (doc[k + 2].lower_ == "the")
            end = j
            while end < s.end and (doc[end].is_title or doc[end].is_upper):
                end += 1
            return doc[j:end].text or None
    return None


def signings(s: Sentence, triggers: list[Trigger]) -> Iterator[Event]:
    """'the Republic signed the Lisbon Protocol'."""
    for t in triggers:
        if t.label != "SIGN" or _negated(s, t.start):
            continue
        j = t.end
        if j < s.end and s.doc[j].lower_ == "of":
            j += 1
        treaties = [o for o in orgs_after(s, j, window=4) if o.label == "TREATY"]
        named = None
        if not treaties:
            before = _treaty_before(s, t.start)
            if before is not None:
                treaties = [before]
            else:
                named = _document_after(s, j)
        if not treaties and named is None:
            founding_doc = _founding_document_before(s, t.start)
            if founding_doc is not None:
                yield Event(
                    "TreatySigning",
                    f"signing of the agreement establishing the {founding_doc.text}",
                    _date(s, t),
                    None,
                    _location(s, t.start),
                    [],
                    [founding_doc.key],
                    [_mention(s)],
                )
            continue
        if named is not None:
            label, concerns = named
            parties = countries_before(s, t.start)
            if not (parties and hedged(s, parties[-1].end, t.start)):
                anchor = Trigger("SIGN", t.start, t.end)
                yield Event(
                    "TreatySigning",
                    f"signing of the {label}",
                    _date(s, anchor),
                    None,
                    _location(s, t.start),
                    [p.key for p in parties],
                    concerns,
                    [_mention(s)],
                )
            continue
        parties = countries_before(s, t.start)
        if parties and hedged(s, parties[-1].end, t.start):
            continue
        if not parties and hedged(s, t.start - 4, t.start):
            continue
        for k in range(treaties[-1].end, min(s.end - 1, treaties[-1].end + 4)):
            if s.doc[k].lower_ == "with":
                parties += countries_after(s, k + 1)
        for treaty in treaties:
            yield Event(
                "TreatySigning",
                f"signing of the {treaty.text}",
                _date(s, treaty),
                None,
                _location(s, t.start),
                [p.key for p in parties],
                [treaty.key],
                [_mention(s)],
            )


DOCUMENTS = frozenset(
    [
        "Treaty",
        "Charter",
        "Agreement",
        "Accord",
        "Accords",
        "Convention",
        "Protocol",
        "Declaration",
        "Act",
        "Memorandum",
        "Pact",
    ]
)


DOCUMENT_NOUNS = frozenset(
    {"agreement", "treaty", "charter", "convention", "accord", "protocol", "act", "decision"}
)


def _treaty_before(s: Sentence, i: int) -> Ent | None:
    """'the Oslo Accords, which Israel and the PLO signed'; 'the Convention signed on ...'."""
    doc = s.doc
    e = s.ent_ending_at(i - 1)
    if e is not None and e.label == "TREATY":
        return e
    j = i - 1
    while j >= max(s.start, i - 12):
        if doc[j].lower_ in {"which", "that"}:
            k = j - 1
            while k >= s.start and doc[k].text == ",":
                k -= 1
            ante = s.ent_ending_at(k)
            return ante if ante is not None and ante.label == "TREATY" else None
        j -= 1
    return None


def _founding_document_before(s: Sentence, i: int) -> Ent | None:
    """'The agreement establishing the AfCFTA was signed': the organization it creates."""
    doc = s.doc
    for k in range(max(s.start, i - 12), i):
        if (
            doc[k].lower_ in DOCUMENT_NOUNS
            and k + 1 < i
            and doc[k + 1].lemma_ in {"establish", "create"}
        ):
            orgs = orgs_after(s, k + 2, window=3)
            return orgs[0] if orgs else None
    return None


def _document_after(s: Sentence, j: int) -> tuple[str, list[str]] | None:
    """A named document not in the gazetteer: 'the ASEAN Charter', 'the Withdrawal Agreement'."""
    doc = s.doc
    if j < s.end and doc[j].lower_ == "the":
        j += 1
    k = j
    joiners = {"on", "of", "the", "and", "for"}
    while k < min(s.end, j + 10) and (
        doc[k].is_title or doc[k].is_upper or s.ent_at(k) or doc[k].lower_ in joiners
    ):
        k += 1
    while k > j and doc[k - 1].lower_ in {"on", "of", "the", "and", "for"}:
        k -= 1
    words = doc[j:k]
    if not any(w.text in DOCUMENTS for w in words):
        return None
    concerns = [e.key for e in s.ents if e.label in ORG_LABELS and j <= e.start < k]
    return words.text, concerns[:1]


def foundings(s: Sentence, triggers: list[Trigger], found: list[Membership]) -> Iterator[Event]:
    """'OPEC, which was set up in Baghdad in September 1960'; 'X and Y founded Z in 2011'."""
    doc = s.doc
    for t in triggers:
        if t.label != "FOUND" or doc[t.start].lemma_ not in FOUNDING_VERBS:
            continue
        if _negated(s, t.start) or hedged(s, t.start - 3, t.start):
            continue
        if t.start > s.start and doc[t.start - 1].lower_ in DOCUMENT_NOUNS:
            continue  # "the agreement establishing the AfCFTA" names a treaty
        org = _org_subject(s, t.start)
        if org is None and doc[t.start].lemma_ != "be":
            after = orgs_after(s, t.end, window=3)
            org = after[0] if after else None
        if org is None or org.label != "ORG":
            continue
        if org is None:
            continue
        date, location = _date(s, org), _location(s, t.start)
        if not (date or location):
            continue
        members = [m.member for m in found if m.organization == org.key]
        yield Event(
            "Founding",
            f"founding of the {org.text}",
            date,
            None,
            location,
            list(dict.fromkeys(members)),
            [org.key],
            [_mention(s)],
        )


FOUNDING_VERBS = frozenset({"found", "establish", "co-found", "create", "launch", "set", "be"})


def _org_subject(s: Sentence, i: int) -> Ent | None:
    """The organization a passive founding verb is about: 'OPEC, which was set up'."""
    skip = {
        "was",
        "were",
        "is",
        "been",
        "has",
        "had",
        "which",
        "that",
        ",",
        "first",
        "originally",
        "officially",
        "formally",
        "jointly",
        "later",
    }
    j = i - 1
    while j >= s.start and s.doc[j].lower_ in skip:
        j -= 1
    e = s.ent_ending_at(j)
    if e is not None and e.label in ORG_LABELS and j < i - 1:
        return e
    return None


PROPOSE = frozenset({"propose", "suggest", "initiate", "call", "put", "urge"})
PROPOSAL_OBJECTS = frozenset(
    [
        "establish",
        "establishment",
        "create",
        "creation",
        "set",
        "setting",
        "form",
        "formation",
        "initiative",
        "network",
        "union",
        "convene",
        "convening",
        "launch",
        "found",
        "mechanism",
        "fund",
        "zone",
        "forum",
    ]
)


def proposals(s: Sentence) -> Iterator[Event]:
    """Proposals: 'the president proposed setting up a regional security forum'."""
    doc = s.doc
    for tok in _tokens(s, s.words.lemma, PROPOSE):
        if tok.lemma_ not in PROPOSE:
            continue
        j = tok.i + 1
        if tok.lemma_ == "call" and (j >= s.end or doc[j].lower_ not in {"for", "on"}):
            continue
        if tok.lemma_ == "put" and (j >= s.end or doc[j].lower_ != "forward"):
            continue
        window = doc[j : min(s.end, j + 12)]
        if not {t.lemma_.lower() for t in window} & PROPOSAL_OBJECTS:
            continue
        if _negated(s, tok.i):
            continue
        actors = countries_before(s, tok.i, allow_people=True)
        if not actors:
            continue
        concerns = [o for o in orgs_after(s, j, window=16)]
        end = concerns[0].end if concerns else None
        if end is None:
            end = j
            while end < min(s.end, j + 10) and not doc[end].is_punct:
                end += 1
        # Start the label at what is proposed: "establishment of a Central Asian Union".
        first = next((t.i for t in doc[j:end] if t.lemma_.lower() in PROPOSAL_OBJECTS), j)
        if doc[first].is_title:  # a named initiative: keep its whole name
            while first > j and (doc[first - 1].is_title or doc[first - 1].lower_ == "and"):
                first -= 1
        label = "proposal: " + doc[first:end].text.strip()
        anchor = Trigger("PROPOSE", tok.i, tok.i + 1)
        yield Event(
            "Proposal",
            label,
            _date(s, anchor),
            None,
            None,
            [a.key for a in actors],
            [c.key for c in concerns[:1]],
            [_mention(s)],
        )
        return


INDEPENDENCE_VERBS = frozenset(
    {"declare", "proclaim", "gain", "win", "achieve", "restore", "regain", "obtain"}
)


def independence(s: Sentence, main: str | None) -> Iterator[Event]:
    """Independence: 'Namibia gained independence on 21 March 1990'."""
    doc = s.doc
    for tok in _tokens(s, s.words.lower, INDEPENDENCE):
        if tok.lower_ == "independent" and tok.i > s.start:
            # "proclaimed itself an independent state on December 16, 1991"
            left = {t.lemma_ for t in doc[max(s.start, tok.i - 4) : tok.i]}
            dates = [d for d in s.dates if 0 <= d.start - tok.i <= 6]
            actors = countries_before(s, tok.i)
            if left & {"proclaim", "declare", "become"} and dates and actors:
                yield Event(
                    "Independence",
                    "independence",
                    dates[0].span.start,
                    None,
                    None,
                    [actors[0].key],
                    [],
                    [_mention(s)],
                )
                return
            continue
        if tok.lower_ != "independence" or s.ent_at(tok.i) is not None:
            continue
        i = tok.i
        if i + 1 < s.end and doc[i + 1].lower_ in {"day", "movement", "party", "square"}:
            continue
        verb = any(t.lemma_ in INDEPENDENCE_VERBS for t in doc[max(s.start, i - 4) : i])
        dates = [d for d in s.dates if 0 <= d.start - i <= 6]
        if not (verb or dates) or _negated(s, i) or hedged(s, i - 4, i):
            continue
        country = None
        if i + 2 < s.end and doc[i + 1].lower_ == "of":
            after = countries_after(s, i + 2)
            country = after[0].key if after else None
        if country is None:
            before = countries_before(s, i)
            country = before[0].key if before else None
        if country is None and i > s.start and doc[i - 1].lower_ == "its":
            country = main
        if country is None:
            continue
        date = dates[0].span.start if dates else _date(s, Trigger("IND", i, i + 1))
        yield Event("Independence", "independence", date, None, None, [country], [], [_mention(s)])
        return


MOVE = frozenset({"transfer", "move", "relocation", "relocate", "moving", "transferring"})


def capital_moves(s: Sentence, main: str | None) -> Iterator[Event]:
    """Relocations of a capital: 'Brazil moved its capital inland to Brasilia in 1960'."""
    doc = s.doc
    for tok in _tokens(s, s.words.lemma, MOVE):
        if tok.lemma_ not in MOVE:
            continue
        window = doc[tok.i + 1 : min(s.end, tok.i + 5)]
        if not any(t.lower_ == "capital" for t in window):
            continue
        if _negated(s, tok.i) or hedged(s, tok.i - 4, tok.i):
            continue
        actors = countries_before(s, tok.i)
        country = actors[0].key if actors else main
        if country is None:
            continue
        new = None
        for k in range(tok.i, s.end - 1):
            if doc[k].lower_ == "to":
                e = s.ent_at(k + 1)
                if e is not None and e.label == "CITY":
                    new = e.key
                    break
        anchor = Trigger("MOVE", tok.i, tok.i + 1)
        yield Event(
            "CapitalRelocation",
            "relocation of the capital",
            _date(s, anchor),
            None,
            new,
            [country],
            [],
            [_mention(s)],
        )
        return


def events(
    s: Sentence,
    triggers: list[Trigger],
    found: list[Membership],
    main: str | None,
    gaz: Gazetteer,
) -> Iterator[Event]:
    """All events the sentence states (besides those implied by memberships)."""
    lowers, lemmas = s.lowers, s.lemmas
    if not lowers.isdisjoint(GATHERINGS):
        yield from gatherings(s)
    if "meet" in lemmas:
        yield from meetings(s)
    if "expo" in s.text.lower():
        yield from exhibitions(s)
    if not lemmas.isdisjoint(RENAMING):
        yield from renamings(s)
    if not lowers.isdisjoint(TALKS):
        yield from talks(s)
    if not lowers.isdisjoint(AGREEMENTS):
        yield from agreements(s)
    if triggers:
        yield from signings(s, triggers)
        yield from foundings(s, triggers, found)
    if not lemmas.isdisjoint(PROPOSE):
        yield from proposals(s)
    if not lowers.isdisjoint(INDEPENDENCE):
        yield from independence(s, main)
    if "capital" in lowers:
        yield from capital_moves(s, main)
