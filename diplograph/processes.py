"""Helpers for the processes a server starts."""

from __future__ import annotations

import os
import signal
import threading
import time


def exit_with_parent(parent: int) -> None:
    """Stop gracefully (SIGTERM to this process) once ``parent``, the process that started
    this one, is no longer its parent: it died, maybe before this was called.

    Left alone after a ``kill -9`` of its parent, a server's process would keep the store
    open and locked, or the port served, with nothing left to stop it.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
