"""Keeping the HTTP process's threads on one core.

The HTTP process runs the application on several threads that share one GIL, so it runs
Python on one core at a time whatever it is allowed. Spread over two cores, every hand-over
of the GIL (a request ending, pyoxigraph letting go of it while it evaluates) wakes a
thread on the other core; kept on one, a hand-over is a switch on the same core. Under wrk
on this 2-core machine, lookups gained a quarter at 4 clients and half at 16
(benchmarks/README.md). The query workers, which do the heavy work, are processes of their
own and keep every core (:mod:`server.pool` gives them back the set taken here).
"""

from __future__ import annotations

import errno
import itertools
import os
import socket
from contextlib import suppress
from pathlib import Path


def allowed() -> frozenset[int] | None:
    """The CPUs this thread may run on, or None where the system cannot tell."""
    try:
        return frozenset(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


#: The seats this process holds, for as long as it lives.
_held: list[socket.socket] = []


def take_seat(group: str) -> int:
    """The lowest seat number of ``group`` that no live process holds, now held by this
    one: a number for each HTTP process of a server, so that each keeps to its own CPU.
    A seat is a name in Linux's abstract socket namespace, bound while its process lives:
    the seat of a process that ended is free again, and nothing is left on disk."""
    for seat in itertools.count():
        holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            holder.bind(f"\0{group}-seat-{seat}")
        except OSError as err:
            holder.close()
            if err.errno == errno.EADDRINUSE:
                continue
            raise
        _held.append(holder)
        return seat
    raise AssertionError("unreachable")


def pin_to_one(seat: int | None = None) -> None:
    """Keep every thread of this process on one of the CPUs it may use: the highest, or
    for the HTTP process numbered ``seat``, the seat-th counting down (so that several
    keep to different ones); threads started later by them inherit it. Nothing to do with
    one CPU, or none known."""
    cpus = allowed()
    if not cpus or len(cpus) < 2 or not Path("/proc/self/task").is_dir():
        return
    cpu = sorted(cpus, reverse=True)[(seat or 0) % len(cpus)]
    for task in Path("/proc/self/task").iterdir():
        with suppress(OSError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(task.name), {cpu})


def restore(cpus: frozenset[int] | None) -> None:
    """Let this process run on ``cpus`` again (a query worker started by a pinned thread)."""
    if cpus:
        os.sched_setaffinity(0, cpus)
