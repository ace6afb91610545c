"""The store's keeper: the one owner of the writable store, in this process or its own.

Oxigraph lets one process open a store for writing. Readers need not: they read the
snapshot the keeper publishes after every write (graph/snapshots.py). So a server can
answer from several processes, each reading snapshots, while one keeper applies the
writes they pass on. The keeper publishes a write's snapshot before it answers, so the
client that wrote sees its write in its next query, whichever process answers that.

:class:`Keeper` does the work; :func:`start` runs one in a process of its own, reached
through a local socket with :class:`KeeperClient`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener
from multiprocessing.process import BaseProcess
from pathlib import Path

from diplograph.processes import exit_with_parent
from graph.base import StoreError, WriteFailed
from graph.snapshots import Snapshots
from graph.store import GraphStore

log = logging.getLogger("diplograph.store")
# A fresh interpreter: a fork would copy the parent's RocksDB state without its threads.
_CTX = multiprocessing.get_context("spawn")


class Keeper:
    """The writable store at ``path`` and its snapshots in ``snapshots``."""

    def __init__(self, path: Path, base: str, snapshots: Path) -> None:
        self.store = GraphStore(path, base)
        self.snapshots = Snapshots(self.store, snapshots)
        self._lock = threading.Lock()
        self._compaction: threading.Thread | None = None

    def write(self, sparql: str) -> int:
        """Apply a SPARQL update with the revision bump, atomically, and publish the new
        snapshot; the new revision. Raises WriteFailed (nothing changed) with the reason."""
        with self._lock:
            try:
                self.store.update(sparql)
            except SyntaxError as err:
                raise WriteFailed(f"The update is not valid SPARQL: {err}") from err
            except (ValueError, OSError) as err:
                raise WriteFailed(f"The update failed: {err}") from err
            return self.snapshots.refresh()[0]

    def start_compaction(self) -> None:
        """Compact the store in the background, then snapshot it again.

        A snapshot shares the store's files as they are: right after ``diplograph import``
        or an ingest, many small ones, which every query then reads. Compacted, the same
        data answers heavy queries 20-25% faster (benchmarks/README.md).
        """
        self._compaction = threading.Thread(target=self._compact, daemon=True, name="compact")
        self._compaction.start()

    def _compact(self) -> None:
        started = time.perf_counter()
        try:
            self.store.optimize()
            self.snapshots.refresh(again=True)
        except OSError as err:  # a slower store, not a broken one: keep serving
            log.warning("could not compact the store: %s", err)
            return
        log.info(
            "store compacted in %.1f s; queries read the new snapshot",
            time.perf_counter() - started,
        )

    def close(self) -> None:
        # A long compaction is left to end with the process (an interrupted one loses
        # nothing); it holds the store, which the next process may want.
        if self._compaction is not None:
            self._compaction.join(timeout=5)
        with self._lock:
            self.store.close()


@dataclass(frozen=True)
class Address:
    """Where a keeper process listens (an abstract local socket) and its key."""

    address: str
    authkey: bytes


class KeeperClient:
    """A keeper in another process, with :class:`Keeper`'s ``write``."""

    def __init__(self, address: Address) -> None:
        self.address = address

    def _ask(self, *message: object) -> object:
        try:
            with Client(self.address.address, authkey=self.address.authkey) as conn:
                conn.send(message)
                kind, value = conn.recv()
        except (OSError, EOFError) as err:
            raise StoreError(f"the store's keeper process does not answer: {err}") from err
        if kind == "failed":
            raise WriteFailed(str(value))
        return value

    def write(self, sparql: str) -> int:
        """As :meth:`Keeper.write`, done by the keeper."""
        return int(self._ask("write", sparql))  # type: ignore[call-overload]

    def close(self) -> None:
        """Nothing to release: each call has its own connection."""


def start(path: Path, base: str, snapshots: Path, setup: Callable[[], object]) -> KeeperProcess:
    """Start a keeper process over ``path`` (``setup`` runs first there: its logging) and
    wait until its first snapshot is published; StoreError if it cannot open the store."""
    address = Address(
        f"\0diplograph-keeper-{os.getpid()}-{secrets.token_hex(8)}", secrets.token_bytes(32)
    )
    parent, child = _CTX.Pipe()
    process = _CTX.Process(
        target=_main,
        args=(path, base, snapshots, address, child, setup, os.getpid()),
        daemon=False,
        name="diplograph-keeper",
    )
    process.start()
    child.close()
    try:
        kind, message = parent.recv()
    except EOFError:
        kind, message = "failed", f"{path}: the store's keeper process stopped while starting"
    if kind != "ready":
        process.join(timeout=5)
        raise StoreError(str(message))
    return KeeperProcess(process, address)


@dataclass
class KeeperProcess:
    """A running keeper process and where to reach it."""

    process: BaseProcess
    address: Address

    def stop(self) -> None:
        """Close the store (the keeper flushes it and lets go of its lock) and wait."""
        if self.process.is_alive() and self.process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


def _main(
    path: Path,
    base: str,
    snapshots: Path,
    address: Address,
    ready: Connection,
    setup: Callable[[], object],
    parent: int,
) -> None:
    """The keeper process: open the store, answer writes until SIGTERM or ``parent`` ends."""
    setup()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the
    # parent decides when the keeper stops, after the processes that send it writes.
    try:
        keeper = Keeper(path, base, snapshots)
    except StoreError as err:
        ready.send(("failed", str(err)))
        return
    try:
        with Listener(address.address, family="AF_UNIX", authkey=address.authkey) as listener:
            ready.send(("ready", None))
            ready.close()
            keeper.start_compaction()
            exit_with_parent(parent)
            while True:
                try:
                    conn = listener.accept()
                except (OSError, EOFError, multiprocessing.AuthenticationError):
                    continue  # a caller that went away, or a wrong key: not ours to serve
                threading.Thread(
                    target=_answer, args=(keeper, conn), daemon=True, name="keeper"
                ).start()
    except SystemExit:
        pass
    finally:
        keeper.close()


def _answer(keeper: Keeper, conn: Connection) -> None:
    """Answer one caller's request."""
    with conn:
        try:
            kind, *args = conn.recv()
            if kind == "write":
                reply: tuple[str, object] = ("ok", keeper.write(str(args[0])))
            else:
                reply = ("failed", f"unknown request {kind!r}")
        except WriteFailed as err:
            reply = ("failed", str(err))
        except (OSError, EOFError):
            return  # the caller went away; its write, if any, stands
        with contextlib.suppress(OSError):
            conn.send(reply)


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)
