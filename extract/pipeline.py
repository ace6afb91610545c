"""From an article to its facts: the extractor's entry point.

facts = extract(article)          # one article
for article, facts in extract_many(articles): ...   # streams, with nlp.pipe
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator

import numpy
from spacy.attrs import SENT_START
from spacy.tokens import Doc, Span

from extract import events as event_rules
from extract import rules
from extract.dates import DateSpan, find_dates
from extract.facts import Event, Facts, Membership
from extract.gazetteer import Gazetteer
from extract.gazetteer import load as load_gazetteer
from extract.mentions import Context, main_country, resolve_sentence
from extract.nlp import Entity, doc_text, entities, pipeline, span_text, trigger_matcher
from extract.reader import Article

#: Lines that are web-page furniture, not article text.
JUNK = re.compile(
    r"^\s*(share (this|on)|scroll to top|back to top|read more|related( articles| posts)?|"
    r"subscribe|sign up|log ?in|cookie|follow us|print|email|tweet|advertisement|menu|"
    r"home\b|next post|previous post|tags?:|comments?\b|leave a reply|skip to)",
    re.IGNORECASE,
)


def is_junk(sent: Span) -> bool:
    """Headings, navigation and share buttons: short lines without a sentence's end."""
    text = span_text(sent).strip()
    if not text:
        return True
    if JUNK.match(text):
        return True
    if text[-1] in ".!?\"”’)'":
        return False
    return sum(1 for t in sent if not t.is_space and not t.is_punct) < 8


def extract(article: Article) -> Facts:
    """The memberships and events an article states."""
    doc = pipeline()(article.text)
    return facts_from_doc(doc)


def extract_many(
    articles: Iterable[Article], batch_size: int = 16
) -> Iterator[tuple[Article, Facts]]:
    """Extract a stream of articles with spaCy's batching."""
    pairs = ((a.text, a) for a in articles)
    for doc, article in pipeline().pipe(pairs, as_tuples=True, batch_size=batch_size):
        yield article, facts_from_doc(doc)


def facts_from_doc(doc: Doc) -> Facts:
    """Run the rules over every sentence of a processed article."""
    gaz = load_gazetteer()
    matcher = trigger_matcher()
    all_ents = entities(doc)
    main = main_country(doc, gaz, all_ents)
    facts = Facts(main_country=main)
    # Sentence spans from the boundary flags (Doc.sents builds every token on the way).
    flags = doc.to_array([SENT_START])
    starts = [0, *(int(i) for i in numpy.nonzero(flags == 1)[0] if i > 0)] if len(doc) else []
    sents = [Span(doc, a, b) for a, b in zip(starts, [*starts[1:], len(doc)], strict=True)]

    def index(token: int) -> int:
        return bisect.bisect_right(starts, token) - 1

    triggers: list[list[rules.Trigger]] = [[] for _ in sents]
    for match_id, start, end in matcher(doc):
        label = doc.vocab.strings[match_id]
        triggers[index(start)].append(rules.Trigger(label, start, end))
    ents: list[list[Entity]] = [[] for _ in sents]
    for e in all_ents:
        ents[index(e.start)].append(e)
    dates: list[list[DateSpan]] = [[] for _ in sents]
    char_starts = [sent.start_char for sent in sents]
    for d in find_dates(doc_text(doc)):
        dates[bisect.bisect_right(char_starts, d.begin) - 1].append(d)
    ctx = Context(people=facts.people)
    for i, sent in enumerate(sents):
        if is_junk(sent):
            continue
        s = resolve_sentence(sent, gaz, main, ctx, ents[i], dates[i])
        found = list(rules.memberships(s, triggers[i], gaz)) if triggers[i] else []
        if found:  # (ellipses and the events memberships imply need a membership)
            found.extend(list(rules.ellipses(s, found)))
            facts.memberships.extend(found)
            facts.events.extend(rules.events_from_memberships(s, found, gaz, triggers[i]))
        facts.events.extend(event_rules.events(s, triggers[i], found, main, gaz))
    facts.memberships = merge_memberships(facts.memberships)
    facts.events = merge_events(facts.events)
    name_events(facts, gaz)
    used = {p for e in facts.events for p in e.participants} | {m.member for m in facts.memberships}
    facts.people = {k: v for k, v in facts.people.items() if k in used}
    return facts


def name_events(facts: Facts, gaz: Gazetteer) -> None:
    """Give generic event labels the names of what they are about: 'talks in Astana'."""

    def name(key: str | None) -> str:
        if key is None:
            return ""
        entity = gaz.entities.get(key)
        return entity.name if entity else facts.people.get(key, key)

    for e in facts.events:
        first = e.participants[0] if e.participants else None
        if e.type == "Independence" and first:
            e.label = f"independence of {name(first)}"
        elif e.type == "CapitalRelocation" and first:
            e.label = f"relocation of the capital of {name(first)}"
            if e.location:
                e.label += f" to {name(e.location)}"
        elif e.type == "Renaming" and e.concerns:
            e.label = f"renaming of {name(e.concerns[0])}"
        elif e.type in {"Talks", "Meeting", "Agreement"} and e.location and " in " not in e.label:
            e.label = f"{e.label} in {name(e.location)}"


def merge_memberships(found: list[Membership]) -> list[Membership]:
    """One membership per (member, organization, role), dates filled from any mention."""
    merged: dict[tuple[str, str, str], list[Membership]] = {}
    for m in found:
        group = merged.setdefault((m.member, m.organization, m.role), [])
        for other in group:
            start, end = other.start or m.start, other.end or m.end
            ordered = start is None or end is None or start.value[:4] <= end.value[:4]
            if _compatible(other.start, m.start) and _compatible(other.end, m.end) and ordered:
                other.start = other.start or m.start
                other.end = other.end or m.end
                other.mentions.extend(x for x in m.mentions if x not in other.mentions)
                break
        else:
            group.append(m)
    return [m for group in merged.values() for m in group]


def _compatible(a: object, b: object) -> bool:
    return a is None or b is None or a == b


def merge_events(found: list[Event]) -> list[Event]:
    """One event per (type, what it concerns or its label), details filled from any mention."""
    out: list[Event] = []
    for e in found:
        for other in out:
            same_subject = (e.concerns and e.concerns == other.concerns) or (
                not e.concerns and not other.concerns and e.label == other.label
            )
            if (
                other.type == e.type
                and same_subject
                and _compatible(other.start, e.start)
                and _compatible(other.location, e.location)
                and (e.type != "Independence" or e.participants == other.participants)
            ):
                other.start = other.start or e.start
                other.location = other.location or e.location
                other.participants.extend(p for p in e.participants if p not in other.participants)
                other.mentions.extend(x for x in e.mentions if x not in other.mentions)
                break
        else:
            out.append(e)
    return out
