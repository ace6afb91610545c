"""The server over a remote store: the same HTTP tests, served from a real ``oxigraph serve``.

``diplograph serve --store-url URL`` answers the SPARQL protocol, the saved-query API and
the linked-data pages from a remote SPARQL 1.1 store instead of the embedded one. The
tests below are the ones the embedded server passes (imported from their modules, so that
they run here against this module's fixtures): the corpus is ingested into an ``oxigraph
serve`` with ``diplograph ingest --store-url``, and a ``diplograph serve --store-url`` is
started in front of it. The Oxigraph server keeps its default graph apart from the named
graphs (no ``--union-default-graph``), the case where diplograph has to name the graphs.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pyoxigraph import RdfFormat, Store

from . import test_api, test_linked_data, test_server
from .conftest import BASE, CORPUS_DIR, ROOT

# The tests that do not depend on how the embedded store works inside (worker processes,
# snapshots on disk), run here as they are.
from .test_api import (  # noqa: F401
    test_bad_parameters_are_400_naming_the_parameter,
    test_cached_results_revalidate_with_etag,
    test_list_of_queries_with_parameters,
    test_openapi_document_validates,
    test_results_by_suffix_and_by_accept,
)
from .test_linked_data import (  # noqa: F401
    test_article_page_highlights_the_sentences,
    test_crawler_finds_no_broken_link,
    test_dumps_stream_with_validators,
    test_entity_page_shows_names_codes_links_memberships,
    test_iris_dereference_by_content_negotiation,
    test_ontology_is_documented_at_its_namespace,
    test_q_values_are_honoured,
    test_suffixes_pick_the_format,
    test_unknown_iris_are_404_pages,
    test_void_and_sitemap,
)
from .test_remote import Oxigraph, diplograph
from .test_server import (  # noqa: F401
    Server,
    _start,
    test_an_invalid_update_is_refused_whole,
    test_an_update_with_the_token_is_visible_to_the_next_query,
    test_any_or_no_accept_gives_json,
    test_default_graph_uri_selects_one_article_graph,
    test_graph_results_in_each_rdf_format,
    test_graph_store_protocol_lifecycle,
    test_named_graph_uri_limits_the_graphs_of_graph_patterns,
    test_query_get_post_form_and_post_direct_agree,
    test_rdflib_sparqlstore_finds_kazakhstan_chairing_the_osce,
    test_select_in_each_results_format,
    test_sparqlwrapper_construct_becomes_an_rdflib_graph,
    test_sparqlwrapper_select_in_json_xml_csv_tsv,
    test_updates_without_the_right_token_change_nothing,
)

assert test_api.TOKEN and test_linked_data.SAMPLES and test_server.TOKEN  # modules in use


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oxigraph]:
    """An ``oxigraph serve`` holding the sample corpus, ingested by the command line."""
    srv = Oxigraph(tmp_path_factory.mktemp("oxigraph-corpus") / "db").start()
    try:
        result = diplograph("ingest", str(CORPUS_DIR), "--store-url", srv.url, "-q")
        assert result.returncode == 0, result.stderr
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def site(oxigraph: Oxigraph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``diplograph serve --store-url`` over the corpus, with a token and its own queries."""
    where = tmp_path_factory.mktemp("remote-site")
    queries = where / "queries"
    shutil.copytree(ROOT / "queries", queries)
    yield from _start(
        where / "store",
        where / "server.log",
        "--write-token",
        test_api.TOKEN,
        remote=oxigraph.url,
        env={"DIPLOGRAPH_QUERIES": str(queries)},
    )


@pytest.fixture(scope="module")
def ro(site: Server) -> Server:
    """The protocol tests that only read use the same server."""
    return site


@pytest.fixture(scope="module")
def rw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Writable with a token, over an empty ``oxigraph serve --union-default-graph``.

    Clients write to the default graph here; a store whose default graph is kept apart
    from the named graphs would hide those triples from queries (README: "Serving a
    remote store").
    """
    where = tmp_path_factory.mktemp("remote-rw")
    srv = Oxigraph(where / "db", "--union-default-graph").start()
    try:
        yield from _start(
            where / "store",
            where / "server.log",
            "--write-token",
            test_server.TOKEN,
            remote=srv.url,
        )
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def snapshot(oxigraph: Oxigraph) -> Store:
    """What the remote store holds, fetched whole with the Graph Store Protocol."""
    resp = requests.get(
        oxigraph.url + "/store", headers={"Accept": "application/n-quads"}, timeout=60
    )
    assert resp.status_code == 200, resp.text
    store = Store()
    store.load(resp.content, format=RdfFormat.N_QUADS)
    return store


def test_health_names_the_remote_store(site: Server, oxigraph: Oxigraph) -> None:
    health = site.health()
    assert health["status"] == "ok" and health["store"] == oxigraph.url
    assert health["revision"] == site.revision() > 0


def test_writes_elsewhere_are_seen_by_the_server(
    site: Server, oxigraph: Oxigraph, tmp_path: Path
) -> None:
    """An article ingested straight into the remote store shows on the server's pages."""
    article = tmp_path / "chile.txt"
    article.write_text(
        "Chile in the OECD\n\nChile became a member of the OECD in 2010.\n", encoding="utf-8"
    )
    before = site.revision()
    result = diplograph("ingest", str(article), "--store-url", oxigraph.url, "-q")
    assert result.returncode == 0, result.stderr
    query = (
        "PREFIX org: <http://www.w3.org/ns/org#> "
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        f"ASK {{ ?m org:member <{BASE}id/country/chl> ; "
        "org:organization/rdfs:label ?o . FILTER(CONTAINS(?o, 'Economic')) }"
    )
    deadline = time.monotonic() + 10
    while not site.ask(query):  # the server reads the revision at most once a second
        assert time.monotonic() < deadline, "the new article never showed"
        time.sleep(0.2)
    assert site.revision() > before
    page = requests.get(f"{site.url}/doc/country/chl.html", timeout=30)
    assert page.status_code == 200 and "Chile" in page.text
    removed = diplograph("remove", str(article), "--store-url", oxigraph.url)
    assert removed.returncode == 0, removed.stderr


def test_a_stopped_store_gives_503_and_the_server_keeps_serving(tmp_path: Path) -> None:
    srv = Oxigraph(tmp_path / "db").start()
    assert diplograph("ingest", str(CORPUS_DIR), "--store-url", srv.url, "-q").returncode == 0
    servers = _start(tmp_path / "store", tmp_path / "server.log", remote=srv.url)
    server = next(servers)
    try:
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        assert server.query(query).status_code == 200
        srv.stop()
        down = server.query(query + " # after the store stopped")
        assert down.status_code == 503
        assert "store unavailable" in down.text and srv.url in down.text
        assert requests.get(server.url + "/health", timeout=10).status_code == 200
        srv.start()
        assert server.query(query + " # again").status_code == 200
    finally:
        servers.close()
        srv.stop()
