"""The floor under any Flask endpoint on this machine: an app that does no work at all.

A Flask app with one route, ``/sparql``, that answers every request at once with a body
fixed in advance (the real answer to the benchmark's query, chosen by the request's
Accept header), served by Granian exactly as ``diplograph serve`` serves ours.
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


def main(argv: Sequence[str] | None = None) -> int:
    from diplograph import config
    from server.serve import run

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answers", type=Path, required=True, help="JSON: accept -> answer")
    args = parser.parse_args(argv)
    settings = dataclasses.replace(config.load(), port=args.port)
    answers = json.loads(args.answers.read_text("utf-8"))
    return run(settings, functools.partial(create_app, answers))


if __name__ == "__main__":
    sys.exit(main())
