"""sync-policy-change: an Application's automated sync, prune, selfHeal or allowEmpty is switched on or off.

What it checks
    Every Application that exists at base and head, comparing `spec.syncPolicy.automated` and its
    `prune`, `selfHeal` and `allowEmpty` (as Argo CD reads them: `automated: {enabled: false}` turns
    automated sync off, and prune and selfHeal with it).

    - automated prune switched on (`prune`, with or without `automated` in the same change): `warning`;
    - `allowEmpty` switched on while the app prunes automatically: `warning`;
    - anything else switched (automated sync alone, selfHeal, prune or allowEmpty switched off): `info`;
    - more than one app switched to automated prune in one change: one more `warning` naming them.

Why it matters
    With automated prune, Argo CD deletes from the cluster every resource of the app that is not in Git,
    at every sync: including, at the first sync after the merge, resources that left Git long ago and
    kept running while prune was off. `allowEmpty: false` is the only guard against a sync that would
    delete everything (Argo CD skips it: "auto-sync will wipe out all resources"). selfHeal reverts any
    change made directly in the cluster within seconds. The safe way to adopt automated prune is one app
    at a time, each after its diff in Argo CD shows nothing left to prune.

Failing example
    `apps/argocd/web.yaml` goes from `syncPolicy: {automated: {}}` to
    `syncPolicy: {automated: {prune: true}}`.

Passing example
    The same Application with an unchanged `syncPolicy` and a new sync option
    (`syncOptions: [CreateNamespace=true]`).

Options
    None.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..records import App, Finding, ResourceKey, SyncPolicy
from .context import EvaluationContext
from .example_manifests import application

ID = "sync-policy-change"
SEVERITY = "warning"

_CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: blue}\n"
EXAMPLES = {
    "fails": {
        "base": {
            "apps/argocd/web.yaml": application("web", "apps/web", sync_policy="{automated: {}}"),
            "apps/web/cm.yaml": _CM,
        },
        "head": {"apps/argocd/web.yaml": application("web", "apps/web", sync_policy="{automated: {prune: true}}")},
    },
    "passes": {
        "base": {
            "apps/argocd/web.yaml": application("web", "apps/web", sync_policy="{automated: {}}"),
            "apps/web/cm.yaml": _CM,
        },
        "head": {
            "apps/argocd/web.yaml": application(
                "web", "apps/web", sync_policy="{automated: {}, syncOptions: [CreateNamespace=true]}"
            )
        },
    },
}

PRUNE_PATH = "spec.syncPolicy.automated.prune"
_FIELDS = {
    "automated": "spec.syncPolicy.automated",
    "self_heal": "spec.syncPolicy.automated.selfHeal",
    "allow_empty": "spec.syncPolicy.automated.allowEmpty",
    "prune": PRUNE_PATH,
}
_NAMES = {"automated": "automated", "prune": "prune", "self_heal": "selfHeal", "allow_empty": "allowEmpty"}


def _flags(policy: SyncPolicy) -> dict[str, bool]:
    return {
        "automated": policy.automated,
        "prune": policy.prune,
        "self_heal": policy.self_heal,
        "allow_empty": policy.allow_empty,
    }


def _evidence(before: dict[str, bool], after: dict[str, bool], names: Sequence[str]) -> str:
    return ", ".join(f"{_NAMES[n]}: {str(before[n]).lower()} -> {str(after[n]).lower()}" for n in names)


def _finding(app: App, severity: str, title: str, message: str, path: str, evidence: str) -> Finding:
    return Finding(
        rule=ID,
        severity=severity,
        title=f"{app.name}: {title}",
        message=message,
        app=app.id,
        key=ResourceKey("argoproj.io", "Application", app.namespace, app.name),
        path=path,
        location=app.defined_in,
        evidence=evidence,
    )


def _prune_finding(app: App, before: dict[str, bool], after: dict[str, bool], switched: list[str]) -> Finding:
    # selfHeal switched along with automated belongs here; switched alone, it has its own finding.
    with_heal = "automated" in switched and "self_heal" in switched
    names = [n for n in ("automated", "prune") if n in switched] + (["self_heal"] if with_heal else [])
    if after["prune"]:
        auto = "" if before["automated"] else "sync the app on its own at every new commit and "
        heal = ", and revert changes made directly in the cluster (selfHeal)" if with_heal else ""
        message = (
            f"Argo CD will now {auto}delete from the cluster every resource of app {app.id} that is not in Git "
            f"(unless it carries Prune=false){heal}. The first sync after the merge also deletes resources that "
            "left Git while prune was off and still run: check the app's diff in Argo CD shows nothing to "
            "prune before merging."
        )
        return _finding(app, "warning", "automated prune enabled", message, PRUNE_PATH, _evidence(before, after, names))
    if after["automated"]:
        message = (
            f"Argo CD will no longer delete resources that leave Git from app {app.id}: they keep running and "
            "the app shows OutOfSync until someone prunes them by hand."
        )
    else:
        message = (
            f"Argo CD no longer syncs app {app.id} on its own (nor prunes, nor reverts drift): Git changes "
            "wait for a manual sync, and a manual sync deletes only if the user asks it to prune."
        )
    return _finding(app, "info", "automated prune disabled", message, PRUNE_PATH, _evidence(before, after, names))


def _other_findings(
    app: App, before: dict[str, bool], after: dict[str, bool], switched: list[str]
) -> Iterator[Finding]:
    if "automated" in switched and "prune" not in switched:
        names = [n for n in ("automated", "self_heal") if n in switched]
        if after["automated"]:
            heal = " and revert changes made directly in the cluster (selfHeal)" if after["self_heal"] else ""
            message = (
                f"Argo CD will sync app {app.id} on its own at every new commit{heal}; without prune it never "
                "deletes: resources that leave Git keep running and the app shows OutOfSync."
            )
            yield _finding(
                app, "info", "automated sync enabled", message, _FIELDS["automated"], _evidence(before, after, names)
            )
        else:
            message = f"Argo CD no longer syncs app {app.id} on its own: Git changes wait for a manual sync."
            yield _finding(
                app, "info", "automated sync disabled", message, _FIELDS["automated"], _evidence(before, after, names)
            )
    if "self_heal" in switched and "automated" not in switched:
        if after["self_heal"]:
            message = (
                f"Argo CD will revert any change made directly in the cluster to app {app.id}'s resources "
                "(kubectl edit or scale, hotfixes) within seconds of it happening."
            )
        else:
            message = (
                f"Argo CD no longer reverts changes made in the cluster to app {app.id}; it syncs new commits only."
            )
        state = "enabled" if after["self_heal"] else "disabled"
        yield _finding(
            app, "info", f"selfHeal {state}", message, _FIELDS["self_heal"], _evidence(before, after, ["self_heal"])
        )
    if "allow_empty" in switched:
        if after["allow_empty"]:
            severity = "warning" if after["prune"] else "info"
            message = (
                f"Argo CD will now auto-sync app {app.id} even when the sync deletes every one of its resources; "
                'allowEmpty: false made it skip such a sync ("auto-sync will wipe out all resources").'
            )
            if not after["prune"]:
                message += " It takes effect once automated prune is on."
        else:
            severity = "info"
            message = f"Argo CD will again skip an automated sync that would delete every resource of app {app.id}."
        state = "enabled" if after["allow_empty"] else "disabled"
        yield _finding(
            app,
            severity,
            f"allowEmpty {state}",
            message,
            _FIELDS["allow_empty"],
            _evidence(before, after, ["allow_empty"]),
        )


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    adopted: list[str] = []
    for app_id in sorted(ctx.base_apps.keys() & ctx.head_apps.keys()):
        app = ctx.head_apps[app_id]
        before, after = _flags(ctx.base_apps[app_id].sync_policy), _flags(app.sync_policy)
        switched = [name for name in before if before[name] != after[name]]
        if not switched:
            continue
        if "prune" in switched:
            yield _prune_finding(app, before, after, switched)
            if after["prune"]:
                adopted.append(app_id)
        yield from _other_findings(app, before, after, switched)
    if len(adopted) > 1:
        yield Finding(
            rule=ID,
            severity="warning",
            title=f"{len(adopted)} apps switched to automated prune in one change",
            message=(
                f"this change turns on automated prune for {len(adopted)} apps ({', '.join(adopted)}). Each of "
                "them deletes, at its first sync, whatever it tracks that is not in Git; switching several at "
                "once multiplies what can go wrong and hides which app deleted what. Adopt automated prune one "
                "app at a time, each after its diff in Argo CD shows nothing to prune."
            ),
            app="",
            path=PRUNE_PATH,
            evidence=", ".join(adopted),
        )
