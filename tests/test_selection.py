"""Which apps a change can affect, worked out from the files each app reads."""

from __future__ import annotations

import pytest
from apps import REPO, application
from gitrepos import make_repo

from reviewer.revision import open_revision
from reviewer.selection import app_inputs, select_apps

FILES = {
    "argo/overlay.yaml": application("overlay", "apps/overlay"),
    "argo/plain.yaml": application("plain", "apps/plain"),
    "argo/web.yaml": application("web", "charts/web", helm={"valueFiles": ["values.yaml", "../../env/prod/*.yaml"]}),
    "argo/multi.yaml": application(
        "multi",
        sources=[
            {"repoURL": REPO, "ref": "values"},
            {
                "repoURL": "https://charts.example.com",
                "chart": "redis",
                "targetRevision": "1.0.0",
                "helm": {"valueFiles": ["$values/shared/redis.yaml"]},
            },
        ],
    ),
    "apps/overlay/kustomization.yaml": (
        "resources:\n- ../../bases/web\npatches:\n- path: ../../patches/replicas.yaml\n"
        "configMapGenerator:\n- name: cfg\n  files:\n  - conf=../../config/app.conf\n"
    ),
    "bases/web/kustomization.yaml": "resources:\n- deploy.yaml\n",
    "bases/web/deploy.yaml": "kind: Deployment\n",
    "patches/replicas.yaml": "kind: Deployment\n",
    "patches/unused.yaml": "kind: Deployment\n",
    "config/app.conf": "x=1\n",
    "apps/plain/cm.yaml": "kind: ConfigMap\n",
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "charts/web/values.yaml": "{}\n",
    "env/prod/extra.yaml": "{}\n",
    "shared/redis.yaml": "{}\n",
    "shared/other.yaml": "{}\n",
}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path_factory.mktemp("sel") / "repo", FILES)
    with open_revision(repo, "HEAD") as view:
        yield view, {a.name: a for a in view.discovery.apps}


def test_kustomize_inputs_follow_the_graph(apps) -> None:  # type: ignore[no-untyped-def]
    view, by_name = apps
    inputs = app_inputs(by_name["overlay"], view.tree.root)
    assert inputs.certain
    assert {"apps/overlay", "bases/web"} <= inputs.directories
    assert {"patches/replicas.yaml", "config/app.conf"} <= inputs.files
    assert inputs.touched_by(["bases/web/deploy.yaml", "patches/unused.yaml", "config/app.conf"]) == [
        "bases/web/deploy.yaml",
        "config/app.conf",
    ]


def test_helm_value_files_globs_and_refs(apps) -> None:  # type: ignore[no-untyped-def]
    view, by_name = apps
    web = app_inputs(by_name["web"], view.tree.root)
    assert web.touched_by(["env/prod/extra.yaml", "env/staging/x.yaml", "charts/web/values.yaml"]) == [
        "env/prod/extra.yaml",
        "charts/web/values.yaml",
    ]
    multi = app_inputs(by_name["multi"], view.tree.root)
    assert multi.touched_by(["shared/redis.yaml", "shared/other.yaml"]) == ["shared/redis.yaml"]


def test_select_apps_reasons(apps) -> None:  # type: ignore[no-untyped-def]
    view, by_name = apps
    by_id = {a.id: a for a in by_name.values()}
    root = view.tree.root
    selection = select_apps(by_id, by_id, root, root, ["bases/web/deploy.yaml"])
    assert dict(selection.selected) == {"argocd/overlay": "bases/web/deploy.yaml changed"}
    assert set(selection.skipped) == {"argocd/plain", "argocd/web", "argocd/multi"}
    assert select_apps(by_id, by_id, root, root, ["README.md"]).selected == {}
    everything = select_apps(by_id, by_id, root, root, [], all_apps=True)
    assert set(everything.selected) == set(by_id)


def test_added_removed_and_redefined_apps_are_selected(apps) -> None:  # type: ignore[no-untyped-def]
    view, by_name = apps
    base = {a.id: a for a in by_name.values() if a.name != "plain"}
    head = {a.id: a for a in by_name.values() if a.name != "web"}
    root = view.tree.root
    selection = select_apps(base, head, root, root, [])
    assert selection.selected == {"argocd/plain": "added", "argocd/web": "removed"}
