"""The files and directories a kustomization reaches, read without running kustomize.

One walk serves three questions: which local inputs an app reads (app selection), whether rendering
it could yield Applications (discovery), and whether it pulls remote bases (refused before kustomize
runs). Field names follow kustomize's api/types/kustomization.go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ManifestError
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
    for name in KUSTOMIZATION_NAMES:
        if (directory / name).is_file():
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
    directories: set[Path] = field(default_factory=set)  # every directory reached (resolved)
    files: set[Path] = field(default_factory=set)  # every local file named (resolved)
    remote: list[tuple[Path, str]] = field(default_factory=list)  # (kustomization file, remote target)
    unreadable: list[Path] = field(default_factory=list)  # kustomization files that did not parse


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
    globals_ = data.get("helmGlobals")
    if isinstance(globals_, Mapping) and isinstance(globals_.get("chartHome"), str):
        entries.append(globals_["chartHome"])
    return entries


def walk_kustomization(start: Path) -> KustomizeGraph:
    """Everything reachable from the kustomization in `start` (a directory without one is just itself)."""
    graph = KustomizeGraph()
    stack = [start.resolve()]
    while stack:
        directory = stack.pop()
        if directory in graph.directories:
            continue
        graph.directories.add(directory)
        kfile = find_kustomization(directory)
        if kfile is None:
            continue
        try:
            data = load_yaml(kfile.read_text(encoding="utf-8"))
        except (ManifestError, OSError, UnicodeDecodeError):
            graph.unreadable.append(kfile)
            continue
        if not isinstance(data, Mapping):
            continue
        for name in _ENTRY_LISTS:
            for entry in data.get(name) or []:
                if not isinstance(entry, str):
                    continue
                target = directory / entry
                if target.is_dir():
                    stack.append(target.resolve())
                elif target.exists():
                    graph.files.add(target.resolve())
                elif name in _REMOTE_CAPABLE and looks_remote(entry):
                    graph.remote.append((kfile, entry))
        for entry in _file_entries(data):
            target = directory / entry
            if target.is_dir():
                graph.directories.add(target.resolve())
            elif target.exists():
                graph.files.add(target.resolve())
        for chart in data.get("helmCharts") or []:
            if isinstance(chart, Mapping) and isinstance(chart.get("repo"), str) and chart["repo"]:
                graph.remote.append((kfile, chart["repo"]))
    return graph
