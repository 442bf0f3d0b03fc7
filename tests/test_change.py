from __future__ import annotations

from pathlib import Path

import pytest
from gitrepos import git, make_repo

from reviewer.change import default_branch, resolve_change
from reviewer.errors import GitError
from reviewer.trees import WORKTREE


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = make_repo(tmp_path / "repo", {"apps/a.yaml": "a\n", "apps/b.yaml": "b\n", "other/c.yaml": "c\n"})
    git(path, "checkout", "-q", "-b", "feature")
    (path / "apps/a.yaml").write_text("a2\n")
    git(path, "mv", "apps/b.yaml", "apps/renamed.yaml")
    git(path, "commit", "-qam", "feature work")
    return path


def test_default_is_merge_base_with_main_against_the_working_tree(repo: Path) -> None:
    (repo / "other/c.yaml").write_text("uncommitted\n")
    (repo / "apps/new.yaml").write_text("untracked\n")
    change = resolve_change(repo)
    assert change.base == git(repo, "rev-parse", "main").strip()
    assert change.base_label == "merge-base with main"
    assert change.head == WORKTREE
    # a rename is both a deletion and an addition
    assert change.changed_paths == ("apps/a.yaml", "apps/b.yaml", "apps/new.yaml", "apps/renamed.yaml", "other/c.yaml")


def test_explicit_revisions(repo: Path) -> None:
    change = resolve_change(repo, base="main", head="feature")
    assert change.head == git(repo, "rev-parse", "feature").strip()
    assert change.changed_paths == ("apps/a.yaml", "apps/b.yaml", "apps/renamed.yaml")


def test_subdirectory_repo_sees_only_its_paths(repo: Path) -> None:
    (repo / "other/c.yaml").write_text("uncommitted\n")
    change = resolve_change(repo / "apps", base="main")
    assert change.changed_paths == ("a.yaml", "b.yaml", "renamed.yaml")


def test_origin_head_names_the_default_branch(tmp_path: Path) -> None:
    upstream = make_repo(tmp_path / "up", {"a": "a"}, remote=None)
    git(upstream, "branch", "-m", "main", "trunk")
    git(tmp_path, "clone", "-q", str(upstream), "clone")
    assert default_branch(tmp_path / "clone") == "origin/trunk"


def test_master_when_there_is_no_main(tmp_path: Path) -> None:
    path = make_repo(tmp_path / "r", {"a": "a"}, remote=None)
    git(path, "branch", "-m", "main", "master")
    assert default_branch(path) == "master"


def test_no_default_branch_is_a_usage_error(tmp_path: Path) -> None:
    path = make_repo(tmp_path / "r", {"a": "a"}, remote=None)
    git(path, "branch", "-m", "main", "trunk")
    with pytest.raises(GitError, match="--base"):
        resolve_change(path)
