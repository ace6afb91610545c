"""The parts of ``server/serve.py`` a running server cannot show reliably."""

from __future__ import annotations

import threading

from granian.constants import Interfaces

from server.serve import Server


def test_a_second_stop_signal_while_the_first_is_handled_does_not_hang() -> None:
    server = Server("diplograph", interface=Interfaces.WSGI)
    server.signal_handler_interrupt()
    assert server.interrupt_signal and server.main_loop_interrupt.is_set()
    # The second signal arrives while the first handler still holds the event's lock.
    with server.main_loop_interrupt._cond:  # type: ignore[attr-defined]
        second = threading.Thread(target=server.signal_handler_interrupt, daemon=True)
        second.start()
        second.join(timeout=5)
        assert not second.is_alive(), "the second handler waits for the first one's lock"


def test_the_first_stop_signal_stops_the_server() -> None:
    server = Server("diplograph", interface=Interfaces.WSGI)
    assert not server.main_loop_interrupt.is_set()
    server.signal_handler_interrupt()
    assert server.interrupt_signal and server.main_loop_interrupt.is_set()
