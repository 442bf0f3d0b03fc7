"""Select the apps a change can affect (DESIGN.md, "Select"): render only those, at base and at head.

An app is affected when a changed path is one of its inputs (its source directories, the kustomize
graph it pulls in, its value files and `$ref` files), when its own definition changed, or when it
exists on one side only. When its inputs cannot be worked out, it is affected: when in doubt, render.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import RenderFailure
from .records import App
from .rendering.kustomize_graph import KustomizeGraphs, find_kustomization, walk_kustomization
from .trees import resolved


@dataclass(frozen=True, slots=True)
class Inputs:
    """What an app reads from the repo: whole directories (prefixes) and single files, repo-relative."""

    directories: frozenset[str]
    files: frozenset[str]
    certain: bool  # False when some input could not be resolved: the app is then always selected

    def touched_by(self, paths: Iterable[str]) -> list[str]:
        hits = []
        for path in paths:
            if path in self.files or any(path == d or path.startswith(f"{d}/") or d == "" for d in self.directories):
                hits.append(path)
        return hits


def _normalise(path: str) -> str:
    """A repo-relative path with `..` and `.` collapsed ("" for the root)."""
    text = posixpath.normpath(path.lstrip("/"))
    return "" if text == "." else text


def _rel(path: Path, root: Path) -> str | None:
    """`path` (already resolved) relative to `root` (already resolved), or None outside it."""
    text, top = str(path), str(root)
    if text == top:
        return ""
    if top == "/":
        return text[1:]
    return text[len(top) + 1 :] if text.startswith(top + "/") else None


def _add_graph(start: Path, root: Path, graphs: KustomizeGraphs | None, dirs: set[str], files: set[str]) -> bool:
    """Add what the kustomization in `start` reaches to the inputs; False when the graph is not all
    known: a kustomization that does not parse, or names a local file or directory that is not there
    (kustomize fails on it; adding it later changes what the app reads), so the app is always rendered."""
    graph = walk_kustomization(start, graphs)
    dirs.update(r for r in (_rel(d, root) for d in graph.directories) if r is not None)
    files.update(r for r in (_rel(f, root) for f in graph.files) if r is not None)
    return not graph.unreadable and not graph.dangling


def _add_spec_components(
    options: object, app_dir: Path, root: Path, graphs: KustomizeGraphs | None, dirs: set[str], files: set[str]
) -> bool:
    """Add the components `spec.source.kustomize.components` names to the inputs; False when one
    cannot be followed. Argo CD runs `kustomize edit add component` with them before the build, so
    they are read although the kustomization file does not name them. A missing one is an input too
    (a directory that may appear: with ignoreMissingComponents the render changes when it does)."""
    if not isinstance(options, Mapping):
        return True
    certain = True
    for entry in options.get("components") or []:
        text = str(entry)
        if "://" in text:
            continue  # remote: not a file of this repository (the build refuses it offline)
        target = resolved(app_dir / text)
        rel = _rel(target, root)
        if rel is None:
            certain = False
            continue
        dirs.add(rel)
        if target.is_dir():
            certain &= _add_graph(target, root, graphs, dirs, files)
    return certain


def app_inputs(app: App, root: Path, graphs: KustomizeGraphs | None = None) -> Inputs:
    """The repo paths `app` reads at the revision whose tree is `root` (`graphs`: that tree's
    kustomizations, shared between apps)."""
    from .rendering.source import resolve_path  # a review whose inputs all come from a snapshot needs none

    root = resolved(root)
    dirs: set[str] = set()
    files: set[str] = set()
    certain = True
    refs = {s.ref for s in app.sources if s.ref and s.origin == "repo"}
    declared_refs = {s.ref for s in app.sources if s.ref}
    for source in app.sources:
        if source.origin == "unresolved":
            certain = False
            continue
        helm = source.spec.get("helm") if isinstance(source.spec.get("helm"), Mapping) else {}
        assert isinstance(helm, Mapping)
        if source.origin == "repo" and source.path is not None:
            try:
                app_dir = resolve_path(root, source.path)
            except RenderFailure:
                certain = False
                continue
            rel = _rel(app_dir, root)  # resolve_path resolved it
            if rel is None:
                certain = False
                continue
            dirs.add(rel)
            if (graphs.kustomization(app_dir) if graphs else find_kustomization(app_dir)) is not None:
                certain &= _add_graph(app_dir, root, graphs, dirs, files)
            certain &= _add_spec_components(source.spec.get("kustomize"), app_dir, root, graphs, dirs, files)
            directory = source.spec.get("directory")
            if isinstance(directory, Mapping) and isinstance(directory.get("jsonnet"), Mapping):
                for lib in directory["jsonnet"].get("libs") or []:
                    dirs.add(_normalise(str(lib)))
        for entry in [
            *(helm.get("valueFiles") or []),
            *(p.get("path") for p in helm.get("fileParameters") or [] if isinstance(p, Mapping)),
        ]:
            text = str(entry)
            name, _, rest = text[1:].partition("/")
            if text.startswith("$") and name in refs:
                text = rest
            elif text.startswith("$") and name in declared_refs:
                continue  # another repository's file: not in this change
            elif text.startswith("$"):
                # A leading variable, substituted before the path is resolved: relative to the chart,
                # or (an unknown variable is empty) to the repository root. Render to be safe.
                certain = False
                continue
            elif text.startswith("/"):
                # pathutil.ResolveValueFilePathOrUrl: `/x` is relative to the repository root.
                text = text.lstrip("/")
            elif source.path is not None:
                text = f"{source.path.strip('/')}/{text}"
            if any(ch in text for ch in "*?[{$"):
                # A glob or an unexpanded variable: its directory is the input.
                text = text.split("*")[0].split("?")[0].split("[")[0].split("{")[0].split("$")[0]
                parent = text.rsplit("/", 1)[0] if "/" in text else ""
                dirs.add(_normalise(parent))
            else:
                files.add(_normalise(text))
    return Inputs(frozenset(_normalise(d) for d in dirs), frozenset(files), certain)


@dataclass(frozen=True, slots=True)
class InputIndex:
    """Every app's inputs at one revision, and the reverse: which apps read a file or a directory.

    Built once per revision; a change then costs a lookup per changed path and per directory above it,
    not a scan of every app's inputs.
    """

    inputs: Mapping[str, Inputs]
    by_file: Mapping[str, tuple[str, ...]]
    by_directory: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, apps: Mapping[str, App], root: Path, graphs: KustomizeGraphs | None = None) -> InputIndex:
        graphs = graphs or KustomizeGraphs()
        return cls.from_inputs({app_id: app_inputs(app, root, graphs) for app_id, app in apps.items()})

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, Inputs]) -> InputIndex:
        by_file: dict[str, list[str]] = {}
        by_directory: dict[str, list[str]] = {}
        for app_id, found in inputs.items():
            for file in found.files:
                by_file.setdefault(file, []).append(app_id)
            for directory in found.directories:
                by_directory.setdefault(directory, []).append(app_id)
        return cls(
            inputs=inputs,
            by_file={k: tuple(v) for k, v in by_file.items()},
            by_directory={k: tuple(v) for k, v in by_directory.items()},
        )

    def readers(self, paths: Iterable[str]) -> dict[str, list[str]]:
        """app id -> the paths among `paths` it reads, in the order given."""
        out: dict[str, list[str]] = {}
        for path in paths:
            ids = set(self.by_file.get(path, ()))
            directory = path
            while True:  # the path itself (a directory input may be named exactly), then each parent
                ids.update(self.by_directory.get(directory, ()))
                if not directory:
                    break
                directory = directory.rsplit("/", 1)[0] if "/" in directory else ""
            for app_id in ids:
                out.setdefault(app_id, []).append(path)
        return out


@dataclass(frozen=True, slots=True)
class Selection:
    """Which apps to render and why (app id -> reason); the rest are unchanged."""

    selected: Mapping[str, str]
    skipped: tuple[str, ...]


def select_apps(
    base_apps: Mapping[str, App],
    head_apps: Mapping[str, App],
    base_root: Path | None,
    head_root: Path | None,
    changed: Iterable[str],
    *,
    all_apps: bool = False,
    base_index: InputIndex | None = None,
    head_index: InputIndex | None = None,
) -> Selection:
    """Decide which apps the change can affect. Each side's inputs come from its `InputIndex` when
    given, else from its tree (`base_root`, `head_root`)."""
    paths = sorted(set(changed))
    if all_apps:
        return Selection(selected=dict.fromkeys(sorted(set(base_apps) | set(head_apps)), "--all-apps"), skipped=())
    common = {i: a for i, a in head_apps.items() if i in base_apps and base_apps[i].manifest == a.manifest}
    if head_index is None:
        assert head_root is not None, "head_root or head_index"
        head_index = InputIndex.build(common, head_root)
    if base_index is None:
        assert base_root is not None, "base_root or base_index"
        base_index = InputIndex.build({i: base_apps[i] for i in common}, base_root)
    indexes = {"head": head_index, "base": base_index}
    readers = {side: index.readers(paths) for side, index in indexes.items()}
    selected: dict[str, str] = {}
    skipped: list[str] = []
    for app_id in sorted(set(base_apps) | set(head_apps)):
        base, head = base_apps.get(app_id), head_apps.get(app_id)
        if base is None:
            selected[app_id] = "added"
        elif head is None:
            selected[app_id] = "removed"
        elif base.manifest != head.manifest:
            selected[app_id] = "its definition changed"
        else:
            reason = ""
            for side in ("head", "base"):
                inputs = indexes[side].inputs.get(app_id)
                if inputs is None or not inputs.certain:
                    reason = f"its inputs at {side} cannot all be resolved (rendered to be safe)"
                    break
                hits = readers[side].get(app_id)
                if hits:
                    more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
                    reason = f"{hits[0]}{more} changed"
                    break
            if reason:
                selected[app_id] = reason
            else:
                skipped.append(app_id)
    return Selection(selected=selected, skipped=tuple(skipped))
