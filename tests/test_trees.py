from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from gitrepos import git, make_repo

from reviewer import trees
from reviewer.errors import GitError
from reviewer.trees import WORKTREE, Checkouts, TreeContent, materialise, remotes, resolve_revision, tree_size


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = make_repo(tmp_path / "repo", {"apps/a.yaml": "one\n", "top.yaml": "top\n"})
    (path / "apps/a.yaml").write_text("two\n")
    git(path, "commit", "-qam", "second")
    return path


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_revision_is_checked_out_without_touching_the_checkout(repo: Path) -> None:
    (repo / "top.yaml").write_text("edited, not committed\n")
    status_before = git(repo, "status", "--porcelain")
    index_before = (repo / ".git/index").read_bytes()
    with materialise(repo, "HEAD~1") as tree:
        assert _files(tree.root) == {"apps/a.yaml": "one\n", "top.yaml": "top\n"}
        assert tree.revision == resolve_revision(repo, "HEAD~1")
        assert not (tree.root / ".git").exists()
        kept = tree.root
    assert not kept.exists(), "the temporary tree is removed afterwards"
    assert git(repo, "status", "--porcelain") == status_before
    assert (repo / ".git/index").read_bytes() == index_before
    assert git(repo, "worktree", "list").count("\n") == 1


def test_working_tree_includes_uncommitted_and_untracked_but_not_ignored(repo: Path) -> None:
    (repo / "top.yaml").write_text("edited\n")
    (repo / "new.yaml").write_text("untracked\n")
    (repo / ".gitignore").write_text("secret.env\n")
    (repo / "secret.env").write_text("TOKEN=x\n")
    (repo / "apps/a.yaml").unlink()
    with materialise(repo, WORKTREE) as tree:
        files = _files(tree.root)
    assert files["top.yaml"] == "edited\n"
    assert files["new.yaml"] == "untracked\n"
    assert "secret.env" not in files
    assert "apps/a.yaml" not in files, "a file deleted in the working tree is gone"
    assert tree.revision == resolve_revision(repo, "HEAD")


def test_subdirectory_is_the_config_repo_root(repo: Path) -> None:
    with materialise(repo / "apps", "HEAD") as tree:
        assert _files(tree.root) == {"a.yaml": "two\n"}
        assert tree.repo_subdir == "apps"
    with materialise(repo / "apps", WORKTREE) as tree:
        assert _files(tree.root) == {"a.yaml": "two\n"}


def test_cleanup_happens_on_error(repo: Path) -> None:
    seen: list[Path] = []
    with pytest.raises(RuntimeError), materialise(repo, "HEAD") as tree:
        seen.append(tree.root)
        raise RuntimeError("boom")
    assert not seen[0].exists()


def test_unknown_revision_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(GitError, match="unknown revision 'nope'"), materialise(repo, "nope"):
        pass


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not inside a git repository"), materialise(tmp_path, "HEAD"):
        pass


def test_symlinks_are_kept_as_symlinks(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"base/a.yaml": "a\n"})
    os.symlink("base/a.yaml", repo / "link.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    for rev in ("HEAD", WORKTREE):
        with materialise(repo, rev) as tree:
            assert (tree.root / "link.yaml").is_symlink()
            assert (tree.root / "link.yaml").read_text() == "a\n"


def test_remotes_lists_every_url(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a": "a"}, remote="https://github.com/acme/config.git")
    git(repo, "remote", "add", "mirror", "git@gitlab.example.com:acme/config.git")
    assert remotes(repo) == ("git@gitlab.example.com:acme/config.git", "https://github.com/acme/config.git")


def test_symlinks_leaving_the_checkout_are_removed(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret"
    secret.write_text("host data\n")
    repo = make_repo(tmp_path / "r", {"chart/files/ok.txt": "ok\n"})
    os.symlink(str(secret), repo / "chart/files/leak.txt")
    os.symlink("ok.txt", repo / "chart/files/inside.txt")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "links")
    for rev in ("HEAD", WORKTREE):
        with materialise(repo, rev) as tree:
            assert tree.escaping_symlinks == ("chart/files/leak.txt",)
            assert not (tree.root / "chart/files/leak.txt").exists()
            assert (tree.root / "chart/files/inside.txt").read_text() == "ok\n"


def test_a_commit_without_symlinks_is_not_searched_for_them(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("the checkout was searched for symlinks")

    monkeypatch.setattr(trees, "remove_escaping_symlinks", refuse)
    with materialise(repo, "HEAD") as tree:
        assert tree.escaping_symlinks == ()
        assert trees.resolved(tree.root / "apps/../top.yaml") == tree.root / "top.yaml"  # a plain checkout
        assert str(tree.root.resolve()) in trees._PLAIN_CHECKOUTS
    os.symlink("a.yaml", repo / "apps/link.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    with pytest.raises(AssertionError, match="searched"), materialise(repo, "HEAD"):
        pass  # a commit with a symlink is searched (and the test above shows what is removed)


def test_one_sized_listing_gives_the_content_and_the_checkout_size(repo: Path) -> None:
    """`TreeContent.sized` serves a checkout with one `git ls-tree -l`: the same digests as
    `from_commit`, and the same size as `tree_size`, at the top and in a subdirectory."""
    os.symlink("a.yaml", repo / "apps/link.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    sha = resolve_revision(repo, "HEAD")
    for subdir in ("", "apps"):
        content, size = TreeContent.sized(repo, sha, subdir)
        trees._CONTENTS.clear()  # a fresh listing, not the one just remembered
        plain = TreeContent.from_commit(repo, sha, subdir)
        assert content.under("") == plain.under("")
        assert content.file("apps/link.yaml" if not subdir else "link.yaml") == plain.file(
            "apps/link.yaml" if not subdir else "link.yaml"
        )
        assert size == tree_size(repo, sha) == len("two\n") + len("top\n") + len("a.yaml")


def test_a_listing_made_ahead_answers_both_askers_with_one_git_call(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = resolve_revision(repo, "HEAD")
    expected = TreeContent.from_commit(repo, sha, "").under("")
    trees._CONTENTS.clear()
    calls: list[tuple[str, ...]] = []
    real_git = trees._git

    def counting_git(top: Path, *args: str, **kw: object) -> str:
        calls.append(args)
        return real_git(top, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(trees, "_git", counting_git)
    trees.list_ahead(repo, sha, "").join()
    content = TreeContent.from_commit(repo, sha, "")
    again, size = TreeContent.sized(repo, sha, "")
    assert again is content
    assert content.under("") == expected
    assert size == len("two\n") + len("top\n")
    assert [c[0] for c in calls] == ["ls-tree"], "one listing serves both askers"


def test_a_checkout_waits_for_the_listing_under_way(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sha = resolve_revision(repo, "HEAD")
    trees._CONTENTS.clear()
    calls: list[tuple[str, ...]] = []
    real_git = trees._git
    lock = trees._listing(repo, sha, "", sized=True)
    lock.acquire()  # a listing under way (held here until the asker below is started)

    def counting_git(top: Path, *args: str, **kw: object) -> str:
        calls.append(args)
        return real_git(top, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(trees, "_git", counting_git)
    asked: list[TreeContent] = []
    asker = threading.Thread(target=lambda: asked.append(TreeContent.sized(repo, sha, "")[0]))
    asker.start()
    asker.join(0.2)
    assert asker.is_alive() and not calls, "it waits rather than listing again"
    TreeContent._sized(repo, sha, "")  # the listing under way completes
    lock.release()
    asker.join()
    assert len(calls) == 1 and asked[0].file("top.yaml") is not None


def test_the_listing_locks_go_with_the_listings_they_guard(repo: Path) -> None:
    """A long-lived process lists commit after commit: the lock of each is dropped when its listing is."""
    trees._CONTENTS.clear()
    trees._LISTING_LOCKS.clear()
    shas = []
    for n in range(5):
        (repo / f"more-{n}.yaml").write_text(f"n: {n}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"more {n}")
        shas.append(resolve_revision(repo, "HEAD"))
        TreeContent.sized(repo, shas[-1], "")
    kept = {key[1] for key in trees._CONTENTS}
    assert kept == set(shas[-trees._CONTENTS_KEPT :])
    assert {key[1] for key in trees._LISTING_LOCKS} == kept


@pytest.mark.parametrize("sized", [True, False])
def test_a_listing_made_ahead_of_an_unknown_commit_fails_where_it_is_used(repo: Path, sized: bool) -> None:
    missing = "0" * 40
    trees.list_ahead(repo, missing, "", sized=sized).join()  # reports nothing itself
    with pytest.raises(GitError):
        TreeContent.sized(repo, missing, "") if sized else TreeContent.from_commit(repo, missing, "")


@pytest.mark.parametrize("subdir", ["", "apps"])
def test_a_head_listing_made_ahead_is_the_one_the_review_reads(
    repo: Path, subdir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review asks for the head's digests while it opens the base: one `git ls-tree`, whose answer
    the later asker gets (waiting for it if it is still under way)."""
    sha = resolve_revision(repo, "HEAD")
    expected = TreeContent.from_commit(repo, sha, subdir).under("")
    trees._CONTENTS.clear()
    calls: list[tuple[str, ...]] = []
    real_git = trees._git

    def slow_git(top: Path, *args: str, **kw: object) -> str:
        calls.append(args)
        time.sleep(0.1)  # still under way when the asker comes
        return real_git(top, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(trees, "_git", slow_git)
    ahead = trees.list_ahead(repo, sha, subdir, sized=False)
    time.sleep(0.02)  # the listing has started
    content = TreeContent.from_commit(repo, sha, subdir)
    ahead.join()
    assert content.under("") == expected
    assert [c[0] for c in calls] == ["ls-tree"], "one listing serves both"
    assert ("a.yaml" if subdir else "apps/a.yaml") in {path for path, _, _ in content.under("")}


def test_a_listing_of_the_whole_repository_is_not_a_subdirectorys(repo: Path) -> None:
    sha = resolve_revision(repo, "HEAD")
    trees.list_ahead(repo, sha, "", sized=False).join()
    assert [path for path, _, _ in TreeContent.from_commit(repo, sha, "apps").under("")] == ["a.yaml"]


def test_a_prefetched_checkout_is_handed_out_once_and_removed_on_close(repo: Path) -> None:
    sha = resolve_revision(repo, "HEAD~1")
    with Checkouts() as checkouts:
        checkouts.prefetch(repo, sha)
        first = checkouts.checkout(repo, sha, "HEAD~1")
        assert first.label == "HEAD~1"
        assert _files(first.root) == {"apps/a.yaml": "one\n", "top.yaml": "top\n"}
        second = checkouts.checkout(repo, sha)
        assert second is not first, "two revisions never share a tree"
        assert second.root != first.root
        kept = [first.root, second.root]
    assert not any(path.exists() for path in kept)


def test_a_prefetch_that_fails_fails_on_first_use(repo: Path) -> None:
    missing = "0" * 40
    with Checkouts() as checkouts:
        checkouts.prefetch(repo, missing)
        checkout = checkouts.checkout(repo, missing)
        with pytest.raises(GitError):
            checkout.root  # noqa: B018


def test_paths_resolve_while_a_checkout_is_recorded(tmp_path: Path) -> None:
    """A head checked out ahead (on another thread) records itself while the base's discovery is
    resolving paths. Here the record lands in the middle of the lookup, deterministically: a recorded
    checkout whose path, when read, records another one."""

    class Recording(str):
        def __add__(self, other: str) -> str:
            trees._plain_checkout("/nonexistent/checked-out-meanwhile", True)
            return str(self) + other

    trees._plain_checkout(Recording("/nonexistent/recording"), True)
    trees._plain_checkout("/nonexistent/other", True)
    try:
        # With one set changed in place this raised "Set changed size during iteration".
        assert trees.resolved_text(str(tmp_path / "a" / ".." / "b")) == os.fspath((tmp_path / "b").resolve())
        assert "/nonexistent/checked-out-meanwhile" in trees._PLAIN_CHECKOUTS
    finally:
        for path in ("/nonexistent/recording", "/nonexistent/other", "/nonexistent/checked-out-meanwhile"):
            trees._plain_checkout(path, False)


def test_a_working_trees_digests_are_taken_before_anything_writes_into_the_private_copy(tmp_path: Path) -> None:
    """Renders write kustomize edits into the private tree; the cache keys must describe the files as
    the user has them."""
    repo = make_repo(tmp_path / "repo", {"apps/web/kustomization.yaml": "resources: []\n"})
    (repo / "apps/web/kustomization.yaml").write_text("resources: [cm.yaml]\n")  # an uncommitted edit
    with materialise(repo, WORKTREE) as tree:
        assert tree.content is not None
        (tree.root / "apps/web/kustomization.yaml").write_text("namePrefix: edited-\n")  # as a render would
        expected = TreeContent(repo).file("apps/web/kustomization.yaml")
        assert expected is not None and tree.content.file("apps/web/kustomization.yaml") == expected


def _tree_with_links(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("kept\n")
    tree = tmp_path / "tree"
    (tree / "a/b").mkdir(parents=True)
    (tree / "a/b/file.yaml").write_text("x: 1\n")
    os.symlink(outside, tree / "dir-link")
    os.symlink(outside / "keep.txt", tree / "a/file-link")
    return tree, outside


@pytest.mark.parametrize("rm_on_path", [True, False])
def test_remove_tree_deletes_everything_and_follows_no_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rm_on_path: bool
) -> None:
    tree, outside = _tree_with_links(tmp_path)
    if not rm_on_path:  # no `rm`: the Python fallback does the work
        monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    trees.remove_tree(tree)
    assert not os.path.lexists(tree)
    assert (outside / "keep.txt").read_text() == "kept\n", "a link's target is never deleted"


def test_a_listings_files_are_found_as_bisecting_it_finds_them() -> None:
    """`TreeContent.file` answers from a dict made from the listing: the same answers as a search of
    the sorted listing, for paths that prefix others, directories, absent and non-ASCII paths."""
    import bisect

    listing = [
        ("a", "100644", "1"),
        ("a-b/c", "100644", "2"),
        ("a/b", "100755", "3"),
        ("a/b/c", "100644", "4"),
        ("é/ü", "120000", "5"),
        ("z", "100644", "6"),
    ]
    content = TreeContent(None, list(reversed(listing)))
    ordered = sorted(listing)
    paths = [p for p, _, _ in ordered]

    def by_bisecting(rel: str) -> tuple[str, str] | None:
        i = bisect.bisect_left(paths, rel)
        return (ordered[i][1], ordered[i][2]) if i < len(paths) and paths[i] == rel else None

    for rel in [*paths, "", "a/", "a-b", "a/b/", "b", "é", "zz", "A"]:
        assert content.file(rel) == by_bisecting(rel), rel
