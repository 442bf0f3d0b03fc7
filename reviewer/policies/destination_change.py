"""destination-change: an Application's destination cluster or namespace changes.

What it checks
--------------
An app present at base and at head whose `spec.destination` points elsewhere (reference §B.6):

- **Another cluster** (`server`, or `name` resolving to another cluster; `server: X` and a `name` for
  the same X is no change): Argo CD reads live state only from the new cluster, so everything the app
  deployed on the old one is orphaned there (not pruned, even with the resources finalizer) and
  created anew on the new one (ACD `GetManagedLiveObjs(destCluster, ...)`; argo-cd issues #9172,
  #5668). `error`.
- **Another namespace** on the same cluster: resources without an explicit namespace get the new one,
  so they get new keys; the old objects still carry tracking ids naming themselves, so they become
  prune candidates (ACD `controller/state.go` `NormalizeTargetObjects`, `isSelfReferencedObj`; argo-cd
  issue #1640). With automated prune the old objects are deleted and recreated empty in the new
  namespace: `critical`. Without prune (or with `Prune=false`) the old copies keep running beside the
  new ones: `error`. Only resources whose key really moves from the old namespace to the new one are
  counted; a namespace change that moves no resource (every manifest names its namespace) is no
  finding. When either render is missing or failed, every resource is assumed to move.

prune-deletion also reports each pruned resource; this rule gives the one-line cause.

Why it matters
--------------
"Just point it at the new namespace" deletes the app's volume claims with their data and recreates
them empty, and a cluster migration done by editing `server` leaves the old cluster running an
unmanaged copy of everything.

Failing example
---------------
An app with automated prune whose `destination.namespace` changes from `web` to `web-v2`: its Service
and PersistentVolumeClaim are pruned in `web` and recreated in `web-v2` (`critical`).

Passing example
---------------
Moving an app safely: create the new app beside the old one (another name), migrate the data, then
remove the old app. Here: the same app keeps its destination and only its Service changes.

Options
-------
None. The severity can be overridden and findings waived in `.gitops-reviewer.yaml` (`rules`).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import App, Finding, Resource
from .argo_semantics import app_cluster, is_crd, is_owned, live_option, prunes
from .context import EvaluationContext, holds_data
from .example_manifests import PRUNE, application, pvc

ID = "destination-change"
SEVERITY = "critical"
LISTED = 10

_SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: {port}\n"
_BASE = {
    "apps/web.yaml": application("web", "web", namespace="web", sync_policy=PRUNE),
    "web/service.yaml": _SERVICE.format(port=80),
    "web/data.yaml": pvc(),
}
EXAMPLES = {
    "fails": {
        "base": _BASE,
        "head": {"apps/web.yaml": application("web", "web", namespace="web-v2", sync_policy=PRUNE)},
    },
    "passes": {"base": _BASE, "head": {"web/service.yaml": _SERVICE.format(port=8080)}},
}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _listing(resources: list[Resource]) -> str:
    names = [str(r.key) for r in resources[:LISTED]]
    more = len(resources) - LISTED
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _cluster_change(ctx: EvaluationContext, base: App, head: App) -> Finding:
    old = base.destination.cluster or app_cluster(ctx, base)
    new = head.destination.cluster or app_cluster(ctx, head)
    render = ctx.base_renders.get(base.id)
    what = (
        f"its {_plural(len(render.resources), 'resource')}"
        if render is not None and render.ok
        else "everything it deployed"
    )
    if base.destination.server != head.destination.server and (base.destination.server and head.destination.server):
        path = "spec.destination.server"
    elif base.destination.name != head.destination.name and (base.destination.name and head.destination.name):
        path = "spec.destination.name"
    else:
        path = "spec.destination"
    return Finding(
        rule=ID,
        severity="error",
        title=f"{base.name} moves to another cluster",
        message=(
            f"{base.id} moves from cluster {old} to {new}: Argo CD reads live state only from the new cluster, so "
            f"{what} on {old} are orphaned there (not pruned, even with the resources finalizer) and created anew "
            f"on {new}."
        ),
        app=head.id,
        path=path,
        location=head.defined_in,
        evidence=f"destination {old} -> {new}",
    )


def _moved_resources(ctx: EvaluationContext, base: App, head: App) -> list[Resource] | None:
    """The base resources whose key moves from the old destination namespace to the new one (None when a
    render is not available to tell)."""
    before, after = ctx.base_renders.get(base.id), ctx.head_renders.get(head.id)
    if before is None or after is None or not before.ok or not after.ok:
        return None
    old_ns, new_ns = base.destination.namespace, head.destination.namespace
    arrived = {(r.key.group, r.key.kind, r.key.name) for r in after.resources if r.key.namespace == new_ns}
    present = {r.key for r in after.resources}
    return [
        r
        for r in before.resources
        if old_ns
        and r.key.namespace == old_ns
        and r.key not in present
        and (r.key.group, r.key.kind, r.key.name) in arrived
        and not is_crd(r.key)
        and not is_owned(r)
    ]


def _namespace_change(ctx: EvaluationContext, base: App, head: App) -> Finding | None:
    old_ns, new_ns = base.destination.namespace or "(none)", head.destination.namespace or "(none)"
    moved = _moved_resources(ctx, base, head)
    if moved is not None and not moved:
        return None
    head_text = f"{head.id}'s destination namespace changes from {old_ns} to {new_ns}"
    evidence = f"destination.namespace {old_ns} -> {new_ns}"
    if moved is None:
        pruned = prunes(head)
        message = f"{head_text}: resources without an explicit namespace get new keys, so " + (
            f"the automated sync prunes them in {old_ns} and recreates them in {new_ns}."
            if pruned
            else f"they are created anew in {new_ns} while the old ones keep running in {old_ns}."
        )
        severity = "critical" if pruned else "error"
    else:
        deleted = [r for r in moved if prunes(head) and live_option(head, r, "Prune") != "false"]
        left = [r for r in moved if r not in deleted]
        if deleted:
            severity = "critical"
            message = (
                f"{head_text}: the automated sync prunes {_plural(len(deleted), 'resource')} in {old_ns} and "
                f"recreates {'it' if len(deleted) == 1 else 'them'} in {new_ns}: {_listing(deleted)}."
            )
            data = [r for r in deleted if holds_data(r)]
            if data:
                message += f" The data of {_listing(data)} is not carried over."
            if left:
                message += f" Not pruned, left running in {old_ns}: {_listing(left)}."
        else:
            severity = "error"
            message = (
                f"{head_text}: {_plural(len(left), 'resource')} are created anew in {new_ns} while the old ones are "
                f"not pruned and keep running in {old_ns}: {_listing(left)}."
            )
    return Finding(
        rule=ID,
        severity=severity,
        title=f"{head.name} moves to namespace {new_ns}",
        message=message,
        app=head.id,
        path="spec.destination.namespace",
        location=head.defined_in,
        evidence=evidence,
    )


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    for app_id, head in sorted(ctx.head_apps.items()):
        base = ctx.base_apps.get(app_id)
        if base is None or base.destination == head.destination:
            continue
        if app_cluster(ctx, base) != app_cluster(ctx, head):
            yield _cluster_change(ctx, base, head)
        elif base.destination.namespace != head.destination.namespace:
            finding = _namespace_change(ctx, base, head)
            if finding is not None:
                yield finding
