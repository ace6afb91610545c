"""What every knowledge store offers, whether embedded (graph/store.py) or remote (graph/remote.py).

The command line and ingest use only what :class:`KnowledgeStore` lists, so that one
setting (``DIPLOGRAPH_STORE_URL``) chooses where the graph lives. The errors are shared
too: :class:`StoreError` for a store that cannot be used at all, and
:class:`WriteFailed` for one write that failed while the store is otherwise usable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pyoxigraph import NamedNode, Quad, RdfFormat

    from extract.rdf import Vocabulary
    from extract.reader import Article


def with_values(sparql: str, terms: dict[str, object]) -> str:
    """The query with ``terms`` (variable name -> pyoxigraph term) as a trailing VALUES
    clause: the terms are written by pyoxigraph's serializer, so a value can never change
    the query's structure. For stores without pyoxigraph's ``substitutions``."""
    if not terms:
        return sparql
    names = " ".join(f"?{n}" for n in terms)
    row = " ".join(str(t) for t in terms.values())
    return f"{sparql}\nVALUES ({names}) {{ ({row}) }}\n"


class StoreError(Exception):
    """A store that cannot be opened or used, with the reason."""


class WriteFailed(StoreError):
    """One write failed (network down, server error, request refused for its content).

    The store holds what it held before the write: the caller may report the item and go
    on with the next one.
    """


@runtime_checkable
class KnowledgeStore(Protocol):
    """The knowledge graph: one named graph per article, shared entities, the ontology."""

    #: The IRIs of the deployment (base, graphs, ontology terms).
    v: Vocabulary

    def close(self) -> None:
        """Release the store (flush, lock, connections)."""
        ...

    def __enter__(self) -> KnowledgeStore: ...

    def __exit__(self, *exc: object) -> None: ...

    def revision(self) -> int:
        """A number that changes with every write (0 for a new store)."""
        ...

    def ensure_ontology(self) -> bool:
        """(Re)load the ontology graph if the file changed; True if it was written."""
        ...

    def article_quads(self, key: str) -> set[Quad]:
        """The quads of one article's graph (empty if the article is not stored)."""
        ...

    def write_article(self, article: Article, quads: list[Quad]) -> bool:
        """Replace the article's graph and add the entities it needs; False if unchanged."""
        ...

    def remove_article(self, key: str) -> bool:
        """Take one article's facts out (and entities no article needs); False if absent."""
        ...

    def article_graphs(self) -> list[NamedNode]:
        """The names of the article graphs, sorted."""
        ...

    def articles(self) -> Iterator[tuple[str, str, str]]:
        """(key, source, title) of every stored article."""
        ...

    def prune_entities(self) -> int:
        """Delete entity descriptions no article refers to; the number of entities deleted."""
        ...

    def query(self, sparql: str, **options: object) -> object:
        """A SPARQL query over the union of all graphs, as pyoxigraph result objects."""
        ...

    def stats(self) -> dict[str, object]:
        """Counts: quads, graphs, articles, entities by class, memberships, events, revision."""
        ...

    def bulk_load(self, path: Path, fmt: RdfFormat) -> None:
        """Load an RDF file without validation (dumps, restores)."""
        ...

    def dump(self, output: IO[bytes], fmt: str, graph: str | None = None) -> None:
        """Stream the store (or one graph) to ``output`` in format ``fmt``."""
        ...

    def backup(self, target: Path) -> None:
        """A consistent copy of the store into a new directory (where the store can)."""
        ...


__all__ = ["KnowledgeStore", "StoreError", "WriteFailed"]
