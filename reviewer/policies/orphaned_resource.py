"""orphaned-resource: a resource leaves an app that will not prune it.

What it checks
--------------
A resource rendered at base and not at head, in an app that still exists at head, where the app's sync
will not delete it: the app has no automated sync with `prune: true`, or the object's effective
`Prune` sync option is `false` (its `argocd.argoproj.io/sync-options` annotation over the head app's
`syncOptions`). Argo CD keeps the live object, lists it with `RequiresPruning` and shows the app
OutOfSync until someone deletes it (`Prune=false`: "PruneSkipped: ignored (no prune)", gitops-engine
`sync_context.go` `pruneObject`; no automated prune: "need to prune extra resources only but automated
prune is disabled", ACD `controller/appcontroller.go` `autoSync`; reference §B.2, §B.3).

The message names what keeps it (Prune=false, or prune off: then a manual sync with Prune ticked
deletes it), says when the app still reports Synced (`compare-options: IgnoreExtraneous` on the
object), and when the object was renamed: the old one keeps running beside the new one. A kustomize-generated
ConfigMap/Secret superseded by its next hash-suffixed version is `info` (harmless litter).
Not this rule, as for prune-deletion: hooks, CRDs (crd-removal), objects with ownerReferences,
resources of an app gone at head (cascade-deletion), resources left on the old cluster after a
destination server change (destination-change), moves between apps (move-between-apps).

Why it matters
--------------
An orphaned object keeps running with nobody syncing or healing it: a removed Deployment keeps serving
old code, a removed NetworkPolicy keeps blocking traffic, a renamed one runs twice. And an app that
is permanently OutOfSync hides the next real drift.

Failing example
---------------
An app without automated prune; the change deletes `web/service.yaml`: the Service stays in the
cluster, the app goes OutOfSync (`warning`).

Passing example
---------------
The same app with `syncPolicy: {automated: {prune: true}}`: the Service is deleted
(prune-deletion reports that, not this rule).

Options
-------
None. The severity can be overridden and findings waived in `.gitops-reviewer.yaml` (`rules`).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Change, Finding, Resource
from .argo_semantics import (
    becomes_hook,
    changes_cluster,
    ignores_extraneous,
    is_crd,
    is_owned,
    leaves_with_its_app,
    live_option,
    prunes,
    regenerated,
    rename_partner,
)
from .context import EvaluationContext
from .example_manifests import PRUNE, application

ID = "orphaned-resource"
SEVERITY = "warning"

_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  ports:
    - port: 80
"""
EXAMPLES = {
    "fails": {
        "base": {
            "apps/web.yaml": application("web", "web", sync_policy="{automated: {}}"),
            "web/service.yaml": _SERVICE.format(name="web"),
            "web/admin.yaml": _SERVICE.format(name="admin"),
        },
        "head": {"web/admin.yaml": None},
    },
    "passes": {
        "base": {
            "apps/web.yaml": application("web", "web", sync_policy=PRUNE),
            "web/service.yaml": _SERVICE.format(name="web"),
            "web/admin.yaml": _SERVICE.format(name="admin"),
        },
        "head": {"web/admin.yaml": None},
    },
}


def _what(ctx: EvaluationContext, change: Change) -> tuple[str, bool]:
    """What happens to the object (completing "it ..."), and whether it is a superseded generated
    ConfigMap/Secret (litter rather than a running duplicate: `info`)."""
    if becomes_hook(ctx, change) is not None:
        return "becomes a hook", False
    new = rename_partner(ctx, change)
    if new is not None and regenerated(change.key, new.key):
        return f"is superseded by its regenerated version {new.key.name} (kustomize generator hash suffix)", True
    if new is not None:
        return f"is renamed from {change.key} to {new.key}, so the old object keeps running beside the new one", False
    return "leaves Git", False


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    for change in ctx.changes_of("removed"):
        old: Resource | None = change.base
        if change.hook or old is None or is_crd(change.key) or is_owned(old):
            continue
        if leaves_with_its_app(ctx, change) or changes_cluster(ctx, change):
            continue
        app = ctx.head_apps[old.app]
        option = live_option(app, old, "Prune")
        if prunes(app) and option != "false":
            continue  # prune-deletion
        if option == "false":
            why, evidence = "its Prune=false sync option keeps it", "Prune=false"
        elif app.sync_policy.automated:
            why = "automated sync does not prune (a manual sync with Prune ticked would delete it)"
            evidence = "syncPolicy.automated.prune: false"
        else:
            why = "the app has no automated sync (a manual sync with Prune ticked would delete it)"
            evidence = "no syncPolicy.automated"
        status = (
            "the app still reports Synced (IgnoreExtraneous)"
            if ignores_extraneous(old)
            else "the app shows OutOfSync until it is deleted by hand"
        )
        what, routine = _what(ctx, change)
        yield Finding(
            rule=ID,
            severity="info" if routine else SEVERITY,
            title=f"{change.key.kind} {change.key.name} left running, unmanaged",
            message=(
                f"{change.key} {what}, but {old.app} will not prune it: {why}. The live object "
                f"keeps running and {status}."
            ),
            app=old.app,
            key=change.key,
            location=old.location,
            evidence=evidence,
        )
