"""The SPARQL 1.1 Graph Store HTTP Protocol: /store?graph=IRI or /store?default."""

from __future__ import annotations

from flask import Blueprint, Response, request

from server.auth import require_write
from server.backend import QuerySpec, UpdateError
from server.errors import ProtocolError
from server.negotiation import GRAPH_TYPES
from server.pool import PoolBusy, QueryTimeout
from server.sparql import backend

bp = Blueprint("gsp", __name__)

UPLOAD_TYPES = {
    "text/turtle": "TURTLE",
    "application/x-turtle": "TURTLE",
    "application/n-triples": "N_TRIPLES",
    "text/plain": "N_TRIPLES",
    "application/rdf+xml": "RDF_XML",
    "application/ld+json": "JSON_LD",
    "text/n3": "N3",
}


def _target() -> str | None:
    """The graph IRI, or None for the default graph."""
    graph, default = request.args.getlist("graph"), "default" in request.args
    unknown = set(request.args) - {"graph", "default"}
    if unknown:
        raise ProtocolError(
            400, f"Unknown parameter(s): {', '.join(sorted(unknown))}; use ?graph=IRI or ?default."
        )
    if default == bool(graph) or len(graph) > 1:
        raise ProtocolError(400, "Give exactly one of ?graph=IRI or ?default.")
    if graph:
        iri = graph[0]
        if not iri.startswith(("http://", "https://", "urn:", "file:")):
            raise ProtocolError(400, f"The graph name {iri!r} is not an absolute IRI.")
        if any(c in iri for c in '<>"{}|^`\\ '):
            raise ProtocolError(
                400, f"The graph name {iri!r} contains characters not allowed in an IRI."
            )
        return iri
    return None


@bp.route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def store() -> Response:
    graph = _target()
    b = backend()
    if request.method in ("GET", "HEAD"):
        if not b.graph_exists(graph):
            raise ProtocolError(404, f"There is no graph <{graph}> in the store.")
        offers = {k: v for k, v in GRAPH_TYPES.items() if v != "html"}
        raw = request.headers.get("Accept")
        match = request.accept_mimetypes.best_match(list(offers)) if raw else "text/turtle"
        if match is None:
            raise ProtocolError(406, "Graphs are available as " + ", ".join(offers) + ".")
        pattern = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
        spec = QuerySpec(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}", None, offers[match])
        try:
            answer = b.query(spec)
        except (QueryTimeout, PoolBusy) as err:
            raise ProtocolError(503, str(err)) from err
        if answer.status != 200:
            raise ProtocolError(answer.status, answer.body.decode("utf-8", "replace"))
        body = b"" if request.method == "HEAD" else answer.body
        response = Response(body, content_type=answer.media_type)
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(answer.body))
        return response
    require_write()
    if request.method == "DELETE":
        if not b.delete_graph(graph):
            raise ProtocolError(404, f"There is no graph <{graph}> in the store.")
        return Response(status=204)
    media = (request.mimetype or "").lower()
    if media not in UPLOAD_TYPES:
        raise ProtocolError(
            415,
            f"Unsupported Content-Type {request.content_type or '(none)'!r}; "
            f"send one of {', '.join(UPLOAD_TYPES)}.",
        )
    from pyoxigraph import RdfFormat

    fmt = getattr(RdfFormat, UPLOAD_TYPES[media])
    try:
        created = b.put_graph(graph, request.get_data(), fmt, replace=request.method == "PUT")
    except UpdateError as err:
        raise ProtocolError(err.status, str(err)) from err
    return Response(status=201 if created else 204)
