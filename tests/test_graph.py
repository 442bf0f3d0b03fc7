"""App discovery: roots, app-of-apps recursion, unreferenced documents, cycles, config-declared apps."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepos import make_repo

from reviewer.revision import open_revision

REPO = "https://github.com/acme/config.git"


def application(
    name: str,
    path: str,
    *,
    namespace: str = "apps",
    server: str = "https://kubernetes.default.svc",
    extra: str = "",
    meta_ns: str | None = "argocd",
    repo: str = REPO,
) -> str:
    ns_line = f"  namespace: {meta_ns}\n" if meta_ns else ""
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata:\n  name: {name}\n{ns_line}"
        f"spec:\n  project: default\n  source:\n    repoURL: {repo}\n    path: {path}\n"
        f"    targetRevision: HEAD\n{extra}"
        f"  destination:\n    server: {server}\n    namespace: {namespace}\n"
    )


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata: {{k: v}}\n"


def test_app_of_apps_children_are_found_through_the_parent_render(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {
            "root.yaml": application(
                "root", "apps", namespace="argocd", extra="  syncPolicy:\n    automated: {prune: true}\n"
            ),
            "apps/a.yaml": application("a", "workloads/a"),
            "apps/kustomization.yaml": "resources:\n- a.yaml\n# - b.yaml\n",
            "apps/b.yaml": application("b", "workloads/b"),
            "workloads/a/cm.yaml": CM.format(name="a"),
            "workloads/b/cm.yaml": CM.format(name="b"),
        },
    )
    with open_revision(repo, "HEAD") as view:
        apps = {a.name: a for a in view.discovery.apps}
        assert set(apps) == {"root", "a"}, "b is commented out of the parent's kustomization"
        assert apps["a"].parent == "argocd/root"
        assert apps["root"].parent is None
        assert apps["root"].sync_policy.prune is True
        assert apps["a"].defined_in is not None and apps["a"].defined_in.file == "apps/a.yaml"
        unref = [u for u in view.discovery.unrendered if "apps/b.yaml" in u.what]
        assert unref and "unreferenced" in unref[0].reason
        rendered = view.render(apps["a"])
        assert [(r.key.kind, r.key.namespace, r.key.name) for r in rendered.resources] == [("ConfigMap", "apps", "a")]


def test_child_namespace_defaults_to_the_parent_destination(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {
            "root.yaml": application("root", "apps", namespace="argocd"),
            "apps/a.yaml": application("a", "w", meta_ns=None),
            "w/cm.yaml": CM.format(name="x"),
        },
    )
    with open_revision(repo, "HEAD") as view:
        child = view.find("a")
        assert child.namespace == "argocd"
        assert child.id == "argocd/a"


def test_helm_generated_children_and_recursion(tmp_path: Path) -> None:
    chart_app = (
        "{{- range .Values.apps }}\n---\n"
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {{ . }}\n  namespace: argocd\n"
        "spec:\n  project: default\n  source:\n    repoURL: " + REPO + "\n    path: leaves/{{ . }}\n"
        "  destination:\n    server: https://kubernetes.default.svc\n    namespace: {{ . }}\n"
        "{{- end }}\n"
    )
    repo = make_repo(
        tmp_path / "r",
        {
            "root.yaml": application("root", "mid", namespace="argocd"),
            "mid/middle.yaml": application("middle", "chart", namespace="argocd"),
            "chart/Chart.yaml": "apiVersion: v2\nname: apps\nversion: 0.1.0\n",
            "chart/values.yaml": "apps: [one, two]\n",
            "chart/templates/apps.yaml": chart_app,
            "leaves/one/cm.yaml": CM.format(name="one"),
            "leaves/two/cm.yaml": CM.format(name="two"),
        },
    )
    with open_revision(repo, "HEAD") as view:
        apps = {a.name: a for a in view.discovery.apps}
        assert set(apps) == {"root", "middle", "one", "two"}
        assert apps["middle"].parent == "argocd/root"
        assert apps["one"].parent == "argocd/middle"
        assert apps["one"].defined_in is not None and apps["one"].defined_in.file == "chart/templates/apps.yaml"
        two = view.render(apps["two"])
        assert [(r.key.namespace, r.key.name) for r in two.resources] == [("two", "two")]


def test_cycles_are_detected(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {
            "a/app-b.yaml": application("b", "b", namespace="argocd"),
            "b/app-a.yaml": application("a", "a", namespace="argocd"),
            "entry.yaml": application("a", "a", namespace="argocd"),
        },
    )
    with open_revision(repo, "HEAD") as view:
        names = sorted(a.name for a in view.discovery.apps)
        assert names == ["a", "b"]
        assert any("cycle" in w for w in view.discovery.warnings)


def test_external_sources_are_reported_not_rendered(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {"ext.yaml": application("ext", "deploy", repo="https://github.com/someone/else.git")},
    )
    with open_revision(repo, "HEAD") as view:
        app = view.find("ext")
        assert app.sources[0].origin == "external"
        assert any("someone/else" in u.reason for u in view.discovery.unrendered)
        result = view.render(app)
        assert result.errors and "another Git repository" in result.errors[0].message
        assert not result.resources


def test_repo_urls_listed_in_config_count_as_this_repo(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {
            ".gitops-reviewer.yaml": "repos:\n- https://git.example.com/mirror/config\n",
            "app.yaml": application("m", "w", repo="git@git.example.com:mirror/config.git"),
            "w/cm.yaml": CM.format(name="m"),
        },
        remote=None,
    )
    with open_revision(repo, "HEAD") as view:
        result = view.render(view.find("m"))
        assert result.ok and [r.key.name for r in result.resources] == ["m"]


def test_config_declared_apps_and_control_planes(tmp_path: Path) -> None:
    config = (
        "apps:\n"
        "- {name: boot, path: boot, namespace: argocd, controlPlane: staging}\n"
        "- {name: boot-prod, path: boot, namespace: argocd, controlPlane: prod}\n"
    )
    repo = make_repo(
        tmp_path / "r",
        {
            ".gitops-reviewer.yaml": config,
            "boot/child.yaml": application("child", "w", namespace="w"),
            "w/cm.yaml": CM.format(name="c"),
        },
    )
    with open_revision(repo, "HEAD") as view:
        ids = sorted(a.id for a in view.discovery.apps)
        # The same child Application exists in two Argo CD instances; ids keep them apart.
        assert ids == [
            "prod/argocd/boot-prod",
            "prod/argocd/child",
            "staging/argocd/boot",
            "staging/argocd/child",
        ]
        boot = view.find("staging/argocd/boot")
        assert boot.defined_in is not None and boot.defined_in.file.endswith(".gitops-reviewer.yaml")
        assert boot.sources[0].origin == "repo"


def test_a_failed_parent_render_is_an_error_not_an_empty_app_list(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {
            "root.yaml": application("root", "apps", namespace="argocd"),
            "apps/kustomization.yaml": "resources:\n- a.yaml\n- missing.yaml\n",
            "apps/a.yaml": application("a", "w"),
            "apps/b.yaml": application("b", "w"),
        },
    )
    with open_revision(repo, "HEAD") as view:
        result = view.render(view.find("root"))
        assert not result.ok
        assert "kustomize build failed" in result.errors[0].message
        # The child Application already in the cluster keeps syncing: it is still reviewed, with a warning.
        assert view.find("a").parent is None
        assert any("argocd/a: its parent argocd/root failed to render" in w for w in view.discovery.warnings)
        # b is not listed by the parent's kustomization at all: not live, whatever the failure.
        assert [a.name for a in view.discovery.apps] == ["a", "root"]
        assert any(
            "apps/b.yaml" in u.what and "not listed by the kustomization of argocd/root" in u.reason
            for u in view.discovery.unrendered
        )


def test_broken_application_files_are_reported(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {"bad.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x\n"},
    )
    with open_revision(repo, "HEAD") as view:
        assert view.discovery.apps == ()
        assert any("bad.yaml" in w for w in view.discovery.warnings)


def test_self_managing_loop_has_an_entry_point(tmp_path: Path) -> None:
    # a (in b/) renders a/, which holds b's manifest; b renders b/, which holds a's: no document is unclaimed.
    repo = make_repo(
        tmp_path / "r",
        {
            "a/app-b.yaml": application("b", "b", namespace="argocd"),
            "b/app-a.yaml": application("a", "a", namespace="argocd"),
        },
    )
    with open_revision(repo, "HEAD") as view:
        apps = {a.name: a for a in view.discovery.apps}
        assert set(apps) == {"a", "b"}
        assert apps["b"].parent is None, "the manifest first in path order (a/app-b.yaml) is the entry point"
        assert apps["a"].parent == "argocd/b"
        assert any("argocd/b is part of a self-managing app-of-apps loop" in w for w in view.discovery.warnings)


def test_an_app_holding_its_own_manifest_is_a_root(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"apps/foo/app.yaml": application("foo", "apps/foo", namespace="argocd")})
    with open_revision(repo, "HEAD") as view:
        (app,) = view.discovery.apps
        assert app.parent is None
        assert not view.discovery.warnings
        result = view.render(app)
        assert [(r.key.kind, r.key.name) for r in result.resources] == [("Application", "foo")]


def test_ignored_paths_are_not_discovered(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {
            ".gitops-reviewer.yaml": "ignore: ['docs/**']\n",
            "docs/example.yaml": application("example", "w"),
            "live.yaml": application("live", "w"),
            "w/cm.yaml": CM.format(name="w"),
        },
    )
    with open_revision(repo, "HEAD") as view:
        assert [a.name for a in view.discovery.apps] == ["live"]


def test_children_from_subcharts_and_jsonnet_are_found(tmp_path: Path) -> None:
    child = application("from-subchart", "w", namespace="w").replace("'", "")
    repo = make_repo(
        tmp_path / "r",
        {
            "root.yaml": application("root", "chart", namespace="argocd"),
            "chart/Chart.yaml": "apiVersion: v2\nname: parent\nversion: 0.1.0\n",
            "chart/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            "chart/charts/sub/templates/app.yaml": child,
            "jroot.yaml": application("jroot", "jsonnet", namespace="argocd"),
            "jsonnet/apps.jsonnet": (
                "[{apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: {name: 'from-jsonnet'},"
                " spec: {project: 'default', source: {repoURL: '" + REPO + "', path: 'w'},"
                " destination: {server: 'https://kubernetes.default.svc', namespace: 'w'}}}]"
            ),
            "w/cm.yaml": CM.format(name="w"),
        },
    )
    with open_revision(repo, "HEAD") as view:
        apps = {a.name: a for a in view.discovery.apps}
        assert apps["from-subchart"].parent == "argocd/root"
        assert apps["from-jsonnet"].parent == "argocd/jroot"


def test_children_discovery_did_not_expand_fail_the_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.discovery import graph

    monkeypatch.setattr(graph._Graph, "may_hold_apps", lambda self, app: False)
    repo = make_repo(
        tmp_path / "r",
        {"root.yaml": application("root", "apps", namespace="argocd"), "apps/a.yaml": application("a", "w")},
    )
    with open_revision(repo, "HEAD") as view:
        result = view.render(view.find("root"))
    assert not result.ok
    assert "that discovery did not expand" in result.errors[0].message


def test_an_invalid_child_application_fails_its_parent(tmp_path: Path) -> None:
    bad_child = application("bad", "w").replace("  source:\n", "  source:\n    helm:\n      valueFiles: values.yaml\n")
    repo = make_repo(
        tmp_path / "r",
        {"root.yaml": application("root", "apps", namespace="argocd"), "apps/bad.yaml": bad_child},
    )
    with open_revision(repo, "HEAD") as view:
        assert [a.name for a in view.discovery.apps] == ["root"]
        (error,) = view.discovery.errors
        assert error.app == "argocd/root"
        assert "helm.valueFiles must be a list" in error.message


def test_a_pinned_target_revision_is_reported(tmp_path: Path) -> None:
    pinned = application("pinned", "w").replace("targetRevision: HEAD", "targetRevision: v1.4.0")
    repo = make_repo(tmp_path / "r", {"pinned.yaml": pinned, "w/cm.yaml": CM.format(name="w")})
    with open_revision(repo, "HEAD") as view:
        assert any("argocd/pinned source #1 is pinned to v1.4.0" in w for w in view.discovery.warnings)
