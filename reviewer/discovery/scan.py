"""Find the Argo CD documents (Application, ApplicationSet) and the CRDs written in a tree."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ManifestError
from ..globs import doublestar_match
from ..records import Location
from ..yamlio import MAX_DOCUMENT_BYTES, Document, load_json, load_yaml_stream
from .applications import is_argo_kind

_EXTENSIONS = (".yaml", ".yml", ".json")
# Jsonnet programs and libraries (the scan reads them only to see whether they may produce Applications;
# the render cache never caches an app that reads one).
JSONNET_EXTENSIONS = (".jsonnet", ".libsonnet")
_FIRST_READ = 64 * 1024  # bytes read of each file before the rest (most manifests are smaller)
# `kind: Application` / `kind: ApplicationSet` in YAML, JSON or Jsonnet spelling.
APPLICATION_KIND = re.compile(r"""["']?kind["']?\s*:\s*["']?Application(?:Set)?\b""")


@dataclass(frozen=True, slots=True)
class ArgoDoc:
    """An Application or ApplicationSet document as written in the tree."""

    kind: str  # Application | ApplicationSet
    body: Mapping[str, Any]
    location: Location


@dataclass(slots=True)
class Scan:
    """What a walk of the tree found: Application and ApplicationSet documents, CRDs, warnings."""

    docs: list[ArgoDoc] = field(default_factory=list)
    crds: list[Mapping[str, Any]] = field(default_factory=list)
    argo_files: set[str] = field(default_factory=set)  # files that may hold Applications or ApplicationSets
    warnings: list[str] = field(default_factory=list)


def _is_chart_templates(directory: Path, name: str) -> bool:
    return name == "templates" and (directory / "Chart.yaml").is_file()


def scan_tree(root: Path, ignore: tuple[str, ...] = (), parsed: dict[str, list[Document]] | None = None) -> Scan:
    """Every Application/ApplicationSet document and CRD in the tree, with file and line.

    Helm chart `templates/` are skipped: they are templates, not manifests, and are seen through the
    render of the app that uses the chart. Files that do not parse are reported, not fatal: an
    unreferenced broken file changes nothing in a cluster; a referenced one fails its app's render.
    Paths matching an `ignore` glob (doublestar syntax, repo-relative) are not scanned. `parsed`
    collects each YAML text's documents, so the render of an app-of-apps parent does not parse again
    the Application files the scan has just parsed.
    """
    result = Scan()
    top = os.fspath(root)
    for dirpath, dirnames, filenames in os.walk(root):
        directory = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d != ".git" and not _is_chart_templates(directory, d))
        prefix = "" if dirpath == top else dirpath[len(top) + 1 :].replace(os.sep, "/") + "/"
        for name in sorted(filenames):
            if not name.endswith(_EXTENSIONS + JSONNET_EXTENSIONS):
                continue
            rel = prefix + name
            if any(doublestar_match(pattern, rel) for pattern in ignore):
                continue
            try:
                # Read one byte past the limit rather than stat every file first (a first small read:
                # asking for the whole limit at once allocates that much for every file).
                first = min(_FIRST_READ, MAX_DOCUMENT_BYTES + 1)
                with open(os.path.join(dirpath, name), "rb") as handle:
                    raw = handle.read(first)
                    if len(raw) == first:
                        raw += handle.read(MAX_DOCUMENT_BYTES + 1 - first)
            except OSError:
                continue
            if len(raw) > MAX_DOCUMENT_BYTES:
                continue
            # The markers are ASCII: found in the bytes exactly when in the text. Only a file that has
            # one is decoded (one that is not UTF-8 is skipped either way).
            has_argo = b"argoproj.io" in raw
            has_crd = b"CustomResourceDefinition" in raw
            if not has_argo and not has_crd:
                continue
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                continue
            if has_argo and APPLICATION_KIND.search(text):
                result.argo_files.add(rel)
            if name.endswith(JSONNET_EXTENSIONS):
                continue
            try:
                if name.endswith(".json"):
                    docs = [(load_json(text, file=rel), 1)]
                else:
                    stream = load_yaml_stream(text, file=rel)
                    if parsed is not None:
                        parsed[text] = stream
                    docs = [(d.data, d.line) for d in stream]
            except ManifestError as exc:
                if has_argo and ("kind: Application" in text or '"Application' in text):
                    result.warnings.append(f"{exc} (not read for Applications)")
                continue
            for data, line in docs:
                for kind in ("Application", "ApplicationSet"):
                    if is_argo_kind(data, kind):
                        result.docs.append(ArgoDoc(kind, data, Location(rel, line)))
                if isinstance(data, Mapping) and data.get("kind") == "CustomResourceDefinition":
                    result.crds.append(data)
    return result


def crd_api_versions(crds: list[Mapping[str, Any]]) -> tuple[str, ...]:
    """`group/version` and `group/version/Kind` for every served version of every CRD."""
    out: list[str] = []
    for crd in crds:
        spec = crd.get("spec")
        if not isinstance(spec, Mapping):
            continue
        group = spec.get("group")
        names = spec.get("names") if isinstance(spec.get("names"), Mapping) else {}
        kind = names.get("kind") if isinstance(names, Mapping) else None
        versions = [v.get("name") for v in spec.get("versions") or [] if isinstance(v, Mapping)]
        if spec.get("version"):
            versions.append(spec["version"])
        for version in versions:
            if group and version:
                out.append(f"{group}/{version}")
                if kind:
                    out.append(f"{group}/{version}/{kind}")
    return tuple(dict.fromkeys(out))
