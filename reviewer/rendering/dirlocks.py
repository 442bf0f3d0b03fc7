"""Readers-writer locks per directory of a revision's tree.

Argo CD applies an app's `spec.source.kustomize` options by running `kustomize edit` on the app's
kustomization in the repo-server's clone, and lets only one such generation run at a time, the others
waiting (Argo CD docs, High Availability, argocd-repo-server: a manifest generation that changes files in
the local clone is not run concurrently); every other app therefore sees the file as committed. The
gate renders many apps of one tree at once and writes the same edits into the shared tree, so a render
that edits a directory must have it to itself, and a render that merely reads it (another app's overlay
used as a base) must not run while the edits are in place. Renders that only read a directory, the
usual case for shared bases, run together.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path


class _ReadersWriter:
    """Many readers or one writer. The writing thread may also read (and write again): a render that
    has its own directory still reads that directory's graph."""

    __slots__ = ("_changed", "_depth", "_readers", "_writer")

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer: int | None = None
        self._depth = 0

    def acquire_shared(self) -> None:
        me = threading.get_ident()
        with self._changed:
            while self._writer is not None and self._writer != me:
                self._changed.wait()
            self._readers += 1

    def release_shared(self) -> None:
        with self._changed:
            self._readers -= 1
            self._changed.notify_all()

    def acquire_exclusive(self) -> None:
        me = threading.get_ident()
        with self._changed:
            if self._writer == me:
                self._depth += 1
                return
            while self._writer is not None or self._readers:
                self._changed.wait()
            self._writer, self._depth = me, 1

    def release_exclusive(self) -> None:
        with self._changed:
            self._depth -= 1
            if self._depth == 0:
                self._writer = None
                self._changed.notify_all()


class DirectoryLocks:
    """One readers-writer lock per directory (by its resolved path)."""

    def __init__(self) -> None:
        self._locks: defaultdict[str, _ReadersWriter] = defaultdict(_ReadersWriter)
        self._guard = threading.Lock()

    def _lock(self, path: Path | str) -> _ReadersWriter:
        with self._guard:
            return self._locks[str(path)]

    @contextmanager
    def reading(self, path: Path) -> Iterator[None]:
        """Hold `path` against edits while reading it."""
        lock = self._lock(path)
        lock.acquire_shared()
        try:
            yield
        finally:
            lock.release_shared()

    @contextmanager
    def hold(self, *, write: Iterable[Path], read: Iterable[Path]) -> Iterator[None]:
        """Hold the `write` directories exclusively and the `read` ones shared, for one render.

        Taken in one global order (by path), so two renders that each write a directory the other reads
        wait for each other instead of deadlocking."""
        writes = {str(p) for p in write}
        wanted = sorted(writes | {str(p) for p in read})
        with ExitStack() as stack:
            for path in wanted:
                lock = self._lock(path)
                if path in writes:
                    lock.acquire_exclusive()
                    stack.callback(lock.release_exclusive)
                else:
                    lock.acquire_shared()
                    stack.callback(lock.release_shared)
            yield
