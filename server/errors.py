"""Errors as the protocol wants them: a status and a message that says what is wrong."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException


class ProtocolError(Exception):
    """A client error (or a refused operation) with the status and message to send."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def _body(status: int, message: str) -> Response:
    """Plain text for tools, a small page for browsers."""
    if request.accept_mimetypes.best == "text/html":
        from html import escape

        html = (
            f"<!doctype html><title>{status}</title><h1>Error {status}</h1>"
            f"<pre>{escape(message)}</pre>"
        )
        return Response(html, status=status, content_type="text/html; charset=utf-8")
    return Response(
        message.rstrip() + "\n", status=status, content_type="text/plain; charset=utf-8"
    )


def install(app: Flask) -> None:
    """Register handlers so that no bad request ever becomes a 500."""

    @app.errorhandler(ProtocolError)
    def protocol(err: ProtocolError) -> Response:
        response = _body(err.status, err.message)
        if err.retry_after:
            response.headers["Retry-After"] = str(err.retry_after)
        if err.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="diplograph"'
        return response

    @app.errorhandler(HTTPException)
    def http(err: HTTPException) -> Response:
        messages = {
            413: f"The request body is larger than the limit of "
            f"{app.config['DIPLOGRAPH'].max_request_bytes:,} bytes.",
            404: f"Nothing at {request.path}.",
            405: f"{request.method} is not allowed on {request.path}.",
        }
        code = err.code or 500
        return _body(code, messages.get(code, err.description or err.name))

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return _body(500, f"Internal server error: {type(err).__name__}: {err}")
