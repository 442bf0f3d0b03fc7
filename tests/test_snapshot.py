"""A revision's discovery snapshot (reviewer/discovery/snapshot.py) written the short way, once per thing
discovery read once: decoded, it is the discovery made from the tree, down to which manifests are
the very objects a parent's render holds; written wrong, it is a miss."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from apps import REPO, application
from gitrepos import make_repo

from reviewer import revision
from reviewer.discovery import snapshot
from reviewer.rendering.cache import RenderCache, pack

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> snapshot.Snapshot:
    """The snapshot of a fresh discovery: an app of apps (`root` renders `apps/`) whose children have a
    source as written, a source whose empty tool block Argo CD drops (not the manifest's own), and two
    sources; and an app defined in a file of its own."""
    repo = make_repo(
        tmp_path_factory.mktemp("snapshot") / "repo",
        {
            "root.yaml": application("root", "apps", namespace="argocd"),
            "alone.yaml": application("alone", "web", namespace="argocd"),
            "apps/web.yaml": application("web", "web"),
            "apps/plain.yaml": application("plain", "plain", directory={"recurse": False}),
            "apps/multi.yaml": application(
                "multi",
                sources=[
                    {"repoURL": REPO, "path": "web", "targetRevision": "HEAD"},
                    {"repoURL": REPO, "targetRevision": "HEAD", "ref": "values"},
                ],
            ),
            "web/kustomization.yaml": KUSTOMIZATION,
            "web/cm.yaml": CONFIGMAP,
            "plain/cm.yaml": CONFIGMAP,
        },
    )
    with revision.open_revision(repo, "HEAD") as view:
        assert not view.discovery.errors
        return snapshot.Snapshot(
            view.discovery, view.crds, view.ctx.escaping_symlinks, view.inputs.inputs, view.has_appsets
        )


def test_a_snapshot_decodes_to_the_discovery_it_was_made_of(made: snapshot.Snapshot) -> None:
    decoded = snapshot.decode(snapshot.encode(made))
    assert decoded == made
    apps = {app.name: app for app in made.discovery.apps}
    assert set(apps) == {"root", "alone", "web", "plain", "multi"}
    assert apps["multi"].multi_source and not apps["web"].multi_source
    [root_render] = made.discovery.renders.values()
    for fresh in (made, decoded):
        by_name = {app.name: app for app in fresh.discovery.apps}
        bodies = [r.body for r in fresh.discovery.renders[by_name["root"].id].resources]
        for name in ("web", "plain", "multi"):
            # As discovery holds it: a child's manifest is the body its parent rendered.
            assert any(by_name[name].manifest is body for body in bodies), name
    assert len(root_render.resources) == 3


def test_what_discovery_read_once_is_written_once(made: snapshot.Snapshot) -> None:
    data = json.loads(zlib.decompress(snapshot.encode(made)))
    rows = {row[0]: row for row in data["apps"]}
    root_id = next(app.id for app in made.discovery.apps if app.name == "root")
    for name in ("web", "plain", "multi"):
        parent, row = rows[name][9]
        assert parent == root_id and data["renders"][root_id]["resources"]["body"][row]["metadata"]["name"] == name
    for name in ("root", "alone"):
        assert rows[name][9]["metadata"]["name"] == name, "not rendered by a parent: written out"
    assert [source[5] for source in rows["web"][3]] == [None], "the manifest's own source"
    assert [source[5] for source in rows["multi"][3]] == [None, None]
    assert rows["plain"][3][0][5] == {"repoURL": REPO, "path": "plain", "targetRevision": "HEAD"}, (
        "its empty tool block dropped: not the manifest's own, so written out"
    )
    paths = data["paths"]
    assert len(paths) == len(set(paths)) and "web" in paths
    web_ids = [app.id for app in made.discovery.apps if app.name in ("web", "alone")]
    assert data["inputs"][web_ids[0]][:2] == data["inputs"][web_ids[1]][:2], "the same paths, the same places"


def _row_of(name: str, change: Any) -> Any:
    def damage(data: dict[str, Any]) -> dict[str, Any]:
        [row] = [row for row in data["apps"] if row[0] == name]
        change(row, data)
        return data

    return damage


def _set_at(index: int, value: Any) -> Any:
    def change(row: list[Any], data: dict[str, Any]) -> None:
        row[index] = value

    return change


def _spec_of(index: int, value: Any) -> Any:
    def change(row: list[Any], data: dict[str, Any]) -> None:
        row[3][index][5] = value

    return change


def _no_declared_sources(row: list[Any], data: dict[str, Any]) -> None:
    parent, at = row[9]
    del data["renders"][parent]["resources"]["body"][at]["spec"]["sources"]


DAMAGE = {
    "a manifest in an unknown render": _row_of("web", _set_at(9, ["argocd/nobody", 0])),
    "a manifest past the render's rows": _row_of("web", _set_at(9, ["argocd/root", 3])),
    "a manifest at a negative row": _row_of("web", _set_at(9, ["argocd/root", -1])),
    "a manifest at a row that is a string": _row_of("web", _set_at(9, ["argocd/root", "0"])),
    "a manifest at a row that is a float": _row_of("web", _set_at(9, ["argocd/root", 0.0])),
    "a manifest reference of three": _row_of("web", _set_at(9, ["argocd/root", 0, 0])),
    "the manifest's own spec, of an app written out without one": _row_of("alone", _set_at(9, {"kind": "x"})),
    "the manifest's own second source, of a single source": _row_of("web", lambda row, data: row[3].append(row[3][0])),
    "the manifest's own sources, of a manifest without them": _row_of("multi", _no_declared_sources),
    "a spec that is a string": _row_of("plain", _spec_of(0, "spec")),
    "a multi-source flag that is a number": _row_of("multi", _set_at(13, 1)),
    "an app of thirteen fields": _row_of("web", lambda row, data: row.pop()),
}


def _inputs_of(name: str, change: Any) -> Any:
    def damage(data: dict[str, Any]) -> dict[str, Any]:
        [app_id] = [app_id for app_id in data["inputs"] if app_id.endswith(f"/{name}")]
        change(data["inputs"][app_id], data)
        return data

    return damage


def _directory_place(value: Any) -> Any:
    def change(inputs: list[Any], data: dict[str, Any]) -> None:
        inputs[0] = [value]

    return change


DAMAGE.update(
    {
        "an input past the paths": _inputs_of("web", lambda inputs, data: inputs[0].append(len(data["paths"]))),
        "an input at a negative place": _inputs_of("web", _directory_place(-1)),
        "an input at a place that is a string": _inputs_of("web", _directory_place("0")),
        "an input at a place that is a flag": _inputs_of("web", _directory_place(True)),
        "inputs of two": _inputs_of("web", lambda inputs, data: inputs.pop()),
        "a path that is a number": lambda data: {**data, "paths": [*data["paths"][:-1], 7]},
        "no paths": lambda data: {k: v for k, v in data.items() if k != "paths"},
    }
)


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_snapshot_that_refers_to_what_is_not_there_is_a_miss(
    made: snapshot.Snapshot, tmp_path: Path, damage: str
) -> None:
    store = RenderCache(tmp_path)
    key = "d" * 64
    assert store.write(key, lambda: snapshot.encode(made))
    assert store.read(key, snapshot.decode) == made
    data = json.loads(zlib.decompress(snapshot.encode(made)))
    store._path(key).write_bytes(pack(DAMAGE[damage](data)))
    assert store.read(key, snapshot.decode) is None
    assert not store._path(key).exists()
