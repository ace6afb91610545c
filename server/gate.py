"""A semaphore that lets threads in in the order they arrived."""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType


class FifoSemaphore:
    """At most ``permits`` holders at a time; waiters enter first come, first served.

    A thread that leaves a ``threading.Lock`` or ``Semaphore`` can take it again before
    the waiters it woke get to run. With 8 threads doing 0.05 ms point lookups on 2 cores,
    the 99th percentile was 8 ms with no gate at all (the cores oversubscribed) and 15 ms
    behind a plain lock; with the permit handed to the oldest waiter, 1 to 2 ms at the
    same throughput.
    """

    def __init__(self, permits: int) -> None:
        self._free = permits
        self._lock = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder that hands its permit over

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the permit passes on directly
            else:
                self._free += 1
