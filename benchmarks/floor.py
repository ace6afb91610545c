"""The floor under any Flask endpoint on this machine: an app that does no work at all.

A Flask app with one route, ``/sparql``, that answers every request at once with a body
fixed in advance (the real answer to the benchmark's query, chosen by the request's
Accept header), served by Granian exactly as ``diplograph serve`` serves ours: as many
HTTP processes, each kept to a core of its own.
``benchmarks.endpoint`` measures it beside both servers on the trivial queries: no
Flask app served this way here can answer faster than this one, so its ratio to
``oxigraph serve`` is the best any such server could reach.

    python -m benchmarks.floor --port N --answers FILE

``FILE``: JSON, ``{accept: [content_type, body]}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import functools
import itertools
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from flask import Flask, Response, request


def create_app(answers: dict[str, tuple[str, str]]) -> Flask:
    """The app: ``/sparql`` answers with the body stored for the request's Accept."""
    app = Flask(__name__)
    prepared = {accept: (kind, body.encode("utf-8")) for accept, (kind, body) in answers.items()}
    first = next(iter(prepared.values()))

    @app.get("/sparql")
    def sparql() -> Response:
        # Anything else (a readiness probe) gets the first answer.
        kind, body = prepared.get(request.headers.get("Accept", ""), first)
        return Response(body, content_type=kind)

    return app


#: The seat file each process holds locked for as long as it lives.
_held: list[IO[str]] = []


def take_seat(seats: Path) -> int:
    """The lowest seat number no live process of this floor holds (ours get theirs from the
    keeper; the floor has none, so a locked file in ``seats`` stands for each)."""
    for seat in itertools.count():
        f = open(seats / f"seat-{seat}", "w")  # noqa: SIM115 - held until the process ends
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            continue
        _held.append(f)
        return seat
    raise AssertionError("unreachable")


def load(answers: dict[str, tuple[str, str]], seats: Path, pin: bool) -> Flask:
    """The app, in one of Granian's worker processes, kept to a core as ours are."""
    from server import affinity

    seat = take_seat(seats)
    if pin:
        affinity.pin_to_one(seat)
    return create_app(answers)


def main(argv: Sequence[str] | None = None) -> int:
    from diplograph import config
    from server.serve import run

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answers", type=Path, required=True, help="JSON: accept -> answer")
    args = parser.parse_args(argv)
    settings = dataclasses.replace(config.load(), port=args.port)
    answers = json.loads(args.answers.read_text("utf-8"))
    with tempfile.TemporaryDirectory(prefix="diplograph-floor-") as seats:
        loader = functools.partial(load, answers, Path(seats), settings.pin_http)
        return run(settings, loader, settings.http_workers)


if __name__ == "__main__":
    sys.exit(main())
