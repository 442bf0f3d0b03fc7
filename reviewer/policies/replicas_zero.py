"""replicas-zero: an existing workload is scaled to 0 replicas.

What it checks
    A Deployment, StatefulSet, ReplicaSet or Argo Rollout whose `spec.replicas` is 0 at head and was
    more than 0 at base (an absent `replicas` counts as 1, the API server's default); a
    HorizontalPodAutoscaler whose `spec.maxReplicas` becomes 0; a KEDA ScaledObject whose
    `spec.maxReplicaCount` becomes 0. A workload created at 0 replicas is reported as `info` (it
    never served); an HPA created with `maxReplicas: 0` stays `error`, since the API server rejects it.
    A workload that was already at 0 in the base is not reported: the rule judges transitions, not states.

    `ignoreDifferences` on `/spec/replicas` (usual for apps with autoscalers) does not hide the change:
    it only makes Argo CD show the app Synced. The message says whether Argo CD will apply the count,
    which it does not when the app sets `RespectIgnoreDifferences=true`.

Why it matters
    When Argo CD syncs the app, Kubernetes terminates every pod of the workload: the service it backs
    stops answering. This is rarely what a change means to do, and easy to miss in a values file.
    For an HPA, `maxReplicas: 0` is rejected by the API server ("must be greater than 0"), so the sync
    fails; for KEDA, `maxReplicaCount: 0` is reported invalid and the target is not scaled
    (kedacore/keda#5570): either way the intent and the effect differ.

Failing example
    `apps/web/deployment.yaml` goes from `replicas: 3` to `replicas: 0`::

        spec:
          replicas: 0

Passing example
    The same Deployment going from `replicas: 3` to `replicas: 2`, or staying at `replicas: 0`.

Options
    None.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..records import Change, Finding
from .context import EvaluationContext
from .example_manifests import application, deployment
from .replica_counts import HPA, SCALED_OBJECT, CountField, count_field, ignored_note, location_of, read_count

ID = "replicas-zero"
SEVERITY = "error"

_APP = application("web", "apps/web", sync_policy="{automated: {prune: true}}")
EXAMPLES = {
    "fails": {
        "base": {"apps/argocd/web.yaml": _APP, "apps/web/deployment.yaml": deployment("api", 3)},
        "head": {"apps/web/deployment.yaml": deployment("api", 0)},
    },
    "passes": {
        "base": {"apps/argocd/web.yaml": _APP, "apps/web/deployment.yaml": deployment("api", 3)},
        "head": {"apps/web/deployment.yaml": deployment("api", 2)},
    },
}


def _target(change: Change) -> str:
    resource = change.head
    assert resource is not None
    spec = resource.body.get("spec")
    ref = spec.get("scaleTargetRef") if isinstance(spec, Mapping) else None
    if isinstance(ref, Mapping) and ref.get("name"):
        return f"{ref.get('kind') or 'Deployment'} {ref['name']}"
    return "its target"


def _effect(change: Change, field: CountField, before: str) -> str:
    """What Kubernetes (or the operator) does with the new count."""
    kind = (change.key.group, change.key.kind)
    app = change.app
    if kind == HPA:
        return (
            f"{field.path} goes from {before} to 0, meant to scale {_target(change)} to zero; the API server "
            f'rejects maxReplicas below 1 ("must be greater than 0"), so the sync of app {app} fails at this '
            "HPA and the target keeps running. To stop a workload, set its replicas to 0 and remove the HPA."
        )
    if kind == SCALED_OBJECT:
        return (
            f"{field.path} goes from {before} to 0, meant to scale {_target(change)} to zero; KEDA reports "
            "a maxReplicaCount below its minimum as invalid and stops scaling the target (kedacore/keda#5570), "
            "so the target may keep running. KEDA scales a target to zero with the annotation "
            '`autoscaling.keda.sh/paused-replicas: "0"`.'
        )
    controller = "Argo Rollouts" if change.key.kind == "Rollout" else "Kubernetes"
    return (
        f"{change.key} goes from {before} to 0 replicas: when Argo CD syncs app {app}, {controller} "
        "terminates all its pods and it serves nothing until scaled up again."
    )


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    for change in ctx.changes:
        if change.hook or change.head is None:
            continue
        field = count_field(change.head)
        if field is None or read_count(change.head, field) != 0:
            continue
        is_hpa = (change.key.group, change.key.kind) == HPA
        if change.type == "added":
            severity = SEVERITY if is_hpa else "info"
            title = f"new {change.key} created at 0 {field.name}"
            message = (
                _effect(change, field, "nothing")
                if is_hpa
                else f"{change.key} is created with {field.path} 0: it runs no pods until scaled up."
            )
            before_text = "(new)"
        else:
            assert change.base is not None
            before = read_count(change.base, field) if count_field(change.base) == field else None
            if before == 0:
                continue  # already at 0: not this change's doing
            before_text = "unset" if before is None else str(before)
            severity = SEVERITY
            title = f"{change.key} scaled to 0"
            message = _effect(change, field, before_text) + ignored_note(change, field.path, ctx.app(change.app))
        yield Finding(
            rule=ID,
            severity=severity,
            title=title,
            message=message,
            app=change.app,
            key=change.key,
            path=field.path,
            location=location_of(change),
            evidence=f"{field.path}: {before_text} -> 0",
        )
