"""The JSON API of saved queries, and its OpenAPI 3 description."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from graph.saved import SavedQuery
from server import compression
from server.errors import ProtocolError
from server.saved import catalog, etag, find, not_modified, run

bp = Blueprint("api", __name__, url_prefix="/api")

SUFFIXES = {"json": "json", "csv": "csv", "tsv": "tsv", "xml": "xml", "ttl": "turtle"}
OFFERS = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/sparql-results+xml": "xml",
    "text/turtle": "turtle",
}


@bp.route("/queries")
def list_queries() -> Response:
    return jsonify([q.as_dict() for q in catalog().all()])


@bp.route("/queries/<name>")
def query_results(name: str) -> Response:
    fmt = None
    if "." in name:
        name, suffix = name.rsplit(".", 1)
        fmt = SUFFIXES.get(suffix)
        if fmt is None:
            raise ProtocolError(404, f"Unknown suffix .{suffix}; use .json, .csv, .tsv or .xml.")
    query = find(name)
    if fmt is None:
        raw = request.headers.get("Accept")
        match = request.accept_mimetypes.best_match(list(OFFERS)) if raw else None
        if raw and match is None:
            raise ProtocolError(406, "Results come as " + ", ".join(OFFERS) + ".")
        fmt = OFFERS[match] if match else "json"
    values = dict(request.args.items())
    # Gzipped and plain bodies are different representations: different validators.
    tag = etag(name, sorted(values.items()), fmt, compression.wants_gzip())
    if not_modified(tag):
        return _cache_headers(Response(status=304), tag)
    solution = None if fmt == "turtle" else fmt
    answer = run(query, values, solution, "turtle")
    response = compression.respond(answer)
    if fmt in ("csv", "tsv"):
        response.headers["Content-Disposition"] = f'inline; filename="{name}.{fmt}"'
    if answer.truncated_at is not None:
        response.headers["X-SPARQL-MaxRows"] = str(answer.truncated_at)
    return _cache_headers(response, tag)


def _cache_headers(response: Response, tag: str) -> Response:
    """Fresh until the graph changes: clients revalidate with the ETag (a 304 is cheap)."""
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "public, no-cache"
    return response


SCHEMAS = {
    "country": {"type": "string", "description": "ISO 3166-1 alpha-3 code or country IRI"},
    "organization": {"type": "string", "description": "organization id or IRI"},
    "place": {"type": "string", "description": "GeoNames id or place IRI"},
    "article": {"type": "string", "description": "article key (16 hex digits) or IRI"},
    "iri": {"type": "string", "format": "uri"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "year": {"type": "string", "pattern": "^-?[0-9]{4}$"},
    "date": {"type": "string", "format": "date"},
}


def _operation(q: SavedQuery) -> dict:
    params = [
        {
            "name": "name",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": [q.name]},
        },
    ] + [
        {
            "name": p.name,
            "in": "query",
            "required": p.required and p.default is None,
            "description": p.description or p.label or p.name,
            "schema": {**SCHEMAS[p.type], **({"default": p.default} if p.default else {})},
        }
        for p in q.params
    ]
    results = {"schema": {"type": "object"}}
    return {
        "operationId": q.name.replace("-", "_"),
        "summary": q.title,
        "description": q.description,
        "tags": list(q.tags) or ["queries"],
        "parameters": params,
        "responses": {
            "200": {
                "description": "The results",
                "content": {
                    "application/sparql-results+json": results,
                    "text/csv": {"schema": {"type": "string"}},
                    "text/tab-separated-values": {"schema": {"type": "string"}},
                },
            },
            "304": {"description": "Not modified since the ETag given"},
            "400": {
                "description": "A parameter is missing or not valid",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "503": {"description": "The query ran past the time limit"},
        },
    }


@bp.route("/openapi.json")
def openapi() -> Response:
    """An OpenAPI 3.1 document describing every saved query and its parameters."""
    paths: dict[str, dict] = {
        "/api/queries": {
            "get": {
                "operationId": "list_queries",
                "summary": "The saved queries and their parameters",
                "responses": {
                    "200": {
                        "description": "A list of saved queries",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"type": "object"}}
                            }
                        },
                    }
                },
            }
        }
    }
    for q in catalog().all():
        # One path per query so that each has its own parameters.
        paths[f"/api/queries/{q.name}"] = {"get": _operation(q)}
        op = _operation(q)
        op["parameters"] = op["parameters"][1:]
        paths[f"/api/queries/{q.name}"] = {"get": op}
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "diplograph saved queries",
            "version": "1",
            "description": "Named, documented SPARQL queries over the diplograph knowledge "
            "graph. The SPARQL 1.1 endpoint itself is at /sparql.",
        },
        "servers": [{"url": request.host_url.rstrip("/")}],
        "paths": paths,
    }
    return jsonify(doc)
