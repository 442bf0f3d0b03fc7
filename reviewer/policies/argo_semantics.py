"""What Argo CD does with an object that leaves an app, and with an Application that leaves Git.

Shared by the deletion rules (prune-deletion, orphaned-resource, cascade-deletion, destination-change,
move-between-apps). Every function reads the evaluation context only; the facts and their sources are in
the reference (argo-k8s-semantics.md §B).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..diff.clusters import destination_cluster
from ..discovery.applications import RESOURCES_FINALIZERS
from ..records import App, Change, RenderResult, Resource, ResourceKey
from .context import EvaluationContext, sync_option

CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
APPLICATION = ("argoproj.io", "Application")
APPLICATIONSET = ("argoproj.io", "ApplicationSet")
KEEP_POLICY = "helm.sh/resource-policy"
COMPARE_OPTIONS = "argocd.argoproj.io/compare-options"
# ApplicationSet `applicationsSync` policies that never delete an Application the generators drop
# (applicationset_controller.go `deleteInCluster`; Controlling-Resource-Modification.md).
KEEPING_POLICIES = ("create-only", "create-update")
# kustomize's configMapGenerator/secretGenerator suffix: 10 characters of its hash alphabet
# (kustomize api/hasher `encode`).
GENERATED_SUFFIX = re.compile(r"^(?P<stem>.+)-[2456789bcdfghkmt]{10}$")


def _meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def annotation(resource: Resource, name: str) -> str | None:
    ann = _meta(resource.body).get("annotations")
    value = ann.get(name) if isinstance(ann, Mapping) else None
    return None if value is None else str(value)


def is_crd(key: ResourceKey) -> bool:
    return (key.group, key.kind) == CRD


def is_owned(resource: Resource) -> bool:
    """An object with ownerReferences is not a root, so Argo CD never manages it directly: it is neither
    pruned nor counted as the app's (gitops-engine pkg/cache/cluster.go `GetManagedLiveObjs`)."""
    return bool(_meta(resource.body).get("ownerReferences"))


def prunes(app: App) -> bool:
    """Whether the app's automated sync deletes what leaves Git (docs/user-guide/auto_sync.md)."""
    return app.sync_policy.automated and app.sync_policy.prune


def live_option(app: App, live: Resource, name: str) -> str | None:
    """A sync option as the head app's sync applies it to a live object: the object's own annotation
    (which is what Git had at base) over the head app's `syncOptions` (gitops-engine sync_context.go
    `isPruningDisabled`, `objRequiresPruneConfirmation`)."""
    from ..rendering.manifests import merge_sync_options  # only for a resource that goes or moves

    for option in merge_sync_options(app.sync_policy.sync_options, live.body):
        key, _, value = option.partition("=")
        if key == name:
            return value
    return None


def ignores_extraneous(resource: Resource) -> bool:
    """`compare-options: IgnoreExtraneous`: a prune-pending object does not make the app OutOfSync."""
    return "IgnoreExtraneous" in (annotation(resource, COMPARE_OPTIONS) or "")


def has_resources_finalizer(app: App) -> bool:
    return any(f in RESOURCES_FINALIZERS for f in app.finalizers)


def deletion_exemption(resource: Resource) -> str | None:
    """Why a resource survives its Application's cascade deletion, or None when it is deleted
    (controller/appcontroller.go `shouldBeDeleted`)."""
    if is_crd(resource.key):
        return "a CRD"
    if sync_option(resource, "Delete") == "false":
        return "Delete=false"
    if annotation(resource, KEEP_POLICY) == "keep":
        return f"{KEEP_POLICY}: keep"
    if is_owned(resource):
        return "owned by another object"
    return None


def app_cluster(ctx: EvaluationContext, app: App) -> str:
    return destination_cluster(app, ctx.config)


def empty_sync_skipped(ctx: EvaluationContext, app_id: str) -> bool:
    """With automated prune and `allowEmpty: false`, auto-sync is skipped when every resource of the app
    would be pruned (controller/appcontroller.go `autoSync`: "auto-sync will wipe out all resources")."""
    app = ctx.head_apps.get(app_id)
    render = ctx.head_renders.get(app_id)
    if app is None or render is None or not render.ok or not prunes(app) or app.sync_policy.allow_empty:
        return False
    return not render.resources


def find(render: RenderResult | None, key: ResourceKey) -> Resource | None:
    if render is None:
        return None
    return next((r for r in render.resources if r.key == key), None)


def _content(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("metadata", "status")}


def rename_partner(ctx: EvaluationContext, change: Change) -> Resource | None:
    """The resource a removed one was renamed to: an added one of the same kind in the same app and
    cluster with the same content (metadata aside), else the only added one of that kind there when the
    change also removes only one."""
    old = change.base
    if old is None:
        return None
    place = (old.app, change.cluster, change.key.group, change.key.kind)
    added = [c.head for c in ctx.changes_in("added", *place) if not c.hook and c.head is not None]
    for resource in added:
        if _content(resource.body) == _content(old.body):
            return resource
    removed = [c for c in ctx.changes_in("removed", *place) if not c.hook]
    return added[0] if len(added) == 1 and len(removed) == 1 else None


def regenerated(old: ResourceKey, new: ResourceKey) -> bool:
    """A kustomize-generated ConfigMap/Secret replaced by its next hash-suffixed version: pruning the
    old one is how generators are meant to work, not a loss."""
    if (old.group, old.kind) not in (("", "ConfigMap"), ("", "Secret")) or old.namespace != new.namespace:
        return False
    a, b = GENERATED_SUFFIX.match(old.name), GENERATED_SUFFIX.match(new.name)
    return a is not None and b is not None and a["stem"] == b["stem"]


def becomes_hook(ctx: EvaluationContext, change: Change) -> Resource | None:
    """The head hook with the same key as a removed non-hook resource: the object turned into a hook,
    so the live object has no target any more and is a prune candidate (reference §B.4)."""
    if change.base is None:
        return None
    place = (change.base.app, change.cluster, change.key.group, change.key.kind)
    for other in ctx.changes_in("added", *place):
        if other.hook and other.key == change.key and other.head is not None:
            return other.head
    return None


def leaves_with_its_app(ctx: EvaluationContext, change: Change) -> bool:
    """The resource is removed because its whole app is gone at head (cascade-deletion's case)."""
    return change.base is not None and change.base.app not in ctx.head_apps


def changes_cluster(ctx: EvaluationContext, change: Change) -> bool:
    """The app moved to another cluster: what it left behind is orphaned there (destination-change)."""
    app = ctx.head_apps.get(change.base.app) if change.base else None
    return app is not None and app_cluster(ctx, app) != change.cluster


def child_app_removed(ctx: EvaluationContext, change: Change) -> bool:
    """The removed object is the Application of a child app that is gone at head (cascade-deletion)."""
    if change.base is None or (change.key.group, change.key.kind) != APPLICATION:
        return False
    return any(
        app.parent == change.base.app
        and (app.namespace, app.name) == (change.key.namespace, change.key.name)
        and app_id not in ctx.head_apps
        for app_id, app in ctx.base_apps.items()
    )


@dataclass(frozen=True, slots=True)
class Removal:
    """What happens to an Application object that is in Git at base and not at head.

    `outcome`: `deleted` (Argo CD deletes it: its finalizer decides what happens to its resources),
    `parent-keeps` (its parent app does not prune it: orphaned-resource reports that), or `kept`
    (nothing deletes it). `reason` completes "The Application ...".
    """

    outcome: str
    reason: str
    approval: bool = False  # the deletion waits for an approval (Prune=confirm / Delete=confirm)
    assumed: bool = False  # rests on an assumption the message must state (an unread AppSet policy)

    @property
    def deleted(self) -> bool:
        return self.outcome == "deleted"


def _appset_key(generator: str) -> ResourceKey | None:
    """`ApplicationSet <namespace>/<name>` (discovery's App.generator) as a resource key."""
    label = generator.removeprefix("ApplicationSet ").strip()
    namespace, _, name = label.partition("/")
    return ResourceKey(*APPLICATIONSET, namespace, name) if name else None


def _appset_policy(appset: Resource | None) -> str | None:
    spec = appset.body.get("spec") if appset else None
    policy = spec.get("syncPolicy") if isinstance(spec, Mapping) else None
    value = policy.get("applicationsSync") if isinstance(policy, Mapping) else None
    return str(value) if value else None


def _object_removal(ctx: EvaluationContext, parent_id: str, key: ResourceKey, seen: tuple[str, ...]) -> Removal:
    """The Argo CD object `key` (an Application or ApplicationSet) leaves the render of `parent_id`."""
    parent = ctx.head_apps.get(parent_id)
    live = find(ctx.base_renders.get(parent_id), key)
    if parent is not None:
        if not prunes(parent):
            return Removal("parent-keeps", f"is left in place by {parent_id}, which does not prune")
        option = live_option(parent, live, "Prune") if live else sync_option_of(parent, "Prune")
        if option == "false":
            return Removal("parent-keeps", f"is left in place by {parent_id} (Prune=false)")
        empty = " once it syncs (auto-sync is skipped while it would be left empty)"
        suffix = empty if empty_sync_skipped(ctx, parent_id) else ""
        return Removal("deleted", f"is pruned by {parent_id}'s automated sync{suffix}", approval=option == "confirm")
    if parent_id in seen or parent_id not in ctx.base_apps:
        return Removal("kept", f"stays: it belongs to {parent_id}, whose own deletion cannot be judged")
    up = app_removal(ctx, parent_id, (*seen, parent_id))
    if not up.deleted:
        return Removal("kept", f"stays: its parent {parent_id} is not deleted either")
    if not has_resources_finalizer(ctx.base_apps[parent_id]):
        return Removal(
            "kept", f"stays: its parent {parent_id} is deleted without the resources finalizer, which orphans it"
        )
    exemption = deletion_exemption(live) if live else None
    if exemption:
        return Removal("kept", f"stays: it survives the cascade deletion of {parent_id} ({exemption})")
    confirm = live is not None and sync_option(live, "Delete") == "confirm"
    return Removal(
        "deleted",
        f"is deleted with {parent_id}, which {up.reason}",
        approval=up.approval or confirm,
        assumed=up.assumed,
    )


def sync_option_of(app: App, name: str) -> str | None:
    """An app-level sync option (`spec.syncPolicy.syncOptions`)."""
    for option in app.sync_policy.sync_options:
        key, _, value = option.partition("=")
        if key.strip() == name:
            return value.strip()
    return None


def controller_policy(ctx: EvaluationContext) -> str | None:
    """The policy the ApplicationSet controller enforces (its `--policy` flag), from the cascade-deletion
    option `applicationsetPolicy`: it wins over each ApplicationSet's own `applicationsSync`, as in Argo
    CD unless `--enable-policy-override` is set."""
    value = ctx.options.get("cascade-deletion", {}).get("applicationsetPolicy")
    return str(value) if value else None


def app_removal(ctx: EvaluationContext, app_id: str, seen: tuple[str, ...] = ()) -> Removal:
    """What Argo CD does with the Application `app_id`, present at base and gone at head.

    - a child of an app-of-apps: pruned if the parent's automated sync prunes it (and its Application
      object is not `Prune=false`), or deleted with the parent if the parent is itself deleted with the
      resources finalizer (reference §B.5);
    - generated by an ApplicationSet: deleted by the ApplicationSet controller unless its
      `applicationsSync` policy is create-only/create-update; the policy is read from the AppSet when a
      parent app renders it, else `sync` (the default) is assumed, and the `controller_policy` wins; an
      AppSet that itself leaves its parent is deleted with its Applications (ownerReference), whatever
      the policy;
    - a root (applied by hand, or declared in the config): nothing in Git deletes it; an app that
      manages its own Application object prunes itself.
    """
    app = ctx.base_apps[app_id]
    own_key = ResourceKey(*APPLICATION, app.namespace, app.name)
    if app.generator:
        appset_key = _appset_key(app.generator)
        appset = None
        if app.parent and appset_key is not None:
            head_render = ctx.head_renders.get(app.parent)
            appset = find(head_render, appset_key)
            gone = app.parent not in ctx.head_apps or (head_render is not None and head_render.ok and not appset)
            if gone:
                removal = _object_removal(ctx, app.parent, appset_key, seen)
                if removal.deleted:
                    return Removal(
                        "deleted",
                        f"is deleted with {app.generator}, which {removal.reason} (its Applications follow "
                        "through their ownerReference)",
                        approval=removal.approval,
                        assumed=removal.assumed,
                    )
                return Removal("kept", f"stays: {app.generator} {removal.reason}")
            appset = appset or find(ctx.base_renders.get(app.parent), appset_key)
        enforced = controller_policy(ctx)
        policy = enforced or _appset_policy(appset)
        assumed = policy is None
        policy = policy or "sync"
        if policy in KEEPING_POLICIES:
            return Removal("kept", f"stays: {app.generator} no longer generates it, but its policy {policy} keeps it")
        how = f"policy {policy}" + (
            " (assumed: the ApplicationSet's policy is not in a rendered app)" if assumed else ""
        )
        return Removal(
            "deleted", f"is deleted by {app.generator}, which no longer generates it ({how})", assumed=assumed
        )
    if app.parent:
        return _object_removal(ctx, app.parent, own_key, seen)
    own = find(ctx.base_renders.get(app_id), own_key)
    if own is not None and prunes(app) and live_option(app, own, "Prune") != "false":
        # It manages its own Application object: the live app keeps its base spec, syncs its path, finds
        # its own manifest gone and prunes itself.
        return Removal("deleted", "prunes its own Application object (it manages itself)")
    return Removal("kept", "stays: no app in this repository manages its Application object, so Argo CD keeps it")
