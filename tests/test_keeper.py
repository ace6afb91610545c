"""The store's keeper: the one writer, in this process or its own, and the snapshot it
publishes for readers in any process."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from pyoxigraph import Store

from graph import keeper
from graph.base import StoreError, WriteFailed
from graph.keeper import Keeper, KeeperClient
from graph.snapshots import Published
from graph.store import DEFAULT_BASE, GraphStore

INSERT = "INSERT DATA { <urn:keeper:s> <urn:keeper:p> %d }"


def _held(snapshot: str) -> set[str]:
    """The objects of the test triples in a snapshot."""
    with GraphStore(snapshot, read_only=True) as view:
        return {
            q.object.value
            for q in view.store.quads_for_pattern(None, None, None)
            if q.subject.value == "urn:keeper:s"
        }


def test_a_write_is_published_before_the_keeper_answers(tmp_path: Path) -> None:
    kept = Keeper(tmp_path / "store", DEFAULT_BASE, tmp_path / "snapshots")
    try:
        reader = Published(tmp_path / "snapshots")
        before, _ = reader.current()
        revision = kept.write(INSERT % 1)
        now, snapshot = reader.current()
        assert revision == now == before + 1
        assert _held(snapshot) == {"1"}
        with pytest.raises(WriteFailed, match="not valid SPARQL"):
            kept.write("INSERT DATA { <urn:broken> ")
        assert reader.current() == (now, snapshot)  # nothing changed
    finally:
        kept.close()


def _logging() -> None:
    """The keeper process's set-up in these tests: nothing to set up."""


def test_a_keeper_process_takes_writes_from_other_processes(tmp_path: Path) -> None:
    store, snapshots = tmp_path / "store", tmp_path / "snapshots"
    kept = keeper.start(store, DEFAULT_BASE, snapshots, _logging)
    try:
        reader = Published(snapshots)
        client = KeeperClient(kept.address)
        first = reader.current()[0]
        assert client.write(INSERT % 7) == first + 1
        assert reader.current()[0] == first + 1
        assert _held(reader.current()[1]) == {"7"}
        with pytest.raises(WriteFailed, match="not valid SPARQL"):
            client.write("DELETE WHERE {")
        # A caller without the key is turned away; the keeper keeps answering.
        wrong = keeper.Address(kept.address.address, b"not the key")
        with pytest.raises((StoreError, multiprocessing.AuthenticationError)):
            KeeperClient(wrong).write(INSERT % 8)
        assert client.write(INSERT % 9) == first + 2
    finally:
        kept.stop()
    assert not kept.process.is_alive()
    reopened = Store(str(store))  # stopped: the lock is free, the writes are there
    assert len(list(reopened.quads_for_pattern(None, None, None))) > 2
    with pytest.raises(StoreError, match="does not answer"):
        client.write(INSERT % 10)


def test_a_keeper_that_cannot_open_the_store_says_why(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with GraphStore(store), pytest.raises(StoreError, match="cannot open the store"):
        keeper.start(store, DEFAULT_BASE, tmp_path / "snapshots", _logging)
