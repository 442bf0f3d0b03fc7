"""Replica counts as the replicas-* rules read them: which kinds scale, what an absent count means, and
whether ignoreDifferences hides a count from Argo CD's diff.

Counts are read from the raw rendered bodies, never from the non-ignored deltas only: ignoreDifferences
on `/spec/replicas` changes what Argo CD reports as out of sync, not what a sync applies (corpus README).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..records import App, Change, FieldDelta, Location, Resource

HPA = ("autoscaling", "HorizontalPodAutoscaler")
SCALED_OBJECT = ("keda.sh", "ScaledObject")


@dataclass(frozen=True, slots=True)
class CountField:
    """The field of a kind that says how many pods run (or may run)."""

    name: str  # under `spec`
    default: int | None  # what the API server (or operator) assumes when the field is absent

    @property
    def path(self) -> str:
        return f"spec.{self.name}"


# The workloads whose `spec.replicas` the API server defaults to 1 (apps/v1 defaults.go; Argo Rollouts
# defaults it the same way).
WORKLOAD_COUNT = CountField("replicas", 1)
WORKLOAD_KINDS = frozenset(
    {("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "ReplicaSet"), ("argoproj.io", "Rollout")}
)
COUNT_FIELDS: Mapping[tuple[str, str], CountField] = {
    **{kind: WORKLOAD_COUNT for kind in WORKLOAD_KINDS},
    HPA: CountField("maxReplicas", None),  # required by the API: no default
    SCALED_OBJECT: CountField("maxReplicaCount", 100),  # KEDA's documented default
}


def count_field(resource: Resource) -> CountField | None:
    return COUNT_FIELDS.get((resource.key.group, resource.key.kind))


def _spec(resource: Resource) -> Mapping[str, Any]:
    spec = resource.body.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def has_count(resource: Resource, field: CountField) -> bool:
    return field.name in _spec(resource)


def as_count(value: Any) -> int | None:
    """An integer count from a manifest value (`3`, `"3"`, `3.0`); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def read_count(resource: Resource, field: CountField) -> int | None:
    """The count the resource asks for: the field's value, its default when absent, None when unknown."""
    spec = _spec(resource)
    if field.name not in spec:
        return field.default
    return as_count(spec[field.name])


def delta_at(change: Change, path: str) -> FieldDelta | None:
    return next((d for d in change.deltas if d.path == path), None)


def respects_ignore_differences(app: App | None) -> bool:
    return app is not None and "RespectIgnoreDifferences=true" in app.sync_policy.sync_options


def ignored_note(change: Change, path: str, app: App | None) -> str:
    """What ignoreDifferences on `path` changes about a sync, as a sentence ("" when it does not cover it).

    Argo CD drops ignored fields from the comparison only (docs/user-guide/diffing.md): the app reads
    Synced, but a sync applies the whole desired manifest, unless RespectIgnoreDifferences=true, which
    keeps the live value of ignored fields (docs/user-guide/sync-options.md).
    """
    delta = delta_at(change, path)
    if delta is None or not delta.ignored:
        return ""
    if respects_ignore_differences(app):
        return (
            f" ignoreDifferences covers {path} and the app sets RespectIgnoreDifferences=true: Argo CD keeps "
            "the live value when it syncs, so it will not apply this to the existing object, but Git and the "
            "cluster now disagree without Argo CD showing it."
        )
    return (
        f" ignoreDifferences covers {path}, so Argo CD shows no difference for it and will not sync for this "
        "alone, but the next sync of the app applies it; only with RespectIgnoreDifferences=true would "
        "Argo CD keep the live value and not apply it."
    )


def location_of(change: Change) -> Location | None:
    resource = change.head or change.base
    return resource.location if resource else None


def _group(api_version: Any) -> str | None:
    if not isinstance(api_version, str) or not api_version:
        return None
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _scale_targets(resource: Resource) -> Iterator[tuple[str | None, str, str]]:
    """(group or None when unsaid, kind, name) of what an HPA or a KEDA ScaledObject scales."""
    ref = _spec(resource).get("scaleTargetRef")
    if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str):
        return
    kind = ref.get("kind")
    if (resource.key.group, resource.key.kind) == SCALED_OBJECT:
        # KEDA's scaleTargetRef defaults to apps/v1 Deployment (keda.sh docs, "ScaledObject specification").
        yield _group(ref.get("apiVersion") or "apps/v1"), str(kind or "Deployment"), ref["name"]
    elif isinstance(kind, str):
        yield _group(ref.get("apiVersion")), kind, ref["name"]


def autoscaled_by(resource: Resource, others: Iterator[Resource] | tuple[Resource, ...]) -> Resource | None:
    """The HPA (or KEDA ScaledObject, which makes one) among `others` that targets `resource`."""
    key = resource.key
    for other in others:
        if (other.key.group, other.key.kind) not in (HPA, SCALED_OBJECT) or other.key.namespace != key.namespace:
            continue
        for group, kind, name in _scale_targets(other):
            if kind == key.kind and name == key.name and group in (None, key.group):
                return other
    return None
