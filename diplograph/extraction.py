"""Extract many articles, in one process or several, reporting bad inputs as they come.

Shared by the ``extract``, ``evaluate`` and ``ingest`` commands. Articles go in chunks
through spaCy's ``nlp.pipe``; with worker processes, each loads the pipeline once and
gets whole chunks. A ``finish`` hook runs in the worker over each chunk of results, so
that per-article work after extraction (serializing, validating) is spread over the
workers too instead of falling to the one parent process.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from extract.facts import Facts
from extract.pipeline import extract_many
from extract.reader import Article, ArticleError, iter_paths, read_any

#: Articles per chunk: one ``nlp.pipe`` batch, one task for a worker process.
CHUNK = 16


@dataclass
class Result:
    """One input: its article and facts, or the error that stopped it."""

    item: str
    article: Article | None = None
    facts: Facts | None = None
    error: ArticleError | None = None
    #: what a ``finish`` hook made of the facts, in the worker (e.g. serialized RDF)
    payload: object = None


#: Runs over a chunk of results (errors included) and fills in their payloads.
Finish = Callable[[list[Result]], None]


def each(render: Callable[[Article, Facts], object], results: list[Result]) -> None:
    """A :data:`Finish` that sets each extracted result's payload to ``render(article, facts)``.

    Use as ``functools.partial(each, render)``; ``render`` must be picklable.
    """
    for r in results:
        if r.article is not None and r.facts is not None:
            r.payload = render(r.article, r.facts)


def extract_all(
    paths: Iterable[str | Path],
    jobs: int = 1,
    finish: Finish | None = None,
    *,
    background: bool = False,
) -> Iterator[Result]:
    """Results in input order; ``jobs`` > 1 spreads chunks of articles over that many processes.

    ``finish`` (picklable) runs in the worker over each chunk. With ``background`` the work
    goes to a worker process even for ``jobs`` == 1, leaving the parent free to do
    something else with the results meanwhile (ingest writes them to the store).
    """
    items = list(iter_paths(paths))
    chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
    work = functools.partial(_chunk, finish=finish)
    if len(items) < 2 or (jobs <= 1 and not (background and len(chunks) > 1)):
        for chunk in chunks:
            yield from work(chunk)
        return
    with _context().Pool(jobs) as pool:
        for results in pool.imap(work, chunks):
            yield from results


def _chunk(items: list, finish: Finish | None) -> list[Result]:
    """Read, extract and finish one chunk of inputs, in input order."""
    results: list[Result] = []
    articles: list[Article] = []
    for item in items:
        try:
            article = read_any(item)
        except ArticleError as err:
            results.append(Result(str(getattr(err, "where", item)), error=err))
            continue
        results.append(Result(article.source, article))
        articles.append(article)
    done = dict(zip((id(a) for a in articles), extract_many(articles), strict=True))
    for result in results:
        if result.article is not None:
            result.facts = done[id(result.article)][1]
    if finish is not None:
        finish(results)
    return results


def _context() -> multiprocessing.context.BaseContext:
    """Workers come from a fork server that has built the pipeline (diplograph.preload).

    Plain ``fork`` is not safe here: a process that has validated with rudof (or runs
    RocksDB's threads) leaves locks behind that a forked child waits on forever. Workers
    of a fork server also end when the process that started them dies, even by kill -9
    (tests/test_store.py checks it).
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["diplograph.preload"])
    return ctx
