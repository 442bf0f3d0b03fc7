"""Parse an Argo CD `Application` manifest into an `App` record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..records import App, AppSource, Destination, Location, Manifest, SyncPolicy
from .repos import RepoIdentity, source_origin

DEFAULT_CONTROL_NAMESPACE = "argocd"
ARGO_GROUP = "argoproj.io"
RESOURCES_FINALIZERS = (
    "resources-finalizer.argocd.argoproj.io",
    "resources-finalizer.argocd.argoproj.io/foreground",
    "resources-finalizer.argocd.argoproj.io/background",
)


class InvalidApplication(ValueError):
    """The manifest is not a usable Application; the message says why."""


def is_argo_kind(doc: Any, kind: str) -> bool:
    return (
        isinstance(doc, Mapping)
        and doc.get("kind") == kind
        and isinstance(doc.get("apiVersion"), str)
        and doc["apiVersion"].split("/")[0] == ARGO_GROUP
    )


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


TOOL_BLOCKS = ("helm", "kustomize", "directory", "plugin")
# Fields the Application CRD types as lists (a string there is rejected by the API server).
_LIST_FIELDS = {
    "helm": ("valueFiles", "parameters", "fileParameters", "apiVersions"),
    "kustomize": ("images", "replicas", "patches", "components", "apiVersions"),
    "directory": (),
    "plugin": ("env", "parameters"),
}


def is_zero(value: Any) -> bool:
    """Go's zero value: nothing set anywhere inside (used by NormalizeApplicationSpec)."""
    if isinstance(value, Mapping):
        return all(is_zero(v) for v in value.values())
    if isinstance(value, list):
        return not value
    return value is None or value is False or value == "" or value == 0


def drop_zero_tool_blocks(source: Mapping[str, Any]) -> dict[str, Any]:
    """util/argo NormalizeApplicationSpec: a tool block with nothing set (`directory: {recurse: false}`)
    is removed, so it does not make the source type explicit."""
    return {k: v for k, v in source.items() if not (k in TOOL_BLOCKS and is_zero(v))}


def _check_types(raw: Mapping[str, Any], i: int) -> None:
    for block, lists in _LIST_FIELDS.items():
        value = raw.get(block)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise InvalidApplication(f"source #{i + 1}: {block} must be a mapping, not {type(value).__name__}")
        for field in lists:
            if value.get(field) is not None and not isinstance(value[field], list):
                raise InvalidApplication(f"source #{i + 1}: {block}.{field} must be a list")
    for field in ("repoURL", "path", "chart", "targetRevision", "ref"):
        if isinstance(raw.get(field), Mapping | list):
            raise InvalidApplication(f"source #{i + 1}: {field} must be a string")


def parse_sources(spec: Mapping[str, Any], identity: RepoIdentity) -> tuple[tuple[AppSource, ...], bool]:
    """`spec.sources` (multi-source) replaces `spec.source` (docs/user-guide/multiple_sources.md)."""
    raw_sources = spec.get("sources")
    if raw_sources is not None and not isinstance(raw_sources, list):
        raise InvalidApplication("spec.sources must be a list")
    if spec.get("source") is not None and not isinstance(spec.get("source"), Mapping):
        raise InvalidApplication("spec.source must be a mapping")
    multi = isinstance(raw_sources, list) and len(raw_sources) > 0
    raws: list[Any] = list(raw_sources or []) if multi else [spec.get("source")] if spec.get("source") else []
    if not multi and raws:
        # The controller normalises a single-source Application before generating manifests.
        raws = [drop_zero_tool_blocks(raws[0])]
    sources = []
    for i, raw in enumerate(raws):
        if not isinstance(raw, Mapping):
            raise InvalidApplication(f"source #{i + 1} is not a mapping")
        _check_types(raw, i)
        repo_url = str(raw.get("repoURL") or "")
        chart = str(raw["chart"]) if raw.get("chart") else None
        path = raw.get("path")
        sources.append(
            AppSource(
                repo_url=repo_url,
                path=None if path is None else str(path),
                target_revision=str(raw.get("targetRevision") or "HEAD"),
                chart=chart,
                ref=str(raw["ref"]) if raw.get("ref") else None,
                spec=raw,
                origin=source_origin(repo_url, chart, identity),
            )
        )
    return tuple(sources), multi


def parse_sync_policy(spec: Mapping[str, Any]) -> SyncPolicy:
    if spec.get("syncPolicy") is not None and not isinstance(spec.get("syncPolicy"), Mapping):
        raise InvalidApplication("spec.syncPolicy must be a mapping")
    policy = _map(spec.get("syncPolicy"))
    auto = policy.get("automated")
    if auto is not None and not isinstance(auto, Mapping):
        raise InvalidApplication("spec.syncPolicy.automated must be a mapping")
    # `automated: {}` enables auto-sync; `automated:` (null) does not; `enabled: false` turns it off while
    # keeping prune/selfHeal (docs/user-guide/auto_sync.md).
    automated = isinstance(auto, Mapping) and auto.get("enabled", True) is not False
    auto_map = _map(auto)
    options = policy.get("syncOptions") or []
    return SyncPolicy(
        automated=automated,
        prune=automated and _bool(auto_map.get("prune", False)),
        self_heal=automated and _bool(auto_map.get("selfHeal", False)),
        allow_empty=_bool(auto_map.get("allowEmpty", False)),
        sync_options=tuple(str(o) for o in options) if isinstance(options, list) else (),
    )


def parse_application(
    doc: Manifest,
    identity: RepoIdentity,
    *,
    defined_in: Location | None,
    parent: str | None = None,
    generator: str | None = None,
    control_plane: str = "",
    default_namespace: str = DEFAULT_CONTROL_NAMESPACE,
) -> App:
    """Build an `App` from an Application manifest; InvalidApplication says what is wrong."""
    meta = _map(doc.get("metadata"))
    name = meta.get("name")
    if not name or not isinstance(name, str):
        raise InvalidApplication("Application has no metadata.name")
    spec = _map(doc.get("spec"))
    if not spec:
        raise InvalidApplication(f"Application {name} has no spec")
    sources, multi = parse_sources(spec, identity)
    if not sources:
        raise InvalidApplication(f"Application {name} has neither spec.source nor spec.sources")
    dest = _map(spec.get("destination"))
    ignore = spec.get("ignoreDifferences") or []
    finalizers = meta.get("finalizers") or []
    return App(
        name=name,
        namespace=str(meta.get("namespace") or default_namespace),
        project=str(spec.get("project") or "default"),
        sources=sources,
        destination=Destination(
            server=str(dest.get("server") or ""),
            name=str(dest.get("name") or ""),
            namespace=str(dest.get("namespace") or ""),
        ),
        sync_policy=parse_sync_policy(spec),
        ignore_differences=tuple(i for i in ignore if isinstance(i, Mapping)) if isinstance(ignore, list) else (),
        finalizers=tuple(str(f) for f in finalizers) if isinstance(finalizers, list) else (),
        defined_in=defined_in,
        manifest=doc,
        parent=parent,
        generator=generator,
        control_plane=control_plane,
        multi_source=multi,
    )


def config_app_manifest(entry: Mapping[str, Any], repo_url: str) -> dict[str, Any]:
    """Turn an `apps:` entry of `.gitops-reviewer.yaml` into an Application manifest."""
    source: dict[str, Any] = {"repoURL": entry.get("repoURL") or repo_url}
    for key in ("path", "chart", "targetRevision", "helm", "kustomize", "directory", "plugin"):
        if entry.get(key) is not None:
            source[key] = entry[key]
    spec: dict[str, Any] = {
        "project": entry.get("project") or "default",
        "destination": {
            k: v
            for k, v in (
                (
                    "server",
                    entry.get("server") or ("" if entry.get("destinationName") else "https://kubernetes.default.svc"),
                ),
                ("name", entry.get("destinationName")),
                ("namespace", entry.get("namespace")),
            )
            if v
        },
    }
    if entry.get("sources"):
        spec["sources"] = entry["sources"]
    else:
        spec["source"] = source
    for key in ("syncPolicy", "ignoreDifferences"):
        if entry.get(key) is not None:
            spec[key] = entry[key]
    meta: dict[str, Any] = {"name": entry["name"], "namespace": DEFAULT_CONTROL_NAMESPACE}
    if entry.get("finalizers"):
        meta["finalizers"] = entry["finalizers"]
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": meta, "spec": spec}
