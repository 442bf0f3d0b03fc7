"""What Argo CD's repo-server does before any tool runs (reference §C.0):
source-type detection, `.argocd-source*.yaml` overrides, and build-environment substitution."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ManifestError, RenderFailure
from ..records import App, AppSource
from ..trees import resolved_text
from ..yamlio import load_yaml
from .kustomize_graph import KUSTOMIZATION_NAMES

# Only tool fields are merged from override files; repoURL/path/chart/targetRevision are kept
# (reposerver/repository/repository.go mergeSourceParameters).
_KEPT = ("repoURL", "path", "chart", "targetRevision", "ref", "name")


def resolve_path(root: Path, rel: str | None) -> Path:
    """The directory of a source path inside the tree; refuses paths that leave it."""
    text = (rel or ".").strip() or "."
    if text.startswith("/"):  # an absolute path means the same path from the repository root
        text = text.lstrip("/") or "."
    top = os.fspath(root)
    target = resolved_text(os.path.join(top, text))
    base = resolved_text(top)
    if target != base and not target.startswith(base.rstrip("/") + "/"):
        raise RenderFailure(f"source path {rel!r} points outside the repository")
    return Path(target)


def detect_type(source: AppSource, app_dir: Path, listed: dict[str, str] | None = None) -> str:
    """Argo CD's source type: explicit when exactly one tool block is set, else discovered from files.

    util/app/discovery/discovery.go: `*Chart.yaml` means Helm, a kustomization file means Kustomize
    (checked in lexical walk order, so Kustomize wins over `Chart.yaml`), otherwise Directory. A chart
    from a chart repository is Helm. Plugins are not reproducible offline.
    `listed`: the types already discovered from the files, by directory, for a caller that asks about
    many apps of one tree (discovery: an app-of-apps' children repeat the apps found by the scan).
    """
    explicit = source.explicit_types
    if len(explicit) > 1:
        raise RenderFailure(f"multiple application sources defined: {', '.join(explicit)}")
    if source.chart:
        return "helm"
    if explicit:
        return explicit[0]
    key = os.fspath(app_dir)
    if listed is not None and key in listed:
        return listed[key]
    if not os.path.isdir(app_dir):
        raise RenderFailure(f"app path {source.path!r} does not exist")
    # discovery.go Discover: the path root's files in filepath.Walk (lexical) order, each `*Chart.yaml`
    # setting Helm and each kustomization setting Kustomize; the last one seen decides.
    kind = "directory"
    with os.scandir(app_dir) as listing:  # file types from the listing, without a stat per entry
        names = sorted(e.name for e in listing if not e.is_dir(follow_symlinks=False))
    for name in names:
        if name.endswith("Chart.yaml"):
            kind = "helm"
        if name in KUSTOMIZATION_NAMES:
            kind = "kustomize"
    if listed is not None:
        listed[key] = kind
    return kind


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def apply_overrides(source: AppSource, app_dir: Path, app_name: str) -> tuple[AppSource, list[str]]:
    """Merge `.argocd-source.yaml`, then `.argocd-source-<app>.yaml`, into the source's tool fields."""
    spec: Mapping[str, Any] = source.spec
    used = []
    for name in (".argocd-source.yaml", f".argocd-source-{app_name}.yaml"):
        path = app_dir / name
        if not path.is_file():
            continue
        try:
            patch = load_yaml(path.read_text(encoding="utf-8"), file=name)
        except ManifestError as exc:
            raise RenderFailure(f"cannot read parameter override file {name}: {exc}") from None
        if patch is None:
            continue
        if not isinstance(patch, Mapping):
            raise RenderFailure(f"parameter override file {name} is not a mapping")
        merged = _merge_patch(spec, {k: v for k, v in patch.items() if k not in _KEPT})
        spec = {**merged, **{k: spec[k] for k in _KEPT if k in spec}}
        used.append(name)
    if not used:
        return source, []
    return (
        AppSource(
            repo_url=source.repo_url,
            path=source.path,
            target_revision=source.target_revision,
            chart=source.chart,
            ref=source.ref,
            spec=spec,
            origin=source.origin,
        ),
        used,
    )


@dataclass(frozen=True, slots=True)
class BuildEnv:
    """The variables Argo CD substitutes in tool options (repository.go newEnv)."""

    values: Mapping[str, str]

    @classmethod
    def for_app(cls, app: App, source: AppSource, revision: str) -> BuildEnv:
        return cls(
            {
                "ARGOCD_APP_NAME": app.name,
                "ARGOCD_APP_NAMESPACE": app.destination.namespace,
                "ARGOCD_APP_PROJECT_NAME": app.project,
                "ARGOCD_APP_REVISION": revision,
                "ARGOCD_APP_REVISION_SHORT": revision[:7],
                "ARGOCD_APP_REVISION_SHORT_8": revision[:8],
                "ARGOCD_APP_SOURCE_REPO_URL": source.repo_url,
                "ARGOCD_APP_SOURCE_PATH": source.path or "",
                "ARGOCD_APP_SOURCE_TARGET_REVISION": source.target_revision,
            }
        )

    def substitute(self, text: str) -> str:
        """`$VAR` / `${VAR}` exactly as Go's os.Expand in Argo CD's Env.Envsubst: unknown variables
        become empty, `$$` is an escaped `$`, `$` before anything that is not a name stays as is,
        and a shell special character (`$1`, `$*`, ...) is a one-character variable (always empty)."""
        out: list[str] = []
        i = 0
        n = len(text)
        while i < n:
            c = text[i]
            if c != "$" or i + 1 >= n:
                out.append(c)
                i += 1
                continue
            name, width = _shell_name(text, i + 1)
            if name == "" and width > 0:
                pass  # invalid syntax (`${}`, unclosed `${`): os.Expand eats it
            elif name == "":
                out.append("$")
            elif name == "$":
                out.append("$")  # Env.Envsubst: `$$` escapes a dollar
            else:
                out.append(self.values.get(name, ""))
            i += 1 + width
        return "".join(out)


_SHELL_SPECIAL = set("*#$@!?-0123456789")


def _shell_name(text: str, start: int) -> tuple[str, int]:
    """Go's os.getShellName: the variable name after a `$` at `start`, and how many characters it used."""
    first = text[start]
    if first == "{":
        if len(text) - start > 2 and text[start + 1] in _SHELL_SPECIAL and text[start + 2] == "}":
            return text[start + 1], 3
        end = text.find("}", start + 1)
        if end == -1:
            return "", 1  # bad syntax: eat "${"
        if end == start + 1:
            return "", 2  # bad syntax: eat "${}"
        return text[start + 1 : end], end - start + 1
    if first in _SHELL_SPECIAL:
        return first, 1
    end = start
    while end < len(text) and (text[end].isascii() and (text[end].isalnum() or text[end] == "_")):
        end += 1
    return text[start:end], end - start
