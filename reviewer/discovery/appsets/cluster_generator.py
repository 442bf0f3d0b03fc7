"""The `clusters` generator (ACD `applicationset/generators/cluster.go`): one parameter set per cluster.

The clusters are those of the configuration, selected by their labels, plus the local `in-cluster`
unless a selector is given or a selected cluster has its server. The cluster generator
iterates a Go map in Argo CD (random order); here the output keeps the configuration's order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...config import Cluster
from .failures import GeneratorFailure
from .generation import Generation
from .parameters import sanitize_name
from .selectors import LabelSelector

IN_CLUSTER_NAME = "in-cluster"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"


def generate(spec: Mapping[str, Any], generation: Generation, level: int) -> list[dict[str, Any]]:
    raw_selector = spec.get("selector") or {}
    if not isinstance(raw_selector, Mapping):
        raise GeneratorFailure("clusters.selector must be a mapping")
    selector = LabelSelector.parse(raw_selector)
    # No local cluster when a selector is given: it has no secret, hence no labels to match.
    ignore_local = bool(raw_selector.get("matchLabels")) or bool(raw_selector.get("matchExpressions"))
    secrets: dict[str, Cluster] = {}
    for cluster in generation.clusters:
        if selector.matches(_cluster_labels(cluster)):
            secrets[cluster.name] = cluster  # keyed by name, as getSecretsByClusterName does
    params_list: list[dict[str, Any]] = []
    if not ignore_local and not any(c.server == IN_CLUSTER_SERVER for c in secrets.values()):
        params_list.append(
            {
                "name": IN_CLUSTER_NAME,
                "nameNormalized": IN_CLUSTER_NAME,
                "server": IN_CLUSTER_SERVER,
                "project": "",
            }
        )
    for cluster in secrets.values():
        params: dict[str, Any] = {
            "name": cluster.name,
            "nameNormalized": sanitize_name(cluster.name),
            "server": cluster.server,
            "project": cluster.project,
        }
        labels = _cluster_labels(cluster)
        annotations = dict(cluster.annotations)
        if generation.go_template:
            meta: dict[str, Any] = {}
            if annotations:
                meta["annotations"] = annotations
            if labels:
                meta["labels"] = labels
            params["metadata"] = meta
        else:
            params.update({f"metadata.annotations.{k}": v for k, v in annotations.items()})
            params.update({f"metadata.labels.{k}": v for k, v in labels.items()})
        params_list.append(params)
    generation.append_values(spec.get("values"), params_list, "clusters")
    if spec.get("flatList") is True:
        return [{"clusters": params_list}]
    return params_list


def _cluster_labels(cluster: Cluster) -> dict[str, str]:
    # A cluster secret always carries the secret-type label the generator selects on.
    return {**dict(cluster.labels), SECRET_TYPE_LABEL: cluster.labels.get(SECRET_TYPE_LABEL, "cluster")}
