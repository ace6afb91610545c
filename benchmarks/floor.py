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
import functools
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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


def load(answers: dict[str, tuple[str, str]], parent: int, pin: bool) -> Flask:
    """The app, in one of the Granian worker processes ``parent`` started, kept to a core
    as ours are."""
    from server import affinity

    seat = affinity.take_seat(f"diplograph-floor-{parent}")
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
    loader = functools.partial(load, answers, os.getpid(), settings.pin_http)
    return run(settings, loader, settings.http_workers)


if __name__ == "__main__":
    sys.exit(main())
