"""Writes are refused unless a token is configured, and then need it as a Bearer token."""

from __future__ import annotations

import hmac

from flask import current_app, request

from server.errors import ProtocolError


def require_write() -> None:
    """Raise unless this request may change the store."""
    token = current_app.config["DIPLOGRAPH"].write_token
    if not token:
        raise ProtocolError(
            403, "Writes are disabled on this server (no DIPLOGRAPH_WRITE_TOKEN is configured)."
        )
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise ProtocolError(401, "Writes need an 'Authorization: Bearer <token>' header.")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ProtocolError(403, "The write token is not valid.")
