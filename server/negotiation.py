"""Content negotiation for SPARQL results (Accept with q-values, or ?format=)."""

from __future__ import annotations

import functools

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

#: media type -> result format name, in order of preference for */*.
SOLUTION_TYPES = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/html": "html",
}
GRAPH_TYPES = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "ntriples",
    "text/plain": "ntriples",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/xml": "rdfxml",
    "application/trig": "trig",
    "application/n-quads": "nquads",
    "text/html": "html",
}
#: ?format= / ?output= values (as Fuseki and Virtuoso accept them)
FORMAT_NAMES = {
    "json": ("json", "jsonld"),
    "xml": ("xml", "rdfxml"),
    "csv": ("csv", None),
    "tsv": ("tsv", None),
    "html": ("html", "html"),
    "turtle": (None, "turtle"),
    "ttl": (None, "turtle"),
    "n3": (None, "turtle"),
    "ntriples": (None, "ntriples"),
    "nt": (None, "ntriples"),
    "jsonld": (None, "jsonld"),
    "json-ld": (None, "jsonld"),
    "rdfxml": (None, "rdfxml"),
    "rdf": (None, "rdfxml"),
    "trig": (None, "trig"),
    "nquads": (None, "nquads"),
    "nq": (None, "nquads"),
}


class NotAcceptable(Exception):
    """Nothing the client accepts can be produced."""


def _best(accept: MIMEAccept, offers: dict[str, str]) -> str | None:
    match = accept.best_match(list(offers))
    return offers[match] if match else None


def negotiate(raw: str | None, forced: str | None) -> tuple[str | None, str | None]:
    """(solution format, graph format) for a query's Accept header ``raw`` or its
    ``?format=`` (``forced``); at least one of them is set.

    No Accept header, or ``*/*``, gives JSON for SELECT/ASK and Turtle for graphs.
    """
    if forced:
        names = FORMAT_NAMES.get(forced.lower())
        if names is None and "/" in forced:  # a media type (list), as SPARQLWrapper sends
            return negotiate(forced, None)
        if names is None:
            raise NotAcceptable(
                f"unknown format {forced!r}; use one of {', '.join(sorted(FORMAT_NAMES))}"
            )
        return names
    if not raw or not raw.strip():
        return "json", "turtle"
    return _by_accept(raw)


@functools.lru_cache(maxsize=512)
def _by_accept(raw: str) -> tuple[str | None, str | None]:
    """The formats for one Accept header; clients send the same few headers again and
    again, and matching them against every offer costs more than the rest of a cached
    answer."""
    accept = parse_accept_header(raw, MIMEAccept)
    solution, graph = _best(accept, SOLUTION_TYPES), _best(accept, GRAPH_TYPES)
    if solution is None and graph is None:
        raise NotAcceptable(
            f"cannot produce any of {raw[:200]!r}; SELECT/ASK results come as "
            "application/sparql-results+json, application/sparql-results+xml, text/csv, "
            "text/tab-separated-values or text/html; graphs as text/turtle, "
            "application/n-triples, application/ld+json, application/rdf+xml, application/trig "
            "or application/n-quads"
        )
    # A browser's "text/html,...;q=0.9,*/*;q=0.8" wants the page for both kinds.
    return solution, graph
