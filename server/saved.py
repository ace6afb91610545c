"""Running saved queries for the dashboard and the API, with revision-keyed caching."""

from __future__ import annotations

import hashlib
import json

from flask import current_app, request
from pyoxigraph import Literal, NamedNode

from graph.saved import Catalog, SavedQuery, SavedQueryError
from server.backend import BaseBackend, QuerySpec
from server.errors import ProtocolError
from server.pool import PoolBusy, QueryTimeout
from server.worker import Response as WorkerResponse

DG = "ontology#"


def backend() -> BaseBackend:
    return current_app.extensions["diplograph"]


def catalog() -> Catalog:
    return current_app.extensions["diplograph.catalog"]


def find(name: str) -> SavedQuery:
    """The saved query called ``name``, or a 404/500 that says why not."""
    try:
        query = catalog().get(name)
    except SavedQueryError as err:
        raise ProtocolError(500, f"The saved query {name!r} is broken: {err}") from err
    if query is None:
        raise ProtocolError(404, f"There is no saved query named {name!r}.")
    return query


def bindings(query: SavedQuery, values: dict[str, str]) -> tuple[tuple[str, ...], ...]:
    """Parameter values as plain tuples a worker can turn back into RDF terms."""
    try:
        terms = query.bind(values, backend().store.v.base)
    except SavedQueryError as err:
        raise ProtocolError(400, f"Bad parameter: {err}") from err
    out: list[tuple[str, ...]] = []
    for name, term in terms.items():
        if isinstance(term, NamedNode):
            out.append((name, term.value))
        else:
            assert isinstance(term, Literal)
            out.append((name, term.value, term.datatype.value, term.language or ""))
    return tuple(out)


def run(
    query: SavedQuery, values: dict[str, str], solution: str | None, graph: str | None
) -> WorkerResponse:
    """Run a saved query with its parameters (served from the cache when fresh)."""
    spec = QuerySpec(query.sparql, solution, graph, bindings=bindings(query, values))
    try:
        answer = backend().query(spec)
    except QueryTimeout as err:
        raise ProtocolError(503, f"Query timeout: {err}.", retry_after=5) from err
    except PoolBusy as err:
        raise ProtocolError(503, f"Server busy: {err}.", retry_after=2) from err
    if answer.status != 200:
        raise ProtocolError(answer.status, answer.body.decode("utf-8", "replace"))
    return answer


def rows(answer: WorkerResponse) -> tuple[list[str], list[dict[str, dict]]]:
    """Variables and bindings of a JSON answer."""
    data = json.loads(answer.body)
    return data["head"].get("vars", []), data.get("results", {}).get("bindings", [])


def etag(*parts: object) -> str:
    """A validator that changes with the store's revision and the request."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:20]
    return f'"{backend().revision}-{digest}"'


def not_modified(tag: str) -> bool:
    return request.if_none_match.contains(tag.strip('"')) or request.if_none_match.star_tag


def options(kind: str) -> list[tuple[str, str]]:
    """(IRI, label) of the countries / organizations / places in the graph, for pickers."""
    b = backend()
    if kind == "article":
        sparql = (
            f"SELECT ?e ?label WHERE {{ ?e a <{b.store.v.dg}Article> ; "
            "<http://purl.org/dc/terms/title> ?label } ORDER BY ?label"
        )
    else:
        cls = {"country": "Country", "organization": "Organization", "place": "City"}[kind]
        sparql = (
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            f"SELECT ?e ?label WHERE {{ GRAPH <{b.store.v.entities_graph.value}> "
            f"{{ ?e a <{b.store.v.dg}{cls}> ; rdfs:label ?label }} }} ORDER BY ?label"
        )
    answer = b.query(QuerySpec(sparql, "json", None))
    if answer.status != 200:
        return []
    _, found = rows(answer)
    return [(r["e"]["value"], r["label"]["value"]) for r in found]


def graph_size() -> dict[str, int]:
    """Articles, entities, memberships and events (cached by revision with the query)."""
    b = backend()
    dg = b.store.v.dg
    sparql = f"""SELECT
        (COUNT(DISTINCT ?a) AS ?articles) (COUNT(DISTINCT ?e) AS ?entities)
        (COUNT(DISTINCT ?m) AS ?memberships) (COUNT(DISTINCT ?v) AS ?events)
      WHERE {{
        {{ ?a a <{dg}Article> }} UNION
        {{ GRAPH <{b.store.v.entities_graph.value}> {{ ?e <http://www.w3.org/2000/01/rdf-schema#label> ?l }} }}
        UNION {{ ?m a <{dg}Membership> }} UNION {{ ?v a <{dg}Event> }}
      }}"""  # noqa: E501
    answer = b.query(QuerySpec(sparql, "json", None))
    if answer.status != 200:
        return {}
    _, found = rows(answer)
    return {k: int(v["value"]) for k, v in found[0].items()} if found else {}
