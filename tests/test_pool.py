"""The query worker pool: requests get workers in the order they asked for them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from graph.snapshots import Snapshots
from graph.store import GraphStore
from server import allocator
from server.gate import FirstComeFirstServed
from server.pool import PoolBusy, QueryPool, _Worker
from server.worker import Request


def test_a_returned_worker_goes_to_the_oldest_waiting_request() -> None:
    idle: FirstComeFirstServed[_Worker] = FirstComeFirstServed()
    got: list[object] = []
    waiting = threading.Thread(target=lambda: got.append(idle.get(timeout=5)))
    waiting.start()
    while not idle._waiting:  # the request is in line
        time.sleep(0.001)
    worker = _Worker(process=None, conn=None)  # type: ignore[arg-type]
    idle.put(worker)
    # A request that comes after the worker was handed over does not take it, even though
    # the waiting thread may not have woken up yet (a queue.Queue would give it away).
    assert idle.get(timeout=0) is None
    waiting.join(5)
    assert got == [worker]


def test_a_request_that_waits_too_long_leaves_the_line() -> None:
    idle: FirstComeFirstServed[_Worker] = FirstComeFirstServed()
    assert idle.get(timeout=0.05) is None
    worker = _Worker(process=None, conn=None)  # type: ignore[arg-type]
    idle.put(worker)  # nobody waits any more: the worker stays idle for the next one
    assert idle.get(timeout=0) is worker


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("pool") / "store"
    store = Store(str(path))
    p = NamedNode("http://example.org/p")
    store.extend(
        Quad(
            NamedNode(f"http://example.org/s{i}"), p, Literal(i), NamedNode("http://example.org/g")
        )
        for i in range(120)
    )
    store.flush()
    del store
    return str(path)


@pytest.fixture(scope="module")
def pool() -> Iterator[QueryPool]:
    p = QueryPool(1)
    yield p
    p.close()


def _request(snapshot: str, sparql: str) -> Request:
    return Request(snapshot=snapshot, sparql=sparql, solution_format="json", graph_format=None)


#: A few hundred milliseconds of work: a three-way join over 120 triples.
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?p ?y . ?c ?p ?z }"


def test_requests_are_answered_in_the_order_they_arrive(pool: QueryPool, snapshot: str) -> None:
    order: list[int] = []
    lock = threading.Lock()

    def ask(i: int) -> None:
        response = pool.run(_request(snapshot, f"ASK {{ ?s ?p {i} }}"), timeout=30)
        assert response.status == 200
        with lock:
            order.append(i)

    busy = threading.Thread(target=pool.run, args=(_request(snapshot, SLOW), 30))
    busy.start()
    time.sleep(0.05)  # the one worker is taken
    askers = []
    for i in range(6):
        t = threading.Thread(target=ask, args=(i,))
        t.start()
        askers.append(t)
        time.sleep(0.02)
    busy.join(30)
    for t in askers:
        t.join(30)
    assert order == list(range(6))


def test_a_request_that_finds_no_worker_in_time_is_told_so(pool: QueryPool, snapshot: str) -> None:
    busy = threading.Thread(target=pool.run, args=(_request(snapshot, SLOW), 30))
    busy.start()
    time.sleep(0.05)
    with pytest.raises(PoolBusy, match="every query worker is busy"):
        pool.run(_request(snapshot, "ASK {}"), timeout=30, wait=0.01)
    busy.join(30)
    assert pool.run(_request(snapshot, "ASK {}"), timeout=30).status == 200


def test_the_allocator_setting_names_what_is_wrong(tmp_path: Path) -> None:
    assert allocator.resolve("system") is None
    auto = allocator.resolve("auto")
    assert auto is None or auto.name in allocator.KNOWN.values()
    with pytest.raises(allocator.AllocatorError, match="no such file"):
        allocator.resolve(str(tmp_path / "libnothing.so"))
    text = tmp_path / "notes.txt"
    text.write_text("not a library")
    with pytest.raises(allocator.AllocatorError, match="not a shared library"):
        allocator.resolve(str(text))
    with pytest.raises(allocator.AllocatorError, match=r"'tcmalloc'.*not installed"):
        allocator.resolve("tcmalloc", dirs=(tmp_path,))
    library = tmp_path / "libmimalloc.so.2"
    library.write_bytes(b"")
    assert allocator.resolve("auto", dirs=(tmp_path,)) == library
    assert allocator.name(library) == "mimalloc"


def test_a_compacted_store_is_snapshotted_again_under_a_new_name(tmp_path: Path) -> None:
    """The server compacts the store after it starts and snapshots it again: same
    revision, same data, a new directory (queries may still read the old one)."""
    with GraphStore(tmp_path / "store") as store:
        snapshots = Snapshots(store, tmp_path / "snapshots")
        revision, first = snapshots.current()
        assert snapshots.refresh() == (revision, first)  # nothing changed: no new snapshot
        store.optimize()
        again, second = snapshots.refresh(again=True)
        assert again == revision and second != first
        assert first.exists()  # left for readers until pruned
        old, new = Store.read_only(str(first)), Store.read_only(str(second))
        assert set(old) == set(new) and len(new) > 0
        third = snapshots.refresh(again=True)[1]
        assert len({first, second, third}) == 3


def test_the_server_compacts_its_store_and_serves_the_compacted_snapshot(
    tmp_path: Path,
) -> None:
    from diplograph import config
    from server import create_app

    settings = config.load(store=tmp_path / "store", query_workers=1)
    app = create_app(settings)
    backend = app.extensions["diplograph"]
    try:
        backend.keeper._compaction.join(60)
        revision, path = backend.keeper.snapshots.current()
        assert path.name == f"revision-{revision:08d}.1"
        response = app.test_client().get(
            "/sparql",
            query_string={"query": "ASK { ?s a ?class }"},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert response.status_code == 200 and response.get_json()["boolean"] is True
    finally:
        backend.close()


def test_turns_are_handed_out_in_arrival_order() -> None:
    turns = FirstComeFirstServed(("the only turn",))
    entered: list[int] = []
    held = turns.get()  # held: everyone below waits

    def enter(i: int) -> None:
        turn = turns.get()
        entered.append(i)
        turns.put(turn)

    threads = []
    for i in range(6):
        thread = threading.Thread(target=enter, args=(i,))
        thread.start()
        threads.append(thread)
        while len(turns._waiting) < i + 1:  # in line before the next one comes
            time.sleep(0.001)
    turns.put(held)
    for thread in threads:
        thread.join(5)
    assert entered == list(range(6))
    assert turns.get(timeout=0) == "the only turn"  # every turn came back
