"""The fast validator used by ingest agrees with pyshacl, the reference."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from extract.pipeline import extract
from extract.rdf import NIF, Vocabulary, to_quads
from extract.reader import read_file
from graph.validate import Validator

from .conftest import BASE, CORPUS_DIR, ROOT


def test_both_engines_accept_the_corpus(shacl) -> None:
    v = Vocabulary(BASE)
    quads = []
    for path in sorted(CORPUS_DIR.iterdir()):
        article = read_file(path)
        quads += to_quads(article, extract(article), v)
    assert Validator(BASE).check(quads) == []
    assert shacl(quads) == []


def _broken() -> list[Quad]:
    good = list(parse(path=ROOT / "tests" / "data" / "example.trig", format=RdfFormat.TRIG))
    out = []
    for q in good:
        if q.predicate.value == NIF + "beginIndex":  # an offset that is not an integer
            q = Quad(q.subject, q.predicate, Literal("seven"), q.graph_name)
        out.append(q)
    return out


@pytest.mark.parametrize("name", ["example-invalid", "broken-offsets"])
def test_both_engines_reject_the_same_nodes(shacl, name: str) -> None:
    if name == "broken-offsets":
        quads = _broken()
    else:
        quads = list(parse(path=ROOT / "tests" / "data" / f"{name}.trig", format=RdfFormat.TRIG))
    fast = {v.focus for v in Validator(BASE).check(quads)}
    reference = {m.split(": ", 1)[0] for m in shacl(quads)}
    assert fast and fast == reference


def test_violations_name_the_node_the_property_and_the_rule() -> None:
    quads = list(
        parse(path=ROOT / "tests" / "data" / "example-invalid.trig", format=RdfFormat.TRIG)
    )
    messages = [str(v) for v in Validator(BASE).check(quads)]
    assert any(
        "/id/membership/" in m and "org#organization" in m and "exactly one org:organization" in m
        for m in messages
    )
    assert NamedNode(BASE + "id/place/1526384").value in " ".join(messages)
