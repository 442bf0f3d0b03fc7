"""Opening a revision (reviewer/revision.py): what it reads from git on other threads (the config, the
remotes, the listing of a commit whose discovery is cached) answers, and fails, as when read in turn."""

from __future__ import annotations

from pathlib import Path

import pytest
from apps import application
from gitrepos import git, make_repo

from reviewer import revision
from reviewer.errors import ConfigError, GitError
from reviewer.rendering.cache import RenderCache
from reviewer.trees import TreeContent

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n"
CONFIG = "repos:\n  - https://mirror.example.invalid/config.git\nrender:\n  kubeVersion: 1.30.0\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {
            ".gitops-reviewer.yaml": CONFIG,
            "apps/web.yaml": application("web", "web"),
            "web/kustomization.yaml": KUSTOMIZATION,
            "web/cm.yaml": CONFIGMAP,
        },
    )


@pytest.mark.parametrize("cached", [False, True])
def test_the_config_remotes_and_digests_read_ahead_are_the_revisions_own(
    repo: Path, tmp_path: Path, cached: bool
) -> None:
    git(repo, "remote", "add", "mirror", "git@example.invalid:acme/config.git")
    sha = revision.resolve_revision(repo, "HEAD")
    cache = RenderCache(tmp_path / "cache") if cached else None
    for _ in range(2 if cached else 1):  # cached: the second time from the snapshot, with no checkout
        with revision.open_revision(repo, sha, cache=cache) as view:
            assert view.config.kube_version == "1.30.0"
            assert view.config.repos == ("https://mirror.example.invalid/config.git",)
            assert view.remote_urls == revision.remotes(repo)
            assert view.ctx.repo_url == "https://mirror.example.invalid/config.git"
            assert [a.name for a in view.discovery.apps] == ["web"]
            if cached:
                assert view.content is not None
                assert view.content.under("") == TreeContent._listed(repo, sha, "").under("")
    if cache is not None:
        assert not view.checkout.materialised


def test_a_bad_config_read_ahead_fails_the_revision_as_before(repo: Path, tmp_path: Path) -> None:
    (repo / ".gitops-reviewer.yaml").write_text("render:\n  kubeVersion: [1\n")
    git(repo, "commit", "-qam", "broken config")
    for cache in (None, RenderCache(tmp_path / "cache")):
        with (
            pytest.raises(ConfigError, match=r"cannot read \.gitops-reviewer\.yaml"),
            revision.open_revision(repo, "HEAD", cache=cache),
        ):
            pass
    # An unknown revision is reported as such, not as a config error.
    with pytest.raises(GitError, match="unknown revision"), revision.open_revision(repo, "no-such-branch"):
        pass


def test_a_revision_opened_with_anothers_discovery_takes_its_remotes(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Path] = []
    real = revision.remotes

    def counting(path: Path) -> tuple[str, ...]:
        asked.append(path)
        return real(path)

    monkeypatch.setattr(revision, "remotes", counting)
    with revision.open_revision(repo, "HEAD") as base:
        with revision.open_revision(repo, "HEAD", config=base.config, reuse=base) as head:
            assert head.remote_urls == base.remote_urls == real(repo)
            assert head.ctx.identity == base.ctx.identity and head.ctx.repo_url == base.ctx.repo_url
        assert asked == [repo], "asked once, for the base"
        elsewhere = make_repo(repo.parent / "other", {"x.yaml": "a: 1\n"}, remote="https://example.invalid/o.git")
        with revision.open_revision(elsewhere, "HEAD", config=base.config, reuse=base) as other:
            assert other.remote_urls == ("https://example.invalid/o.git",), "another repository: its own"


def test_a_cached_discovery_is_decoded_with_the_collector_paused(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decoded discovery makes tens of thousands of objects that live as long as the review: no
    collection walks them while they are made (reviewer.collector), and the collector runs again after."""
    import gc

    sha = revision.resolve_revision(repo, "HEAD")
    cache = RenderCache(tmp_path / "cache")
    with revision.open_revision(repo, sha, cache=cache):
        pass  # discovered from the tree, and the snapshot stored
    seen: list[bool] = []
    decode = revision.decode_snapshot

    def recording(blob: bytes) -> object:
        seen.append(gc.isenabled())
        return decode(blob)

    monkeypatch.setattr(revision, "decode_snapshot", recording)
    with revision.open_revision(repo, sha, cache=cache) as view:
        assert [a.name for a in view.discovery.apps] == ["web"]
    assert seen == [False] and gc.isenabled()
