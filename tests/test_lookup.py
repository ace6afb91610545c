"""Which queries the HTTP process answers itself (server/lookup.py)."""

from __future__ import annotations

import pytest

from server.lookup import MAX_RESOURCES, is_lookup

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
