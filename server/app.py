"""The Flask application factory."""

from __future__ import annotations

import functools
import time

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from diplograph import config
from diplograph.config import Settings
from server import errors, requestlog
from server.backend import BaseBackend, open_backend

#: Endpoints browsers may call from other origins (YASGUI and the like).
CORS_METHODS = "GET, POST, OPTIONS, HEAD"
CORS_HEADERS = "Accept, Content-Type, Authorization"
CORS_EXPOSE = "Content-Type, X-Diplograph-Revision, X-SPARQL-MaxRows, Warning"


def create_app(settings: Settings | None = None, backend: BaseBackend | None = None) -> Flask:
    """An application serving the store of ``settings`` (or of the environment)."""
    settings = settings or config.load()
    app = Flask(__name__)
    app.config["DIPLOGRAPH"] = settings
    # One byte more than allowed: a body sent in chunks (no Content-Length) is read up to
    # there, and one that reached it is refused (see _check_body_size), not cut short.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes + 1
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["diplograph"] = backend or open_backend(settings)
    errors.install(app)

    from graph.saved import Catalog
    from server import api, dashboard, gsp, publish, resources, sparql
    from server.fastpath import FastPath

    app.extensions["diplograph.catalog"] = Catalog(settings.queries_dir)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(gsp.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(resources.bp)
    app.register_blueprint(publish.bp)

    @app.route("/health")
    def health() -> Response:
        b: BaseBackend = app.extensions["diplograph"]
        return jsonify(status="ok", revision=b.revision, **b.health())

    @app.before_request
    def start_timer() -> Response | None:
        g.started = time.perf_counter()
        if request.method == "OPTIONS":
            return _preflight()
        _check_body_size(settings.max_request_bytes)
        return None

    @app.after_request
    def finish(response: Response) -> Response:
        b: BaseBackend = app.extensions["diplograph"]
        for name, value in shared_headers(request.path, b.revision):
            if name == "Vary":
                response.headers.add(name, value)
            else:
                response.headers.setdefault(name, value)
        requestlog.request(
            request.remote_addr,
            request.headers.get("User-Agent"),
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            response.content_length,
            (time.perf_counter() - g.get("started", time.perf_counter())) * 1000,
        )
        return response

    app.wsgi_app = FastPath(app.wsgi_app, app.extensions["diplograph"], shared_headers)  # type: ignore[method-assign]
    return app


def shared_headers(path: str, revision: int) -> tuple[tuple[str, str], ...]:
    """The headers every response carries: CORS, the store's revision, and for the
    negotiated endpoints, Vary: Accept."""
    return _shared_headers(path.startswith(("/sparql", "/store")), revision)


@functools.lru_cache(maxsize=16)
def _shared_headers(negotiated: bool, revision: int) -> tuple[tuple[str, str], ...]:
    """The same few header lists again and again (the revision changes only on writes)."""
    headers = (
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", CORS_EXPOSE),
        ("X-Diplograph-Revision", str(revision)),
    )
    return (*headers, ("Vary", "Accept")) if negotiated else headers


def _check_body_size(limit: int) -> None:
    """Refuse a request body over ``limit`` bytes with 413, whether its length is declared
    or it comes in chunks (then Werkzeug reads at most ``limit + 1`` bytes of it)."""
    if request.content_length is not None:
        too_large = request.content_length > limit
    elif "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        too_large = len(request.get_data(cache=True)) > limit
    else:
        return
    if too_large:
        raise RequestEntityTooLarge()


def _preflight() -> Response:
    """CORS preflight: which methods and headers cross-origin clients may use."""
    response = Response(status=204)
    methods = CORS_METHODS + (", PUT, DELETE" if request.path.startswith("/store") else "")
    response.headers["Access-Control-Allow-Methods"] = methods
    asked = request.headers.get("Access-Control-Request-Headers")
    response.headers["Access-Control-Allow-Headers"] = asked or CORS_HEADERS
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Allow"] = methods
    return response
