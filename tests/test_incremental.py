"""The head revision's discovery is the base's when the change cannot alter it
(reviewer/discovery/incremental.py), and a review then says exactly what a full discovery says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apps import application
from gitrepos import git, make_repo

from reviewer import review as review_module
from reviewer import revision
from reviewer.change import resolve_change
from reviewer.records import Report
from reviewer.rendering.cache import RenderCache
from reviewer.review import review

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n"


def configmap(name: str, value: str = "a") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: {value}\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An app of apps (`root` renders `apps/`) over a kustomize app and a directory app."""
    return make_repo(
        tmp_path / "repo",
        {
            "root.yaml": application("root", "apps", namespace="argocd"),
            "apps/web.yaml": application("web", "web"),
            "apps/plain.yaml": application("plain", "plain"),
            "web/kustomization.yaml": KUSTOMIZATION,
            "web/cm.yaml": configmap("web"),
            "plain/cm.yaml": configmap("plain"),
        },
    )


def _discoveries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = revision.discover

    def counting(ctx: Any, scan: Any, **kw: Any) -> Any:
        seen.append(ctx.revision)
        return real(ctx, scan, **kw)

    monkeypatch.setattr(revision, "discover", counting)
    return seen


def _review(repo: Path, **kw: Any) -> Report:
    return review(resolve_change(repo, "HEAD~1", "HEAD"), jobs=2, **kw)


def _full(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Report:
    with monkeypatch.context() as m:
        m.setattr(review_module, "_same_discovery", lambda base, change, content: False)
        return _review(repo)


def _same(a: Report, b: Report) -> bool:
    return (a.apps, a.changes, a.findings, a.verdict, a.unrendered) == (
        b.apps,
        b.changes,
        b.findings,
        b.verdict,
        b.unrendered,
    )


def test_a_change_to_a_resource_reuses_the_base_discovery(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "web/cm.yaml").write_text(configmap("web", "b"))
    git(repo, "commit", "-qam", "value")
    seen = _discoveries(monkeypatch)
    report = _review(repo)
    assert len(seen) == 1, "only the base was discovered"
    assert [a.name for a in report.apps] == ["web"] and len(report.changes) == 1
    assert _same(report, _full(repo, monkeypatch))


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("apps/new.yaml", application("new", "plain")),  # a new Application (and a file the parent reads)
        ("plain/cm.yaml", configmap("plain") + "---\n" + application("inner", "web")),  # an Application elsewhere
        ("web/kustomization.yaml", KUSTOMIZATION + "  - extra.yaml\n"),  # a kustomization
        (
            "crds/crd.yaml",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x\n",
        ),
    ],
)
def test_a_change_discovery_reads_discovers_the_head(
    repo: Path, monkeypatch: pytest.MonkeyPatch, path: str, text: str
) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    if path.startswith("web/"):
        (repo / "web/extra.yaml").write_text(configmap("extra"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")
    seen = _discoveries(monkeypatch)
    report = _review(repo)
    assert len(seen) == 2, "the head was discovered afresh"
    assert _same(report, _full(repo, monkeypatch))


def test_a_new_app_is_found_through_a_warm_cache(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (repo / "README.md").write_text("a first change\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "readme")
    _review(repo, cache=RenderCache(cache))  # warms the cache with both revisions
    (repo / "apps/new.yaml").write_text(application("new", "plain", namespace="other"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "new app")
    report = _review(repo, cache=RenderCache(cache))
    assert {(a.name, a.state) for a in report.apps} >= {("new", "added")}


def test_an_app_naming_a_missing_file_is_always_rendered(repo: Path) -> None:
    (repo / "web/kustomization.yaml").write_text(KUSTOMIZATION + "  - later.yaml\n")
    git(repo, "commit", "-qam", "names a file that is not there")
    (repo / "README.md").write_text("unrelated\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "unrelated")
    report = _review(repo)
    assert [a.name for a in report.apps] == ["web"]
    assert "cannot all be resolved" in report.apps[0].reason


def test_one_grep_sees_discovery_documents_at_either_revision(repo: Path) -> None:
    from reviewer.discovery.incremental import _mentions_discovery

    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "plain/cm.yaml").write_text(configmap("plain") + "---\n" + application("inner", "web"))
    (repo / "web/cm.yaml").write_text(configmap("web", "b"))
    git(repo, "commit", "-qam", "an Application in plain/")
    middle = git(repo, "rev-parse", "HEAD").strip()
    (repo / "plain/cm.yaml").write_text(configmap("plain"))
    git(repo, "commit", "-qam", "and out again")
    head = git(repo, "rev-parse", "HEAD").strip()
    paths = ["plain/cm.yaml", "web/cm.yaml"]
    assert _mentions_discovery(repo, [base, head], "", paths) == []
    assert _mentions_discovery(repo, [middle, head], "", paths) == ["plain/cm.yaml"]
    assert _mentions_discovery(repo, [base, middle], "", paths) == ["plain/cm.yaml"]
    assert _mentions_discovery(repo, [middle, middle], "", ["web/cm.yaml"]) == []
