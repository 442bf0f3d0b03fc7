"""sync-order: a new resource needs a new CRD or Namespace that another app, or no sync, creates.

What it checks
--------------
In one change, a new custom resource whose new CustomResourceDefinition (added in the same change, on
the same cluster) is created by ANOTHER Application, and a new namespaced resource whose new Namespace
is created by another Application (unless its own app creates that namespace with
`CreateNamespace=true`). Hooks count as resources here: a PreSync hook that needs such a CRD or
Namespace fails just the same. Also, in any app, a new resource whose new CRD or Namespace a sync
never creates: an `argocd.argoproj.io/hook: Skip` object, or a hook of only PreDelete, PostDelete or
SyncFail.

Inside ONE app the sync waves do not matter, and no finding is made: gitops-engine sorts a sync's
tasks by phase, wave, then kind (Namespaces and CRDs first within a wave), and then moves every
Namespace and CRD that sorts after a task needing it to just before that task, taking its wave and
phase (`pkg/sync/sync_tasks.go` `Sort`/`adjustDeps`, in every gitops-engine release), and it waits for
a new CRD to be Established before applying further kinds (`sync_context.go` `ensureCRDReady`). So a
custom resource in wave -1 and its CRD in wave 5 of the same app sync fine, and so does a PreSync
hook that needs a Namespace of the Sync phase.

Nothing is reported when the CRD or Namespace existed at base: the change does not add it, or resources
of that kind or in that namespace already exist at base, or an app on that cluster already creates
the namespace with `CreateNamespace=true`.

Why it matters
--------------
Argo CD syncs each Application on its own: sync waves order the resources of one app's sync, and
nothing orders the syncs of two apps (an app-of-apps parent waits for its children only if Argo CD is
given an Application health check). If the app with the custom resource or the namespaced resource
syncs first, its sync fails (`the server could not find the requested resource`, `namespaces "x" not
found`) and succeeds only on a later retry, once the other app has synced: the change "works on the
second apply". A resource whose CRD or Namespace is never created by a sync fails every time.

Failing example
---------------
App `crds` adds the CRD `widgets.example.com`; app `widgets` adds a `Widget` in the same change.

Passing example
---------------
The `Widget` and its CRD are added to the same app, the Widget even in an earlier sync wave
(`argocd.argoproj.io/sync-wave: "-1"`, CRD in wave 5): Argo CD creates the CRD first.

Options
-------
None.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..diff.clusters import destination_cluster
from ..records import App, Change, Finding, Resource
from .context import EvaluationContext

ID = "sync-order"
SEVERITY = "error"

CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
NAMESPACE = ("", "Namespace")
SYNC_PHASES = frozenset({"PreSync", "Sync", "PostSync"})


def _app(name: str, path: str) -> str:
    return f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: {name}, namespace: argocd}}
spec:
  project: default
  source: {{repoURL: "https://github.com/acme/config.git", path: {path}, targetRevision: HEAD}}
  destination: {{server: "https://kubernetes.default.svc", namespace: widgets}}
"""


_CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
  annotations: {"argocd.argoproj.io/sync-wave": "5"}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""

_WIDGET = """apiVersion: example.com/v1
kind: Widget
metadata:
  name: blue
  annotations: {"argocd.argoproj.io/sync-wave": "-1"}
spec: {size: 3}
"""

EXAMPLES: dict[str, dict[str, dict[str, str | None]]] = {
    "fails": {
        "base": {"README.md": "config\n"},
        "head": {
            "apps/crds.yaml": _app("crds", "crds"),
            "crds/widget.yaml": _CRD,
            "apps/widgets.yaml": _app("widgets", "widgets"),
            "widgets/blue.yaml": _WIDGET,
        },
    },
    "passes": {
        "base": {"README.md": "config\n"},
        "head": {
            "apps/widgets.yaml": _app("widgets", "widgets"),
            "widgets/crd.yaml": _CRD,
            "widgets/blue.yaml": _WIDGET,
        },
    },
}


@dataclass(frozen=True, slots=True)
class _Dependency:
    """A new CRD or Namespace, and what needs it: (group, kind) of a CRD, or a namespace name."""

    change: Change
    resource: Resource
    provides: tuple[str, str] | str
    label: str


def _meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _never_applied(resource: Resource) -> str | None:
    """Why a sync never creates this object, or None (gitops-engine sync_phase.go, hook.go, ignore.go)."""
    if resource.is_hook:
        if not SYNC_PHASES.intersection(resource.hook_phases):
            return f"it is a hook of {', '.join(resource.hook_phases)} only, which a sync does not run"
        return None
    from ..rendering.manifests import HOOK_ANNOTATION  # only for a new CRD or Namespace

    annotations = _meta(resource.body).get("annotations")
    hook = annotations.get(HOOK_ANNOTATION) if isinstance(annotations, Mapping) else None
    if hook is not None and "Skip" in [p.strip() for p in str(hook).split(",")]:
        return "it is annotated `argocd.argoproj.io/hook: Skip`, so a sync never applies it"
    return None


def provides(change: Change) -> tuple[str, str] | str | None:
    """What an added object makes available to others on its cluster: a Namespace its name, a CRD the
    (group, kind) of its custom resources; None for anything else."""
    resource = change.head
    if change.type != "added" or resource is None:
        return None
    key = resource.key
    if (key.group, key.kind) == NAMESPACE:
        return key.name
    if (key.group, key.kind) == CRD:
        spec = resource.body.get("spec")
        names = spec.get("names") if isinstance(spec, Mapping) else None
        if isinstance(spec, Mapping) and isinstance(names, Mapping) and spec.get("group") and names.get("kind"):
            return str(spec["group"]), str(names["kind"])
    return None


def _dependency(change: Change) -> _Dependency | None:
    provided = provides(change)
    if provided is None:
        return None
    assert change.head is not None
    label = f"Namespace {provided}" if isinstance(provided, str) else f"CustomResourceDefinition {change.key.name}"
    return _Dependency(change, change.head, provided, label)


Need = tuple[str, tuple[str, str] | str]  # (cluster, a CRD's (group, kind) or a namespace name)


def needs_of(resource: Resource, cluster: str) -> Iterator[Need]:
    """What a resource needs on its cluster: its namespace (if namespaced) and its kind's CRD."""
    key = resource.key
    if key.namespace:
        yield cluster, key.namespace
    yield cluster, (key.group, key.kind)


@dataclass(frozen=True, slots=True)
class _BaseFacts:
    """What the base revision already had, indexed once for every dependency."""

    needed: frozenset[Need]  # needs of the base renders (of apps known at base)
    created: frozenset[tuple[str, str]]  # (cluster, namespace) of apps with CreateNamespace=true at base

    @classmethod
    def of(cls, ctx: EvaluationContext) -> _BaseFacts:
        needed: set[Need] = set()
        for app_id, render in ctx.base_renders.items():
            app = ctx.base_apps.get(app_id)
            if app is None:
                continue
            cluster = destination_cluster(app, ctx.config)
            for resource in (*render.resources, *render.hooks):
                needed.update(needs_of(resource, cluster))
        created = {
            (destination_cluster(app, ctx.config), app.destination.namespace)
            for app in ctx.base_apps.values()
            if _creates_namespace(app, app.destination.namespace)
        }
        return cls(frozenset(needed), frozenset(created))

    def existed(self, dependency: _Dependency) -> bool:
        """Signs that the CRD or Namespace was there before this change."""
        cluster = dependency.change.cluster
        if (cluster, dependency.provides) in self.needed:
            return True
        return isinstance(dependency.provides, str) and (cluster, dependency.provides) in self.created


def _creates_namespace(app: App | None, namespace: str) -> bool:
    """`CreateNamespace=true` makes Argo CD create the app's destination namespace before its sync."""
    if app is None or app.destination.namespace != namespace:
        return False
    return any(option.replace(" ", "") == "CreateNamespace=true" for option in app.sync_policy.sync_options)


def _message(dependency: _Dependency, needing: list[Resource], app: str) -> tuple[str, str]:
    what = dependency.label
    kinds = sorted({r.key.kind for r in needing})
    subject = f"{len(needing)} new {'/'.join(kinds)} resource{'s' if len(needing) > 1 else ''} in app {app}"
    never = _never_applied(dependency.resource)
    if never:
        return (
            f"{needing[0].key} needs {what}, which no sync creates",
            f"{subject} need{'s' if len(needing) == 1 else ''} the new {what}, but {never}. The sync that "
            f"applies them fails until the {what.split()[0]} exists.",
        )
    error = (
        "the server could not find the requested resource"
        if not isinstance(dependency.provides, str)
        else f'namespaces "{dependency.provides}" not found'
    )
    pronoun = "it" if len(needing) == 1 else "them"
    advice = (
        f"Add {pronoun} to the app that creates the {what.split()[0]}, sync {dependency.resource.app} first, "
        "or order the apps (an app-of-apps with sync waves, and an Application health check so the parent waits)."
    )
    if isinstance(dependency.provides, str):
        advice += f" Or let {app} create the namespace with CreateNamespace=true if it is its destination namespace."
    return (
        f"{needing[0].key} needs {what} from another app",
        f"{subject} need{'s' if len(needing) == 1 else ''} the new {what}, which app {dependency.resource.app} "
        "creates. Argo CD syncs each Application on its own and orders nothing between two apps (sync waves, "
        f"and the pulling forward of CRDs and Namespaces, work within one app's sync), so if {app} syncs first "
        f"its sync fails (`{error}`) and succeeds only on a retry after {dependency.resource.app} has synced. "
        + advice,
    )


def _describe(resource: Resource) -> str:
    hook = f", hook {','.join(resource.hook_phases)}" if resource.is_hook else ""
    return f"{resource.key} (wave {resource.sync_wave}{hook}, {resource.location or resource.app})"


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    added = [c for c in ctx.changes if c.type == "added" and c.head is not None]
    dependencies = [d for d in (_dependency(c) for c in added) if d is not None]
    if not dependencies:
        return
    base = _BaseFacts.of(ctx)
    added_by_need: dict[Need, list[Change]] = {}  # what the added resources need, in change-set order
    for change in added:
        assert change.head is not None
        for need in needs_of(change.head, change.cluster):
            added_by_need.setdefault(need, []).append(change)
    for dependency in dependencies:
        if base.existed(dependency):
            continue
        never = _never_applied(dependency.resource) is not None
        by_app: dict[str, list[Resource]] = {}
        for change in added_by_need.get((dependency.change.cluster, dependency.provides), []):
            resource = change.head
            assert resource is not None
            if resource.app == dependency.resource.app and not never:
                continue  # one sync: gitops-engine creates the dependency first (module docstring)
            if isinstance(dependency.provides, str) and _creates_namespace(ctx.app(resource.app), dependency.provides):
                continue
            by_app.setdefault(resource.app, []).append(resource)
        for app_id, needing in sorted(by_app.items()):
            needing.sort(key=lambda r: r.key)
            title, message = _message(dependency, needing, app_id)
            yield Finding(
                rule=ID,
                severity=SEVERITY,
                title=title,
                message=message,
                app=app_id,
                key=needing[0].key,
                location=needing[0].location,
                evidence="\n".join(
                    [f"needs {dependency.label} ({dependency.resource.location or dependency.resource.app})"]
                    + [_describe(r) for r in needing]
                ),
            )
