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
import re
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
    """A tool's output made into resources and hooks, with what was wrong with it."""

    resources: list[Resource]
    hooks: list[Resource]
    warnings: list[str]
    errors: list[str]


def _annotations(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("metadata")
    ann = meta.get("annotations") if isinstance(meta, Mapping) else None
    return ann if isinstance(ann, Mapping) else {}


def _csv(value: Any) -> list[str]:
    """resourceutil.GetAnnotationCSVs: comma-separated, trimmed, empty entries and duplicates dropped."""
    if value is None:
        return []
    return list(dict.fromkeys(p.strip() for p in str(value).split(",") if p.strip()))


def hook_phases(body: Mapping[str, Any]) -> tuple[tuple[str, ...], bool, bool]:
    """The Argo CD hook phases of an object, whether it is a hook, and whether it is ignored entirely.

    gitops-engine pkg/sync/hook/hook.go and hook/helm: an object with the Argo CD hook annotation is a
    hook unless its only type is `Skip`; otherwise it is a hook if it has `helm.sh/hook` with any value
    but `crd-install`. Its types are the known Argo CD types, or, when there are none, the Helm types
    mapped to Argo CD's (so Helm hook annotations are ignored once a real Argo CD hook is set). A hook
    without any known type is ignored (pkg/sync/ignore `Ignore`): not applied, not compared, not pruned.
    """
    ann = _annotations(body)
    types = [t for t in _csv(ann.get(HOOK_ANNOTATION)) if t in ARGO_HOOKS]
    if not types:
        mapped = (HELM_HOOKS[t] for t in _csv(ann.get(HELM_HOOK_ANNOTATION)) if t in HELM_HOOKS)
        types = list(dict.fromkeys(mapped))
    if HOOK_ANNOTATION in ann:
        is_hook = not ("Skip" in types and len(types) == 1)
    else:
        value = ann.get(HELM_HOOK_ANNOTATION)
        is_hook = HELM_HOOK_ANNOTATION in ann and value != "crd-install"
    return tuple(types), is_hook, is_hook and not types


_GO_INT = re.compile(r"[+-]?[0-9]+")


def _atoi(raw: Any) -> int | None:
    """Go's strconv.Atoi on an annotation value: no surrounding spaces, no underscores."""
    text = str(raw)
    if not _GO_INT.fullmatch(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def sync_wave(body: Mapping[str, Any]) -> tuple[int, str | None]:
    """syncwaves.Wave: the sync-wave annotation if it parses, else `helm.sh/hook-weight`, else 0."""
    ann = _annotations(body)
    warning = None
    if WAVE_ANNOTATION in ann:
        wave = _atoi(ann[WAVE_ANNOTATION])
        if wave is not None:
            return wave, None
        warning = f"sync wave {ann[WAVE_ANNOTATION]!r} is not an integer; Argo CD ignores it"
    if HELM_WEIGHT_ANNOTATION in ann:
        weight = _atoi(ann[HELM_WEIGHT_ANNOTATION])
        if weight is not None:
            return weight, warning
        warning = f"hook weight {ann[HELM_WEIGHT_ANNOTATION]!r} is not an integer; Argo CD uses 0"
    return 0, warning


def merge_sync_options(app_options: Iterable[str], body: Mapping[str, Any]) -> tuple[str, ...]:
    """App-level sync options overridden option by option by the resource annotation (sync-options.md)."""
    merged: dict[str, str] = {}
    for opt in [*app_options, *_csv(_annotations(body).get(SYNC_OPTIONS_ANNOTATION))]:
        name, _, value = opt.partition("=")
        merged[name.strip()] = value.strip()
    return tuple(f"{k}={v}" if v else k for k, v in merged.items())


def _is_null_list(body: Mapping[str, Any]) -> bool:
    """repository.go isNullList: `items: null` and neither spec nor status."""
    return "spec" not in body and "status" not in body and "items" in body and body["items"] is None


def flatten(docs: Iterable[Produced]) -> Iterable[Produced | str]:
    """Argo CD's GenerateManifests: any object whose `items` is a list (unstructured IsList) is replaced
    by its items; a null list is dropped. A list item that is not an object is an error (EachListItem),
    yielded as its message."""
    for doc in docs:
        items = doc.body.get("items")
        if isinstance(items, list):
            for item in items:
                if isinstance(item, Mapping):
                    yield Produced(item, doc.location)
                else:
                    where = f" ({doc.location})" if doc.location else ""
                    yield f"{doc.body.get('kind') or 'list'} has an item that is not an object{where}"
            continue
        if _is_null_list(doc.body):
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
    ordered: list[Resource] = []
    app_options = tuple(app_sync_options)
    for doc in flatten(docs):
        if isinstance(doc, str):
            out.errors.append(doc)
            continue
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
            out.warnings.append(
                f"{kind} {meta.get('name')} is excluded by Argo CD's resource.exclusions and is ignored"
            )
            continue
        phases, is_hook, ignored = hook_phases(body)
        if ignored:
            out.warnings.append(f"{kind} {meta.get('name')} has only hook types Argo CD does not run; it is ignored")
            continue
        name = meta.get("name") or ""
        if not name and not (is_hook and meta.get("generateName")):
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
            elif group in _KNOWN_NAMESPACED_GROUPS or (group.endswith(".k8s.io") and "." in group):
                out.errors.append(
                    f"Argo CD will refuse to sync: namespace for {kind} {name} is missing and the app has no "
                    "destination namespace"
                )
            else:
                out.warnings.append(
                    f"{kind} {name} has no namespace and the app has no destination namespace: "
                    f"if {group}/{kind} is namespaced, Argo CD will refuse to sync "
                    "(declare its scope in .gitops-reviewer.yaml)"
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
            hook_phases=phases if is_hook else (),
            sync_options=merge_sync_options(app_options, body),
        )
        # gitops-engine DeduplicateTargetObjects runs before hooks are split out: a hook and a resource
        # with the same key are one object, the last one rendered. Hooks named only by generateName get a
        # unique name at sync time and are never duplicates.
        if name and resource.key in by_key:
            out.warnings.append(f"{resource.key} is rendered more than once; the last one wins")
            ordered[by_key[resource.key]] = resource
        else:
            if name:
                by_key[resource.key] = len(ordered)
            ordered.append(resource)
    out.hooks = [r for r in ordered if r.is_hook]
    out.resources = [r for r in ordered if not r.is_hook]
    return out


def deep_copy(body: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(body))
