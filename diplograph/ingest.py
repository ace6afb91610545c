"""Ingest: extract articles, validate them, write each into the store in its own transaction.

Extraction, the quads and their SHACL validation happen in worker processes (``--jobs``
of them, one at least when there is more than one chunk of articles), chunk by chunk:
one SHACL run for a chunk is cheaper than one per article, and a violation is traced
back to the article whose quads hold its focus node, so only that article is rejected.
The parent process only writes, one article per transaction, while the workers go on:
the store is not what an ingest waits for. Entity descriptions (labels, codes, links)
are validated the first time a worker meets them in an ingest: the same entity comes
with the same description in article after article, and they are nearly half of an
article's quads.

The store is any :class:`graph.base.KnowledgeStore` (embedded or remote). A write that
fails (:class:`graph.base.WriteFailed`: the network, a server error after retries) rejects
that article only; after ``give_up_after`` failures in a row the store is taken to be
down, and the remaining articles are reported as not written instead of being tried.
"""

from __future__ import annotations

import functools
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import NamedNode, Quad, RdfFormat, parse, serialize
from tqdm import tqdm

from diplograph.extraction import Result, extract_all
from extract.rdf import Vocabulary, to_quads
from extract.reader import ArticleError, iter_paths
from graph.base import KnowledgeStore, WriteFailed
from graph.validate import Validator, shapes_text


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
    #: Wall seconds of the whole ingest, and of them the seconds spent writing to the store.
    seconds: float = 0.0
    writing_seconds: float = 0.0
    #: A dry run (``check``): validated only; ``written`` counts what would be written.
    dry_run: bool = False

    def report(self) -> str:
        rejected = len(self.rejected)
        if self.dry_run:
            counts = f"conform: {self.written}, rejected: {rejected} (dry run: nothing written)"
        else:
            counts = f"written: {self.written}, unchanged: {self.unchanged}, rejected: {rejected}"
        lines = [
            f"articles read: {self.read}, {counts}",
            f"facts {'found' if self.dry_run else 'added'}: {self.memberships} memberships, "
            f"{self.events} events",
        ]
        if self.seconds:
            # Says which side an ingest waits for: the store, or extraction and validation.
            timing = f"time: {self.seconds:.1f} s ({self.read / self.seconds:.1f} articles/s)"
            if not self.dry_run:
                timing += f", {self.writing_seconds:.2f} s of it writing to the store"
            lines.append(timing)
        lines += [f"rejected {item}: {reason}" for item, reason in self.rejected]
        return "\n".join(lines)


@dataclass
class Prepared:
    """An article made ready in a worker: its quads, and what SHACL found wrong with them."""

    #: the article's quads (its graph and the entity descriptions it uses) as N-Quads
    nquads: bytes
    #: violations whose focus node is one of the article's nodes; empty when it conforms
    problems: list[str]

    def quads(self) -> list[Quad]:
        return list(parse(self.nquads, format=RdfFormat.N_QUADS))


def ingest(
    paths: Iterable[str | Path],
    store: KnowledgeStore,
    *,
    jobs: int = 1,
    progress: bool = True,
    validator: Validator | None = None,
    give_up_after: int = 3,
) -> Summary:
    """Extract, validate and store every article in ``paths``.

    ``validator`` gives the shapes to check against (ontology/shapes.ttl by default).
    """
    summary = Summary()
    items = list(iter_paths(paths))
    with closing(_prepared(items, store.v.base, jobs, progress, validator, summary)) as results:
        for result in results:
            writing = time.perf_counter()
            _store(result, store, summary, give_up_after)
            summary.writing_seconds += time.perf_counter() - writing
            if summary.failures_in_a_row >= give_up_after:
                break
    if summary.failures_in_a_row >= give_up_after:
        for item in items[summary.read :]:
            summary.rejected.append((_source(item), _gave_up(summary)))
    return summary


def check(
    paths: Iterable[str | Path],
    base: str,
    *,
    jobs: int = 1,
    progress: bool = True,
    validator: Validator | None = None,
) -> Summary:
    """Extract and validate as ``ingest`` does, and write nothing: a dry run.

    ``summary.written`` counts the articles an ingest would write (or find unchanged).
    """
    summary = Summary(dry_run=True)
    items = list(iter_paths(paths))
    with closing(_prepared(items, base, jobs, progress, validator, summary)) as results:
        for result in results:
            if _accepted(result, summary):
                _count_written(result, summary)
    return summary


def _prepared(
    items: list[Path | str | ArticleError],
    base: str,
    jobs: int,
    progress: bool,
    validator: Validator | None,
    summary: Summary,
) -> Iterator[Result]:
    """Each article extracted and validated (in the workers), with a progress bar."""
    shapes = validator.text if validator else shapes_text(base)
    prepare = functools.partial(_prepare, run=uuid.uuid4().hex, base=base, shapes=shapes)
    bar = tqdm(total=len(items), unit="article", file=sys.stderr, disable=not progress)
    started = time.perf_counter()
    try:
        for result in extract_all(items, jobs=jobs, finish=prepare, background=True):
            summary.read += 1
            yield result
            bar.update(1)
    finally:
        bar.close()
        summary.seconds = time.perf_counter() - started


def _accepted(result: Result, summary: Summary) -> bool:
    """Whether the article was read and conforms; if not, record why in the summary."""
    if result.error is not None:
        summary.rejected.append((result.error.where, result.error.reason))
        return False
    assert result.article is not None and isinstance(result.payload, Prepared)
    if result.payload.problems:
        summary.rejected.append((result.article.source, "; ".join(result.payload.problems[:3])))
        return False
    return True


def _count_written(result: Result, summary: Summary) -> None:
    """Count an article written (or, in a dry run, one that would be) and its facts."""
    assert result.facts is not None
    summary.written += 1
    summary.memberships += len(result.facts.memberships)
    summary.events += len(result.facts.events)


def _store(result: Result, store: KnowledgeStore, summary: Summary, give_up_after: int) -> None:
    """Write one prepared article, or record why it was not written."""
    if not _accepted(result, summary):
        return
    assert result.article is not None and isinstance(result.payload, Prepared)
    source = result.article.source
    if summary.failures_in_a_row >= give_up_after:
        summary.rejected.append((source, _gave_up(summary)))
        return
    try:
        written = store.write_article(result.article, result.payload.quads())
    except WriteFailed as err:
        summary.rejected.append((source, str(err)))
        summary.failures_in_a_row += 1
        summary.last_failure = str(err)
        return
    summary.failures_in_a_row = 0
    if written:
        _count_written(result, summary)
    else:
        summary.unchanged += 1


def _source(item: Path | str | ArticleError) -> str:
    """How an input not read is named in the report: as its article would be."""
    if isinstance(item, ArticleError):
        return item.where
    return item if isinstance(item, str) else item.resolve().as_uri()


def _gave_up(summary: Summary) -> str:
    """Why an article was not tried: the store is taken to be down."""
    return (
        f"not written: the {summary.failures_in_a_row} articles before it could not be "
        f"written, so the store was taken to be down (last error: {summary.last_failure})"
    )


#: Per worker process, the one ingest it serves: its vocabulary, validator and the
#: entity descriptions that already conformed, as (subject, hash of the description).
_RUN: dict[str, tuple[Vocabulary, Validator, set[tuple[str, int]]]] = {}


def _prepare(results: list[Result], *, run: str, base: str, shapes: str) -> None:
    """In a worker: build each article's quads, validate the chunk, set the payloads."""
    if run not in _RUN:
        _RUN.clear()
        _RUN[run] = (Vocabulary(base), Validator(base, text=shapes), set())
    v, validator, checked = _RUN[run]
    quads: dict[str, list[Quad]] = {}
    for r in results:
        if r.article is not None and r.facts is not None:
            quads[r.article.key] = to_quads(r.article, r.facts, v)
    problems = _validate(quads, v, validator, checked)
    for r in results:
        if r.article is not None:
            key = r.article.key
            nquads = serialize(quads[key], format=RdfFormat.N_QUADS) or b""
            r.payload = Prepared(nquads, problems.get(key, []))


def _validate(
    quads: dict[str, list[Quad]],
    v: Vocabulary,
    validator: Validator,
    checked: set[tuple[str, int]],
) -> dict[str, list[str]]:
    """One SHACL run over several articles; the violations of each, by article key."""
    to_validate, described = _to_validate(quads, v.entities_graph, checked)
    if not to_validate:
        return {}
    violations = validator.check(to_validate)
    if not violations:
        checked |= described
        return {}
    owners: dict[str, set[str]] = {}
    for key, qs in quads.items():
        for q in qs:
            owners.setdefault(q.subject.value, set()).add(key)
    bad: dict[str, list[str]] = {}
    for violation in violations:
        for key in owners.get(violation.focus, set(quads)):
            bad.setdefault(key, []).append(str(violation))
    return bad


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
