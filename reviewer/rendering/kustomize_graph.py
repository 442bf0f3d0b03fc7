"""The files and directories a kustomization reaches, read without running kustomize.

One walk serves three questions: which local inputs an app reads (app selection), whether rendering
it could yield Applications (discovery), and whether it pulls remote bases (refused before kustomize
runs). Field names follow kustomize's api/types/kustomization.go.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ManifestError
from ..trees import resolved, resolved_text
from ..yamlio import load_yaml

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Fields whose entries are files or directories (directories are kustomizations to follow).
_ENTRY_LISTS = (
    "resources",
    "bases",
    "components",
    "crds",
    "patchesStrategicMerge",
    "generators",
    "transformers",
    "validators",
    "configurations",
)
# Fields whose entries are remote targets when they are not local paths.
_REMOTE_CAPABLE = ("resources", "bases", "components")


def find_kustomization(directory: Path) -> Path | None:
    top = os.fspath(directory)
    for name in KUSTOMIZATION_NAMES:
        if os.path.isfile(os.path.join(top, name)):
            return directory / name
    return None


def looks_remote(entry: str) -> bool:
    """kustomize treats a reference that is not a local path as a remote target (git or HTTP)."""
    if "://" in entry or entry.startswith("git@") or "?ref=" in entry:
        return True
    first = entry.split("/", 1)[0]
    return "." in first and first not in (".", "..") and "/" in entry


@dataclass(slots=True)
class KustomizeGraph:
    """What a kustomization reaches, transitively: directories, files, remote targets, dead ends."""

    directories: set[Path] = field(default_factory=set)  # every directory reached (resolved)
    files: set[Path] = field(default_factory=set)  # every local file named (resolved)
    remote: list[tuple[Path, str]] = field(default_factory=list)  # (kustomization file, remote target)
    unreadable: list[Path] = field(default_factory=list)  # kustomization files that did not parse
    dangling: list[tuple[Path, str]] = field(default_factory=list)  # local entries naming nothing


def _file_entries(data: Mapping[str, Any]) -> list[str]:
    entries: list[str] = []
    for name in ("patches", "patchesJson6902", "replacements"):
        for item in data.get(name) or []:
            if isinstance(item, Mapping) and isinstance(item.get("path"), str):
                entries.append(item["path"])
    for name in ("configMapGenerator", "secretGenerator"):
        for gen in data.get(name) or []:
            if isinstance(gen, Mapping):
                for source in [*(gen.get("files") or []), *(gen.get("envs") or []), gen.get("env")]:
                    if isinstance(source, str):
                        entries.append(source.split("=", 1)[-1])
    for chart in data.get("helmCharts") or []:
        if isinstance(chart, Mapping) and isinstance(chart.get("valuesFile"), str):
            entries.append(chart["valuesFile"])
    openapi = data.get("openapi")
    if isinstance(openapi, Mapping) and isinstance(openapi.get("path"), str):
        entries.append(openapi["path"])  # a schema file kustomize reads
    globals_ = data.get("helmGlobals")
    if isinstance(globals_, Mapping) and isinstance(globals_.get("chartHome"), str):
        entries.append(globals_["chartHome"])
    return entries


@dataclass(frozen=True, slots=True)
class _Node:
    """What one kustomization file names, resolved: read once per revision."""

    follow: tuple[Path, ...] = ()  # directories that are kustomizations to walk into
    directories: tuple[Path, ...] = ()  # directories read as a whole (chart homes, generator dirs)
    files: tuple[Path, ...] = ()
    remote: tuple[tuple[Path, str], ...] = ()
    unreadable: Path | None = None
    dangling: tuple[tuple[Path, str], ...] = ()
    kustomization: Path | None = None  # the kustomization file, when the directory has one


def _kind(path: str) -> str:
    """`dir`, `file` (anything else that exists) or `` (missing): one stat, following symlinks."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return ""
    return "dir" if stat.S_ISDIR(mode) else "file"


def _join(directory: str, entry: str) -> str:
    """`str(Path(directory) / entry)`, without making a `Path` for the common relative entry. pathlib
    drops a trailing `/` or `/.` (so `file.yaml/` names the file, where a stat of the string fails) and
    an absolute entry replaces the directory: those go through pathlib."""
    if not entry or entry.startswith("/") or entry.endswith(("/", "/.")):
        return os.fspath(Path(directory) / entry)
    return f"{directory}/{entry}"


def _read_node(directory: Path) -> _Node:
    kfile = find_kustomization(directory)
    if kfile is None:
        return _Node()
    try:
        with open(kfile, encoding="utf-8") as handle:
            data = load_yaml(handle.read())
    except (ManifestError, OSError, UnicodeDecodeError):
        return _Node(unreadable=kfile, kustomization=kfile)
    if not isinstance(data, Mapping):
        return _Node(kustomization=kfile)
    follow: list[Path] = []
    directories: list[Path] = []
    files: list[Path] = []
    remote: list[tuple[Path, str]] = []
    dangling: list[tuple[Path, str]] = []
    top = os.fspath(directory)
    for name in _ENTRY_LISTS:
        for entry in data.get(name) or []:
            if not isinstance(entry, str):
                continue
            target = _join(top, entry)
            kind = _kind(target)
            if kind == "dir":
                follow.append(Path(resolved_text(target)))
            elif kind == "file":
                files.append(Path(resolved_text(target)))
            elif name in _REMOTE_CAPABLE and looks_remote(entry):
                remote.append((kfile, entry))
            else:
                dangling.append((kfile, entry))
    for entry in _file_entries(data):
        target = _join(top, entry)
        kind = _kind(target)
        if kind == "dir":
            directories.append(Path(resolved_text(target)))
        elif kind == "file":
            files.append(Path(resolved_text(target)))
        else:
            dangling.append((kfile, entry))
    for chart in data.get("helmCharts") or []:
        if isinstance(chart, Mapping) and isinstance(chart.get("repo"), str) and chart["repo"]:
            remote.append((kfile, chart["repo"]))
    return _Node(
        tuple(follow), tuple(directories), tuple(files), tuple(remote), dangling=tuple(dangling), kustomization=kfile
    )


class KustomizeGraphs:
    """The kustomization graphs of one revision's tree, each kustomization file parsed once.

    Discovery (may this app yield Applications?), selection (which files does it read?) and rendering
    (does it pull remote bases?) all walk the same graphs; in a monorepo thousands of overlays share a
    few bases, so walking each from scratch re-reads those bases thousands of times. `lock_for` is the
    tree's per-directory lock: a kustomization is never read while a render has Argo CD's
    `kustomize edit` changes written into it.
    """

    def __init__(self, lock_for: Callable[[Path], AbstractContextManager[Any]] | None = None) -> None:
        self._nodes: dict[Path, _Node] = {}
        self._walks: dict[Path, KustomizeGraph] = {}
        self._guard = threading.Lock()
        self._lock_for = lock_for

    def node(self, directory: Path) -> _Node:
        with self._guard:
            found = self._nodes.get(directory)
        if found is not None:
            return found
        if self._lock_for is None:
            found = _read_node(directory)
        else:
            with self._lock_for(directory):
                found = _read_node(directory)
        with self._guard:
            return self._nodes.setdefault(directory, found)

    def kustomization(self, directory: Path) -> Path | None:
        """`find_kustomization`, answered from the graph's memo (`directory` resolved)."""
        return self.node(directory).kustomization

    def walk(self, start: Path) -> KustomizeGraph:
        """Everything reachable from the kustomization in `start` (a directory without one is itself).
        The graph is shared by every caller asking for the same start: read it, never change it."""
        with self._guard:
            known = self._walks.get(start)
        if known is not None:
            return known
        graph = KustomizeGraph()
        followed: set[Path] = set()
        stack = [resolved(start)]
        while stack:
            directory = stack.pop()
            if directory in followed:
                continue
            followed.add(directory)
            graph.directories.add(directory)
            node = self.node(directory)
            if node.unreadable is not None:
                graph.unreadable.append(node.unreadable)
                continue
            stack.extend(node.follow)
            graph.directories.update(node.directories)
            graph.files.update(node.files)
            graph.remote.extend(node.remote)
            graph.dangling.extend(node.dangling)
        with self._guard:
            return self._walks.setdefault(start, graph)


def walk_kustomization(start: Path, graphs: KustomizeGraphs | None = None) -> KustomizeGraph:
    """Everything reachable from the kustomization in `start` (a directory without one is just itself);
    pass the revision's `graphs` to reuse the kustomizations already read."""
    return (graphs or KustomizeGraphs()).walk(start)
