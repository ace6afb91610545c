"""A pool of query worker processes with a hard time limit per query.

A query that runs past the limit has its worker killed (SIGKILL frees the CPU at once) and
replaced; the client gets an error status, never a partial body. Other queries keep
running in the other workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from server import affinity, allocator, worker
from server.gate import FirstComeFirstServed
from server.worker import Request, Response

# "spawn": a fresh interpreter, so that no worker inherits the writer's open database.
_CTX = multiprocessing.get_context("spawn")
#: A child inherits the environment at the moment it starts: one start at a time.
_ENVIRONMENT = threading.Lock()


class QueryTimeout(Exception):
    """The query ran past the time limit and was stopped."""


class PoolBusy(Exception):
    """No worker became free in time."""


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection


class QueryPool:
    """``size`` worker processes; :meth:`run` sends a request to a free one.

    ``allocator``: a malloc library preloaded into the workers (server/allocator.py).
    """

    def __init__(self, size: int, allocator: Path | None = None) -> None:
        self.size = max(1, size)
        self.allocator = allocator
        # The CPUs the workers may use: all of this process's, taken before the HTTP
        # process pins its own threads to one (a worker started later would inherit it).
        self.cpus = affinity.allowed()
        self._idle: FirstComeFirstServed[_Worker] = FirstComeFirstServed()
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self.killed = 0
        for _ in range(self.size):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        """Start a worker and wait until it is ready, so that its start-up is not counted
        against the first query it answers."""
        parent, child = _CTX.Pipe()
        process = _CTX.Process(
            target=worker.main, args=(child, self.cpus), daemon=True, name="diplograph-query"
        )
        self._start(process)
        child.close()
        if not parent.poll(60):
            process.kill()
            raise RuntimeError("a query worker did not start within 60 s")
        parent.recv()  # the worker's "ready"
        w = _Worker(process, parent)
        with self._lock:
            self._workers.append(w)
        return w

    def _start(self, process: BaseProcess) -> None:
        """Start ``process`` with the allocator preloaded (this process keeps its own)."""
        if self.allocator is None:
            process.start()
            return
        with _ENVIRONMENT:
            before = os.environ.get("LD_PRELOAD")
            os.environ["LD_PRELOAD"] = allocator.preload(self.allocator, before)
            try:
                process.start()
            finally:
                if before is None:
                    del os.environ["LD_PRELOAD"]
                else:
                    os.environ["LD_PRELOAD"] = before

    def _replace(self, w: _Worker) -> None:
        """Kill a worker and put a fresh one in the pool, in the background."""
        self._retire(w)

        def start() -> None:
            # If it cannot start, the pool shrinks by one; /health shows it.
            with contextlib.suppress(RuntimeError):
                self._idle.put(self._spawn())

        threading.Thread(target=start, daemon=True, name="diplograph-respawn").start()

    def _retire(self, w: _Worker) -> None:
        w.process.kill()
        w.process.join(timeout=5)
        w.conn.close()
        with self._lock:
            if w in self._workers:
                self._workers.remove(w)

    @property
    def alive(self) -> int:
        with self._lock:
            return sum(1 for w in self._workers if w.process.is_alive())

    def run(self, req: Request, timeout: float, wait: float = 30.0) -> Response:
        """Answer ``req`` within ``timeout`` seconds of work, or raise QueryTimeout."""
        w = self._idle.get(timeout=wait)
        if w is None:
            raise PoolBusy("every query worker is busy; try again shortly")
        started = time.monotonic()
        try:
            w.conn.send(req)
            if not w.conn.poll(timeout):
                self.killed += 1
                self._replace(w)
                raise QueryTimeout(
                    f"the query ran for more than {timeout:g} s and was stopped "
                    f"({time.monotonic() - started:.1f} s)"
                )
            response = w.conn.recv()
        except (EOFError, BrokenPipeError, OSError):
            # The worker died (out of memory, crash): replace it and report.
            self._replace(w)
            return Response(500, body=b"The query worker stopped unexpectedly.")
        self._idle.put(w)
        return response

    def close(self) -> None:
        with self._lock:
            workers = list(self._workers)
        for w in workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
            w.process.join(timeout=2)
            if w.process.is_alive():
                w.process.kill()
