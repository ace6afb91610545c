"""The spaCy pipeline: a blank English model with rule components only.

``spacy.blank("en")`` + line-aware sentence breaks + ``sentencizer`` + lookup lemmatizer
(``spacy-lookups-data``) + an ``entity_ruler`` built from the gazetteer (countries,
organizations, treaties, cities, demonyms) + a small component for people's names
("President Nursultan Nazarbayev") + a ``Matcher`` of trigger words on lemmas. Nothing
is downloaded: every resource comes from installed packages.
"""

from __future__ import annotations

from functools import cache

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
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
    "JOIN": [[{"LEMMA": {"IN": ["join", "rejoin", "enter"]}}]],
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
    for i, token in enumerate(doc):
        if (
            i == 0
            or ("\n" in doc[i - 1].text and doc[i - 1].is_space)
            or "\n" in doc[i - 1].whitespace_
        ):
            token.is_sent_start = True
        elif not token.is_space:
            # Leave the rest to the sentencizer (None = undecided).
            pass
    return doc


@Language.component("dg_people")
def people(doc: Doc) -> Doc:
    """Add PERSON entities after titles: 'President Nursultan Nazarbayev'."""
    spans = list(doc.ents)
    taken = {t.i for e in spans for t in e}
    i = 0
    while i < len(doc):
        token = doc[i]
        if token.text in PERSON_TITLES and i + 1 < len(doc):
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
            i = k if k > i else i + 1
        else:
            i += 1
    # Later bare surnames of people already named: "... Nazarbayev proposed".
    surnames = {doc[e.end - 1].text for e in spans if e.label_ == "PERSON" and len(e) > 1}
    taken = {t.i for e in spans for t in e}
    for token in doc:
        if token.text in surnames and token.i not in taken:
            spans.append(Span(doc, token.i, token.i + 1, label="PERSON"))
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


@cache
def trigger_matcher() -> Matcher:
    """Matcher of trigger words, keyed by the labels of :data:`TRIGGERS`."""
    matcher = Matcher(pipeline().vocab)
    for label, patterns in TRIGGERS.items():
        matcher.add(label, patterns)
    return matcher
