"""The saved queries in queries/: they parse, run with their defaults over the sample
corpus, give the expected facts, and take parameter values only as RDF terms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Store, Variable

from graph.saved import DISPLAYS, SavedQuery, SavedQueryError, parse
from server.worker import Request, execute

from .conftest import BASE, CORPUS_DIR, ROOT

QUERY_DIR = ROOT / "queries"
QUERY_FILES = sorted(QUERY_DIR.glob("*.rq"))
PARAM_FILES = [p for p in QUERY_FILES if "\n#+ params:" in p.read_text(encoding="utf-8")]
#: A value for a parameter without a default, by type (those of the sample corpus).
SAMPLE_VALUES = {
    "country": "KAZ",
    "organization": "osce",
    "place": "1526273",
    "string": "a",
    "integer": "1",
    "year": "2010",
    "date": "2010-12-01",
}
INJECTIONS = ('x" } ; DROP ALL ; #', "<http://x> } ; DROP ALL")


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the sample corpus, built with the command line."""
    path = tmp_path_factory.mktemp("queries") / "store"
    command = [sys.executable, "-m", "diplograph.cli", "ingest", str(CORPUS_DIR)]
    result = subprocess.run(
        [*command, "--store", str(path), "--quiet"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def store(store_path: Path) -> Store:
    return Store.read_only(str(store_path))


@pytest.fixture(scope="module")
def samples(store: Store) -> dict[str, str]:
    """Values for parameters that have no default: a fact and an article of the store.

    Their IRIs depend on where the corpus lies (an article is named from its source), so
    they are looked up rather than written down.
    """
    fact = next(
        iter(
            store.query(
                "PREFIX org: <http://www.w3.org/ns/org#> PREFIX schema: <https://schema.org/> "
                "SELECT ?m WHERE { ?m org:member <http://127.0.0.1:5000/id/country/kaz> ; "
                "org:organization <http://127.0.0.1:5000/id/organization/osce> ; "
                "schema:startDate ?d FILTER(STR(?d) = '2010') } LIMIT 1",
                use_default_graph_as_union=True,
            )
        )
    )["m"].value
    article = next(
        iter(
            store.query(
                "SELECT ?a WHERE { ?a <http://purl.org/dc/terms/source> ?s "
                "FILTER(CONTAINS(STR(?s), 'kazakhstan-diplomacy-milestones')) }",
                use_default_graph_as_union=True,
            )
        )
    )["a"].value
    return {"fact": fact, "article": article}


def with_samples(query: SavedQuery, samples: dict[str, str]) -> dict[str, str]:
    return {p.name: samples[p.name] for p in query.params if not p.default and p.name in samples}


@pytest.fixture
def writable(store: Store) -> Store:
    """An in-memory copy that an injected update could change (the snapshot cannot)."""
    copy = Store()
    copy.bulk_extend(store.quads_for_pattern(None, None, None, None))
    return copy


def load(name: str) -> SavedQuery:
    path = QUERY_DIR / f"{name}.rq"
    return parse(path.read_text(encoding="utf-8"), name, path)


def bindings(query: SavedQuery, values: dict[str, str]) -> tuple[tuple[str, ...], ...]:
    """Parameter values as the worker gets them (as server.saved.bindings makes them)."""
    out: list[tuple[str, ...]] = []
    for name, term in query.bind(values, BASE).items():
        if isinstance(term, NamedNode):
            out.append((name, term.value))
        else:
            assert isinstance(term, Literal)
            out.append((name, term.value, term.datatype.value, term.language or ""))
    return tuple(out)


def run(
    store: Store, query: SavedQuery, values: dict[str, str] | None = None
) -> tuple[list[str], list[dict[str, str]]]:
    """Variables and rows (variable -> value) of a saved query run like the server runs it."""
    request = Request(
        snapshot="",
        sparql=query.sparql,
        solution_format="json",
        graph_format="turtle",
        bindings=bindings(query, values or {}),
    )
    response = execute(store, request)
    assert response.status == 200, response.body.decode("utf-8", "replace")
    data = json.loads(response.body)
    rows = [{k: v["value"] for k, v in row.items()} for row in data["results"]["bindings"]]
    return data["head"]["vars"], rows


def test_there_are_enough_saved_queries() -> None:
    assert len(QUERY_FILES) >= 12, [p.name for p in QUERY_FILES]


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_query_file_is_complete(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    query = parse(text, path.stem, path)
    assert "\n#+ title:" in "\n" + text and query.title.strip()
    assert query.description.strip()
    assert query.tags
    assert query.display_type in DISPLAYS
    for key in ("label", "value", "start", "end"):
        if key in query.display:
            assert f"?{query.display[key]}" in query.sparql, key
    for param in query.params:
        assert param.label and param.description, param.name
        if param.required and param.default is None:
            # Only a choice the user must make (an article, a fact) has no default.
            assert param.type in ("article", "iri"), f"{param.name} is required, no default"


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_query_runs_with_its_defaults(store: Store, samples: dict, path: Path) -> None:
    query = load(path.stem)
    variables, rows = run(store, query, with_samples(query, samples))
    assert rows, f"{path.stem} gives no results with its default parameters"
    for key in ("label", "value", "start", "end"):
        if key in query.display:
            assert query.display[key] in variables, key
    if query.display_type == "bar":
        assert all(int(row[query.display["value"]]) > 0 for row in rows)


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_query_is_valid_sparql_on_its_own(store: Store, path: Path) -> None:
    query = load(path.stem)
    response = execute(store, Request("", query.sparql, "json", "turtle"))
    assert response.status == 200, response.body.decode("utf-8", "replace")


@pytest.mark.parametrize("path", PARAM_FILES, ids=lambda p: p.stem)
def test_parameters_are_bound_by_the_engine(store: Store, samples: dict, path: Path) -> None:
    """Every parameter is projected, so pyoxigraph substitutes it everywhere (FILTERs too).

    Otherwise the worker falls back to a trailing VALUES clause, which is joined after the
    WHERE clause and its aggregates: a FILTER would see the variable unbound.
    """
    query = load(path.stem)
    values = {
        p.name: p.default or SAMPLE_VALUES.get(p.type) or samples[p.name] for p in query.params
    }
    terms = query.bind(values, BASE)
    substitutions = {Variable(name): term for name, term in terms.items()}
    store.query(query.sparql, substitutions=substitutions, use_default_graph_as_union=True)
    _, rows = run(store, query, values)
    assert rows


def test_country_memberships_of_kazakhstan(store: Store) -> None:
    _, rows = run(store, load("country-memberships"), {"country": "KAZ"})
    assert {row["country"] for row in rows} == {f"{BASE}id/country/kaz"}
    assert any(
        row["organization"] == f"{BASE}id/organization/osce"
        and row["role"] == f"{BASE}id/role/chair"
        and row.get("start") == "2010"
        for row in rows
    ), rows
    assert len({row["membership"] for row in rows}) == len(rows), "duplicate rows"


def test_organization_members_of_asean(store: Store) -> None:
    _, rows = run(store, load("organization-members"), {"organization": "asean"})
    assert {row["organization"] for row in rows} == {f"{BASE}id/organization/asean"}
    assert any(
        row["member"] == f"{BASE}id/country/idn"
        and row["memberLabel"] == "Indonesia"
        and row["roleLabel"] == "founding member"
        for row in rows
    ), rows


def test_chairmanships_of_one_country_or_all(store: Store) -> None:
    query = load("chairmanships")
    _, everyone = run(store, query)
    _, kazakhstan = run(store, query, {"country": "kaz"})
    assert {row["country"] for row in kazakhstan} == {f"{BASE}id/country/kaz"}
    assert len({row["country"] for row in everyone}) > 1
    assert len(kazakhstan) < len(everyone)


def test_events_timeline_keeps_to_the_years(store: Store) -> None:
    _, rows = run(store, load("events-timeline"), {"year_from": "2010", "year_to": "2012"})
    assert rows
    assert all("2010" <= row["start"][:4] <= "2012" for row in rows), rows
    assert all(row["until"] == row.get("end", row["start"]) for row in rows)
    assert any(row["eventLabel"] == "OSCE summit" for row in rows)


def test_events_in_place_by_geonames_id(store: Store) -> None:
    _, rows = run(store, load("events-in-place"), {"place": "1526273"})  # Astana
    assert {row["placeLabel"] for row in rows} == {"Astana"}
    assert any(row["eventLabel"] == "OSCE summit" for row in rows)


def test_fact_provenance_gives_the_sentence(store: Store, samples: dict) -> None:
    _, rows = run(store, load("fact-provenance"), {"fact": samples["fact"]})
    assert rows
    for row in rows:
        assert "Kazakhstan" in row["sentence"]
        assert int(row["beginIndex"]) < int(row["endIndex"])
        assert row["mention"].startswith(row["article"] + "#char=")
        assert row["source"].startswith("file:///")


def test_article_facts_come_from_that_article(store: Store, samples: dict) -> None:
    query = load("article-facts")
    _, rows = run(store, query, {"article": samples["article"]})
    assert rows
    assert {row["article"] for row in rows} == {samples["article"]}
    assert {row["kind"] for row in rows} == {"membership", "event"}
    assert all(row["sentence"] for row in rows)


def test_entity_aliases_search(store: Store) -> None:
    _, rows = run(store, load("entity-aliases"), {"name": "alma-ata"})
    assert [row["entityLabel"] for row in rows] == ["Almaty"]
    assert "Alma-Ata" in rows[0]["formerNames"]


def test_articles_count_their_facts(store: Store) -> None:
    _, rows = run(store, load("articles"))
    assert len(rows) == len([p for p in CORPUS_DIR.iterdir() if p.is_file()])
    assert all(int(r["facts"]) == int(r["memberships"]) + int(r["events"]) for r in rows)


@pytest.mark.parametrize(
    ("name", "param", "value"),
    [
        ("events-timeline", "year_from", "20x5"),
        ("events-timeline", "year_to", "99"),
        ("country-memberships", "country", "not a country!"),
        ("country-memberships", "country", f"{BASE}id/organization/osce"),
        ("organization-members", "organization", "no such thing/here"),
        ("events-in-place", "place", "Almaty city"),
        ("fact-provenance", "fact", "not an iri"),
    ],
)
def test_bad_parameter_values_are_refused(name: str, param: str, value: str) -> None:
    with pytest.raises(SavedQueryError) as err:
        load(name).bind({param: value}, BASE)
    assert err.value.param == param
    assert param in str(err.value)


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(SavedQueryError) as err:
        load("country-memberships").bind({"contry": "KAZ"}, BASE)
    assert err.value.param == "contry"


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize(
    ("name", "param"),
    [("fact-provenance", "fact"), ("article-facts", "article"), ("country-memberships", "country")],
)
def test_injection_into_iri_parameters_is_refused(name: str, param: str, value: str) -> None:
    with pytest.raises(SavedQueryError) as err:
        load(name).bind({param: value}, BASE)
    assert err.value.param == param


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_into_a_string_parameter_is_a_plain_value(writable: Store, value: str) -> None:
    before = len(writable)
    variables, rows = run(writable, load("entity-aliases"), {"name": value})
    assert "name" in variables
    assert rows == []  # no name contains that text
    assert len(writable) == before


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_through_the_values_fallback_is_a_plain_value(
    writable: Store, value: str
) -> None:
    """A parameter the query does not project goes into a trailing VALUES clause."""
    query = parse(
        "#+ title: Labels\n"
        "#+ description: Things with a label.\n"
        "#+ params: [{name: label, type: string}]\n"
        "SELECT ?thing WHERE { ?thing <http://www.w3.org/2000/01/rdf-schema#label> ?label }\n",
        "labels",
    )
    with pytest.raises(RuntimeError):  # so the worker takes the VALUES path
        writable.query(query.sparql, substitutions={Variable("label"): Literal(value)})
    before = len(writable)
    _, rows = run(writable, query, {"label": value})
    assert rows == []
    _, rows = run(writable, query, {"label": "Almaty"})
    assert rows == []  # the label is "Almaty"@en, not the plain string
    assert len(writable) == before
