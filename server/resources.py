"""Linked data: every IRI diplograph mints dereferences (W3C "Cool URIs", 303 style).

- ``/id/...`` names a thing (a country, a membership, an article). It is answered with
  ``303 See Other`` to the document about it, ``/doc/...``, in the format the client asks
  for (HTML for browsers; Turtle, JSON-LD, N-Triples, RDF/XML by Accept with q-values).
- ``/doc/...`` is that document; a suffix (``.ttl``, ``.jsonld``, ``.nt``, ``.rdf``,
  ``.html``) picks the format explicitly.
- Mentions are hash IRIs (``/id/article/KEY#char=10,80``): the fragment stays with the
  client, which receives the article's document.
- The ontology's terms are hash IRIs in ``/ontology#``; ``/ontology`` documents them.
"""

from __future__ import annotations

import urllib.parse

from flask import Blueprint, Response, redirect, render_template, request

from server.backend import QuerySpec
from server.dashboard import link, readable
from server.errors import ProtocolError
from server.saved import backend, rows

bp = Blueprint("resources", __name__)

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OWL = "http://www.w3.org/2002/07/owl#"
ORG = "http://www.w3.org/ns/org#"
SCHEMA = "https://schema.org/"
NIF = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"

#: suffix -> (format name for the worker, media type)
SUFFIXES = {
    "ttl": "turtle",
    "jsonld": "jsonld",
    "nt": "ntriples",
    "rdf": "rdfxml",
    "html": "html",
}
OFFERS = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/turtle": "turtle",
    "application/ld+json": "jsonld",
    "application/n-triples": "ntriples",
    "application/rdf+xml": "rdfxml",
}
EXTENSION = {v: k for k, v in SUFFIXES.items()}


def negotiated() -> str:
    """The format the client prefers (HTML when it says nothing)."""
    raw = request.headers.get("Accept")
    if not raw:
        return "html"
    match = request.accept_mimetypes.best_match(list(OFFERS))
    if match is None:
        raise ProtocolError(406, "Descriptions come as " + ", ".join(OFFERS) + ".")
    return OFFERS[match]


def _select(sparql: str) -> list[dict]:
    answer = backend().query(QuerySpec(sparql, "json", None))
    if answer.status != 200:
        raise ProtocolError(answer.status, answer.body.decode("utf-8", "replace"))
    return rows(answer)[1]


def _split(rest: str) -> tuple[str, str | None]:
    """'country/kaz.ttl' -> ('country/kaz', 'turtle')."""
    stem, dot, suffix = rest.rpartition(".")
    if dot and suffix in SUFFIXES and "/" in stem:
        return stem, SUFFIXES[suffix]
    return rest, None


def _exists(iri: str) -> bool:
    return bool(_select(f"SELECT ?p WHERE {{ <{iri}> ?p ?o }} LIMIT 1"))


def _check(iri: str) -> None:
    if any(c in iri for c in '<>"{}|^`\\ '):
        raise ProtocolError(400, "That is not a valid resource path.")


@bp.route("/id/<path:rest>")
def thing(rest: str) -> Response:
    """A thing's IRI: 303 to the document about it (Cool URIs for the Semantic Web)."""
    path, forced = _split(rest)
    iri = backend().store.v.base + "id/" + path
    _check(iri)
    if not _exists(iri):
        raise ProtocolError(404, f"Nothing is known about <{iri}>.")
    fmt = forced or negotiated()
    target = f"/doc/{path}.{EXTENSION[fmt]}"
    response = redirect(target, code=303)
    response.headers["Vary"] = "Accept"
    return response


@bp.route("/doc/<path:rest>")
def document(rest: str) -> Response:
    """The document about a thing, in the format of its suffix or of the Accept header."""
    path, forced = _split(rest)
    iri = backend().store.v.base + "id/" + path
    _check(iri)
    fmt = forced or negotiated()
    if not _exists(iri):
        raise ProtocolError(404, f"Nothing is known about <{iri}>.")
    if fmt != "html":
        answer = backend().query(QuerySpec(f"DESCRIBE <{iri}>", None, fmt))
        if answer.status != 200:
            raise ProtocolError(answer.status, answer.body.decode("utf-8", "replace"))
        response = Response(answer.body, content_type=answer.media_type)
    else:
        response = Response(_page(iri, path), content_type="text/html; charset=utf-8")
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = f'<{iri}>; rel="describes"'
    return response


def _cell(term: dict | None, name: dict | None = None) -> dict:
    if not term:
        return {"text": ""}
    if term.get("type") == "uri":
        return {"href": link(term["value"]), "text": name["value"] if name else term["value"]}
    return {"text": readable(term)}


def _page(iri: str, path: str) -> str:
    """The HTML page of an entity, membership, event or article."""
    out = _select(
        f"SELECT ?p ?o ?oLabel WHERE {{ <{iri}> ?p ?o "
        f"OPTIONAL {{ ?o <{RDFS}label> ?oLabel }} }} ORDER BY ?p ?o"
    )
    by_p: dict[str, list[dict]] = {}
    for b in out:
        by_p.setdefault(b["p"]["value"], []).append(b)
    label = next((b["o"]["value"] for b in by_p.get(RDFS + "label", [])), None)
    title = next((b["o"]["value"] for b in by_p.get(DCTERMS + "title", [])), None)
    kind = path.split("/", 1)[0]
    dg = backend().store.v.dg
    context: dict[str, object] = {
        "iri": iri,
        "label": label or title or path,
        "kind": kind,
        "types": [_cell(b["o"], b.get("oLabel")) for b in by_p.get(RDF_TYPE, [])],
        "aliases": sorted(b["o"]["value"] for b in by_p.get(SKOS + "altLabel", [])),
        "former": sorted(
            b["o"]["value"] for b in by_p.get(backend().store.v.dg + "formerName", [])
        ),
        "codes": [b["o"]["value"] for b in by_p.get(SKOS + "notation", [])],
        "same_as": [b["o"]["value"] for b in by_p.get(OWL + "sameAs", [])],
        "properties": [
            (b["p"]["value"], _cell(b["o"], b.get("oLabel")))
            for b in out
            if b["p"]["value"]
            not in {RDF_TYPE, RDFS + "label", SKOS + "altLabel", NIF + "isString"}
        ],
        "formats": {ext: f"/doc/{path}.{ext}" for ext in ("ttl", "jsonld", "nt", "rdf")},
    }
    if kind == "article":
        context["article"] = _article(iri, by_p)
    else:
        context["memberships"] = _memberships(iri)
        context["events"] = _events(iri)
        context["sentences"] = _sentences(iri)
    context["incoming"] = [
        (_cell(b["s"], b.get("sLabel")), b["p"]["value"])
        for b in _select(
            f"SELECT ?s ?p ?sLabel WHERE {{ ?s ?p <{iri}> "
            f"FILTER(?p NOT IN (<{ORG}member>, <{ORG}organization>, <{dg}participant>, "
            f"<{SCHEMA}attendee>, <{SCHEMA}about>, <{dg}concerns>, <{SCHEMA}location>)) "
            f"OPTIONAL {{ ?s <{RDFS}label> ?sLabel }} }} ORDER BY ?p ?s LIMIT 300"
        )
    ]
    return render_template("resource.html", revision=backend().revision, **context)


def _memberships(iri: str) -> list[dict]:
    """Memberships the thing takes part in, as member or as organization."""
    found = _select(
        f"""SELECT DISTINCT ?m ?member ?memberLabel ?org ?orgLabel ?roleLabel ?start ?end ?sentence
        WHERE {{
          ?m a <{ORG}Membership> ; <{ORG}member> ?member ; <{ORG}organization> ?org ;
             <{ORG}role> ?role .
          FILTER(?member = <{iri}> || ?org = <{iri}>)
          OPTIONAL {{ ?member <{RDFS}label> ?memberLabel }}
          OPTIONAL {{ ?org <{RDFS}label> ?orgLabel }}
          OPTIONAL {{ ?role <{RDFS}label> ?roleLabel }}
          OPTIONAL {{ ?m <{SCHEMA}startDate> ?start }} OPTIONAL {{ ?m <{SCHEMA}endDate> ?end }}
          OPTIONAL {{ ?m <{PROV}wasDerivedFrom>/<{NIF}anchorOf> ?sentence }}
        }} ORDER BY ?start ?orgLabel LIMIT 500"""
    )
    return [
        {
            "fact": _cell(b["m"], {"value": "details"}),
            "member": _cell(b["member"], b.get("memberLabel")),
            "organization": _cell(b["org"], b.get("orgLabel")),
            "role": b.get("roleLabel", {}).get("value", ""),
            "start": readable(b.get("start")),
            "end": readable(b.get("end")),
            "sentence": b.get("sentence", {}).get("value", ""),
        }
        for b in found
    ]


def _events(iri: str) -> list[dict]:
    dg = backend().store.v.dg
    found = _select(
        f"""SELECT DISTINCT ?e ?label ?type ?date ?place ?placeLabel WHERE {{
          ?e a <{dg}Event> ; <{RDFS}label> ?label .
          {{ ?e <{dg}participant> <{iri}> }} UNION {{ ?e <{dg}concerns> <{iri}> }}
          UNION {{ ?e <{SCHEMA}location> <{iri}> }}
          OPTIONAL {{ ?e a ?type FILTER(STRSTARTS(STR(?type), "{dg}") && ?type != <{dg}Event>) }}
          OPTIONAL {{ ?e <{SCHEMA}startDate> ?date }}
          OPTIONAL {{ ?e <{SCHEMA}location> ?place .
                      OPTIONAL {{ ?place <{RDFS}label> ?placeLabel }} }}
        }} ORDER BY ?date LIMIT 500"""
    )
    return [
        {
            "event": _cell(b["e"], b["label"]),
            "type": b.get("type", {}).get("value", "").rsplit("#", 1)[-1],
            "date": readable(b.get("date")),
            "place": _cell(b.get("place"), b.get("placeLabel")),
        }
        for b in found
    ]


def _sentences(iri: str) -> list[dict]:
    """For a membership or event: the sentences it was read from, with their articles."""
    found = _select(
        f"""SELECT ?mention ?sentence ?article ?title WHERE {{
          <{iri}> <{PROV}wasDerivedFrom> ?mention .
          ?mention <{NIF}anchorOf> ?sentence ; <{NIF}referenceContext> ?article .
          OPTIONAL {{ ?article <{DCTERMS}title> ?title }}
        }}"""
    )
    return [
        {
            "sentence": b["sentence"]["value"],
            "article": _cell(b["article"], b.get("title")),
            "anchor": link(b["mention"]["value"]),
        }
        for b in found
    ]


def _article(iri: str, by_p: dict[str, list[dict]]) -> dict:
    """An article's text with the sentences that gave facts highlighted, and the facts."""
    text_rows = _select(f"SELECT ?t WHERE {{ <{iri}> <{NIF}isString> ?t }} LIMIT 1")
    text = text_rows[0]["t"]["value"] if text_rows else ""
    facts = _select(
        f"""SELECT ?mention ?begin ?end ?fact ?factLabel ?kind WHERE {{
          ?mention <{NIF}referenceContext> <{iri}> ; <{NIF}beginIndex> ?begin ;
                   <{NIF}endIndex> ?end .
          ?fact <{PROV}wasDerivedFrom> ?mention .
          OPTIONAL {{ ?fact <{RDFS}label> ?factLabel }}
          BIND(IF(EXISTS {{ ?fact a <{ORG}Membership> }}, "membership", "event") AS ?kind)
        }} ORDER BY ?begin"""
    )
    spans: dict[tuple[int, int], list[dict]] = {}
    for b in facts:
        key = (int(b["begin"]["value"]), int(b["end"]["value"]))
        spans.setdefault(key, []).append(
            {
                "fact": _cell(b["fact"], b.get("factLabel") or {"value": b["kind"]["value"]}),
                "kind": b["kind"]["value"],
            }
        )
    pieces = []
    cursor = 0
    for n, (begin, end) in enumerate(sorted(spans)):
        if begin < cursor:
            continue  # overlapping mentions: the first one is highlighted
        pieces.append({"text": text[cursor:begin]})
        pieces.append({"text": text[begin:end], "mark": n + 1, "facts": spans[(begin, end)]})
        cursor = end
    pieces.append({"text": text[cursor:]})
    source = next((b["o"]["value"] for b in by_p.get(DCTERMS + "source", [])), "")
    return {"pieces": pieces, "source": source, "count": len(facts)}


@bp.route("/ontology")
@bp.route("/ontology.<suffix>")
def ontology(suffix: str | None = None) -> Response:
    """The ontology at its namespace IRI: HTML documentation or Turtle."""
    fmt = SUFFIXES.get(suffix or "") if suffix else negotiated()
    if fmt is None:
        raise ProtocolError(404, f"Unknown suffix .{suffix}.")
    b = backend()
    graph = b.store.v.ontology_graph.value
    if fmt != "html":
        answer = b.query(
            QuerySpec(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", None, fmt
            )
        )
        return Response(answer.body, content_type=answer.media_type, headers={"Vary": "Accept"})
    terms = _select(
        f"""SELECT ?term ?kind ?label ?comment
               (GROUP_CONCAT(DISTINCT STR(?super); separator=" ") AS ?supers) WHERE {{
          GRAPH <{graph}> {{
            ?term a ?kind . FILTER(?kind IN (<{OWL}Class>, <{OWL}ObjectProperty>,
                                            <{OWL}DatatypeProperty>))
            FILTER(STRSTARTS(STR(?term), "{b.store.v.dg}"))
            OPTIONAL {{ ?term <{RDFS}label> ?label }} OPTIONAL {{ ?term <{RDFS}comment> ?comment }}
            OPTIONAL {{ ?term <{RDFS}subClassOf>|<{RDFS}subPropertyOf>|<{OWL}equivalentClass>
                        |<{OWL}equivalentProperty> ?super FILTER(isIRI(?super)) }}
          }} }} GROUP BY ?term ?kind ?label ?comment ORDER BY ?kind ?term"""
    )
    entries = [
        {
            "term": t["term"]["value"],
            "name": t["term"]["value"].rsplit("#", 1)[-1],
            "kind": "class" if t["kind"]["value"].endswith("Class") else "property",
            "label": t.get("label", {}).get("value", ""),
            "comment": t.get("comment", {}).get("value", ""),
            "supers": [s for s in t.get("supers", {}).get("value", "").split() if s],
        }
        for t in terms
    ]
    html = render_template(
        "ontology.html", entries=entries, namespace=b.store.v.dg, revision=b.revision
    )
    return Response(html, content_type="text/html; charset=utf-8", headers={"Vary": "Accept"})


def quote(iri: str) -> str:
    return urllib.parse.quote(iri, safe=":/#?=&,")
