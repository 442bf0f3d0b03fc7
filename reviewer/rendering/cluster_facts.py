"""The destination cluster's facts Argo CD hands to Helm (directly or inside kustomize): its Kubernetes
version and API versions (controller/state.go GetRepoObjs; util/argo/argo.go APIResourcesToStrings).

Without a cluster, the gate uses the cluster declared in the config for the app's destination, then the
config's defaults, plus every CRD version found in the repo. A source's own `kubeVersion`/`apiVersions`
win, as in Argo CD (GetKubeVersionOrDefault, GetAPIVersionsOrDefault).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import Cluster
from ..records import App
from .context import RenderContext


def destination_cluster_config(app: App, ctx: RenderContext) -> Cluster | None:
    for cluster in ctx.config.clusters:
        if app.destination.server and cluster.server == app.destination.server:
            return cluster
        if app.destination.name and cluster.name == app.destination.name:
            return cluster
    return None


def cluster_facts(app: App, ctx: RenderContext, overrides: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(kube version without the `v`, extra API versions) for rendering `app`."""
    cluster = destination_cluster_config(app, ctx)
    kube = str(overrides.get("kubeVersion") or (cluster.kube_version if cluster else "") or ctx.config.kube_version)
    explicit = tuple(str(a) for a in overrides.get("apiVersions") or ())
    if explicit:
        return kube.lstrip("v"), explicit
    extra = [*(cluster.api_versions if cluster else ()), *ctx.config.api_versions, *ctx.crd_api_versions]
    return kube.lstrip("v"), tuple(dict.fromkeys(extra))
