"""Which queries the HTTP process answers itself (server/lookup.py)."""

from __future__ import annotations

import time

import pytest

from server.lookup import MAX_RESOURCES, MAX_SMALL_LIMIT, is_lookup, is_small

LOOKUPS = [
    "DESCRIBE <http://example.org/id/country/kaz>",
    "describe <http://example.org/a> <http://example.org/b>",
    "PREFIX id: <http://example.org/id/>\nDESCRIBE id:kaz id:uzb",
    "BASE <http://example.org/> PREFIX : <http://example.org/id/> DESCRIBE :kaz <a>",
    "DESCRIBE <http://example.org/ontology#Country>  # a fragment is not a comment",
    "# a comment first\nDESCRIBE <http://example.org/a>\n# and one after",
    "DESCRIBE nope:x",  # not valid (no such prefix): the in-process parse says so, fast
]
NOT_LOOKUPS = [
    "DESCRIBE ?x WHERE { ?x a <http://example.org/C> }",
    "DESCRIBE <http://example.org/a> WHERE { }",
    "DESCRIBE <http://example.org/a> FROM <http://example.org/g>",
    "DESCRIBE *",
    "DESCRIBE",
    "DESCRIBE 'a literal'",
    "SELECT * WHERE { ?s ?p ?o }",
    "ASK { <http://example.org/a> ?p ?o }",
    "PREFIX x <http://example.org/> DESCRIBE x:a",
    "DESCRIBE <http://example.org/a b>",
    "DESCRIBE " + " ".join(f"<http://example.org/{i}>" for i in range(MAX_RESOURCES + 1)),
    "",
]


@pytest.mark.parametrize("sparql", LOOKUPS)
def test_describes_of_named_resources_are_lookups(sparql: str) -> None:
    assert is_lookup(sparql)


@pytest.mark.parametrize("sparql", NOT_LOOKUPS)
def test_anything_with_a_pattern_or_a_dataset_goes_to_a_worker(sparql: str) -> None:
    assert not is_lookup(sparql)


PREFIXES = "PREFIX org: <http://www.w3.org/ns/org#>\nPREFIX : <http://example.org/>\n"
SMALL = [
    PREFIXES + "ASK { ?m a org:Membership ; org:member ?x }\n# request 1-2-3",
    "ASK { ?s ?p ?o }",
    "ask where{?s ?p ?o .}",
    "SELECT * { ?s ?p ?o } LIMIT 10",
    f"SELECT * {{ ?s ?p ?o }} LIMIT {MAX_SMALL_LIMIT}",
    'SELECT ?s ?o WHERE { ?s <http://x/p> ?o . ?o ?q "x"@en } LIMIT 1000',
    "ASK { <http://x/a> :label 'Kaz\\'s'^^<http://x/t> , 12 }",
    PREFIXES + "SELECT ?x { ?x a :C ; :p true } LIMIT 1 # a comment",
]
NOT_SMALL = [
    "ASK { ?s ?p ?o . ?s ?q ?r . ?r ?t ?u }",  # three patterns: the join of two can explode
    "ASK { ?s ?p ?o , ?a , ?b }",
    "ASK { ?s ?p ?o ; ?q ?r ; ?t ?u }",
    "ASK { ?s ?p ?o . ?s ?q ?r ; ?t ?u }",
    "SELECT * { ?s ?p ?o }",  # no LIMIT
    f"SELECT * {{ ?s ?p ?o }} LIMIT {MAX_SMALL_LIMIT + 1}",
    "SELECT DISTINCT ?s { ?s ?p ?o } LIMIT 1",
    "SELECT * { ?s ?p ?o } LIMIT 10 OFFSET 5",
    "SELECT * { ?s ?p ?o } ORDER BY ?s LIMIT 10",
    "SELECT (COUNT(*) AS ?n) { ?s ?p ?o } LIMIT 1",
    "ASK { ?s ?p ?o } LIMIT 1",
    "ASK { ?s ?p ?o FILTER(?o > 1) }",
    "ASK { ?s ?p ?o OPTIONAL { ?o ?q ?r } }",
    "ASK { ?s ?p ?o MINUS { ?s ?p 1 } }",
    "ASK { ?s ?p ?o . BIND(1 AS ?x) }",
    "ASK { ?s ?p ?o . VALUES ?s { <http://x/a> } }",
    "ASK { ?s ?p ?o } VALUES ?s { <http://x/a> }",
    "ASK { GRAPH ?g { ?s ?p ?o } }",
    "ASK { { ?s ?p ?o } }",
    "ASK { ?s org:a/org:b ?o }",
    "ASK { ?s ?p [] }",
    "ASK FROM <http://x/g> { ?s ?p ?o }",
    "SELECT * { ?s ?p ?o SERVICE <http://x/> { ?a ?b ?c } } LIMIT 1",
    "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1",
    "DESCRIBE <http://x/a>",
    "ASK { ?s ?p ?o } # one\nASK { ?s ?p ?o }",
    "",
]


@pytest.mark.parametrize("sparql", SMALL)
def test_asks_and_limited_selects_of_one_or_two_patterns_are_small(sparql: str) -> None:
    assert is_small(sparql)


@pytest.mark.parametrize("sparql", NOT_SMALL)
def test_anything_more_is_not_small(sparql: str) -> None:
    assert not is_small(sparql)


def test_the_scanners_take_linear_time_on_hostile_input() -> None:
    """Possessive matching: no backtracking blow-up on long runs of almost-matching text."""
    hostile = [
        "ASK { " + "?a " * 50_000 + "}",
        "ASK { ?s ?p '" + "\\'" * 50_000,
        "PREFIX a: <x> " * 20_000 + "ASK {",
        "DESCRIBE " + "<a> " * 50_000,
    ]
    for text in hostile:
        started = time.perf_counter()
        is_small(text)
        is_lookup(text)
        assert time.perf_counter() - started < 1.0, text[:40]
