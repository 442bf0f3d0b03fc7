"""Manifests for the deletion rules' fixture repos: Applications with sync policies and finalizers,
ApplicationSets, and a few plain resources (all as YAML text)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

REPO = "https://github.com/acme/config.git"  # the `origin` remote that gitrepos.make_repo adds
IN_CLUSTER = "https://kubernetes.default.svc"
FINALIZER = "resources-finalizer.argocd.argoproj.io"
HOOK = "argocd.argoproj.io/hook"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"


def dump(doc: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(doc), sort_keys=False)


def sync_policy(
    *, automated: bool = True, prune: bool = True, allow_empty: bool | None = None, options: Sequence[str] = ()
) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    if automated:
        auto: dict[str, Any] = {"prune": prune}
        if allow_empty is not None:
            auto["allowEmpty"] = allow_empty
        policy["automated"] = auto
    if options:
        policy["syncOptions"] = list(options)
    return policy


def application_doc(
    name: str,
    path: str | None = None,
    *,
    namespace: str = "demo",
    server: str | None = IN_CLUSTER,
    cluster_name: str | None = None,
    policy: Mapping[str, Any] | None = None,
    finalizers: Sequence[str] = (),
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    destination: dict[str, Any] = {"namespace": namespace}
    if server:
        destination["server"] = server
    if cluster_name:
        destination["name"] = cluster_name
    spec: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": REPO, "path": path if path is not None else name, "targetRevision": "HEAD"},
        "destination": destination,
    }
    if policy:
        spec["syncPolicy"] = dict(policy)
    meta: dict[str, Any] = {"name": name, "namespace": "argocd"}
    if finalizers:
        meta["finalizers"] = list(finalizers)
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": meta, "spec": spec}


def application(name: str, path: str | None = None, **kw: Any) -> str:
    return dump(application_doc(name, path, **kw))


def _meta(name: str, namespace: str | None, annotations: Mapping[str, str] | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def service(
    name: str, *, namespace: str | None = None, port: int = 80, annotations: Mapping[str, str] | None = None
) -> str:
    return dump(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(name, namespace, annotations),
            "spec": {"ports": [{"port": port}]},
        }
    )


def configmap(name: str, *, data: Mapping[str, str] | None = None, annotations: Mapping[str, str] | None = None) -> str:
    return dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(name, None, annotations),
            "data": dict(data or {"a": "1"}),
        }
    )


def pvc(name: str = "data", *, namespace: str | None = None, annotations: Mapping[str, str] | None = None) -> str:
    return dump(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta(name, namespace, annotations),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }
    )


def statefulset(name: str = "db", *, volumes: bool = True) -> str:
    spec: dict[str, Any] = {
        "serviceName": name,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": name, "image": "postgres:16"}]},
        },
    }
    if volumes:
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            }
        ]
    return dump({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name}, "spec": spec})


def crd(plural: str = "widgets", group: str = "example.com") -> str:
    kind = plural[:-1].capitalize()
    return dump(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {
                "group": group,
                "names": {"kind": kind, "plural": plural, "singular": plural[:-1]},
                "scope": "Namespaced",
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                    }
                ],
            },
        }
    )


def job_hook(name: str = "migrate", phase: str = "PreSync") -> str:
    return dump(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "annotations": {HOOK: phase}},
            "spec": {
                "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox"}]}}
            },
        }
    )


def list_appset(
    name: str,
    elements: Sequence[str],
    *,
    namespace: str | None = "argocd",
    policy: str | None = None,
    preserve: bool = False,
    app_policy: Mapping[str, Any] | None = None,
) -> str:
    """An ApplicationSet with a list generator: one app `<element>` per element, path `<element>`."""
    sync: dict[str, Any] = {}
    if policy:
        sync["applicationsSync"] = policy
    if preserve:
        sync["preserveResourcesOnDeletion"] = True
    spec: dict[str, Any] = {
        "generators": [{"list": {"elements": [{"name": e} for e in elements]}}],
        "template": {
            "metadata": {"name": "{{name}}"},
            "spec": {
                "project": "default",
                "source": {"repoURL": REPO, "path": "{{name}}", "targetRevision": "HEAD"},
                "destination": {"server": IN_CLUSTER, "namespace": "{{name}}"},
                **({"syncPolicy": dict(app_policy)} if app_policy else {}),
            },
        },
    }
    if sync:
        spec["syncPolicy"] = sync
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return dump({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "metadata": meta, "spec": spec})
