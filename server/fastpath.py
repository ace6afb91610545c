"""The commonest request, answered without Flask: ``GET /sparql?query=...``.

Flask's request context, routing and response objects cost about as much Python as a
point lookup itself, and on this server Python is what limits the small queries: every
request's Python runs under one GIL. This WSGI middleware answers the plain form of a
query request (GET, the single parameter ``query``, no body, an Accept that is not
HTML) directly, with the same headers and log line the full handler gives. Everything
else, and every answer that is not a 200, goes to the Flask application; an answer
already computed goes with it (``sparql.OUTCOME``), so no query is evaluated twice.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from server import compression, requestlog, sparql
from server.backend import BaseBackend, QuerySpec
from server.errors import ProtocolError
from server.negotiation import NotAcceptable, negotiate

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FastPath:
    """WSGI middleware in front of the Flask application ``app``."""

    def __init__(
        self,
        app: WSGIApp,
        backend: BaseBackend,
        shared_headers: Callable[[str, int], tuple[tuple[str, str], ...]],
    ) -> None:
        self.app = app
        self.backend = backend
        self.shared_headers = shared_headers

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        started = time.perf_counter()
        spec = self._plain_query(environ)
        if spec is None:
            return self.app(environ, start_response)
        try:
            answer = sparql.evaluate(self.backend, spec)
        except ProtocolError as err:
            environ[sparql.OUTCOME] = err
            return self.app(environ, start_response)
        if answer.status != 200:
            environ[sparql.OUTCOME] = answer
            return self.app(environ, start_response)
        body, headers = compression.encode(
            answer, compression.accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING"))
        )
        headers.append(("Content-Length", str(len(body))))
        headers += sparql.truncation_headers(answer)
        headers += self.shared_headers("/sparql", self.backend.revision)
        start_response("200 OK", headers)
        requestlog.request(
            environ.get("REMOTE_ADDR"),
            environ.get("HTTP_USER_AGENT"),
            "GET",
            "/sparql?" + environ["QUERY_STRING"],
            200,
            len(body),
            (time.perf_counter() - started) * 1000,
        )
        return [body]

    @staticmethod
    def _plain_query(environ: dict[str, Any]) -> QuerySpec | None:
        """The query of a plain GET /sparql?query=..., or None for any other request."""
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("PATH_INFO") != "/sparql"
            or environ.get("CONTENT_LENGTH") not in (None, "", "0")
            or environ.get("HTTP_TRANSFER_ENCODING")
        ):
            return None
        query_string = environ.get("QUERY_STRING", "")
        # One parameter, "query": anything else (several, or raw bytes the full handler
        # decodes strictly) is not the plain form.
        if not query_string.startswith("query=") or "&" in query_string:
            return None
        if not query_string.isascii():
            return None
        try:
            # unquote_plus(errors="strict") in one pass over the bytes, not one per escape
            raw = urllib.parse.unquote_to_bytes(query_string[6:].replace("+", " "))
            query = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None  # the full handler explains what is wrong
        try:
            sparql.check_query(query)
            solution_format, graph_format = negotiate(environ.get("HTTP_ACCEPT"), None)
        except (ProtocolError, NotAcceptable):
            return None
        if "html" in (solution_format, graph_format):
            return None  # the query page
        return QuerySpec(query, solution_format, graph_format)
