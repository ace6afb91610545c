"""Cached saved queries (issue 5): our revision cache vs ``oxigraph serve`` evaluating.

The same store as ``benchmarks.endpoint`` (about 0.2 M quads, served by ``diplograph
serve`` and, from a copy, by ``oxigraph serve --union-default-graph``). One saved query
with an aggregate, ``organizations-by-members`` (GROUP BY, COUNT DISTINCT, ORDER BY), is
asked again and again:

* ``ours-api``: ``GET /api/queries/organizations-by-members.json``; after the first
  request the answer comes from the cache keyed on the store's revision;
* ``ours-api-304``: the same with ``If-None-Match`` set to the ETag of the first answer:
  ``304 Not Modified`` without a body;
* ``ours-sparql``: the same SPARQL text through ``GET /sparql`` (the same cache);
* ``oxigraph``: the same SPARQL text through ``GET /query``, evaluated every time.

Each at concurrency 1 and 4, interleaved (ours..., oxigraph, ours..., oxigraph).

    python -m benchmarks.cached [--quick] [--duration S] [--rounds N]

Results go to ``benchmarks/out/cached.json`` (``cached-quick.json``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import common, endpoint
from benchmarks import store as store_bench

OUT = store_bench.OUT
QUERY = "organizations-by-members"
CONCURRENCY = (1, 4)
QUICK_CONCURRENCY = (1,)
#: Issue 5's target: the cached saved query at least this many times oxigraph's req/s.
TARGET = 5.0


def _etag(server: endpoint.Server, path: str) -> str:
    with urllib.request.urlopen(server.url(path), timeout=120) as r:
        tag = r.headers["ETag"]
        r.read()
    if not tag:
        raise RuntimeError(f"{path} has no ETag")
    return tag


def run(
    quick: bool = False, duration: float | None = None, rounds: int | None = None
) -> dict[str, Any]:
    endpoint.stop_on_sigterm()
    results: dict[str, Any] = {"quick": quick, "query": QUERY, "target": TARGET}
    results["machine"] = store_bench.machine()
    duration = duration or (endpoint.QUICK_DURATION_S if quick else endpoint.DURATION_S)
    rounds = rounds or (endpoint.QUICK_ROUNDS if quick else endpoint.ROUNDS)
    results.update(duration_s=duration, rounds=rounds)
    sparql = endpoint.saved_sparql(QUERY)
    results["sparql"] = sparql
    api = f"/api/queries/{QUERY}.json"
    with tempfile.TemporaryDirectory(prefix="diplograph-cached-bench-") as tmp:
        work = Path(tmp)
        print("preparing the store ...", file=sys.stderr, flush=True)
        base_articles = store_bench.QUICK_BASE_ARTICLES if quick else store_bench.BASE_ARTICLES
        results["store"] = endpoint.prepare_store(
            work,
            endpoint.QUICK_STORE_QUADS if quick else endpoint.STORE_QUADS,
            base_articles,
        )
        with endpoint.servers(work / "ours", work / "oxigraph", work) as running:
            ours, theirs = running["ours"], running["oxigraph"]
            tag = _etag(ours, api)
            results["etag"] = tag

            def loads(c: int) -> dict[str, endpoint.Load]:
                common = {"concurrency": c, "duration": duration}
                return {
                    "ours-api": endpoint.Load(port=ours.port, path=api, **common),
                    "ours-api-304": endpoint.Load(
                        port=ours.port,
                        path=api,
                        headers={"If-None-Match": tag},
                        ok=(304,),
                        **common,
                    ),
                    "ours-sparql": endpoint.Load(
                        port=ours.port, path="/sparql", sparql=sparql, **common
                    ),
                    "oxigraph": endpoint.Load(
                        port=theirs.port, path="/query", sparql=sparql, **common
                    ),
                }

            cells = []
            for c in QUICK_CONCURRENCY if quick else CONCURRENCY:
                runs: dict[str, list[dict[str, Any]]] = {}
                for _ in range(rounds):
                    for name, load in loads(c).items():
                        runs.setdefault(name, []).append(endpoint.run_load(load))
                cell: dict[str, Any] = {"concurrency": c}
                for name, rs in runs.items():
                    requests = sum(r["requests"] for r in rs)
                    cell[name] = {
                        "rps": round(requests / sum(r["elapsed_s"] for r in rs), 1),
                        "p50_ms": max(r["p50_ms"] or 0 for r in rs),
                        "p99_ms": max(r["p99_ms"] or 0 for r in rs),
                        "rounds_rps": [r["rps"] for r in rs],
                        "bad_statuses": [r["bad_statuses"] for r in rs if r["bad_statuses"]],
                        "errors": [e for r in rs for e in r["errors"]][:5],
                    }
                base = cell["oxigraph"]["rps"]
                for name in ("ours-api", "ours-api-304", "ours-sparql"):
                    cell[name]["speedup"] = round(cell[name]["rps"] / base, 2) if base else None
                cells.append(cell)
                print(
                    f"  c={c}: "
                    + ", ".join(
                        f"{k} {v['rps']:.0f}/s" for k, v in cell.items() if k != "concurrency"
                    ),
                    file=sys.stderr,
                    flush=True,
                )
    results["cells"] = cells
    worst = min(c["ours-api"]["speedup"] for c in cells)
    results["verdict"] = {"worst_speedup": worst, "met": worst >= TARGET}
    return common.finish(results, "cached", quick, markdown)


def markdown(results: dict[str, Any]) -> str:
    st = results["store"]
    lines = [
        f"Saved query `{results['query']}` on {st['quads_in_store']:,} quads; "
        f"{results['rounds']} round(s) of {results['duration_s']:g} s each, interleaved.",
        "",
        "| conc. | client | req/s | x oxigraph | p50 ms | p99 ms |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    labels = {
        "ours-api": f"ours `GET /api/queries/{results['query']}.json` (cache hit)",
        "ours-api-304": "ours, same with `If-None-Match` (304)",
        "ours-sparql": "ours `GET /sparql` same text (cache hit)",
        "oxigraph": "oxigraph `GET /query` same text (evaluated)",
    }
    for c in results["cells"]:
        for name, label in labels.items():
            x = c[name]
            speed = f"{x['speedup']:.1f}x" if "speedup" in x else "1x"
            lines.append(
                f"| {c['concurrency']} | {label} | {x['rps']:,.1f} | {speed} "
                f"| {x['p50_ms']} | {x['p99_ms']} |"
            )
    v = results["verdict"]
    met = "met" if v["met"] else "NOT met"
    lines += [
        "",
        f"Target: cached saved query >= {results['target']:g}x oxigraph's req/s: {met} "
        f"(worst {v['worst_speedup']:.1f}x).",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small store, short runs")
    parser.add_argument("--duration", type=float, help="seconds per client and round")
    parser.add_argument("--rounds", type=int, help="rounds (ours..., oxigraph, ...)")
    args = parser.parse_args(argv)
    run(args.quick, args.duration, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
