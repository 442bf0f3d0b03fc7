"""Which cluster an app's resources land in: resource keys are unique per cluster, not globally."""

from __future__ import annotations

from ..config import Config
from ..records import App

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
IN_CLUSTER_NAME = "in-cluster"


def _server(name: str, config: Config) -> str | None:
    """The server of a cluster declared in the config under `name`."""
    for cluster in config.clusters:
        if cluster.name == name:
            return cluster.server.rstrip("/")
    return None


def _control_plane_cluster(app: App, config: Config) -> str:
    """The cluster the Argo CD instance holding `app` runs in: `in-cluster` means that one.

    `control_plane` is a server URL or cluster name when discovery derived it from a parent app's
    destination (the Application object lives there, so the Argo CD acting on it runs there), else a
    label from the config (`controlPlane: prod`)."""
    plane = app.control_plane
    if "://" in plane:
        return plane.rstrip("/")
    server = _server(plane, config) if plane else None
    if server and server != IN_CLUSTER_SERVER:
        return server
    return f"{plane or 'local'}:in-cluster"


def destination_cluster(app: App, config: Config) -> str:
    """The cluster an app's resources land in.

    `destination.server` (a trailing `/` dropped); else `destination.name` resolved to its server
    through the config's `clusters`, or `name:<name>` when it is not declared. The in-cluster
    destination (`https://kubernetes.default.svc`, or the name `in-cluster`) is the cluster of the
    Argo CD instance that holds the app: `<control plane>:in-cluster` (`local:in-cluster` for the
    default one), or that cluster's server when the control plane is itself a known cluster.
    """
    dest = app.destination
    server = dest.server.rstrip("/")
    if not server and dest.name:
        server = IN_CLUSTER_SERVER if dest.name == IN_CLUSTER_NAME else _server(dest.name, config) or ""
        if not server:
            return f"name:{dest.name}"
    if server == IN_CLUSTER_SERVER:
        return _control_plane_cluster(app, config)
    return server
