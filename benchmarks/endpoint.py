"""SPARQL endpoint benchmark (issue 4): ``diplograph serve`` vs ``oxigraph serve``.

One store (about 0.2 M quads shaped like diplograph data, made as in
``benchmarks.store`` and loaded with ``diplograph import``) is served by both servers at
once: ``diplograph serve --store S`` (ours: Flask under Granian, queries in worker
processes over a snapshot, lookups and small queries, such as the DESCRIBE and the ASK,
in the HTTP process) and
``oxigraph serve --location COPY --union-default-graph`` (the reference, on a copy made
while no server ran; ``--union-default-graph`` gives it the same semantics as ours). A
load generator in its own process (threads, one keep-alive ``http.client`` connection
each) sends GET requests for a fixed time and records every latency.

Query mix: two heavy queries (members per organization with GROUP BY; memberships
joined with labels, ORDER BY, LIMIT 500) and two trivial ones (DESCRIBE of one country;
an ASK). Each runs at concurrency 1, 4 and 16 against both servers, interleaved (ours,
theirs, ours, theirs), in two cache modes:

* ``distinct``: every request's text differs (a trailing ``# comment N``), so our
  server's response cache (keyed on revision, query text and format) never hits and
  every request is evaluated; this is the like-for-like comparison.
* ``repeated``: the identical query again and again; ours answers from its cache after
  the first request, oxigraph evaluates every time.

    python -m benchmarks.endpoint [--quick] [--duration S] [--rounds N]

On the trivial queries, distinct mode, a third server runs in the same interleaving: the
floor (``benchmarks.floor``), a Flask app served as ours is (Granian) that answers
each request at once with the same bytes, no work at all. Its ratio to ``oxigraph
serve`` bounds what any Flask app served this way can reach on this machine.

Results go to ``benchmarks/out/endpoint.json`` (``endpoint-quick.json``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks import store as store_bench

ROOT = store_bench.ROOT
OUT = store_bench.OUT

STORE_QUADS = 200_000
QUICK_STORE_QUADS = 20_000
CONCURRENCY = (1, 4, 16)
QUICK_CONCURRENCY = (1, 4)
DURATION_S = 6.0
#: Heavy queries run this many times longer (a window of many requests even at c=16).
HEAVY_FACTOR = 2.0
QUICK_DURATION_S = 1.5
ROUNDS = 2
QUICK_ROUNDS = 1
#: Targets of issue 4: throughput ratios ours/oxigraph, and p99 under load.
TARGETS = {"heavy": 0.9, "describe": 0.5, "p99_under_load": 1.5}

BASE = "http://127.0.0.1:5000/"
PREFIXES = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
"""

JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"


def saved_sparql(name: str) -> str:
    """The SPARQL text of a saved query, exactly as our server runs it."""
    from graph.saved import Catalog

    query = Catalog(ROOT / "queries").get(name)
    assert query is not None, name
    return query.sparql


def queries() -> dict[str, dict[str, str]]:
    """name -> {kind, sparql, accept}."""
    return {
        "heavy-group-by": {
            "kind": "heavy",
            "sparql": saved_sparql("organizations-by-members"),
            "accept": JSON,
        },
        "heavy-join-order-by": {
            "kind": "heavy",
            "sparql": PREFIXES
            + """SELECT ?membership ?member ?memberLabel ?organization ?organizationLabel ?start
WHERE {
  ?membership a org:Membership ;
              org:member ?member ;
              org:organization ?organization .
  ?member rdfs:label ?memberLabel .
  ?organization rdfs:label ?organizationLabel .
  OPTIONAL { ?membership schema:startDate ?start }
}
ORDER BY ?organizationLabel ?memberLabel ?start
LIMIT 500""",
            "accept": JSON,
        },
        "trivial-describe": {
            "kind": "describe",
            "sparql": f"DESCRIBE <{BASE}id/country/kaz>",
            "accept": NTRIPLES,
        },
        "trivial-ask": {
            "kind": "ask",
            "sparql": PREFIXES + "ASK { ?m a org:Membership ; org:member ?x }",
            "accept": JSON,
        },
    }


# --------------------------------------------------------------------------- servers


free_port = common.free_port


@dataclass
class Server:
    """A running server: its name, port, query path and process."""

    name: str
    port: int
    query_path: str
    process: subprocess.Popen
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _wait_ready(server: Server, path: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {server.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(server.url(path), timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s")


def _stop(server: Server) -> None:
    """Stop one server we started (by its pid, then its process group)."""
    proc = server.process
    if proc.poll() is None:
        # ours shuts its worker pool down on SIGINT (KeyboardInterrupt); oxigraph on TERM
        proc.send_signal(signal.SIGINT if server.name == "ours" else signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    # Query workers of ours are in the same process group; nothing else is.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def start_ours(where: list[str], log: Path, *options: str) -> Server:
    """``diplograph serve`` (``where``: ``--store DIR`` or ``--store-url URL``)."""
    port = free_port()
    cmd = [*store_bench.diplograph_cli(), "serve", *where, "--port", str(port), *options]
    return _launch("ours", port, "/sparql", cmd, log, "/health")


def start_oxigraph(location: Path, log: Path, union: bool = True) -> Server:
    """``oxigraph serve`` over ``location``, with or without the union default graph."""
    port = free_port()
    cmd = [store_bench.oxigraph_cli(), "serve", "--location", str(location)]
    cmd += ["--bind", f"127.0.0.1:{port}"] + (["--union-default-graph"] if union else [])
    ready = "/query?" + urllib.parse.urlencode({"query": "ASK {}"})
    return _launch("oxigraph", port, "/query", cmd, log, ready, ours=False)


def start_floor(answers: dict[str, tuple[str, str]], workdir: Path) -> Server:
    """``benchmarks.floor`` answering with ``answers`` (accept -> content type, body)."""
    port = free_port()
    spec = workdir / "floor-answers.json"
    spec.write_text(json.dumps(answers), "utf-8")
    cmd = [sys.executable, "-m", "benchmarks.floor", "--port", str(port), "--answers", str(spec)]
    return _launch("floor", port, "/sparql", cmd, workdir / "floor.log", "/sparql")


def _launch(
    name: str, port: int, path: str, cmd: list[str], log: Path, ready: str, ours: bool = True
) -> Server:
    """Start a server (its own session, output to ``log``) and wait until ``ready``
    answers. ``ours``: with the project's environment (the reference gets this one's)."""
    with log.open("wb") as f:
        process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=store_bench.env() if ours else None,
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, port, path, process, log)
    _ready_or_stop(server, ready)
    return server


def _ready_or_stop(server: Server, path: str) -> None:
    """Wait until the server answers; stop it if it never does."""
    try:
        _wait_ready(server, path)
    except BaseException:
        _stop(server)
        raise


@contextmanager
def servers(ours_store: Path, theirs_store: Path, workdir: Path) -> Iterator[dict[str, Server]]:
    """Start ``diplograph serve`` on one store and ``oxigraph serve`` on its copy."""
    started: dict[str, Server] = {}
    try:
        started["ours"] = start_ours(["--store", str(ours_store)], workdir / "ours.log")
        started["oxigraph"] = start_oxigraph(theirs_store, workdir / "oxigraph.log")
        yield started
    finally:
        for server in started.values():
            _stop(server)


def prepare_store(work: Path, quads: int, base_articles: int) -> dict[str, Any]:
    """Write about ``quads`` quads, ``diplograph import`` them, copy the store."""
    base = store_bench.base_file(base_articles)
    data = work / "data.nq"
    info = store_bench.write_dataset(base, quads, data)
    ours, theirs = work / "ours", work / "oxigraph"
    store_bench.measure([*store_bench.diplograph_cli(), "import", str(data), "--store", str(ours)])
    data.unlink()
    shutil.copytree(ours, theirs)  # no server is running: a plain copy is consistent
    info["quads_in_store"] = store_bench.count_quads(ours)
    return info


# --------------------------------------------------------------------------- load generator


@dataclass
class Load:
    """What the load generator sends."""

    port: int
    path: str  # e.g. /sparql
    sparql: str | None = None  # sent as ?query=; None: ``path`` as is
    accept: str = JSON
    distinct: bool = False  # append a unique comment to every query
    concurrency: int = 1
    duration: float = 5.0
    headers: dict[str, str] = field(default_factory=dict)
    ok: tuple[int, ...] = (200,)


#: Makes distinct queries unique across runs too (our cache outlives one client run).
RUN_ID = f"{os.getpid()}-{time.time_ns()}"


def _target(load: Load, counter: Iterator[int]) -> str:
    if load.sparql is None:
        return load.path
    text = load.sparql
    if load.distinct:
        text += f"\n# request {RUN_ID}-{next(counter)}"
    return load.path + "?" + urllib.parse.urlencode({"query": text})


def client(load: Load) -> dict[str, Any]:
    """Run ``load`` in this process: requests/s, latency percentiles, errors."""
    import itertools

    counter = itertools.count()
    lock = threading.Lock()
    headers = {"Accept": load.accept, **load.headers}
    latencies: list[list[float]] = [[] for _ in range(load.concurrency)]
    errors: list[str] = []
    statuses: dict[int, int] = {}
    start_barrier = threading.Barrier(load.concurrency + 1)
    finished = [0.0] * load.concurrency
    window: dict[str, float] = {}

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", load.port, timeout=120)

        def one() -> tuple[int, float]:
            nonlocal conn
            with lock:
                target = _target(load, counter)
            t0 = time.perf_counter()
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as err:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", load.port, timeout=120)
                with lock:
                    errors.append(repr(err))
                status = -1
            return status, time.perf_counter() - t0

        one()  # warm-up: connection, and the cache in "repeated" mode (not counted)
        start_barrier.wait()
        end = window["end"]
        mine = latencies[i]
        # Closed loop: a request started within the window is counted when it ends, and
        # the run lasts until the last one ends (no cut-off artefact for slow queries).
        while time.perf_counter() < end:
            status, took = one()
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
            if status in load.ok:
                mine.append(took)
        finished[i] = time.perf_counter()
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(load.concurrency)]
    for t in threads:
        t.start()
    window["end"] = float("inf")
    # All warm-ups done: open the window.
    while start_barrier.n_waiting < load.concurrency:
        time.sleep(0.01)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    window["start"] = time.perf_counter()
    window["end"] = window["start"] + load.duration
    start_barrier.wait()
    for t in threads:
        t.join()
    elapsed = max(finished) - window["start"]
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    done = sorted(x for lat in latencies for x in lat)
    n = len(done)

    def pct(p: float) -> float | None:
        return round(done[min(n - 1, int(p * n))] * 1000, 2) if n else None

    bad = {k: v for k, v in statuses.items() if k not in load.ok}
    return {
        "requests": n,
        "window_s": round(load.duration, 3),
        "elapsed_s": round(elapsed, 3),
        "rps": round(n / elapsed, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(done[-1] * 1000, 2) if n else None,
        "mean_ms": round(sum(done) / n * 1000, 2) if n else None,
        "bad_statuses": bad,
        "errors": errors[:5],
        "client_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 2),
    }


#: wrk (C, event-driven) when installed: the Python generator below costs a core of its own
#: at about 11,000 requests/s, and on two cores it capped ``oxigraph serve``'s trivial
#: queries there (benchmarks/README.md). ``make bench`` installs wrk.
GENERATORS = ("wrk", "python")
WRK_SCRIPT = Path(__file__).with_name("wrk.lua")


def default_generator() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def run_load(load: Load, generator: str = "python") -> dict[str, Any]:
    """Run ``load`` with ``generator``: wrk, or the Python client in its own interpreter."""
    if generator == "wrk":
        return run_wrk(load)
    return run_python(load)


def run_wrk(load: Load) -> dict[str, Any]:
    """Run ``load`` with wrk (one thread, ``concurrency`` keep-alive connections): the
    same measurements as :func:`client`, from wrk's own latency histogram."""
    url = f"http://127.0.0.1:{load.port}"
    # The first request as the Python client's (distinct too); then wrk.lua adds the comments.
    _warm_up(url + _target(load, iter([0])), {"Accept": load.accept, **load.headers})
    target = _target(replace(load, distinct=False), iter(()))
    env = {
        **os.environ,
        "WRK_TARGET": target,
        "WRK_ACCEPT": load.accept,
        "WRK_DISTINCT": "1" if load.distinct and load.sparql is not None else "0",
        "WRK_RUN": RUN_ID + f"-{time.time_ns()}",
    }
    headers = [arg for k, v in load.headers.items() for arg in ("-H", f"{k}: {v}")]
    seconds = max(1, round(load.duration))  # wrk takes whole seconds
    cmd = ["wrk", "-t", "1", "-c", str(load.concurrency), "-d", f"{seconds}s"]
    cmd += ["--timeout", f"{int(load.duration) + 120}s", "-s", str(WRK_SCRIPT), *headers, url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"wrk failed:\n{done.stderr[-3000:]}")
    w = json.loads(done.stdout.strip().splitlines()[-1])
    elapsed = w["duration_us"] / 1e6
    errors = {k: w[k] for k in ("connect", "read", "write", "timeout") if w[k]}
    bad = {"not 2xx/3xx": w["status"]} if w["status"] else {}
    ok = w["requests"] - w["status"] - sum(errors.values())
    return {
        "generator": "wrk",
        "requests": ok,
        "window_s": seconds,
        "elapsed_s": round(elapsed, 3),
        "rps": round(ok / elapsed, 1),
        "p50_ms": round(w["p50_us"] / 1000, 2),
        "p90_ms": round(w["p90_us"] / 1000, 2),
        "p99_ms": round(w["p99_us"] / 1000, 2),
        "max_ms": round(w["max_us"] / 1000, 2),
        "mean_ms": round(w["mean_us"] / 1000, 2),
        "bad_statuses": bad,
        "errors": [f"{k}: {v}" for k, v in errors.items()],
        "client_cpu_s": round(
            after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2
        ),
    }


def _warm_up(url: str, headers: dict[str, str]) -> None:
    """One request first, as the Python client makes (in "repeated" mode: the cache)."""
    request = urllib.request.Request(url, headers=headers)
    with suppress(OSError), urllib.request.urlopen(request, timeout=300):
        pass


def run_python(load: Load) -> dict[str, Any]:
    """Run the load generator in its own interpreter (its GIL is not ours)."""
    cmd = [sys.executable, "-m", "benchmarks.endpoint", "--client"]
    done = subprocess.run(
        cmd,
        cwd=ROOT,
        env=store_bench.env(),
        input=json.dumps(asdict(load)),
        capture_output=True,
        text=True,
        check=False,
        timeout=load.duration + 300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr[-3000:]}")
    return {"generator": "python", **json.loads(done.stdout.strip().splitlines()[-1])}


def _client_main() -> int:
    spec = json.loads(sys.stdin.read())
    spec["headers"] = spec.get("headers") or {}
    spec["ok"] = tuple(spec.get("ok") or (200,))
    print(json.dumps(client(Load(**spec))))
    return 0


# --------------------------------------------------------------------------- the benchmark


def _health(server: Server) -> dict[str, Any]:
    with urllib.request.urlopen(server.url("/health"), timeout=30) as r:
        return json.loads(r.read())


def floor_answers(ours: Server, qs: dict[str, dict[str, str]]) -> dict[str, tuple[str, str]]:
    """Our answer to each trivial query, by its Accept: what the floor will send back."""
    answers: dict[str, tuple[str, str]] = {}
    for q in qs.values():
        if q["kind"] == "heavy":
            continue
        assert q["accept"] not in answers, "the floor tells trivial queries apart by Accept"
        url = ours.url(ours.query_path + "?" + urllib.parse.urlencode({"query": q["sparql"]}))
        req = urllib.request.Request(url, headers={"Accept": q["accept"]})
        with urllib.request.urlopen(req, timeout=120) as r:
            answers[q["accept"]] = (r.headers["Content-Type"], r.read().decode("utf-8"))
    return answers


def check_same_answers(running: dict[str, Server], qs: dict[str, dict[str, str]]) -> dict:
    """Each query's response size from both servers (a sanity check that they agree)."""
    out = {}
    for name, q in qs.items():
        sizes = {}
        for server in running.values():
            url = server.url(
                server.query_path + "?" + urllib.parse.urlencode({"query": q["sparql"]})
            )
            req = urllib.request.Request(url, headers={"Accept": q["accept"]})
            with urllib.request.urlopen(req, timeout=120) as r:
                body = r.read()
            if q["accept"] == JSON:
                data = json.loads(body)
                sizes[server.name] = (
                    data["boolean"] if "boolean" in data else len(data["results"]["bindings"])
                )
            else:
                sizes[server.name] = len([x for x in body.splitlines() if x.strip()])
        out[name] = sizes
    return out


def bench(
    running: dict[str, Server],
    qs: dict[str, dict[str, str]],
    concurrency: Sequence[int],
    duration: float,
    rounds: int,
    floor: Server | None = None,
    generator: str = "python",
) -> list[dict[str, Any]]:
    cells = []
    for name, q in qs.items():
        for mode in ("distinct", "repeated"):
            # The floor does the same (nothing) in both modes: measured once.
            with_floor = floor is not None and q["kind"] != "heavy" and mode == "distinct"
            targets = [*running.values(), *([floor] if with_floor else [])]
            for c in concurrency:
                runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in targets}
                for _ in range(rounds):
                    for server in targets:
                        load = Load(
                            port=server.port,
                            path=server.query_path,
                            sparql=q["sparql"],
                            accept=q["accept"],
                            distinct=mode == "distinct",
                            concurrency=c,
                            duration=duration * (HEAVY_FACTOR if q["kind"] == "heavy" else 1),
                        )
                        runs[server.name].append(run_load(load, generator))
                cell = {"query": name, "kind": q["kind"], "mode": mode, "concurrency": c}
                cell["loadavg_1min"] = round(os.getloadavg()[0], 2)
                cell.update(combine(runs))
                cells.append(cell)
                floor_part = f" | floor {cell['floor_ratio']}x" if with_floor else ""
                print(
                    f"  {name:20} {mode:8} c={c:<2} ours {cell['ours']['rps']:8.1f}/s "
                    f"p99 {cell['ours']['p99_ms']} ms | oxigraph {cell['oxigraph']['rps']:8.1f}/s "
                    f"p99 {cell['oxigraph']['p99_ms']} ms | {cell['rps_ratio']}x{floor_part}",
                    file=sys.stderr,
                    flush=True,
                )
    return cells


def combine(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Rounds of one server summed into one measurement; ratios ours/oxigraph."""
    out: dict[str, Any] = {}
    for name, rs in runs.items():
        requests = sum(r["requests"] for r in rs)
        window = sum(r["elapsed_s"] for r in rs)
        out[name] = {
            "rps": round(requests / window, 1),
            # the worse round's percentiles: the honest number on a noisy machine
            "p50_ms": _worst(rs, "p50_ms"),
            "p99_ms": _worst(rs, "p99_ms"),
            "rounds_rps": [r["rps"] for r in rs],
            "rounds_p99_ms": [r["p99_ms"] for r in rs],
            "bad_statuses": [r["bad_statuses"] for r in rs if r["bad_statuses"]],
            "errors": [e for r in rs for e in r["errors"]][:5],
            "client_cpu_s": round(sum(r["client_cpu_s"] for r in rs), 2),
        }
    theirs = out["oxigraph"]
    keys = (("ours", "rps_ratio", "p99_ratio"), ("floor", "floor_ratio", "floor_p99_ratio"))
    for name, rps_key, p99_key in keys:
        if name in out:
            mine = out[name]
            out[rps_key] = round(mine["rps"] / theirs["rps"], 3) if theirs["rps"] else None
            both = mine["p99_ms"] and theirs["p99_ms"]
            out[p99_key] = round(mine["p99_ms"] / theirs["p99_ms"], 3) if both else None
    out.setdefault("floor_ratio", None)
    return out


def _worst(rs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rs if r[key] is not None]
    return max(values) if values else None


def verdicts(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's targets, judged on the ``distinct`` (uncached) cells."""
    uncached = [c for c in cells if c["mode"] == "distinct"]
    heavy = [c["rps_ratio"] for c in uncached if c["kind"] == "heavy"]
    describe = [c["rps_ratio"] for c in uncached if c["kind"] == "describe"]
    top = max(c["concurrency"] for c in cells)
    p99 = [c["p99_ratio"] for c in uncached if c["concurrency"] == top and c["p99_ratio"]]
    floor = [c["floor_ratio"] for c in uncached if c.get("floor_ratio")]
    floor_p99 = [
        c["floor_p99_ratio"]
        for c in uncached
        if c["concurrency"] == top and c.get("floor_p99_ratio")
    ]
    return {
        "floor_min_ratio": min(floor, default=None),
        "floor_p99_max_ratio": max(floor_p99, default=None),
        "heavy_min_ratio": min(heavy),
        "heavy_met": min(heavy) >= TARGETS["heavy"],
        "describe_min_ratio": min(describe),
        "describe_met": min(describe) >= TARGETS["describe"],
        "p99_under_load_max_ratio": max(p99),
        "p99_concurrency": top,
        "p99_met": max(p99) <= TARGETS["p99_under_load"],
    }


def run(
    quick: bool = False,
    duration: float | None = None,
    rounds: int | None = None,
    generator: str | None = None,
) -> dict[str, Any]:
    stop_on_sigterm()
    results: dict[str, Any] = {"quick": quick, "targets": TARGETS}
    results["machine"] = store_bench.machine()
    duration = duration or (QUICK_DURATION_S if quick else DURATION_S)
    rounds = rounds or (QUICK_ROUNDS if quick else ROUNDS)
    concurrency = QUICK_CONCURRENCY if quick else CONCURRENCY
    generator = generator or default_generator()
    if generator not in GENERATORS:
        raise ValueError(f"unknown load generator {generator!r}: one of {', '.join(GENERATORS)}")
    results.update(duration_s=duration, rounds=rounds, generator=generator)
    qs = queries()
    results["queries"] = qs
    with tempfile.TemporaryDirectory(prefix="diplograph-endpoint-bench-") as tmp:
        work = Path(tmp)
        print("preparing the store ...", file=sys.stderr, flush=True)
        base_articles = store_bench.QUICK_BASE_ARTICLES if quick else store_bench.BASE_ARTICLES
        results["store"] = prepare_store(
            work, QUICK_STORE_QUADS if quick else STORE_QUADS, base_articles
        )
        with servers(work / "ours", work / "oxigraph", work) as running:
            results["answers"] = check_same_answers(running, qs)
            results["ours_allocator"] = _health(running["ours"]).get("allocator", "system")
            floor = start_floor(floor_answers(running["ours"], qs), work)
            try:
                results["cells"] = bench(
                    running, qs, concurrency, duration, rounds, floor, results["generator"]
                )
            finally:
                _stop(floor)
    results["verdicts"] = verdicts(results["cells"])
    return common.finish(results, "endpoint", quick, markdown)


def markdown(results: dict[str, Any]) -> str:
    st = results["store"]
    lines = [
        f"Store: {st['quads_in_store']:,} quads ({st['articles']:,} article graphs). "
        f"{results['rounds']} round(s) of {results['duration_s']:g} s per server and cell, "
        "interleaved; req/s over all rounds, p50/p99 of the worse round. Load generator: "
        f"{results.get('generator', 'python')}. Our query "
        f"workers' allocator: {results.get('ours_allocator', 'system')}.",
        "",
    ]
    for mode, title in (
        ("distinct", "Distinct queries (cache bypassed: every request evaluated)"),
        ("repeated", "Identical repeated queries (ours: revision cache hits; oxigraph: evaluated)"),
    ):
        lines += [
            f"### {title}",
            "",
            "| query | conc. | ours req/s | oxigraph req/s | ratio | ours p50 ms | ours p99 ms "
            "| oxigraph p50 ms | oxigraph p99 ms | p99 ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for c in results["cells"]:
            if c["mode"] != mode:
                continue
            o, t = c["ours"], c["oxigraph"]
            lines.append(
                f"| {c['query']} | {c['concurrency']} | {o['rps']:,.1f} | {t['rps']:,.1f} "
                f"| {_x(c['rps_ratio'])} | {o['p50_ms']} | {o['p99_ms']} | {t['p50_ms']} "
                f"| {t['p99_ms']} | {_x(c['p99_ratio'])} |"
            )
        lines.append("")
    lines += _floor_table(results["cells"])
    v = results["verdicts"]
    tg = results["targets"]

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines += [
        "Targets (judged on distinct, uncached queries):",
        "",
        f"- heavy queries >= {tg['heavy']}x oxigraph's throughput: {met(v['heavy_met'])} "
        f"(worst {v['heavy_min_ratio']:.2f}x)",
        f"- trivial DESCRIBE >= {tg['describe']}x: {met(v['describe_met'])} "
        f"(worst {v['describe_min_ratio']:.2f}x)",
        f"- p99 at concurrency {v['p99_concurrency']} <= {tg['p99_under_load']}x oxigraph's: "
        f"{met(v['p99_met'])} (worst {v['p99_under_load_max_ratio']:.2f}x)",
    ]
    if v.get("floor_min_ratio") is not None:
        lines.append(
            f"- the floor (no work at all) on trivial queries: worst {v['floor_min_ratio']:.2f}x "
            f"throughput, p99 at concurrency {v['p99_concurrency']} up to "
            f"{_x(v['floor_p99_max_ratio'])}"
        )
    return "\n".join(lines)


def _floor_table(cells: list[dict[str, Any]]) -> list[str]:
    """The floor beside both servers, on the cells where it ran."""
    rows = [c for c in cells if "floor" in c]
    if not rows:
        return []
    lines = [
        "### The floor: a Flask app under Granian that does no work",
        "",
        "| query | conc. | floor req/s | oxigraph req/s | floor ratio | ours ratio "
        "| floor p50 ms | floor p99 ms | floor p99 ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in rows:
        f, t = c["floor"], c["oxigraph"]
        lines.append(
            f"| {c['query']} | {c['concurrency']} | {f['rps']:,.1f} | {t['rps']:,.1f} "
            f"| {_x(c['floor_ratio'])} | {_x(c['rps_ratio'])} | {f['p50_ms']} | {f['p99_ms']} "
            f"| {_x(c['floor_p99_ratio'])} |"
        )
    return [*lines, ""]


def _x(value: float | None) -> str:
    return f"{value:.2f}x" if value is not None else "-"


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that the servers started here are stopped."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small store, short runs")
    parser.add_argument("--duration", type=float, help="seconds per server and cell")
    parser.add_argument("--rounds", type=int, help="rounds per cell (ours, theirs, ...)")
    parser.add_argument(
        "--generator", choices=GENERATORS, help="load generator (default: wrk if installed)"
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        return _client_main()
    run(args.quick, args.duration, args.rounds, args.generator)
    return 0


if __name__ == "__main__":
    sys.exit(main())
