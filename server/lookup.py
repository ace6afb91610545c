"""Which queries the HTTP process answers itself instead of a query worker.

Queries run in worker processes so that one that runs past the time limit can be killed.
The round trip to a worker costs more than a point lookup itself: it capped a DESCRIBE of
one entity at about a fifth of ``oxigraph serve``'s rate (benchmarks/README.md). A
lookup cannot run away: ``DESCRIBE`` of named resources, with no ``WHERE`` and no
``FROM``, reads the statements about those resources and nothing else, so its work is
bounded by its answer (itself capped at the server's byte limit) and by the data, which
only a client holding the write token can change.

A *small query* is an ``ASK``, or a ``SELECT`` of variables with a ``LIMIT`` of at most
:data:`MAX_SMALL_LIMIT`, over one or two triple patterns and nothing else (no
``FILTER``, ``OPTIONAL``, property path, ``FROM``, ``DISTINCT``, ``ORDER BY`` or
``OFFSET``). Its work is at most a pass over the store's quads for each pattern and a
hash join, stopped at the first solution or at the limit: it grows with the store but
cannot run away. Measured over every way two all-variable patterns can share variables,
the worst took :data:`WORST_S_PER_QUAD` per quad in the store (benchmarks/README.md), so
the backend answers one in process only while the store is small enough for that worst
case to take a fraction of the time limit (server/backend.py). Three patterns are not
small: the join of two can be the square of the store before the third is tried.

Anything else, or anything these scanners do not recognise, goes to a worker.
"""

from __future__ import annotations

import re

#: More resources than this in one DESCRIBE go to a worker (the work grows with them).
MAX_RESOURCES = 64
#: A small SELECT needs a LIMIT, of at most this many rows (rows are Python's work here).
MAX_SMALL_LIMIT = 1000
#: The slowest small query measured, per quad in the store: ``ASK { ?a ?b ?c . ?b ?y ?c }``
#: over the 200,689-quad benchmark store took 0.62 s (3.1 us a quad).
WORST_S_PER_QUAD = 3.1e-6

_SKIP = r"(?:\s|\#[^\r\n]*+)"  # white space or a comment
_S = rf"{_SKIP}*+"  # any white space and comments
_IRI = r'<[^<>"{}|^`\\\x00-\x20]*+>'
_PNAME = r"(?:[A-Za-z][\w.-]*+)?+:(?:[\w-][\w.:-]*+)?+"
_PREFIX_NAME = r"(?:[A-Za-z][\w.-]*+)?+:(?![\w-])"  # a prefixed name's prefix part alone
#: PREFIX and BASE declarations. The grammars below are each one expression, matched in C:
#: a keyword must be followed by white space, a comment or (but PREFIX) an IRI, as it is
#: no keyword otherwise.
_PROLOGUE = rf"""{_S}
    (?:(?i:PREFIX)(?=[\s\#]){_S}{_PREFIX_NAME}{_S}{_IRI}{_S}
      |(?i:BASE)(?=[\s\#<]){_S}{_IRI}{_S})*+"""
_LOOKUP = re.compile(
    rf"""{_PROLOGUE}
    (?i:DESCRIBE)(?=[\s\#<])
    (?:{_S}(?:{_IRI}|{_PNAME})){{1,{MAX_RESOURCES}}}
    {_S}""",
    re.VERBOSE,
)

_VAR = r"[?$]\w++"
_LITERAL = (
    r"""(?:"(?:[^"\\\r\n]|\\.)*+"|'(?:[^'\\\r\n]|\\.)*+')"""
    rf"(?:@[A-Za-z]++(?:-[A-Za-z0-9]++)*+|\^\^(?:{_IRI}|{_PNAME}))?+"
    r"|[+-]?+\d++(?:\.\d++)?+(?![\w.])|(?:true|false)(?![\w:])"
)
_SUBJECT = rf"(?:{_VAR}|{_IRI}|{_PNAME})"
_VERB = rf"(?:{_VAR}|{_IRI}|{_PNAME}|a(?![\w:.-]))"
_OBJECT = rf"(?:{_VAR}|{_IRI}|{_PNAME}|{_LITERAL})"
#: One triple pattern, or two: ``s p o , o``, ``s p o ; p o`` or ``s p o . s p o``.
_PATTERNS = (
    rf"{_SUBJECT}{_S}{_VERB}{_S}{_OBJECT}"
    rf"(?:{_S}(?:,{_S}{_OBJECT}|;{_S}{_VERB}{_S}{_OBJECT}|\.{_S}{_SUBJECT}{_S}{_VERB}{_S}{_OBJECT}))?+"
    rf"(?:{_S};)?+(?:{_S}\.)?+"
)
_SMALL = re.compile(
    rf"""{_PROLOGUE}
    (?:(?P<ask>(?i:ASK))(?=[\s\#{{])
      |(?i:SELECT)(?=[\s\#*?$]){_S}(?:\*|{_VAR}(?:{_S}{_VAR})*+))
    {_S}(?:(?i:WHERE)(?=[\s\#{{]){_S})?+
    \{{{_S}{_PATTERNS}{_S}\}}
    (?:{_S}(?i:LIMIT)(?=[\s\#]){_S}(?P<limit>\d{{1,9}}))?+
    {_S}""",
    re.VERBOSE,
)


def is_small(sparql: str) -> bool:
    """Whether ``sparql`` is an ``ASK``, or a ``SELECT`` of variables with a ``LIMIT`` of
    at most :data:`MAX_SMALL_LIMIT`, over one or two triple patterns (see above)."""
    match = _SMALL.fullmatch(sparql)
    if match is None:
        return False
    limit = match["limit"]
    if match["ask"]:
        return limit is None  # an ASK with solution modifiers is not worth the case
    return limit is not None and int(limit) <= MAX_SMALL_LIMIT


def is_lookup(sparql: str) -> bool:
    """Whether ``sparql`` is ``[PREFIX p: <iri> | BASE <iri>]* DESCRIBE term+`` (terms:
    IRIs or prefixed names), which a query worker need not run."""
    return _LOOKUP.fullmatch(sparql) is not None
