"""Shared fixtures: paths, the extractor, SHACL validation of extracted RDF."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
import rdflib
from pyoxigraph import Quad, RdfFormat, serialize
from pyshacl import validate

from extract.reader import Article, read_file, read_text

ROOT = Path(__file__).resolve().parent.parent
#: The two articles the project started from; never copied into the repository.
SOURCE_DIR = ROOT.parent / "shared" / "corpus"
CORPUS_DIR = ROOT / "corpus"
GOLD_DIR = ROOT / "tests" / "gold"
HELDOUT_DIR = ROOT / "tests" / "heldout"
BASE = "http://127.0.0.1:5000/"


def source_articles() -> list[Path]:
    """The source articles; their absence is an error, not a reason to skip."""
    paths = sorted(SOURCE_DIR.glob("*.txt"))
    if not paths:
        pytest.fail(f"the source articles are missing from {SOURCE_DIR}")
    return paths


@pytest.fixture(scope="session")
def shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(ROOT / "ontology" / "shapes.ttl")


@pytest.fixture(scope="session")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ROOT / "ontology" / "diplograph.ttl")


def to_rdflib(quads: list[Quad]) -> rdflib.Graph:
    """The union of the quads' graphs as one rdflib graph (what SPARQL clients see)."""
    data = serialize(quads, format=RdfFormat.N_QUADS) or b""
    dataset = rdflib.Dataset()
    dataset.parse(data=data.decode("utf-8"), format="nquads")
    union = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    return union


@pytest.fixture(scope="session")
def shacl(shapes: rdflib.Graph, ontology: rdflib.Graph):
    """A function: quads -> list of violation messages (empty when valid)."""

    def check(quads: list[Quad]) -> list[str]:
        data = to_rdflib(quads)
        _, report, _ = validate(
            data, shacl_graph=shapes, ont_graph=ontology, advanced=True, allow_warnings=True
        )
        sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
        return [
            f"{report.value(r, sh.focusNode)}: {report.value(r, sh.resultMessage)}"
            # Only top-level results: sh:or nests the details of a failure in sh:detail.
            for r in report.objects(None, sh.result)
        ]

    return check


def free_port() -> int:
    """A TCP port nobody listens on now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen | None, timeout: float = 10) -> None:
    """Terminate a server a test started; kill it if it does not stop in time."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def article():
    """A function: text -> Article, for rule tests on single sentences."""

    def make(text: str) -> Article:
        return read_text(text, "file:///test/sentence.txt")

    return make


__all__ = ["read_file"]
