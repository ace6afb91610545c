"""The parts of serving a running server cannot show reliably: how its HTTP processes
number themselves, and how it takes stop signals."""

from __future__ import annotations

import threading
import uuid

from granian.constants import Interfaces

from server import affinity
from server.serve import Server


def test_each_http_process_takes_a_seat_no_live_one_holds() -> None:
    group = f"test-{uuid.uuid4()}"
    first, second = affinity.take_seat(group), affinity.take_seat(group)
    assert (first, second) == (0, 1)
    affinity._held.pop(0).close()  # the process on seat 0 ends
    assert affinity.take_seat(group) == 0
    for f in affinity._held:
        f.close()
    affinity._held.clear()


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
