"""What the web application talks to: the store, behind one small interface.

Two implementations, chosen by the settings (``DIPLOGRAPH_STORE_URL``):

- :class:`Backend`, the embedded store: reads go to worker processes over the newest
  snapshot (killable, parallel), except lookups and, while the store is small, small
  queries (server/lookup.py), which this process answers from the same snapshot; writes
  go to the store's keeper (graph/keeper.py), in this process or in one of its own when
  several processes serve, which publishes a new snapshot before it answers, so that a
  client that wrote sees its write in its next query.
- :class:`RemoteBackend`, a remote SPARQL 1.1 store: queries are forwarded to its query
  endpoint and the answers re-serialized here (the same formats, row and byte caps as
  with the embedded store); writes go to its update endpoint, each in one request with
  the revision bump.

Both cache answers keyed on the store's revision.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import IO

from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, parse

from diplograph.config import Settings
from extract.rdf import PREFIXES
from graph.base import StoreError, WriteFailed
from graph.keeper import Address, Keeper, KeeperClient
from graph.remote import RemoteStore, StoreUnavailable
from graph.snapshots import Published
from graph.store import GraphStore, _nt
from server import allocator, lookup, worker
from server.gate import FirstComeFirstServed
from server.pool import QueryPool
from server.worker import Request, Response

#: Lookups evaluated at once in the HTTP process (more only queue for the cores).
LOOKUP_THREADS = max(1, os.cpu_count() or 1)
#: How long a small query waits for a turn in the HTTP process before it goes to a query
#: worker: turns come free within microseconds under load (going to a worker at once put
#: 4 ms on the 99th percentile at 16 clients, against 2.9 waiting), unless slow small
#: queries over a large store hold them all.
SMALL_WAIT_S = 0.01


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
    """An update or upload that was not applied (``status``: 400, it is not valid; 503,
    the store cannot take writes now); nothing was changed."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class BaseBackend:
    """What both backends share: the answer cache, uploads as updates, prefixes."""

    settings: Settings
    store: GraphStore | RemoteStore

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: OrderedDict[tuple, Response] = OrderedDict()
        self._cache_lock = threading.Lock()
        v = self.store.v
        self.prefixes = {**PREFIXES, "dg": v.dg, "id": v.base + "id/"}

    @property
    def revision(self) -> int:
        raise NotImplementedError

    def _evaluate(self, req: Request) -> Response:
        raise NotImplementedError

    def _write(self, sparql: str) -> None:
        raise NotImplementedError

    def graph_exists(self, graph: str | None) -> bool:
        raise NotImplementedError

    def triple_count(self) -> int:
        raise NotImplementedError

    def dump(self, output: IO[bytes], fmt: str) -> int:
        """Write the whole graph to ``output``; the revision of what was written."""
        raise NotImplementedError

    def health(self) -> dict[str, object]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def request(self, spec: QuerySpec) -> Request:
        """The worker request for a query, with the server's limits (no snapshot yet)."""
        return Request(
            snapshot="",
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

    def query(self, spec: QuerySpec) -> Response:
        """Answer a query, from the cache when the store has not changed since."""
        key = (self.revision, spec)
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        response = self._evaluate(self.request(spec))
        # A write during the evaluation may have given it a newer snapshot than the key
        # says: such an answer is not kept (the revision only grows, so one check is enough).
        unchanged = self.revision == key[0]
        if response.status == 200 and len(response.body) <= 1_000_000 and unchanged:
            with self._cache_lock:
                self._cache[key] = response
                while len(self._cache) > 512:
                    self._cache.popitem(last=False)
        return response

    def update(self, sparql: str) -> None:
        """Run a SPARQL update (atomically, with the revision bump)."""
        self._write(sparql.rstrip().rstrip(";"))

    def put_graph(self, graph: str | None, data: bytes, fmt: RdfFormat, replace: bool) -> bool:
        """Replace (PUT) or add to (POST) a graph; True if the graph was created."""
        target = f"GRAPH <{graph}>" if graph else "DEFAULT"
        try:
            triples = list(parse(data, format=fmt, base_iri=graph or self.store.v.base))
        except SyntaxError as err:
            raise UpdateError(f"The RDF document cannot be parsed: {err}") from err
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


class Backend(BaseBackend):
    """The embedded store behind the HTTP API.

    ``keeper``: where the keeper process that owns the writable store listens, when the
    server answers from several processes; without it, this process owns the store.
    """

    def __init__(self, settings: Settings, keeper: Address | None = None) -> None:
        malloc = allocator.resolve(settings.query_allocator)  # a wrong setting fails first
        self.keeper: Keeper | KeeperClient
        if keeper is None:
            self.keeper = Keeper(settings.store, settings.base, settings.snapshots)
            self.keeper.start_compaction()
        else:
            self.keeper = KeeperClient(keeper)
        self._published = Published(settings.snapshots)
        self._base = settings.base
        self.pool = QueryPool(settings.query_workers, malloc)
        self._reader: tuple[str, GraphStore] | None = None  # (snapshot, view) for lookups
        self._reader_lock = threading.Lock()
        # Lookups run here, on the cores the HTTP threads share: a few at a time, in order.
        self._turns = FirstComeFirstServed(tuple(range(LOOKUP_THREADS)))
        # Small queries too, with turns of their own, so that a slow one never holds up a
        # lookup; one that finds every turn taken for long goes to a worker instead.
        self._small_turns = FirstComeFirstServed(tuple(range(LOOKUP_THREADS)))
        self._small_max_quads = min(
            settings.small_query_max_quads,
            int(settings.query_timeout_s / (4 * lookup.WORST_S_PER_QUAD)),
        )
        self._quads: tuple[str, int | None] = ("", None)  # (snapshot, its quads once counted)
        super().__init__(settings)
        self._store_is_small(self._published.current()[1])  # counted before the first query

    @property
    def revision(self) -> int:
        return self._published.current()[0]

    @property
    def store(self) -> GraphStore:  # type: ignore[override]
        """The newest snapshot, read-only."""
        return self._snapshot_store(self._published.current()[1])

    def _evaluate(self, req: Request) -> Response:
        req.snapshot = self._published.current()[1]
        if lookup.is_lookup(req.sparql):
            req.lookup = True
            answer = self._in_process(req, self._turns)
        elif lookup.is_small(req.sparql) and self._store_is_small(req.snapshot):
            answer = self._in_process(req, self._small_turns, SMALL_WAIT_S)
        else:
            answer = None
        if answer is not None:
            return answer
        return self.pool.run(req, timeout=self.settings.query_timeout_s)

    def _in_process(
        self, req: Request, turns: FirstComeFirstServed[int], wait: float | None = None
    ) -> Response | None:
        """``req`` answered here, on one of ``turns``; None if none came within ``wait``
        seconds (None: wait for one)."""
        turn = turns.get(timeout=wait)
        if turn is None:
            return None
        try:
            return worker.execute(self._snapshot_store(req.snapshot).store, req)
        finally:
            turns.put(turn)

    def _store_is_small(self, snapshot: str) -> bool:
        """Whether a small query's worst case over ``snapshot`` fits the time limit; False
        until its quads are counted, in the background, once per snapshot."""
        if self._small_max_quads <= 0:
            return False
        counted, quads = self._quads
        if counted == snapshot:
            return quads is not None and quads <= self._small_max_quads
        with self._reader_lock:
            if self._quads[0] == snapshot:
                return False  # being counted
            self._quads = (snapshot, None)
        threading.Thread(
            target=self._count_quads, args=(snapshot,), daemon=True, name="diplograph-count"
        ).start()
        return False

    def _count_quads(self, snapshot: str) -> None:
        """Count the quads of ``snapshot``, up to one more than the small-store limit (a
        query, which leaves the GIL to the HTTP threads while it runs)."""
        limit = self._small_max_quads + 1
        sparql = (
            f"SELECT (COUNT(*) AS ?n) {{ {{ SELECT * {{ GRAPH ?g {{ ?s ?p ?o }} }} LIMIT {limit} }}"
            f" UNION {{ SELECT * {{ ?s ?p ?o }} LIMIT {limit} }} }}"
        )
        try:
            (row,) = self._snapshot_store(snapshot).store.query(sparql)  # type: ignore[misc]
            quads = int(row["n"].value)
        except (StoreError, OSError, ValueError):  # gone: a newer one is counted next
            return
        with self._reader_lock:
            if self._quads[0] == snapshot:
                self._quads = (snapshot, quads)

    def _snapshot_store(self, snapshot: str) -> GraphStore:
        """The snapshot opened read-only in this process (once per snapshot)."""
        with self._reader_lock:
            if self._reader is None or self._reader[0] != snapshot:
                self._reader = (snapshot, GraphStore(snapshot, self._base, read_only=True))
            return self._reader[1]

    def _write(self, sparql: str) -> None:
        try:
            self.keeper.write(sparql)
        except WriteFailed as err:
            raise UpdateError(str(err)) from err
        except StoreError as err:  # the keeper process is gone
            raise UpdateError(f"The store cannot take writes now: {err}", 503) from err

    def graph_exists(self, graph: str | None) -> bool:
        if graph is None:
            return True
        return any(g.value == graph for g in self.store.store.named_graphs())

    def triple_count(self) -> int:
        """Triples in the store (every graph)."""
        return len(self.store.store)

    def dump(self, output: IO[bytes], fmt: str) -> int:
        """The whole graph as of the newest snapshot (writes never block on a dump)."""
        revision, snapshot = self._published.current()
        self._snapshot_store(snapshot).dump(output, fmt)
        return revision

    def health(self) -> dict[str, object]:
        return {
            "workers": self.pool.alive,
            "allocator": allocator.name(self.pool.allocator),
            # Whether small queries are answered here now, and up to how large a store.
            "small_queries_in_process": self._store_is_small(self._published.current()[1]),
            "small_query_max_quads": self._small_max_quads,
        }

    def close(self) -> None:
        self.pool.close()
        self.keeper.close()


class RemoteBackend(BaseBackend):
    """A remote SPARQL 1.1 store behind the HTTP API (``DIPLOGRAPH_STORE_URL``).

    The revision is read from the store at most every ``revision_ttl`` seconds, so that a
    page does not cost an extra round trip per request; writes made through this server
    are seen at once, writes made elsewhere (``diplograph ingest --store-url``) within
    that time.
    """

    revision_ttl = 1.0

    def __init__(self, settings: Settings) -> None:
        self.store = RemoteStore.from_settings(settings, read_only=True)
        self._readers = threading.local()
        self._write_lock = threading.Lock()
        self._revision: tuple[float, int] = (0.0, 0)
        self._counts: tuple[int, int] | None = None
        super().__init__(settings)

    def _reader(self) -> RemoteStore:
        """This thread's connection for queries: one try, the server's query time limit."""
        reader = getattr(self._readers, "store", None)
        if reader is None:
            reader = RemoteStore.from_settings(self.settings, read_only=True)
            reader.retries = 1
            reader.timeout = self.settings.query_timeout_s
            reader._union = self.store._union
            self._readers.store = reader
        return reader

    @property
    def revision(self) -> int:
        read_at, value = self._revision
        now = time.monotonic()
        if now - read_at > self.revision_ttl:
            try:
                value = self.store.revision()
            except StoreError:
                return value  # the last one known: the error shows on the query itself
            self._revision = (now, value)
        return value

    def _evaluate(self, req: Request) -> Response:
        """As a query worker does it, with the remote store in place of a snapshot."""
        try:
            return worker.execute(self._reader(), req)  # type: ignore[arg-type]
        except StoreUnavailable as err:
            return worker._error(
                503,
                f"Query timeout or store unavailable: {err}. Simplify the query or add a LIMIT.",
            )
        except StoreError as err:
            return worker._error(502, f"The remote store failed: {err}")

    def _write(self, sparql: str) -> None:
        with self._write_lock:
            try:
                self.store.update(sparql)
            except SyntaxError as err:
                raise UpdateError(f"The update is not valid SPARQL: {err}") from err
            except WriteFailed as err:
                raise UpdateError(f"The update was refused: {err}") from err
            except StoreError as err:
                raise UpdateError(f"The update failed: {err}") from err
            finally:
                self._revision = (0.0, self._revision[1])  # read it again next time

    def graph_exists(self, graph: str | None) -> bool:
        return graph is None or self.store.has_graph(graph)

    def triple_count(self) -> int:
        """Triples in the union of the graphs, counted once per revision."""
        revision = self.revision
        if self._counts is None or self._counts[0] != revision:
            self._counts = (revision, self.store.triple_count())
        return self._counts[1]

    def dump(self, output: IO[bytes], fmt: str) -> int:
        """The whole graph, streamed from the remote store (a write by another client
        during the dump can make it newer than the revision returned)."""
        revision = self.store.revision()
        self.store.dump(output, fmt)
        return revision

    def health(self) -> dict[str, object]:
        return {"store": self.store.url}

    def close(self) -> None:
        self.store.close()


def open_backend(settings: Settings, keeper: Address | None = None) -> BaseBackend:
    """The backend the settings name: a remote store if one is configured, else embedded
    (its writable store in this process, or in the keeper process at ``keeper``)."""
    return RemoteBackend(settings) if settings.remote else Backend(settings, keeper)
