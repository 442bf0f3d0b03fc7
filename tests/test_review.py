"""The review pipeline's own work around the stages: the head commit's listing asked for ahead."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gitrepos import git, make_repo

from reviewer import review as review_module
from reviewer.change import ChangeSpec
from reviewer.errors import GitError
from reviewer.trees import WORKTREE, TreeContent, git_toplevel


def _change(repo: Path, head: str) -> ChangeSpec:
    return ChangeSpec(repo, "HEAD", head, "main", "head", ())


def _base(repo: Path, top: Path, subdir: str) -> Any:
    return SimpleNamespace(top=top, subdir=subdir)  # what _head_content reads of the base's view


@pytest.mark.parametrize("subdir", ["", "config"])
def test_the_head_listing_asked_ahead_is_the_one_asked_after_the_base(tmp_path: Path, subdir: str) -> None:
    top = make_repo(tmp_path / "repo", {"config/apps/web.yaml": "a: 1\n", "README": "x\n"})
    (top / "config/apps/api.yaml").write_text("b: 2\n")
    git(top, "add", "-A")
    git(top, "commit", "-qm", "head")
    head = git(top, "rev-parse", "HEAD").strip()
    repo = top / subdir if subdir else top
    change = _change(repo, head)
    ahead = review_module._list_ahead(change)
    assert ahead is not None
    content = review_module._head_content(change, _base(repo, git_toplevel(repo), subdir), ahead)
    expected = TreeContent.from_commit(git_toplevel(repo), head, subdir)
    assert content is not None
    assert content.under("") == expected.under("")
    assert ("apps/api.yaml" if subdir else "config/apps/api.yaml") in {path for path, _, _ in content.under("")}


def test_a_worktree_head_has_no_listing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": "a: 1\n"})
    change = _change(repo, WORKTREE)
    assert review_module._list_ahead(change) is None
    assert review_module._head_content(change, _base(repo, repo, ""), None) is None


def test_a_listing_that_failed_ahead_fails_where_the_review_asked_for_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": "a: 1\n"})
    change = _change(repo, "f" * 40)  # no such commit
    ahead = review_module._list_ahead(change)
    assert ahead is not None and isinstance(ahead.exception(), GitError)
    with pytest.raises(GitError):
        review_module._head_content(change, _base(repo, git_toplevel(repo), ""), ahead)


def test_a_listing_of_another_directory_is_not_used(tmp_path: Path) -> None:
    top = make_repo(tmp_path / "repo", {"config/a.yaml": "a: 1\n", "b.yaml": "b: 2\n"})
    head = git(top, "rev-parse", "HEAD").strip()
    ahead = review_module._list_ahead(_change(top, head))  # the whole repository
    content = review_module._head_content(_change(top / "config", head), _base(top, git_toplevel(top), "config"), ahead)
    assert content is not None
    assert [path for path, _, _ in content.under("")] == ["a.yaml"]
