"""Dereferenceable linked-data pages: every /id/... IRI answers with its description."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from server.backend import QuerySpec
from server.dashboard import link, readable
from server.errors import ProtocolError
from server.negotiation import GRAPH_TYPES
from server.saved import backend, rows

bp = Blueprint("resources", __name__)

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
OFFERS = {"text/html": "html", **{k: v for k, v in GRAPH_TYPES.items() if v != "html"}}


def _select(sparql: str) -> list[dict]:
    answer = backend().query(QuerySpec(sparql, "json", None))
    if answer.status != 200:
        raise ProtocolError(answer.status, answer.body.decode("utf-8", "replace"))
    return rows(answer)[1]


@bp.route("/id/<path:rest>")
def resource(rest: str) -> Response:
    iri = backend().store.v.base + "id/" + rest
    if any(c in iri for c in '<>"{}|^`\\ '):
        raise ProtocolError(400, "That is not a valid resource path.")
    raw = request.headers.get("Accept")
    match = request.accept_mimetypes.best_match(list(OFFERS)) if raw else "text/html"
    if match is None:
        raise ProtocolError(406, "Descriptions come as " + ", ".join(OFFERS) + ".")
    fmt = OFFERS[match]
    forced = request.args.get("format")
    if forced:
        if forced not in set(OFFERS.values()):
            raise ProtocolError(406, f"Unknown format {forced!r}.")
        fmt = forced
    if fmt != "html":
        answer = backend().query(QuerySpec(f"DESCRIBE <{iri}>", None, fmt))
        if answer.status != 200:
            raise ProtocolError(answer.status, answer.body.decode("utf-8", "replace"))
        if not _select(f"SELECT ?p WHERE {{ <{iri}> ?p ?o }} LIMIT 1"):
            raise ProtocolError(404, f"Nothing is known about <{iri}>.")
        return Response(answer.body, content_type=answer.media_type, headers={"Vary": "Accept"})
    out = _select(
        f"SELECT ?p ?o ?oLabel WHERE {{ <{iri}> ?p ?o "
        f"OPTIONAL {{ ?o <{RDFS_LABEL}> ?oLabel }} }} ORDER BY ?p ?o"
    )
    if not out:
        raise ProtocolError(404, f"Nothing is known about <{iri}>.")
    incoming = _select(
        f"SELECT ?s ?p ?sLabel WHERE {{ ?s ?p <{iri}> "
        f"OPTIONAL {{ ?s <{RDFS_LABEL}> ?sLabel }} }} ORDER BY ?p ?s LIMIT 500"
    )
    label = next((b["o"]["value"] for b in out if b["p"]["value"] == RDFS_LABEL), rest)

    def cell(term: dict, name: dict | None) -> dict:
        if term.get("type") == "uri":
            return {"href": link(term["value"]), "text": name["value"] if name else term["value"]}
        return {"text": readable(term)}

    facts = [(b["p"]["value"], cell(b["o"], b.get("oLabel"))) for b in out]
    back = [(cell(b["s"], b.get("sLabel")), b["p"]["value"]) for b in incoming]
    html = render_template(
        "resource.html", iri=iri, label=label, facts=facts, incoming=back,
        revision=backend().revision,
    )  # fmt: skip
    return Response(html, content_type="text/html; charset=utf-8", headers={"Vary": "Accept"})
