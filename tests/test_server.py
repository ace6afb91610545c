"""The HTTP server as its clients see it: real ``diplograph serve`` processes on free ports.

Three servers are started once for this module: a read-only one over the sample corpus
(small request-body limit), a writable one with a token over an empty store, and one with a
2 s query timeout, a 5-row cap and a small byte cap for the safety tests.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import http.client
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import rdflib
import requests
from rdflib.namespace import RDFS

from server import allocator

from .conftest import BASE, CORPUS_DIR, ROOT, free_port

KAZ = BASE + "id/country/kaz"
ENTITIES = BASE + "graph/entities"
TOKEN = "s3cret-test-token"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
PREFIXES = (
    "PREFIX org: <http://www.w3.org/ns/org#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    f"PREFIX dg: <{BASE}ontology#>\n"
)
KAZ_LABEL = f"SELECT ?label WHERE {{ <{KAZ}> rdfs:label ?label }}"
OSCE_CHAIR = (
    PREFIXES
    + """SELECT ?m WHERE {
  ?m a dg:Membership, org:Membership ;
     org:member/rdfs:label "Kazakhstan"@en ;
     org:organization/rdfs:label "Organization for Security and Co-operation in Europe"@en ;
     org:role/rdfs:label "chair"@en .
}"""
)
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
SRX = "{http://www.w3.org/2005/sparql-results#}"
REQUEST_LIMIT = 100_000
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- servers


@dataclass
class Server:
    """A running ``diplograph serve`` process."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"

    @property
    def store(self) -> str:
        return self.url + "/store"

    def query(self, sparql: str, accept: str | None = None, **params: object) -> requests.Response:
        headers = {"Accept": accept} if accept else {}
        return requests.get(
            self.sparql, params={"query": sparql, **params}, headers=headers, timeout=30
        )

    def health(self) -> dict:
        response = requests.get(self.url + "/health", timeout=10)
        assert response.status_code == 200
        return response.json()

    def revision(self) -> int:
        return int(self.health()["revision"])

    def ask(self, sparql: str) -> bool:
        response = self.query(sparql, "application/sparql-results+json")
        assert response.status_code == 200, response.text
        return response.json()["boolean"]

    def _descendants(self) -> list[tuple[int, int, str]]:
        """(pid, parent pid, command line) of every process under the server's."""
        out = subprocess.run(
            ["ps", "-e", "-o", "pid=,ppid=,args="], capture_output=True, text=True, check=False
        ).stdout
        rows = [r for r in (line.split(None, 2) for line in out.splitlines()) if len(r) == 3]
        procs = [(int(pid), int(ppid), args) for pid, ppid, args in rows]
        family = {self.proc.pid}
        for _ in range(3):  # the query workers are the second generation
            family |= {pid for pid, ppid, _ in procs if ppid in family}
        return [p for p in procs if p[0] in family and p[0] != self.proc.pid]

    def workers(self) -> list[int]:
        """The query worker processes: spawned children of the HTTP processes."""
        http = set(self.http_processes())
        return [pid for pid, ppid, args in self._descendants() if ppid in http and _spawned(args)]

    def http_processes(self) -> list[int]:
        """The processes that run the application: granian's workers, spawned children of
        the server that have query workers of their own (the server's other children are
        the store's keeper and multiprocessing's resource tracker)."""
        family = self._descendants()
        parents = {ppid for _, ppid, args in family if _spawned(args)}
        return [
            pid
            for pid, ppid, args in family
            if ppid == self.proc.pid and _spawned(args) and pid in parents
        ]

    def http_process(self) -> int:
        """The one process that runs the application (a server started with one)."""
        (pid,) = self.http_processes()
        return pid

    def keeper(self) -> int:
        """The store's keeper: the server's spawned child without children of its own."""
        http = set(self.http_processes())
        (pid,) = [
            pid
            for pid, ppid, args in self._descendants()
            if ppid == self.proc.pid and _spawned(args) and pid not in http
        ]
        return pid


def _spawned(command_line: str) -> bool:
    """Whether a process is a multiprocessing child started by "spawn"."""
    return "multiprocessing.spawn" in command_line


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, or None if it is gone (or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _cpu_use(pids: list[int], window: float = 0.5) -> dict[int, float]:
    """CPU seconds each process used during ``window`` seconds (gone processes: absent)."""
    before = {pid: _cpu_seconds(pid) for pid in pids}
    time.sleep(window)
    use = {}
    for pid, start in before.items():
        end = _cpu_seconds(pid)
        if start is not None and end is not None:
            use[pid] = end - start
    return use


def _start(
    store: Path,
    log: Path,
    *options: str,
    env: dict[str, str] | None = None,
    workers: int = 2,
    http_workers: int | None = None,
    remote: str | None = None,
) -> Iterator[Server]:
    """Start ``diplograph serve`` over ``store`` (or over the remote store at ``remote``,
    keeping its dumps beside ``store``) and yield it once it answers."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
    environment.update({"PYTHONPATH": str(ROOT), **(env or {})})
    where = ["--store", str(store)]
    if remote is not None:
        where = ["--store-url", remote]
        environment["DIPLOGRAPH_STORE"] = str(store)
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "diplograph.cli",
                "serve",
                *where,
                "--port",
                str(port),
                "--workers",
                str(workers),
                *(["--http-workers", str(http_workers)] if http_workers else []),
                *options,
            ],
            env=environment,
            cwd=store.parent,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited ({proc.returncode}):\n{log.read_text()}")
            try:
                if requests.get(server.url + "/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not come up:\n{log.read_text()}")
            time.sleep(0.1)
        # One query per worker (the idle queue is FIFO), so every worker has booted and
        # opened the snapshot before a test times anything. A worker's start-up counts
        # against the query time limit, so on a busy machine a first query may get a 503.
        answered = 0
        while answered < workers * len(server.http_processes()):
            warm_up = server.query(f'ASK {{ ?s ?p "warm-up {uuid.uuid4()}" }}')
            assert warm_up.status_code in (200, 503), warm_up.text
            answered += warm_up.status_code == 200
            if time.monotonic() > deadline:
                pytest.fail(f"the server's workers do not answer:\n{log.read_text()}")
        yield server
    finally:
        children = [pid for pid, _, _ in server._descendants()]
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for pid in children:  # workers of this server only, should they outlive it
            if _cpu_seconds(pid) is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the sample corpus, built once with the command line; copied per server."""
    store = tmp_path_factory.mktemp("corpus") / "store"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "diplograph.cli",
            "ingest",
            str(CORPUS_DIR),
            "--store",
            str(store),
            "--quiet",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return store


def _copy(store: Path, where: Path) -> Path:
    target = where / "store"
    shutil.copytree(store, target)
    return target


@pytest.fixture(scope="module")
def ro(corpus_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Read-only (no token) over the corpus; request bodies limited to 100 kB."""
    where = tmp_path_factory.mktemp("ro")
    yield from _start(
        _copy(corpus_store, where),
        where / "server.log",
        env={"DIPLOGRAPH_MAX_REQUEST_BYTES": str(REQUEST_LIMIT)},
    )


@pytest.fixture(scope="module")
def rw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Writable with a token, over a new empty store."""
    where = tmp_path_factory.mktemp("rw")
    yield from _start(where / "store", where / "server.log", "--write-token", TOKEN)


def _limited(where: Path, corpus_store: Path, **env: str) -> Iterator[Server]:
    """2 s query timeout, 5 rows, 20 kB responses; one HTTP process, so that a test can
    keep each of its query workers busy (a request goes to whichever process takes it)."""
    yield from _start(
        _copy(corpus_store, where),
        where / "server.log",
        "--timeout",
        "2",
        env={"DIPLOGRAPH_MAX_ROWS": "5", "DIPLOGRAPH_MAX_BYTES": "20000", **env},
        http_workers=1,
    )


@pytest.fixture(scope="module")
def limited(corpus_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with small limits (``_limited``)."""
    yield from _limited(tmp_path_factory.mktemp("limited"), corpus_store)


@pytest.fixture(scope="module")
def limited_large(corpus_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """As ``limited``, with a small-store limit of 10 quads: every query but a lookup goes
    to a query worker."""
    where = tmp_path_factory.mktemp("limited-large")
    yield from _limited(where, corpus_store, DIPLOGRAPH_SMALL_QUERY_MAX_QUADS="10")


def _labels(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [b["label"]["value"] for b in response.json()["results"]["bindings"]]


def _count(response: requests.Response) -> int:
    assert response.status_code == 200, response.text
    (row,) = response.json()["results"]["bindings"]
    return int(row["n"]["value"])


# ---------------------------------------------------------------- SPARQL 1.1 Protocol


def test_query_get_post_form_and_post_direct_agree(ro: Server) -> None:
    query = PREFIXES + KAZ_LABEL
    json_accept = {"Accept": "application/sparql-results+json"}
    get = ro.query(query, "application/sparql-results+json")
    form = requests.post(ro.sparql, data={"query": query}, headers=json_accept, timeout=30)
    direct = requests.post(
        ro.sparql,
        data=query.encode("utf-8"),
        headers={**json_accept, "Content-Type": "application/sparql-query; charset=utf-8"},
        timeout=30,
    )
    for response in (get, form, direct):
        assert response.headers["Content-Type"].startswith("application/sparql-results+json")
        assert "Kazakhstan" in _labels(response)
    assert _labels(get) == _labels(form) == _labels(direct)


def test_default_graph_uri_selects_one_article_graph(ro: Server) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    union = _count(ro.query(count))
    graphs = ro.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }").json()["results"]["bindings"]
    article = next(b["g"]["value"] for b in graphs if "/graph/article/" in b["g"]["value"])
    in_graph = _count(
        ro.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{article}> {{ ?s ?p ?o }} }}")
    )
    only = _count(ro.query(count, **{"default-graph-uri": article}))
    assert 0 < only == in_graph < union
    form = requests.post(ro.sparql, data={"query": count, "default-graph-uri": article}, timeout=30)
    direct = requests.post(
        ro.sparql,
        params={"default-graph-uri": article},
        data=count,
        headers={"Content-Type": "application/sparql-query"},
        timeout=30,
    )
    assert _count(form) == _count(direct) == only
    both = _count(ro.query(count, **{"default-graph-uri": [article, ENTITIES]}))
    assert only < both <= union


def test_named_graph_uri_limits_the_graphs_of_graph_patterns(ro: Server) -> None:
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    everything = ro.query(query).json()["results"]["bindings"]
    assert len(everything) > 3
    article = next(b["g"]["value"] for b in everything if "/graph/article/" in b["g"]["value"])
    response = ro.query(query, **{"named-graph-uri": [article, ENTITIES]})
    assert response.status_code == 200
    seen = {b["g"]["value"] for b in response.json()["results"]["bindings"]}
    assert seen == {article, ENTITIES}
    # With named graphs only, the default graph is empty.
    assert (
        _count(
            ro.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **{"named-graph-uri": article})
        )
        == 0
    )


BAD_REQUESTS = [
    ("two-queries", "GET", {"params": {"query": ["ASK {}", "ASK {}"]}}, 400, "2 times"),
    ("post-without-query", "POST", {"data": {"default-graph-uri": ENTITIES}}, 400, "Missing"),
    (
        "post-empty-form",
        "POST",
        {"data": b"", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        400,
        "Missing",
    ),
    (
        "query-and-update",
        "GET",
        {"params": {"query": "ASK {}", "update": "CLEAR ALL"}},
        400,
        "not both",
    ),
    (
        "query-and-update-post",
        "POST",
        {"data": {"query": "ASK {}", "update": "CLEAR ALL"}},
        400,
        "not both",
    ),
    (
        "wrong-content-type",
        "POST",
        {"data": "ASK {}", "headers": {"Content-Type": "text/plain"}},
        415,
        "Content-Type",
    ),
    ("no-content-type", "POST", {"data": b"ASK {}"}, 415, "Content-Type"),
    ("update-via-get", "GET", {"params": {"update": "CLEAR ALL"}}, 405, "POST"),
    ("invalid-utf8-url", "GET", {"url": "/sparql?query=ASK%20%7B%7D%FF"}, 400, "UTF-8"),
    (
        "invalid-utf8-form",
        "POST",
        {"data": b"query=ASK%FF", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        400,
        "UTF-8",
    ),
    (
        "invalid-utf8-direct",
        "POST",
        {"data": b"ASK {\xff}", "headers": {"Content-Type": "application/sparql-query"}},
        400,
        "UTF-8",
    ),
    ("unknown-parameter", "GET", {"params": {"query": "ASK {}", "qery": "x"}}, 400, "qery"),
    (
        "absurd-accept",
        "GET",
        {"params": {"query": "ASK {}"}, "headers": {"Accept": "image/png"}},
        406,
        "image/png",
    ),
    ("unknown-format", "GET", {"params": {"query": "ASK {}", "format": "bogus"}}, 406, "bogus"),
    ("empty-query", "GET", {"params": {"query": "  "}}, 400, "empty"),
    (
        "direct-post-with-query-param",
        "POST",
        {
            "params": {"query": "ASK {}"},
            "data": "ASK {}",
            "headers": {"Content-Type": "application/sparql-query"},
        },
        400,
        "body",
    ),
    (
        "default-graph-not-an-iri",
        "GET",
        {"params": {"query": "ASK {}", "default-graph-uri": "not an iri"}},
        400,
        "not an IRI",
    ),
    (
        "named-graph-not-an-iri",
        "GET",
        {"params": {"query": "ASK {}", "named-graph-uri": "http://x/ y"}},
        400,
        "not an IRI",
    ),
    ("delete-method", "DELETE", {}, 405, "DELETE"),
    ("gsp-two-targets", "GET", {"url": "/store?default&graph=http://x/"}, 400, "exactly one"),
    ("gsp-relative-graph", "GET", {"url": "/store?graph=foo"}, 400, "absolute"),
    ("gsp-unknown-parameter", "GET", {"url": "/store?graphs=http://x/"}, 400, "graphs"),
]


@pytest.mark.parametrize(
    ("method", "kwargs", "status", "fragment"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_requests_get_a_4xx_and_a_message(
    ro: Server, method: str, kwargs: dict, status: int, fragment: str
) -> None:
    kwargs = dict(kwargs)
    url = ro.url + kwargs.pop("url", "/sparql")
    response = requests.request(method, url, timeout=30, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert fragment in response.text
    assert "Traceback" not in response.text


def test_a_malformed_query_says_where(ro: Server) -> None:
    response = ro.query("SELECT ?s\nWHERE { ?s ?p }")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "not valid SPARQL" in response.text
    assert re.search(r"\b2:\d+\b", response.text), response.text  # line 2, some column


def test_a_huge_request_body_is_refused(ro: Server) -> None:
    padding = "#" + "x" * (REQUEST_LIMIT + 10) + "\nASK {}"
    form = requests.post(ro.sparql, data={"query": padding}, timeout=30)
    direct = requests.post(
        ro.sparql,
        data=padding.encode(),
        headers={"Content-Type": "application/sparql-query"},
        timeout=30,
    )
    assert form.status_code == direct.status_code == 413
    # A body just under the limit is fine, and the server is still there.
    small = "#" + "x" * (REQUEST_LIMIT // 2) + "\nASK {}"
    ok = requests.post(
        ro.sparql,
        data=small.encode(),
        headers={"Content-Type": "application/sparql-query"},
        timeout=30,
    )
    assert ok.status_code == 200 and ok.json()["boolean"] is True


def test_a_huge_body_in_chunks_is_refused_not_cut_short(ro: Server) -> None:
    """Without a Content-Length the server only learns the size by reading: it stops one
    byte past the limit and refuses, rather than evaluating the first part."""

    def chunks(text: str) -> Iterator[bytes]:
        data = text.encode()
        for i in range(0, len(data), 8192):
            yield data[i : i + 8192]

    direct = {
        "Content-Type": "application/sparql-query",
        "Accept": "application/sparql-results+json",
    }
    huge = "#" + "x" * (REQUEST_LIMIT * 3) + "\nASK {}"
    refused = requests.post(ro.sparql, data=chunks(huge), headers=direct, timeout=30)
    assert refused.status_code == 413
    assert f"larger than the limit of {REQUEST_LIMIT:,} bytes" in refused.text
    small = "#" + "x" * (REQUEST_LIMIT // 2) + "\nASK {}"
    ok = requests.post(ro.sparql, data=chunks(small), headers=direct, timeout=30)
    assert ok.status_code == 200 and ok.json()["boolean"] is True


# ---------------------------------------------------------------- content negotiation


def _label_values(accept: str, response: requests.Response) -> list[str]:
    """The ?label values of a response in any of the four results formats."""
    if "json" in accept:
        return [b["label"]["value"] for b in response.json()["results"]["bindings"]]
    if "xml" in accept:
        root = ET.fromstring(response.content)
        assert root.tag == SRX + "sparql"
        assert [v.get("name") for v in root.iter(SRX + "variable")] == ["label"]
        return [lit.text or "" for lit in root.iter(SRX + "literal")]
    if accept == "text/csv":
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == ["label"]
        return [row[0] for row in rows[1:]]
    lines = response.text.splitlines()
    assert lines[0] == "?label"
    return [re.sub(r'^"(.*)"(@[\w-]+|\^\^<[^>]*>)?$', r"\1", line) for line in lines[1:]]


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv; charset=utf-8"),
        ("text/tab-separated-values", "text/tab-separated-values; charset=utf-8"),
    ],
)
def test_select_in_each_results_format(ro: Server, accept: str, content_type: str) -> None:
    response = ro.query(PREFIXES + KAZ_LABEL, accept)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert "Accept" in response.headers["Vary"]
    assert "Kazakhstan" in _label_values(accept, response)


def test_q_values_are_honoured(ro: Server) -> None:
    response = ro.query(
        PREFIXES + KAZ_LABEL, "text/csv;q=0.5, application/sparql-results+xml;q=0.9"
    )
    assert response.headers["Content-Type"] == "application/sparql-results+xml"
    assert "Kazakhstan" in _label_values("xml", response)
    response = ro.query(
        PREFIXES + KAZ_LABEL, "text/csv;q=0.9, application/sparql-results+xml;q=0.5"
    )
    assert response.headers["Content-Type"].startswith("text/csv")


def test_any_or_no_accept_gives_json(ro: Server) -> None:
    star = ro.query(PREFIXES + KAZ_LABEL, "*/*")
    assert star.headers["Content-Type"] == "application/sparql-results+json"
    assert "Kazakhstan" in _labels(star)
    conn = http.client.HTTPConnection(ro.url.removeprefix("http://"), timeout=30)
    try:
        path = "/sparql?" + urllib.parse.urlencode({"query": PREFIXES + KAZ_LABEL})
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()  # no Accept header at all
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/sparql-results+json"
    assert "Kazakhstan" in [b["label"]["value"] for b in json.loads(body)["results"]["bindings"]]


GRAPH_FORMATS = [
    ("text/turtle", "text/turtle; charset=utf-8", "turtle"),
    ("application/n-triples", "application/n-triples; charset=utf-8", "nt"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/trig", "application/trig; charset=utf-8", "trig"),
    ("application/n-quads", "application/n-quads; charset=utf-8", "nquads"),
]


def _parse_graph(data: bytes, fmt: str) -> set[tuple]:
    if fmt in ("trig", "nquads"):
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=fmt)
        return {(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))}
    return set(rdflib.Graph().parse(data=data, format=fmt))


@pytest.mark.parametrize("form", ["CONSTRUCT", "DESCRIBE"])
@pytest.mark.parametrize(("accept", "content_type", "fmt"), GRAPH_FORMATS)
def test_graph_results_in_each_rdf_format(
    ro: Server, form: str, accept: str, content_type: str, fmt: str
) -> None:
    query = f"CONSTRUCT WHERE {{ <{KAZ}> ?p ?o }}" if form == "CONSTRUCT" else f"DESCRIBE <{KAZ}>"
    reference = ro.query(query, "application/n-triples")
    expected = _parse_graph(reference.content, "nt")
    assert (rdflib.URIRef(KAZ), RDFS.label, rdflib.Literal("Kazakhstan", lang="en")) in expected
    response = ro.query(query, accept)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == content_type
    assert _parse_graph(response.content, fmt) == expected


def test_browsers_get_an_html_table(ro: Server) -> None:
    response = ro.query(PREFIXES + KAZ_LABEL, BROWSER)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<table" in response.text and "<td>Kazakhstan</td>" in response.text
    graph = ro.query(f"CONSTRUCT WHERE {{ <{KAZ}> ?p ?o }}", BROWSER)
    assert graph.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<table" in graph.text and "Kazakhstan" in graph.text


def test_service_description(ro: Server, rw: Server) -> None:
    for server, writable in ((ro, False), (rw, True)):
        response = requests.get(server.sparql, timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
        g = rdflib.Graph().parse(data=response.text, format="turtle")
        endpoint = rdflib.URIRef(server.sparql)
        assert (endpoint, SD.endpoint, endpoint) in g
        assert (endpoint, SD.supportedLanguage, SD.SPARQL11Query) in g
        assert ((endpoint, SD.supportedLanguage, SD.SPARQL11Update) in g) is writable
    page = requests.get(ro.sparql, headers={"Accept": BROWSER}, timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<form" in page.text and "<textarea" in page.text


# ---------------------------------------------------------------- real clients


def test_sparqlwrapper_select_in_json_xml_csv_tsv(ro: Server) -> None:
    from SPARQLWrapper import CSV, JSON, TSV, XML, SPARQLWrapper

    def run(fmt: str) -> object:
        client = SPARQLWrapper(ro.sparql)
        client.setQuery(PREFIXES + KAZ_LABEL)
        client.setReturnFormat(fmt)
        return client.query().convert()

    data = run(JSON)
    assert "Kazakhstan" in [b["label"]["value"] for b in data["results"]["bindings"]]  # type: ignore[index]
    doc = run(XML)
    assert "Kazakhstan" in [
        n.firstChild.data  # type: ignore[union-attr]
        for n in doc.getElementsByTagName("literal")  # type: ignore[attr-defined]
    ]
    rows = list(csv.reader(io.StringIO(run(CSV).decode("utf-8"))))  # type: ignore[attr-defined]
    assert rows[0] == ["label"] and ["Kazakhstan"] in rows
    tsv = run(TSV).decode("utf-8").splitlines()  # type: ignore[attr-defined]
    assert tsv[0] == "?label" and '"Kazakhstan"@en' in tsv


@pytest.mark.parametrize("fmt", ["xml", "rdf+xml", "json-ld"])
def test_sparqlwrapper_construct_becomes_an_rdflib_graph(ro: Server, fmt: str) -> None:
    from SPARQLWrapper import SPARQLWrapper

    query = f"CONSTRUCT WHERE {{ <{KAZ}> ?p ?o }}"
    client = SPARQLWrapper(ro.sparql)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    graph = client.query().convert()
    assert isinstance(graph, rdflib.Graph)
    assert (rdflib.URIRef(KAZ), RDFS.label, rdflib.Literal("Kazakhstan", lang="en")) in graph
    assert len(graph) == len(_parse_graph(ro.query(query, "text/turtle").content, "turtle"))


def test_rdflib_sparqlstore_finds_kazakhstan_chairing_the_osce(ro: Server) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = rdflib.Graph(store=SPARQLStore(ro.sparql))
    rows = list(
        graph.query(
            PREFIXES + "SELECT ?member ?organization ?role WHERE { ?m a org:Membership ; "
            "org:member/rdfs:label ?member ; org:organization/rdfs:label ?organization ; "
            "org:role/rdfs:label ?role }"
        )
    )
    en = {(str(r[0]), str(r[1]), str(r[2])) for r in rows}  # type: ignore[index]
    assert ("Kazakhstan", "Organization for Security and Co-operation in Europe", "chair") in en
    assert len(rows) > 20
    (chair,) = list(graph.query(OSCE_CHAIR))
    assert str(chair[0]).startswith(BASE + "id/membership/")  # type: ignore[index]
    labels = set(graph.objects(rdflib.URIRef(KAZ), RDFS.label))
    assert rdflib.Literal("Kazakhstan", lang="en") in labels


# ---------------------------------------------------------------- updates and the graph store


def _update(server: Server, update: str, token: str | None) -> requests.Response:
    headers = {"Content-Type": "application/sparql-update"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(server.sparql, data=update.encode(), headers=headers, timeout=30)


def test_a_write_is_seen_at_once_by_every_http_process(rw: Server) -> None:
    """The HTTP processes read the keeper's snapshots: a query right after a write sees
    it, whichever process answers (each request below is a new connection, which either
    process may take)."""
    assert len(rw.http_processes()) > 1
    for i in range(10):
        assert (
            _update(rw, f"INSERT DATA {{ <urn:seen:{i}> <urn:p> {i} }}", TOKEN).status_code == 204
        )
        revision = rw.revision()
        assert all(rw.ask(f"ASK {{ <urn:seen:{i}> <urn:p> {i} }} # {j}") for j in range(6))
        assert all(rw.revision() == revision for _ in range(6))


def test_writes_are_refused_with_a_503_once_the_keeper_is_gone(
    corpus_store: Path, tmp_path: Path
) -> None:
    """If the store's keeper dies, writes get a 503 that says so; reads go on."""
    started = _start(_copy(corpus_store, tmp_path), tmp_path / "server.log", "--write-token", TOKEN)
    server = next(started)
    try:
        os.kill(server.keeper(), signal.SIGKILL)
        refused = _update(server, "INSERT DATA { <urn:a> <urn:b> <urn:c> }", TOKEN)
        assert refused.status_code == 503, refused.text
        assert "cannot take writes" in refused.text and "keeper" in refused.text
        assert server.ask(f"ASK {{ <{KAZ}> ?p ?o }}")
    finally:
        started.close()


def test_a_dump_is_named_for_the_revision_it_holds(rw: Server) -> None:
    """Writes while several clients ask for dumps: each dump's ETag names the revision
    written in it (the store's revision is in the dump, in the meta graph), also for a
    request that waited for another dump to be built."""
    stop = threading.Event()

    def write() -> None:
        i = 0
        while not stop.is_set():
            _update(rw, f"INSERT DATA {{ <urn:dump-race:{i}> <urn:p> {i} }}", TOKEN)
            i += 1

    seen: set[str] = set()
    # Fetch until the dumps have held more than ten revisions, not a fixed number of
    # times: on a fast machine 120 dumps can be served before ten writes land.
    deadline = time.monotonic() + 90

    def fetch(ext: str) -> list[tuple[str, str]]:
        found = []
        while len(found) < 10 or (len(seen) <= 10 and time.monotonic() < deadline):
            response = requests.get(f"{rw.url}/dumps/diplograph.{ext}", timeout=60)
            assert response.status_code == 200
            tagged = re.fullmatch(rf'"dump-(\d+)-{ext}"', response.headers["ETag"])
            held = re.search(r'ontology#revision> "(\d+)"', response.text)
            assert tagged and held
            found.append((tagged.group(1), held.group(1)))
            seen.add(held.group(1))
        return found

    writer = threading.Thread(target=write)
    writer.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            pairs = [p for got in pool.map(fetch, ["nq", "nq", "nt", "nt"]) for p in got]
    finally:
        stop.set()
        writer.join()
    assert [(tag, held) for tag, held in pairs if tag != held] == []
    assert len({held for _, held in pairs}) > 10  # the writes really went on meanwhile


def test_updates_without_the_right_token_change_nothing(rw: Server) -> None:
    triple = f'<urn:test:{uuid.uuid4()}> <urn:test:p> "refused"'
    before = rw.revision()
    missing = _update(rw, f"INSERT DATA {{ {triple} }}", None)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization" in missing.text
    wrong = _update(rw, f"INSERT DATA {{ {triple} }}", TOKEN + "x")
    assert wrong.status_code == 403 and "not valid" in wrong.text
    form = requests.post(
        rw.sparql,
        data={"update": f"INSERT DATA {{ {triple} }}"},
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
        timeout=30,
    )
    assert form.status_code == 401
    for response in (missing, wrong, form):
        assert int(response.headers["X-Diplograph-Revision"]) == before
    assert rw.revision() == before
    assert not rw.ask(f"ASK {{ {triple} }}")


def test_an_update_with_the_token_is_visible_to_the_next_query(rw: Server) -> None:
    triple = f'<urn:test:{uuid.uuid4()}> <urn:test:p> "accepted"'
    before = rw.revision()
    assert not rw.ask(f"ASK {{ {triple} }}")  # also puts a "false" in the cache
    response = _update(rw, f"INSERT DATA {{ {triple} }}", TOKEN)
    assert response.status_code == 204 and response.content == b""
    after = int(response.headers["X-Diplograph-Revision"])
    assert after > before and rw.revision() == after
    assert rw.ask(f"ASK {{ {triple} }}")
    # As a form, ending in a comment without a newline (the revision bump is appended).
    other = f'<urn:test:{uuid.uuid4()}> <urn:test:p> "also"'
    form = requests.post(
        rw.sparql,
        data={"update": f"INSERT DATA {{ {other} }} # added by the test"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert form.status_code == 204, form.text
    assert rw.ask(f"ASK {{ {other} }}") and rw.revision() > after


def test_an_invalid_update_is_refused_whole(rw: Server) -> None:
    before = rw.revision()
    triple = f'<urn:test:{uuid.uuid4()}> <urn:test:p> "half"'
    response = _update(rw, f"INSERT DATA {{ {triple} }} ; INSERT DATA {{ <urn:x> }}", TOKEN)
    assert response.status_code == 400 and "not valid SPARQL" in response.text
    assert rw.revision() == before and not rw.ask(f"ASK {{ {triple} }}")
    using = requests.post(
        rw.sparql,
        data={"update": f"INSERT DATA {{ {triple} }}", "using-graph-uri": ENTITIES},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert using.status_code == 400 and rw.revision() == before


def _gsp(
    server: Server, method: str, graph: str, body: str | None = None, **options: str
) -> requests.Response:
    """A graph store request; header names as keywords (Content_Type=...)."""
    headers = {k.replace("_", "-"): v for k, v in options.items()}
    if method not in ("GET", "HEAD"):
        headers.setdefault("Authorization", f"Bearer {TOKEN}")
    if body is not None:
        headers.setdefault("Content-Type", "text/turtle")
    return requests.request(
        method,
        server.store,
        params={"graph": graph},
        data=body.encode() if body is not None else None,
        headers=headers,
        timeout=30,
    )


def _triples(response: requests.Response) -> set[tuple]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    return set(rdflib.Graph().parse(data=response.text, format="turtle"))


def test_graph_store_protocol_lifecycle(rw: Server) -> None:
    graph = f"http://example.org/graph/{uuid.uuid4()}"
    s, p = rdflib.URIRef("urn:test:s"), rdflib.URIRef("urn:test:p")
    one, two, three = (rdflib.Literal(i) for i in (1, 2, 3))
    assert _gsp(rw, "GET", graph).status_code == 404

    created = _gsp(rw, "PUT", graph, "<urn:test:s> <urn:test:p> 1 .")
    assert created.status_code == 201
    assert _triples(_gsp(rw, "GET", graph)) == {(s, p, one)}
    replaced = _gsp(rw, "PUT", graph, "@prefix t: <urn:test:> . t:s t:p 2 .")
    assert replaced.status_code == 204
    got = _gsp(rw, "GET", graph)
    assert _triples(got) == {(s, p, two)}

    head = _gsp(rw, "HEAD", graph)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert int(head.headers["Content-Length"]) == len(got.content)

    merged = _gsp(rw, "POST", graph, "<urn:test:s> <urn:test:p> 3 .")
    assert merged.status_code == 204
    assert _triples(_gsp(rw, "GET", graph)) == {(s, p, two), (s, p, three)}
    nt = _gsp(rw, "GET", graph, Accept="application/n-triples")
    assert nt.headers["Content-Type"] == "application/n-triples; charset=utf-8"
    assert len(rdflib.Graph().parse(data=nt.text, format="nt")) == 2

    revision = rw.revision()
    unsupported = _gsp(rw, "PUT", graph, "<urn:test:s> <urn:test:p> 9 .", Content_Type="text/html")
    assert unsupported.status_code == 415 and "text/turtle" in unsupported.text
    broken = _gsp(rw, "PUT", graph, "<urn:test:s> <urn:test:p> ")
    assert broken.status_code == 400 and "cannot be parsed" in broken.text
    unauthorised = _gsp(rw, "PUT", graph, "<urn:test:s> <urn:test:p> 9 .", Authorization="")
    assert unauthorised.status_code == 401
    assert rw.revision() == revision
    assert _triples(_gsp(rw, "GET", graph)) == {(s, p, two), (s, p, three)}
    assert rw.ask(f"ASK {{ GRAPH <{graph}> {{ <urn:test:s> <urn:test:p> 3 }} }}")

    deleted = _gsp(rw, "DELETE", graph)
    assert deleted.status_code == 204
    assert _gsp(rw, "GET", graph).status_code == 404
    assert _gsp(rw, "HEAD", graph).status_code == 404
    assert _gsp(rw, "DELETE", graph).status_code == 404
    assert not rw.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


def test_a_server_without_a_token_refuses_every_write(ro: Server) -> None:
    before = ro.revision()
    for token in (None, "anything", TOKEN):
        response = _update(ro, "INSERT DATA { <urn:test:a> <urn:test:b> 1 }", token)
        assert response.status_code == 403 and "disabled" in response.text
    graph = "http://example.org/graph/never"
    put = requests.put(
        ro.store,
        params={"graph": graph},
        data=b"<urn:test:a> <urn:test:b> 1 .",
        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert put.status_code == 403
    delete = requests.delete(ro.store, params={"graph": ENTITIES}, timeout=30)
    assert delete.status_code == 403
    assert ro.revision() == before
    assert requests.get(ro.store, params={"graph": graph}, timeout=30).status_code == 404
    assert requests.get(ro.store, params={"graph": ENTITIES}, timeout=30).status_code == 200
    assert not ro.ask("ASK { <urn:test:a> ?p ?o }")


# ---------------------------------------------------------------- CORS


def test_cors_headers_and_preflight(ro: Server) -> None:
    response = requests.get(
        ro.sparql,
        params={"query": "ASK {}"},
        headers={"Origin": "http://example.org"},
        timeout=30,
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-SPARQL-MaxRows" in response.headers["Access-Control-Expose-Headers"]
    assert requests.get(ro.sparql, timeout=30).headers["Access-Control-Allow-Origin"] == "*"

    preflight = requests.options(
        ro.sparql,
        headers={
            "Origin": "http://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )
    assert preflight.status_code == 204 and preflight.content == b""
    methods = [m.strip() for m in preflight.headers["Access-Control-Allow-Methods"].split(",")]
    assert "POST" in methods and "GET" in methods
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"

    store = requests.options(
        ro.store,
        headers={"Origin": "http://example.org", "Access-Control-Request-Method": "PUT"},
        timeout=30,
    )
    assert store.status_code == 204
    assert {"PUT", "DELETE"} <= {
        m.strip() for m in store.headers["Access-Control-Allow-Methods"].split(",")
    }
    assert "authorization" in store.headers["Access-Control-Allow-Headers"].lower()


# ---------------------------------------------------------------- safety


def test_a_runaway_query_is_killed_and_others_are_still_answered(limited: Server) -> None:
    workers = limited.workers()
    assert len(workers) == 2
    outcome: dict[str, object] = {}

    def runaway() -> None:
        started = time.monotonic()
        outcome["response"] = requests.post(limited.sparql, data={"query": RUNAWAY}, timeout=60)
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.3)
    use = _cpu_use(workers, 0.5)
    runner = max(use, key=use.__getitem__)
    assert use[runner] > 0.2, use  # one worker is busy with the runaway query

    started = time.monotonic()
    quick = limited.query(f'ASK {{ ?s ?p "concurrent {uuid.uuid4()}" }}')
    quick_seconds = time.monotonic() - started
    assert thread.is_alive(), "the runaway query finished too early"
    assert quick.status_code == 200 and quick.json()["boolean"] is False
    assert quick_seconds < 1.5

    thread.join(timeout=60)
    response = outcome["response"]
    assert isinstance(response, requests.Response)
    assert response.status_code == 503
    assert 1.9 <= outcome["seconds"] <= 6  # type: ignore[operator]
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert int(response.headers["Retry-After"]) > 0
    assert response.text.startswith("Query timeout:")
    assert '"results"' not in response.text and "bindings" not in response.text

    time.sleep(1)
    assert _cpu_seconds(runner) is None, "the worker of the runaway query is still alive"
    now = limited.workers()
    assert runner not in now and len(now) == 2
    # The replacement worker may still be starting; a runaway worker would never go quiet.
    deadline = time.monotonic() + 8
    while True:
        use = _cpu_use(limited.workers(), 0.5)
        if all(seconds < 0.15 for seconds in use.values()):
            break
        assert time.monotonic() < deadline, f"a worker is still burning CPU: {use}"
    assert limited.ask(f"ASK {{ <{KAZ}> ?p ?o }}")


def _busy_workers(server: Server) -> tuple[list[threading.Thread], list[requests.Response]]:
    """Keep both query workers of ``server`` busy with runaway queries (stopped at its 2 s
    limit): one through Flask (a form POST), one through server/fastpath.py (a GET)."""
    assert len(server.workers()) == 2
    stopped: list[requests.Response] = []
    runaways = [
        threading.Thread(
            target=lambda: stopped.append(requests.post(server.sparql, data={"query": RUNAWAY}))
        ),
        threading.Thread(target=lambda: stopped.append(server.query(RUNAWAY + " # the GET"))),
    ]
    for thread in runaways:
        thread.start()
    time.sleep(0.5)
    use = _cpu_use(server.workers(), 0.5)
    assert all(seconds > 0.2 for seconds in use.values()), use  # both workers are busy
    return runaways, stopped


def _stopped(runaways: list[threading.Thread], stopped: list[requests.Response]) -> None:
    for thread in runaways:
        thread.join(60)
    assert [r.status_code for r in stopped] == [503, 503]
    assert all(r.text.startswith("Query timeout:") and r.headers["Retry-After"] for r in stopped)


#: Small queries (server/lookup.py) about the corpus, with what their answers must hold.
SMALL = [
    (f"ASK {{ <{KAZ}> a ?c ; rdfs:label ?l }}", "application/sparql-results+json", "true"),
    (
        f"SELECT ?l WHERE {{ <{KAZ}> rdfs:label ?l }} LIMIT 3",
        "text/csv",
        "Kazakhstan",
    ),
    (
        "SELECT ?m ?x { ?m a org:Membership ; org:member ?x } LIMIT 2",
        "application/sparql-results+json",
        '"bindings"',
    ),
]


def test_lookups_and_small_queries_are_answered_while_every_query_worker_is_busy(
    limited: Server,
) -> None:
    """A DESCRIBE of named resources, and a small query over a small store, are answered
    by the HTTP process itself."""
    runaways, stopped = _busy_workers(limited)
    started = time.monotonic()
    response = limited.query(f"DESCRIBE <{KAZ}> # {uuid.uuid4()}", "application/n-triples")
    small = [limited.query(PREFIXES + q + f" # {uuid.uuid4()}", accept) for q, accept, _ in SMALL]
    took = time.monotonic() - started
    assert all(thread.is_alive() for thread in runaways), "the runaway queries ended early"
    assert response.status_code == 200, response.text
    assert f"<{KAZ}> <http://www.w3.org/2000/01/rdf-schema#label>" in response.text
    for answer, (_, _, expected) in zip(small, SMALL, strict=True):
        assert answer.status_code == 200, answer.text
        assert expected in answer.text
    assert took < 1.0  # a worker would have been free only when the 2 s limit struck
    _stopped(runaways, stopped)


def test_small_queries_over_a_large_store_wait_for_a_query_worker(
    limited_large: Server,
) -> None:
    """Above the small-store limit a small query's worst case is too long for the HTTP
    process: it goes to a worker, as any query does, and waits for one to be free."""
    runaways, stopped = _busy_workers(limited_large)
    started = time.monotonic()
    response = limited_large.query(f"DESCRIBE <{KAZ}> # {uuid.uuid4()}", "application/n-triples")
    assert response.status_code == 200 and time.monotonic() - started < 1.0
    q, accept, expected = SMALL[0]
    answer = limited_large.query(PREFIXES + q + f" # {uuid.uuid4()}", accept)
    assert answer.status_code == 200, answer.text
    assert expected in answer.text
    assert time.monotonic() - started > 1.0  # it waited for the 2 s limit to free a worker
    _stopped(runaways, stopped)


@pytest.mark.parametrize(("sparql", "accept", "expected"), SMALL)
def test_a_small_query_answers_the_same_in_process_and_in_a_worker(
    limited: Server, limited_large: Server, sparql: str, accept: str, expected: str
) -> None:
    in_process = limited.query(PREFIXES + sparql, accept)
    in_worker = limited_large.query(PREFIXES + sparql, accept)
    assert in_process.status_code == in_worker.status_code == 200
    assert expected in in_process.text
    assert in_process.content == in_worker.content
    assert in_process.headers["Content-Type"] == in_worker.headers["Content-Type"]


PLAIN_AND_FULL = [
    (f"DESCRIBE <{KAZ}>", "application/n-triples", "identity"),
    (f"DESCRIBE <{KAZ}>", "text/turtle", "gzip"),
    (KAZ_LABEL, "application/sparql-results+json", "identity"),
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 300", "text/csv", "gzip"),
    ("ASK { ?s ?p ?o }", None, "identity"),
    ("CONSTRUCT WHERE { ?s a ?c } LIMIT 20", "application/ld+json", "identity"),
]
SAME_HEADERS = [
    "Content-Type",
    "Content-Encoding",
    "Vary",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "X-Diplograph-Revision",
    "X-SPARQL-MaxRows",
    "Warning",
]


@pytest.mark.parametrize(("sparql", "accept", "encoding"), PLAIN_AND_FULL)
def test_plain_gets_and_the_full_handler_give_the_same_response(
    ro: Server, limited: Server, sparql: str, accept: str | None, encoding: str
) -> None:
    """A plain GET is answered without Flask (server/fastpath.py); a form POST goes
    through Flask. Both say the same thing, headers included."""
    for server in (ro, limited):
        headers = {"Accept-Encoding": encoding, **({"Accept": accept} if accept else {})}
        get = requests.get(
            server.sparql, params={"query": sparql}, headers=headers, timeout=30, stream=True
        )
        post = requests.post(
            server.sparql, data={"query": sparql}, headers=headers, timeout=30, stream=True
        )
        assert get.status_code == post.status_code
        for name in SAME_HEADERS:
            assert get.headers.get(name) == post.headers.get(name), name
        assert get.raw.read(decode_content=False) == post.raw.read(decode_content=False)
    assert "X-SPARQL-MaxRows" in get.headers or "LIMIT 300" not in sparql  # limited: 5 rows


def test_a_lookup_that_is_not_valid_sparql_says_why(ro: Server) -> None:
    response = ro.query("DESCRIBE nope:kaz", "application/n-triples")
    assert response.status_code == 400
    assert "not valid SPARQL" in response.text and "Prefix not found" in response.text
    page = ro.query("DESCRIBE nope:kaz", "text/html")
    assert page.status_code == 400 and "Prefix not found" in page.text


def test_the_row_cap_truncates_and_says_so(limited: Server) -> None:
    response = limited.query("SELECT * WHERE { ?s ?p ?o } LIMIT 50")
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 5
    assert response.headers["X-SPARQL-MaxRows"] == "5"
    assert "truncated" in response.headers["Warning"]
    as_csv = limited.query("SELECT * WHERE { ?s ?p ?o } LIMIT 50", "text/csv")
    assert len(list(csv.reader(io.StringIO(as_csv.text)))) == 1 + 5
    assert as_csv.headers["X-SPARQL-MaxRows"] == "5"
    small = limited.query("SELECT * WHERE { ?s ?p ?o } LIMIT 3")
    assert len(small.json()["results"]["bindings"]) == 3
    assert "X-SPARQL-MaxRows" not in small.headers and "Warning" not in small.headers


def test_the_byte_cap_refuses_a_large_result(limited: Server) -> None:
    response = limited.query("CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples")
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "too large" in response.text and "20,000" in response.text
    small = limited.query(f"CONSTRUCT WHERE {{ <{KAZ}> ?p ?o }}", "application/n-triples")
    assert small.status_code == 200


def test_the_byte_cap_refuses_a_large_lookup(limited: Server, ro: Server) -> None:
    """A lookup is answered in the HTTP process, its N-Triples in one piece (measured
    afterwards) and its Turtle through the capped writer: over the cap, both are refused."""
    subjects = requests.post(
        ro.sparql,
        data={"query": "SELECT DISTINCT ?s WHERE { ?s a ?c FILTER(isIRI(?s)) } LIMIT 64"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    ).json()["results"]["bindings"]
    lookup = "DESCRIBE " + " ".join(f"<{row['s']['value']}>" for row in subjects)
    whole = ro.query(lookup, "application/n-triples")
    assert whole.status_code == 200 and len(whole.content) > 20_000  # the limited server's cap
    for accept in ("application/n-triples", "text/turtle"):
        response = limited.query(lookup, accept)
        assert response.status_code == 413, (accept, response.text[:200])
        assert "too large" in response.text and "20,000" in response.text
    small = limited.query(f"DESCRIBE <{KAZ}>", "application/n-triples")
    assert small.status_code == 200 and f"<{KAZ}>" in small.text


def test_health(limited: Server, ro: Server) -> None:
    for server in (limited, ro):
        response = requests.get(server.url + "/health", timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        data = response.json()
        assert data["status"] == "ok" and data["workers"] == 2
        assert isinstance(data["revision"], int) and data["revision"] > 0
        assert data["revision"] == int(response.headers["X-Diplograph-Revision"])


def test_health_says_whether_small_queries_are_answered_in_process(
    limited: Server, limited_large: Server
) -> None:
    """Below the small-store limit (the 2 s time limit caps it at 161,290 quads) small
    queries run in the HTTP process; above it (10 quads) they go to the workers."""
    small = limited.health()
    assert small["small_queries_in_process"] is True
    assert small["small_query_max_quads"] == 161_290
    large = limited_large.health()
    assert large["small_queries_in_process"] is False
    assert large["small_query_max_quads"] == 10


def test_query_workers_run_with_the_faster_allocator(ro: Server) -> None:
    """``auto`` preloads tcmalloc (or mimalloc, jemalloc) into the query workers, and into
    the HTTP processes that answer lookups, when one is installed (set-up installs tcmalloc
    when it can); granian's main process, which only supervises, keeps the system's."""
    expected = allocator.resolve("auto")
    assert ro.health()["allocator"] == allocator.name(expected)
    http = ro.http_processes()
    assert len(http) == os.cpu_count()  # one per core by default
    workers = ro.workers()
    assert len(workers) == 2 * len(http)
    for pid in [*workers, *http]:
        maps = Path(f"/proc/{pid}/maps").read_text()
        if expected is None:
            assert not any(f in maps for f in allocator.KNOWN.values())
        else:
            assert expected.name in maps, f"process {pid} runs without {expected}"
    main = Path(f"/proc/{ro.proc.pid}/maps").read_text()
    assert not any(f in main for f in allocator.KNOWN.values())


def test_threads_added_for_a_burst_end_soon_after_it(ro: Server) -> None:
    """Granian adds HTTP threads while requests wait, and ends them once idle for
    ``IDLE_THREAD_S`` (5 s, not granian's 30): after a burst, a single client is served
    again by one warm thread instead of by each thread in turn."""
    http = ro.http_processes()

    def threads() -> int:
        return sum(len(os.listdir(f"/proc/{pid}/task")) for pid in http)

    # Queries that wait for the two query workers hold their HTTP threads meanwhile.
    pairs = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f }} # burst {}"
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: ro.query(pairs.format(i), "text/csv"), range(16)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    peak = threads()
    deadline = time.monotonic() + 15
    while threads() >= peak and time.monotonic() < deadline:
        time.sleep(0.5)
    assert threads() < peak, f"{peak} threads, none ended 15 s after the burst"


def test_serve_names_an_allocator_that_is_not_there(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "diplograph.cli",
            "serve",
            "--store",
            str(tmp_path / "store"),
            "--port",
            str(free_port()),
            "--query-allocator",
            str(tmp_path / "libnone.so"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode != 0
    assert "query allocator" in done.stderr and "libnone.so" in done.stderr
    assert "no such file" in done.stderr


# ---------------------------------------------------------------- request log


def test_requests_are_logged_with_status_and_duration(ro: Server) -> None:
    marker = uuid.uuid4().hex
    requests.get(ro.url + "/health", timeout=10)
    requests.post(ro.sparql, data={"query": f"ASK {{ ?s ?p '{marker}' }}"}, timeout=30)
    ro.query(f"ASK {{ ?s ?p '{marker}' ")  # a 400
    ro.query(f"DESCRIBE <{KAZ}> # {marker}")  # answered without Flask
    log = _log_once(ro, marker, 2)
    assert re.search(r'"GET /health" 200 \d+ \d+(\.\d+)?ms', log), log[-2000:]
    assert re.search(r'"POST /sparql" 200 \d+ \d+(\.\d+)?ms', log), log[-2000:]
    bad = [line for line in log.splitlines() if marker in line and '"GET /sparql?query=ASK' in line]
    assert bad and re.search(r'" 400 \d+ \d+(\.\d+)?ms$', bad[-1]), bad
    fast = [line for line in log.splitlines() if marker in line and "DESCRIBE" in line]
    assert fast and re.search(r'" 200 \d+ \d+(\.\d+)?ms$', fast[-1]), fast


def _log_once(server: Server, marker: str, lines: int) -> str:
    """The server's log once ``lines`` lines name ``marker`` (it is written in batches,
    a few milliseconds after the requests)."""
    deadline = time.monotonic() + 10
    while True:
        log = server.log.read_text("utf-8")
        if log.count(marker) >= lines or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


def test_federated_queries_are_refused(ro: Server) -> None:
    """SERVICE would let any client make the server call other hosts."""
    response = ro.query("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert response.status_code == 400
    assert "SERVICE" in response.text


# ---------------------------------------------------------------- the server process


def _serve(store: Path, port: int) -> subprocess.CompletedProcess[str]:
    """Run ``diplograph serve`` expecting it to stop at once (it cannot start)."""
    command = ["serve", "--store", str(store), "--port", str(port)]
    return subprocess.run(
        [sys.executable, "-m", "diplograph.cli", *command],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_serve_refuses_a_port_another_server_listens_on(ro: Server, tmp_path: Path) -> None:
    """Not silently sharing it: the two would split the requests between two stores."""
    port = urllib.parse.urlsplit(ro.url).port
    assert port is not None
    done = _serve(tmp_path / "store", port)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert not (tmp_path / "store").exists()
    assert ro.health()["status"] == "ok"


def test_serve_names_a_store_another_process_holds(tmp_path: Path) -> None:
    from pyoxigraph import Store

    store = tmp_path / "store"
    holder = Store(str(store))
    try:
        done = _serve(store, free_port())
    finally:
        del holder
    assert done.returncode == 1
    assert f"diplograph: error: {store}: cannot open the store" in done.stderr
    assert "LOCK" in done.stderr


def test_killing_the_server_stops_the_process_that_serves(
    corpus_store: Path, tmp_path: Path
) -> None:
    """``kill -9`` of ``diplograph serve`` frees the port and the store within seconds."""
    store = _copy(corpus_store, tmp_path)
    started = _start(store, tmp_path / "server.log")
    server = next(started)
    try:
        serving = [*server.http_processes(), server.keeper()]
        assert len(serving) == os.cpu_count() + 1
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while any(_cpu_seconds(p) is not None for p in serving) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [p for p in serving if _cpu_seconds(p) is not None]
        assert not left, "a serving process or the keeper outlived the server"
        from pyoxigraph import Store

        reopened = Store(str(store))  # the lock is free again
        assert len(reopened) > 0
        del reopened
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + "/health", timeout=5)
    finally:
        started.close()


def test_run_ingests_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """``diplograph run`` (what ``make run`` does) opens the store to ingest and then
    serves it from another process; the server must not inherit the first one's store."""
    port = free_port()
    store = tmp_path / "store"
    log = tmp_path / "run.log"
    with log.open("wb") as err:
        command = ["run", "--store", str(store), "--port", str(port), "--workers", "1"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "diplograph.cli", *command],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + 120
        # The keeper compacts the store while granian's workers start; both are logged.
        while not all(
            line in log.read_text()
            for line in ("queries read the new snapshot", "diplograph: serving")
        ):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        answer = server.query(
            "SELECT (COUNT(*) AS ?n) WHERE { ?m a <http://www.w3.org/ns/org#Membership> }"
        )
        assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) > 0
        serving = [pid for pid, _, _ in server._descendants()]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0, log.read_text()
        time.sleep(0.5)
        assert all(_cpu_seconds(pid) is None for pid in serving), "processes left behind"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- compression


def _raw(server: Server, sparql: str, encoding: str) -> tuple[requests.Response, bytes]:
    """A query's response and its body as sent (not decompressed by requests)."""
    response = requests.get(
        server.sparql,
        params={"query": sparql},
        headers={"Accept": "application/sparql-results+json", "Accept-Encoding": encoding},
        timeout=30,
        stream=True,
    )
    return response, response.raw.read(decode_content=False)


def test_large_answers_are_gzipped_for_clients_that_accept_it(ro: Server) -> None:
    import gzip

    big = "SELECT * WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 2000"
    plain, plain_body = _raw(ro, big, "identity")
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert len(json.loads(plain_body)["results"]["bindings"]) == 2000
    zipped, zipped_body = _raw(ro, big, "gzip, deflate")
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert int(zipped.headers["Content-Length"]) == len(zipped_body)
    assert gzip.decompress(zipped_body) == plain_body
    assert len(zipped_body) * 4 < len(plain_body)
    # Asked again: the same bytes, from the cache.
    assert _raw(ro, big, "*")[1] == zipped_body


def test_gzip_is_not_used_when_refused_or_not_worth_it(ro: Server) -> None:
    big = "SELECT * WHERE { ?s ?p ?o } LIMIT 500"
    assert "Content-Encoding" not in _raw(ro, big, "gzip;q=0, identity")[0].headers
    assert "Content-Encoding" not in _raw(ro, big, "br")[0].headers
    small, body = _raw(ro, "ASK { ?s ?p ?o }", "gzip")
    assert "Content-Encoding" not in small.headers
    assert json.loads(body)["boolean"] is True


def _cpus(pid: int, thread: str | None = None) -> set[int]:
    """The CPUs a process (or one of its threads) may run on, from /proc."""
    where = f"/proc/{pid}/task/{thread}/status" if thread else f"/proc/{pid}/status"
    lines = Path(where).read_text().splitlines()
    line = next(x for x in lines if x.startswith("Cpus_allowed_list"))
    cpus: set[int] = set()
    for part in line.split(":", 1)[1].strip().split(","):
        first, _, last = part.partition("-")
        cpus |= set(range(int(first), int(last or first) + 1))
    return cpus


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_the_http_threads_keep_to_one_core_and_the_query_workers_to_all(
    limited: Server,
) -> None:
    """The HTTP process's threads share one GIL: kept on one core, a hand-over of the GIL
    does not wake a thread on another. The query workers are processes of their own and
    keep every core, also one started in place of a worker killed for its time limit."""
    everything = os.sched_getaffinity(0)
    http = limited.http_process()
    assert limited.query("ASK { ?s ?p ?o }", "application/sparql-results+json").status_code == 200
    threads = os.listdir(f"/proc/{http}/task")
    assert len(threads) > 2
    assert {frozenset(_cpus(http, t)) for t in threads} == {frozenset({max(everything)})}
    before = set(limited.workers())
    assert before and all(_cpus(pid) == everything for pid in before)

    runaway = requests.post(limited.sparql, data={"query": RUNAWAY}, timeout=60)
    assert runaway.status_code == 503, runaway.text
    # A replacement starts in the background: it exists before it has set its CPUs.
    deadline = time.monotonic() + 30
    fresh: set[int] = set()
    while time.monotonic() < deadline:
        fresh = set(limited.workers()) - before
        if fresh and all(_cpus(pid) == everything for pid in fresh):
            break
        time.sleep(0.2)
    assert fresh, "no query worker replaced the one killed"
    assert {pid: _cpus(pid) for pid in fresh} == dict.fromkeys(fresh, everything)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_each_http_process_keeps_to_a_core_of_its_own(ro: Server) -> None:
    """By default one HTTP process per core, each with its threads on a different core
    (each has its own GIL); the keeper and the query workers are not pinned."""
    everything = os.sched_getaffinity(0)
    http = ro.http_processes()
    assert len(http) == len(everything)
    kept = [{frozenset(_cpus(pid, t)) for t in os.listdir(f"/proc/{pid}/task")} for pid in http]
    assert all(len(cpus) == 1 and len(next(iter(cpus))) == 1 for cpus in kept), kept
    assert {next(iter(cpus)) for cpus in kept} == {frozenset({cpu}) for cpu in everything}
    assert all(_cpus(pid) == everything for pid in [*ro.workers(), ro.keeper()])
