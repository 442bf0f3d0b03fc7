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
from .rendering.kustomize_graph import find_kustomization, walk_kustomization
from .rendering.source import resolve_path


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
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
    return "" if rel == "." else rel


def app_inputs(app: App, root: Path) -> Inputs:
    """The repo paths `app` reads at the revision whose tree is `root`."""
    dirs: set[str] = set()
    files: set[str] = set()
    certain = True
    refs = {s.ref for s in app.sources if s.ref and s.origin == "repo"}
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
            rel = _rel(app_dir, root)
            if rel is None:
                certain = False
                continue
            dirs.add(rel)
            if find_kustomization(app_dir) is not None:
                graph = walk_kustomization(app_dir)
                certain &= not graph.unreadable
                dirs.update(r for r in (_rel(d, root) for d in graph.directories) if r is not None)
                files.update(r for r in (_rel(f, root) for f in graph.files) if r is not None)
            directory = source.spec.get("directory")
            if isinstance(directory, Mapping) and isinstance(directory.get("jsonnet"), Mapping):
                for lib in directory["jsonnet"].get("libs") or []:
                    dirs.add(_normalise(str(lib)))
        for entry in [
            *(helm.get("valueFiles") or []),
            *(p.get("path") for p in helm.get("fileParameters") or [] if isinstance(p, Mapping)),
        ]:
            text = str(entry)
            if text.startswith("$"):
                name, _, rest = text[1:].partition("/")
                if name not in refs:
                    continue  # another repository's file: not in this change
                text = rest
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
class Selection:
    """Which apps to render and why (app id -> reason); the rest are unchanged."""

    selected: Mapping[str, str]
    skipped: tuple[str, ...]


def select_apps(
    base_apps: Mapping[str, App],
    head_apps: Mapping[str, App],
    base_root: Path,
    head_root: Path,
    changed: Iterable[str],
    *,
    all_apps: bool = False,
) -> Selection:
    """Decide which apps the change can affect."""
    paths = sorted(set(changed))
    selected: dict[str, str] = {}
    skipped: list[str] = []
    for app_id in sorted(set(base_apps) | set(head_apps)):
        base, head = base_apps.get(app_id), head_apps.get(app_id)
        if all_apps:
            selected[app_id] = "--all-apps"
        elif base is None:
            selected[app_id] = "added"
        elif head is None:
            selected[app_id] = "removed"
        elif base.manifest != head.manifest:
            selected[app_id] = "its definition changed"
        else:
            reason = ""
            for side, app, root in (("head", head, head_root), ("base", base, base_root)):
                inputs = app_inputs(app, root)
                if not inputs.certain:
                    reason = f"its inputs at {side} cannot all be resolved (rendered to be safe)"
                    break
                hits = inputs.touched_by(paths)
                if hits:
                    more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
                    reason = f"{hits[0]}{more} changed"
                    break
            if reason:
                selected[app_id] = reason
            else:
                skipped.append(app_id)
    return Selection(selected=selected, skipped=tuple(skipped))
