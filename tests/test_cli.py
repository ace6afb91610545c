"""The diplograph command as a user runs it: real processes, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib

from .conftest import CORPUS_DIR, GOLD_DIR, ROOT, source_articles

GOOD = (
    "Chile joins the OECD\n\nChile joined the Organisation for Economic Co-operation and "
    "Development in May 2010, becoming the first South American member.\n"
)


def diplograph(*args: str, seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "diplograph.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture(scope="module")
def trig() -> str:
    result = diplograph("extract", str(CORPUS_DIR), "--format", "trig")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_trig_keeps_one_named_graph_per_article(trig: str) -> None:
    ds = rdflib.Dataset()
    ds.parse(data=trig, format="trig")
    graphs = {str(g.identifier) for g in ds.graphs()}
    articles = [g for g in graphs if "/graph/article/" in g]
    assert len(articles) == len(list(CORPUS_DIR.iterdir()))
    assert "http://127.0.0.1:5000/graph/entities" in graphs


@pytest.mark.parametrize(
    ("fmt", "parser"),
    [
        ("turtle", "turtle"),
        ("nquads", "nquads"),
        ("ntriples", "nt"),
        ("jsonld", "json-ld"),
        ("rdfxml", "xml"),
    ],
)
def test_every_format_parses(tmp_path: Path, fmt: str, parser: str) -> None:
    out = tmp_path / f"facts.{fmt}"
    result = diplograph("extract", str(source_articles()[1]), "--format", fmt, "-o", str(out))
    assert result.returncode == 0, result.stderr
    graph = rdflib.Dataset() if parser in {"nquads", "json-ld"} else rdflib.Graph()
    graph.parse(out, format=parser)
    query = "ASK { ?m <http://www.w3.org/ns/org#member> ?c }"
    if isinstance(graph, rdflib.Dataset):
        query = "ASK { GRAPH ?g { ?m <http://www.w3.org/ns/org#member> ?c } }"
    assert graph.query(query).askAnswer


def test_turtle_is_readable(tmp_path: Path) -> None:
    result = diplograph("extract", str(source_articles()[0]))
    assert result.stdout.startswith("@prefix")
    assert "org:member" in result.stdout and "schema:startDate" in result.stdout


def test_bad_files_are_reported_and_the_rest_processed(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "empty.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG")
    (tmp_path / "latin1.txt").write_bytes("Chile joined the OECD in M\xe9xico.".encode("latin-1"))
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    missing = tmp_path / "missing.txt"
    result = diplograph(
        "extract", str(tmp_path), str(tmp_path / "report.pdf"), str(missing), "--format", "nquads"
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 5, result.stderr  # one line per bad input
    for name, reason in [
        ("empty.txt", "empty"),
        ("binary.txt", "binary"),
        ("latin1.txt", "UTF-8"),
        ("report.pdf", "unsupported"),
    ]:
        assert any(name in line and reason in line for line in lines), (name, lines)
    assert "missing.txt" in result.stderr
    assert "/organization/oecd>" in result.stdout and "/country/chl>" in result.stdout


def test_output_is_the_same_in_every_process_and_with_jobs() -> None:
    one = diplograph("extract", str(CORPUS_DIR), "--format", "nquads", seed="1")
    two = diplograph("extract", str(CORPUS_DIR), "--format", "nquads", "--jobs", "2", seed="2")
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout and one.stdout


def test_evaluate_prints_precision_and_recall() -> None:
    paths = [str(p) for p in source_articles()]
    result = diplograph("evaluate", "--gold", str(GOLD_DIR / "source"), *paths)
    assert result.returncode == 0, result.stderr
    assert "memberships  precision 1.000  recall 1.000" in result.stdout
    assert "events" in result.stdout


def test_evaluate_reports_a_missing_gold_directory(tmp_path: Path) -> None:
    result = diplograph("evaluate", "--gold", str(tmp_path / "nope"), str(CORPUS_DIR))
    assert result.returncode == 2 and "nope" in result.stderr


def test_run_builds_the_store_and_prints_the_facts(tmp_path: Path) -> None:
    result = diplograph("run", "--no-serve", "--store", str(tmp_path / "store"))
    assert result.returncode == 0, result.stderr
    assert "membership  Kazakhstan | chair | Organization for Security" in result.stdout
    assert "event       Summit" in result.stdout
    assert "articles read: 10, written: 10" in result.stderr
