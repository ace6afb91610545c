"""The store-level checks on every store: embedded (pyoxigraph) and remote (`oxigraph serve`,
Virtuoso).

The remote store is a real ``oxigraph serve`` started here on a free port, and a real
Virtuoso (``virtuoso-t``, see tests/virtuoso.py) when Debian's ``virtuoso-opensource`` is
installed; otherwise the Virtuoso cases are skipped. Failures are
real too: a server stopped in the middle of an ingest, a read-only server
(``oxigraph serve-read-only``), a wrong Graph Store URL, and a small proxy in front of
the server that answers 503 or 401 where told to.
"""

from __future__ import annotations

import http.server
import io
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pyoxigraph import NamedNode, Quad, QuerySolutions, RdfFormat, parse

from diplograph.ingest import ingest
from extract.reader import read_file
from extract.serialize import FORMATS
from graph.base import KnowledgeStore, StoreError
from graph.remote import RemoteStore
from graph.store import GraphStore
from graph.validate import Validator

from .conftest import BASE, CORPUS_DIR, ROOT, free_port, stop_process
from .virtuoso import Virtuoso

META = NamedNode(BASE + "graph/meta")
OXIGRAPH = Path(sys.executable).with_name("oxigraph")
CORPUS = sorted(p for p in CORPUS_DIR.iterdir() if not p.name.startswith("."))
FAST = {"retries": 3, "backoff": 0.01, "timeout": 10.0}


class Oxigraph:
    """An ``oxigraph serve`` process on a free port, over a directory that outlives it."""

    def __init__(self, location: Path, *extra: str, command: str = "serve") -> None:
        self.location, self.extra, self.command = location, extra, command
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Oxigraph:
        if not OXIGRAPH.exists():
            pytest.fail(f"the oxigraph command is missing from {OXIGRAPH.parent}")
        self.proc = subprocess.Popen(
            [
                str(OXIGRAPH),
                self.command,
                "--location",
                str(self.location),
                "--bind",
                f"127.0.0.1:{self.port}",
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/query", params={"query": "ASK {}"}, timeout=1)
                return self
            except requests.ConnectionError:
                assert self.proc.poll() is None, "oxigraph serve exited"
                time.sleep(0.05)
        raise RuntimeError(f"oxigraph serve did not answer on {self.url}")

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def clear(self) -> None:
        resp = requests.post(
            f"{self.url}/update",
            data="DROP ALL",
            headers={"Content-Type": "application/sparql-update"},
            timeout=30,
        )
        resp.raise_for_status()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oxigraph]:
    srv = Oxigraph(tmp_path_factory.mktemp("oxigraph") / "db").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(BASE)


def _remote(server: Oxigraph, **kwargs: object) -> RemoteStore:
    server.clear()
    return RemoteStore.from_url(server.url, base=BASE, **{**FAST, **kwargs})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    """A Virtuoso server (skipped when virtuoso-opensource is not installed)."""
    srv = Virtuoso(tmp_path_factory.mktemp("virtuoso") / "db").start()
    yield srv
    srv.stop()


def _virtuoso(srv: Virtuoso, **kwargs: object) -> RemoteStore:
    """Virtuoso: queries and updates at /sparql, the Graph Store Protocol elsewhere."""
    srv.clear()
    return RemoteStore(
        srv.sparql, srv.sparql, srv.gsp, base=BASE, url=srv.url, **{**FAST, **kwargs}
    )  # type: ignore[arg-type]


@pytest.fixture(params=["embedded", "remote", "virtuoso"])
def kstore(request: pytest.FixtureRequest, tmp_path: Path):
    """Each store-level test runs on every implementation: embedded, Oxigraph, Virtuoso."""
    store: KnowledgeStore
    if request.param == "embedded":
        store = GraphStore(tmp_path / "store", BASE)
    elif request.param == "remote":
        store = _remote(request.getfixturevalue("server"))
    else:
        store = _virtuoso(request.getfixturevalue("virtuoso"))
    with store:
        yield store


def content(store: KnowledgeStore) -> set[Quad]:
    """Everything but the bookkeeping graph, through the public interface (an export)."""
    buf = io.BytesIO()
    store.dump(buf, "nquads")
    return {q for q in parse(buf.getvalue(), format=RdfFormat.N_QUADS) if q.graph_name != META}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- both stores


def test_both_stores_have_the_one_interface(kstore: KnowledgeStore) -> None:
    assert isinstance(kstore, KnowledgeStore)
    assert kstore.revision() == 1  # the ontology was written
    assert not kstore.ensure_ontology()


def test_ingest_is_idempotent(kstore: KnowledgeStore, validator: Validator) -> None:
    summary = ingest([CORPUS_DIR], kstore, progress=False, validator=validator)
    assert summary.written == len(CORPUS) and not summary.rejected
    before, revision = content(kstore), kstore.revision()
    again = ingest([CORPUS_DIR], kstore, progress=False, validator=validator)
    assert again.written == 0 and again.unchanged == len(CORPUS) and not again.rejected
    assert content(kstore) == before and kstore.revision() == revision
    assert len(kstore.article_graphs()) == len(CORPUS)
    assert sorted(source for _, source, _ in kstore.articles()) == sorted(
        p.resolve().as_uri() for p in CORPUS
    )


def test_an_edited_article_replaces_its_facts(
    kstore: KnowledgeStore, tmp_path: Path, validator: Validator
) -> None:
    path = _write(tmp_path / "news.txt", "Chile news\n\nChile joined the OECD in May 2010.\n")
    ingest([path], kstore, progress=False, validator=validator)
    _write(path, "Chile news\n\nChile joined the Pacific Alliance in 2012.\n")
    assert ingest([path], kstore, progress=False, validator=validator).written == 1
    orgs = {
        r["o"].value
        for r in kstore.query("SELECT ?o WHERE { ?m <http://www.w3.org/ns/org#organization> ?o }")  # type: ignore[attr-defined]
    }
    assert orgs == {BASE + "id/organization/pacific-alliance"}


def test_remove_keeps_labels_other_articles_need(
    kstore: KnowledgeStore, tmp_path: Path, validator: Validator
) -> None:
    a = _write(tmp_path / "a.txt", "One\n\nKazakhstan joined the WTO in 2015.\n")
    b = _write(
        tmp_path / "b.txt", "Two\n\nKazakhstan joined the Eurasian Economic Union in 2015.\n"
    )
    ingest([a, b], kstore, progress=False, validator=validator)
    key = read_file(a).key
    assert kstore.remove_article(key)
    assert not kstore.article_quads(key)
    labels = {
        r["s"].value
        for r in kstore.query(  # type: ignore[attr-defined]
            f"SELECT ?s WHERE {{ GRAPH <{BASE}graph/entities> "
            "{ ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } }"
        )
    }
    assert BASE + "id/country/kaz" in labels  # b still needs it
    assert BASE + "id/organization/eaeu" in labels
    assert BASE + "id/organization/wto" not in labels  # nobody needs it any more
    assert not kstore.remove_article(key)


@pytest.mark.parametrize("fmt", ["trig", "nquads"])
def test_export_then_import_into_an_embedded_store(
    kstore: KnowledgeStore, tmp_path: Path, validator: Validator, fmt: str
) -> None:
    ingest(CORPUS[:4], kstore, progress=False, validator=validator)
    out = tmp_path / f"dump.{fmt}"
    with out.open("wb") as fh:
        kstore.dump(fh, fmt)
    with GraphStore(tmp_path / "copy", BASE) as copy:
        copy.bulk_load(out, FORMATS[fmt])
        assert content(copy) == content(kstore)
        assert len(copy.article_graphs()) == 4


@pytest.mark.parametrize("kind", ["oxigraph", "virtuoso"])
def test_a_remote_store_takes_an_import(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str
) -> None:
    with GraphStore(tmp_path / "local", BASE) as local:
        ingest(CORPUS[:3], local, progress=False)
        out = tmp_path / "dump.trig"
        with out.open("wb") as fh:
            local.dump(fh, "trig")
        expected = content(local)
    remote = (
        _remote(request.getfixturevalue("server"))
        if kind == "oxigraph"
        else _virtuoso(request.getfixturevalue("virtuoso"))
    )
    with remote:
        remote.bulk_load(out, RdfFormat.TRIG)
        assert content(remote) == expected
        bad = _write(tmp_path / "bad.nq", "<http://a> <http://b> .\n")
        with pytest.raises(SyntaxError):
            remote.bulk_load(bad, RdfFormat.N_QUADS)


# ---------------------------------------------------------------- the two agree


def _rows(results: object) -> list[tuple[str, ...]]:
    assert isinstance(results, QuerySolutions)
    names = [v.value for v in results.variables]
    return sorted(tuple(str(row[n]) for n in names) for row in results)


QUERY = (
    "PREFIX org: <http://www.w3.org/ns/org#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>"
    " SELECT ?name ?org WHERE { ?m org:member/rdfs:label ?name ; org:organization ?org }"
)
HIERARCHY = (
    "PREFIX schema: <https://schema.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>"
    " SELECT DISTINCT ?e WHERE { ?e a/rdfs:subClassOf* schema:Event }"
)


@pytest.mark.parametrize("kind", ["plain-server", "union-default-graph", "virtuoso"])
def test_both_stores_give_the_same_stats_and_answers(
    request: pytest.FixtureRequest, tmp_path: Path, validator: Validator, kind: str
) -> None:
    union = kind != "plain-server"  # Virtuoso's default graph is the union of all graphs
    srv: Oxigraph | None = None
    if kind == "virtuoso":
        remote = _virtuoso(request.getfixturevalue("virtuoso"))
    else:
        srv = request.getfixturevalue("server")
        if union:
            srv = Oxigraph(tmp_path / "union-db", "--union-default-graph").start()
        remote = _remote(srv)
    try:
        with GraphStore(tmp_path / "local", BASE) as local, remote:
            for store in (local, remote):
                ingest([CORPUS_DIR], store, progress=False, validator=validator)
            assert remote.stats() == local.stats()
            assert remote._union_default() is union
            for sparql in (QUERY, HIERARCHY):
                assert _rows(remote.query(sparql)) == _rows(local.query(sparql))
            ask = "ASK { ?c <http://www.w3.org/2000/01/rdf-schema#label> 'Kazakhstan'@en }"
            assert bool(remote.query(ask)) and bool(local.query(ask))  # type: ignore[call-overload]
            construct = (
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{BASE}graph/entities> {{ ?s ?p ?o }} }}"
            )
            assert set(remote.query(construct)) == set(local.query(construct))  # type: ignore[call-overload]
            assert list(remote.articles()) == list(local.articles())
            assert remote.article_graphs() == local.article_graphs()
            with pytest.raises(SyntaxError):
                remote.query("SELECT WHERE {")
            with pytest.raises(StoreError, match="backed up with its own tools"):
                remote.backup(tmp_path / "backup")
    finally:
        if kind == "union-default-graph" and srv is not None:
            srv.stop()


# ---------------------------------------------------------------- failures


def test_a_server_stopped_mid_ingest_loses_nothing(tmp_path: Path, validator: Validator) -> None:
    srv = Oxigraph(tmp_path / "db").start()
    try:
        with RemoteStore.from_url(srv.url, base=BASE, **FAST) as store:  # type: ignore[arg-type]
            ingest(CORPUS[:3], store, progress=False, validator=validator)
            before, revision = content(store), store.revision()
            srv.stop()
            summary = ingest(CORPUS[3:], store, progress=False, validator=validator)
        assert summary.written == 0
        assert [where for where, _ in summary.rejected] == [
            p.resolve().as_uri() for p in CORPUS[3:]
        ]
        for _, reason in summary.rejected[:3]:
            assert "cannot write to the remote store: no answer from" in reason
            assert "after 3 tries (Connection refused)" in reason
        for _, reason in summary.rejected[3:]:
            assert reason.startswith("not written: the 3 articles before it could not be written")
        srv.start()  # the same directory
        with RemoteStore.from_url(srv.url, base=BASE, read_only=True, **FAST) as store:  # type: ignore[arg-type]
            assert content(store) == before and store.revision() == revision
    finally:
        srv.stop()


class Proxy(http.server.ThreadingHTTPServer):
    """Forwards to a server, except what ``refuse`` says: (method, needle in URL) -> status."""

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.upstream = upstream
        self.refuse: dict[tuple[str, str], int] = {}
        self.seen: list[tuple[str, str, str]] = []  # method, path, Authorization
        self.url = f"http://127.0.0.1:{self.server_port}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: Proxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization", "")))
        for (method, needle), status in self.server.refuse.items():
            if self.command == method and needle in requests.utils.unquote(self.path):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        skip = {"host", "content-length", "connection", "accept-encoding"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        resp = requests.request(
            self.command, self.server.upstream + self.path, data=body, headers=headers, timeout=30
        )
        self.send_response(resp.status_code)
        if "Content-Type" in resp.headers:
            self.send_header("Content-Type", resp.headers["Content-Type"])
        self.send_header("Content-Length", str(len(resp.content)))
        self.end_headers()
        self.wfile.write(resp.content)

    do_GET = do_POST = do_PUT = do_DELETE = _forward


@pytest.fixture
def proxy(server: Oxigraph) -> Iterator[Proxy]:
    p = Proxy(server.url)
    yield p
    p.shutdown()
    p.server_close()


def test_authentication_is_sent_and_a_401_is_explained(server: Oxigraph, proxy: Proxy) -> None:
    server.clear()
    with RemoteStore.from_url(proxy.url, base=BASE, token="s3cret", **FAST) as store:  # type: ignore[arg-type]
        store.revision()
    assert {auth for *_, auth in proxy.seen} == {"Bearer s3cret"}
    proxy.seen.clear()
    with RemoteStore.from_url(proxy.url, base=BASE, user="ann", password="pw", **FAST) as store:  # type: ignore[arg-type]
        store.revision()
    assert {auth for *_, auth in proxy.seen} == {"Basic YW5uOnB3"}
    proxy.refuse[("POST", "/query")] = 401
    with pytest.raises(StoreError, match=r"asks for credentials \(HTTP 401\): set DIPLOGRAPH"):
        RemoteStore.from_url(proxy.url, base=BASE, **FAST)  # type: ignore[arg-type]


# ---------------------------------------------------------------- command line


def diplograph(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
    return subprocess.run(
        [sys.executable, "-m", "diplograph.cli", *args],
        capture_output=True,
        text=True,
        env={**clean, "PYTHONPATH": str(ROOT), "DIPLOGRAPH_STORE_BACKOFF": "0.01", **env},
        cwd=ROOT,
        timeout=300,
    )


def test_cli_on_a_remote_store(server: Oxigraph, tmp_path: Path) -> None:
    server.clear()
    url = server.url
    result = diplograph("ingest", str(CORPUS_DIR), "--store-url", url, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert "articles read: 10, written: 10" in result.stderr
    assert f"store: {url} (revision 11)" in result.stderr
    stats = diplograph("stats", "--store-url", url)
    assert "articles     10" in stats.stdout and "revision     11" in stats.stdout
    query = (
        "PREFIX org: <http://www.w3.org/ns/org#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>"
        " SELECT ?name WHERE { ?m org:organization/rdfs:label 'Association of Southeast Asian "
        "Nations'@en ; org:member/rdfs:label ?name } ORDER BY ?name"
    )
    table = diplograph("query", query, "--store-url", url)
    assert table.returncode == 0 and "| Indonesia" in table.stdout and "rows" in table.stdout
    csv = diplograph("query", query, "--format", "csv", "--store-url", url)
    assert csv.stdout.splitlines()[0] == "name" and "Indonesia" in csv.stdout
    bad = diplograph("query", "SELECT WHERE {", "--store-url", url)
    assert bad.returncode == 2 and "not valid SPARQL" in bad.stderr
    graph = diplograph("export", "--graph", BASE + "graph/entities", "--store-url", url)
    assert graph.returncode == 0 and graph.stdout.startswith("@prefix")
    # The environment variable does as well as the option.
    removed = diplograph("remove", str(CORPUS[0]), DIPLOGRAPH_STORE_URL=url)
    assert removed.returncode == 0, removed.stderr
    assert "articles     9" in diplograph("stats", DIPLOGRAPH_STORE_URL=url).stdout
    backup = diplograph("backup", str(tmp_path / "backup"), "--store-url", url)
    assert backup.returncode == 1 and "backed up with its own tools" in backup.stderr
    restore = diplograph("restore", str(tmp_path / "backup"), "--store-url", url)
    assert restore.returncode == 1 and "restored with its own tools" in restore.stderr


def test_cli_reports_failed_articles_and_keeps_what_was_stored(
    server: Oxigraph, proxy: Proxy, tmp_path: Path
) -> None:
    server.clear()
    shutil.copytree(CORPUS_DIR, tmp_path / "corpus")
    first = diplograph("ingest", str(tmp_path / "corpus"), "--store-url", server.url, "-q")
    assert first.returncode == 0, first.stderr
    with RemoteStore.from_url(server.url, base=BASE, read_only=True) as store:
        before = content(store)
    edited = sorted((tmp_path / "corpus").glob("*.txt"))[:2]
    for path in edited:
        path.write_text(path.read_text("utf-8") + "\nChile joined the OECD in 2010.\n", "utf-8")
    proxy.refuse[("PUT", "/graph/article/")] = 503
    failed = diplograph("ingest", str(tmp_path / "corpus"), "--store-url", proxy.url, "-q")
    assert failed.returncode == 1
    assert "written: 0, unchanged: 8, rejected: 2" in failed.stderr
    for path in edited:
        assert (
            f"rejected {path.resolve().as_uri()}: cannot write to the remote store: no answer "
            f"from {proxy.url}/store after 5 tries (HTTP 503" in failed.stderr
        )
    with RemoteStore.from_url(server.url, base=BASE, read_only=True) as store:
        kept = content(store)
    # The edited articles' new entity descriptions may have been added; nothing was lost.
    assert before <= kept
    assert {q for q in kept - before if q.graph_name != NamedNode(BASE + "graph/entities")} == set()


def test_cli_says_clearly_what_a_remote_store_cannot_do(server: Oxigraph, tmp_path: Path) -> None:
    server.clear()
    ok = diplograph("ingest", str(CORPUS[0]), "--store-url", server.url, "-q")
    assert ok.returncode == 0, ok.stderr
    # A read-only server over the same data refuses writes with 403.
    read_only = Oxigraph(server.location, command="serve-read-only").start()
    try:
        refused = diplograph("ingest", str(CORPUS[1]), "--store-url", read_only.url, "-q")
        assert refused.returncode == 1
        assert "the remote store refuses writes (HTTP 403): it may be read-only" in refused.stderr
        stats = diplograph("stats", "--store-url", read_only.url)  # reading is fine
        assert stats.returncode == 0 and "articles     1" in stats.stdout
    finally:
        read_only.stop()
    # No Graph Store Protocol where it is said to be.
    no_gsp = diplograph(
        "ingest",
        str(CORPUS[1]),
        "-q",
        DIPLOGRAPH_STORE_URL=server.url,
        DIPLOGRAPH_STORE_GSP_URL=server.url + "/nothing",
    )
    assert no_gsp.returncode == 1
    assert f"no Graph Store Protocol at {server.url}/nothing (HTTP 404)" in no_gsp.stderr
    # Nobody listening at all.
    closed = f"http://127.0.0.1:{free_port()}"
    down = diplograph("stats", "--store-url", closed)
    assert down.returncode == 1
    assert f"no answer from {closed}/query after 5 tries (Connection refused)" in down.stderr
