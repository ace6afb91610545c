"""The SPARQL 1.1 Protocol endpoint: /sparql (query, update, service description)."""

from __future__ import annotations

import json
import re
import urllib.parse

from flask import Blueprint, Response, current_app, render_template, request
from pyoxigraph import RdfFormat, parse

from server import compression
from server.auth import require_write
from server.backend import BaseBackend, QuerySpec, UpdateError
from server.errors import ProtocolError
from server.negotiation import FORMAT_NAMES, NotAcceptable, negotiate
from server.pool import PoolBusy, QueryTimeout
from server.worker import Response as Answer

bp = Blueprint("sparql", __name__)

QUERY_PARAMS = {"query", "default-graph-uri", "named-graph-uri"}
UPDATE_PARAMS = {"update", "using-graph-uri", "using-named-graph-uri"}
#: Tolerated for compatibility with common clients (SPARQLWrapper, YASGUI, Fuseki users).
EXTRA_PARAMS = {"format", "output", "results", "timeout", "_", "callback", "example"}
FORM = "application/x-www-form-urlencoded"
#: The WSGI environ key where server/fastpath.py leaves a query's answer (or error) for
#: the full handler to render, so that nothing is evaluated twice.
OUTCOME = "diplograph.outcome"


def backend() -> BaseBackend:
    return current_app.extensions["diplograph"]


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProtocolError(400, f"The {what} is not valid UTF-8 (byte {err.start}).") from err


def _pairs(raw: bytes, what: str) -> list[tuple[str, str]]:
    """Decode URL-encoded parameters strictly: invalid UTF-8 is an error, not a '?'."""
    text = _decode(raw, what)
    try:
        return urllib.parse.parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as err:
        raise ProtocolError(400, f"The {what} is not valid UTF-8 once decoded.") from err


def _params() -> dict[str, list[str]]:
    """All protocol parameters, from the URL and from a form body."""
    pairs = _pairs(request.query_string, "query string")
    if request.method == "POST" and _media_type() == FORM:
        pairs += _pairs(request.get_data(cache=True), "form body")
    params: dict[str, list[str]] = {}
    for key, value in pairs:
        params.setdefault(key, []).append(value)
    return params


def _media_type() -> str:
    return (request.mimetype or "").lower()


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise ProtocolError(
            400, f"The parameter '{name}' is given {len(values)} times; give it once."
        )
    return values[0]


@bp.route("/sparql", methods=["GET", "POST", "HEAD"])
def sparql() -> Response:
    params = _params()
    unknown = set(params) - QUERY_PARAMS - UPDATE_PARAMS - EXTRA_PARAMS
    if unknown:
        raise ProtocolError(
            400,
            f"Unknown parameter(s): {', '.join(sorted(unknown))}. The endpoint takes query, "
            "default-graph-uri, named-graph-uri, update, using-graph-uri, using-named-graph-uri.",
        )
    if request.method == "POST":
        media = _media_type()
        if media == "application/sparql-query":
            if "query" in params:
                raise ProtocolError(
                    400, "A direct POST carries the query in the body, not as a 'query' parameter."
                )
            params["query"] = [_decode(request.get_data(), "query")]
        elif media == "application/sparql-update":
            if "update" in params:
                raise ProtocolError(400, "A direct POST carries the update in the body.")
            params["update"] = [_decode(request.get_data(), "update")]
        elif media != FORM:
            raise ProtocolError(
                415,
                f"Unsupported Content-Type {request.content_type or '(none)'!r}: POST a query as "
                f"{FORM} or application/sparql-query, an update as application/sparql-update.",
            )
    query, update = _one(params, "query"), _one(params, "update")
    if query is not None and update is not None:
        raise ProtocolError(400, "Give either a query or an update, not both.")
    if update is not None:
        if request.method != "POST":
            raise ProtocolError(405, "Updates must be sent with POST.")
        return _update(update, params)
    if query is None:
        if request.method == "POST":
            raise ProtocolError(400, "Missing the 'query' (or 'update') parameter.")
        return service_description()
    return run_query(query, params)


def _forced_format(params: dict[str, list[str]]) -> str | None:
    """The ?format= / ?output= / ?results= value, if any.

    SPARQLWrapper sends all three, and for TSV, RDF/XML and JSON-LD each twice (a name and
    a media type: format=rdf+xml&format=application/rdf+xml), so repeats are not an error:
    the first value the server understands wins.
    """
    values = [v for name in ("format", "output", "results") for v in params.get(name, []) if v]
    known = [v for v in values if v.lower() in FORMAT_NAMES or "/" in v]
    return (known or values or [None])[0]


_SERVICE = re.compile(r"\bSERVICE\s+(SILENT\s+)?[<?$]", re.IGNORECASE)


def run_query(query: str, params: dict[str, list[str]]) -> Response:
    """Negotiate, run in a worker, and respond with the whole body or an error."""
    check_query(query)
    forced = _forced_format(params)
    try:
        solution_format, graph_format = negotiate(request.headers.get("Accept"), forced)
    except NotAcceptable as err:
        raise ProtocolError(406, f"Not acceptable: {err}.") from err
    html = "html" in (solution_format, graph_format)
    spec = QuerySpec(
        sparql=query,
        solution_format="json" if solution_format == "html" else solution_format,
        graph_format="ntriples" if graph_format == "html" else graph_format,
        default_graphs=tuple(params.get("default-graph-uri", [])),
        named_graphs=tuple(params.get("named-graph-uri", [])),
    )
    # server/fastpath.py may have run it already, and left what came of it.
    outcome = request.environ.pop(OUTCOME, None) or evaluate(backend(), spec)
    if isinstance(outcome, ProtocolError):
        raise outcome
    answer = outcome
    if answer.status != 200:
        message = answer.body.decode("utf-8", "replace")
        if html and answer.status == 400:
            return page(query, error=message, status=400)
        raise ProtocolError(answer.status, message)
    if html and (
        (answer.kind != "graph" and solution_format == "html")
        or (answer.kind == "graph" and graph_format == "html")
    ):
        return _html(query, answer)
    response = compression.respond(answer)
    response.headers.extend(truncation_headers(answer))
    return response


def check_query(query: str) -> None:
    """Refuse a query that is empty or federated, before any work."""
    if not query.strip():
        raise ProtocolError(400, "The query is empty.")
    if _SERVICE.search(query):
        # Federation would let any client make this server call other hosts.
        raise ProtocolError(400, "SERVICE (federated query) is disabled on this endpoint.")


def evaluate(b: BaseBackend, spec: QuerySpec) -> Answer:
    """The backend's answer (which may be an error status); a timeout or a full pool
    as a 503."""
    try:
        return b.query(spec)
    except QueryTimeout as err:
        raise ProtocolError(
            503, f"Query timeout: {err}. Simplify the query or add a LIMIT.", retry_after=5
        ) from err
    except PoolBusy as err:
        raise ProtocolError(503, f"Server busy: {err}.", retry_after=2) from err


def truncation_headers(answer: Answer) -> list[tuple[str, str]]:
    """The headers that say the row cap cut ``answer`` (none if it did not)."""
    if answer.truncated_at is None:
        return []
    return [
        ("X-SPARQL-MaxRows", str(answer.truncated_at)),
        (
            "Warning",
            f'199 diplograph "results truncated to the first {answer.truncated_at} rows; '
            'add a LIMIT or raise DIPLOGRAPH_MAX_ROWS"',
        ),
    ]


def _html(query: str, answer) -> Response:
    """The query page with the results as a table."""
    if answer.kind == "graph":
        rows = [
            [str(t.subject), str(t.predicate), str(t.object)]
            for t in parse(answer.body, format=RdfFormat.N_TRIPLES)
        ]
        variables, boolean = ["subject", "predicate", "object"], None
    else:
        data = json.loads(answer.body)
        boolean = data.get("boolean")
        variables = data["head"].get("vars", [])
        rows = [
            [b.get(v, {}).get("value", "") for v in variables]
            for b in data.get("results", {}).get("bindings", [])
        ]
    return page(
        query, variables=variables, rows=rows, boolean=boolean, truncated=answer.truncated_at
    )


def page(query: str | None, status: int = 200, **context: object) -> Response:
    """The SPARQL page: editor, examples (the saved queries), results, save form."""
    catalog = current_app.extensions["diplograph.catalog"]
    example = request.args.get("example")
    if query is None and example:
        saved = catalog.get(example) if example else None
        query = saved.sparql if saved else None
    values = {"variables": [], "rows": [], "boolean": None, "truncated": None, "error": None}
    values.update(context)
    html = render_template(
        "query.html",
        query=query,
        examples=catalog.all(),
        token_needed=bool(current_app.config["DIPLOGRAPH"].write_token),
        revision=backend().revision,
        **values,
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def _update(update: str, params: dict[str, list[str]]) -> Response:
    require_write()
    if params.get("using-graph-uri") or params.get("using-named-graph-uri"):
        raise ProtocolError(
            400,
            "using-graph-uri and using-named-graph-uri are not supported; "
            "write USING / WITH in the update itself.",
        )
    try:
        backend().update(update)
    except UpdateError as err:
        raise ProtocolError(err.status, str(err)) from err
    return Response(status=204)


SD_TURTLE = """@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix formats: <http://www.w3.org/ns/formats/> .
@prefix void: <http://rdfs.org/ns/void#> .
<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query{update} ;
    sd:feature sd:UnionDefaultGraph ;
    sd:resultFormat formats:SPARQL_Results_JSON, formats:SPARQL_Results_XML,
        formats:SPARQL_Results_CSV, formats:SPARQL_Results_TSV, formats:Turtle,
        formats:N-Triples, formats:JSON-LD, formats:RDF_XML, formats:TriG, formats:N-Quads ;
    sd:defaultDataset [ a sd:Dataset ;
        sd:defaultGraph [ a sd:Graph ; void:triples {triples} ] ] .
"""


def service_description() -> Response:
    """A SPARQL Service Description, as RDF or (for browsers) the query page."""
    endpoint = request.base_url
    b = backend()
    writable = current_app.config["DIPLOGRAPH"].write_token is not None
    text = SD_TURTLE.format(
        endpoint=endpoint,
        update=", sd:SPARQL11Update" if writable else "",
        triples=b.triple_count(),
    )
    offers = {
        "text/turtle": "turtle",
        "application/n-triples": "ntriples",
        "application/ld+json": "jsonld",
        "application/rdf+xml": "rdfxml",
        "text/html": "html",
    }
    raw = request.headers.get("Accept")
    choice = (
        "turtle" if not raw else offers.get(request.accept_mimetypes.best_match(list(offers)) or "")
    )
    if choice is None:
        raise ProtocolError(
            406,
            "The service description is available as text/turtle, "
            "application/n-triples, application/ld+json, "
            "application/rdf+xml or text/html.",
        )
    if choice == "html":
        return page(None)
    if choice == "turtle":
        return Response(text, content_type="text/turtle; charset=utf-8")
    from pyoxigraph import serialize

    from server.results import GRAPH_FORMATS

    media, fmt = GRAPH_FORMATS[choice]
    data = serialize(parse(text.encode(), format=RdfFormat.TURTLE), format=fmt)
    return Response(data, content_type=media)
