"""replicas-reset: `spec.replicas` is removed from a workload no autoscaler manages: it goes back to 1.

What it checks
    A Deployment, StatefulSet, ReplicaSet or Argo Rollout that sets `spec.replicas` at base and not at
    head, when no HorizontalPodAutoscaler (or KEDA ScaledObject, which creates one) of the same app at
    head names it in `scaleTargetRef`. Not reported: a base count of 1 (the default, so nothing moves),
    and a field covered by ignoreDifferences in an app with `RespectIgnoreDifferences=true` (Argo CD
    then keeps the live value).

Why it matters
    Applying a manifest that no longer has `replicas` deletes the field from the live object, and the
    API server defaults it to 1: the workload scales from, say, 6 pods to 1 at the next sync
    (Kubernetes docs, "Migrating Deployments and StatefulSets to horizontal autoscaling"). People remove
    the field meaning "leave the count alone"; that only holds when an autoscaler owns it.

Failing example
    `apps/web/deployment.yaml` drops `replicas: 4` and no HPA targets the Deployment.

Passing example
    The same removal, in a change that adds an HPA whose `scaleTargetRef` names the Deployment.

Options
    None.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Finding
from .context import EvaluationContext
from .example_manifests import application, deployment
from .replica_counts import (
    WORKLOAD_COUNT,
    WORKLOAD_KINDS,
    autoscaled_by,
    delta_at,
    has_count,
    ignored_note,
    location_of,
    read_count,
    respects_ignore_differences,
)

ID = "replicas-reset"
SEVERITY = "warning"

_APP = application("web", "apps/web", sync_policy="{automated: {prune: true}}")
_HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 8
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
"""
EXAMPLES = {
    "fails": {
        "base": {"apps/argocd/web.yaml": _APP, "apps/web/deployment.yaml": deployment("api", 4)},
        "head": {"apps/web/deployment.yaml": deployment("api", None)},
    },
    "passes": {
        "base": {"apps/argocd/web.yaml": _APP, "apps/web/deployment.yaml": deployment("api", 4)},
        "head": {"apps/web/deployment.yaml": deployment("api", None), "apps/web/hpa.yaml": _HPA},
    },
}


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    path = WORKLOAD_COUNT.path
    for change in ctx.changes:
        if change.hook or change.type not in ("modified", "moved") or change.base is None or change.head is None:
            continue
        if (change.key.group, change.key.kind) not in WORKLOAD_KINDS:
            continue
        if not has_count(change.base, WORKLOAD_COUNT) or has_count(change.head, WORKLOAD_COUNT):
            continue
        before = read_count(change.base, WORKLOAD_COUNT)
        if before == 1:
            continue  # the default: nothing moves
        render = ctx.head_renders.get(change.app)
        if render is not None and autoscaled_by(change.head, render.resources):
            continue  # the autoscaler sets the count
        app = ctx.app(change.app)
        delta = delta_at(change, path)
        if delta is not None and delta.ignored and respects_ignore_differences(app):
            continue  # Argo CD keeps the live value of an ignored field
        before_text = "its current count" if before is None else str(before)
        yield Finding(
            rule=ID,
            severity=SEVERITY,
            title=f"{change.key}: replicas removed, resets to 1",
            message=(
                f"{path} ({before_text}) is removed from {change.key} and no HorizontalPodAutoscaler of app "
                f"{change.app} targets it: applying the manifest deletes the field, the API server defaults it "
                f"to 1, and the workload goes from {before_text} to 1 pod at the next sync. Keep the "
                "field, or add the autoscaler in the same change." + ignored_note(change, path, app)
            ),
            app=change.app,
            key=change.key,
            path=path,
            location=location_of(change),
            evidence=f"{path}: {before_text} -> (removed, defaults to 1)",
        )
