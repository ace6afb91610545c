"""Helpers for the processes a server starts."""

from __future__ import annotations

import os
import signal
import threading
import time


def exit_with_parent() -> None:
    """Stop gracefully (SIGTERM to this process) once the process that started it dies.

    Left alone after a ``kill -9`` of its parent, a server's process would keep the store
    open and locked, or the port served, with nothing left to stop it.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
