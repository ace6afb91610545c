"""Remote store benchmark (issue 7): the embedded store beside a remote one, in one run.

Three stores, measured in turn within one run: the embedded store (``GraphStore`` in a
temporary directory) and an ``oxigraph serve`` (PyPI ``oxigraph``) on localhost reached by
``RemoteStore``, once started with ``--union-default-graph`` ("remote-union") and once
plain ("remote-plain": diplograph then names every graph in each query).

* writes: N generated articles (``benchmarks.corpus``), extracted once beforehand
  (``extract_many`` + ``to_quads``), written with ``write_article``; then all again
  (unchanged: the store checks each and writes nothing). Articles per second.
* ingest: ``diplograph.ingest.ingest`` of the same articles as files, end to end
  (extraction, SHACL validation, writes), ``jobs`` 1 and 2, into an empty store.
* queries, over the N-article graph: a 200-row SELECT of memberships with labels, the
  saved query ``organizations-by-members`` (GROUP BY over every membership) and a
  DESCRIBE of one country, each ``repeats`` times through ``store.query`` with the
  results read to the end: median and 90th-percentile latency.
* served: ``diplograph serve`` in front of each store, the same three queries through
  ``GET /sparql`` with a new text each time (a trailing comment, so the server's cache
  never answers): median latency.

    python -m benchmarks.remote [--quick]

Results go to ``benchmarks/out/remote.json`` (``remote-quick.json``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks import common, endpoint
from benchmarks import store as store_bench
from benchmarks.corpus import write_corpus
from graph.base import StoreError

ROOT = store_bench.ROOT
OUT = store_bench.OUT
ARTICLES, QUICK_ARTICLES = 1_000, 100
REPEATS, QUICK_REPEATS = 50, 10
#: The plain server answers in seconds (every graph named in each query): fewer repeats.
PLAIN_REPEATS = 5
#: A query that takes longer is recorded as timed out.
QUERY_TIMEOUT_S = 30.0
KINDS = ("embedded", "remote-union", "remote-plain")


def query_mix() -> dict[str, str]:
    """The three queries: many rows, an aggregate over everything, one description."""
    from diplograph.config import DEFAULT_BASE

    return {
        "select-200": (
            "PREFIX org: <http://www.w3.org/ns/org#> "
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "SELECT ?m ?member ?org WHERE { ?m org:member/rdfs:label ?member ; "
            "org:organization/rdfs:label ?org } LIMIT 200"
        ),
        "organizations-by-members": endpoint.saved_sparql("organizations-by-members"),
        "describe-country": f"DESCRIBE <{DEFAULT_BASE}id/country/kaz>",
    }


# --------------------------------------------------------------------------- stores


@contextmanager
def oxigraph_serve(location: Path, union: bool) -> Iterator[str]:
    """An ``oxigraph serve`` on a free port; yields its root URL."""
    log = location.parent / f"{location.name}.log"
    server = endpoint.start_oxigraph(location, log, union=union)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        endpoint._stop(server)


@contextmanager
def open_store(kind: str, work: Path) -> Iterator[tuple[Any, str | None]]:
    """A new, empty store of ``kind``; yields (store, remote URL or None)."""
    from diplograph.config import DEFAULT_BASE
    from graph.remote import RemoteStore
    from graph.store import GraphStore

    where = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=work))
    try:
        if kind == "embedded":
            with GraphStore(where / "store", DEFAULT_BASE) as store:
                yield store, None
        else:
            with (
                oxigraph_serve(where / "db", union=kind == "remote-union") as url,
                RemoteStore.from_url(url, base=DEFAULT_BASE) as store,
            ):
                yield store, url
    finally:
        shutil.rmtree(where, ignore_errors=True)


# --------------------------------------------------------------------------- measures


def extracted(n: int, corpus: Path) -> list[tuple[Any, list[Any]]]:
    """(article, quads) for the ``n`` files of ``corpus``, extracted once."""
    from diplograph.config import DEFAULT_BASE
    from extract.pipeline import extract_many
    from extract.rdf import Vocabulary, to_quads
    from extract.reader import read_file

    v = Vocabulary(DEFAULT_BASE)
    articles = (read_file(p) for p in sorted(corpus.glob("*.txt")))
    return [(a, to_quads(a, facts, v)) for a, facts in extract_many(articles)]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def writes(store: Any, items: list[tuple[Any, list[Any]]]) -> dict[str, Any]:
    """Write every article, then write them all again (unchanged)."""
    first = timed(lambda: [store.write_article(a, q) for a, q in items])
    again = timed(lambda: [store.write_article(a, q) for a, q in items])
    n = len(items)
    return {
        "articles": n,
        "write_s": first,
        "write_per_s": n / first,
        "unchanged_s": again,
        "unchanged_per_s": n / again,
    }


def drain(answer: object) -> int:
    """Read a query's answer to the end (as a client would); the number of items."""
    from pyoxigraph import QueryBoolean

    if isinstance(answer, QueryBoolean):
        return 1
    return sum(1 for _ in answer)  # type: ignore[attr-defined]


def latencies(fn: Callable[[], object], repeats: int) -> dict[str, Any]:
    """Median and p90 over ``repeats`` calls, or the error if the query gets no answer."""
    try:
        fn()  # the first answer warms caches on both sides; it is not counted
        samples = sorted(timed(fn) * 1000 for _ in range(repeats))
    except (OSError, StoreError) as err:  # a timeout: recorded, the run goes on
        return {"error": f"{type(err).__name__}: {str(err)[:200]}"}
    return {
        "median_ms": statistics.median(samples),
        "p90_ms": samples[int(0.9 * (len(samples) - 1))],
        "per_s": 1000 / statistics.mean(samples),
    }


def store_queries(store: Any, repeats: int) -> dict[str, Any]:
    return {
        name: latencies(
            lambda text=text: drain(store.query(text, use_default_graph_as_union=True)), repeats
        )
        for name, text in query_mix().items()
    }


@contextmanager
def diplograph_serve(kind: str, store_dir: Path | None, url: str | None) -> Iterator[str]:
    """``diplograph serve`` over the embedded store directory or the remote URL."""
    where = ["--store-url", url] if url else ["--store", str(store_dir)]
    log = Path(tempfile.mkstemp(prefix=f"serve-{kind}-", suffix=".log")[1])
    server = endpoint.start_ours(where, log, "--workers", "2")
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        endpoint._stop(server)
        log.unlink(missing_ok=True)


def served_queries(base: str, repeats: int) -> dict[str, Any]:
    out = {}
    for name, text in query_mix().items():
        sent = [0]

        def ask(text: str = text, sent: list[int] = sent) -> None:
            sent[0] += 1
            query = f"{text}\n# {sent[0]}"  # a new text each time: the response cache never hits
            url = base + "/sparql?" + urllib.parse.urlencode({"query": query})
            accept = "application/sparql-results+json, application/n-triples"
            req = urllib.request.Request(url, headers={"Accept": accept})
            with urllib.request.urlopen(req, timeout=QUERY_TIMEOUT_S) as resp:
                resp.read()

        out[name] = latencies(ask, repeats)
    return out


def ingest_runs(kind: str, corpus: Path, work: Path) -> list[dict[str, Any]]:
    """End-to-end ingest into an empty store of ``kind``, with 1 and 2 processes."""
    from diplograph.ingest import ingest

    runs = []
    for jobs in (1, 2):
        with open_store(kind, work) as (store, _):
            start = time.perf_counter()
            summary = ingest([corpus], store, jobs=jobs, progress=False)
            took = time.perf_counter() - start
        runs.append(
            {
                "jobs": jobs,
                "articles": summary.read,
                "written": summary.written,
                "rejected": len(summary.rejected),
                "s": took,
                "per_s": summary.read / took,
            }
        )
    return runs


# --------------------------------------------------------------------------- run


def run(quick: bool = False) -> dict[str, Any]:
    n = QUICK_ARTICLES if quick else ARTICLES
    repeats = QUICK_REPEATS if quick else REPEATS
    work = Path(tempfile.mkdtemp(prefix="diplograph-bench-remote-"))
    results: dict[str, Any] = {
        "machine": store_bench.machine(),
        "articles": n,
        "repeats": repeats,
        "stores": {},
    }
    try:
        corpus = work / "corpus"
        results["corpus_bytes"] = write_corpus(n, corpus)
        print(f"extracting {n} articles once ...", file=sys.stderr, flush=True)
        items = extracted(n, corpus)
        results["quads"] = sum(len(q) for _, q in items)
        for kind in KINDS:
            print(f"{kind}: writes, queries, served queries ...", file=sys.stderr, flush=True)
            entry: dict[str, Any] = {}
            with open_store(kind, work) as (store, url):
                entry["writes"] = writes(store, items)
                n_repeats = min(repeats, PLAIN_REPEATS) if kind == "remote-plain" else repeats
                if url is not None:  # one try, and a time limit, for each query
                    store.retries, store.timeout = 1, QUERY_TIMEOUT_S
                entry["queries"] = store_queries(store, n_repeats)
                store_dir = getattr(store, "path", None)
                if store_dir is not None:
                    store.close()  # the server opens the embedded store itself
                with diplograph_serve(kind, store_dir, url) as base:
                    entry["served"] = served_queries(base, n_repeats)
            print(f"{kind}: ingest ...", file=sys.stderr, flush=True)
            entry["ingest"] = ingest_runs(kind, corpus, work)
            results["stores"][kind] = entry
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return common.finish(results, "remote", quick, markdown)


def _cell(m: dict[str, Any], p90: bool = False) -> str:
    if "error" in m:
        return f"no answer in {QUERY_TIMEOUT_S:.0f} s"
    return f"{m['median_ms']:.1f}" + (f" ({m['p90_ms']:.1f})" if p90 else "")


def markdown(results: dict[str, Any]) -> str:
    stores = results["stores"]
    lines = [
        f"{results['articles']:,} articles ({results['quads']:,} quads), "
        f"{results['repeats']} repeats per query ({PLAIN_REPEATS} on the plain server); "
        "load average "
        f"{results['machine']['loadavg_at_start'][0]:.1f} -> "
        f"{results['machine']['loadavg_at_end'][0]:.1f}",
        "",
        "| | " + " | ".join(stores) + " |",
        "|---|" + "---:|" * len(stores),
    ]

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(e) for e in stores.values()) + " |")

    row("write new articles, articles/s", lambda e: f"{e['writes']['write_per_s']:,.0f}")
    row("check unchanged articles, articles/s", lambda e: f"{e['writes']['unchanged_per_s']:,.0f}")
    for jobs in (1, 2):
        row(
            f"whole ingest, --jobs {jobs}, articles/s",
            lambda e, j=jobs: f"{next(r for r in e['ingest'] if r['jobs'] == j)['per_s']:,.1f}",
        )
    for name in query_mix():
        row(
            f"{name}, store.query, median ms (p90)",
            lambda e, q=name: _cell(e["queries"][q], p90=True),
        )
    for name in query_mix():
        row(
            f"{name}, via diplograph serve, median ms",
            lambda e, q=name: _cell(e["served"][q]),
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.remote", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ARTICLES} articles")
    args = parser.parse_args(argv)
    run(quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
