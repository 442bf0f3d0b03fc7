"""A revision's discovery, kept in the render cache and keyed by the git tree it was made from.

Discovery reads the whole tree (every Application, every CRD, the kustomization graphs, the renders
of app-of-apps parents); the selection index reads the inputs of every app. Both are functions of the
tree's content, the configuration and the tools, so for a commit whose git tree object was seen before
they are read back instead: a re-run, or the base revision shared by every pull request opened since
the last merge, neither checks the tree out nor scans it. The one exception is a parent whose render
uses the commit (`$ARGOCD_APP_REVISION`): that snapshot answers for its own commit only.

A snapshot is stored only when nothing in it failed (a failed parent render may be transient) and
every part survives a JSON round trip unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import Config
from ..records import App, AppSource, Destination, Discovery, Location, SyncPolicy, Unrendered
from ..rendering.cache import Uncacheable, is_plain, pack, result_data, result_from_data, tool_fingerprint, unpack
from ..selection import Inputs

SCHEMA = 2


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a review needs from a revision besides the renders of the apps it selects."""

    discovery: Discovery
    crds: tuple[Mapping[str, Any], ...]  # CRDs written in the tree (scopes, Helm API versions)
    escaping_symlinks: tuple[str, ...]
    inputs: Mapping[str, Inputs]  # app id -> what it reads
    appsets: bool = False  # the tree has ApplicationSets (their git generators read its listing)
    # The commit it was made at when it depends on more than the tree (a parent renders the revision,
    # see discovery.incremental.revision_dependence): another commit of the same tree cannot reuse it.
    revision: str = ""


def snapshot_key(tree_id: str, config: Config, urls: list[str], offline: bool) -> str:
    """Same tree, same config, same repository identity, same tools: same discovery."""
    payload = ["snapshot", SCHEMA, tool_fingerprint(), tree_id, repr(config), urls, offline]
    return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()


def _plain(value: Any, what: str) -> Any:
    if not is_plain(value):
        raise Uncacheable(f"{what} has values JSON cannot carry unchanged")
    return value


def _location(location: Location | None) -> list[Any] | None:
    return [location.file, location.line] if location else None


def _location_in(data: list[Any] | None) -> Location | None:
    return Location(data[0], data[1]) if data else None


def _app_out(app: App) -> dict[str, Any]:
    policy = app.sync_policy
    return {
        "name": app.name,
        "namespace": app.namespace,
        "project": app.project,
        "sources": [
            [s.repo_url, s.path, s.target_revision, s.chart, s.ref, _plain(s.spec, app.id), s.origin]
            for s in app.sources
        ],
        "destination": [app.destination.server, app.destination.name, app.destination.namespace],
        "sync": [policy.automated, policy.prune, policy.self_heal, policy.allow_empty, list(policy.sync_options)],
        "ignore": [_plain(rule, app.id) for rule in app.ignore_differences],
        "finalizers": list(app.finalizers),
        "definedIn": _location(app.defined_in),
        "manifest": _plain(app.manifest, app.id),
        "parent": app.parent,
        "generator": app.generator,
        "controlPlane": app.control_plane,
        "multiSource": app.multi_source,
    }


def _app_in(data: Mapping[str, Any]) -> App:
    automated, prune, self_heal, allow_empty, options = data["sync"]
    return App(
        name=data["name"],
        namespace=data["namespace"],
        project=data["project"],
        sources=tuple(
            AppSource(repo_url=s[0], path=s[1], target_revision=s[2], chart=s[3], ref=s[4], spec=s[5], origin=s[6])
            for s in data["sources"]
        ),
        destination=Destination(*data["destination"]),
        sync_policy=SyncPolicy(automated, prune, self_heal, allow_empty, tuple(options)),
        ignore_differences=tuple(data["ignore"]),
        finalizers=tuple(data["finalizers"]),
        defined_in=_location_in(data["definedIn"]),
        manifest=data["manifest"],
        parent=data["parent"],
        generator=data["generator"],
        control_plane=data["controlPlane"],
        multi_source=data["multiSource"],
    )


def encode(snapshot: Snapshot) -> bytes:
    """Raises Uncacheable when something failed or does not survive JSON."""
    discovery = snapshot.discovery
    if discovery.errors:
        raise Uncacheable("discovery reported errors")
    return pack(
        {
            "schema": SCHEMA,
            "apps": [_app_out(a) for a in discovery.apps],
            "unrendered": [[u.what, u.reason, _location(u.location)] for u in discovery.unrendered],
            "warnings": list(discovery.warnings),
            "renders": {app_id: result_data(result) for app_id, result in discovery.renders.items()},
            "crds": [_plain(crd, "a CRD") for crd in snapshot.crds],
            "escaping": list(snapshot.escaping_symlinks),
            "appsets": snapshot.appsets,
            "revision": snapshot.revision,
            "inputs": {
                app_id: [sorted(i.directories), sorted(i.files), i.certain] for app_id, i in snapshot.inputs.items()
            },
        }
    )


def decode(blob: bytes) -> Snapshot:
    data = unpack(blob, SCHEMA)
    discovery = Discovery(
        apps=tuple(_app_in(a) for a in data["apps"]),
        unrendered=tuple(Unrendered(w, r, _location_in(loc)) for w, r, loc in data["unrendered"]),
        warnings=tuple(data["warnings"]),
        renders={app_id: result_from_data(r) for app_id, r in data["renders"].items()},
    )
    return Snapshot(
        discovery=discovery,
        crds=tuple(data["crds"]),
        escaping_symlinks=tuple(data["escaping"]),
        inputs={i: Inputs(frozenset(d), frozenset(f), bool(c)) for i, (d, f, c) in data["inputs"].items()},
        appsets=bool(data["appsets"]),
        revision=str(data["revision"]),
    )
