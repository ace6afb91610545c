"""Publishing the whole graph: dumps, a VoID description, a sitemap of entity pages.

Dumps are written once per store revision into a cache directory (streamed from a
read-only snapshot, so memory stays flat) and then served as files: ETag and
Last-Modified come from the revision, a HEAD costs nothing, a repeat download is a 304.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

from flask import Blueprint, Response, request, send_file

from server.backend import QuerySpec
from server.errors import ProtocolError
from server.saved import backend, rows

bp = Blueprint("publish", __name__)

DUMPS = {"ttl": "turtle", "trig": "trig", "nq": "nquads", "nt": "ntriples"}
MEDIA = {
    "ttl": "text/turtle; charset=utf-8",
    "trig": "application/trig; charset=utf-8",
    "nq": "application/n-quads; charset=utf-8",
    "nt": "application/n-triples; charset=utf-8",
}
_lock = threading.Lock()


def _dump_dir() -> Path:
    settings = backend().settings
    return settings.store.parent / (settings.store.name + "-dumps")


def _modified() -> datetime:
    """When the store last changed (from its meta graph), for Last-Modified."""
    b = backend()
    found = rows(
        b.query(
            QuerySpec(
                f"SELECT ?t WHERE {{ GRAPH <{b.store.meta_graph.value}> "
                f"{{ <{b.store.v.base}> <http://purl.org/dc/terms/modified> ?t }} }}",
                "json",
                None,
            )
        )
    )[1]
    if found:
        return datetime.fromisoformat(found[0]["t"]["value"].replace("Z", "+00:00"))
    return datetime.now(UTC)


@contextlib.contextmanager
def _building() -> Iterator[None]:
    """One dump built at a time, by this server's threads and by its other processes."""
    folder = _dump_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with _lock, (folder / "building.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _build(ext: str, compressed: bool) -> tuple[int, BinaryIO]:
    """The dump file of the newest revision, written if it is not there yet, and that
    revision: the one of the snapshot dumped, which a write may have made newer than the
    revision the request saw. The file is opened before another request may remove it."""
    with _building():
        revision, path = _write_dump(ext, compressed)
        return revision, path.open("rb")


def _write_dump(ext: str, compressed: bool) -> tuple[int, Path]:
    """Write the dump of the newest revision if it is not there (under ``_building``)."""
    b = backend()
    revision = b.revision
    path = _dump_file(revision, ext, compressed)
    if path.exists():
        return revision, path
    if not _dump_file(revision, ext, False).exists():
        tmp = _dump_dir() / f"building.{ext}"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as out:
            revision = b.dump(out, DUMPS[ext])
        path = _dump_file(revision, ext, compressed)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.replace(_dump_file(revision, ext, False))
    if compressed:  # not there yet: checked above, or a new folder
        tmp = path.with_suffix(".tmp")
        plain = _dump_file(revision, ext, False)
        with plain.open("rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        tmp.replace(path)
    # Older revisions' dumps are not needed any more.
    for old in _dump_dir().iterdir():
        if old.is_dir() and old != path.parent:
            shutil.rmtree(old, ignore_errors=True)
    return revision, path


def _etag(revision: int, ext: str, compressed: bool) -> str:
    return f"dump-{revision}-{ext}{'-gz' if compressed else ''}"


def _dump_file(revision: int, ext: str, compressed: bool) -> Path:
    folder = _dump_dir() / f"revision-{revision:08d}"
    return folder / (f"diplograph.{ext}" + (".gz" if compressed else ""))


@bp.route("/dumps/diplograph.<path:name>", methods=["GET", "HEAD"])
def dump(name: str) -> Response:
    compressed = name.endswith(".gz")
    ext = name.removesuffix(".gz")
    if ext not in DUMPS:
        raise ProtocolError(404, f"No such dump; try diplograph.{{{','.join(DUMPS)}}}[.gz].")
    revision = backend().revision
    modified = _modified()
    if request.if_none_match.contains(_etag(revision, ext, compressed)):
        response = Response(status=304)
    elif request.method == "HEAD":
        response = Response(status=200, content_type=MEDIA[ext])
    else:
        revision, file = _build(ext, compressed)
        response = send_file(
            file,
            mimetype="application/gzip" if compressed else MEDIA[ext].split(";")[0],
            as_attachment=False,
            conditional=False,
            etag=False,
            download_name=f"diplograph.{name}",
        )
        response.content_length = os.fstat(file.fileno()).st_size
    response.headers["ETag"] = f'"{_etag(revision, ext, compressed)}"'
    response.headers["Last-Modified"] = modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
    response.headers["Cache-Control"] = "public, no-cache"
    return response


@bp.route("/.well-known/void")
def void() -> Response:
    """A VoID description of the dataset (Turtle)."""
    b = backend()
    v = b.store.v
    root = request.url_root.rstrip("/")
    counts = rows(
        b.query(
            QuerySpec(
                """SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g
                ORDER BY ?g""",
                "json",
                None,
            )
        )
    )[1]
    classes = rows(
        b.query(
            QuerySpec(
                f"""SELECT ?c (COUNT(DISTINCT ?e) AS ?n) WHERE {{
                  GRAPH <{v.entities_graph.value}> {{ ?e a ?c }}
                  FILTER(STRSTARTS(STR(?c), "{v.dg}")) }} GROUP BY ?c ORDER BY ?c""",
                "json",
                None,
            )
        )
    )[1]
    total = sum(int(c["n"]["value"]) for c in counts)
    entities = sum(int(c["n"]["value"]) for c in classes)
    lines = [
        "@prefix void: <http://rdfs.org/ns/void#> .",
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .",
        "",
        f"<{root}/.well-known/void#dataset> a void:Dataset ;",
        '    dcterms:title "diplograph: international relations from news articles"@en ;',
        f'    dcterms:modified "{_modified().isoformat()}"^^xsd:dateTime ;',
        f"    void:sparqlEndpoint <{root}/sparql> ;",
        f'    void:uriSpace "{v.base}id/" ;',
        f"    void:rootResource <{v.base}id/country/kaz> ;",
        "    void:vocabulary <http://www.w3.org/ns/org#>, <https://schema.org/>,",
        "        <http://www.w3.org/ns/prov#>, <http://www.w3.org/2004/02/skos/core#>,",
        f"        <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>, <{v.dg}> ;",
        *[f"    void:dataDump <{root}/dumps/diplograph.{ext}> ;" for ext in DUMPS],
        f"    void:triples {total} ;",
        f"    void:entities {entities} ;",
    ]
    for c in classes:
        lines.append(
            f"    void:classPartition [ void:class <{c['c']['value']}> ; "
            f"void:entities {c['n']['value']} ] ;"
        )
    for c in counts:
        graph = c["g"]["value"]
        lines.append(
            f"    void:subset [ a void:Dataset ; sd:name <{escape(graph)}> ; "
            f"void:triples {c['n']['value']} ] ;"
        )
    lines[-1] = lines[-1].rstrip(" ;") + " ."
    return Response("\n".join(lines) + "\n", content_type="text/turtle; charset=utf-8")


@bp.route("/sitemap.xml")
def sitemap() -> Response:
    """The entity pages, for search engines."""
    b = backend()
    v = b.store.v
    found = rows(
        b.query(
            QuerySpec(
                f"SELECT DISTINCT ?e WHERE {{ GRAPH <{v.entities_graph.value}> {{ ?e a ?c }} }} "
                "ORDER BY ?e LIMIT 50000",
                "json",
                None,
            )
        )
    )[1]
    root = request.url_root.rstrip("/")
    urls = [
        f"<url><loc>{escape(root + '/doc/' + r['e']['value'][len(v.base) + 3 :])}</loc></url>"
        for r in found
        if r["e"]["value"].startswith(v.base + "id/")
    ]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(urls)
        + "\n</urlset>\n"
    )
    return Response(body, content_type="application/xml; charset=utf-8")
