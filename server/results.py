"""Serialize SPARQL results with limits on rows and bytes.

SELECT and ASK results are written here, row by row, in the four W3C result formats, so
that a row cap can stop at the cap and say so; graph results (CONSTRUCT, DESCRIBE) use
pyoxigraph's serializers through a writer that stops at the byte cap. Either way the
caller gets the whole body or an error, never a truncated 200.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from pyoxigraph import BlankNode, Literal, NamedNode, QueryTriples, RdfFormat, serialize

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

#: name -> (media type sent, pyoxigraph format or None for our own writers)
SOLUTION_FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}
GRAPH_FORMATS = {
    "turtle": ("text/turtle; charset=utf-8", RdfFormat.TURTLE),
    "ntriples": ("application/n-triples; charset=utf-8", RdfFormat.N_TRIPLES),
    "jsonld": ("application/ld+json", RdfFormat.JSON_LD),
    "rdfxml": ("application/rdf+xml", RdfFormat.RDF_XML),
    "trig": ("application/trig; charset=utf-8", RdfFormat.TRIG),
    "nquads": ("application/n-quads; charset=utf-8", RdfFormat.N_QUADS),
}


#: Graph formats written with the server's prefixes (only pyoxigraph's module serializer
#: takes them).
_WITH_PREFIXES = frozenset({"turtle", "trig", "rdfxml"})


class TooLarge(Exception):
    """The response would be larger than the configured cap."""


def _refuse_over(size: int, limit: int) -> None:
    """Raise :class:`TooLarge` if ``size`` bytes pass ``limit``."""
    if size > limit:
        raise TooLarge(f"the response is larger than {limit:,} bytes")


@dataclass
class Body:
    """A finished response body and whether the row cap cut it."""

    data: bytes
    media_type: str
    truncated_at: int | None = None


class CappedWriter(io.RawIOBase):
    """A byte sink that refuses to grow past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buffer = io.BytesIO()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        _refuse_over(self.buffer.tell() + len(b), self.limit)
        return self.buffer.write(b)


def _json_term(term: object) -> dict[str, str]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "literal", "value": str(term)}


def _xml_term(term: object) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            attr = quoteattr(term.datatype.value)
            return f"<literal datatype={attr}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


def _csv_value(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return getattr(term, "value", str(term))


def _tsv_value(term: object) -> str:
    if term is None:
        return ""
    text = str(term)  # N-Triples syntax, as the TSV results format requires
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def solutions(
    variables: list[str], rows: Iterable[object], fmt: str, max_rows: int, max_bytes: int
) -> Body:
    """Write SELECT results; stop after ``max_rows`` rows and report it."""
    out = CappedWriter(max_bytes)
    truncated: int | None = None
    count = 0

    def limited() -> Iterable[object]:
        nonlocal truncated, count
        for row in rows:
            if count >= max_rows:
                truncated = max_rows
                return
            count += 1
            yield row

    if fmt == "json":
        head = json.dumps({"head": {"vars": variables}})[:-1]
        out.write(f'{head}, "results": {{"bindings": ['.encode())
        first = True
        for row in limited():
            binding = {v: _json_term(row[v]) for v in variables if row[v] is not None}  # type: ignore[index]
            out.write((b"" if first else b",\n") + json.dumps(binding).encode())
            first = False
        out.write(b"]}}\n")
    elif fmt == "xml":
        out.write(b'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">')
        out.write(
            (
                "<head>"
                + "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
                + "</head>"
            ).encode()
        )
        out.write(b"<results>")
        for row in limited():
            cells = "".join(
                f"<binding name={quoteattr(v)}>{_xml_term(row[v])}</binding>"  # type: ignore[index]
                for v in variables
                if row[v] is not None  # type: ignore[index]
            )
            out.write(f"<result>{cells}</result>\n".encode())
        out.write(b"</results></sparql>\n")
    elif fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(variables)
        out.write(text.getvalue().encode())
        for row in limited():
            text = io.StringIO()
            csv.writer(text, lineterminator="\r\n").writerow(
                [_csv_value(row[v]) for v in variables]  # type: ignore[index]
            )
            out.write(text.getvalue().encode())
    elif fmt == "tsv":
        out.write(("\t".join(f"?{v}" for v in variables) + "\n").encode())
        for row in limited():
            out.write(("\t".join(_tsv_value(row[v]) for v in variables) + "\n").encode())  # type: ignore[index]
    else:
        raise ValueError(f"unknown results format {fmt!r}")
    return Body(out.buffer.getvalue(), SOLUTION_FORMATS[fmt], truncated)


def boolean(value: bool, fmt: str) -> Body:
    """Write an ASK result."""
    word = "true" if value else "false"
    data = {
        "json": json.dumps({"head": {}, "boolean": value}) + "\n",
        "xml": '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
        f"<head/><boolean>{word}</boolean></sparql>\n",
        "csv": f"_askResult\r\n{word}\r\n",
        "tsv": f"?_askResult\n{word}\n",
    }[fmt]
    return Body(data.encode(), SOLUTION_FORMATS[fmt])


def graph(
    triples: QueryTriples, fmt: str, max_bytes: int, prefixes: dict[str, str], bounded: bool = False
) -> Body:
    """Write CONSTRUCT / DESCRIBE results with pyoxigraph's serializers.

    ``bounded``: the answer is bounded by the data about a few resources (a lookup,
    server/lookup.py), so it is serialized in one piece and measured afterwards. Written
    through a Python writer instead, pyoxigraph calls back into Python for the bytes and
    must take the GIL again to do so, which under load is a wait behind the other HTTP
    threads (a DESCRIBE in process: 90 -> 82 us on one thread, benchmarks/README.md).
    """
    media_type, rdf_format = GRAPH_FORMATS[fmt]
    if bounded and fmt not in _WITH_PREFIXES:
        data = triples.serialize(format=rdf_format)
        _refuse_over(len(data), max_bytes)
        return Body(data, media_type)
    out = CappedWriter(max_bytes)
    if fmt in _WITH_PREFIXES:
        # Only the module's serializer takes prefixes; it iterates the triples from Python.
        serialize(triples, out, format=rdf_format, prefixes=prefixes)  # type: ignore[arg-type]
    else:
        # The whole answer in one call. Iterated from Python, pyoxigraph releases and
        # retakes the GIL for every triple, and with requests on several HTTP threads
        # each release hands the GIL to another thread: one call answers 18-20% more
        # DESCRIBEs per second at 4 and 16 clients (benchmarks/README.md).
        triples.serialize(out, format=rdf_format)
    return Body(out.buffer.getvalue(), media_type)
