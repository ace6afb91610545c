"""A query worker: a process that answers SPARQL queries from a read-only snapshot.

pyoxigraph cannot cancel a running query, so queries run in worker processes that the
server can kill when a query passes its time limit; the CPU is freed at once and the
other workers keep answering. Each worker reads an immutable snapshot of the store (an
Oxigraph backup, made after every write), so no reader ever races the writer.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from pyoxigraph import Literal, NamedNode, QueryBoolean, QuerySolutions, Store, Variable

from graph.base import with_values
from server import affinity, results


@dataclass
class Request:
    """What a worker needs to answer one query."""

    snapshot: str
    sparql: str
    solution_format: str | None  # json | xml | csv | tsv, or None if not acceptable
    graph_format: str | None  # turtle | ntriples | ... , or None if not acceptable
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    max_rows: int = 100_000
    max_bytes: int = 64 * 1024 * 1024
    prefixes: dict[str, str] = field(default_factory=dict)
    #: parameter bindings: (variable, IRI) or (variable, value, datatype, language)
    bindings: tuple[tuple[str, ...], ...] = ()
    #: a lookup (server/lookup.py), whose answer is bounded by the data about a few
    #: resources: serialized in one piece (server/results.py)
    lookup: bool = False


def _term(binding: tuple[str, ...]) -> NamedNode | Literal:
    if len(binding) == 2:
        return NamedNode(binding[1])
    _, value, datatype, language = binding
    if language:
        return Literal(value, language=language)
    return Literal(value, datatype=NamedNode(datatype)) if datatype else Literal(value)


def _run(store: Store, req: Request, options: dict[str, object]) -> object:
    """Evaluate with the parameters bound as RDF terms, never pasted into the text.

    pyoxigraph's ``substitutions`` needs the variables to be projected; otherwise the terms
    go into a trailing VALUES clause, written by pyoxigraph's own term serializer.
    """
    if not req.bindings:
        return store.query(req.sparql, **options)  # type: ignore[arg-type]
    terms = {b[0]: _term(b) for b in req.bindings}
    try:
        subs = {Variable(name): term for name, term in terms.items()}
        return store.query(req.sparql, substitutions=subs, **options)  # type: ignore[arg-type]
    except (RuntimeError, ValueError):
        return store.query(with_values(req.sparql, terms), **options)  # type: ignore[arg-type]


@dataclass
class Response:
    """A worker's answer: a complete body, or an error with a message."""

    status: int
    media_type: str = "text/plain; charset=utf-8"
    body: bytes = b""
    kind: str = ""  # solutions | boolean | graph
    truncated_at: int | None = None
    gzipped: bytes | None = None  # the body compressed, once a client asked for it


def _error(status: int, message: str) -> Response:
    return Response(status, body=message.encode("utf-8"))


def execute(store: Store, req: Request) -> Response:
    """Run one query and serialize its results."""
    options: dict[str, object] = {}
    if req.default_graphs or req.named_graphs:
        try:
            options["default_graph"] = [NamedNode(g) for g in req.default_graphs] or None
            options["named_graphs"] = [NamedNode(g) for g in req.named_graphs] or None
        except ValueError as err:
            return _error(400, f"A default-graph-uri or named-graph-uri is not an IRI: {err}")
        options = {k: v for k, v in options.items() if v is not None}
    else:
        options["use_default_graph_as_union"] = True
    try:
        answer = _run(store, req, options)
    except SyntaxError as err:
        return _error(400, f"The query is not valid SPARQL: {err}")
    except (ValueError, OSError) as err:
        return _error(400, f"The query cannot be evaluated: {err}")
    return serialize(answer, req)


def serialize(answer: object, req: Request) -> Response:
    """A query's answer (pyoxigraph results) in the format the request accepts."""
    try:
        if isinstance(answer, QueryBoolean):
            if req.solution_format is None:
                return _error(406, "ASK results cannot be given in the requested media type.")
            body = results.boolean(bool(answer), req.solution_format)
            kind = "boolean"
        elif isinstance(answer, QuerySolutions):
            if req.solution_format is None:
                return _error(406, "SELECT results cannot be given in the requested media type.")
            variables = [v.value for v in answer.variables]
            body = results.solutions(
                variables, answer, req.solution_format, req.max_rows, req.max_bytes
            )
            kind = "solutions"
        else:
            if req.graph_format is None:
                return _error(406, "Graph results cannot be given in the requested media type.")
            body = results.graph(
                answer, req.graph_format, req.max_bytes, req.prefixes, bounded=req.lookup
            )
            kind = "graph"
    except results.TooLarge as err:
        return _error(
            413,
            f"The result is too large: {err} (the server's limit). Add a LIMIT, select fewer "
            "variables, or ask the operator to raise DIPLOGRAPH_MAX_BYTES.",
        )
    except (ValueError, OSError) as err:
        return _error(400, f"The query failed while producing results: {err}")
    return Response(200, body.media_type, body.data, kind, body.truncated_at)


def main(conn: Connection, cpus: frozenset[int] | None = None) -> None:
    """Worker loop: receive requests, answer them, until told to stop (None); on
    ``cpus`` (all the server's, not the one its HTTP threads keep to)."""
    affinity.restore(cpus)
    stores: dict[str, Store] = {}
    conn.send("ready")
    while True:
        try:
            req = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if req is None:
            return
        try:
            store = stores.get(req.snapshot)
            if store is None:
                stores.clear()  # an older snapshot is not needed any more
                store = stores[req.snapshot] = Store.read_only(req.snapshot)
            response = execute(store, req)
        except Exception:  # the worker must answer whatever happens
            response = _error(500, "Internal error in the query worker:\n" + traceback.format_exc())
        try:
            conn.send(response)
        except (BrokenPipeError, EOFError):
            return
