"""Write quads in the RDF formats users ask for, readable and deterministic."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from pyoxigraph import Quad, RdfFormat, Triple, serialize

from extract.facts import Facts
from extract.rdf import PREFIXES
from extract.reader import Article

FORMATS = {
    "turtle": RdfFormat.TURTLE,
    "trig": RdfFormat.TRIG,
    "nquads": RdfFormat.N_QUADS,
    "ntriples": RdfFormat.N_TRIPLES,
    "jsonld": RdfFormat.JSON_LD,
    "rdfxml": RdfFormat.RDF_XML,
}
#: Formats that keep named graphs.
QUAD_FORMATS = {"trig", "nquads", "jsonld"}


def _sort_key(q: Quad) -> tuple[str, str, str, str]:
    return (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))


#: Formats whose documents can be concatenated (one piece per article).
STREAMABLE = {"turtle", "trig", "nquads", "ntriples"}


def render(
    quads: Iterable[Quad],
    fmt: str,
    prefixes: dict[str, str] | None = None,
    keep_prefixes: bool = True,
) -> bytes:
    """Serialize ``quads``: sorted by graph and subject, duplicates removed.

    With ``keep_prefixes=False`` the @prefix lines are left out, so that a piece can follow
    an earlier piece that declared them.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    unique = sorted(set(quads), key=_sort_key)
    items: list[Quad] | list[Triple]
    if fmt in QUAD_FORMATS:
        items = unique
    else:
        seen: dict[Triple, None] = {}
        for q in unique:
            seen.setdefault(Triple(q.subject, q.predicate, q.object))
        items = sorted(seen, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    kwargs = {}
    if fmt in {"turtle", "trig", "rdfxml"}:
        kwargs["prefixes"] = prefixes or PREFIXES
    out = serialize(items, format=FORMATS[fmt], **kwargs) or b""
    if not keep_prefixes and fmt in {"turtle", "trig"}:
        out = b"".join(
            line for line in out.splitlines(keepends=True) if not line.startswith(b"@prefix ")
        )
    return out


def write_quads(quads: Iterable[Quad], fmt: str, output: str | None) -> None:
    """Write to ``output`` or standard output."""
    data = render(quads, fmt)
    if output in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(output).write_bytes(data)


def render_article(article: Article, facts: Facts, fmt: str, base: str) -> bytes:
    """One article's own graph in a streamable format, without @prefix lines.

    Run in extraction workers; the caller declares the prefixes once and adds the entity
    descriptions it has not written yet.
    """
    from extract.rdf import Vocabulary, article_quads

    return render(article_quads(article, facts, Vocabulary(base)), fmt, keep_prefixes=False)
