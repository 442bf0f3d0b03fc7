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
from ..records import App, AppSource, Destination, Discovery, Location, RenderResult, SyncPolicy, Unrendered
from ..rendering.cache import Uncacheable, is_plain, pack, result_data, results_from_data, tool_fingerprint, unpack
from ..selection import Inputs

# 4: the renders of parents in the render cache's entry format 3 (tables of columns)
# 5: an app is a list of fields, not a mapping; a manifest its parent rendered, and a source spec that is
#    the manifest's own, are written once (see `_app_out`); so is each input path (`_inputs_out`)
SCHEMA = 5


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


def _app_out(app: App, rendered: Mapping[int, list[Any]]) -> list[Any]:
    """An app as a list of its fields. What discovery read from one document is written once, as it is
    held once (a warm review decodes every app): the manifest of an app a parent rendered is that
    render's resource body (`rendered`: body id -> [parent id, row]), and a source's spec that is the
    manifest's own source (field for field the same values) is null."""
    policy = app.sync_policy
    manifest = rendered.get(id(app.manifest))
    return [
        app.name,
        app.namespace,
        app.project,
        [
            [s.repo_url, s.path, s.target_revision, s.chart, s.ref, _spec_out(app, i), s.origin]
            for i, s in enumerate(app.sources)
        ],
        [app.destination.server, app.destination.name, app.destination.namespace],
        [policy.automated, policy.prune, policy.self_heal, policy.allow_empty, list(policy.sync_options)],
        [_plain(rule, app.id) for rule in app.ignore_differences],
        list(app.finalizers),
        _location(app.defined_in),
        _plain(app.manifest, app.id) if manifest is None else manifest,
        app.parent,
        app.generator,
        app.control_plane,
        app.multi_source,
    ]


def _declared_source(manifest: Any, index: int, multi: bool) -> Any:
    """The source an app's `index`th source was parsed from (discovery.applications.parse_sources), or
    None when the manifest holds none there."""
    spec = manifest.get("spec") if isinstance(manifest, Mapping) else None
    if not isinstance(spec, Mapping):
        return None
    if not multi:
        return spec.get("source") if index == 0 else None
    sources = spec.get("sources")
    return sources[index] if type(sources) is list and index < len(sources) else None


def _spec_out(app: App, index: int) -> Any:
    spec = app.sources[index].spec
    declared = _declared_source(app.manifest, index, app.multi_source)
    if type(declared) is dict and spec.keys() == declared.keys() and all(spec[k] is declared[k] for k in spec):
        return None
    return _plain(spec, app.id)


def _source_in(data: Any, manifest: Mapping[str, Any], index: int, multi: bool) -> AppSource:
    if type(data) is not list or len(data) != 7:
        raise ValueError("not an app source")
    repo_url, path, revision, chart, ref, spec, origin = data
    if spec is None:  # the manifest's own
        spec = _declared_source(manifest, index, multi)
    return AppSource(
        repo_url=_text(repo_url),
        path=_maybe_text(path),
        target_revision=_text(revision),
        chart=_maybe_text(chart),
        ref=_maybe_text(ref),
        spec=_mapping(spec),
        origin=_text(origin),
    )


def _manifest_in(data: Any, renders: Mapping[str, RenderResult]) -> Mapping[str, Any]:
    """A manifest written out, or the body of the resource [parent id, row] of a parent's render."""
    if type(data) is list:
        if len(data) != 2 or type(data[1]) is not int or data[1] < 0:
            raise ValueError("not a manifest")
        body = renders[_text(data[0])].resources[data[1]].body
        if type(body) is not dict:  # as discovery holds it (a mapping of another type would key renders otherwise)
            raise ValueError("not a manifest")
        return body
    return _mapping(data)


def _app_in(data: Any, renders: Mapping[str, RenderResult]) -> App:
    """One app of a snapshot, every field checked: the cache may have been restored from elsewhere, so a
    wrong type makes the snapshot damaged (a miss), never a wrong app."""
    if type(data) is not list or len(data) != 14:
        raise ValueError("not an app")
    name, namespace, project, sources, destination, sync, ignore, finalizers = data[:8]
    defined_in, manifest, parent, generator, control_plane, multi_source = data[8:]
    if type(sources) is not list or type(ignore) is not list or type(destination) is not list or type(sync) is not list:
        raise ValueError("not an app")
    automated, prune, self_heal, allow_empty, options = sync
    server, destination_name, destination_namespace = destination
    manifest = _manifest_in(manifest, renders)
    multi = _flag(multi_source)
    return App(
        _text(name),
        _text(namespace),
        _text(project),
        tuple([_source_in(source, manifest, i, multi) for i, source in enumerate(sources)]),
        Destination(_text(server), _text(destination_name), _text(destination_namespace)),
        SyncPolicy(_flag(automated), _flag(prune), _flag(self_heal), _flag(allow_empty), _texts(options)),
        tuple([_mapping(rule) for rule in ignore]),
        _texts(finalizers),
        _location_in(defined_in),
        manifest,
        _maybe_text(parent),
        _maybe_text(generator),
        _text(control_plane),
        multi,
    )


def _inputs_out(inputs: Mapping[str, Inputs]) -> tuple[list[str], dict[str, list[Any]]]:
    """Every path the apps read, once (most apps read the same bases), and each app's inputs as
    [directories, files, certain] with a path written as its place in that list."""
    places: dict[str, int] = {}

    def placed(paths: frozenset[str]) -> list[int]:
        return [places.setdefault(path, len(places)) for path in sorted(paths)]

    by_app = {app_id: [placed(i.directories), placed(i.files), i.certain] for app_id, i in inputs.items()}
    return list(places), by_app


def _places(value: Any) -> list[int]:
    if type(value) is not list or not all(type(place) is int and place >= 0 for place in value):
        raise ValueError("not a list of places")
    return value


def _inputs_in(data: Any, paths: tuple[str, ...]) -> Inputs:
    """An app's inputs; IndexError when a place is past the paths."""
    if type(data) is not list:
        raise ValueError("not inputs")
    directories, files, certain = data
    return Inputs(
        frozenset([paths[place] for place in _places(directories)]),
        frozenset([paths[place] for place in _places(files)]),
        _flag(certain),
    )


def encode(snapshot: Snapshot) -> bytes:
    """Raises Uncacheable when something failed or does not survive JSON."""
    discovery = snapshot.discovery
    if discovery.errors:
        raise Uncacheable("discovery reported errors")
    # Where each resource body of a parent's render is: the manifest of the child app parsed from it.
    rendered = {
        id(resource.body): [app_id, row]
        for app_id, result in discovery.renders.items()
        for row, resource in enumerate(result.resources)
    }
    paths, inputs = _inputs_out(snapshot.inputs)
    return pack(
        {
            "schema": SCHEMA,
            "apps": [_app_out(a, rendered) for a in discovery.apps],
            "unrendered": [[u.what, u.reason, _location(u.location)] for u in discovery.unrendered],
            "warnings": list(discovery.warnings),
            "renders": {app_id: result_data(result) for app_id, result in discovery.renders.items()},
            "crds": [_plain(crd, "a CRD") for crd in snapshot.crds],
            "escaping": list(snapshot.escaping_symlinks),
            "appsets": snapshot.appsets,
            "revision": snapshot.revision,
            "paths": paths,
            "inputs": inputs,
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
    paths = _texts(data["paths"])
    decoded = dict(zip(renders, results_from_data([_mapping(r) for r in renders.values()]), strict=True))
    discovery = Discovery(
        apps=tuple([_app_in(a, decoded) for a in data["apps"]]),
        unrendered=tuple(Unrendered(_text(w), _text(r), _location_in(loc)) for w, r, loc in unrendered),
        warnings=_texts(data["warnings"]),
        renders=decoded,
    )
    return Snapshot(
        discovery=discovery,
        crds=tuple([_mapping(crd) for crd in data["crds"]]),
        escaping_symlinks=_texts(data["escaping"]),
        inputs={app_id: _inputs_in(i, paths) for app_id, i in inputs.items()},
        appsets=_flag(data["appsets"]),
        revision=_text(data["revision"]),
    )
