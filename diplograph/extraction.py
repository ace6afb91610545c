"""Extract many articles, in one process or several, reporting bad inputs as they come.

Shared by the ``extract``, ``evaluate`` and ``ingest`` commands. Each worker process
loads the spaCy pipeline once; articles travel as plain dataclasses.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from extract.facts import Facts
from extract.pipeline import extract
from extract.reader import Article, ArticleError, iter_paths, read_any


@dataclass
class Result:
    """One input: its article and facts, or the error that stopped it."""

    item: str
    article: Article | None = None
    facts: Facts | None = None
    error: ArticleError | None = None


def _one(item: Path | str | ArticleError) -> Result:
    try:
        article = read_any(item)
    except ArticleError as err:
        return Result(str(getattr(err, "where", item)), error=err)
    return Result(article.source, article, extract(article))


def extract_all(paths: Iterable[str | Path], jobs: int = 1) -> Iterator[Result]:
    """Results in input order; ``jobs`` > 1 spreads articles over that many processes."""
    items = list(iter_paths(paths))
    if jobs <= 1 or len(items) < 2:
        for item in items:
            yield _one(item)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs) as pool:
        yield from pool.imap(_one, items, chunksize=8)
