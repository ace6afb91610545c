"""The server's log (one line per request, and the store's messages), written by a thread
of its own.

A ``logging.StreamHandler`` writes each line from the request's thread: a system call
made while holding the handler's lock, and while other requests wait for the GIL. Under
load that convoy halved the requests per second of answers served from the cache (2,600
instead of 4,900 at 16 clients). Here a request only formats its line and queues it; the
writer thread writes whatever has gathered in one call, at most ``DELAY_S`` after the
first line of a batch. Request lines skip ``logging`` altogether once :func:`install`
has run (a ``LogRecord`` costs more than the rest of a cached answer); without it (an
app under a test client or another server) they go to the ``diplograph.requests`` logger.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import TextIO

FORMAT = "%(asctime)s %(name)s %(message)s"
REQUESTS = "diplograph.requests"
#: How long the writer waits for more lines once one has come (the log's worst delay).
DELAY_S = 0.05


class BatchingHandler(logging.Handler):
    """Formats records in the caller's thread; writes them in batches from a thread."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._lines: collections.deque[str] = collections.deque()  # thread-safe ends
        self._pending = threading.Event()
        self._closed = False
        self._write_lock = threading.Lock()
        self._writer = threading.Thread(target=self._write_forever, daemon=True, name="log")
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record))
        except Exception:  # logging must never fail a request
            self.handleError(record)

    def write_line(self, line: str) -> None:
        """Queue one finished line."""
        self._lines.append(line + "\n")
        if not self._pending.is_set():  # set() takes a lock even when there is nothing to do
            self._pending.set()

    def _write_forever(self) -> None:
        while not self._closed:
            self._pending.wait()
            self._pending.clear()
            if not self._closed:
                time.sleep(DELAY_S)  # let a batch gather
            self.flush()

    def flush(self) -> None:
        """Write every line queued so far."""
        batch = []
        while self._lines:
            batch.append(self._lines.popleft())
        if batch:
            # Not the handler's own lock: every request's emit() takes that one.
            with self._write_lock:
                self.stream.write("".join(batch))
                self.stream.flush()

    def close(self) -> None:
        self._closed = True
        self._pending.set()
        self.flush()
        super().close()


_handler: BatchingHandler | None = None
_log = logging.getLogger(REQUESTS)
_second: tuple[int, str] = (-1, "")


def install(stream: TextIO, level: int = logging.INFO) -> BatchingHandler:
    """Send every log record of this process, and the request lines, to ``stream``
    through a batching handler."""
    global _handler
    handler = BatchingHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    _handler = handler
    return handler


def _timestamp() -> str:
    """As ``logging`` writes ``%(asctime)s``; the date part made once a second."""
    global _second
    now = time.time()
    second = int(now)
    if _second[0] != second:
        _second = (second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second)))
    return f"{_second[1]},{int((now - second) * 1000):03d}"


def request(
    remote: str | None,
    agent: str | None,
    method: str,
    target: str,
    status: int,
    length: int | None,
    took_ms: float,
) -> None:
    """Log one request: client, user agent, request line, status, bytes, duration."""
    message = (
        f'{remote} {(agent or "-")[:40]} "{method} {target[:200]}" {status} '
        f"{length or '-'} {took_ms:.1f}ms"
    )
    if _handler is None:
        _log.info("%s", message)
    else:
        _handler.write_line(f"{_timestamp()} {REQUESTS} {message}")
