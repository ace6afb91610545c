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

_TOKEN = re.compile(
    r"""(?P<skip>\s+|\#[^\r\n]*)
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<pname>(?:[A-Za-z][\w.-]*)?:(?:[\w-][\w.:-]*)?)
    |(?P<word>[A-Za-z]+)""",
    re.VERBOSE,
)


def _tokens(sparql: str) -> list[tuple[str, str]] | None:
    """(kind, text) of each token, or None at the first thing that is none of these."""
    tokens: list[tuple[str, str]] = []
    pos, end = 0, len(sparql)
    while pos < end:
        match = _TOKEN.match(sparql, pos)
        if match is None or len(tokens) > 3 * MAX_RESOURCES:
            return None
        pos = match.end()
        kind = match.lastgroup or ""
        if kind != "skip":
            tokens.append((kind, match.group()))
    return tokens


def is_lookup(sparql: str) -> bool:
    """Whether ``sparql`` is ``[PREFIX p: <iri> | BASE <iri>]* DESCRIBE term+`` (terms:
    IRIs or prefixed names), which a query worker need not run."""
    tokens = _tokens(sparql)
    if not tokens:
        return False
    i = 0
    while i < len(tokens) and tokens[i][0] == "word":
        word = tokens[i][1].upper()
        if word == "PREFIX" and [k for k, _ in tokens[i + 1 : i + 3]] == ["pname", "iri"]:
            if not tokens[i + 1][1].endswith(":"):
                return False
            i += 3
        elif word == "BASE" and [k for k, _ in tokens[i + 1 : i + 2]] == ["iri"]:
            i += 2
        else:
            break
    if i >= len(tokens) or tokens[i][0] != "word" or tokens[i][1].upper() != "DESCRIBE":
        return False
    resources = tokens[i + 1 :]
    return 0 < len(resources) <= MAX_RESOURCES and all(
        kind in ("iri", "pname") for kind, _ in resources
    )
