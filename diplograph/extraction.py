"""Extract many articles, in one process or several, reporting bad inputs as they come.

Shared by the ``extract``, ``evaluate`` and ``ingest`` commands. Each worker process
loads the spaCy pipeline once; articles travel as plain dataclasses.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from extract.facts import Facts
from extract.pipeline import extract, extract_many
from extract.reader import Article, ArticleError, iter_paths, read_any


@dataclass
class Result:
    """One input: its article and facts, or the error that stopped it."""

    item: str
    article: Article | None = None
    facts: Facts | None = None
    error: ArticleError | None = None
    #: what ``render`` made of the facts, in the worker (e.g. serialized RDF)
    payload: bytes | None = None


Render = Callable[[Article, Facts], bytes]


def _one(item: Path | str | ArticleError, render: Render | None = None) -> Result:
    try:
        article = read_any(item)
    except ArticleError as err:
        return Result(str(getattr(err, "where", item)), error=err)
    facts = extract(article)
    payload = render(article, facts) if render is not None else None
    return Result(article.source, article, facts, payload=payload)


def extract_all(
    paths: Iterable[str | Path], jobs: int = 1, render: Render | None = None
) -> Iterator[Result]:
    """Results in input order; ``jobs`` > 1 spreads articles over that many processes.

    ``render`` (a picklable function) runs in the worker too, so that serializing the
    facts does not fall to the one parent process.
    """
    items = list(iter_paths(paths))
    work = functools.partial(_one, render=render)
    if jobs <= 1 or len(items) < 2:
        yield from _batched(items, render)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs) as pool:
        yield from pool.imap(work, items, chunksize=8)


def _batched(items: list, render: Render | None, size: int = 16) -> Iterator[Result]:
    """In one process: read a batch, extract it with spaCy's nlp.pipe, keep input order."""
    for start in range(0, len(items), size):
        results: list[Result] = []
        articles: list[Article] = []
        for item in items[start : start + size]:
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
                _, facts = done[id(result.article)]
                result.facts = facts
                if render is not None:
                    result.payload = render(result.article, facts)
            yield result
