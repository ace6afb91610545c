"""The spaCy pipeline: a blank English model with rule components only.

``spacy.blank("en")`` + line-aware sentence breaks + ``sentencizer`` + lookup lemmatizer
(``spacy-lookups-data``) + an ``entity_ruler`` built from the gazetteer (countries,
organizations, treaties, cities, demonyms) + a small component for people's names
("President Nursultan Nazarbayev") + a ``Matcher`` of trigger words on lemmas. Nothing
is downloaded: every resource comes from installed packages.
"""

from __future__ import annotations

import bisect
import itertools
import re
from functools import cache

import numpy
import spacy
from spacy.attrs import IDX, ORTH
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

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


@Language.component("dg_line_breaks")
def line_breaks(doc: Doc) -> Doc:
    """Start a sentence after every line break: headings and page junk stand alone."""
    if len(doc):
        doc[0].is_sent_start = True
    starts = doc.to_array([IDX])
    # Characters where a line ends; the token that follows starts a sentence.
    for m in _NEWLINES.finditer(doc.text):
        i = bisect.bisect_left(starts, m.end())
        if 0 < i < len(doc):
            doc[i].is_sent_start = True
    return doc


_NEWLINES = re.compile(r"\n\s*")


@Language.component("dg_people")
def people(doc: Doc) -> Doc:
    """Add PERSON entities after titles: 'President Nursultan Nazarbayev'."""
    spans = list(doc.ents)
    taken = {t.i for e in spans for t in e}
    orths = doc.to_array([ORTH])
    titles = {doc.vocab.strings.add(t) for t in PERSON_TITLES}
    candidates = [int(i) for i in numpy.nonzero(numpy.isin(orths, list(titles)))[0]]
    for i in candidates:
        if i in taken:
            continue
        if i + 1 < len(doc):
            j = i + 1
            # Skip "Foreign" in "Prime Minister", "Foreign Minister ..." chains.
            while j < len(doc) and doc[j].text in PERSON_TITLES:
                j += 1
            k = j
            while (
                k < len(doc)
                and k - j < 3
                and doc[k].is_title
                and doc[k].is_alpha
                and k not in taken
                and not doc[k].is_stop
            ):
                k += 1
            if k > j:
                spans.append(Span(doc, j, k, label="PERSON"))
                taken.update(range(j, k))
    # Later bare surnames of people already named: "... Nazarbayev proposed".
    surnames = {doc[e.end - 1].orth for e in spans if e.label_ == "PERSON" and len(e) > 1}
    if surnames:
        for i in numpy.nonzero(numpy.isin(orths, list(surnames)))[0]:
            if int(i) not in taken:
                spans.append(Span(doc, int(i), int(i) + 1, label="PERSON"))
    doc.ents = filter_spans(spans)
    return doc


def _ruler_patterns(gaz: Gazetteer) -> list[dict]:
    patterns = []
    for form, key in gaz.names.items():
        entity = gaz.entities[key]
        patterns.append({"label": LABELS[entity.kind], "pattern": form, "id": key})
    for form, key in gaz.demonyms.items():
        patterns.append({"label": "DEMONYM", "pattern": form, "id": key})
    return sorted(patterns, key=lambda p: (p["pattern"], p["id"]))


@cache
def pipeline() -> Language:
    """The pipeline, built once per process."""
    gaz = load_gazetteer()
    nlp = spacy.blank("en")
    nlp.add_pipe("dg_line_breaks")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "ORTH", "validate": False})
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
        table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
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
