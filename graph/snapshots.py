"""Immutable snapshots of the store for readers.

After every write the writer makes an Oxigraph backup (hard links, milliseconds) into a
directory named for the revision; readers open snapshots read-only and never race the
writer (opening a live store read-only while it is written can fail in Oxigraph 0.5).
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from graph.store import GraphStore


class Snapshots:
    """The current snapshot of a store, renewed after each write."""

    def __init__(self, store: GraphStore, root: Path, keep: int = 3) -> None:
        self.store = store
        self.root = root
        self.keep = keep
        self._lock = threading.Lock()
        self.root.mkdir(parents=True, exist_ok=True)
        self._current: tuple[int, Path] | None = None
        self._renewed = 0
        self.refresh()

    def current(self) -> tuple[int, Path]:
        """(revision, directory) of the newest snapshot."""
        assert self._current is not None
        return self._current

    def refresh(self, *, again: bool = False) -> tuple[int, Path]:
        """Snapshot the store if it changed since the last snapshot, or ``again`` (same
        data, files laid out anew: after a compaction)."""
        with self._lock:
            revision = self.store.revision()
            if self._current and self._current[0] == revision and not again:
                return self._current
            target = self.root / f"revision-{revision:08d}"
            if self._current and self._current[0] == revision:
                # Same revision again: a new name, as readers may still use the old one.
                self._renewed += 1
                target = target.with_name(f"{target.name}.{self._renewed}")
            if target.exists():
                shutil.rmtree(target)
            self.store.backup(target)
            self._current = (revision, target)
            self._prune()
            return self._current

    def _prune(self) -> None:
        """Drop old snapshots; the last few stay for queries still reading them."""
        old = sorted(p for p in self.root.iterdir() if p.name.startswith("revision-"))
        for path in old[: -self.keep]:
            shutil.rmtree(path, ignore_errors=True)
