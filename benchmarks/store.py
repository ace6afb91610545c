"""Store benchmark (issue 3, "Scale, measured"): bulk loading and end-to-end ingest.

* Data: the quads the real extractor produces (``extract_many`` + ``to_quads``) for the
  first 1,000 generated articles (``benchmarks.corpus``), replicated with renamed article
  keys (article, graph, mention, event and source IRIs; the article text gets a one-line
  suffix, so every copy also has its own text literal and content hash) until a file of
  about 0.2 M, 2 M and 10 M quads is written as N-Quads (``pyoxigraph.serialize``,
  streaming). Entity descriptions are written once; memberships keep their IRIs (the
  same stated membership has the same IRI in every article, as in real data).
* Bulk load, each in a fresh subprocess and an empty directory, interleaved in one run:
  (a) ``diplograph import FILE --store DIR`` (ours: GraphStore.bulk_load, i.e.
  pyoxigraph ``Store.bulk_load``) and (b) ``oxigraph load --location DIR --file FILE``
  (the reference). Wall time, quads/s, CPU time, peak RSS (``wait4``), size on disk.
* Ingest: ``diplograph ingest DIR --quiet`` of generated article files with ``--jobs 1``
  and ``--jobs 2``, next to the same with ``--dry-run`` (extraction and validation, no
  store) and ``diplograph extract DIR --format nquads`` alone; peak RSS of
  the main process (sampled ``VmHWM``) and of the whole process tree, at 1k and 10k
  articles.

    python -m benchmarks.store [--quick] [--skip-ingest] [--skip-load] [--sizes 200000,...]

Results go to ``benchmarks/out/store.json`` (``store-load.json`` / ``store-ingest.json``
with --skip-ingest / --skip-load; ``-quick`` with --quick); Markdown is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import common

ROOT, OUT, env = common.ROOT, common.OUT, common.env

#: Quads in the generated files (full run / --quick).
SIZES = (200_000, 2_000_000, 10_000_000)
QUICK_SIZES = (20_000, 100_000)
#: Articles actually extracted; bigger files are copies of these.
BASE_ARTICLES = 1_000
QUICK_BASE_ARTICLES = 100
#: Sizes measured twice (a, b, a, b); bigger ones once (a, b).
TWICE_UP_TO = 10_000_000
#: A load predicted to take longer than this is skipped (and said so).
MAX_LOAD_S = 600.0
#: Articles for the ingest measurements (full / quick).
INGEST_SIZES = (1_000, 10_000)
QUICK_INGEST_SIZES = (50, 200)
INGEST_JOBS = (1, 2)
#: Issue 3's target: our bulk load at least this fraction of ``oxigraph load``'s speed.
TARGET_RATIO = 0.8
SEED = 0


# --------------------------------------------------------------------------- processes


def oxigraph_cli() -> str:
    """The ``oxigraph`` command next to this interpreter (the venv's), else on PATH."""
    here = Path(sys.executable).parent / "oxigraph"
    found = str(here) if here.exists() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the oxigraph CLI is not installed (pip install oxigraph)")
    return found


def diplograph_cli() -> list[str]:
    return [sys.executable, "-m", "diplograph.cli"]


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB (empty once it is gone)."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Sampler:
    """Samples a process tree's memory every ``every`` seconds until stopped.

    Also the CPU time of processes that are not the main process's own children
    (wait4 counts only those): workers started by a fork server, by their last sample.
    """

    pid: int
    every: float = 0.1
    main_hwm_kb: int = 0
    tree_rss_kb: int = 0
    descendants_cpu_s: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            main = _status(self.pid)
            self.main_hwm_kb = max(self.main_hwm_kb, main.get("VmHWM", 0))
            below = common.descendants(self.pid)
            total = main.get("VmRSS", 0) + sum(_status(p).get("VmRSS", 0) for p in below)
            self.tree_rss_kb = max(self.tree_rss_kb, total)
            for p in below:
                self.descendants_cpu_s[p] = max(self.descendants_cpu_s.get(p, 0.0), _cpu_s(p))
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(cmd: list[str], cwd: Path = ROOT) -> dict[str, Any]:
    """Run ``cmd``; wall and CPU seconds, peak RSS (wait4: the largest process of the
    tree), sampled peak of the main process and of the tree's summed RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    sampler = Sampler(proc.pid).start()
    assert proc.stderr is not None
    errors = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{errors[-3000:]}")
    # wait4 counts the main process (and children it reaped: none here); the fork server
    # and its workers are counted from the samples.
    cpu = usage.ru_utime + usage.ru_stime + sum(sampler.descendants_cpu_s.values())
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "main_peak_rss_mb": round(sampler.main_hwm_kb / 1024, 1),
        "tree_peak_rss_mb": round(sampler.tree_rss_kb / 1024, 1),
        "stderr_tail": errors.strip().splitlines()[-3:],
    }


def du_bytes(path: Path) -> int:
    """Bytes the files under ``path`` take on disk (like ``du -s``, in bytes)."""
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total


def machine() -> dict[str, Any]:
    """Facts about the machine, with the pyoxigraph and ``oxigraph`` versions."""
    import pyoxigraph

    oxi = subprocess.run([oxigraph_cli(), "--version"], capture_output=True, text=True)
    return common.machine(pyoxigraph=pyoxigraph.__version__, oxigraph_cli=oxi.stdout.strip())


# --------------------------------------------------------------------------- data


def base_file(n: int) -> Path:
    """N-Quads of the first ``n`` generated articles, as the extractor makes them (cached
    in benchmarks/out/; the key is the code that produces them)."""
    digest = hashlib.sha256()
    for package in ("extract", "benchmarks/corpus.py"):
        paths = [ROOT / package] if package.endswith(".py") else sorted((ROOT / package).rglob("*"))
        for path in paths:
            if path.is_file() and path.suffix in {".py", ".yaml", ".json", ".txt", ".tsv"}:
                digest.update(path.read_bytes())
    path = OUT / f"store-base-{n}-{digest.hexdigest()[:12]}.nq"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob(f"store-base-{n}-*.nq"):
        old.unlink()
    print(f"extracting {n} generated articles for the base quads ...", file=sys.stderr)
    cmd = [sys.executable, "-m", "benchmarks.store", "--make-base", str(n), str(path)]
    subprocess.run(cmd, cwd=ROOT, env=env(), check=True)
    return path


def make_base(n: int, path: Path) -> None:
    """Extract ``n`` generated articles and write their quads (entities once)."""
    from pyoxigraph import RdfFormat, serialize

    from benchmarks.corpus import generate
    from diplograph.config import DEFAULT_BASE
    from extract.pipeline import extract_many
    from extract.rdf import Vocabulary, to_quads
    from extract.reader import read_text

    v = Vocabulary(DEFAULT_BASE)
    articles = (
        read_text(text, f"file:///benchmarks/corpus/{name}.txt")
        for name, text in generate(n, seed=SEED)
    )
    seen: set = set()

    def quads() -> Iterator[Any]:
        for article, facts in extract_many(articles):
            for q in to_quads(article, facts, v):
                if q not in seen:
                    seen.add(q)
                    yield q

    tmp = path.with_suffix(".tmp")
    serialize(quads(), str(tmp), format=RdfFormat.N_QUADS)
    tmp.rename(path)


def write_dataset(base: Path, target: int, output: Path) -> dict[str, int]:
    """Write about ``target`` quads to ``output``: the base articles, then renamed copies."""
    from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse, serialize

    from diplograph.config import DEFAULT_BASE

    graph_prefix = DEFAULT_BASE + "graph/article/"
    article_prefix = DEFAULT_BASE + "id/article/"
    event_prefix = DEFAULT_BASE + "id/event/"
    is_string = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#isString"
    content_hash = DEFAULT_BASE + "ontology#contentHash"
    source = "http://purl.org/dc/terms/source"

    articles: dict[str, list[Any]] = {}
    shared: list[Any] = []
    for q in parse(path=str(base), format=RdfFormat.N_QUADS):
        g = q.graph_name
        if isinstance(g, NamedNode) and g.value.startswith(graph_prefix):
            articles.setdefault(g.value[len(graph_prefix) :], []).append(q)
        else:
            shared.append(q)
    keys = list(articles)

    def renamed(key: str, r: int) -> dict[Any, Any]:
        """Old term -> new term for copy ``r`` of article ``key``."""
        new_key = hashlib.sha256(f"{key}/{r}".encode()).hexdigest()[:16]
        m: dict[Any, Any] = {}
        text = ""
        for q in articles[key]:
            for term in (q.subject, q.object, q.graph_name):
                if isinstance(term, NamedNode) and term not in m:
                    value = term.value
                    if value.startswith((graph_prefix, article_prefix)) and key in value:
                        m[term] = NamedNode(value.replace(key, new_key))
                    elif value.startswith(event_prefix):
                        m[term] = NamedNode(f"{value}-{r}")
            if q.predicate.value == source:
                m[q.object] = NamedNode(q.object.value.replace(".txt", f"-copy{r}.txt"))
            elif q.predicate.value == is_string:
                text = q.object.value + f"\n(Copy {r}.)\n"
                m[q.object] = Literal(text)
        for q in articles[key]:
            if q.predicate.value == content_hash:
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
                m[q.object] = Literal("sha256:" + digest)
        return m

    counts = {"quads": 0, "articles": 0, "shared_quads": len(shared)}

    def quads() -> Iterator[Any]:
        yield from shared
        counts["quads"] += len(shared)
        copy = 0
        while counts["quads"] < target:
            key, r = keys[copy % len(keys)], copy // len(keys)
            own = articles[key]
            if r == 0:
                yield from own
            else:
                m = renamed(key, r)
                get = m.get
                for q in own:
                    s, o, g = q.subject, q.object, q.graph_name
                    yield Quad(get(s, s), q.predicate, get(o, o), get(g, g))
            counts["quads"] += len(own)
            counts["articles"] += 1
            copy += 1

    serialize(quads(), str(output), format=RdfFormat.N_QUADS)
    counts["bytes"] = output.stat().st_size
    return counts


# --------------------------------------------------------------------------- bulk load


def count_quads(directory: Path) -> int:
    """Quads in a store (opened read-only in a child, so no lock stays in this process)."""
    code = "import sys, pyoxigraph; print(len(pyoxigraph.Store.read_only(sys.argv[1])))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(directory)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def load_once(tool: str, data: Path, quads: int, work: Path, verify: bool) -> dict[str, Any]:
    """One bulk load into an empty directory with ``ours`` or ``oxigraph``."""
    directory = Path(tempfile.mkdtemp(prefix=f"load-{tool}-", dir=work))
    shutil.rmtree(directory)  # both tools create it
    if tool == "ours":
        cmd = [*diplograph_cli(), "import", str(data), "--store", str(directory)]
    else:
        cmd = [oxigraph_cli(), "load", "--location", str(directory), "--file", str(data)]
    try:
        result = measure(cmd)
        result.pop("stderr_tail")
        result["tool"] = tool
        result["quads_per_s"] = round(quads / result["wall_s"])
        result["store_bytes"] = du_bytes(directory)
        if verify:
            result["quads_in_store"] = count_quads(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(Path(str(directory) + "-snapshots"), ignore_errors=True)
    return result


def startup_cost(work: Path) -> dict[str, Any]:
    """``diplograph import`` of a one-quad file: interpreter start, imports, ontology."""
    tiny = work / "tiny.nq"
    tiny.write_text('<http://example.org/s> <http://example.org/p> "o" .\n')
    runs = [load_once("ours", tiny, 1, work, verify=False) for _ in range(2)]
    runs += [load_once("oxigraph", tiny, 1, work, verify=False) for _ in range(2)]
    best = {t: min(r["wall_s"] for r in runs if r["tool"] == t) for t in ("ours", "oxigraph")}
    return {"ours_wall_s": best["ours"], "oxigraph_wall_s": best["oxigraph"]}


def bench_loads(sizes: Sequence[int], base: Path, work: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rate = None  # quads/s of the slower tool at the last size, to predict the next
    for target in sizes:
        if rate and target / rate > MAX_LOAD_S:
            out.append(
                {
                    "target_quads": target,
                    "skipped": f"predicted {target / rate:.0f} s per load at "
                    f"{rate:,.0f} quads/s (limit {MAX_LOAD_S:.0f} s)",
                }
            )
            continue
        data = work / f"data-{target}.nq"
        print(f"writing about {target:,} quads ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        info = write_dataset(base, target, data)
        info["write_s"] = round(time.perf_counter() - t0, 1)
        rounds = 2 if target <= TWICE_UP_TO else 1
        runs = []
        try:
            for i in range(rounds):
                for tool in ("ours", "oxigraph"):
                    print(f"  {tool} load, round {i + 1} ...", file=sys.stderr, flush=True)
                    r = load_once(tool, data, info["quads"], work, verify=i == 0)
                    r["round"] = i + 1
                    runs.append(r)
        finally:
            data.unlink(missing_ok=True)
        summary = summarize_loads(runs)
        out.append({"target_quads": target, **info, "runs": runs, **summary})
        rate = min(summary["ours_quads_per_s"], summary["oxigraph_quads_per_s"])
    return out


def summarize_loads(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Best wall time of each tool (the least disturbed run on a noisy machine), and ratio."""
    best = {}
    for tool in ("ours", "oxigraph"):
        mine = [r for r in runs if r["tool"] == tool]
        fastest = min(mine, key=lambda r: r["wall_s"])
        best[f"{tool}_quads_per_s"] = fastest["quads_per_s"]
        best[f"{tool}_wall_s"] = fastest["wall_s"]
        best[f"{tool}_peak_rss_mb"] = max(r["peak_rss_mb"] for r in mine)
        best[f"{tool}_store_mb"] = round(max(r["store_bytes"] for r in mine) / 2**20, 1)
    best["ratio"] = round(best["ours_quads_per_s"] / best["oxigraph_quads_per_s"], 3)
    best["ratio_median_of_rounds"] = round(
        _median([r["quads_per_s"] for r in runs if r["tool"] == "ours"])
        / _median([r["quads_per_s"] for r in runs if r["tool"] == "oxigraph"]),
        3,
    )
    return best


def net_of_startup(loads: list[dict[str, Any]], startup: dict[str, Any]) -> None:
    """Rates with each tool's fixed start-up cost (one-quad import) taken out."""
    for r in loads:
        if "skipped" in r:
            continue
        for tool in ("ours", "oxigraph"):
            loading = r[f"{tool}_wall_s"] - startup[f"{tool}_wall_s"]
            r[f"{tool}_quads_per_s_net"] = round(r["quads"] / max(loading, 1e-3))
        r["ratio_net"] = round(r["ours_quads_per_s_net"] / r["oxigraph_quads_per_s_net"], 3)


def _median(values: list[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


# --------------------------------------------------------------------------- ingest


def bench_ingest(sizes: Sequence[int], work: Path) -> list[dict[str, Any]]:
    """Ingest (and extraction alone) of generated article files."""
    from benchmarks.corpus import generate

    out: list[dict[str, Any]] = []
    largest = max(sizes)
    for n in sizes:
        corpus = work / f"corpus-{n}"
        print(f"writing {n} articles ...", file=sys.stderr, flush=True)
        for _ in generate(n, corpus, seed=SEED):
            pass
        jobs_list = INGEST_JOBS if n == largest else (1,)
        for jobs in jobs_list:
            for what in ("ingest", "dry-run", "extract"):
                if what != "ingest" and n != largest:
                    continue
                store = work / f"store-{n}-{jobs}"
                if what in ("ingest", "dry-run"):
                    cmd = [*diplograph_cli(), "ingest", str(corpus), "--store", str(store)]
                    cmd += ["--quiet", "--jobs", str(jobs)]
                    cmd += ["--dry-run"] if what == "dry-run" else []
                else:
                    cmd = [*diplograph_cli(), "extract", str(corpus), "--format", "nquads"]
                    cmd += ["-o", os.devnull, "--jobs", str(jobs)]
                print(f"  {what} {n} articles --jobs {jobs} ...", file=sys.stderr, flush=True)
                try:
                    r = measure(cmd)
                    if what == "ingest":
                        r["store_bytes"] = du_bytes(store)
                        r["quads_in_store"] = count_quads(store)
                        r["writing_s"] = writing_seconds(r["stderr_tail"])
                finally:
                    shutil.rmtree(store, ignore_errors=True)
                    shutil.rmtree(Path(str(store) + "-snapshots"), ignore_errors=True)
                r.update(what=what, articles=n, jobs=jobs)
                r["articles_per_s"] = round(n / r["wall_s"], 1)
                out.append(r)
        shutil.rmtree(corpus, ignore_errors=True)
    return out


def writing_seconds(stderr_tail: list[str]) -> float | None:
    """The seconds an ingest spent writing to the store, from its summary line."""
    for line in stderr_tail:
        found = re.search(r"([\d.]+) s of it writing to the store", line)
        if found:
            return float(found.group(1))
    return None


# --------------------------------------------------------------------------- report


def run(
    quick: bool = False,
    sizes: Sequence[int] | None = None,
    load: bool = True,
    ingest: bool = True,
) -> dict[str, Any]:
    results: dict[str, Any] = {"quick": quick, "target_ratio": TARGET_RATIO}
    results["machine"] = machine()
    n_base = QUICK_BASE_ARTICLES if quick else BASE_ARTICLES
    with tempfile.TemporaryDirectory(prefix="diplograph-store-bench-") as tmp:
        work = Path(tmp)
        if load:
            base = base_file(n_base)
            results["base_articles"] = n_base
            results["startup"] = startup_cost(work)
            results["loads"] = bench_loads(sizes or (QUICK_SIZES if quick else SIZES), base, work)
            net_of_startup(results["loads"], results["startup"])
        if ingest:
            results["ingest"] = bench_ingest(QUICK_INGEST_SIZES if quick else INGEST_SIZES, work)
    part = "" if load and ingest else ("-load" if load else "-ingest")
    return common.finish(results, f"store{part}", quick, markdown)


def markdown(results: dict[str, Any]) -> str:
    lines: list[str] = []
    if "loads" in results:
        st = results["startup"]
        lines += [
            "### Bulk load: `diplograph import` (ours) vs `oxigraph load` (reference)",
            "",
            f"Best of the rounds; fixed start-up cost (one-quad file): ours "
            f"{st['ours_wall_s']:.2f} s, oxigraph {st['oxigraph_wall_s']:.2f} s.",
            "",
            "| quads | file MiB | ours s | ours quads/s | oxigraph s | oxigraph quads/s "
            "| ratio | ratio w/o start-up | ours RSS MiB | oxigraph RSS MiB | ours store MiB "
            "| oxigraph store MiB |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["loads"]:
            if "skipped" in r:
                lines.append(f"| ~{r['target_quads']:,} | skipped: {r['skipped']} |")
                continue
            lines.append(
                f"| {r['quads']:,} | {r['bytes'] / 2**20:,.0f} | {r['ours_wall_s']:.1f} "
                f"| {r['ours_quads_per_s']:,} | {r['oxigraph_wall_s']:.1f} "
                f"| {r['oxigraph_quads_per_s']:,} | {r['ratio']:.2f}x | {r['ratio_net']:.2f}x "
                f"| {r['ours_peak_rss_mb']:.0f} | {r['oxigraph_peak_rss_mb']:.0f} "
                f"| {r['ours_store_mb']:.0f} | {r['oxigraph_store_mb']:.0f} |"
            )
        lines += [
            "",
            "| quads | round | tool | wall s | CPU s | quads/s | peak RSS MiB | store MiB |",
            "|---:|---:|---|---:|---:|---:|---:|---:|",
        ]
        for r in results["loads"]:
            for x in r.get("runs", []):
                lines.append(
                    f"| {r['quads']:,} | {x['round']} | {x['tool']} | {x['wall_s']:.1f} "
                    f"| {x['cpu_s']:.1f} | {x['quads_per_s']:,} | {x['peak_rss_mb']:.0f} "
                    f"| {x['store_bytes'] / 2**20:.0f} |"
                )
        ratios = [r["ratio"] for r in results["loads"] if "ratio" in r]
        if ratios:
            met = "met" if min(ratios) >= results["target_ratio"] else "NOT met"
            lines += [
                "",
                f"Target ours >= {results['target_ratio']}x of `oxigraph load`: {met} "
                f"(ratios {', '.join(f'{x:.2f}x' for x in ratios)}).",
            ]
    if "ingest" in results:
        lines += [
            "",
            "### `diplograph ingest` vs `ingest --dry-run` and `extract` (same articles)",
            "",
            "| command | articles | --jobs | wall s | articles/s | CPU s | writing to the store "
            "| main peak RSS MiB | tree peak RSS MiB | quads in store |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["ingest"]:
            writing = r.get("writing_s")
            share = f"{writing:.1f} s ({100 * writing / r['wall_s']:.0f}%)" if writing else ""
            lines.append(
                f"| {r['what']} | {r['articles']:,} | {r['jobs']} | {r['wall_s']:.1f} "
                f"| {r['articles_per_s']:.1f} | {r['cpu_s']:.1f} | {share} "
                f"| {r['main_peak_rss_mb']:.0f} | {r['tree_peak_rss_mb']:.0f} "
                f"| {r.get('quads_in_store', '')} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a minute or two")
    parser.add_argument("--sizes", help="comma-separated quad counts for the bulk loads")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--make-base", nargs=2, metavar=("N", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.make_base:
        make_base(int(args.make_base[0]), Path(args.make_base[1]))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    run(args.quick, sizes, load=not args.skip_load, ingest=not args.skip_ingest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
