"""A knowledge store reached by URL: SPARQL 1.1 Query, SPARQL 1.1 Update, Graph Store Protocol.

The same graphs as the embedded store (see docs/data-model.md and graph/store.py), kept
by any SPARQL 1.1 server: Oxigraph (``oxigraph serve``: ``/query``, ``/update``,
``/store``), Fuseki (``/ds/query``, ``/ds/update``, ``/ds/data``), GraphDB, Virtuoso...

How writes stay whole:

- An article's graph is written with one Graph Store Protocol ``PUT ?graph=<article
  graph>``: the server replaces the graph in one request, so the article is there whole
  (old or new), never half. The entity descriptions it needs are added *before* it, with a
  ``POST ?graph=<entities graph>`` (adding the same triples twice changes nothing), so that
  an article is never stored without the labels of what it mentions.
- Network errors, 429 and 5xx answers are retried with exponential backoff; a write that
  still fails raises :class:`graph.base.WriteFailed`, and the store keeps what it held.
- A refusal (401, 403, no Graph Store Protocol, no Update endpoint) raises
  :class:`graph.base.StoreError` with a message that says what the server cannot do.

Queries see the union of all graphs, as with the embedded store: if the server's default
graph is already the union (``oxigraph serve --union-default-graph``, Fuseki's
``unionDefaultGraph``, Virtuoso), queries are sent as they are; otherwise every named
graph is listed in the request's ``default-graph-uri`` and ``named-graph-uri``.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import requests
from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryResultsFormat,
    RdfFormat,
    Store,
    Triple,
    parse,
    parse_query_results,
    serialize,
)
from urllib3.exceptions import HTTPError as TransportError

from diplograph.config import DEFAULT_BASE
from extract.rdf import DCTERMS, ORG, PREFIXES, SCHEMA, XSD, Vocabulary
from extract.reader import Article
from graph.base import StoreError, WriteFailed, with_values
from graph.store import _stored_form, ontology_text

if TYPE_CHECKING:
    from diplograph.config import Settings

#: Answers worth trying again: the server is busy or failing for now.
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
#: Refusals that concern one request's content, not the store: the next article may pass.
ITEM_STATUS = frozenset({400, 409, 413, 415, 422})
NT = "application/n-triples"
NQ = "application/n-quads"
QUERY_ACCEPT = (
    "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8, "
    "application/sparql-results+xml;q=0.7"
)
#: The Accept header for a query whose form is known: Virtuoso 7 answers a CONSTRUCT
#: in SPARQL JSON results (?s ?p ?o bindings, with a non-standard "lang" key) if that is
#: what the client likes best, so graph results are asked for graphs only.
FORM_ACCEPT = {
    "SELECT": "application/sparql-results+json, application/sparql-results+xml;q=0.7",
    "ASK": "application/sparql-results+json, application/sparql-results+xml;q=0.7",
    "CONSTRUCT": "application/n-triples, text/turtle;q=0.8",
    "DESCRIBE": "application/n-triples, text/turtle;q=0.8",
}
#: A query's prologue (comments, BASE and PREFIX declarations), then its form.
QUERY_FORM = re.compile(
    r"(?:\s+|#[^\n]*|BASE\s*<[^>]*>|PREFIX\s*[^\s:]*:\s*<[^>]*>)*"
    r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b",
    re.IGNORECASE,
)
#: Graphs a server keeps for itself, which are no part of the knowledge graph: Virtuoso's
#: RDF views schema, its LDP vocabulary and its service description.
SERVER_GRAPHS = frozenset(
    {
        "http://www.openlinksw.com/schemas/virtrdf#",
        "http://www.w3.org/ns/ldp#",
        "http://localuriqaserver/sparql",
    }
)
#: IRIs per VALUES block; ground triples per ASK (Virtuoso 7 refuses a basic graph
#: pattern of a few hundred triples: "SQ200: Expression recursion is too deep", or a stack
#: overflow, from about 80 triples on in our tests); triples per POST in a
#: fallback load.
CHUNK = 500
ASK_CHUNK = 50
LOAD_CHUNK = 20_000


class StoreUnavailable(WriteFailed):
    """The remote store did not answer (network error, timeout, 429, 5xx) after retries."""


def _reason(err: requests.RequestException) -> str:
    """A short reason for a network error (requests' messages run over several lines)."""
    text = str(err)
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if isinstance(err, requests.Timeout):
        return "timed out"
    if found:
        return found.group(1).strip()
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "connection closed by the server"
    return type(err).__name__


def _detail(resp: requests.Response) -> str:
    """The first line or so of an error answer's body."""
    try:
        text = resp.text
    except (requests.RequestException, UnicodeDecodeError):
        return ""
    return " ".join(text.split())[:200]


def _ntriples(triples: Iterable[Triple | Quad]) -> bytes:
    """Triples (or quads, without their graph) as an N-Triples document."""
    return (
        serialize(
            (Triple(t.subject, t.predicate, t.object) for t in triples), format=RdfFormat.N_TRIPLES
        )
        or b""
    )


class _Body:
    """A streamed answer for pyoxigraph's parsers; a connection that breaks is a StoreError."""

    def __init__(self, resp: requests.Response, what: str) -> None:
        resp.raw.decode_content = True
        self.raw, self.what, self.url = resp.raw, what, resp.url.split("?", 1)[0]

    def read(self, size: int = -1) -> bytes:
        try:
            return self.raw.read(size)
        except (requests.RequestException, TransportError, OSError) as err:
            raise StoreError(f"{self.what}: the answer from {self.url} broke off ({err})") from err


def _now() -> Literal:
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return Literal(now, datatype=NamedNode(XSD + "dateTime"))


class RemoteStore:
    """The knowledge graph in a SPARQL 1.1 server (a :class:`graph.base.KnowledgeStore`)."""

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        gsp_url: str | None = None,
        *,
        base: str = DEFAULT_BASE,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        read_only: bool = False,
        union: bool | None = None,
        url: str | None = None,
    ) -> None:
        """Connect to the endpoints; unless ``read_only``, check writes work (ontology).

        ``union`` says whether the server's default graph is the union of its graphs;
        None finds out from the store's own revision triple. ``url`` names the store in
        messages (default: the query URL).
        """
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self.url = url or query_url
        self.v = Vocabulary(base)
        self.meta_graph = NamedNode(self.v.base + "graph/meta")
        self.dataset = NamedNode(self.v.base)
        self.timeout = timeout
        self.retries = max(1, retries)
        self.backoff = backoff
        self.read_only = read_only
        self._union = union
        self._graph_list: tuple[int, list[NamedNode]] | None = None
        #: Whether the server said it is Virtuoso (its Server header), for its quirks.
        self._virtuoso = False
        self._auth = bool(token or user)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "diplograph"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        elif user:
            self.session.auth = (user, password or "")
        if not read_only:
            self.ensure_ontology()

    @classmethod
    def from_url(cls, url: str, **kwargs: object) -> RemoteStore:
        """An Oxigraph-style server: ``{url}/query``, ``{url}/update``, ``{url}/store``."""
        root = url.rstrip("/")
        kwargs.setdefault("url", root)
        return cls(f"{root}/query", f"{root}/update", f"{root}/store", **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_settings(cls, settings: Settings, read_only: bool = False) -> RemoteStore:
        """The remote store the settings name (``DIPLOGRAPH_STORE_URL`` and friends)."""
        root = (settings.store_url or "").rstrip("/")
        query = settings.store_query_url or (f"{root}/query" if root else None)
        if query is None:
            raise StoreError("no remote store configured (set DIPLOGRAPH_STORE_URL)")
        return cls(
            query,
            settings.store_update_url or (f"{root}/update" if root else None),
            settings.store_gsp_url or (f"{root}/store" if root else None),
            base=settings.base,
            user=settings.store_user,
            password=settings.store_password,
            token=settings.store_token,
            timeout=settings.store_timeout_s,
            retries=settings.store_retries,
            backoff=settings.store_backoff_s,
            read_only=read_only,
            url=root or None,
        )

    # ------------------------------------------------------------------ HTTP

    def close(self) -> None:
        """Close the connections."""
        self.session.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: dict[str, str] | list[tuple[str, str]] | None = None,
        data: bytes | str | dict[str, object] | list[tuple[str, str]] | None = None,
        body: Callable[[], IO[bytes]] | None = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """One request, tried again on network errors, 429 and 5xx with doubling delays.

        ``body`` opens a fresh file for each try (uploads). Raises StoreUnavailable when
        every try failed; other answers (2xx, 4xx) are returned for the caller to judge.
        """
        delay, reason = self.backoff, ""
        for attempt in range(1, self.retries + 1):
            handle = body() if body is not None else None
            try:
                resp = self.session.request(
                    method,
                    url,
                    params=params,
                    data=handle if handle is not None else data,
                    headers=headers,
                    timeout=self.timeout,
                    stream=stream,
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as err:
                reason = _reason(err)
            except requests.RequestException as err:
                raise StoreError(f"{what}: {url}: {err}") from err
            else:
                if resp.headers.get("Server", "").startswith("Virtuoso/"):
                    self._virtuoso = True
                if resp.status_code not in RETRY_STATUS:
                    return resp
                reason = f"HTTP {resp.status_code} {resp.reason}".strip()
                resp.close()
            finally:
                if handle is not None:
                    handle.close()
            if attempt < self.retries:
                time.sleep(delay)
                delay *= 2
        raise StoreUnavailable(
            f"{what}: no answer from {url} after {self.retries} tries ({reason})"
        )

    def _refusal(self, resp: requests.Response, what: str, writing: bool) -> StoreError:
        """The error for a 4xx answer, saying what the server cannot or will not do."""
        status, url = resp.status_code, resp.url.split("?", 1)[0]
        if status == 401:
            msg = "the remote store asks for credentials (HTTP 401): " + (
                "the ones given were refused"
                if self._auth
                else "set DIPLOGRAPH_STORE_USER and DIPLOGRAPH_STORE_PASSWORD, or "
                "DIPLOGRAPH_STORE_TOKEN"
            )
        elif status == 403:
            msg = (
                "the remote store refuses writes (HTTP 403): it may be read-only"
                if writing
                else "the remote store refuses access (HTTP 403)"
            )
        elif status in (404, 405, 501) and url == self.gsp_url:
            msg = (
                f"the remote store has no Graph Store Protocol at {url} (HTTP {status}), which "
                "diplograph needs to write and export articles: set DIPLOGRAPH_STORE_GSP_URL"
                + (" (or the store is read-only)" if writing and status == 405 else "")
            )
        elif status in (404, 405, 501) and url == self.update_url:
            msg = (
                f"the remote store has no SPARQL Update at {url} (HTTP {status}): it may be "
                "read-only, or set DIPLOGRAPH_STORE_UPDATE_URL"
            )
        elif status in (404, 405, 501) and url == self.query_url:
            msg = (
                f"no SPARQL query endpoint at {url} (HTTP {status}): set "
                "DIPLOGRAPH_STORE_URL or DIPLOGRAPH_STORE_QUERY_URL"
            )
        else:
            msg = f"the remote store refused the request (HTTP {status}): {_detail(resp)}"
        cls = WriteFailed if writing and status in ITEM_STATUS else StoreError
        return cls(f"{what}: {msg}")

    def _need(self, url: str | None, name: str, setting: str) -> str:
        if url is None:
            raise StoreError(
                f"the remote store has no {name} configured (set {setting}): it is read-only here"
            )
        return url

    def _gsp(
        self,
        method: str,
        graph: NamedNode | None,
        what: str,
        *,
        data: bytes | None = None,
        body: Callable[[], IO[bytes]] | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        stream: bool = False,
        missing_ok: bool = False,
    ) -> requests.Response | None:
        """A Graph Store Protocol request on one graph (None: the default graph).

        With ``missing_ok``, a 404 gives None (the graph does not exist).
        """
        url = self._need(self.gsp_url, "Graph Store Protocol URL", "DIPLOGRAPH_STORE_GSP_URL")
        params = {"graph": graph.value} if graph is not None else {"default": ""}
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        resp = self._send(
            method,
            url,
            what,
            params=params,
            data=data,
            body=body,
            headers=headers,
            stream=stream,
        )
        if resp.status_code == 404 and missing_ok:
            resp.close()
            return None
        if resp.status_code >= 400:
            raise self._refusal(resp, what, writing=method != "GET")
        return resp

    def _update(self, sparql: str, what: str, client: bool = False) -> None:
        """A SPARQL Update request (the server applies it as one transaction).

        ``client``: the update comes from a user, so a 400 means it is not valid SPARQL
        (SyntaxError, as with the embedded store), not a fault of diplograph's own.
        """
        url = self._need(self.update_url, "SPARQL Update URL", "DIPLOGRAPH_STORE_UPDATE_URL")
        resp = self._send(
            "POST",
            url,
            what,
            data=sparql.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
        )
        if client and resp.status_code == 400:
            raise SyntaxError(_detail(resp))
        if resp.status_code >= 400:
            raise self._refusal(resp, what, writing=True)

    def _request_query(
        self,
        sparql: str,
        what: str,
        union: bool = False,
        stream: bool = False,
        dataset: tuple[list[str], list[str]] | None = None,
        accept: str = QUERY_ACCEPT,
    ) -> requests.Response:
        """POST a query; with ``union``, over the union of every graph (see module doc).

        ``dataset``: the protocol's default-graph-uri and named-graph-uri lists, as a
        client gave them; they replace the union.
        """
        headers = {"Accept": accept}
        if dataset is None and union and not self._union_default():
            graphs = [g.value for g in self._graphs_for_union()]
            dataset = (graphs, graphs)
        # Always the protocol's URL-encoded form POST ("query via URL-encoded POST"), never
        # a direct application/sparql-query body: Virtuoso 7 never answers those
        # (openlink/virtuoso-opensource#842), and every server takes the form.
        form: list[tuple[str, str]] = [("query", sparql)]
        if dataset is not None:
            form += [("default-graph-uri", g) for g in dataset[0]]
            form += [("named-graph-uri", g) for g in dataset[1]]
        resp = self._send("POST", self.query_url, what, data=form, headers=headers, stream=stream)
        if resp.status_code == 400:
            raise SyntaxError(_detail(resp))
        if resp.status_code >= 400:
            raise self._refusal(resp, what, writing=False)
        return resp

    def _select(self, sparql: str, what: str = "cannot query the remote store") -> list:
        """The rows of a SELECT over the server's dataset as it is (internal queries)."""
        resp = self._request_query(sparql, what)
        return list(self._results(resp))  # type: ignore[call-overload]

    def _ask(self, sparql: str, what: str = "cannot query the remote store") -> bool:
        return bool(self._results(self._request_query(sparql, what)))

    def _results(self, resp: requests.Response, streamed: bool = False) -> object:
        """The answer to a query as pyoxigraph results (solutions, boolean or triples).

        ``streamed``: the answer is parsed as it arrives (the response was opened with
        ``stream=True``); otherwise from its body, already read.
        """
        media = resp.headers.get("Content-Type", "").split(";", 1)[0].strip()
        results_format = QueryResultsFormat.from_media_type(media) if media else None
        if results_format is not None:
            if streamed:
                body = _Body(resp, "cannot query the remote store")
                return parse_query_results(body, format=results_format)
            return parse_query_results(resp.content, format=results_format)
        rdf_format = RdfFormat.from_media_type(media) if media else None
        if rdf_format is None:
            raise StoreError(f"the remote store answered a query with {media or 'no type'}")
        # A CONSTRUCT or DESCRIBE: kept in a memory store so that callers get the same
        # QueryTriples object as from the embedded store.
        graph = Store()
        graph.load(resp.content, format=rdf_format)
        return graph.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")

    # ------------------------------------------------------------------ bookkeeping

    def _union_default(self) -> bool:
        """Whether the server's default graph is the union of the named graphs."""
        if self._union is None:
            rev = self.v.term("revision")
            if not self._ask(f"ASK {{ GRAPH {self.meta_graph} {{ {self.dataset} {rev} ?r }} }}"):
                return False  # nothing of ours yet to tell by
            self._union = self._ask(f"ASK {{ {self.dataset} {rev} ?r }}")
        return self._union

    def _graphs_for_union(self) -> list[NamedNode]:
        """The named graphs, listed again only when the revision changed.

        Listing them scans every quad on the server; the revision is one triple. (Graphs
        written by other tools without a revision bump are seen after the next bump.)
        """
        revision = self.revision()
        if self._graph_list is None or self._graph_list[0] != revision:
            self._graph_list = (revision, self._named_graphs())
        return self._graph_list[1]

    def _named_graphs(self) -> list[NamedNode]:
        """The named graphs, but for the server's own (SERVER_GRAPHS: Virtuoso's)."""
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(
            (
                r["g"]
                for r in rows
                if isinstance(r["g"], NamedNode) and r["g"].value not in SERVER_GRAPHS
            ),
            key=str,
        )

    def _export_graphs(self) -> list[NamedNode | None]:
        """The graphs to export one by one (None: the default graph).

        Virtuoso has no default graph of its own (it is the union of all graphs), and its
        Graph Store endpoint refuses ``?default`` (HTTP 500): only its named graphs.
        """
        named: list[NamedNode | None] = list(self._named_graphs())
        return named if self._virtuoso else [None, *named]

    def _meta(self, name: str, what: str = "cannot query the remote store") -> str | None:
        """One value from the meta graph (revision, ontology hash)."""
        rows = self._select(
            f"SELECT ?v WHERE {{ GRAPH {self.meta_graph} {{ {self.dataset} "
            f"{self.v.term(name)} ?v }} }} LIMIT 1",
            what,
        )
        return rows[0]["v"].value if rows else None

    def revision(self) -> int:
        """A number that changes with every write (0 for a new store)."""
        value = self._meta("revision")
        return int(value) if value is not None else 0

    def _revision_update(self) -> str:
        """SPARQL that increments the revision on the server and stamps the time."""
        rev, mod, g = self.v.term("revision"), NamedNode(DCTERMS + "modified"), self.meta_graph
        ds = self.dataset
        # Aggregates rather than OPTIONAL: they give one row even when nothing matches,
        # whereas Virtuoso 7 finds no row at all for an update whose WHERE is only an
        # OPTIONAL that matches nothing (so a new store would never get its revision).
        return (
            f"DELETE {{ GRAPH {g} {{ {ds} {rev} ?r . {ds} {mod} ?m }} }}\n"
            f"INSERT {{ GRAPH {g} {{ {ds} {rev} ?n . {ds} {mod} {_now()} }} }}\n"
            f"WHERE {{ {{ SELECT (MAX(?r0) AS ?r) WHERE {{ GRAPH {g} {{ {ds} {rev} ?r0 }} }} }} "
            f"{{ SELECT (MAX(?m0) AS ?m) WHERE {{ GRAPH {g} {{ {ds} {mod} ?m0 }} }} }} "
            "BIND(COALESCE(?r, 0) + 1 AS ?n) }"
        )

    def _bump(self, what: str) -> None:
        self._update(self._revision_update(), what)

    def ensure_ontology(self) -> bool:
        """PUT the ontology graph if the file changed (its hash is kept in the meta graph).

        When nothing changed, check that the Graph Store Protocol answers, so that a wrong
        URL is reported now rather than at the first article.
        """
        text = ontology_text(self.v.base)
        digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        what = "cannot write the ontology graph"
        if self._meta("ontologyHash", "cannot open the remote store") == digest:
            resp = self._gsp("GET", self.v.ontology_graph, what, accept=NT, stream=True)
            assert resp is not None
            resp.close()
            return False
        self._gsp(
            "PUT",
            self.v.ontology_graph,
            what,
            data=text.encode("utf-8"),
            content_type="text/turtle; charset=utf-8",
        )
        g, h = self.meta_graph, self.v.term("ontologyHash")
        self._update(
            f"DELETE WHERE {{ GRAPH {g} {{ {self.dataset} {h} ?h }} }} ;\n"
            f'INSERT DATA {{ GRAPH {g} {{ {self.dataset} {h} "{digest}" }} }} ;\n'
            + self._revision_update(),
            what,
        )
        return True

    # ------------------------------------------------------------------ articles

    def _graph_triples(
        self, graph: NamedNode | None, what: str, stream: bool = True
    ) -> Iterator[Triple] | None:
        """The triples of one graph (None: the default graph); None if it does not exist.

        With ``stream``, parsed as they arrive (exports); otherwise read whole first, so
        that a broken connection is retried like any other request.
        """
        resp = self._gsp("GET", graph, what, accept=NT, stream=stream, missing_ok=True)
        if resp is None:
            return None
        media = resp.headers.get("Content-Type", NT).split(";", 1)[0].strip()
        fmt = RdfFormat.from_media_type(media) or RdfFormat.N_TRIPLES
        if not stream:
            return iter(list(parse(resp.content, format=fmt)))  # type: ignore[arg-type]
        return (t for t in parse(_Body(resp, what), format=fmt))  # type: ignore[misc]

    def article_quads(self, key: str) -> set[Quad]:
        """The quads of one article's graph (empty if it is not stored)."""
        graph = NamedNode(f"{self.v.base}graph/article/{key}")
        triples = self._graph_triples(graph, f"cannot read article {key}", stream=False)
        if triples is None:
            return set()
        return {Quad(t.subject, t.predicate, t.object, graph) for t in triples}

    def _has_all(self, quads: list[Quad]) -> bool:
        """Whether the store holds every one of these (ground) quads."""
        by_graph: dict[NamedNode, list[Quad]] = {}
        for q in quads:
            by_graph.setdefault(q.graph_name, []).append(_stored_form(q))  # type: ignore[arg-type]
        for graph, items in by_graph.items():
            for i in range(0, len(items), ASK_CHUNK):
                body = " ".join(
                    f"{q.subject} {q.predicate} {q.object} ." for q in items[i : i + ASK_CHUNK]
                )
                if not self._ask(f"ASK {{ GRAPH {graph} {{ {body} }} }}"):
                    return False
        return True

    def write_article(self, article: Article, quads: list[Quad]) -> bool:
        """Add the entities the article needs, then PUT its graph: one request, whole.

        Returns False (and writes nothing) when the store already holds exactly these
        facts. Raises WriteFailed when the store did not take them; it holds what it held.
        """
        what = "cannot write to the remote store"
        graph = self.v.article_graph(article)
        own = {_stored_form(q) for q in quads if q.graph_name == graph}
        entities = [q for q in quads if q.graph_name != graph]
        current = self._graph_triples(graph, what, stream=False) or iter(())
        stored = {_stored_form(Quad(t.subject, t.predicate, t.object, graph)) for t in current}
        if stored == own and self._has_all(entities):
            return False
        by_graph: dict[NamedNode, list[Quad]] = {}
        for q in entities:
            by_graph.setdefault(q.graph_name, []).append(q)  # type: ignore[arg-type]
        for g, items in by_graph.items():
            self._gsp("POST", g, what, data=_ntriples(items), content_type=NT)
        self._gsp("PUT", graph, what, data=_ntriples(own), content_type=NT)
        self._bump(what)
        return True

    def remove_article(self, key: str) -> bool:
        """DELETE the article's graph, then the entity descriptions no article needs."""
        graph = NamedNode(f"{self.v.base}graph/article/{key}")
        what = f"cannot remove article {key}"
        if not self._ask(f"ASK {{ GRAPH {graph} {{ ?s ?p ?o }} }}", what):
            return False
        self._gsp("DELETE", graph, what, missing_ok=True)
        self._bump(what)
        self.prune_entities()
        return True

    def article_graphs(self) -> list[NamedNode]:
        """The names of the article graphs, sorted."""
        prefix = self.v.base + "graph/article/"
        return [g for g in self._named_graphs() if g.value.startswith(prefix)]

    def articles(self) -> Iterator[tuple[str, str, str]]:
        """(key, source, title) of every stored article."""
        rows = self._select(
            f"""SELECT ?a ?source ?title WHERE {{ GRAPH ?g {{
                ?a a <{self.v.dg}Article> ; <{DCTERMS}source> ?source .
                OPTIONAL {{ ?a <{DCTERMS}title> ?title }} }}
            }} ORDER BY ?source"""
        )
        for row in rows:
            key = row["a"].value.rsplit("/", 1)[-1]
            title = row["title"].value if row["title"] is not None else ""
            yield key, row["source"].value, title

    def prune_entities(self) -> int:
        """Delete entity descriptions that no article refers to (directly or as a parent)."""
        ent = self.v.entities_graph
        prefix = self.v.base + "graph/article/"
        used = {
            r["o"].value
            for r in self._select(
                f"""SELECT DISTINCT ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
                    FILTER(isIRI(?o) && STRSTARTS(STR(?g), "{prefix}")) }}"""
            )
        }
        parents: dict[str, set[str]] = {}
        for r in self._select(
            f"SELECT ?s ?o WHERE {{ GRAPH {ent} {{ ?s <{ORG}subOrganizationOf>|"
            f"<{SCHEMA}containedInPlace> ?o }} }}"
        ):
            parents.setdefault(r["s"].value, set()).add(r["o"].value)
        frontier = set(used)
        while frontier:
            nxt = {p for iri in frontier for p in parents.get(iri, ()) if p not in used}
            used |= nxt
            frontier = nxt
        subjects = {
            r["s"].value
            for r in self._select(
                f"SELECT DISTINCT ?s WHERE {{ GRAPH {ent} {{ ?s ?p ?o }} FILTER(isIRI(?s)) }}"
            )
        }
        stale = sorted(subjects - used)
        if stale:
            deletes = [
                f"DELETE {{ GRAPH {ent} {{ ?s ?p ?o }} }} WHERE {{ VALUES ?s {{ "
                + " ".join(f"<{s}>" for s in stale[i : i + CHUNK])
                + f" }} GRAPH {ent} {{ ?s ?p ?o }} }}"
                for i in range(0, len(stale), CHUNK)
            ]
            self._update(
                " ;\n".join([*deletes, self._revision_update()]),
                "cannot remove unused entities",
            )
        return len(stale)

    # ------------------------------------------------------------------ reading

    def query(self, sparql: str, **options: object) -> object:
        """A SPARQL query over the union of all graphs, as pyoxigraph results.

        ``default_graph`` and ``named_graphs`` (lists of IRIs, as with pyoxigraph) give the
        dataset explicitly instead; ``substitutions`` (variable -> term, as with pyoxigraph)
        go to the server as a VALUES clause. SELECT and ASK answers are parsed as they stream in;
        CONSTRUCT and DESCRIBE answers are gathered first. An invalid query raises
        SyntaxError, as with the embedded store.
        """
        union = bool(options.pop("use_default_graph_as_union", True))
        default = options.pop("default_graph", None)
        named = options.pop("named_graphs", None)
        substitutions = options.pop("substitutions", None) or {}
        sparql = with_values(sparql, {v.value: t for v, t in substitutions.items()})  # type: ignore[attr-defined]
        if options:
            raise StoreError(
                f"query options {', '.join(sorted(options))} are not supported on a remote store"
            )
        dataset = None
        if default is not None or named is not None:
            dataset = (
                [g.value for g in default or []],  # type: ignore[attr-defined]
                [g.value for g in named or []],  # type: ignore[attr-defined]
            )
        form = QUERY_FORM.match(sparql)
        accept = FORM_ACCEPT[form.group(1).upper()] if form else QUERY_ACCEPT
        resp = self._request_query(
            sparql,
            "cannot query the remote store",
            union,
            stream=True,
            dataset=dataset,
            accept=accept,
        )
        return self._results(resp, streamed=True)

    def update(self, sparql: str) -> None:
        """Run a SPARQL update and bump the revision, in one request (one transaction)."""
        self._update(
            sparql + "\n;\n" + self._revision_update(), "cannot update the remote store", True
        )

    def has_graph(self, graph: str) -> bool:
        """Whether a named graph holds any triple."""
        return self._ask(f"ASK {{ GRAPH {NamedNode(graph)} {{ ?s ?p ?o }} }}")

    def triple_count(self) -> int:
        """Triples in the default graph as queries see it (the union of the graphs)."""
        rows = self._results(
            self._request_query(
                "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                "cannot query the remote store",
                union=True,
            )
        )
        return int(next(iter(rows))["n"].value)  # type: ignore[call-overload]

    def stats(self) -> dict[str, object]:
        """The same counts as the embedded store's, by SPARQL queries."""
        dg = self.v.dg

        def count(pattern: str) -> int:
            rows = self._select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")
            return int(rows[0]["n"].value)

        ent = self.v.entities_graph
        by_class = {
            cls: count(f"SELECT DISTINCT ?e WHERE {{ GRAPH {ent} {{ ?e a <{dg}{cls}> }} }}")
            for cls in ("Country", "Organization", "Treaty", "City", "Person")
        }
        server_graphs = ", ".join(f"<{g}>" for g in sorted(SERVER_GRAPHS))
        quads = count(f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g NOT IN ({server_graphs}))")
        if not self._union_default():  # triples in the default graph itself (imports)
            quads += count("?s ?p ?o")
        return {
            "quads": quads,
            "graphs": len(self._named_graphs()),
            "articles": len(self.article_graphs()),
            "entities": by_class,
            "memberships": count(
                f"SELECT DISTINCT ?m WHERE {{ GRAPH ?g {{ ?m a <{dg}Membership> }} }}"
            ),
            "events": count(f"SELECT DISTINCT ?e WHERE {{ GRAPH ?g {{ ?e a <{dg}Event> }} }}"),
            "revision": self.revision(),
        }

    # ------------------------------------------------------------------ bulk and export

    def bulk_load(self, path: Path, fmt: RdfFormat) -> None:
        """POST an RDF file to the Graph Store endpoint (datasets whole, triples to default).

        A server without dataset-level Graph Store support gets the file graph by graph.
        A file the server cannot parse raises SyntaxError.
        """
        what = f"cannot load {path}"
        url = self._need(self.gsp_url, "Graph Store Protocol URL", "DIPLOGRAPH_STORE_GSP_URL")
        params = None if fmt.supports_datasets else {"default": ""}
        resp = self._send(
            "POST",
            url,
            what,
            params=params,
            body=lambda: path.open("rb"),
            headers={"Content-Type": fmt.media_type},
        )
        # Virtuoso has no dataset-level upload: to a POST without ?graph= it answers 200
        # with its HTML upload form and loads nothing, so it gets the file graph by graph.
        virtuoso = resp.ok and self._virtuoso
        if fmt.supports_datasets and (resp.status_code in (404, 405, 415, 501) or virtuoso):
            self._load_by_graph(parse(path=str(path), format=fmt), what)
        elif resp.status_code == 400:
            raise SyntaxError(_detail(resp))
        elif resp.status_code >= 400:
            raise self._refusal(resp, what, writing=True)
        self._bump(what)

    def _load_by_graph(self, quads: Iterable[Quad], what: str) -> None:
        """POST quads graph by graph, in pieces (for servers without dataset uploads)."""
        current: NamedNode | None = None
        batch: list[Quad] = []

        def flush() -> None:
            if batch:
                self._gsp("POST", current, what, data=_ntriples(batch), content_type=NT)
                batch.clear()

        for q in quads:
            graph = q.graph_name if isinstance(q.graph_name, NamedNode) else None
            if graph != current or len(batch) >= LOAD_CHUNK:
                flush()
                current = graph
            batch.append(q)
        flush()

    def _dataset_quads(self, what: str) -> Iterator[Quad]:
        """Every quad, streamed: the whole dataset in one GET, or graph by graph."""
        url = self._need(self.gsp_url, "Graph Store Protocol URL", "DIPLOGRAPH_STORE_GSP_URL")
        resp = self._send("GET", url, what, headers={"Accept": NQ}, stream=True)
        media = resp.headers.get("Content-Type", "").split(";", 1)[0].strip()
        fmt = RdfFormat.from_media_type(media) if resp.ok and media else None
        if fmt is not None and fmt.supports_datasets:
            yield from parse(_Body(resp, what), format=fmt)  # type: ignore[misc]
            return
        resp.close()
        for g in self._export_graphs():
            for t in self._graph_triples(g, what) or ():
                yield Quad(t.subject, t.predicate, t.object, g or DefaultGraph())

    def dump(self, output: IO[bytes], fmt: str, graph: str | None = None) -> None:
        """Stream the store (or one graph) to ``output``: memory does not grow with it."""
        from extract.serialize import FORMATS, QUAD_FORMATS

        what = "cannot export the remote store"
        rdf_format = FORMATS[fmt]
        prefixes = {**PREFIXES, "dg": self.v.dg}
        with_prefixes = {"prefixes": prefixes} if fmt in {"turtle", "trig", "rdfxml"} else {}
        if graph is not None:
            node = NamedNode(graph)
            triples = self._graph_triples(node, what)
            if triples is None:
                raise StoreError(f"{graph}: no such graph in the store")
            items: Iterable[Triple | Quad] = triples
            if fmt in QUAD_FORMATS:
                items = (Quad(t.subject, t.predicate, t.object, node) for t in triples)
            serialize(items, output, format=rdf_format, **with_prefixes)
            return
        if fmt in QUAD_FORMATS:
            serialize(self._dataset_quads(what), output, format=rdf_format, **with_prefixes)
        elif fmt == "turtle":
            # Concatenated Turtle documents with the same prefixes are one valid document.
            for node in self._export_graphs():
                triples = self._graph_triples(node, what)
                if triples is not None:
                    serialize(triples, output, format=rdf_format, **with_prefixes)
        else:  # N-Triples, RDF/XML: the union of the graphs as triples
            serialize(
                (Triple(q.subject, q.predicate, q.object) for q in self._dataset_quads(what)),
                output,
                format=rdf_format,
                **with_prefixes,
            )

    def backup(self, target: Path) -> None:
        """Not done here: a remote store is backed up with its own tools."""
        raise StoreError(
            "a remote store is backed up with its own tools (for Oxigraph: `oxigraph backup` "
            "on the server; for Fuseki: its /$/backup service); `diplograph export --format "
            "nquads --store-url URL` writes a portable copy"
        )


__all__ = ["RemoteStore", "StoreUnavailable"]
