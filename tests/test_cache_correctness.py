"""A review answered from the caches (renders, revision snapshots, incremental selection) equals a fresh
review of every app: whatever a render reads, a change to it is seen."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from apps import application
from click.testing import CliRunner
from gitrepos import git, make_repo

from reviewer.cli import cli
from reviewer.rendering import cache

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  level: {level}\n"


def _check(repo: Path, base: str, head: str, *args: str) -> dict[str, Any]:
    argv = ["check", "--repo", str(repo), "--base", base, "--head", head, "--format", "json", "--jobs", "1", *args]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code in (0, 1), result.output + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _changes(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            c["app"],
            c["type"],
            c["resource"]["kind"],
            c["resource"]["name"],
            json.dumps(c.get("paths"), sort_keys=True),
        )
        for c in report["changes"]
    )


def _commit(repo: Path, files: dict[str, str | None], message: str = "change") -> str:
    for rel, text in files.items():
        if text is None:
            git(repo, "rm", "-q", rel)
        else:
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(text)
            git(repo, "add", rel)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


COMPONENT = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - db.yaml\n"


def test_a_component_named_by_the_app_is_one_of_its_inputs(tmp_path: Path) -> None:
    """`spec.source.kustomize.components` adds a component the kustomization file does not name
    (Argo CD runs `kustomize edit add component`): a change in it changes the render."""
    repo = make_repo(
        tmp_path / "repo",
        {
            "apps/web.yaml": application("web", "web", kustomize={"components": ["../components/db"]}),
            "web/kustomization.yaml": "resources:\n  - cm.yaml\n",
            "web/cm.yaml": CONFIGMAP.format(name="web", level="info"),
            "components/db/kustomization.yaml": COMPONENT,
            "components/db/db.yaml": CONFIGMAP.format(name="db", level="info"),
        },
    )
    base = git(repo, "rev-parse", "HEAD").strip()
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert _check(repo, base, base, *cache, "--all-apps")["changes"] == []  # caches base's renders
    head = _commit(repo, {"components/db/db.yaml": CONFIGMAP.format(name="db", level="debug")})
    full = _changes(_check(repo, base, head, "--all-apps", "--no-cache"))
    assert [c[:4] for c in full] == [("argocd/web", "modified", "ConfigMap", "db")]
    assert _changes(_check(repo, base, head, "--no-cache")) == full  # selection
    assert _changes(_check(repo, base, head, *cache, "--all-apps")) == full  # render cache
    assert _changes(_check(repo, base, head, *cache)) == full


def test_a_missing_component_the_app_ignores_is_an_input_too(tmp_path: Path) -> None:
    """With `ignoreMissingComponents` the render goes on without the component; once it appears, the
    render has its resources."""
    options = {"components": ["../components/db"], "ignoreMissingComponents": True}
    repo = make_repo(
        tmp_path / "repo",
        {
            "apps/web.yaml": application("web", "web", kustomize=options),
            "web/kustomization.yaml": "resources:\n  - cm.yaml\n",
            "web/cm.yaml": CONFIGMAP.format(name="web", level="info"),
        },
    )
    base = git(repo, "rev-parse", "HEAD").strip()
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert _check(repo, base, base, *cache, "--all-apps")["changes"] == []
    head = _commit(
        repo,
        {
            "components/db/kustomization.yaml": COMPONENT,
            "components/db/db.yaml": CONFIGMAP.format(name="db", level="info"),
        },
    )
    full = _changes(_check(repo, base, head, "--all-apps", "--no-cache"))
    assert [c[:4] for c in full] == [("argocd/web", "added", "ConfigMap", "db")]
    assert _changes(_check(repo, base, head, "--no-cache")) == full
    assert _changes(_check(repo, base, head, *cache, "--all-apps")) == full


def test_a_snapshot_of_a_tree_is_not_reused_at_another_commit_when_a_parent_renders_the_revision(
    tmp_path: Path,
) -> None:
    """A parent's render that holds `$ARGOCD_APP_REVISION` differs between two commits of one git tree
    (an amended message, a rebase that changes nothing): the snapshot of that tree cannot answer."""
    revision_annotation = {"example.com/revision": "${ARGOCD_APP_REVISION}"}
    repo = make_repo(
        tmp_path / "repo",
        {
            "root.yaml": application(
                "root",
                "apps",
                namespace="argocd",
                kustomize={"commonAnnotations": revision_annotation, "commonAnnotationsEnvsubst": True},
            ),
            "apps/kustomization.yaml": "resources:\n  - web.yaml\n",
            "apps/web.yaml": application("web", "web"),
            "web/kustomization.yaml": "resources:\n  - cm.yaml\n",
            "web/cm.yaml": CONFIGMAP.format(name="web", level="info"),
        },
    )
    base = git(repo, "rev-parse", "HEAD").strip()
    cache = ["--cache-dir", str(tmp_path / "cache")]
    first = _commit(repo, {"apps/web.yaml": application("web", "web", namespace="demo2")})
    assert first in json.dumps(_check(repo, base, first, *cache)["changes"])
    git(repo, "commit", "-q", "--amend", "-m", "the same tree, reworded")
    second = git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "rev-parse", f"{first}^{{tree}}") == git(repo, "rev-parse", f"{second}^{{tree}}")
    fresh = _changes(_check(repo, base, second, "--no-cache"))
    assert second in json.dumps(fresh)
    assert _changes(_check(repo, base, second, *cache)) == fresh


CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"
CHART_TEMPLATE = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  level: {{ .Values.level | quote }}\n"
)


def test_a_value_file_named_from_the_repository_root_is_an_input(tmp_path: Path) -> None:
    """A value file starting with `/` is relative to the repository root, not to the chart
    (Argo CD pathutil.ResolveValueFilePathOrUrl)."""
    repo = make_repo(
        tmp_path / "repo",
        {
            "apps/web.yaml": application("web", "chart", helm={"valueFiles": ["/envs/prod.yaml"]}),
            "chart/Chart.yaml": CHART,
            "chart/values.yaml": "level: default\n",
            "chart/templates/cm.yaml": CHART_TEMPLATE,
            "envs/prod.yaml": "level: info\n",
        },
    )
    base = git(repo, "rev-parse", "HEAD").strip()
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert _check(repo, base, base, *cache, "--all-apps")["changes"] == []
    head = _commit(repo, {"envs/prod.yaml": "level: debug\n"})
    full = _changes(_check(repo, base, head, "--all-apps", "--no-cache"))
    assert [c[:4] for c in full] == [("argocd/web", "modified", "ConfigMap", "web")]
    assert '"after": "debug"' in full[0][4]
    assert _changes(_check(repo, base, head, "--no-cache")) == full
    assert _changes(_check(repo, base, head, *cache, "--all-apps")) == full


def test_the_code_fingerprint_covers_discovery_and_selection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots hold discovery's apps and selection's inputs: a change to that code (same version, an
    editable install) must not be answered by snapshots the old code made."""
    package = tmp_path / "reviewer"
    shutil.copytree(Path(cache.__file__).parent.parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache.resources, "files", lambda name: package)
    fingerprint = cache.code_fingerprint.__wrapped__
    seen = {fingerprint()}
    for module in ("selection.py", "discovery/graph.py", "discovery/appsets/git_generator.py", "rendering/helm.py"):
        with (package / module).open("a") as edited:
            edited.write("\n# edited\n")
        seen.add(fingerprint())
    assert len(seen) == 5
    (package / "report" / "text.py").write_text("# not part of a render or a snapshot\n")
    assert fingerprint() in seen


REPO = "https://github.com/acme/config.git"
HELM_APP = {
    "chart/Chart.yaml": CHART,
    "chart/values.yaml": "level: default\n",
    "chart/templates/cm.yaml": CHART_TEMPLATE,
}
CASES: dict[str, tuple[dict[str, str], dict[str, str | None]]] = {
    "a value file of a ref source": (
        {
            **HELM_APP,
            "apps/web.yaml": application(
                "web",
                sources=[
                    {"repoURL": REPO, "path": "chart", "helm": {"valueFiles": ["$values/envs/prod.yaml"]}},
                    {"repoURL": REPO, "targetRevision": "HEAD", "ref": "values"},
                ],
            ),
            "envs/prod.yaml": "level: info\n",
        },
        {"envs/prod.yaml": "level: debug\n"},
    ),
    "a parameter override file": (
        {**HELM_APP, "apps/web.yaml": application("web", "chart")},
        {"chart/.argocd-source-web.yaml": "helm:\n  parameters:\n    - name: level\n      value: debug\n"},
    ),
    "a subchart": (
        {
            **HELM_APP,
            "apps/web.yaml": application("web", "chart"),
            "chart/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            "chart/charts/sub/templates/cm.yaml": CONFIGMAP.format(name="sub", level="info"),
        },
        {"chart/charts/sub/templates/cm.yaml": CONFIGMAP.format(name="sub", level="debug")},
    ),
    "a generator's file in a base": (
        {
            "apps/web.yaml": application("web", "overlay"),
            "overlay/kustomization.yaml": "resources:\n  - ../base\n",
            "base/kustomization.yaml": "configMapGenerator:\n  - name: gen\n    files:\n      - conf.txt\n"
            "generatorOptions:\n  disableNameSuffixHash: true\n",
            "base/conf.txt": "level=info\n",
        },
        {"base/conf.txt": "level=debug\n"},
    ),
    "a component of the kustomization": (
        {
            "apps/web.yaml": application("web", "web"),
            "web/kustomization.yaml": "resources:\n  - cm.yaml\ncomponents:\n  - ../components/db\n",
            "web/cm.yaml": CONFIGMAP.format(name="web", level="info"),
            "components/db/kustomization.yaml": COMPONENT,
            "components/db/db.yaml": CONFIGMAP.format(name="db", level="info"),
        },
        {"components/db/db.yaml": CONFIGMAP.format(name="db", level="debug")},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_change_to_an_input_is_seen_through_every_cache(tmp_path: Path, case: str) -> None:
    files, change = CASES[case]
    repo = make_repo(tmp_path / "repo", files)
    base = git(repo, "rev-parse", "HEAD").strip()
    cache_dir = ["--cache-dir", str(tmp_path / "cache")]
    assert _check(repo, base, base, *cache_dir, "--all-apps")["changes"] == []
    head = _commit(repo, change)
    full = _changes(_check(repo, base, head, "--all-apps", "--no-cache"))
    assert full and all(c[0] == "argocd/web" for c in full)
    assert _changes(_check(repo, base, head, "--no-cache")) == full
    assert _changes(_check(repo, base, head, *cache_dir, "--all-apps")) == full
    assert _changes(_check(repo, base, head, *cache_dir)) == full
