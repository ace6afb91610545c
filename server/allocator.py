"""The memory allocator of the query workers.

Oxigraph allocates and frees a great deal while it evaluates a query (hash joins,
groups, sorts), and glibc's malloc is slow at that: with tcmalloc preloaded the
benchmark's heavy queries run 15-25% faster in pyoxigraph (benchmarks/README.md).
Query workers are fresh interpreters (``spawn``), so the allocator is chosen by
``LD_PRELOAD`` in their environment alone. ``diplograph serve`` preloads it into its HTTP
process too (also a fresh interpreter), which evaluates lookups itself (server/lookup.py).
"""

from __future__ import annotations

from pathlib import Path

#: Tried in this order by ``auto`` (Debian/Ubuntu packages libtcmalloc-minimal4,
#: libmimalloc2.0, libjemalloc2).
KNOWN = {
    "tcmalloc": "libtcmalloc_minimal.so.4",
    "mimalloc": "libmimalloc.so.2",
    "jemalloc": "libjemalloc.so.2",
}
LIBRARY_DIRS = (
    Path("/usr/lib/x86_64-linux-gnu"),
    Path("/usr/lib/aarch64-linux-gnu"),
    Path("/usr/lib64"),
    Path("/usr/lib"),
    Path("/usr/local/lib"),
)


class AllocatorError(ValueError):
    """The configured allocator cannot be found."""


def resolve(setting: str, dirs: tuple[Path, ...] = LIBRARY_DIRS) -> Path | None:
    """The shared library for ``setting`` (``auto``, ``system``, a name of :data:`KNOWN`
    or a path), looked for in ``dirs``, or None for the system's malloc.

    ``auto`` falls back to the system's malloc when none is installed; a name or a path
    that is not there is an error, so that a deployment does not silently run slower.
    """

    def find(filename: str) -> Path | None:
        return next((d / filename for d in dirs if (d / filename).is_file()), None)

    if setting in ("", "system"):
        return None
    if setting == "auto":
        return next((p for p in map(find, KNOWN.values()) if p), None)
    if setting in KNOWN:
        found = find(KNOWN[setting])
        if found is None:
            raise AllocatorError(
                f"query allocator {setting!r}: {KNOWN[setting]} is not installed "
                f"(looked in {', '.join(map(str, dirs))})"
            )
        return found
    path = Path(setting)
    if not path.is_file():
        raise AllocatorError(
            f"query allocator {setting!r}: no such file; give auto, system, "
            f"{', '.join(KNOWN)} or the path of a shared library"
        )
    with path.open("rb") as f:
        # The dynamic loader would only warn and go on with the system's malloc.
        if f.read(4) != b"\x7fELF":
            raise AllocatorError(f"query allocator {setting!r}: not a shared library (ELF)")
    return path


def preload(library: Path, ld_preload: str | None) -> str:
    """``LD_PRELOAD`` with ``library`` in front (once, if it is there already)."""
    others = [p for p in (ld_preload or "").split() if p != str(library)]
    return " ".join([str(library), *others])


def name(library: Path | None) -> str:
    """How /health and the log name the allocator."""
    if library is None:
        return "system"
    return next((k for k, f in KNOWN.items() if library.name == f), str(library))
