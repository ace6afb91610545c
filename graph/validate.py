"""SHACL validation of an article's quads before they are written.

Ingest uses rudof's SPARQL-based SHACL engine (pyrudof): about 10 ms per article, where
pyshacl takes about 400 ms (benchmarks/README.md). The test suite checks that both engines
report the same violations on valid and broken data: pyshacl remains the reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyrudof
from pyoxigraph import Quad, RdfFormat, Triple, serialize

from diplograph.config import DEFAULT_BASE, ONTOLOGY_DIR


class ShapesError(ValueError):
    """The shapes cannot be read as SHACL."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: which node, which property, what the shape says."""

    focus: str
    path: str | None
    message: str

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"<{self.focus}>{where}: {self.message}"


def shapes_text(base: str) -> str:
    """ontology/shapes.ttl with the deployment's base IRI."""
    text = (ONTOLOGY_DIR / "shapes.ttl").read_text(encoding="utf-8")
    return text.replace(DEFAULT_BASE, base) if base != DEFAULT_BASE else text


def _message(raw: str | None) -> str:
    """rudof joins its own wording and the shape's sh:message; keep the shape's."""
    if not raw:
        return "violates a shape"
    parts = [p.strip().strip('"') for p in raw.split('", "')]
    ours = [p for p in parts if p.endswith("@en") or p.endswith('"@en')]
    text = (ours or parts)[-1]
    return text.removesuffix('"@en').removesuffix("@en").strip('"')


class Validator:
    """Validates quads (as one union graph) against the project's shapes."""

    def __init__(
        self, base: str = DEFAULT_BASE, shapes: str | Path | None = None, *, text: str = ""
    ) -> None:
        """Shapes from ``text``, else the file ``shapes``, else ontology/shapes.ttl."""
        if not text:
            text = Path(shapes).read_text("utf-8") if shapes else shapes_text(base)
        #: the shapes graph, as Turtle
        self.text = text
        self._rudof: pyrudof.Rudof | None = None

    def _session(self) -> pyrudof.Rudof:
        # One session per validator: parsing the shapes once saves most of the time.
        if self._rudof is None:
            rudof = pyrudof.Rudof(pyrudof.RudofConfig())
            try:
                rudof.read_shacl(self.text)
            except pyrudof.RudofError as err:
                raise ShapesError(f"not valid SHACL shapes: {err}") from err
            self._rudof = rudof
        return self._rudof

    def load(self) -> Validator:
        """Read the shapes now, so that bad ones fail before any work (ShapesError)."""
        self._session()
        return self

    def check(self, quads: Iterable[Quad]) -> list[Violation]:
        """The violations in ``quads``; empty when they conform."""
        triples = {Triple(q.subject, q.predicate, q.object) for q in quads}
        data = (serialize(triples, format=RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        rudof = self._session()
        rudof.reset_data()
        rudof.read_data(data, format=pyrudof.RDFFormat.NTriples)
        report = rudof.validate_shacl(mode=pyrudof.ShaclValidationMode.Sparql)
        found = {
            Violation(str(v.focus_node), str(v.path) if v.path else None, _message(v.message))
            for v in report
        }
        return sorted(found, key=lambda v: (v.focus, v.path or "", v.message))
