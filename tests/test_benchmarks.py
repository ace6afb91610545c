"""The endpoint benchmark's floor: it must send what the real server sent, and be judged
against the reference like ours is."""

from __future__ import annotations

from benchmarks import endpoint
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
