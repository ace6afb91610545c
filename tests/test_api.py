"""Saved queries over HTTP: the JSON API, caching validators, OpenAPI, saving new queries."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate

from .conftest import ROOT
from .test_server import Server, _copy, _start
from .test_server import corpus_store as corpus_store

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def site(corpus_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a write token and its own copy of the saved queries."""
    where = tmp_path_factory.mktemp("api")
    queries = where / "queries"
    shutil.copytree(ROOT / "queries", queries)
    yield from _start(
        _copy(corpus_store, where),
        where / "server.log",
        "--write-token",
        TOKEN,
        env={"DIPLOGRAPH_QUERIES": str(queries)},
    )


def test_list_of_queries_with_parameters(site: Server) -> None:
    listing = requests.get(site.url + "/api/queries", timeout=30).json()
    names = {q["name"] for q in listing}
    assert len(names) >= 12 and "country-memberships" in names
    query = next(q for q in listing if q["name"] == "country-memberships")
    assert query["params"][0]["name"] == "country" and query["params"][0]["type"] == "country"


def test_results_by_suffix_and_by_accept(site: Server) -> None:
    url = site.url + "/api/queries/organization-members"
    as_json = requests.get(url + ".json", params={"organization": "asean"}, timeout=30)
    assert as_json.headers["Content-Type"].startswith("application/sparql-results+json")
    bindings = as_json.json()["results"]["bindings"]
    assert any(b["memberLabel"]["value"] == "Indonesia" for b in bindings)
    as_csv = requests.get(url + ".csv", params={"organization": "asean"}, timeout=30)
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    assert any(
        r.get("memberLabel") == "Indonesia" for r in csv.DictReader(io.StringIO(as_csv.text))
    )
    tsv = requests.get(
        url,
        params={"organization": "asean"},
        headers={"Accept": "text/tab-separated-values"},
        timeout=30,
    )
    assert tsv.headers["Content-Type"].startswith("text/tab-separated-values")


def test_bad_parameters_are_400_naming_the_parameter(site: Server) -> None:
    url = site.url + "/api/queries/events-timeline.json"
    bad = requests.get(url, params={"year_from": "20x5"}, timeout=30)
    assert bad.status_code == 400 and "year_from" in bad.text
    unknown = requests.get(url, params={"yaer_from": "2000"}, timeout=30)
    assert unknown.status_code == 400 and "yaer_from" in unknown.text
    injection = requests.get(
        site.url + "/api/queries/country-memberships.json",
        params={"country": "KAZ> } ; DROP ALL ; #"},
        timeout=30,
    )
    assert injection.status_code == 400 and "country" in injection.text
    assert requests.get(site.url + "/api/queries/nope.json", timeout=30).status_code == 404


def test_cached_results_revalidate_with_etag(site: Server) -> None:
    url = site.url + "/api/queries/organizations-by-members.json"
    first = requests.get(url, timeout=30)
    assert first.headers["ETag"] and "no-cache" in first.headers["Cache-Control"]
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    # A write changes the revision, and with it the validator.
    requests.post(
        site.url + "/sparql",
        data="INSERT DATA { <http://x/a> <http://x/b> 1 }",
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    after = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert after.status_code == 200 and after.headers["ETag"] != first.headers["ETag"]


def test_openapi_document_validates(site: Server) -> None:
    doc = requests.get(site.url + "/api/openapi.json", timeout=30).json()
    validate(doc)
    op = doc["paths"]["/api/queries/country-memberships"]["get"]
    assert [p["name"] for p in op["parameters"]] == ["country"]


def test_saving_a_query_needs_the_token_and_a_safe_name(site: Server) -> None:
    form = {
        "name": "kazakh-memberships",
        "title": "Kazakh memberships",
        "description": "Test",
        "params": "country:country:KAZ",
        "display": "table",
        "query": "PREFIX org: <http://www.w3.org/ns/org#>\n"
        "SELECT ?country ?o WHERE { ?m org:member ?country ; org:organization ?o }",
    }
    refused = requests.post(site.url + "/queries", data=form, timeout=30, allow_redirects=False)
    assert refused.status_code == 401
    escape = requests.post(
        site.url + "/queries",
        data={**form, "name": "../escape", "token": TOKEN},
        timeout=30,
        allow_redirects=False,
    )
    assert escape.status_code == 400 and "name" in escape.text
    saved = requests.post(
        site.url + "/queries", data={**form, "token": TOKEN}, timeout=30, allow_redirects=False
    )
    assert saved.status_code == 303 and saved.headers["Location"].endswith(
        "/queries/kazakh-memberships"
    )
    page = requests.get(site.url + "/queries/kazakh-memberships", timeout=30)
    assert page.status_code == 200 and "Kazakh memberships" in page.text
    result = requests.get(site.url + "/api/queries/kazakh-memberships.json", timeout=30).json()
    assert result["results"]["bindings"]


def test_gzipped_and_plain_results_have_their_own_validators(site: Server) -> None:
    url = site.url + "/api/queries/organizations-by-members.json"
    zipped = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=30)
    plain = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=30)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert zipped.json() == plain.json()
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    again = requests.get(
        url,
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
        timeout=30,
    )
    assert again.status_code == 304
