"""gzip for large answers, when the client says it takes it (``Accept-Encoding``).

SPARQL results and RDF compress several times over (repeated IRIs and markup), which
counts when they cross a network. Each answer is compressed once: the compressed bytes
are kept with it, so an answer served again from the revision cache is not compressed
again. Clients that do not ask (curl without ``--compressed``, SPARQLWrapper, rdflib)
get the plain body, as before.
"""

from __future__ import annotations

import gzip

from flask import Response, request

from server.worker import Response as Answer

#: Smaller bodies gain too little to be worth the header and the CPU.
MIN_BYTES = 1024
#: Fast levels give most of the gain; a cached answer is compressed only once anyway.
LEVEL = 5


def wants_gzip() -> bool:
    """Whether the request accepts gzip (``gzip`` or ``*`` with a quality above 0)."""
    return request.accept_encodings.quality("gzip") > 0


def respond(answer: Answer) -> Response:
    """The HTTP response carrying ``answer``'s body, gzipped when that is accepted and
    worth it."""
    response = Response(answer.body, content_type=answer.media_type)
    if len(answer.body) < MIN_BYTES:
        return response
    response.vary.add("Accept-Encoding")
    if wants_gzip():
        if answer.gzipped is None:  # two threads may both do it: same bytes, no harm
            answer.gzipped = gzip.compress(answer.body, compresslevel=LEVEL, mtime=0)
        response.set_data(answer.gzipped)
        response.headers["Content-Encoding"] = "gzip"
    return response
