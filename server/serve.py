"""Serve the application under Granian, a production HTTP server written in Rust.

Granian parses HTTP and keeps connections in Rust, outside the GIL, and calls the WSGI
application from a pool of threads. On this machine a Flask app that does no work
answers 1.5 to 2.5 times as many requests under it as under waitress, which does all of
that in Python (benchmarks/README.md, "The floor").

Granian runs the application in worker processes of its own, one per core by default
(``DIPLOGRAPH_HTTP_WORKERS``): each runs its Python under its own GIL, and point lookups
are bound by that Python (benchmarks/README.md). The embedded store can be opened for
writing by one process only, so it is kept by a process of its own (graph/keeper.py),
started before them: they read its snapshots and pass it their writes. The application
is built in each worker, a fresh interpreter, so that the query workers belong to the
process that serves. A remote store is served by one worker: the revision it caches
would otherwise differ between them.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import multiprocessing.util
import os
import socket
import sys
from collections.abc import Callable

from flask import Flask
from granian import Granian
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels

from diplograph.config import Settings
from diplograph.processes import exit_with_parent
from graph import keeper
from graph.base import StoreError
from graph.keeper import Address
from server import affinity, allocator, requestlog
from server.allocator import AllocatorError
from server.app import create_app
from server.backend import open_backend


class IntendedThreads(logging.Filter):
    """Drops granian's warning that there are more threads than cores.

    The threads mostly wait: for a query worker, or for a slow client. That many are
    needed so that a few long queries do not hold up every short one.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Python threads" not in record.getMessage()


class Server(Granian):  # type: ignore[misc, valid-type]
    """Granian's server, stopped once however many SIGINTs and SIGTERMs come.

    Granian's handler sets a ``threading.Event``, whose lock a signal arriving while the
    first one's handler holds it would wait for, for ever, in the same thread (seen when
    a test sent two SIGTERMs close together: the server never stopped). A stop already
    asked for is not asked for again.
    """

    def signal_handler_interrupt(self, *args: object, **kwargs: object) -> None:
        if self.interrupt_signal:
            return
        super().signal_handler_interrupt(*args, **kwargs)


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
    if settings.remote:
        return run(settings, functools.partial(_load, settings, None, os.getpid()))
    try:
        check_port(settings.host, settings.port)
        allocator.resolve(settings.query_allocator)  # a wrong setting fails before the store
        kept = keeper.start(settings.store, settings.base, settings.snapshots, _keeper_logging)
    except (PortInUse, AllocatorError, StoreError) as err:
        _error(err)
        return 1
    try:
        return run(
            settings,
            functools.partial(_load, settings, kept.address, os.getpid()),
            settings.http_workers,
        )
    finally:
        kept.stop()


def _keeper_logging() -> None:
    """The keeper process's log lines go to stderr, as the HTTP workers' do."""
    requestlog.install(sys.stderr)


def run(settings: Settings, load: Callable[[], Flask], workers: int = 1) -> int:
    """Serve the application ``load`` builds (in each of ``workers`` processes) with the
    server settings of ``settings``, until interrupted; the exit status."""
    try:
        check_port(settings.host, settings.port)
        _preload_allocator(settings)
    except (PortInUse, AllocatorError) as err:
        _error(err)
        return 1
    server = Server(
        "diplograph",  # a label only: the application comes from the loader below
        address=settings.host,
        port=settings.port,
        interface=Interfaces.WSGI,
        workers=workers,
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


def _load(settings: Settings, kept: Address | None, parent: int) -> Flask:
    """Build the application in a granian worker process (called there, once), over the
    store kept by the keeper at ``kept`` (None: a remote store); ``parent``: granian's
    main process, which started this one."""
    log = requestlog.install(sys.stderr)
    try:
        backend = open_backend(settings, kept)
        app = create_app(settings, backend)
    except (StoreError, AllocatorError) as err:
        _error(err)
        sys.exit(1)
    # A multiprocessing child leaves without running atexit; its finalizers do run.
    multiprocessing.util.Finalize(app, backend.close, exitpriority=10)
    multiprocessing.util.Finalize(log, log.close, exitpriority=5)  # after the store's lines
    exit_with_parent(parent)
    seat = affinity.take_seat(f"diplograph-{parent}")
    if settings.pin_http:
        affinity.pin_to_one(seat)
    if seat:
        return app  # the first worker says where the server is
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
