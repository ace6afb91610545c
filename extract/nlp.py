"""The spaCy pipeline: a blank English model with rule components only.

``spacy.blank("en")`` + sentence breaks (spaCy's Sentencizer rule, and line breaks) +
lemmas from ``spacy-lookups-data``'s lookup table + an ``EntityRuler`` built from the
gazetteer (countries, organizations, treaties, cities, demonyms) + a small component for
people's names ("President Nursultan Nazarbayev") + ``PhraseMatcher``s of trigger words on
lemmas. Nothing is downloaded: every resource comes from installed packages.

The sentence, lemma and ruler components give exactly what spaCy's ``sentencizer``,
``lemmatizer`` (lookup mode) and ``entity_ruler`` give, but work on the token arrays:
those build a Python ``Token`` object per token, which made them most of the pipeline's
time. The tokenizer keeps the article's text on the Doc, since ``Doc.text`` is rebuilt
token by token too.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

import numpy
import spacy
from spacy.attrs import (
    ENT_ID,
    ENT_IOB,
    ENT_TYPE,
    IDX,
    IS_PUNCT,
    LEMMA,
    LENGTH,
    LOWER,
    ORTH,
    SENT_START,
)
from spacy.language import Language
from spacy.lookups import load_lookups
from spacy.matcher import PhraseMatcher
from spacy.pipeline import EntityRuler, Sentencizer
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from extract.gazetteer import Gazetteer
from extract.gazetteer import load as load_gazetteer

#: Entity labels the ruler assigns, by gazetteer kind.
LABELS = {
    "country": "COUNTRY",
    "organization": "ORG",
    "body": "ORG",
    "treaty": "TREATY",
    "city": "CITY",
}

#: Words that introduce a person's name ("President Nursultan Nazarbayev").
PERSON_TITLES = frozenset(
    [
        "President",
        "Premier",
        "Chancellor",
        "King",
        "Queen",
        "Emir",
        "Sheikh",
        "Sultan",
        "Prince",
        "leader",
        "Leader",
        "Minister",
        "Secretary-General",
        "Ambassador",
        "Governor",
        "Senator",
        "Dr.",
        "Mr.",
        "Mrs.",
        "Ms.",
        "Chairman",
        "Chairwoman",
        "envoy",
        "Envoy",
    ]
)

#: Lemma patterns of the words that signal a fact; rules.py interprets each label.
TRIGGERS: dict[str, list[list[dict]]] = {
    "JOIN": [
        [{"LEMMA": {"IN": ["join", "rejoin", "enter"]}}],
        [{"LEMMA": "bring"}, {"LOWER": "into"}],
    ],
    "SUCCEED": [[{"LEMMA": "succeed"}]],
    "ACCEDE": [[{"LEMMA": {"IN": ["accede", "accession", "admission", "ratify", "ratification"]}}]],
    "ADMIT": [[{"LEMMA": {"IN": ["admit", "readmit", "re-admit", "accept", "welcome"]}}]],
    "MEMBER": [
        [{"LOWER": {"IN": ["member", "members", "member-state", "member-states"]}}],
        [{"LOWER": "member"}, {"LOWER": {"IN": ["state", "states", "country", "countries"]}}],
        [{"LOWER": "participating"}, {"LOWER": {"IN": ["state", "states"]}}],
    ],
    "PARTY": [[{"LOWER": {"IN": ["party", "parties", "signatory", "signatories"]}}]],
    "FOUND": [
        [{"LEMMA": {"IN": ["found", "co-found", "cofound", "establish", "create", "launch"]}}],
        [{"LEMMA": "set"}, {"LOWER": "up"}],
        [{"LEMMA": "be"}, {"LOWER": "born"}],
        [{"LOWER": "co"}, {"ORTH": "-"}, {"LEMMA": "found"}],
        [{"LOWER": {"IN": ["founder", "founders", "co-founder", "co-founders"]}}],
        [{"LEMMA": {"IN": ["creation", "establishment", "formation", "founding"]}}],
    ],
    "CHAIR": [
        [{"LEMMA": {"IN": ["head", "chair", "preside"]}}],
        [{"LOWER": {"IN": ["chairmanship", "chairpersonship", "chairship", "presidency"]}}],
    ],
    "ELECT": [[{"LEMMA": {"IN": ["elect", "re-elect", "reelect", "vote"]}}]],
    "OBSERVER": [[{"LOWER": {"IN": ["observer", "observers"]}}]],
    "PARTNER": [[{"LOWER": "dialogue"}, {"LOWER": {"IN": ["partner", "partners"]}}]],
    "WITHDRAW": [
        [{"LEMMA": {"IN": ["withdraw", "leave", "quit", "exit", "withdrawal", "departure"]}}],
        [{"LEMMA": {"IN": ["pull", "walk", "opt"]}}, {"LOWER": "out"}],
        [{"LEMMA": "suspend"}],
    ],
    "SIGN": [[{"LEMMA": {"IN": ["sign", "signing"]}}]],
    "SERVE": [
        [{"LEMMA": {"IN": ["serve", "sit"]}}],
        [{"LOWER": {"IN": ["seat", "seats"]}}, {"LOWER": {"IN": ["on", "in", "at"]}}],
    ],
    "PART": [[{"LOWER": "part"}, {"LOWER": "of"}]],
    "MEMBERSHIP": [[{"LOWER": "membership"}]],
}


#: Characters that end a sentence (spaCy's Sentencizer default list).
PUNCT_CHARS = tuple(Sentencizer.default_punct_chars)


@Language.component("dg_sentences")
def sentences(doc: Doc) -> Doc:
    """Sentence boundaries: spaCy's Sentencizer rule, and a new sentence after every line
    break (headings and page junk stand alone).

    The Sentencizer rule, vectorized: a token that is not punctuation starts a sentence
    when a sentence-final character (".", "!", "?"...) came since the previous token that
    is not punctuation. Written over the token arrays because spaCy's Sentencizer (and
    setting ``is_sent_start`` token by token) builds a Python ``Token`` for every token.
    """
    n = len(doc)
    if not n:
        return doc
    table = doc.to_array([ORTH, IS_PUNCT, IDX])
    final = _isin(table[:, 0], _punct_ids(doc.vocab))
    word = ~(final | table[:, 1].astype(bool))
    seen = numpy.cumsum(final)
    words = numpy.nonzero(word)[0]
    before = numpy.concatenate(([0], seen[words[:-1]])) if len(words) else words
    starts = numpy.zeros(n, dtype=bool)
    starts[0] = True
    starts[words[seen[words] - before > 0]] = True
    # The token after each line break starts a sentence too.
    ends = [m.end() for m in _NEWLINES.finditer(doc_text(doc))]
    after = numpy.searchsorted(table[:, 2], ends)
    starts[after[(after > 0) & (after < n)]] = True
    doc.from_array([SENT_START], numpy.where(starts, 1, -1).astype("int64").astype("uint64"))
    return doc


@cache
def _punct_ids(vocab: Vocab) -> numpy.ndarray:
    return numpy.unique(numpy.array([vocab.strings.add(c) for c in PUNCT_CHARS], dtype="uint64"))


def _isin(values: numpy.ndarray, ids: numpy.ndarray) -> numpy.ndarray:
    """``numpy.isin(values, ids)`` for sorted ``ids``, by binary search: ``numpy.isin``
    sorts both arrays when there are more than a few dozen ids."""
    at = numpy.minimum(numpy.searchsorted(ids, values), len(ids) - 1)
    return ids[at] == values


@Language.factory("dg_lemmas")
def make_lemmas(nlp: Language, name: str) -> Lemmas:
    return Lemmas(nlp.vocab)


class Lemmas:
    """Lemmas from spacy-lookups-data's English lookup table (as spaCy's ``lookup``
    lemmatizer gives them), set in one pass over the token ids with a cache by word form,
    instead of a Python ``Token`` per token."""

    def __init__(self, vocab: Vocab) -> None:
        self.strings = vocab.strings
        self.table = load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")
        self._by_orth: dict[int, int] = {}

    def lemma(self, orth: int) -> int:
        text = self.strings[orth]
        found = self.table.get(text, text)
        return self.strings.add(found if isinstance(found, str) else found[0])

    def __call__(self, doc: Doc) -> Doc:
        by_orth = self._by_orth
        orths = doc.to_array([ORTH]).tolist()
        lemmas = [by_orth.get(o) or by_orth.setdefault(o, self.lemma(o)) for o in orths]
        doc.from_array([LEMMA], numpy.array(lemmas, dtype="uint64"))
        return doc


@Language.factory("dg_entity_ruler", default_config={"phrase_matcher_attr": "ORTH"})
def make_ruler(nlp: Language, name: str, phrase_matcher_attr: str) -> GazetteerRuler:
    return GazetteerRuler(nlp, name, phrase_matcher_attr=phrase_matcher_attr, validate=False)


class GazetteerRuler(EntityRuler):
    """spaCy's EntityRuler, placing its matches faster on a Doc without entities yet.

    The same choice as EntityRuler (longest match first, then leftmost; a match whose first
    or last token is taken is dropped), without checking every matched token for an
    existing entity, which costs a Python ``Token`` per token of every match; and the
    entities are written to the token arrays (:func:`set_entities`), not built as ``Span``s.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        #: match id -> string ids of its label and entity id (a match id is the hash of
        #: both together, so the pair never changes)
        self._label_ids: dict[int, tuple[int, int]] = {}

    def _require_patterns(self) -> None:
        # EntityRuler counts every pattern (len(self)) on every Doc to warn when there
        # are none; the gazetteer's thousands of patterns made that a tenth of the time.
        if not self.phrase_patterns and not self.token_patterns:
            super()._require_patterns()

    def set_annotations(self, doc: Doc, matches: list[tuple[int, int, int]]) -> None:
        if doc.has_annotation("ENT_IOB"):
            super().set_annotations(doc, matches)
            return
        spans, taken = [], set()
        for match_id, start, end in matches:
            if start in taken or end - 1 in taken:
                continue
            spans.append((start, end, *self._label_and_id(doc, match_id)))
            taken.update(range(start, end))
        set_entities(doc, spans)

    def _label_and_id(self, doc: Doc, match_id: int) -> tuple[int, int]:
        """The string ids of a match's entity label and id, as ``Span`` would store them."""
        found = self._label_ids.get(match_id)
        if found is None:
            if match_id in self._ent_ids:
                label, ent_id = self._ent_ids[match_id]
                # (added to the vocabulary once: every doc of the pipeline shares it)
                found = doc.vocab.strings.add(label), doc.vocab.strings.add(ent_id)
            elif match_id in doc.vocab.strings:
                found = match_id, 0
            else:
                raise ValueError(f"unknown entity label {match_id}")  # as Span would
            self._label_ids[match_id] = found
        return found


#: An entity as token offsets and string ids: (start, end, label, id).
EntityIds = tuple[int, int, int, int]

_ENT_ATTRS = [ENT_IOB, ENT_TYPE, ENT_ID]
_B, _I, _O = 3, 1, 2  # ENT_IOB values


def entity_ids(doc: Doc) -> list[EntityIds]:
    """The spans of ``doc.ents``, read from the token arrays.

    ``Doc.ents`` builds a ``Span`` per entity, and each ``Span`` builds ``Token``s. As there,
    an entity begins at a B token with a label and goes on over the I tokens after it; its
    label and id are those of its first token.
    """
    if not len(doc):
        return []
    table = doc.to_array(_ENT_ATTRS)
    iob = table[:, 0]
    begins = numpy.nonzero((iob == _B) & (table[:, 1] != 0))[0]
    stops = numpy.append(numpy.nonzero(iob != _I)[0], len(doc))
    ends = stops[numpy.searchsorted(stops, begins, side="right")]
    labels, ids = table[begins, 1], table[begins, 2]
    return list(zip(begins.tolist(), ends.tolist(), labels.tolist(), ids.tolist(), strict=True))


def set_entities(doc: Doc, spans: list[EntityIds]) -> None:
    """``doc.ents = spans`` for disjoint spans, written to the token arrays.

    As ``Doc.ents`` sets them (without building a ``Span`` per entity): every other token is
    outside any entity, and a span without an id leaves its tokens' ids as they were.
    """
    n = len(doc)
    iob = numpy.full(n, _O, dtype="uint64")
    labels = numpy.zeros(n, dtype="uint64")
    ids = doc.to_array(ENT_ID)
    kept = [span for span in spans if span[2]]  # Doc.set_ents ignores spans without a label
    if kept:
        table = numpy.array(kept, dtype="uint64")
        starts = table[:, 0].astype("intp")
        lengths = table[:, 1].astype("intp") - starts
        # The index of every token of every span: each span's start, counted up.
        offsets = numpy.arange(int(lengths.sum())) - numpy.repeat(
            numpy.cumsum(lengths) - lengths, lengths
        )
        tokens = numpy.repeat(starts, lengths) + offsets
        iob[tokens] = _I
        iob[starts] = _B
        labels[tokens] = numpy.repeat(table[:, 2], lengths)
        span_ids = numpy.repeat(table[:, 3], lengths)
        named = span_ids != 0
        ids[tokens[named]] = span_ids[named]
    doc.from_array(_ENT_ATTRS, numpy.stack([iob, labels, ids], axis=1))


_NEWLINES = re.compile(r"\n\s*")


@Language.component("dg_people")
def people(doc: Doc) -> Doc:
    """Add PERSON entities after titles: 'President Nursultan Nazarbayev'.

    The entities are read from and written to the token arrays (:func:`entity_ids`,
    :func:`set_entities`): reading and setting ``doc.ents`` builds a ``Span`` per entity.
    """
    orths = doc.to_array(ORTH)
    candidates = numpy.nonzero(_isin(orths, _title_ids(doc.vocab)))[0].tolist()
    if not candidates:
        return doc  # no title, no person (the ruler finds none): the entities stand
    n = len(doc)
    orth_ids = orths.tolist()
    titles = _title_set(doc.vocab)
    person = doc.vocab.strings.add("PERSON")
    spans = entity_ids(doc)
    taken = {i for start, end, _, _ in spans for i in range(start, end)}
    new: list[EntityIds] = []
    for i in candidates:
        if i in taken:
            continue
        if i + 1 < n:
            j = i + 1
            # Skip "Foreign" in "Prime Minister", "Foreign Minister ..." chains.
            while j < n and orth_ids[j] in titles:
                j += 1
            k = j
            while (
                k < n
                and k - j < 3
                and doc[k].is_title
                and doc[k].is_alpha
                and k not in taken
                and not doc[k].is_stop
            ):
                k += 1
            if k > j:
                new.append((j, k, person, 0))
                taken.update(range(j, k))
    spans.extend(new)
    # Later bare surnames of people already named: "... Nazarbayev proposed".
    surnames = {
        orth_ids[end - 1] for start, end, label, _ in spans if label == person and end - start > 1
    }
    if surnames:
        for i in numpy.nonzero(numpy.isin(orths, list(surnames)))[0]:
            if int(i) not in taken:
                spans.append((int(i), int(i) + 1, person, 0))
    set_entities(doc, _filter_spans(spans))
    return doc


def _filter_spans(spans: list[EntityIds]) -> list[EntityIds]:
    """spaCy's ``filter_spans``: the (first) longest of overlapping spans, in text order."""
    ordered = sorted(spans, key=lambda span: (span[1] - span[0], -span[0]), reverse=True)
    result, seen = [], set()
    for span in ordered:
        start, end = span[0], span[1]
        if start not in seen and end - 1 not in seen:  # its first and last tokens decide
            result.append(span)
            seen.update(range(start, end))
    return sorted(result, key=lambda span: span[0])


@cache
def _title_ids(vocab: Vocab) -> numpy.ndarray:
    return numpy.unique(numpy.array([vocab.strings.add(t) for t in PERSON_TITLES], dtype="uint64"))


@cache
def _title_set(vocab: Vocab) -> frozenset[int]:
    return frozenset(_title_ids(vocab).tolist())


def _ruler_patterns(gaz: Gazetteer) -> list[dict]:
    patterns = []
    for form, key in gaz.names.items():
        entity = gaz.entities[key]
        patterns.append({"label": LABELS[entity.kind], "pattern": form, "id": key})
    for form, key in gaz.demonyms.items():
        patterns.append({"label": "DEMONYM", "pattern": form, "id": key})
    return sorted(patterns, key=lambda p: (p["pattern"], p["id"]))


def doc_text(doc: Doc) -> str:
    """The text a Doc was made from: kept by :class:`KeepText`, else rebuilt by spaCy."""
    text = doc.user_data.get(_TEXT)
    return text if isinstance(text, str) else doc.text


_TEXT = "dg_text"


def span_text(span: Span) -> str:
    """``span.text`` without building a ``Token`` per token."""
    return doc_text(span.doc)[span.start_char : span.end_char]


#: Strings by their id: a StringStore lookup decodes a new ``str`` every time, and the same
#: words come back in every article. An id is the hash of its string, the same in every
#: vocabulary, so one table serves them all; it is emptied when it grows past _MAX_STRINGS.
_STRINGS: dict[int, str] = {}
_MAX_STRINGS = 200_000


def strings(vocab: Vocab, ids: list[int]) -> list[str]:
    """The strings of string ids (``vocab.strings[i]`` for each)."""
    known = _STRINGS
    try:
        return [known[i] for i in ids]
    except KeyError:
        if len(known) > _MAX_STRINGS:
            known.clear()
        found = []
        for i in ids:
            text = known.get(i)
            if text is None:
                text = known[i] = vocab.strings[i]
            found.append(text)
        return found


class Words(NamedTuple):
    """What the rules read of each token of a doc, by token index: its text, lower-case
    form and lemma, and where it begins and ends in the doc's text.

    A ``Token`` is a new Python object each time one is asked for, and each of its string
    attributes a StringStore lookup: the rules looked at tokens a few thousand times per
    article. (A tuple of lists, so that the Doc's ``user_data`` stays serializable.)
    """

    text: list[str]
    lower: list[str]
    lemma: list[str]
    begin: list[int]
    end: list[int]

    def span_text(self, doc: Doc, start: int, end: int) -> str:
        """``doc[start:end].text``."""
        return doc_text(doc)[self.begin[start] : self.end[end - 1]] if end > start else ""


_WORDS = "dg_words"


def doc_words(doc: Doc) -> Words:
    """The :class:`Words` of a doc, read once."""
    found = doc.user_data.get(_WORDS)
    if not isinstance(found, Words):  # (a Doc read back from bytes has a list there)
        table = doc.to_array([ORTH, LOWER, LEMMA, IDX, LENGTH])
        begin = table[:, 3].tolist()
        found = Words(
            strings(doc.vocab, table[:, 0].tolist()),
            strings(doc.vocab, table[:, 1].tolist()),
            strings(doc.vocab, table[:, 2].tolist()),
            begin,
            (table[:, 3] + table[:, 4]).tolist(),
        )
        doc.user_data[_WORDS] = found
    return found


class Entity(NamedTuple):
    """An entity of a doc, with the attributes of its ``Span`` that the rules read."""

    start: int
    end: int
    label_: str
    ent_id_: str
    text: str


def entities(doc: Doc) -> list[Entity]:
    """``doc.ents``, without a ``Span`` (and its ``Token``s) per entity."""
    spans = entity_ids(doc)
    if not spans:
        return []
    w = doc_words(doc)
    labels = strings(doc.vocab, [label for _, _, label, _ in spans])
    ids = strings(doc.vocab, [ent_id for _, _, _, ent_id in spans])
    return [
        Entity(start, end, label, ent_id, w.span_text(doc, start, end))
        for (start, end, _, _), label, ent_id in zip(spans, labels, ids, strict=True)
    ]


class KeepText:
    """The tokenizer, keeping the input text on the Doc.

    ``Doc.text`` joins the text of every token, building a Python ``Token`` for each: it
    cost a fifth of the extraction time when the line-break component and the date finder
    each asked for it.
    """

    def __init__(self, tokenizer: Callable[[str], Doc]) -> None:
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        doc = self.tokenizer(text)
        doc.user_data[_TEXT] = text
        return doc

    def __getattr__(self, name: str) -> object:  # pipe(), vocab... as the tokenizer has them
        return getattr(self.tokenizer, name)


@cache
def pipeline() -> Language:
    """The pipeline, built once per process."""
    gaz = load_gazetteer()
    nlp = spacy.blank("en")
    nlp.tokenizer = KeepText(nlp.tokenizer)  # type: ignore[assignment]
    nlp.add_pipe("dg_sentences")
    nlp.add_pipe("dg_lemmas")
    ruler = nlp.add_pipe("dg_entity_ruler")
    nlp.add_pipe("dg_people")
    # The lookup tables must be loaded before the ruler tokenizes its patterns.
    nlp.initialize()
    ruler.add_patterns(_ruler_patterns(gaz))  # type: ignore[attr-defined]
    return nlp


class TriggerMatcher:
    """The patterns of :data:`TRIGGERS` compiled into two ``PhraseMatcher``s.

    A token-pattern ``Matcher`` with ``IN`` sets cost a third of the extraction time; the
    same patterns as phrases (on lemmas, or on lower-case forms) match in a hash lookup.
    """

    def __init__(self, nlp: Language) -> None:
        self.vocab = nlp.vocab
        table = nlp.get_pipe("dg_lemmas").table
        self.by_lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.by_lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        for label, patterns in TRIGGERS.items():
            lemma_docs, lower_docs = [], []
            for pattern in patterns:
                keys = [next(iter(spec)) for spec in pattern]
                options = [_values(spec) for spec in pattern]
                for words in itertools.product(*options):
                    if all(k == "LOWER" for k in keys):
                        lower_docs.append(Doc(nlp.vocab, words=list(words)))
                    else:
                        lemmas = [
                            w if k == "LEMMA" else table.get(w, w)
                            for k, w in zip(keys, words, strict=True)
                        ]
                        lemma_docs.append(Doc(nlp.vocab, words=list(words), lemmas=lemmas))
            if lemma_docs:
                self.by_lemma.add(label, lemma_docs)
            if lower_docs:
                self.by_lower.add(label, lower_docs)

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        return sorted({*self.by_lemma(doc), *self.by_lower(doc)}, key=lambda m: (m[1], m[0]))


def _values(spec: dict) -> list[str]:
    value = next(iter(spec.values()))
    return list(value["IN"]) if isinstance(value, dict) else [value]


@cache
def trigger_matcher() -> TriggerMatcher:
    """The trigger matcher, keyed by the labels of :data:`TRIGGERS`."""
    return TriggerMatcher(pipeline())
