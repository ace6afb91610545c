"""What a sentence mentions: entities (resolved to keys), anaphors, and dates.

The rule layer (rules.py) works on a :class:`Sentence`: its tokens, the entities it
names (countries, organizations, treaties, cities, people) including those only
referred to ("the Republic", "the Kazakh capital", capital-city metonymy), and its
dates with their token positions.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property

from spacy.tokens import Doc, Span, Token

from extract.dates import DateSpan, find_dates
from extract.gazetteer import Gazetteer
from extract.nlp import Entity, Words, doc_text, doc_words, span_text

#: Nouns after a demonym that make it stand for the state ("the Kazakh government").
STATE_NOUNS = frozenset(
    [
        "government",
        "authorities",
        "leadership",
        "side",
        "delegation",
        "administration",
        "foreign",
        "ministry",
        "MOFA",
        "parliament",
        "president",
        "leader",
        "army",
        "military",
        "diplomats",
        "diplomacy",
    ]
)

#: Nouns that refer back to the country an article is about ("the Republic").
ANAPHOR_NOUNS = frozenset({"country", "Republic", "republic", "nation"})
ANAPHOR_WORDS = frozenset({"country", "republic", "nation", "state", "it"})

PREPOSITIONS = frozenset({"in", "at", "to", "from", "near", "into", "of", "In", "At", "From"})


@dataclass
class Ent:
    """An entity mention: tokens [start, end) of the doc, resolved to a gazetteer key."""

    start: int
    end: int
    label: str  # COUNTRY | ORG | TREATY | CITY | PERSON
    key: str
    text: str
    implicit: bool = False  # an anaphor or metonymy, not the entity's name


@dataclass
class DateMention:
    """A date in the sentence, with the token range it covers."""

    start: int
    end: int
    span: DateSpan


@dataclass
class Sentence:
    """One sentence with its resolved mentions; token indices are doc-absolute."""

    span: Span
    ents: list[Ent]
    dates: list[DateMention]
    #: the sentence's lower-case word forms and lemmas, for cheap "is this word here" tests
    lowers: set[str] = field(default_factory=set)
    lemmas: set[str] = field(default_factory=set)

    @property
    def doc(self) -> Doc:
        return self.span.doc

    @cached_property
    def text(self) -> str:
        return span_text(self.span)

    @cached_property
    def words(self) -> Words:
        """The doc's tokens as strings, by doc-absolute index: ``words.lower[i]``..."""
        return doc_words(self.span.doc)

    @property
    def start(self) -> int:
        return self.span.start

    @property
    def end(self) -> int:
        return self.span.end

    def __post_init__(self) -> None:
        # Token -> entity lookups; the rules ask these questions thousands of times.
        self._covering: dict[int, Ent] = {}
        self._ending: dict[int, Ent] = {}
        for e in self.ents:
            for i in range(e.start, e.end):
                self._covering.setdefault(i, e)
            self._ending.setdefault(e.end - 1, e)

    @cached_property
    def tokens(self) -> list[Token]:
        return list(self.span)

    def ent_at(self, i: int) -> Ent | None:
        """The entity covering token ``i``, if any."""
        return self._covering.get(i)

    def ent_ending_at(self, i: int) -> Ent | None:
        """The entity whose last token is ``i``."""
        return self._ending.get(i)


_NOT_FIRST_NAMES = frozenset(
    [
        "President",
        "Minister",
        "Leader",
        "Premier",
        "Chancellor",
        "King",
        "Queen",
        "The",
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
        "Emir",
        "Prince",
        "Sheikh",
        "Sultan",
        "General",
        "Secretary",
        "Ambassador",
        "When",
        "After",
        "Before",
        "While",
        "Since",
    ]
)


def word_forms(sent: Span) -> tuple[set[str], set[str]]:
    """Lower-case forms and lemmas of a sentence, read from the doc's arrays.

    Creating spaCy Token objects is the costly part of the rules; the arrays are read once
    per article.
    """
    w = doc_words(sent.doc)
    return set(w.lower[sent.start : sent.end]), set(w.lemma[sent.start : sent.end])


def person_key(name: str) -> str:
    """A stable key for a person from their full name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"person:{slug}"


def main_country(
    doc: Doc, gaz: Gazetteer, ents: list[Span] | list[Entity] | None = None
) -> str | None:
    """The country the article mentions most (at least twice), or None."""
    counts: dict[str, int] = {}
    for e in doc.ents if ents is None else ents:
        if e.label_ in ("COUNTRY", "DEMONYM"):
            counts[e.ent_id_] = counts.get(e.ent_id_, 0) + 1
    if not counts:
        return None
    best = max(sorted(counts), key=lambda k: counts[k])
    return best if counts[best] >= 2 else None


#: Definite descriptions that refer back to the organization just named ("the bloc").
ORG_NOUNS = frozenset(
    [
        "bloc",
        "alliance",
        "organization",
        "organisation",
        "union",
        "group",
        "grouping",
        "council",
        "body",
        "club",
        "association",
        "community",
        "cartel",
    ]
)


@dataclass
class Context:
    """What earlier sentences of the article established, for resolving references."""

    people: dict[str, str]
    last_org: str | None = None
    last_org_sentence: int = -10
    sentence_index: int = 0


def resolve_sentence(
    sent: Span,
    gaz: Gazetteer,
    main: str | None,
    ctx: Context,
    spans: list[Span] | list[Entity] | None = None,
    dates: list[DateSpan] | None = None,
) -> Sentence:
    """Resolve a sentence's entities (``spans``: its entities, else ``sent.ents``),
    anaphors and dates."""
    doc = sent.doc
    people = ctx.people
    ctx.sentence_index += 1
    lowers, lemmas = word_forms(sent)
    ents: list[Ent] = []
    for e in sent.ents if spans is None else spans:
        if e.label_ == "DEMONYM":
            resolved = _demonym(doc, e, gaz)
            if resolved:
                ents.append(resolved)
        elif e.label_ == "PERSON":
            ents.append(_person(e, people, doc))
        elif e.label_ == "CITY":
            ents.append(_city(doc, e, gaz))
        else:
            ents.append(Ent(e.start, e.end, e.label_, e.ent_id_, e.text))
    if main and lowers & ANAPHOR_WORDS:
        ents.extend(_anaphors(sent, main, {i for e in ents for i in range(e.start, e.end)}))
    if "capital" in lowers:
        ents.extend(_capital_of(sent, gaz, ents))
    if lowers & ORG_NOUNS:
        taken = {i for e in ents for i in range(e.start, e.end)}
        ents.extend(_org_references(sent, ctx, taken, ents))
    ents.sort(key=lambda e: e.start)
    for e in ents:
        if e.label == "ORG" and not e.implicit:
            ctx.last_org, ctx.last_org_sentence = e.key, ctx.sentence_index
    return Sentence(sent, ents, _dates(sent, dates), lowers, lemmas)


def _org_references(sent: Span, ctx: Context, taken: set[int], ents: list[Ent]) -> list[Ent]:
    """'the bloc', 'the council': the organization named just before (this sentence first,
    then the last two sentences)."""
    recent = ctx.last_org if ctx.sentence_index - ctx.last_org_sentence <= 2 else None
    doc = sent.doc
    w = doc_words(doc)
    out = []
    for i in range(sent.start, sent.end):
        if w.lower[i] in ORG_NOUNS and i > sent.start and i not in taken:
            prev = w.lower[i - 1]
            nxt = w.lower[i + 1] if i + 1 < len(doc) else ""
            here = [e.key for e in ents if e.label == "ORG" and not e.implicit and e.end <= i]
            target = here[-1] if here else recent
            if target and prev == "the" and nxt not in {"of", "'s"}:
                out.append(Ent(i - 1, i + 1, "ORG", target, w.span_text(doc, i - 1, i + 1), True))
    return out


def _demonym(doc: Doc, e: Span | Entity, gaz: Gazetteer) -> Ent | None:
    """'Kazakh leader' -> the country; 'the Kazakh capital' -> its capital city."""
    if e.end >= len(doc):
        return None
    w = doc_words(doc)
    if w.lower[e.end] == "capital" and e.ent_id_ in gaz.capitals:
        return Ent(e.start, e.end + 1, "CITY", gaz.capitals[e.ent_id_], e.text, implicit=True)
    if w.text[e.end] in STATE_NOUNS or w.lower[e.end] in STATE_NOUNS:
        return Ent(e.start, e.end, "COUNTRY", e.ent_id_, e.text, implicit=True)
    return None


def _person(e: Span | Entity, people: dict[str, str], doc: Doc) -> Ent:
    """A person; a lone surname joins the full name seen earlier in the article."""
    name = e.text
    if " " not in name:
        for full in people.values():
            if full.split()[-1] == name:
                name = full
                break
        else:
            # "Nursultan Nazarbayev" written elsewhere in the article without a title.
            m = re.search(rf"\b([A-Z][a-z]+) {re.escape(name)}\b", doc_text(doc))
            if m and m.group(1) not in _NOT_FIRST_NAMES:
                name = f"{m.group(1)} {name}"
    key = person_key(name)
    people.setdefault(key, name)
    return Ent(e.start, e.end, "PERSON", key, name)


def _city(doc: Doc, e: Span | Entity, gaz: Gazetteer) -> Ent:
    """A city; a capital used as the actor of a sentence stands for its country."""
    w = doc_words(doc)
    is_location = e.start > 0 and w.text[e.start - 1] in PREPOSITIONS
    country = gaz.capital_of.get(e.ent_id_)
    # "Astana took practical measures": metonymy only when the city is followed by a
    # verb-like word, not when it names a place ("the new capital Astana is a city").
    acts = e.end < len(doc) and w.lemma[e.end] in {"take", "join", "sign", "propose", "call"}
    if country and not is_location and acts:
        return Ent(e.start, e.end, "COUNTRY", country, e.text, implicit=True)
    return Ent(e.start, e.end, "CITY", e.ent_id_, e.text)


def _anaphors(sent: Span, main: str, taken: set[int]) -> list[Ent]:
    """'the Republic', 'the country', 'our state', sentence-initial 'It'."""
    found: list[Ent] = []
    doc = sent.doc
    w = doc_words(doc)
    for i in range(sent.start, sent.end):
        if i in taken:
            continue
        text = w.text[i]
        if text in ANAPHOR_NOUNS and i > sent.start and w.lower[i - 1] == "the":
            # "the country's" / "the Republic" but not "the country of Chad".
            if i + 1 < len(doc) and w.lower[i + 1] == "of":
                continue
            found.append(Ent(i - 1, i + 1, "COUNTRY", main, w.span_text(doc, i - 1, i + 1), True))
        elif w.lower[i] == "state" and i > sent.start and w.lower[i - 1] == "our":
            found.append(Ent(i - 1, i + 1, "COUNTRY", main, w.span_text(doc, i - 1, i + 1), True))
        elif text == "It" and i == _first_word(sent):
            found.append(Ent(i, i + 1, "COUNTRY", main, text, True))
        elif text == "it" and i > sent.start and _after_opening_date(sent, i):
            # "In 1952 it co-founded the Nordic Council"
            found.append(Ent(i, i + 1, "COUNTRY", main, text, True))
    return found


def _after_opening_date(sent: Span, i: int) -> bool:
    """Whether only an opening date phrase ('In May 2013,') precedes token ``i``."""
    head = sent.doc[sent.start : i].text.strip().rstrip(",").strip()
    return bool(re.fullmatch(r"(?:In|On|By|Since|From)\s+[\w ,]*\d{4}", head))


def _first_word(sent: Span) -> int:
    for tok in sent:
        if not tok.is_space and not tok.is_punct:
            return tok.i
    return sent.start


def _capital_of(sent: Span, gaz: Gazetteer, ents: list[Ent]) -> list[Ent]:
    """'the capital of Kazakhstan' -> the capital city."""
    doc = sent.doc
    w = doc_words(doc)
    out = []
    for e in ents:
        if e.label != "COUNTRY":
            continue
        if e.start >= 3 and w.lower[e.start - 1] == "of" and w.lower[e.start - 2] == "capital":
            city = gaz.capitals.get(e.key)
            if city:
                text = w.span_text(doc, e.start - 2, e.end)
                out.append(Ent(e.start - 2, e.end, "CITY", city, text, True))
    # The capital phrase replaces the country mention inside it.
    for c in out:
        ents[:] = [e for e in ents if not (c.start <= e.start and e.end <= c.end)]
    return out


def _dates(sent: Span, found: list[DateSpan] | None = None) -> list[DateMention]:
    """Dates of the sentence (``found``: already found in the article, in its offsets)."""
    doc = sent.doc
    if found is None:
        base = sent.start_char
        found = [
            DateSpan(base + d.begin, base + d.end, d.start, d.end_date)
            for d in find_dates(sent.text)
        ]
    out = []
    for d in found:
        span = _expand(doc, d.begin, d.end)
        if span is None or span[0] < sent.start or span[1] > sent.end:
            continue
        out.append(DateMention(span[0], span[1], d))
    return out


def _expand(doc: Doc, begin: int, end: int) -> tuple[int, int] | None:
    """The token range of ``doc.char_span(begin, end, alignment_mode="expand")``."""
    w = doc_words(doc)
    first, last = _token_at(doc, begin), _token_at(doc, end - 1)
    if first < 0 or last < 0:
        return None
    if begin == w.end[first]:  # the whitespace after a token is not part of it
        first += 1
    return first, last + 1


def _token_at(doc: Doc, char: int) -> int:
    """The token whose text or trailing whitespace holds character ``char``, else -1."""
    if not 0 <= char < len(doc_text(doc)):
        return -1
    return bisect.bisect_right(doc_words(doc).begin, char) - 1
