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
    queries_dir: Path = QUERIES_DIR

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
        "queries_dir": Path(_env("QUERIES", str(QUERIES_DIR))),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)  # type: ignore[arg-type]
