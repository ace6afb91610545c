"""What the web application talks to: the writable store, its snapshots, the query pool.

Reads go to worker processes over the newest snapshot (killable, parallel); writes go to
the one writable store in this process, under a lock, and are followed by a new snapshot,
so that a client that wrote sees its write in its next query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from pyoxigraph import RdfFormat, parse

from diplograph.config import Settings
from extract.rdf import PREFIXES
from graph.snapshots import Snapshots
from graph.store import GraphStore, _nt
from server.pool import QueryPool
from server.worker import Request, Response


@dataclass(frozen=True)
class QuerySpec:
    """A query as the protocol delivers it, with the formats the client accepts."""

    sparql: str
    solution_format: str | None
    graph_format: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    bindings: tuple[tuple[str, ...], ...] = ()


class UpdateError(Exception):
    """An update or upload that is not valid; nothing was changed."""


class Backend:
    """The store behind the HTTP API."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = GraphStore(settings.store, settings.base)
        self.snapshots = Snapshots(self.store, settings.snapshots)
        self.pool = QueryPool(settings.query_workers)
        self._write_lock = threading.Lock()
        self._cache: OrderedDict[tuple, Response] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.prefixes = {**PREFIXES, "dg": self.store.v.dg, "id": self.store.v.base + "id/"}

    @property
    def revision(self) -> int:
        return self.snapshots.current()[0]

    def query(self, spec: QuerySpec) -> Response:
        """Answer a query from the newest snapshot, from the cache when it is fresh."""
        revision, path = self.snapshots.current()
        key = (revision, spec)
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        req = Request(
            snapshot=str(path),
            sparql=spec.sparql,
            solution_format=spec.solution_format,
            graph_format=spec.graph_format,
            default_graphs=list(spec.default_graphs),
            named_graphs=list(spec.named_graphs),
            max_rows=self.settings.max_rows,
            max_bytes=self.settings.max_bytes,
            prefixes=self.prefixes,
            bindings=spec.bindings,
        )
        response = self.pool.run(req, timeout=self.settings.query_timeout_s)
        if response.status == 200 and len(response.body) <= 1_000_000:
            with self._cache_lock:
                self._cache[key] = response
                while len(self._cache) > 512:
                    self._cache.popitem(last=False)
        return response

    # ------------------------------------------------------------------ writes

    def _write(self, sparql: str) -> None:
        with self._write_lock:
            try:
                self.store.store.update(sparql + "\n;\n" + self.store._revision_update())
            except SyntaxError as err:
                raise UpdateError(f"The update is not valid SPARQL: {err}") from err
            except (ValueError, OSError) as err:
                raise UpdateError(f"The update failed: {err}") from err
            self.snapshots.refresh()

    def update(self, sparql: str) -> None:
        """Run a SPARQL update (atomically, with the revision bump)."""
        self._write(sparql.rstrip().rstrip(";"))

    def graph_exists(self, graph: str | None) -> bool:
        if graph is None:
            return True
        return any(g.value == graph for g in self.store.store.named_graphs())

    def put_graph(self, graph: str | None, data: bytes, fmt: RdfFormat, replace: bool) -> bool:
        """Replace (PUT) or add to (POST) a graph; True if the graph was created."""
        target = f"GRAPH <{graph}>" if graph else "DEFAULT"
        try:
            triples = list(parse(data, format=fmt, base_iri=graph or self.store.v.base))
        except SyntaxError as err:
            raise UpdateError(f"The RDF document cannot be parsed: {err}") from err
        from pyoxigraph import DefaultGraph, NamedNode, Quad

        g = NamedNode(graph) if graph else DefaultGraph()
        quads = [Quad(t.subject, t.predicate, t.object, g) for t in triples]
        created = not self.graph_exists(graph)
        drop = f"DROP SILENT {target} ;\n" if replace else ""
        body = (
            _nt(quads)
            if graph
            else "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
        )
        self._write(f"{drop}INSERT DATA {{ {body} }}")
        return created

    def delete_graph(self, graph: str | None) -> bool:
        """Remove a graph (or empty the default graph); False if there was none."""
        if graph is not None and not self.graph_exists(graph):
            return False
        self._write(f"DROP SILENT GRAPH <{graph}>" if graph else "DROP SILENT DEFAULT")
        return True

    def close(self) -> None:
        self.pool.close()
        self.store.close()
