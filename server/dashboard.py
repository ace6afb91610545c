"""The dashboard: the list of saved queries, one page per query, saving new queries."""

from __future__ import annotations

import datetime
import urllib.parse

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from graph.saved import SavedQuery, SavedQueryError, header
from server import charts
from server.auth import require_write
from server.errors import ProtocolError
from server.saved import backend, catalog, find, graph_size, options, rows, run

bp = Blueprint("dashboard", __name__)

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
XSD = "http://www.w3.org/2001/XMLSchema#"


def readable(cell: dict | None) -> str:
    """A value as a person reads it: dates in words, IRIs left to the caller."""
    if not cell:
        return ""
    value = cell.get("value", "")
    datatype = cell.get("datatype", "")
    try:
        if datatype == XSD + "date":
            d = datetime.date.fromisoformat(value)
            return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
        if datatype == XSD + "gYearMonth":
            return f"{MONTHS[int(value[5:7]) - 1]} {value[:4]}"
    except (ValueError, IndexError):
        return value
    return value


def link(iri: str) -> str:
    """Our own IRIs link to their page on this server; others stay as they are."""
    base = backend().store.v.base
    return "/" + iri[len(base) :] if iri.startswith(base) else iri


def table(variables: list[str], bindings: list[dict]) -> tuple[list[str], list[list[dict]]]:
    """Columns to show and cells: ``xLabel`` columns name the ``x`` IRIs instead of
    showing as their own column; a ``sentence`` column is shown on demand."""
    shown = [v for v in variables if not (v.endswith("Label") and v[: -len("Label")] in variables)]
    out = []
    for b in bindings:
        cells = []
        for v in shown:
            cell = b.get(v)
            label = b.get(v + "Label")
            if cell and cell.get("type") == "uri":
                text = label["value"] if label else cell["value"]
                cells.append({"href": link(cell["value"]), "text": text, "kind": "link"})
            elif v in ("sentence", "anchor", "quote"):
                cells.append({"text": readable(cell), "kind": "sentence"})
            else:
                cells.append({"text": readable(cell), "kind": "text"})
        out.append(cells)
    return shown, out


def chart(query: SavedQuery, bindings: list[dict]) -> str:
    """The SVG the query's display asks for ('' for a table)."""
    display = query.display
    kind = query.display_type

    def value(b: dict, key: str | None) -> str | None:
        if not key or key not in b:
            return None
        return b[key].get("value")

    if kind == "bar":
        label_key, value_key = display.get("label"), display.get("value")
        labels, values = [], []
        for b in bindings:
            try:
                values.append(float(value(b, value_key) or 0))
            except ValueError:
                continue
            labels.append(value(b, label_key) or "")
        return charts.bar(labels, values, query.title)
    if kind == "timeline":
        items = [
            (
                value(b, display.get("label")) or "",
                value(b, display.get("start")),
                value(b, display.get("end")),
            )
            for b in bindings
        ]
        return charts.timeline(items, query.title, datetime.date.today().year)
    return ""


@bp.route("/")
def index() -> str:
    search = request.args.get("q", "").strip().lower()
    queries = catalog().all()
    if search:
        queries = [
            q
            for q in queries
            if search in " ".join([q.name, q.title, q.description, *q.tags]).lower()
        ]
    return render_template(
        "index.html",
        queries=queries,
        search=search,
        size=graph_size(),
        revision=backend().revision,
    )


@bp.route("/queries/<name>")
def saved_query(name: str) -> Response | str:
    query = find(name)
    values = {k: v for k, v in request.args.items()}
    pickers = {
        p.name: options(p.type)
        for p in query.params
        if p.type in ("country", "organization", "place", "article")
    }
    error = None
    variables: list[str] = []
    cells: list[list[dict]] = []
    svg = ""
    truncated = None
    status = 200
    hint = False
    missing = [p for p in query.params if p.required and not p.default and not values.get(p.name)]
    try:
        if missing and not values:
            # First visit to a query that needs a choice: show the form, not an error.
            raise ProtocolError(
                200,
                "Choose " + ", ".join(p.label or p.name for p in missing) + " and run the query.",
            )
        answer = run(query, values, "json", "turtle")
        if answer.kind == "graph":
            return Response(answer.body, content_type=answer.media_type)
        if answer.kind == "boolean":
            variables, cells = ["answer"], [[{"text": answer.body.decode(), "kind": "text"}]]
        else:
            names, bindings = rows(answer)
            variables, cells = table(names, bindings)
            svg = chart(query, bindings)
            truncated = answer.truncated_at
    except ProtocolError as err:
        if err.status >= 500 and err.status != 503:
            raise
        error, status = err.message, err.status
        hint = err.status == 200
    params = urllib.parse.urlencode({k: v for k, v in values.items() if v})
    html = render_template(
        "saved_query.html",
        query=query,
        values=values,
        pickers=pickers,
        error=error,
        hint=hint,
        variables=variables,
        cells=cells,
        svg=svg,
        truncated=truncated,
        params=params,
        edit_link="/sparql?" + urllib.parse.urlencode({"query": query.sparql, "format": "html"}),
        revision=backend().revision,
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


@bp.route("/queries", methods=["POST"])
def save_query() -> Response:
    """Save a query from the SPARQL page as a new file in the queries directory."""
    if current_app.config["DIPLOGRAPH"].write_token:
        if "token" in request.form and "Authorization" not in request.headers:
            request.environ["HTTP_AUTHORIZATION"] = f"Bearer {request.form['token']}"
        require_write()
    form = request.form
    name = form.get("name", "").strip()
    title = form.get("title", "").strip()
    sparql = form.get("query", "")
    if not name or not title or not sparql.strip():
        raise ProtocolError(400, "A saved query needs a name, a title and the query text.")
    params = []
    for line in form.get("params", "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(":")]
        param = {"name": parts[0], "type": parts[1] if len(parts) > 1 and parts[1] else "string"}
        if len(parts) > 2 and parts[2]:
            param["default"] = ":".join(parts[2:])
        params.append(param)
    text = (
        header(title, form.get("description", "").strip(), params, form.get("display", "table"))
        + sparql.strip()
        + "\n"
    )
    try:
        catalog().save(name, text)
    except SavedQueryError as err:
        raise ProtocolError(400, f"The query cannot be saved: {err}") from err
    return redirect(url_for("dashboard.saved_query", name=name), code=303)
