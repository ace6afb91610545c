"""A server's processes stop when the process that started them is gone."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

from diplograph.processes import exit_with_parent


def _watch_then_wait(parent: int) -> None:
    exit_with_parent(parent)
    time.sleep(30)


def test_a_process_whose_parent_died_before_it_watched_stops_at_once() -> None:
    """Started by a process that died while it was still starting (``kill -9`` of the
    server during start-up), it must not wait for that parent's death for ever."""
    gone = os.getpid() + 1_000_000  # no process has this id: "the parent that died"
    child = multiprocessing.get_context("spawn").Process(target=_watch_then_wait, args=(gone,))
    started = time.monotonic()
    child.start()
    child.join(timeout=20)
    assert child.exitcode == -signal.SIGTERM
    assert time.monotonic() - started < 20


def test_a_process_keeps_running_while_its_parent_lives() -> None:
    child = multiprocessing.get_context("spawn").Process(
        target=_watch_then_wait, args=(os.getpid(),)
    )
    child.start()
    try:
        child.join(timeout=3)
        assert child.is_alive()
    finally:
        child.kill()
        child.join()
