"""Extraction benchmark: articles per second and peak memory.

Every measurement runs in a fresh subprocess, so each peak RSS belongs to one run:

* in-process: ``extract_many`` over 1,000, 5,000 and 10,000 generated articles, made
  in memory inside the child as a stream (no disk, and the corpus is never held whole).
  Loading the pipeline is timed apart from extraction; the time spent generating the
  articles is measured and taken out of the throughput.
* CLI: ``diplograph extract DIR --format nquads --jobs N`` end to end on a directory of
  10,000 ``.txt`` files, for N = 1 and 2: wall time, CPU time and peak RSS.
* profile: cProfile over ``extract_many`` on 500 articles, top functions by cumulative
  time.

    python -m benchmarks.extraction [--quick]

Results go to ``benchmarks/out/extraction.json``; a Markdown summary is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks import store as store_bench

ROOT, OUT = common.ROOT, common.OUT
RESULT_FILE = OUT / "extraction.json"

#: Sizes of the full run; ``--quick`` divides them by ten.
SIZES = (1_000, 5_000, 10_000)
CLI_SIZE = 10_000
CLI_JOBS = (1, 2)
PROFILE_SIZE = 500
#: Articles per second on one core the issue asks for.
TARGET = 200
SEED = 0
#: How many times the RSS is sampled during an in-process run.
CHECKPOINTS = 10


# --------------------------------------------------------------------------- in the child


def _rss_mb() -> float:
    """Current resident set size of this process, in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> float:
    """Load the spaCy pipeline, trigger matcher and gazetteer; the seconds it took."""
    start = time.perf_counter()
    from extract.gazetteer import load
    from extract.nlp import pipeline, trigger_matcher

    load()
    pipeline()
    trigger_matcher()
    return time.perf_counter() - start


def child_inprocess(n: int, seed: int = SEED, batch_size: int = 16) -> dict[str, Any]:
    """Extract ``n`` generated articles with ``extract_many`` in this process."""
    load_s = _load()
    from benchmarks.corpus import generate, names
    from extract.pipeline import extract_many
    from extract.reader import Article, read_text

    names()  # the generator's name lists, built from the gazetteer already loaded
    rss_after_load = _rss_mb()
    generating = generating_cpu = 0.0
    size = 0

    def articles() -> Iterator[Article]:
        nonlocal generating, generating_cpu, size
        stream = generate(n, seed=seed)
        while True:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                name, text = next(stream)
            except StopIteration:
                return
            article = read_text(text, f"{name}.txt")
            size += len(text.encode())
            generating += time.perf_counter() - t0
            generating_cpu += time.process_time() - c0
            yield article

    every = max(1, n // CHECKPOINTS)
    checkpoints: list[dict[str, float]] = []
    memberships = events = done = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    for _, facts in extract_many(articles(), batch_size=batch_size):
        memberships += len(facts.memberships)
        events += len(facts.events)
        done += 1
        if done % every == 0:
            checkpoints.append({"articles": done, "rss_mb": round(_rss_mb(), 1)})
    total = time.perf_counter() - start
    extract_s = total - generating
    # CPU time is less disturbed than wall time by other work on a shared machine.
    cpu_s = time.process_time() - start_cpu - generating_cpu
    return {
        "articles": done,
        "bytes": size,
        "load_s": round(load_s, 3),
        "generate_s": round(generating, 3),
        "extract_s": round(extract_s, 3),
        "articles_per_s": round(done / extract_s, 1),
        "cpu_s": round(cpu_s, 3),
        "articles_per_cpu_s": round(done / cpu_s, 1),
        "kib_per_s": round(size / 1024 / extract_s, 1),
        "memberships": memberships,
        "events": events,
        "rss_after_load_mb": round(rss_after_load, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "rss_checkpoints": checkpoints,
    }


def _where(filename: str) -> str:
    """A short name for a profiled function's file."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if filename.startswith(str(ROOT)):
        return filename[len(str(ROOT)) :].lstrip("/")
    return filename


def stages(articles: list[Any]) -> dict[str, float]:
    """Seconds per stage without a profiler: tokenizer, each spaCy component, the rules."""
    from extract.nlp import pipeline
    from extract.pipeline import facts_from_doc

    nlp = pipeline()
    seconds = {"tokenizer": 0.0, **{name: 0.0 for name in nlp.pipe_names}, "rules": 0.0}
    for article in articles:
        t0 = time.perf_counter()
        doc = nlp.make_doc(article.text)
        t1 = time.perf_counter()
        seconds["tokenizer"] += t1 - t0
        for name, component in nlp.pipeline:
            doc = component(doc)
            t2 = time.perf_counter()
            seconds[name] += t2 - t1
            t1 = t2
        facts_from_doc(doc)
        seconds["rules"] += time.perf_counter() - t1
    return {name: round(s, 3) for name, s in seconds.items()}


def child_profile(n: int, seed: int = SEED, top: int = 10) -> dict[str, Any]:
    """Time per stage, then cProfile ``extract_many`` over ``n`` articles: top functions."""
    import cProfile
    import pstats

    _load()
    from benchmarks.corpus import generate
    from extract.pipeline import extract_many
    from extract.reader import read_text

    articles = [read_text(text, f"{name}.txt") for name, text in generate(n, seed=seed)]
    by_stage = stages(articles)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in extract_many(articles):
        pass
    profiler.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = max(v[3] for v in stats.values())  # the outermost call: all of extraction
    rows = []
    for (filename, line, func), (cc, nc, tt, ct, _) in stats.items():
        calls = str(nc) if nc == cc else f"{nc}/{cc}"
        where = f"{_where(filename)}:{line}({func})" if line else func
        rows.append({"function": where, "ncalls": calls, "tottime": tt, "cumtime": ct})

    def best(key: str) -> list[dict[str, Any]]:
        chosen = sorted(rows, key=lambda r: r[key], reverse=True)[:top]
        return [
            {
                **r,
                "tottime": round(r["tottime"], 3),
                "cumtime": round(r["cumtime"], 3),
                "share": round(r["cumtime"] / total, 3),
            }
            for r in chosen
        ]

    return {
        "articles": n,
        "stages_s": by_stage,
        "wall_s_profiled": round(wall, 3),
        "total_s": round(total, 3),
        "by_cumulative": best("cumtime"),
        "by_tottime": best("tottime"),
    }


# --------------------------------------------------------------------------- in the parent


def _in_child(mode: str, n: int) -> dict[str, Any]:
    """Run ``child_<mode>(n)`` in a fresh interpreter and return what it reports."""
    cmd = [sys.executable, "-m", "benchmarks.extraction", "--child", mode, str(n)]
    load_before = os.getloadavg()[0]
    done = subprocess.run(
        cmd, cwd=ROOT, env=common.env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["loadavg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return result


def run_cli(directory: Path, jobs: int, n: int) -> dict[str, Any]:
    """``diplograph extract`` on a directory; wall and CPU time, peak RSS, quads written."""
    with tempfile.NamedTemporaryFile(suffix=".nq", delete=False) as f:
        output = Path(f.name)
    cmd = [sys.executable, "-m", "diplograph.cli", "extract", str(directory)]
    cmd += ["--format", "nquads", "--output", str(output), "--jobs", str(jobs)]
    load_before = os.getloadavg()[0]
    try:
        # Wall, CPU and memory of the CLI and of the fork-server workers it starts.
        r = store_bench.measure(cmd)
        with output.open("rb") as f:
            quads = sum(1 for _ in f)
    finally:
        output.unlink(missing_ok=True)
    return {
        "jobs": jobs,
        "articles": n,
        "wall_s": round(r["wall_s"], 2),
        "articles_per_s": round(n / r["wall_s"], 1),
        "cpu_s": r["cpu_s"],
        # ru_maxrss of wait4: the main process; the tree: all processes' RSS summed, sampled.
        "peak_rss_mb": r["peak_rss_mb"],
        "tree_peak_rss_mb": r["tree_peak_rss_mb"],
        "quads": quads,
        # The machine is shared: the 1-minute load average before and after the run.
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


#: The code whose speed is measured: a change during a run makes its numbers a mixture.
CODE = ("extract", "diplograph")


def code_fingerprint() -> str:
    """A hash of the extractor's and CLI's sources and data files."""
    digest = hashlib.sha256()
    for package in CODE:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix in {".py", ".yaml"} and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def machine() -> dict[str, Any]:
    """Facts about the machine, with the spaCy version."""
    import spacy

    return common.machine(spacy=spacy.__version__)


def run(quick: bool = False) -> dict[str, Any]:
    """The whole benchmark; writes the JSON file and prints a Markdown summary.

    The JSON file is rewritten after every measurement, so a long run that fails keeps
    what it measured.
    """
    from benchmarks.corpus import write_corpus

    scale = 10 if quick else 1
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / ("extraction-quick.json" if quick else RESULT_FILE.name)
    results: dict[str, Any] = {"quick": quick, "target_articles_per_s": TARGET}
    results["machine"] = machine()
    results["code_at_start"] = code_fingerprint()
    results["in_process"] = []
    results["cli"] = []

    def save() -> None:
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    for n in SIZES:
        n //= scale
        print(f"extract_many over {n} articles ...", file=sys.stderr, flush=True)
        results["in_process"].append(_in_child("inprocess", n))
        save()
    cli_n = CLI_SIZE // scale
    with tempfile.TemporaryDirectory(prefix="diplograph-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        print(f"writing {cli_n} articles to {corpus} ...", file=sys.stderr, flush=True)
        results["cli_corpus_bytes"] = write_corpus(cli_n, corpus, seed=SEED)
        for jobs in CLI_JOBS:
            print(f"diplograph extract --jobs {jobs} ...", file=sys.stderr, flush=True)
            results["cli"].append(run_cli(corpus, jobs, cli_n))
            save()
    print("profiling ...", file=sys.stderr, flush=True)
    results["profile"] = _in_child("profile", PROFILE_SIZE // scale)
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    results["code_at_end"] = code_fingerprint()
    results["code_changed_during_run"] = results["code_at_start"] != results["code_at_end"]
    save()
    print(markdown(results))
    return results


def _load_text(r: dict[str, Any]) -> str:
    """'1.2 → 1.9': the 1-minute load average before and after a run."""
    before, after = r.get("loadavg_1m", (float("nan"), float("nan")))
    return f"{before:.1f} → {after:.1f}"


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables."""
    lines = [
        "### extract_many, one process",
        "",
        "| articles | MiB of text | load s | extract s | articles/s | per CPU s | KiB/s "
        "| memberships | events | RSS after load MiB | peak RSS MiB | load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results["in_process"]:
        lines.append(
            f"| {r['articles']:,} | {r['bytes'] / 2**20:.1f} | {r['load_s']:.2f} "
            f"| {r['extract_s']:.1f} | {r['articles_per_s']:.1f} "
            f"| {r.get('articles_per_cpu_s', float('nan')):.1f} | {r['kib_per_s']:.0f} "
            f"| {r['memberships']:,} | {r['events']:,} | {r['rss_after_load_mb']:.0f} "
            f"| {r['peak_rss_mb']:.0f} | {_load_text(r)} |"
        )
    base = results["cli"][0]["wall_s"] if results["cli"] else 0
    lines += [
        "",
        "### `diplograph extract DIR --format nquads`, end to end",
        "",
        "| --jobs | articles | wall s | articles/s | CPU s | cores busy | speed-up "
        "| main peak RSS MiB | tree peak RSS MiB | quads | load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results["cli"]:
        lines.append(
            f"| {r['jobs']} | {r['articles']:,} | {r['wall_s']:.1f} | {r['articles_per_s']:.1f} "
            f"| {r['cpu_s']:.1f} | {r['cpu_s'] / r['wall_s']:.2f} | {base / r['wall_s']:.2f}x "
            f"| {r['peak_rss_mb']:.0f} | {r.get('tree_peak_rss_mb', 0):.0f} | {r['quads']:,} "
            f"| {_load_text(r)} |"
        )
    prof = results["profile"]
    lines += [
        "",
        f"### cProfile, {prof['articles']} articles, top 10 by cumulative time",
        "",
        "| cumulative s | share | own s | calls | function |",
        "|---:|---:|---:|---:|---|",
    ]
    for r in prof["by_cumulative"]:
        lines.append(
            f"| {r['cumtime']:.2f} | {r['share']:.0%} | {r['tottime']:.2f} | {r['ncalls']} "
            f"| `{r['function']}` |"
        )
    stages_s = prof.get("stages_s", {})
    if stages_s:
        whole = sum(stages_s.values())
        lines += [
            "",
            f"### Time per stage, {prof['articles']} articles, no profiler",
            "",
            "| stage | s | share |",
            "|---|---:|---:|",
        ]
        lines += [f"| {k} | {v:.2f} | {v / whole:.0%} |" for k, v in stages_s.items()]
    best = results["in_process"][-1]["articles_per_s"]
    verdict = "met" if best >= TARGET else "NOT met"
    lines += ["", f"Target {TARGET} articles/s on one core: {verdict} ({best:.1f} articles/s)."]
    lines.append(f"Code fingerprint (extract/, diplograph/): {results.get('code_at_start')}.")
    if results.get("code_changed_during_run"):
        lines += ["", "WARNING: extract/ or diplograph/ changed during the run; measure again."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="sizes ten times smaller")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, n = args.child[0], int(args.child[1])
        child = {"inprocess": child_inprocess, "profile": child_profile}[mode]
        print(json.dumps(child(n)))
        return 0
    run(quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
