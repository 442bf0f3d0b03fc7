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

SCHEMA = 4  # 4: the renders of parents in the render cache's entry format 3 (tables of columns)


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


def snapshot_made(tree_id: str) -> str:
    """The cache key under which the key of the last snapshot made of a git tree is remembered: read
    before the snapshot key is worked out (which hashes the tools), it says whether a discovery of
    the tree may be cached at all. Only a hint: the snapshot itself is still looked up by its key."""
    return hashlib.sha256(f"snapshot-made\0{SCHEMA}\0{tree_id}".encode()).hexdigest()


def _plain(value: Any, what: str) -> Any:
    if not is_plain(value):
        raise Uncacheable(f"{what} has values JSON cannot carry unchanged")
    return value


def _location(location: Location | None) -> list[Any] | None:
    return [location.file, location.line] if location else None


def _text(value: Any) -> str:
    if type(value) is not str:
        raise ValueError("not a string")
    return value


def _maybe_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise ValueError("not a boolean")
    return value


def _mapping(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise ValueError("not a mapping")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if type(value) is not list or not all(type(item) is str for item in value):
        raise ValueError("not a list of strings")
    return tuple(value)


def _location_in(data: Any) -> Location | None:
    if data is None:
        return None
    if type(data) is not list or len(data) != 2 or (data[1] is not None and type(data[1]) is not int):
        raise ValueError("not a location")
    return Location(_text(data[0]), data[1])


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


def _source_in(data: Any) -> AppSource:
    if type(data) is not list or len(data) != 7:
        raise ValueError("not an app source")
    repo_url, path, revision, chart, ref, spec, origin = data
    return AppSource(
        repo_url=_text(repo_url),
        path=_maybe_text(path),
        target_revision=_text(revision),
        chart=_maybe_text(chart),
        ref=_maybe_text(ref),
        spec=_mapping(spec),
        origin=_text(origin),
    )


def _app_in(data: Any) -> App:
    """One app of a snapshot, every field checked: the cache may have been restored from elsewhere, so a
    wrong type makes the snapshot damaged (a miss), never a wrong app."""
    data = _mapping(data)
    automated, prune, self_heal, allow_empty, options = data["sync"]
    server, name, namespace = data["destination"]
    ignore = data["ignore"]
    if type(ignore) is not list or type(data["sources"]) is not list:
        raise ValueError("not an app")
    return App(
        name=_text(data["name"]),
        namespace=_text(data["namespace"]),
        project=_text(data["project"]),
        sources=tuple([_source_in(s) for s in data["sources"]]),
        destination=Destination(_text(server), _text(name), _text(namespace)),
        sync_policy=SyncPolicy(_flag(automated), _flag(prune), _flag(self_heal), _flag(allow_empty), _texts(options)),
        ignore_differences=tuple([_mapping(rule) for rule in ignore]),
        finalizers=_texts(data["finalizers"]),
        defined_in=_location_in(data["definedIn"]),
        manifest=_mapping(data["manifest"]),
        parent=_maybe_text(data["parent"]),
        generator=_maybe_text(data["generator"]),
        control_plane=_text(data["controlPlane"]),
        multi_source=_flag(data["multiSource"]),
    )


def _inputs_in(data: Any) -> Inputs:
    directories, files, certain = data
    return Inputs(frozenset(_texts(directories)), frozenset(_texts(files)), _flag(certain))


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
    """The snapshot an entry holds; ValueError (or KeyError, TypeError) when it is damaged."""
    data = unpack(blob, SCHEMA)
    renders, inputs, unrendered = data["renders"], data["inputs"], data["unrendered"]
    if type(renders) is not dict or type(inputs) is not dict or type(unrendered) is not list:
        raise ValueError("not a snapshot")
    if type(data["apps"]) is not list or type(data["crds"]) is not list:
        raise ValueError("not a snapshot")
    discovery = Discovery(
        apps=tuple([_app_in(a) for a in data["apps"]]),
        unrendered=tuple(Unrendered(_text(w), _text(r), _location_in(loc)) for w, r, loc in unrendered),
        warnings=_texts(data["warnings"]),
        renders={app_id: result_from_data(_mapping(r)) for app_id, r in renders.items()},
    )
    return Snapshot(
        discovery=discovery,
        crds=tuple([_mapping(crd) for crd in data["crds"]]),
        escaping_symlinks=_texts(data["escaping"]),
        inputs={app_id: _inputs_in(i) for app_id, i in inputs.items()},
        appsets=_flag(data["appsets"]),
        revision=_text(data["revision"]),
    )
