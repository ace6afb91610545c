"""The store on disk: per-article graphs, idempotent ingest, validation, export, crashes."""

from __future__ import annotations

import http.server
import os
import re
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Store

from benchmarks.common import descendants
from diplograph.extraction import CHUNK
from diplograph.ingest import check, ingest
from extract.pipeline import extract
from extract.rdf import Vocabulary, to_quads
from extract.reader import read_file
from graph.store import GraphStore, _stored_form, restore
from graph.validate import Validator

from .conftest import BASE, CORPUS_DIR, ROOT, source_articles

META = NamedNode(BASE + "graph/meta")


def content(store: GraphStore) -> set:
    """Everything but the bookkeeping graph (revision, modification time)."""
    return {
        q for q in store.store.quads_for_pattern(None, None, None, None) if q.graph_name != META
    }


@pytest.fixture
def store(tmp_path: Path):
    with GraphStore(tmp_path / "store", BASE) as s:
        yield s


def test_ingest_is_idempotent_and_revision_tracks_writes(store: GraphStore) -> None:
    summary = ingest([CORPUS_DIR], store, progress=False)
    assert summary.written == len(list(CORPUS_DIR.iterdir())) and not summary.rejected
    before, revision = content(store), store.revision()
    again = ingest([CORPUS_DIR], store, progress=False)
    assert again.written == 0 and again.unchanged == summary.written
    assert content(store) == before and store.revision() == revision
    assert len(store.article_graphs()) == summary.written


def test_union_default_graph_and_class_hierarchy(store: GraphStore) -> None:
    ingest(source_articles(), store, progress=False)
    rows = list(
        store.query(
            "PREFIX schema: <https://schema.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>"
            " SELECT DISTINCT ?e WHERE { ?e a/rdfs:subClassOf* schema:Event }"
        )
    )
    assert len(rows) >= 10  # events typed only with project classes are found via the ontology
    (row,) = store.query(
        "SELECT ?l WHERE { <http://127.0.0.1:5000/id/country/kaz> "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?l }"
    )
    assert row["l"].value == "Kazakhstan"


def test_an_edited_article_replaces_its_facts(store: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "news.txt"
    path.write_text("Chile news\n\nChile joined the OECD in May 2010.\n", encoding="utf-8")
    ingest([path], store, progress=False)
    path.write_text("Chile news\n\nChile joined the Pacific Alliance in 2012.\n", encoding="utf-8")
    ingest([path], store, progress=False)
    orgs = {
        r["o"].value
        for r in store.query("SELECT ?o WHERE { ?m <http://www.w3.org/ns/org#organization> ?o }")
    }
    assert orgs == {BASE + "id/organization/pacific-alliance"}


def test_remove_keeps_labels_other_articles_need(store: GraphStore, tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("One\n\nKazakhstan joined the WTO in 2015.\n", encoding="utf-8")
    b.write_text("Two\n\nKazakhstan joined the Eurasian Economic Union in 2015.\n", "utf-8")
    ingest([a, b], store, progress=False)
    key = read_file(a).key
    assert store.remove_article(key)
    assert not store.article_quads(key)
    labels = {
        r["s"].value
        for r in store.query(
            "SELECT ?s WHERE { GRAPH <http://127.0.0.1:5000/graph/entities> "
            "{ ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } }"
        )
    }
    assert BASE + "id/country/kaz" in labels  # b still needs it
    assert BASE + "id/organization/eaeu" in labels
    assert BASE + "id/organization/wto" not in labels  # nobody needs it any more
    assert not store.remove_article(key)


def _strict(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Shapes that also want every membership dated; a dated and an undated article."""
    shapes = (
        (ROOT / "ontology" / "shapes.ttl").read_text("utf-8")
        + """
dgsh:DatedMembershipShape a sh:NodeShape ; sh:targetClass dg:Membership ;
    sh:property [ sh:path schema:startDate ; sh:minCount 1 ;
                  sh:message "a membership must be dated"@en ] .
"""
    )
    strict = tmp_path / "strict.ttl"
    strict.write_text(shapes, encoding="utf-8")
    dated, undated = tmp_path / "dated.txt", tmp_path / "undated.txt"
    dated.write_text("A\n\nChile joined the OECD in May 2010.\n", encoding="utf-8")
    undated.write_text("B\n\nPeru joined the Andean Community.\n", encoding="utf-8")
    return strict, dated, undated


def test_invalid_articles_are_rejected_whole(store: GraphStore, tmp_path: Path) -> None:
    """With a stricter shape (every membership dated), undated facts are refused."""
    strict, dated, undated = _strict(tmp_path)
    summary = ingest([dated, undated], store, progress=False, validator=Validator(shapes=strict))
    assert summary.written == 1
    ((where, reason),) = summary.rejected
    assert where.endswith("undated.txt")
    assert "/id/membership/" in reason and "a membership must be dated" in reason
    assert not store.article_quads(read_file(undated).key)
    assert store.article_quads(read_file(dated).key)


def test_a_dry_run_reports_what_an_ingest_would_reject(tmp_path: Path) -> None:
    strict, dated, undated = _strict(tmp_path)
    summary = check([dated, undated], BASE, progress=False, validator=Validator(shapes=strict))
    assert (summary.read, summary.written) == (2, 1)
    ((where, reason),) = summary.rejected
    assert where.endswith("undated.txt") and "a membership must be dated" in reason
    assert summary.memberships == 1
    assert "conform: 1, rejected: 1 (dry run: nothing written)" in summary.report()


def test_cli_dry_run_writes_nothing(tmp_path: Path) -> None:
    strict, dated, undated = _strict(tmp_path)
    store = tmp_path / "store"
    args = ("ingest", str(dated), str(undated), "--store", str(store), "--quiet", "--dry-run")
    result = diplograph(*args, "--shapes", str(strict))
    assert result.returncode == 1, result.stderr
    assert "conform: 1, rejected: 1 (dry run: nothing written)" in result.stderr
    assert f"rejected {undated.resolve().as_uri()}: " in result.stderr
    assert not store.exists()
    # the default shapes accept both
    assert diplograph(*args).returncode == 0 and not store.exists()


def test_cli_bad_shapes_stop_before_any_work(tmp_path: Path) -> None:
    _, dated, _ = _strict(tmp_path)
    broken = tmp_path / "broken.ttl"
    broken.write_text("this is not Turtle @@\n", encoding="utf-8")
    store = tmp_path / "store"
    for shapes, why in ((broken, "not valid SHACL shapes"), (tmp_path / "none.ttl", "cannot read")):
        result = diplograph("ingest", str(dated), "--store", str(store), "--shapes", str(shapes))
        assert result.returncode == 1
        assert f"--shapes {shapes}: {why}" in result.stderr
        assert not store.exists()


def test_export_then_import_gives_the_same_graph(store: GraphStore, tmp_path: Path) -> None:
    ingest([CORPUS_DIR], store, progress=False)
    for fmt in ("trig", "nquads"):
        out = tmp_path / f"dump.{fmt}"
        with out.open("wb") as fh:
            store.dump(fh, fmt)
        with GraphStore(tmp_path / f"copy-{fmt}", BASE) as copy:
            copy.bulk_load(out, __import__("extract.serialize").serialize.FORMATS[fmt])
            assert content(copy) == content(store)


def test_turtle_export_is_the_union_of_the_graphs(store: GraphStore, tmp_path: Path) -> None:
    import rdflib

    ingest(source_articles(), store, progress=False)
    out = tmp_path / "dump.ttl"
    with out.open("wb") as fh:
        store.dump(fh, "turtle")
    text = out.read_text("utf-8")
    assert text.startswith("@prefix")
    parsed = rdflib.Graph().parse(out, format="turtle")
    union = {
        (q.subject, q.predicate, q.object)
        for q in store.store.quads_for_pattern(None, None, None, None)
    }
    assert len(parsed) == len(union)


def test_backup_and_restore(store: GraphStore, tmp_path: Path) -> None:
    ingest(source_articles(), store, progress=False)
    expected = content(store)
    store.backup(tmp_path / "backup")
    target = tmp_path / "restored"
    restore(tmp_path / "backup", target)
    with GraphStore(target, BASE) as restored:
        assert content(restored) == expected


def test_stored_articles_are_exactly_what_extraction_gives(store: GraphStore) -> None:
    ingest(source_articles(), store, progress=False)
    for path in source_articles():
        article = read_file(path)
        quads = to_quads(article, extract(article), Vocabulary(BASE))
        graph = Vocabulary(BASE).article_graph(article)
        assert {_stored_form(q) for q in quads if q.graph_name == graph} == store.article_quads(
            article.key
        )


# ---------------------------------------------------------------- crash safety

TEMPLATE = (
    "Report {i}\n\n{a} joined the World Trade Organization in {y}. "
    "{a} and {b} became members of the Organization for Security and Co-operation in Europe "
    "in {y}. {b} chaired the Shanghai Cooperation Organization in {y2}.\n\n"
    + "Diplomats met often. "
    * 40
)


def test_worker_processes_store_what_one_process_stores(store: GraphStore, tmp_path: Path) -> None:
    """Extracting and validating in workers changes nothing in what is stored."""
    paths = [*sorted(CORPUS_DIR.glob("*.txt")), *_articles(tmp_path / "more", 30)]
    assert len(paths) > 2 * CHUNK
    # One chunk at a time is extracted in this process; more than one goes to workers.
    alone = [ingest(paths[i : i + CHUNK], store, progress=False) for i in range(0, 40, CHUNK)]
    with GraphStore(tmp_path / "workers", BASE) as other:
        for jobs in (1, 2):
            spread = ingest(paths, other, progress=False, jobs=jobs)
            assert content(other) == content(store)
        assert spread.unchanged == len(paths)
    assert sum(s.written for s in alone) == len(paths)
    assert not any(s.rejected for s in alone)


def test_a_worker_names_the_article_it_rejects(store: GraphStore, tmp_path: Path) -> None:
    """A violation found in a worker process rejects that article only, by name."""
    shapes = (ROOT / "ontology" / "shapes.ttl").read_text("utf-8") + (
        f"\ndgsh:NoMongoliaShape a sh:NodeShape ; sh:targetNode <{BASE}id/country/mng> ;\n"
        '    sh:property [ sh:path rdfs:label ; sh:maxCount 0 ; sh:message "no Mongolia"@en ] .\n'
    )
    paths = _articles(tmp_path / "articles", 40)
    summary = ingest(paths, store, progress=False, jobs=2, validator=Validator(text=shapes))
    mongolian = [p for p in paths if "Mongolia" in p.read_text("utf-8")]
    assert mongolian and summary.written == len(paths) - len(mongolian)
    assert sorted(where for where, _ in summary.rejected) == sorted(
        p.resolve().as_uri() for p in mongolian
    )
    assert all("no Mongolia" in reason for _, reason in summary.rejected)


PAIRS = [("Chile", "Peru"), ("Kenya", "Ghana"), ("Norway", "Sweden"), ("Japan", "Mongolia")]


def _articles(directory: Path, n: int) -> list[Path]:
    directory.mkdir()
    paths = []
    for i in range(n):
        a, b = PAIRS[i % len(PAIRS)]
        path = directory / f"report-{i:04d}.txt"
        path.write_text(TEMPLATE.format(i=i, a=a, b=b, y=1990 + i % 30, y2=2000 + i % 20), "utf-8")
        paths.append(path)
    return paths


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent to reap it counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.parametrize("after", [40, 250])
def test_kill_9_leaves_each_article_whole_or_absent(tmp_path: Path, after: int) -> None:
    """Kill the ingest once its progress bar reports ``after`` articles, then inspect."""
    paths = _articles(tmp_path / "articles", 600)
    store_dir = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "diplograph.cli",
            "ingest",
            str(tmp_path / "articles"),
            "--store",
            str(store_dir),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    done = 0
    buffer = b""
    assert proc.stderr is not None
    while done < after:
        chunk = os.read(proc.stderr.fileno(), 4096)
        assert chunk, "ingest finished before it could be killed"
        buffer = (buffer + chunk)[-4096:]
        counts = re.findall(rb"(\d+)/600", buffer)
        done = int(counts[-1]) if counts else 0
    workers = descendants(proc.pid)
    assert workers, "the ingest extracts in worker processes"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if _alive(p)], "workers outlived the killed ingest"
    with GraphStore(store_dir, BASE) as store:
        stored = {g.value.rsplit("/", 1)[-1] for g in store.article_graphs()}
        assert 0 < len(stored) < len(paths)
        v = Vocabulary(BASE)
        for path in paths:
            article = read_file(path)
            if article.key not in stored:
                continue
            quads = to_quads(article, extract(article), v)
            graph = v.article_graph(article)
            assert store.article_quads(article.key) == {
                _stored_form(q) for q in quads if q.graph_name == graph
            }, f"{path.name} is half written"
            for q in quads:
                if q.graph_name != graph:
                    assert q in store.store, f"{path.name} lacks {q}"


# ---------------------------------------------------------------- command line


def diplograph(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "diplograph.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def test_cli_ingest_query_stats(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    result = diplograph("ingest", str(CORPUS_DIR), "--store", store)
    assert result.returncode == 0, result.stderr
    assert "article/s" in result.stderr and "articles read: 10" in result.stderr
    timing = re.search(
        r"time: ([\d.]+) s \(([\d.]+) articles/s\), ([\d.]+) s of it writing", result.stderr
    )
    assert timing, result.stderr
    total, rate, writing = map(float, timing.groups())
    assert 0 < writing < total and rate == pytest.approx(10 / total, rel=0.05)
    stats = diplograph("stats", "--store", store)
    assert "articles     10" in stats.stdout
    query = (
        "PREFIX org: <http://www.w3.org/ns/org#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>"
        " SELECT ?name WHERE { ?m org:organization/rdfs:label 'Association of Southeast Asian "
        "Nations'@en ; org:member/rdfs:label ?name } ORDER BY ?name"
    )
    table = diplograph("query", query, "--store", store)
    assert table.returncode == 0 and "| Indonesia" in table.stdout and "rows" in table.stdout
    csv = diplograph("query", query, "--format", "csv", "--store", store)
    assert csv.stdout.splitlines()[0] == "name" and "Indonesia" in csv.stdout
    bad = diplograph("query", "SELECT WHERE {", "--store", store)
    assert bad.returncode == 2 and "not valid SPARQL" in bad.stderr
    none = diplograph("stats", "--store", str(tmp_path / "nowhere"))
    assert none.returncode == 1 and "no store here yet" in none.stderr


def test_cli_ingest_a_url(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "news.html").write_text(
        "<html><head><title>Chile and the OECD</title></head><body><nav>Home | World</nav>"
        "<article><h1>Chile and the OECD</h1><p>Chile joined the Organisation for Economic "
        "Co-operation and Development in May 2010, the first South American country to do so."
        "</p><p>Officials in Santiago welcomed the decision as a milestone for the economy."
        "</p></article><footer>Share this post</footer></body></html>",
        encoding="utf-8",
    )
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/news.html"
        store = str(tmp_path / "store")
        result = diplograph("ingest", url, "--store", store, "--quiet")
        assert result.returncode == 0, result.stderr
        ask = diplograph(
            "query", f"ASK {{ ?a <http://purl.org/dc/terms/source> <{url}> }}", "--store", store
        )
        assert ask.stdout.strip() == "true"
        missing = diplograph("ingest", url.replace("news", "gone"), "--store", store, "--quiet")
        assert missing.returncode == 1 and "404" in missing.stderr
    finally:
        server.shutdown()


def test_read_only_store_is_untouched_by_queries(tmp_path: Path) -> None:
    with GraphStore(tmp_path / "s", BASE) as s:
        ingest(source_articles(), s, progress=False)
        rev = s.revision()
    assert Store.read_only(str(tmp_path / "s")) is not None
    diplograph("query", "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "--store", str(tmp_path / "s"))
    with GraphStore(tmp_path / "s", BASE) as s:
        assert s.revision() == rev
