"""move-between-apps: a resource moves from one app to another in one change.

What it checks
--------------
A resource rendered by app A at base and by app B at head, same cluster and key (a `moved` change).
Which app acts first decides what happens (reference §B.6): until B's sync rewrites the object's
tracking annotation to B, the live object is still A's, absent from A's desired state, so it
`RequiresPruning` in A. **If A syncs with prune before B, A deletes it** and B then creates it anew;
if B syncs first, B adopts it and A no longer sees it (ACD `controller/state.go`,
`controller/cache/cache.go`; argo-cd issues #16721, #2885).

- A prunes it (automated `prune: true`, and the object's effective `Prune` is not `false`), or A is
  itself deleted with the resources finalizer (cascade-deletion) and the object is not exempt
  (`Delete=false`, `helm.sh/resource-policy: keep`): `warning`, `error` when the kind holds data
  (PersistentVolumeClaim, PersistentVolume, Namespace, StatefulSet with volumeClaimTemplates).
- A does not prune it, but B has `FailOnSharedResource=true`: the object stays A's, so B's sync fails
  with "is part of applications" until someone re-labels it: `warning`.
- Otherwise B adopts it (a transient SharedResourceWarning): no finding.
Hooks (not pruned) and CRDs (not tracked) are not judged.

Why it matters
--------------
Reorganising apps ("move the database into its own app") is routine and the diff looks like a no-op,
yet with prune on it is a coin toss whether the object is deleted and recreated: a restart for a
Deployment, an empty volume for a PersistentVolumeClaim.

Failing example
---------------
A PersistentVolumeClaim moves from app `web` (automated prune) to app `db`: `error`.
Safer: first annotate it `argocd.argoproj.io/sync-options: Prune=false` in A, merge, then move it.

Passing example
---------------
The same move with the object annotated `Prune=false` in A: A leaves it alone and B adopts it.

Options
-------
None. The severity can be overridden and findings waived in `.gitops-reviewer.yaml` (`rules`).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Change, Finding
from .argo_semantics import (
    app_removal,
    deletion_exemption,
    has_resources_finalizer,
    is_crd,
    is_owned,
    live_option,
    prunes,
)
from .context import EvaluationContext, holds_data, sync_option
from .example_manifests import PRUNE, application, pvc

ID = "move-between-apps"
SEVERITY = "warning"

_SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  ports:\n    - port: 80\n"
_KEEP = "argocd.argoproj.io/sync-options: Prune=false"


def _example(annotations: str) -> dict[str, dict[str, str | None]]:
    return {
        "base": {
            "apps/web.yaml": application("web", "web", namespace="shop", sync_policy=PRUNE),
            "apps/db.yaml": application("db", "db", namespace="shop", sync_policy=PRUNE),
            "web/service.yaml": _SERVICE.format(name="web"),
            "db/service.yaml": _SERVICE.format(name="db"),
            "web/data.yaml": pvc(annotations=annotations),
        },
        "head": {"web/data.yaml": None, "db/data.yaml": pvc(annotations=annotations)},
    }


EXAMPLES = {"fails": _example(""), "passes": _example(_KEEP)}


def _risk(ctx: EvaluationContext, change: Change) -> str | None:
    """How the old app can delete the object before the new app adopts it, or None."""
    assert change.base is not None
    old_id = change.base.app
    old_app = ctx.head_apps.get(old_id)
    if old_app is not None:
        if prunes(old_app) and live_option(old_app, change.base, "Prune") != "false":
            return f"{old_id}'s automated sync prunes it"
        return None
    removal = app_removal(ctx, old_id)
    if removal.deleted and has_resources_finalizer(ctx.base_apps[old_id]) and deletion_exemption(change.base) is None:
        return f"{old_id}, which {removal.reason}, deletes it with its resources finalizer"
    return None


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    for change in ctx.changes_of("moved"):
        old, new = change.base, change.head
        if change.hook or old is None or new is None or is_crd(change.key) or is_owned(old):
            continue
        risk = _risk(ctx, change)
        shared = sync_option(new, "FailOnSharedResource") == "true"
        move = f"{change.key} moves from {old.app} to {new.app} in one change"
        if risk is not None:
            data = holds_data(old) or holds_data(new)
            message = (
                f"{move}: if {old.app} syncs before {new.app} has re-labelled the object, {risk}, and {new.app} "
                "then creates it anew" + (", empty." if data else ".")
            )
            if shared:
                message += f" Until then {new.app}'s sync fails (FailOnSharedResource=true)."
            yield Finding(
                rule=ID,
                severity="error" if data else SEVERITY,
                title=f"{change.key.kind} {change.key.name} may be deleted by {old.app}",
                message=message,
                app=new.app,
                key=change.key,
                location=new.location,
                evidence=risk,
            )
        elif shared:
            yield Finding(
                rule=ID,
                severity=SEVERITY,
                title=f"{new.app} cannot adopt {change.key.kind} {change.key.name}",
                message=(
                    f"{move}: the live object stays tracked by {old.app}, which does not prune it, and {new.app} has "
                    "FailOnSharedResource=true, so its sync fails until the object is re-labelled by hand."
                ),
                app=new.app,
                key=change.key,
                location=new.location,
                evidence="FailOnSharedResource=true",
            )
