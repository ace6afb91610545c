"""Serve the application under Granian, a production HTTP server written in Rust.

Granian parses HTTP and keeps connections in Rust, outside the GIL, and calls the WSGI
application from a pool of threads. On this machine a Flask app that does no work
answers 1.5 to 2.5 times as many requests under it as under waitress, which does all of
that in Python (benchmarks/README.md, "The floor").

Granian runs the application in a worker process of its own. There is exactly one:
the embedded store can be opened by one process only. The application is built in that
worker, a fresh interpreter, so that the store's background threads and the query
workers belong to the process that serves.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import multiprocessing.util
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

from flask import Flask
from granian import Granian
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels

from diplograph.config import Settings
from graph.base import StoreError
from server import affinity, allocator, requestlog
from server.allocator import AllocatorError
from server.app import create_app


class IntendedThreads(logging.Filter):
    """Drops granian's warning that there are more threads than cores.

    The threads mostly wait: for a query worker, or for a slow client. That many are
    needed so that a few long queries do not hold up every short one.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Python threads" not in record.getMessage()


#: Seconds an HTTP thread may stay idle before it ends: granian's minimum (its default is
#: 30). Granian hands each request to the idle thread that has waited longest, so after a
#: burst a single client's requests go round all the threads, and each costs about 15%
#: more CPU than on one thread kept busy (benchmarks/README.md); the extra threads should
#: end soon after the burst does.
IDLE_THREAD_S = 5

#: Granian's own warnings and errors go to stderr, like the request log, in its format.
LOGGING = {
    "formatters": {
        "generic": {"()": "logging.Formatter", "fmt": "%(asctime)s granian %(message)s"},
    },
    "filters": {"intended": {"()": IntendedThreads}},
    "handlers": {
        "console": {
            "formatter": "generic",
            "filters": ["intended"],
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {"_granian": {"handlers": ["console"], "propagate": False}},
}


class PortInUse(Exception):
    """Another server already listens on the address."""


def check_port(host: str, port: int) -> None:
    """Fail if anything listens on ``host:port``.

    Granian's sockets share their port with any other socket that asks (SO_REUSEPORT):
    a second server on a busy port would start without error and silently take half of
    the first one's requests. A plain socket cannot bind a port a listener holds.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError as err:
            raise PortInUse(f"cannot listen on {host}:{port}: {err.strerror}") from err


def serve(settings: Settings) -> int:
    """Serve the store of ``settings`` until interrupted (SIGINT or SIGTERM)."""
    return run(settings, functools.partial(_load, settings))


def run(settings: Settings, load: Callable[[], Flask]) -> int:
    """Serve the application ``load`` builds (in the worker) with the server settings of
    ``settings``, until interrupted; the exit status."""
    try:
        check_port(settings.host, settings.port)
        _preload_allocator(settings)
    except (PortInUse, AllocatorError) as err:
        _error(err)
        return 1
    server = Granian(
        "diplograph",  # a label only: the application comes from the loader below
        address=settings.host,
        port=settings.port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=settings.threads,
        blocking_threads_idle_timeout=IDLE_THREAD_S,
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=30_000),
        log_level=LogLevels.warning,
        log_dictconfig=LOGGING,
    )
    # A fresh interpreter for the worker, not a fork: a process that used the store before
    # (``diplograph run`` ingests first) holds RocksDB state whose background threads a
    # fork does not copy, and a store opened in the child would wait on them for ever.
    multiprocessing.set_start_method("spawn", force=True)
    try:
        server.serve(target_loader=load, wrap_loader=False)
    except SystemExit as stop:  # granian exits 1 when its worker could not start
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def _preload_allocator(settings: Settings) -> None:
    """Start granian's worker with the query workers' allocator preloaded (it is a fresh
    interpreter, so ``LD_PRELOAD`` decides): that process answers lookups, and with
    tcmalloc it answered a third more of them at 4 and 16 clients (benchmarks/README.md)."""
    library = allocator.resolve(settings.query_allocator)
    if library is not None:
        os.environ["LD_PRELOAD"] = allocator.preload(library, os.environ.get("LD_PRELOAD"))


def _load(settings: Settings) -> Flask:
    """Build the application in granian's worker process (called there, once)."""
    log = requestlog.install(sys.stderr)
    try:
        app = create_app(settings)
    except (StoreError, AllocatorError) as err:
        _error(err)
        sys.exit(1)
    # A multiprocessing child leaves without running atexit; its finalizers do run.
    multiprocessing.util.Finalize(app, app.extensions["diplograph"].close, exitpriority=10)
    multiprocessing.util.Finalize(log, log.close, exitpriority=5)  # after the store's lines
    _exit_with_parent()
    if settings.pin_http:
        affinity.pin_to_one()
    source = settings.store_url or settings.store_query_url if settings.remote else settings.store
    print(
        f"diplograph: serving {source} on http://{settings.host}:{settings.port}/ "
        f"(SPARQL endpoint /sparql)",
        file=sys.stderr,
        flush=True,
    )
    return app


def _error(err: Exception) -> None:
    print(f"diplograph: error: {err}", file=sys.stderr, flush=True)


def _exit_with_parent() -> None:
    """Shut down gracefully if granian's main process dies (``kill -9``).

    Left alone, the worker would keep the store open and locked, and the port served,
    with nothing left to stop it.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)  # granian's own graceful shutdown

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
