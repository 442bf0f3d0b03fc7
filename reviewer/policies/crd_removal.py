"""crd-removal: a CustomResourceDefinition leaves Git.

What it checks
--------------
A CustomResourceDefinition (not a hook) that is in an app at base and in no app at head.

- `info`: Argo CD leaves it in the cluster. The repo-server writes tracking into every rendered object
  except CRDs (argo-cd `reposerver/repository/repository.go` `GenerateManifests`), so no app manages a
  CRD, none prunes it, and deleting the app does not delete it either (`shouldBeDeleted`). The CRD and
  every custom resource of it stay until someone deletes them.
- `warning`: the CRD's own manifest carries tracking, and its app still exists and prunes
  (`automated.prune`, no `Prune=false` on the CRD). The chart wrote the tracking itself: the
  annotation `argocd.argoproj.io/tracking-id` naming this app, or the label `app.kubernetes.io/instance`
  with the app's name (a Helm chart labelling `{{ .Release.Name }}` does that, since Argo CD names the
  release after the app), which is the tracking when Argo CD tracks by label
  (`application.resourceTrackingMethod: label`, the default before 3.0). Then the app manages the CRD
  and its sync prunes it (argo-cd issue #1425), and deleting a CRD deletes every custom resource of it
  in the cluster.

A CRD that moves to another app, or to another file of the same app, is no removal.

Why it matters
--------------
Both outcomes surprise: a reviewer who removes a CRD from Git expects it gone, and it stays (with its
custom resources, and their controllers' finalizers); a CRD that happens to carry tracking is deleted
with all of its custom resources, which is rarely what removing a manifest was meant to do.

Failing example
---------------
`crds/widget.yaml` (the CRD `widgets.example.com`) is deleted from the app's path: `info`, the CRD
stays in the cluster.

Passing example
---------------
The CRD moves from `crds/widget.yaml` to `crds/widget-crd.yaml` in the same app: no change at all.

Options
-------
None.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..records import App, Change, Finding, Resource
from .context import EvaluationContext

ID = "crd-removal"
SEVERITY = "info"

CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
TRACKING_LABEL = "app.kubernetes.io/instance"
CONTROL_PLANE_NAMESPACE = "argocd"

_APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: platform, namespace: argocd}
spec:
  project: default
  source: {repoURL: "https://github.com/acme/config.git", path: crds, targetRevision: HEAD}
  destination: {server: "https://kubernetes.default.svc", namespace: platform}
  syncPolicy: {automated: {prune: true}}
"""

_CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
    - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}
"""

_GADGET = (
    _CRD.replace("widgets.example.com", "gadgets.example.com").replace("Widget", "Gadget").replace("widgets", "gadgets")
)

EXAMPLES: dict[str, dict[str, dict[str, str | None]]] = {
    "fails": {
        "base": {"apps/platform.yaml": _APP, "crds/widget.yaml": _CRD, "crds/gadget.yaml": _GADGET},
        "head": {"crds/widget.yaml": None},
    },
    "passes": {
        "base": {"apps/platform.yaml": _APP, "crds/widget.yaml": _CRD, "crds/gadget.yaml": _GADGET},
        "head": {"crds/widget.yaml": None, "crds/widget-crd.yaml": _CRD},
    },
}


def _meta(body: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    meta = body.get("metadata")
    value = meta.get(field) if isinstance(meta, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _instance_names(app: App) -> tuple[str, ...]:
    """`app.InstanceName`: the plain name in the control plane's namespace, else `<namespace>_<name>`.
    The control plane's namespace is not known offline: accept both forms."""
    return (app.name, f"{app.namespace}_{app.name}")


def carried_tracking(resource: Resource, app: App) -> str | None:
    """The tracking the manifest itself carries for `app`, described, or None."""
    names = _instance_names(app)
    tracking_id = _meta(resource.body, "annotations").get(TRACKING_ANNOTATION)
    if isinstance(tracking_id, str) and tracking_id.partition(":")[0] in names:
        return f"the annotation `{TRACKING_ANNOTATION}: {tracking_id}`"
    label = _meta(resource.body, "labels").get(TRACKING_LABEL)
    if isinstance(label, str) and label in names:
        return (
            f"the label `{TRACKING_LABEL}: {label}`, which is Argo CD's tracking when it tracks by label "
            "(`application.resourceTrackingMethod: label`, the default before 3.0)"
        )
    return None


def _prune_option(app: App, resource: Resource) -> str | None:
    """The Prune option as the app's sync applies it to the live object: its annotation over the app's."""
    from ..rendering.manifests import merge_sync_options  # only for a CRD that goes

    for option in merge_sync_options(app.sync_policy.sync_options, resource.body):
        key, _, value = option.partition("=")
        if key == "Prune":
            return value
    return None


def _finding(change: Change, crd: Resource, severity: str, message: str) -> Finding:
    return Finding(
        rule=ID,
        severity=severity,
        title=f"CustomResourceDefinition {crd.key.name} leaves Git",
        message=message,
        app=crd.app,
        key=crd.key,
        location=crd.location,
        evidence=f"removed from {crd.location or crd.app}",
    )


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    for change in ctx.changes:
        crd = change.base
        if change.type != "removed" or change.hook or crd is None or (crd.key.group, crd.key.kind) != CRD:
            continue
        name = crd.key.name
        app = ctx.app(crd.app)
        tracking = carried_tracking(crd, app) if app is not None else None
        prune = _prune_option(app, crd) if app is not None else None
        if app is not None and tracking and app.sync_policy.automated and app.sync_policy.prune and prune != "false":
            confirm = " once the prune is confirmed (Prune=confirm)" if prune == "confirm" else ""
            yield _finding(
                change,
                crd,
                "warning",
                f"The CRD {name} leaves Git. Argo CD puts no tracking on CRDs, but this manifest carries {tracking}, "
                f"so app {crd.app} manages it and its automated sync prunes it{confirm} (argo-cd issue #1425). "
                f"Deleting a CustomResourceDefinition deletes every custom resource of it in the cluster. If the "
                f"CRD should stay, annotate it `argocd.argoproj.io/sync-options: Prune=false` before removing it.",
            )
            continue
        why = "its app is gone and Argo CD never deletes a CRD with its app" if app is None else "no app manages it"
        yield _finding(
            change,
            crd,
            SEVERITY,
            f"The CRD {name} leaves Git, but Argo CD does not delete it: the repo-server adds no tracking to "
            f"CRDs, so {why}. It stays in the cluster with every custom resource of it. To remove it, delete it "
            "by hand, knowing that deleting a CustomResourceDefinition deletes every custom resource of it.",
        )
