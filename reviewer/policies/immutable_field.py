"""immutable-field: a change to an existing resource that the Kubernetes API server will reject.

What it checks
--------------
Every resource that exists at base and at head (`modified`, or `moved` to another app with field
changes), hooks excepted, against a table of fields the API server refuses to change on an update
(reference §A, shipped as `reviewer/policies/immutable_fields.yaml`): a Deployment's, ReplicaSet's,
DaemonSet's or Job's `spec.selector`; a StatefulSet's spec outside `replicas`, `ordinals`, `template`,
`updateStrategy`, `persistentVolumeClaimRetentionPolicy` and `minReadySeconds`; a Job's template,
completions, completionMode, podFailurePolicy, backoffLimitPerIndex, managedBy and successPolicy; a
Service's clusterIP/clusterIPs once set, its primary IP family, its loadBalancerClass while it stays a
LoadBalancer; a PersistentVolumeClaim's spec except `resources.requests` (a storage request that goes
down is rejected too), with `volumeName` and `storageClassName` settable once; a PersistentVolume's
volume source and volumeMode; a Secret's `type`; the data of a ConfigMap or Secret marked
`immutable: true`; a (Cluster)RoleBinding's `roleRef`; a StorageClass's parameters, provisioner,
reclaimPolicy and volumeBindingMode; CSIDriver, IngressClass, PriorityClass, RuntimeClass,
ResourceQuota scopes, EndpointSlice addressType; a CRD's group and plural (and, once established, its
scope and kind); cert-manager CertificateRequest spec; Argo Rollouts `spec.selector` (v1.9+).

Custom resources are covered too: a CustomResourceDefinition rendered in this review whose OpenAPI
schema puts the transition rule `self == oldSelf` on a field (`x-kubernetes-validations`, kubebuilder
`+kubebuilder:validation:XValidation:rule="self == oldSelf"`) makes that field immutable for its kind,
when the field exists on both sides (a transition rule does not run otherwise).

A rename or a namespace move is not an update (it is a new object, and `prune-deletion` speaks for
the old one). Writing out a default (`type: Opaque`, `podManagementPolicy: OrderedReady`) is no
change. A Service that omits `clusterIP` keeps the allocated address: no finding.

Why it matters
--------------
Argo CD's pre-sync dry-run is client-side and does not see immutable fields (gitops-engine
`sync_context.go`), so the change merges green and the sync fails when the API server answers:
the app stays OutOfSync, and auto-sync does not retry the revision once its retries are spent. The
message says what Argo CD will do with this resource's effective sync options:

- default, or `Replace=true`: the sync fails with the API server's message (`error`). Argo CD never
  replaces a CRD or a Namespace: it updates them, which fails the same way.
- `Force=true` (client-side apply), or `Replace=true,Force=true`: kubectl deletes the object and
  creates it again (`error`; `critical` for kinds that hold data, a PersistentVolumeClaim, a
  PersistentVolume, a StatefulSet with volumeClaimTemplates, and for a CRD, whose deletion takes
  every custom resource of it).
- `Force=true` with `ServerSideApply=true`: kubectl refuses the combination: a sync error.

`Force` is read from the resource's annotation (at head, or at base, as the live object carries
it): Argo CD takes it from there or from a manual sync's strategy, not from the app's syncOptions.
Fields covered by `ignoreDifferences` are still sent by a sync, unless the app has
`RespectIgnoreDifferences=true`: then they are not applied and cannot be rejected.

Failing example
---------------
A Deployment's selector changes:

    spec:
      selector:
        matchLabels:
          app: api-v2   # was: api

Passing example
---------------
The image and a template label change; the selector stays:

    spec:
      selector:
        matchLabels:
          app: api
      template:
        metadata:
          labels: {app: api, track: stable}

Options
-------
`rules.options.immutable-field.fields` in `.gitops-reviewer.yaml` adds fields to the table:

    rules:
      options:
        immutable-field:
          fields:
            - group: example.com
              kind: Widget
              paths: [spec.size, "spec.disks[].class"]

A path is written as the gate prints one (`*` for any map key, `[]` for any list item); an entry may
also say `when`, `except`, `compare`, `message` and `note` as in the data file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..records import Change, Finding, Resource
from .context import EvaluationContext, holds_data, sync_option
from .example_manifests import application
from .immutable_table import (
    CRD_GROUP,
    CRD_KIND,
    ImmutableTable,
    Violation,
    builtin_table,
    config_table,
    crd_table,
    crds_of,
    violations,
)

ID = "immutable-field"
SEVERITY = "error"

_APP = application("web", "web")

_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels:
      app: {selector}
  template:
    metadata:
      labels:
        app: {selector}{extra}
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:{tag}
"""

EXAMPLES: dict[str, dict[str, dict[str, str | None]]] = {
    "fails": {
        "base": {"apps/web.yaml": _APP, "web/deployment.yaml": _DEPLOYMENT.format(selector="api", extra="", tag="1.0")},
        "head": {"web/deployment.yaml": _DEPLOYMENT.format(selector="api-v2", extra="", tag="1.0")},
    },
    "passes": {
        "base": {"apps/web.yaml": _APP, "web/deployment.yaml": _DEPLOYMENT.format(selector="api", extra="", tag="1.0")},
        "head": {"web/deployment.yaml": _DEPLOYMENT.format(selector="api", extra="\n        track: stable", tag="1.1")},
    },
}


def _table(ctx: EvaluationContext) -> ImmutableTable:
    renders = [*ctx.base_renders.values(), *ctx.head_renders.values()]
    crds = crds_of((*r.resources, *r.hooks) for r in renders)
    return builtin_table() + config_table(ctx.options.get(ID, {})) + crd_table(crds)


def _annotated(resource: Resource | None, name: str) -> str | None:
    """A sync option set on the object itself (not inherited from the app)."""
    if resource is None:
        return None
    from ..rendering.manifests import merge_sync_options  # only for a violation

    for option in merge_sync_options((), resource.body):
        key, _, value = option.partition("=")
        if key == name:
            return value
    return None


def _consequence(head: Resource) -> str:
    key = head.key
    if (key.group, key.kind) == ("", "PersistentVolumeClaim"):
        return (
            "A recreated claim binds a new, empty volume, and the old one is deleted with the claim unless its "
            "reclaim policy is Retain: data loss."
        )
    if (key.group, key.kind) == ("", "PersistentVolume"):
        return "Deleting the volume releases its claim; with reclaimPolicy Delete the storage itself goes: data loss."
    if (key.group, key.kind) == (CRD_GROUP, CRD_KIND):
        return "Deleting a CustomResourceDefinition deletes every custom resource of that kind in the cluster."
    if (key.group, key.kind) == ("apps", "StatefulSet"):
        return (
            "Its pods are deleted with it (downtime); its PersistentVolumeClaims survive unless "
            "persistentVolumeClaimRetentionPolicy.whenDeleted is Delete."
        )
    return "Whatever it owns (the pods of a workload) goes with it: expect a disruption."


def outcome(change: Change, api_message: str) -> tuple[str, bool]:
    """What Argo CD does on syncing the change (gitops-engine `applyObject`, kubectl apply/replace), and
    whether that deletes and recreates the object."""
    head, base = change.head, change.base
    assert head is not None
    kind = head.key.kind
    replace = "true" in (sync_option(head, "Replace"), _annotated(base, "Replace"))
    force = "true" in (_annotated(head, "Force"), _annotated(base, "Force"))
    server_side = sync_option(head, "ServerSideApply") == "true"
    fails = (
        f"the sync of this app fails when it applies the {kind}, with the API server's answer `{api_message}` "
        "(the pre-sync dry-run is client-side and does not catch it): the app stays OutOfSync and auto-sync "
        "does not retry this revision once its retries are spent."
    )
    fix = (
        f" To change it, the {kind} has to be deleted and recreated: by hand, under a new name, or with the "
        "annotation `argocd.argoproj.io/sync-options: Force=true,Replace=true`."
    )
    if replace and (head.key.group, kind) in ((CRD_GROUP, CRD_KIND), ("", "Namespace")):
        return f"Argo CD never replaces a {kind} (it updates it, Force or not), so {fails}", False
    if replace and force:
        return (
            f"With Replace=true,Force=true Argo CD runs `kubectl replace --force`: it deletes the {kind} and "
            f"creates it again. {_consequence(head)}",
            True,
        )
    if replace:
        return f"With Replace=true Argo CD runs `kubectl replace`, rejected the same way: {fails}{fix}", False
    if force and server_side:
        return (
            f"The {kind} has Force=true and is applied server-side (ServerSideApply=true): kubectl refuses "
            "`--force` with `--server-side`, so the sync fails with an error (without Force the API server would "
            f"reject the change: `{api_message}`).",
            False,
        )
    if force:
        return (
            f"With Force=true, `kubectl apply --force` answers the API server's rejection (`{api_message}`) by "
            f"deleting the {kind} and creating it again. {_consequence(head)}",
            True,
        )
    return f"By default {fails}{fix}", False


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if value is not None else "(absent)"
    return text if len(text) <= 120 else text[:117] + "..."


def _finding(change: Change, violation: Violation, app: str) -> Finding:
    head = change.head
    assert head is not None
    rule = violation.rule
    what, recreated = outcome(change, rule.message)
    data_loss = recreated and (holds_data(head) or (head.key.group, head.key.kind) == (CRD_GROUP, CRD_KIND))
    fields = ", ".join(dict.fromkeys(d.path for d in violation.deltas[:3]))
    if len(violation.deltas) > 3:
        fields += f" and {len(violation.deltas) - 3} more"
    note = f" Note: {rule.note}." if rule.note else ""
    moved = f" It also moves from {change.from_app} to {app}." if change.type == "moved" else ""
    evidence = [f"{d.path} ({d.kind}): {_short(d.before)} -> {_short(d.after)}" for d in violation.deltas]
    evidence.append(f"immutable: {rule.text} of {head.key.kind} ({rule.origin})")
    return Finding(
        rule=ID,
        severity="critical" if data_loss else SEVERITY,
        title=f"{head.key}: {fields} cannot change in place",
        message=f"The API server refuses to change `{rule.text}` of an existing {head.key.kind}.{moved} {what}{note}",
        app=app,
        key=head.key,
        path=rule.text,
        location=head.location,
        evidence="\n".join(evidence),
    )


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    table: ImmutableTable | None = None
    for change in ctx.changes:
        if change.type not in ("modified", "moved") or change.hook or not change.deltas:
            continue
        if change.head is None or change.base is None or change.head.is_hook:
            continue
        table = table or _table(ctx)
        # RespectIgnoreDifferences=true: the ignored fields keep their live values at sync (sync-options.md).
        skip_ignored = sync_option(change.head, "RespectIgnoreDifferences") == "true"
        for violation in violations(change, table, skip_ignored=skip_ignored):
            yield _finding(change, violation, change.app)
