"""The store: an embedded Oxigraph database on disk, one named graph per article.

Graphs (see docs/data-model.md):
- ``{base}graph/article/{key}``: one article, its mentions, memberships and events;
- ``{base}graph/entities``: shared descriptions of countries, organizations, places, people;
- ``{base}graph/ontology``: ontology/diplograph.ttl, so that queries can use the hierarchy;
- ``{base}graph/meta``: the store's revision and modification time.

Every write is one SPARQL update, which Oxigraph applies in one transaction: a crash at any
moment leaves an article's graph as it was before the write or after it, never half. The
revision changes with every write, so that caches can be keyed on it.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    Store,
)

from diplograph.config import DEFAULT_BASE, ONTOLOGY_DIR
from extract.rdf import DCTERMS, ORG, PREFIXES, RDF, SCHEMA, XSD, Vocabulary
from extract.reader import Article
from graph.base import StoreError


def _nt(quads: Iterable[Quad]) -> str:
    """Quads as the body of a SPARQL INSERT DATA, grouped by graph."""
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        by_graph.setdefault(str(q.graph_name), []).append(f"{q.subject} {q.predicate} {q.object} .")
    return "\n".join(f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}" for g, lines in by_graph.items())


#: Quads written between flushes of RocksDB's memtables to disk. Left alone, RocksDB lets
#: them grow to about 2 GB before flushing them itself; flushing every 200,000 quads keeps
#: a long ingest near 600 MB whatever its size (benchmarks/README.md, "Store loading").
FLUSH_EVERY_QUADS = 200_000

_NON_NEGATIVE = NamedNode(XSD + "nonNegativeInteger")
_INTEGER = NamedNode(XSD + "integer")


def _stored_form(q: Quad) -> Quad:
    """The quad as Oxigraph gives it back (it keeps xsd:nonNegativeInteger as xsd:integer)."""
    o = q.object
    if isinstance(o, Literal) and o.datatype == _NON_NEGATIVE:
        return Quad(q.subject, q.predicate, Literal(o.value, datatype=_INTEGER), q.graph_name)
    return q


def ontology_text(base: str) -> str:
    """ontology/diplograph.ttl with the deployment's base IRI."""
    text = (ONTOLOGY_DIR / "diplograph.ttl").read_text(encoding="utf-8")
    return text.replace(DEFAULT_BASE, base) if base != DEFAULT_BASE else text


class GraphStore:
    """The knowledge graph in one Oxigraph directory (a :class:`graph.base.KnowledgeStore`)."""

    def __init__(self, path: str | Path, base: str = DEFAULT_BASE, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.v = Vocabulary(base)
        self.meta_graph = NamedNode(self.v.base + "graph/meta")
        self.dataset = NamedNode(self.v.base)
        self._unflushed = 0  # quads written since the last flush
        try:
            if read_only:
                self.store = Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self.store = Store(str(self.path))
        except OSError as err:
            raise StoreError(f"{self.path}: cannot open the store: {err}") from err
        if not read_only:
            self.ensure_ontology()

    # ------------------------------------------------------------------ bookkeeping

    def close(self) -> None:
        """Flush and release the store's lock (closing twice is harmless)."""
        if hasattr(self, "store"):
            if not self.read_only:
                self.store.flush()
            del self.store

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def revision(self) -> int:
        """A number that changes with every write (0 for a new store)."""
        for q in self.store.quads_for_pattern(
            self.dataset, self.v.term("revision"), None, self.meta_graph
        ):
            return int(q.object.value)
        return 0

    def _revision_update(self) -> str:
        """SPARQL that sets the next revision and the modification time."""
        now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        rev, mod, g = self.v.term("revision"), NamedNode(DCTERMS + "modified"), self.meta_graph
        new = Literal(str(self.revision() + 1), datatype=NamedNode(XSD + "integer"))
        stamp = Literal(now, datatype=NamedNode(XSD + "dateTime"))
        return (
            f"DELETE WHERE {{ GRAPH {g} {{ {self.dataset} {rev} ?r }} }} ;\n"
            f"DELETE WHERE {{ GRAPH {g} {{ {self.dataset} {mod} ?m }} }} ;\n"
            f"INSERT DATA {{ GRAPH {g} {{ {self.dataset} {rev} {new} ; {mod} {stamp} . }} }}"
        )

    def update(self, sparql: str) -> None:
        """Run a SPARQL update and bump the revision, in one transaction (as
        :meth:`graph.remote.RemoteStore.update`); pyoxigraph's SyntaxError, ValueError or
        OSError if it cannot, and then nothing changed."""
        self.store.update(sparql + "\n;\n" + self._revision_update())

    def ensure_ontology(self) -> bool:
        """(Re)load the ontology graph if the file changed; True if it was written."""
        text = ontology_text(self.v.base)
        digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        hash_term = self.v.term("ontologyHash")
        current = next(
            iter(self.store.quads_for_pattern(self.dataset, hash_term, None, self.meta_graph)),
            None,
        )
        if current is not None and current.object.value == digest:
            return False
        from pyoxigraph import parse

        quads = [
            Quad(t.subject, t.predicate, t.object, self.v.ontology_graph)
            for t in parse(text.encode("utf-8"), format=RdfFormat.TURTLE)
        ]
        g, m = self.v.ontology_graph, self.meta_graph
        self.store.update(
            f"DROP SILENT GRAPH {g} ;\n"
            f"DELETE WHERE {{ GRAPH {m} {{ {self.dataset} {hash_term} ?h }} }} ;\n"
            f"INSERT DATA {{ {_nt(quads)} \n GRAPH {m} {{ {self.dataset} {hash_term} "
            f'"{digest}" }} }} ;\n' + self._revision_update()
        )
        return True

    # ------------------------------------------------------------------ articles

    def article_quads(self, key: str) -> set[Quad]:
        graph = NamedNode(f"{self.v.base}graph/article/{key}")
        return set(self.store.quads_for_pattern(None, None, None, graph))

    def write_article(self, article: Article, quads: list[Quad]) -> bool:
        """Replace the article's graph and add the entity descriptions it needs.

        A new article goes in with one ``Store.extend`` (one transaction); an article
        already stored is replaced with one SPARQL update (drop, insert, revision bump).
        Either way a crash leaves the article whole or absent. Only entity triples the
        store lacks are written: most are there already, and every quad written costs.
        Returns False (and writes nothing) when the store already holds exactly these facts.
        """
        graph = self.v.article_graph(article)
        own = {_stored_form(q) for q in quads if q.graph_name == graph}
        entities = {_stored_form(q) for q in quads if q.graph_name != graph}
        missing = [q for q in entities if q not in self.store]
        held = self.article_quads(article.key)
        if own == held and not missing:
            return False
        if held:
            self.store.update(
                f"DROP SILENT GRAPH {graph} ;\n"
                f"INSERT DATA {{ {_nt([*own, *missing])} }} ;\n" + self._revision_update()
            )
        else:
            # The revision first: a crash between the two leaves a new revision over the
            # old data, which costs a cache refresh and loses nothing.
            self.store.update(self._revision_update())
            self.store.extend([*own, *missing])
        self._written(len(own) + len(missing))
        return True

    def _written(self, quads: int) -> None:
        """Count quads written; flush the memtables every :data:`FLUSH_EVERY_QUADS`."""
        self._unflushed += quads
        if self._unflushed >= FLUSH_EVERY_QUADS:
            self.store.flush()
            self._unflushed = 0

    def remove_article(self, key: str) -> bool:
        """Take one article's facts out; entity descriptions no article needs go too."""
        graph = NamedNode(f"{self.v.base}graph/article/{key}")
        if not self.article_quads(key):
            return False
        self.store.update(f"DROP GRAPH {graph} ;\n" + self._revision_update())
        self.prune_entities()
        return True

    def article_graphs(self) -> list[NamedNode]:
        prefix = self.v.base + "graph/article/"
        return sorted(
            (
                g
                for g in self.store.named_graphs()
                if isinstance(g, NamedNode) and g.value.startswith(prefix)
            ),
            key=lambda g: g.value,
        )

    def articles(self) -> Iterator[tuple[str, str, str]]:
        """(key, source, title) of every stored article."""
        rows = self.query(
            f"""SELECT ?a ?source ?title WHERE {{
                ?a a <{self.v.dg}Article> ; <{DCTERMS}source> ?source .
                OPTIONAL {{ ?a <{DCTERMS}title> ?title }}
            }} ORDER BY ?source"""
        )
        for row in rows:  # type: ignore[union-attr]
            key = row["a"].value.rsplit("/", 1)[-1]
            title = row["title"].value if row["title"] is not None else ""
            yield key, row["source"].value, title

    def prune_entities(self) -> int:
        """Delete entity descriptions that no article refers to (directly or as a parent)."""
        ent = self.v.entities_graph
        used: set[str] = set()
        prefix = self.v.base + "graph/article/"
        rows = self.query(
            f"""SELECT DISTINCT ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
                FILTER(isIRI(?o) && STRSTARTS(STR(?g), "{prefix}")) }}"""
        )
        used = {row["o"].value for row in rows}  # type: ignore[union-attr]
        links = (NamedNode(ORG + "subOrganizationOf"), NamedNode(SCHEMA + "containedInPlace"))
        frontier = set(used)
        while frontier:
            nxt: set[str] = set()
            for iri in frontier:
                for link in links:
                    for q in self.store.quads_for_pattern(NamedNode(iri), link, None, ent):
                        if q.object.value not in used:
                            nxt.add(q.object.value)
            used |= nxt
            frontier = nxt
        subjects = {q.subject for q in self.store.quads_for_pattern(None, None, None, ent)}
        stale = [s for s in subjects if isinstance(s, NamedNode) and s.value not in used]
        if stale:
            values = " ".join(str(s) for s in stale)
            self.store.update(
                f"DELETE {{ GRAPH {ent} {{ ?s ?p ?o }} }} WHERE {{ VALUES ?s {{ {values} }} "
                f"GRAPH {ent} {{ ?s ?p ?o }} }} ;\n" + self._revision_update()
            )
        return len(stale)

    # ------------------------------------------------------------------ reading

    def query(self, sparql: str, **options: object) -> object:
        """A SPARQL query over the union of all graphs (as every client sees it)."""
        options.setdefault("use_default_graph_as_union", True)
        return self.store.query(sparql, **options)  # type: ignore[arg-type]

    def stats(self) -> dict[str, object]:
        """Counts users ask about: triples, graphs, articles, entities, facts."""
        dg = self.v.dg

        def count(pattern: str) -> int:
            rows = list(self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"))  # type: ignore[call-overload]
            return int(rows[0]["n"].value)

        by_class = {}
        for cls in ("Country", "Organization", "Treaty", "City", "Person"):
            ent = self.v.entities_graph.value
            by_class[cls] = count(
                f"SELECT DISTINCT ?e WHERE {{ GRAPH <{ent}> {{ ?e a <{dg}{cls}> }} }}"
            )
        return {
            "quads": len(self.store),
            "graphs": sum(1 for _ in self.store.named_graphs()),
            "articles": len(self.article_graphs()),
            "entities": by_class,
            "memberships": count(f"SELECT DISTINCT ?m WHERE {{ ?m a <{dg}Membership> }}"),
            "events": count(f"SELECT DISTINCT ?e WHERE {{ ?e a <{dg}Event> }}"),
            "revision": self.revision(),
        }

    # ------------------------------------------------------------------ bulk and export

    def optimize(self) -> None:
        """Compact the database files (Oxigraph's ``optimize``): a store just written by a
        bulk load or an ingest answers queries 20-25% faster afterwards."""
        self.store.optimize()

    def bulk_load(self, path: Path, fmt: RdfFormat) -> None:
        """Load an RDF file as fast as Oxigraph can (no validation: for dumps and restores)."""
        self.store.bulk_load(path=str(path), format=fmt)
        self.store.update(self._revision_update())

    def dump(self, output: IO[bytes], fmt: str, graph: str | None = None) -> None:
        """Stream the store (or one graph) to ``output`` without loading it in memory."""
        from extract.serialize import FORMATS, QUAD_FORMATS

        rdf_format = FORMATS[fmt]
        prefixes = {**PREFIXES, "dg": self.v.dg}
        if graph is not None:
            node = NamedNode(graph)
            kwargs = {"prefixes": prefixes} if fmt in {"turtle", "trig", "rdfxml"} else {}
            if fmt in QUAD_FORMATS:
                quads = self.store.quads_for_pattern(None, None, None, node)
                from pyoxigraph import serialize

                serialize(quads, output, format=rdf_format, **kwargs)
            else:
                self.store.dump(output, rdf_format, from_graph=node, **kwargs)
            return
        if fmt in QUAD_FORMATS:
            kwargs = {"prefixes": prefixes} if fmt == "trig" else {}
            self.store.dump(output, rdf_format, **kwargs)
        elif fmt in {"turtle", "ntriples"}:
            # Concatenated Turtle documents with the same prefixes are one valid document.
            kwargs = {"prefixes": prefixes} if fmt == "turtle" else {}
            for g in [DefaultGraph(), *sorted(self.store.named_graphs(), key=str)]:
                self.store.dump(output, rdf_format, from_graph=g, **kwargs)
        else:  # RDF/XML: one document, the union of the graphs as triples
            from pyoxigraph import Triple, serialize

            triples = (
                Triple(q.subject, q.predicate, q.object)
                for q in self.store.quads_for_pattern(None, None, None, None)
            )
            serialize(triples, output, format=rdf_format, prefixes=prefixes)

    def backup(self, target: Path) -> None:
        """A consistent copy of the store (Oxigraph's own backup) into a new directory."""
        if target.exists() and any(target.iterdir()):
            raise StoreError(f"{target}: backup directory exists and is not empty")
        self.store.flush()
        self.store.backup(str(target))


def restore(backup: Path, target: Path) -> None:
    """Replace the store at ``target`` with a backup; the old store is kept aside until done."""
    if not backup.is_dir():
        raise StoreError(f"{backup}: no such backup directory")
    try:
        Store.read_only(str(backup))
    except OSError as err:
        raise StoreError(f"{backup}: not an Oxigraph backup: {err}") from err
    staging = target.with_name(target.name + ".restoring")
    old = target.with_name(target.name + ".old")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(backup, staging)
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


__all__ = ["RDF", "GraphStore", "StoreError", "restore"]
