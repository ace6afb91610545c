"""Immutable snapshots of the store for readers.

After every write the writer makes an Oxigraph backup (hard links, milliseconds) into a
directory named for the revision; readers open snapshots read-only and never race the
writer (opening a live store read-only while it is written can fail in Oxigraph 0.5).
The newest is published in a small file, ``current``, that readers in any process map
into memory (:class:`Published`): reading it is a memory read, where a system call would
let go of the GIL, and each time it did, a busy server's threads queued to take it back
(a tenth of the HTTP process's time when the revision was a symbolic link).
"""

from __future__ import annotations

import mmap
import os
import shutil
import struct
import threading
from pathlib import Path

from graph.store import GraphStore

#: The file that names the newest snapshot, in the snapshots' directory.
CURRENT = "current"
_PREFIX = "revision-"
#: What ``current`` holds: a sequence number, odd while the writer changes the rest (a
#: reader that sees it odd, or changed after reading, reads again), the revision, and the
#: snapshot directory's name.
_RECORD = struct.Struct("<QQ240s")
_SEQUENCE = struct.Struct("<Q")


class Published:
    """The snapshot the writer published last in ``root``, as any process reads it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        with (root / CURRENT).open("rb") as f:
            self._map = mmap.mmap(f.fileno(), _RECORD.size, access=mmap.ACCESS_READ)
        self._last: tuple[int, tuple[int, str]] = (-1, (0, ""))

    def current(self) -> tuple[int, str]:
        """(revision, directory)."""
        last = self._last
        if _SEQUENCE.unpack_from(self._map)[0] == last[0]:
            return last[1]
        while True:
            sequence, revision, name = _RECORD.unpack_from(self._map)
            if sequence % 2 == 0 and _SEQUENCE.unpack_from(self._map)[0] == sequence:
                break
        directory = str(self.root / name.rstrip(b"\0").decode("utf-8"))
        self._last = (sequence, (revision, directory))
        return revision, directory


class Snapshots:
    """The current snapshot of a store, renewed after each write."""

    def __init__(self, store: GraphStore, root: Path, keep: int = 3) -> None:
        self.store = store
        self.root = root
        self.keep = keep
        self._lock = threading.Lock()
        self.root.mkdir(parents=True, exist_ok=True)
        self._map = _writable(self.root / CURRENT)
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
            target = self.root / f"{_PREFIX}{revision:08d}"
            if self._current and self._current[0] == revision:
                # Same revision again: a new name, as readers may still use the old one.
                self._renewed += 1
                target = target.with_name(f"{target.name}.{self._renewed}")
            if target.exists():
                shutil.rmtree(target)
            self.store.backup(target)
            self._publish(revision, target)
            self._current = (revision, target)
            self._prune()
            return self._current

    def _publish(self, revision: int, target: Path) -> None:
        """Name ``target`` in ``current``, the sequence number odd meanwhile."""
        sequence = _SEQUENCE.unpack_from(self._map)[0] | 1  # odd: being written
        _SEQUENCE.pack_into(self._map, 0, sequence)
        _RECORD.pack_into(self._map, 0, sequence, revision, target.name.encode("utf-8"))
        _SEQUENCE.pack_into(self._map, 0, sequence + 1)

    def _prune(self) -> None:
        """Drop old snapshots; the last few stay for queries still reading them."""
        old = sorted(p for p in self.root.iterdir() if p.name.startswith(_PREFIX))
        for path in old[: -self.keep]:
            shutil.rmtree(path, ignore_errors=True)


def _writable(path: Path) -> mmap.mmap:
    """``path`` mapped for writing, made the size of a record if it is not."""
    with path.open("a+b") as f:
        if os.fstat(f.fileno()).st_size != _RECORD.size:
            f.truncate(_RECORD.size)
        return mmap.mmap(f.fileno(), _RECORD.size, access=mmap.ACCESS_WRITE)
