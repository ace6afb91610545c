"""All of diplograph's settings in one place.

Every setting has a default that suits a local checkout and can be overridden by an
environment variable (``DIPLOGRAPH_*``); command-line options override both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = ROOT / "ontology"
QUERIES_DIR = ROOT / "queries"
CORPUS_DIR = ROOT / "corpus"

#: The base IRI written into ontology/*.ttl; rewritten to the configured base on load.
DEFAULT_BASE = "http://127.0.0.1:5000/"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"DIPLOGRAPH_{name}", default)


def _cpus() -> int:
    """The machine's cores."""
    return os.cpu_count() or 1


def _cores() -> int:
    """Query workers by default: one per core, at least two."""
    return max(2, _cpus())


@dataclass(frozen=True)
class Settings:
    """Runtime settings; build with :func:`load` so environment overrides apply."""

    base: str = DEFAULT_BASE
    store: Path = field(default_factory=lambda: ROOT / "var" / "store")
    host: str = "127.0.0.1"
    port: int = 5000
    write_token: str | None = None
    query_timeout_s: float = 30.0
    max_rows: int = 100_000
    max_bytes: int = 64 * 1024 * 1024  # largest response body
    max_request_bytes: int = 16 * 1024 * 1024  # largest request body (queries, uploads)
    query_workers: int = field(default_factory=_cores)
    # WSGI threads: two per query worker, one that can wait for it and one for the work
    # done in the HTTP process (lookups, cached answers). More only queue for the GIL: 8
    # answered 7-15% fewer lookups than 4 at 4 and 16 clients on 2 cores, 16 a third fewer.
    threads: int = 0  # 0: two per query worker
    # Processes that answer HTTP (server/serve.py): each runs Python under its own GIL.
    http_workers: int = field(default_factory=_cpus)
    # Keep the HTTP process's threads on one core (server/affinity.py); query workers keep all.
    pin_http: bool = True
    # malloc of the query workers: auto | system | tcmalloc | mimalloc | jemalloc | a path
    query_allocator: str = "auto"
    # Small queries (server/lookup.py) run in the HTTP process while the store holds at
    # most this many quads (and their worst case fits a quarter of the time limit); 0: never.
    small_query_max_quads: int = 1_000_000
    queries_dir: Path = QUERIES_DIR
    # A remote SPARQL store instead of the embedded one (graph/remote.py).
    store_url: str | None = None  # Oxigraph-style root: {url}/query, /update, /store
    store_query_url: str | None = None  # explicit endpoints (Fuseki, Virtuoso, GraphDB...)
    store_update_url: str | None = None
    store_gsp_url: str | None = None
    store_user: str | None = None  # HTTP basic authentication
    store_password: str | None = None
    store_token: str | None = None  # HTTP bearer token
    store_timeout_s: float = 60.0
    store_retries: int = 5  # tries of a request on network errors, 429 and 5xx
    store_backoff_s: float = 0.5  # first delay between tries; doubles each time

    @property
    def remote(self) -> bool:
        """Whether the graph lives in a remote SPARQL store rather than in ``store``."""
        return bool(self.store_url or self.store_query_url)

    def __post_init__(self) -> None:
        if not self.threads:  # two per query worker, however many there are
            object.__setattr__(self, "threads", 2 * self.query_workers)
        if self.http_workers < 1 or self.remote:  # a remote store: one (server/serve.py)
            object.__setattr__(self, "http_workers", 1)

    @property
    def snapshots(self) -> Path:
        """Where read-only snapshots of the store for query workers live."""
        return self.store.parent / (self.store.name + "-snapshots")

    @property
    def ontology_ns(self) -> str:
        return self.base + "ontology#"


def load(**overrides: object) -> Settings:
    """Settings from the environment, then from explicit (non-None) overrides."""
    base = _env("BASE", DEFAULT_BASE)
    if not base.endswith("/"):
        base += "/"
    values: dict[str, object] = {
        "base": base,
        "store": Path(_env("STORE", str(ROOT / "var" / "store"))),
        "host": _env("HOST", "127.0.0.1"),
        "port": int(_env("PORT", "5000")),
        "write_token": os.environ.get("DIPLOGRAPH_WRITE_TOKEN") or None,
        "query_timeout_s": float(_env("QUERY_TIMEOUT", "30")),
        "max_rows": int(_env("MAX_ROWS", "100000")),
        "max_bytes": int(_env("MAX_BYTES", str(64 * 1024 * 1024))),
        "max_request_bytes": int(_env("MAX_REQUEST_BYTES", str(16 * 1024 * 1024))),
        "query_workers": int(_env("QUERY_WORKERS", str(_cores()))),
        "threads": int(_env("THREADS", "0")),
        "http_workers": int(_env("HTTP_WORKERS", str(_cpus()))),
        "pin_http": _env("PIN_HTTP", "1").strip().lower() not in ("0", "false", "no", "off"),
        "query_allocator": _env("QUERY_ALLOCATOR", "auto"),
        "small_query_max_quads": int(_env("SMALL_QUERY_MAX_QUADS", "1000000")),
        "queries_dir": Path(_env("QUERIES", str(QUERIES_DIR))),
        "store_url": os.environ.get("DIPLOGRAPH_STORE_URL") or None,
        "store_query_url": os.environ.get("DIPLOGRAPH_STORE_QUERY_URL") or None,
        "store_update_url": os.environ.get("DIPLOGRAPH_STORE_UPDATE_URL") or None,
        "store_gsp_url": os.environ.get("DIPLOGRAPH_STORE_GSP_URL") or None,
        "store_user": os.environ.get("DIPLOGRAPH_STORE_USER") or None,
        "store_password": os.environ.get("DIPLOGRAPH_STORE_PASSWORD") or None,
        "store_token": os.environ.get("DIPLOGRAPH_STORE_TOKEN") or None,
        "store_timeout_s": float(_env("STORE_TIMEOUT", "60")),
        "store_retries": int(_env("STORE_RETRIES", "5")),
        "store_backoff_s": float(_env("STORE_BACKOFF", "0.5")),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("store", "queries_dir"):
        values[key] = Path(values[key]).expanduser()  # type: ignore[arg-type]
    if not str(values["base"]).endswith("/"):
        values["base"] = f"{values['base']}/"
    return Settings(**values)  # type: ignore[arg-type]
