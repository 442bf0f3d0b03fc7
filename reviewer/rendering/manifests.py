"""From rendered documents to `Resource` records, the way Argo CD post-processes a render.

- `kind: *List` objects are flattened; `items: null` lists are dropped (repository.go GenerateManifests).
- Hooks are split out of the desired state (gitops-engine pkg/sync/hook, reconcile.go splitHooks).
- Cluster-scoped kinds lose any namespace; namespaced (or unknown) kinds without one get the
  destination namespace (controller/state.go NormalizeTargetObjects).
- Kinds in Argo CD's default resource.exclusions are dropped with a warning.
- A key rendered twice: the last one wins, with a warning (RepeatedResourceWarning).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..records import Location, Resource, ResourceKey
from .scopes import ScopeTable, group_of

HOOK_ANNOTATION = "argocd.argoproj.io/hook"
HELM_HOOK_ANNOTATION = "helm.sh/hook"
WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
HELM_WEIGHT_ANNOTATION = "helm.sh/hook-weight"
SYNC_OPTIONS_ANNOTATION = "argocd.argoproj.io/sync-options"

ARGO_HOOKS = ("PreSync", "Sync", "PostSync", "SyncFail", "Skip", "PreDelete", "PostDelete")
# gitops-engine pkg/sync/hook/helm/type.go: Helm hook types mapped to Argo CD phases. `crd-install`
# is not a hook; `test*` have no Argo type (the object is then ignored entirely).
HELM_HOOKS = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-install": "PostSync",
    "post-upgrade": "PostSync",
    "pre-delete": "PreDelete",
    "post-delete": "PostDelete",
}

# Built-in groups whose kinds are all known (for telling "namespace missing" from "kind unknown").
_KNOWN_NAMESPACED_GROUPS = {"", "apps", "batch", "autoscaling", "networking.k8s.io", "policy"}


@dataclass(frozen=True, slots=True)
class Produced:
    """One rendered document with where it came from."""

    body: Mapping[str, Any]
    location: Location | None


@dataclass(slots=True)
class Normalised:
    resources: list[Resource]
    hooks: list[Resource]
    warnings: list[str]
    errors: list[str]


def _annotations(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("metadata")
    ann = meta.get("annotations") if isinstance(meta, Mapping) else None
    return ann if isinstance(ann, Mapping) else {}


def _csv(value: Any) -> list[str]:
    return [p.strip() for p in str(value).split(",") if p.strip()] if value is not None else []


def hook_phases(body: Mapping[str, Any]) -> tuple[tuple[str, ...], bool]:
    """The Argo CD hook phases of an object, and whether it is ignored entirely (only unknown hook types).

    An Argo CD hook annotation takes precedence over Helm's (gitops-engine hook.go Types).
    """
    ann = _annotations(body)
    if HOOK_ANNOTATION in ann:
        types = _csv(ann[HOOK_ANNOTATION])
        known = tuple(t for t in types if t in ARGO_HOOKS)
        return known, bool(types) and not known
    if HELM_HOOK_ANNOTATION in ann:
        types = _csv(ann[HELM_HOOK_ANNOTATION])
        mapped = tuple(dict.fromkeys(HELM_HOOKS[t] for t in types if t in HELM_HOOKS))
        ignored = not mapped and any(t != "crd-install" for t in types)
        return mapped, ignored
    return (), False


def sync_wave(body: Mapping[str, Any]) -> tuple[int, str | None]:
    ann = _annotations(body)
    raw = ann.get(WAVE_ANNOTATION, ann.get(HELM_WEIGHT_ANNOTATION))
    if raw is None:
        return 0, None
    try:
        return int(str(raw).strip()), None
    except ValueError:
        return 0, f"sync wave {raw!r} is not an integer; Argo CD uses 0"


def merge_sync_options(app_options: Iterable[str], body: Mapping[str, Any]) -> tuple[str, ...]:
    """App-level sync options overridden option by option by the resource annotation (sync-options.md)."""
    merged: dict[str, str] = {}
    for opt in [*app_options, *_csv(_annotations(body).get(SYNC_OPTIONS_ANNOTATION))]:
        name, _, value = opt.partition("=")
        merged[name.strip()] = value.strip()
    return tuple(f"{k}={v}" if v else k for k, v in merged.items())


def flatten(docs: Iterable[Produced]) -> Iterable[Produced]:
    for doc in docs:
        kind = doc.body.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in doc.body:
            items = doc.body.get("items")
            if items is None:
                continue
            for item in items if isinstance(items, list) else []:
                if isinstance(item, Mapping):
                    yield Produced(item, doc.location)
            continue
        yield doc


def normalise(
    docs: Iterable[Produced],
    *,
    app: str,
    destination_namespace: str,
    app_sync_options: Iterable[str],
    scopes: ScopeTable,
) -> Normalised:
    """Turn rendered documents into the app's desired resources and hooks."""
    out = Normalised([], [], [], [])
    by_key: dict[ResourceKey, int] = {}
    app_options = tuple(app_sync_options)
    for doc in flatten(docs):
        body = doc.body
        api_version, kind = body.get("apiVersion"), body.get("kind")
        meta = body.get("metadata")
        where = f" ({doc.location})" if doc.location else ""
        if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
            out.errors.append(f"a rendered object has no apiVersion or kind{where}")
            continue
        if not isinstance(meta, Mapping):
            out.errors.append(f"{kind} has no metadata{where}")
            continue
        group = group_of(api_version)
        if scopes.is_excluded(group, kind):
            out.warnings.append(f"{kind} {meta.get('name')} is excluded by Argo CD's resource.exclusions and is ignored")
            continue
        phases, ignored = hook_phases(body)
        if ignored:
            out.warnings.append(f"{kind} {meta.get('name')} has only hook types Argo CD does not run; it is ignored")
            continue
        name = meta.get("name") or ""
        if not name and not (phases and meta.get("generateName")):
            out.errors.append(f"{kind} has no metadata.name{where}")
            continue
        fixed = dict(body)
        fixed_meta = dict(meta)
        namespace = str(meta.get("namespace") or "")
        if scopes.is_cluster_scoped(group, kind):
            if namespace:
                fixed_meta.pop("namespace", None)
            namespace = ""
        elif not namespace:
            namespace = destination_namespace
            if namespace:
                fixed_meta["namespace"] = namespace
            elif group in _KNOWN_NAMESPACED_GROUPS or group.endswith(".k8s.io") and "." in group:
                out.errors.append(
                    f"Argo CD will refuse to sync: namespace for {kind} {name} is missing and the app has no "
                    "destination namespace"
                )
            else:
                out.warnings.append(
                    f"{kind} {name} has no namespace and the app has no destination namespace: if {group}/{kind} "
                    "is namespaced, Argo CD will refuse to sync (declare its scope in .gitops-reviewer.yaml)"
                )
        fixed["metadata"] = fixed_meta
        wave, wave_warning = sync_wave(body)
        if wave_warning:
            out.warnings.append(f"{kind} {name}: {wave_warning}")
        resource = Resource(
            key=ResourceKey(group, kind, namespace, str(name or meta.get("generateName") or "")),
            api_version=api_version,
            body=fixed,
            app=app,
            location=doc.location,
            sync_wave=wave,
            hook_phases=phases if phases != ("Skip",) else (),
            sync_options=merge_sync_options(app_options, body),
        )
        if resource.is_hook:
            out.hooks.append(resource)
            continue
        if resource.key in by_key:
            out.warnings.append(f"{resource.key} is rendered more than once; the last one wins")
            out.resources[by_key[resource.key]] = resource
        else:
            by_key[resource.key] = len(out.resources)
            out.resources.append(resource)
    return out


def deep_copy(body: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(body))
