"""gzip for large answers, when the client says it takes it (``Accept-Encoding``).

SPARQL results and RDF compress several times over (repeated IRIs and markup), which
counts when they cross a network. Each answer is compressed once: the compressed bytes
are kept with it, so an answer served again from the revision cache is not compressed
again. Clients that do not ask (curl without ``--compressed``, SPARQLWrapper, rdflib)
get the plain body, as before.
"""

from __future__ import annotations

import functools
import gzip

from flask import Response, request
from werkzeug.http import parse_accept_header

from server.worker import Response as Answer

#: Smaller bodies gain too little to be worth the header and the CPU.
MIN_BYTES = 1024
#: Fast levels give most of the gain; a cached answer is compressed only once anyway.
LEVEL = 5


@functools.lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header takes gzip (``gzip`` or ``*`` with a quality
    above 0); clients send the same few headers again and again."""
    return bool(accept_encoding) and parse_accept_header(accept_encoding).quality("gzip") > 0


def wants_gzip() -> bool:
    """Whether the current request accepts gzip."""
    return accepts_gzip(request.headers.get("Accept-Encoding"))


def encode(answer: Answer, gzip_ok: bool) -> tuple[bytes, list[tuple[str, str]]]:
    """The body to send for ``answer`` and its headers: gzipped when ``gzip_ok`` and
    worth it."""
    headers = [("Content-Type", answer.media_type)]
    if len(answer.body) < MIN_BYTES:
        return answer.body, headers
    headers.append(("Vary", "Accept-Encoding"))
    if not gzip_ok:
        return answer.body, headers
    if answer.gzipped is None:  # two threads may both do it: same bytes, no harm
        answer.gzipped = gzip.compress(answer.body, compresslevel=LEVEL, mtime=0)
    headers.append(("Content-Encoding", "gzip"))
    return answer.gzipped, headers


def respond(answer: Answer) -> Response:
    """The HTTP response carrying ``answer``'s body, gzipped when that is accepted."""
    body, headers = encode(answer, wants_gzip())
    return Response(body, headers=headers)
