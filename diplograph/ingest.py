"""Ingest: extract articles, validate them, write each into the store in its own transaction.

Articles are validated in batches (one SHACL run for many articles is much cheaper than
one per article); a violation is traced back to the article whose quads hold its focus
node, and only that article is rejected. Entity descriptions (labels, codes, links) are
validated the first time they appear in an ingest: the same entity comes with the same
description in article after article, and they are nearly half of an article's quads.

The store is any :class:`graph.base.KnowledgeStore` (embedded or remote). A write that
fails (:class:`graph.base.WriteFailed`: the network, a server error after retries) rejects
that article only; after ``give_up_after`` failures in a row the store is taken to be
down, and the remaining articles are reported as not written instead of being tried.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import NamedNode, Quad
from tqdm import tqdm

from diplograph.extraction import Result, extract_all
from extract.rdf import Vocabulary, to_quads
from extract.reader import iter_paths
from graph.base import KnowledgeStore, WriteFailed
from graph.validate import Validator


@dataclass
class Summary:
    """What an ingest did, for the report at the end."""

    read: int = 0
    written: int = 0
    unchanged: int = 0
    memberships: int = 0
    events: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    #: Write failures in a row (reset by a successful write); see ``give_up_after``.
    failures_in_a_row: int = 0
    last_failure: str = ""

    def report(self) -> str:
        lines = [
            f"articles read: {self.read}, written: {self.written}, unchanged: {self.unchanged}, "
            f"rejected: {len(self.rejected)}",
            f"facts added: {self.memberships} memberships, {self.events} events",
        ]
        lines += [f"rejected {item}: {reason}" for item, reason in self.rejected]
        return "\n".join(lines)


def ingest(
    paths: Iterable[str | Path],
    store: KnowledgeStore,
    *,
    jobs: int = 1,
    batch_size: int = 32,
    progress: bool = True,
    validator: Validator | None = None,
    give_up_after: int = 3,
) -> Summary:
    """Extract, validate and store every article in ``paths``."""
    validator = validator or Validator(store.v.base)
    summary = Summary()
    items = list(iter_paths(paths))
    bar = tqdm(total=len(items), unit="article", file=sys.stderr, disable=not progress)
    batch: list[Result] = []
    checked: set[tuple[str, int]] = set()  # entity descriptions that conformed
    try:
        for result in extract_all(items, jobs=jobs):
            summary.read += 1
            if result.error is not None:
                summary.rejected.append((result.error.where, result.error.reason))
                bar.update(1)
                continue
            batch.append(result)
            if len(batch) >= batch_size:
                _write_batch(batch, store, validator, summary, checked, give_up_after)
                bar.update(len(batch))
                batch = []
                if summary.failures_in_a_row >= give_up_after:
                    break
        if batch:
            _write_batch(batch, store, validator, summary, checked, give_up_after)
            bar.update(len(batch))
    finally:
        bar.close()
    if summary.failures_in_a_row >= give_up_after:
        for item in items[summary.read :]:
            summary.rejected.append((str(getattr(item, "where", item)), _gave_up(summary)))
    return summary


def _gave_up(summary: Summary) -> str:
    """Why an article was not tried: the store is taken to be down."""
    return (
        f"not written: the {summary.failures_in_a_row} articles before it could not be "
        f"written, so the store was taken to be down (last error: {summary.last_failure})"
    )


def _to_validate(
    quads: dict[str, list[Quad]], entities: NamedNode, checked: set[tuple[str, int]]
) -> tuple[list[Quad], set[tuple[str, int]]]:
    """The articles' own quads, and the entity descriptions not yet ``checked``.

    Returns the quads and the (subject, content hash) of each description included.
    """
    own: list[Quad] = []
    described: dict[str, set[Quad]] = {}
    for qs in quads.values():
        for q in qs:
            if q.graph_name == entities:
                described.setdefault(q.subject.value, set()).add(q)
            else:
                own.append(q)
    new = set()
    for subject, description in described.items():
        key = (subject, hash(frozenset(description)))
        if key not in checked:
            new.add(key)
            own.extend(description)
    return own, new


def _write_batch(
    batch: list[Result],
    store: KnowledgeStore,
    validator: Validator,
    summary: Summary,
    checked: set[tuple[str, int]],
    give_up_after: int = 3,
) -> None:
    v: Vocabulary = store.v
    quads = {}
    for r in batch:
        assert r.article is not None and r.facts is not None
        quads[r.article.key] = to_quads(r.article, r.facts, v)
    to_validate, described = _to_validate(quads, v.entities_graph, checked)
    violations = validator.check(to_validate)
    if not violations:
        checked |= described
    bad: dict[str, list[str]] = {}
    if violations:
        owners: dict[str, set[str]] = {}
        for key, qs in quads.items():
            for q in qs:
                owners.setdefault(q.subject.value, set()).add(key)
        for violation in violations:
            for key in owners.get(violation.focus, set(quads)):
                bad.setdefault(key, []).append(str(violation))
    for r in batch:
        assert r.article is not None and r.facts is not None
        key = r.article.key
        if key in bad:
            summary.rejected.append((r.article.source, "; ".join(bad[key][:3])))
            continue
        if summary.failures_in_a_row >= give_up_after:
            summary.rejected.append((r.article.source, _gave_up(summary)))
            continue
        try:
            written = store.write_article(r.article, quads[key])
        except WriteFailed as err:
            summary.rejected.append((r.article.source, str(err)))
            summary.failures_in_a_row += 1
            summary.last_failure = str(err)
            continue
        summary.failures_in_a_row = 0
        if written:
            summary.written += 1
            summary.memberships += len(r.facts.memberships)
            summary.events += len(r.facts.events)
        else:
            summary.unchanged += 1
