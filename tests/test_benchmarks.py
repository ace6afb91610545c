"""The endpoint benchmark's parts: the floor must send what the real server sent and be
judged against the reference like ours is; wrk must send what the benchmark asks for and
report what it measured."""

from __future__ import annotations

import dataclasses
import http.server
import os
import shutil
import threading
import time
import urllib.parse
from collections.abc import Iterator

import pytest

from benchmarks import common, endpoint
from benchmarks.floor import create_app

ANSWERS = {
    "application/n-triples": ("application/n-triples; charset=utf-8", "<a> <b> <c> .\n"),
    "application/sparql-results+json": ("application/sparql-results+json", '{"boolean":true}'),
}


def test_floor_sends_the_answer_stored_for_the_accept_header() -> None:
    client = create_app(ANSWERS).test_client()
    for accept, (kind, body) in ANSWERS.items():
        response = client.get("/sparql?query=ASK%7B%7D", headers={"Accept": accept})
        assert response.status_code == 200
        assert response.headers["Content-Type"] == kind
        assert response.get_data(as_text=True) == body
    # a probe without Accept still gets an answer (the benchmark waits for a 200)
    assert create_app(ANSWERS).test_client().get("/sparql").status_code == 200


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU: nothing to pin apart")
def test_the_floor_is_served_as_ours_one_process_per_core(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DIPLOGRAPH_HTTP_WORKERS", "2")
    server = endpoint.start_floor(ANSWERS, tmp_path)
    try:
        deadline = time.monotonic() + 30  # the second process may still be starting
        while True:
            cores = sorted(filter(None, map(_cores, common.descendants(server.process.pid))))
            if _pinned_apart(cores) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert _pinned_apart(cores), cores
    finally:
        endpoint._stop(server)


def _pinned_apart(cores: list[tuple[int, ...]]) -> bool:
    """Two processes, each kept to one core, not the same one (a process that has not yet
    pinned itself still has both)."""
    return len(cores) == 2 and all(len(c) == 1 for c in cores) and cores[0] != cores[1]


def _cores(pid: int) -> tuple[int, ...]:
    """The CPUs a Granian worker process may use (multiprocessing's resource tracker is
    no worker: left out)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            worker = b"spawn_main" in f.read()
        return tuple(sorted(os.sched_getaffinity(pid))) if worker else ()
    except OSError:  # it ended meanwhile
        return ()


def _run(rps: float, p99: float) -> dict:
    return {
        "requests": int(rps * 10),
        "elapsed_s": 10.0,
        "rps": rps,
        "p50_ms": p99 / 2,
        "p99_ms": p99,
        "bad_statuses": {},
        "errors": [],
        "client_cpu_s": 1.0,
    }


def test_the_floor_is_judged_against_oxigraph_like_ours() -> None:
    cell = endpoint.combine(
        {
            "ours": [_run(1000, 4.0)],
            "oxigraph": [_run(4000, 2.0)],
            "floor": [_run(3000, 3.0)],
        }
    )
    assert cell["rps_ratio"] == 0.25 and cell["p99_ratio"] == 2.0
    assert cell["floor_ratio"] == 0.75 and cell["floor_p99_ratio"] == 1.5
    without = endpoint.combine({"ours": [_run(1000, 4.0)], "oxigraph": [_run(4000, 2.0)]})
    assert without["floor_ratio"] is None and "floor_p99_ratio" not in without


@pytest.fixture
def recorder() -> Iterator[tuple[int, list[tuple[str, str]], dict[str, int]]]:
    """A small HTTP server that records each request's target and Accept header and
    answers with the status in ``status["code"]``."""
    seen: list[tuple[str, str]] = []
    status = {"code": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects

        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Accept", "")))
            body = b"<a> <b> <c> .\n"
            self.send_response(status["code"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen, status
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make bench does)")
def test_wrk_sends_distinct_queries_and_reports_what_it_measured(recorder) -> None:
    port, seen, status = recorder
    sparql = "DESCRIBE <http://example.org/x>"
    load = endpoint.Load(port, "/sparql", sparql, "application/n-triples", True, 2, 1.0)
    result = endpoint.run_wrk(load)
    assert result["generator"] == "wrk"
    assert result["requests"] > 10 and not result["bad_statuses"] and not result["errors"]
    assert result["rps"] == pytest.approx(result["requests"] / result["elapsed_s"], rel=0.01)
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    # every request was the query with a comment of its own, with the Accept asked for
    queries = [urllib.parse.parse_qs(urllib.parse.urlsplit(p).query)["query"][0] for p, _ in seen]
    assert all(q.startswith(sparql + "\n# request ") for q in queries)
    assert len(set(queries)) == len(queries) >= result["requests"]
    assert {accept for _, accept in seen} == {"application/n-triples"}

    status["code"] = 500
    failed = endpoint.run_wrk(dataclasses.replace(load, distinct=False))
    assert failed["requests"] == 0 and failed["bad_statuses"]["not 2xx/3xx"] > 0
