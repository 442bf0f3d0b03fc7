"""prune-deletion: a resource leaves an app whose automated sync prunes it.

What it checks
--------------
A resource rendered at base and not at head, in an app that still exists at head, whose
`syncPolicy.automated.prune` is true, and whose effective `Prune` sync option is not `false` (the live
object's `argocd.argoproj.io/sync-options` annotation over the head app's `syncOptions`). Argo CD
marks such an object `RequiresPruning` and its automated sync deletes it (ACD `controller/state.go`
`CompareAppState`; gitops-engine `sync_context.go` `pruneObject`, `isPruningDisabled`).

- Severity `critical` when the object holds data (PersistentVolumeClaim, PersistentVolume, Namespace,
  StatefulSet with volumeClaimTemplates), `error` otherwise.
- A rename (a removed and an added resource of the same kind in the same app, same content, or the only
  pair of that kind) says "renamed from ... to ...": Argo CD does not rename, it deletes the old
  object and creates the new one. A kustomize-generated ConfigMap/Secret replaced by its next
  hash-suffixed version is `info`: pruning the old one is how generators work.
- `Prune=confirm` still deletes once someone approves (`argocd.argoproj.io/deletion-approved` on the
  Application); the message says so.
- Hooks are not pruned (they are cleaned by their delete policy), so a removed hook is no finding;
  but an object that *becomes* a hook (same key) is a prune candidate: the live object no longer has
  a target (reference §B.4).
- `allowEmpty: false` (the default) when *every* resource of the app leaves it: Argo CD skips
  auto-sync ("auto-sync will wipe out all resources", `controller/appcontroller.go` `autoSync`). The
  message says so, and the severity is unchanged: the change as written deletes the object, and the
  guard is one manual sync (or `allowEmpty: true`) away, and it leaves the app OutOfSync meanwhile.
- Not this rule: CRDs (untracked, never pruned: crd-removal), objects with ownerReferences (not
  managed), resources of an app that is itself gone at head, including the child Application object
  of such an app (cascade-deletion), resources left on the old cluster by a destination server change
  (destination-change), and resources moved to another app (move-between-apps). Excluded kinds are
  dropped at render, and namespaces created by `CreateNamespace=true` are not rendered at all.

Why it matters
--------------
A pruned PersistentVolumeClaim takes its volume with it (reclaim policy Delete is the default of
dynamic provisioning); a pruned Namespace takes everything in it. Deleting a line of YAML is the most
innocent-looking way to lose data in GitOps.

Failing example
---------------
An app with `syncPolicy: {automated: {prune: true}}`; the change deletes `web/data.yaml`, the
app's PersistentVolumeClaim `data`: `critical`, "automated sync prunes (deletes) PersistentVolumeClaim
web/data".

Passing example
---------------
The same PersistentVolumeClaim carries `argocd.argoproj.io/sync-options: Prune=false`: Argo CD leaves
it in place (orphaned-resource reports that instead). Use `Prune=false` (or remove the resource from
the app in two steps: annotate first, then delete) for anything whose loss matters.

Options
-------
None. The severity can be overridden and findings waived in `.gitops-reviewer.yaml` (`rules`).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Change, Finding, Resource
from .argo_semantics import (
    APPLICATIONSET,
    becomes_hook,
    changes_cluster,
    child_app_removed,
    empty_sync_skipped,
    is_crd,
    is_owned,
    leaves_with_its_app,
    live_option,
    prunes,
    regenerated,
    rename_partner,
)
from .context import EvaluationContext, holds_data
from .example_manifests import PRUNE, application, pvc

ID = "prune-deletion"
SEVERITY = "error"

_APP = application("web", "web", sync_policy=PRUNE)
_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
    - port: 80
"""
EXAMPLES = {
    "fails": {
        "base": {"apps/web.yaml": _APP, "web/service.yaml": _SERVICE, "web/data.yaml": pvc()},
        "head": {"web/data.yaml": None},
    },
    "passes": {
        "base": {
            "apps/web.yaml": _APP,
            "web/service.yaml": _SERVICE,
            "web/data.yaml": pvc(annotations="argocd.argoproj.io/sync-options: Prune=false"),
        },
        "head": {"web/data.yaml": None},
    },
}


def _describe(ctx: EvaluationContext, change: Change, old: Resource) -> tuple[str, str, bool]:
    """What happens to the object (completing "it ..."), a short title, and whether it is a routine
    generator replacement."""
    name = f"{change.key.kind} {change.key.name}"
    hook = becomes_hook(ctx, change)
    if hook is not None:
        phases = "/".join(hook.hook_phases) or "hook"
        return (
            f"becomes a {phases} hook, so the live object is no longer desired state",
            f"{name} becomes a hook",
            False,
        )
    new = rename_partner(ctx, change)
    if new is not None and regenerated(change.key, new.key):
        what = f"is replaced by its regenerated version {new.key.name} (kustomize generator hash suffix)"
        return what, f"{name} replaced by its new generated version", True
    if new is not None:
        what = (
            f"is renamed from {change.key} to {new.key}: Argo CD does not rename objects, it deletes the old "
            "one and creates the new one"
        )
        return what, f"{name} renamed: old object deleted", False
    return "leaves Git", f"{name} will be deleted", False


def _finding(ctx: EvaluationContext, change: Change, old: Resource, option: str | None) -> Finding:
    what, title, routine = _describe(ctx, change, old)
    skipped = empty_sync_skipped(ctx, old.app)
    data = holds_data(old)
    severity = "info" if routine else "critical" if data else "error"
    message = f"{old.app}'s automated sync prunes (deletes) {change.key}: it {what}."
    if data:
        message += " It holds data, which is deleted with it."
    if (change.key.group, change.key.kind) == APPLICATIONSET:
        message += " The Applications it generates are deleted with it (ownerReference): see cascade-deletion."
    if option == "confirm":
        message += (
            " Prune=confirm only delays this: the prune waits for approval (argocd.argoproj.io/deletion-approved "
            "on the Application) and then deletes it."
        )
    if skipped:
        message += (
            ' Every resource of the app leaves it, so with allowEmpty false Argo CD skips auto-sync ("auto-sync '
            'will wipe out all resources") and the app stays OutOfSync; a manual sync with prune, or allowEmpty: '
            "true, deletes it."
        )
    evidence = "syncPolicy.automated.prune: true"
    if option == "confirm":
        evidence += ", Prune=confirm"
    if skipped:
        evidence += ", allowEmpty: false with nothing left"
    return Finding(
        rule=ID,
        severity=severity,
        title=title,
        message=message,
        app=old.app,
        key=change.key,
        location=old.location,
        evidence=evidence,
    )


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    for change in ctx.changes_of("removed"):
        old = change.base
        if change.hook or old is None or is_crd(change.key) or is_owned(old):
            continue  # hooks: cleaned by their delete policy; CRDs and owned objects: never pruned
        if leaves_with_its_app(ctx, change) or changes_cluster(ctx, change) or child_app_removed(ctx, change):
            continue  # cascade-deletion and destination-change judge these
        app = ctx.head_apps[old.app]
        if not prunes(app):
            continue
        option = live_option(app, old, "Prune")
        if option == "false":
            continue
        yield _finding(ctx, change, old, option)
