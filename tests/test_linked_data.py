"""Linked data over a running server: every IRI dereferences, every link resolves."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import rdflib
import requests
from pyoxigraph import RdfFormat, Store, serialize
from rdflib.compare import isomorphic

from .conftest import BASE
from .test_server import Server, _copy, _start
from .test_server import corpus_store as corpus_store

RDF_FORMATS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
SUFFIX = {"ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdf": "xml"}


@pytest.fixture(scope="module")
def site(corpus_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    where = tmp_path_factory.mktemp("ld")
    yield from _start(_copy(corpus_store, where), where / "server.log")


@pytest.fixture(scope="module")
def snapshot(site: Server) -> Store:
    """What the store holds, read from the server's own newest snapshot."""
    folder = Path(site.log).parent / "store-snapshots"
    newest = sorted(p for p in folder.iterdir() if p.name.startswith("revision-"))[-1]
    return Store.read_only(str(newest))


def _held(store: Store, iri: str) -> rdflib.Graph:
    """The description the store holds for an IRI (the same DESCRIBE the server runs)."""
    triples = store.query(f"DESCRIBE <{iri}>", use_default_graph_as_union=True)
    data = serialize(triples, format=RdfFormat.N_TRIPLES) or b""
    return rdflib.Graph().parse(data=data.decode("utf-8"), format="nt")


SAMPLES = ["country/kaz", "organization/osce", "place/1526384", "role/chair"]


@pytest.mark.parametrize("path", SAMPLES)
@pytest.mark.parametrize("media", list(RDF_FORMATS))
def test_iris_dereference_by_content_negotiation(
    site: Server, snapshot: Store, path: str, media: str
) -> None:
    response = requests.get(
        f"{site.url}/id/{path}", headers={"Accept": media}, timeout=30, allow_redirects=False
    )
    assert response.status_code == 303 and "Accept" in response.headers["Vary"]
    document = requests.get(
        urljoin(site.url, response.headers["Location"]), headers={"Accept": media}, timeout=30
    )
    assert document.status_code == 200
    assert document.headers["Content-Type"].startswith(media)
    served = rdflib.Graph().parse(data=document.text, format=RDF_FORMATS[media])
    assert len(served) > 0
    assert isomorphic(served, _held(snapshot, BASE + "id/" + path))


@pytest.mark.parametrize("suffix", list(SUFFIX))
def test_suffixes_pick_the_format(site: Server, snapshot: Store, suffix: str) -> None:
    response = requests.get(f"{site.url}/doc/country/kaz.{suffix}", timeout=30)
    assert response.status_code == 200
    served = rdflib.Graph().parse(data=response.text, format=SUFFIX[suffix])
    assert isomorphic(served, _held(snapshot, BASE + "id/country/kaz"))


def test_q_values_are_honoured(site: Server) -> None:
    accept = "text/html;q=0.5, application/ld+json;q=0.9, text/turtle;q=0.1"
    response = requests.get(
        f"{site.url}/id/country/kaz", headers={"Accept": accept}, timeout=30, allow_redirects=False
    )
    assert response.headers["Location"].endswith("/doc/country/kaz.jsonld")


def test_unknown_iris_are_404_pages(site: Server) -> None:
    page = requests.get(f"{site.url}/id/country/zzz", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 404 and "<h1>" in page.text
    assert requests.get(f"{site.url}/doc/organization/nothing.ttl", timeout=30).status_code == 404


def test_entity_page_shows_names_codes_links_memberships(site: Server) -> None:
    page = requests.get(f"{site.url}/doc/country/kaz", timeout=30).text
    assert "<h1>Kazakhstan</h1>" in page
    assert "KAZ" in page and "https://sws.geonames.org/1522867/" in page
    assert "Kazakh SSR" in page  # a former name
    assert "Organization for Security and Co-operation in Europe" in page
    assert "<details><summary>sentence</summary>" in page


def test_article_page_highlights_the_sentences(site: Server, snapshot: Store) -> None:
    (row,) = snapshot.query(
        "SELECT ?a WHERE { ?a <http://purl.org/dc/terms/source> ?s "
        "FILTER(CONTAINS(STR(?s), 'asean-enlargement')) }",
        use_default_graph_as_union=True,
    )
    page = requests.get(site.url + "/" + row["a"].value[len(BASE) :], timeout=30).text
    assert page.count("<mark") >= 5
    assert "/doc/membership/" in page or "/id/membership/" in page


def test_ontology_is_documented_at_its_namespace(site: Server) -> None:
    html = requests.get(f"{site.url}/ontology", headers={"Accept": "text/html"}, timeout=30)
    assert "dg:Membership" in html.text and "http://www.w3.org/ns/org#Membership" in html.text
    ttl = requests.get(f"{site.url}/ontology", headers={"Accept": "text/turtle"}, timeout=30)
    graph = rdflib.Graph().parse(data=ttl.text, format="turtle")
    org = rdflib.Namespace("http://www.w3.org/ns/org#")
    assert (
        rdflib.URIRef(BASE + "ontology#Membership"),
        rdflib.RDFS.subClassOf,
        org.Membership,
    ) in graph


@pytest.mark.parametrize("name", ["ttl", "trig", "nq", "nt"])
def test_dumps_stream_with_validators(site: Server, snapshot: Store, name: str) -> None:
    url = f"{site.url}/dumps/diplograph.{name}"
    head = requests.head(url, timeout=30)
    assert head.status_code == 200 and head.headers["ETag"] and head.headers["Last-Modified"]
    body = requests.get(url, timeout=60)
    assert body.status_code == 200
    again = requests.get(url, headers={"If-None-Match": body.headers["ETag"]}, timeout=30)
    assert again.status_code == 304
    fmt = {"ttl": "turtle", "trig": "trig", "nq": "nquads", "nt": "nt"}[name]
    parsed = rdflib.Dataset() if name in ("trig", "nq") else rdflib.Graph()
    parsed.parse(data=body.text, format=fmt)
    quads = list(snapshot.quads_for_pattern(None, None, None, None))
    if name in ("trig", "nq"):
        assert len(list(parsed.quads((None, None, None, None)))) == len(quads)
    else:
        assert len(parsed) == len({(q.subject, q.predicate, q.object) for q in quads})
    gz = requests.get(url + ".gz", timeout=60)
    assert gzip.decompress(gz.content) == body.content


def test_void_and_sitemap(site: Server) -> None:
    void = rdflib.Graph().parse(
        data=requests.get(f"{site.url}/.well-known/void", timeout=30).text, format="turtle"
    )
    VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
    dataset = next(void.subjects(rdflib.RDF.type, VOID.Dataset))
    assert (dataset, VOID.sparqlEndpoint, rdflib.URIRef(site.url + "/sparql")) in void
    assert int(void.value(dataset, VOID.triples)) > 1000
    assert len(list(void.objects(dataset, VOID.subset))) >= 10  # one per article graph
    sitemap = requests.get(f"{site.url}/sitemap.xml", timeout=30).text
    assert sitemap.count("<loc>") > 50 and "/doc/country/kaz</loc>" in sitemap


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith(("#", "javascript:")):
                self.links.append(value)


def test_crawler_finds_no_broken_link(site: Server) -> None:
    """Follow every same-site link from the home page: no 404, no 500."""
    start = site.url + "/"
    seen: set[str] = set()
    queue = [start, site.url + "/sitemap.xml"]
    broken: list[tuple[str, int, str]] = []
    while queue and len(seen) < 700:
        url = queue.pop(0).split("#", 1)[0]
        if url in seen or urlparse(url).netloc != urlparse(site.url).netloc:
            continue
        seen.add(url)
        response = requests.get(url, timeout=60, headers={"Accept": "text/html"})
        if response.status_code >= 400:
            broken.append((url, response.status_code, response.text[:200]))
            continue
        if "xml" in response.headers.get("Content-Type", "") and url.endswith("sitemap.xml"):
            queue += re.findall(r"<loc>([^<]+)</loc>", response.text)[:200]
            continue
        if "html" not in response.headers.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.text)
        for href in parser.links:
            target = urljoin(url, href)
            if "/sparql?" in target and "example=" not in target:
                continue  # results pages of arbitrary queries are not links to resources
            queue.append(target)
    assert len(seen) > 100
    assert broken == []
