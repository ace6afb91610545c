"""Which queries are lookups, answered in the HTTP process instead of a query worker.

Queries run in worker processes so that one that runs past the time limit can be killed.
The round trip to a worker costs more than a point lookup itself: it capped a DESCRIBE of
one entity at about a fifth of ``oxigraph serve``'s rate (benchmarks/README.md). A
lookup cannot run away: ``DESCRIBE`` of named resources, with no ``WHERE`` and no
``FROM``, reads the statements about those resources and nothing else, so its work is
bounded by its answer (itself capped at the server's byte limit) and by the data, which
only a client holding the write token can change. Anything else, or anything this
scanner does not recognise, goes to a worker as before.
"""

from __future__ import annotations

import re

#: More resources than this in one DESCRIBE go to a worker (the work grows with them).
MAX_RESOURCES = 64

_SKIP = r"(?:\s|\#[^\r\n]*+)"  # white space or a comment
_IRI = r'<[^<>"{}|^`\\\x00-\x20]*+>'
_PNAME = r"(?:[A-Za-z][\w.-]*+)?+:(?:[\w-][\w.:-]*+)?+"
_PREFIX_NAME = r"(?:[A-Za-z][\w.-]*+)?+:(?![\w-])"  # a prefixed name's prefix part alone
#: The whole grammar of a lookup in one expression, matched in C: a keyword must be
#: followed by white space, a comment or (but PREFIX) an IRI, as it is no keyword otherwise.
_LOOKUP = re.compile(
    rf"""{_SKIP}*+
    (?:(?i:PREFIX)(?=[\s\#]){_SKIP}*+{_PREFIX_NAME}{_SKIP}*+{_IRI}{_SKIP}*+
      |(?i:BASE)(?=[\s\#<]){_SKIP}*+{_IRI}{_SKIP}*+)*+
    (?i:DESCRIBE)(?=[\s\#<])
    (?:{_SKIP}*+(?:{_IRI}|{_PNAME})){{1,{MAX_RESOURCES}}}
    {_SKIP}*+""",
    re.VERBOSE,
)


def is_lookup(sparql: str) -> bool:
    """Whether ``sparql`` is ``[PREFIX p: <iri> | BASE <iri>]* DESCRIBE term+`` (terms:
    IRIs or prefixed names), which a query worker need not run."""
    return _LOOKUP.fullmatch(sparql) is not None
