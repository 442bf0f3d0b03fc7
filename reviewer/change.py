"""The change under review: base and head revisions of the config repo, and the paths it touches."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import proc
from .errors import GitError, ToolError
from .trees import WORKTREE, git_toplevel, resolve_revision, subdir_of

GIT_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class ChangeSpec:
    """What to compare: `base` and `head` are git revisions; `head` may be WORKTREE (uncommitted changes)."""

    repo: Path
    base: str  # a commit SHA
    head: str  # a commit SHA or WORKTREE
    base_label: str
    head_label: str
    changed_paths: tuple[str, ...]  # relative to the config repo root


def _git(top: Path, *args: str) -> str:
    try:
        return proc.run(["git", *args], cwd=top, timeout=GIT_TIMEOUT, env=proc.scrubbed_env()).stdout
    except ToolError as exc:
        raise GitError(f"git {args[0]} failed: {exc.stderr or exc}") from None


def default_branch(top: Path) -> str:
    """`origin/HEAD`'s target, else the first of main/master that exists (remote-tracking, then local)."""
    try:
        ref = proc.run(
            ["git", "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], cwd=top, env=proc.scrubbed_env()
        ).stdout.strip()
        if ref:
            return ref.removeprefix("refs/remotes/")
    except ToolError:
        pass
    for candidate in ("origin/main", "origin/master", "main", "master"):
        try:
            resolve_revision(top, candidate)
            return candidate
        except GitError:
            continue
    raise GitError("cannot find the default branch (no origin/HEAD, main or master); name the base with --base REV")


def merge_base(top: Path, a: str, b: str) -> str:
    out = _git(top, "merge-base", a, b).strip()
    if not out:
        raise GitError(f"{a} and {b} have no common ancestor; name the base with --base REV")
    return out


def changed_paths(top: Path, base: str, head: str, subdir: str) -> tuple[str, ...]:
    """Paths added, modified or deleted between base and head (renames count as both names)."""
    scope = ["--", subdir] if subdir else []
    if head == WORKTREE:
        names = _git(top, "diff", "--name-only", "--no-renames", "-z", base, *scope).split("\0")
        names += _git(top, "ls-files", "--others", "--exclude-standard", "-z", *scope).split("\0")
    else:
        names = _git(top, "diff", "--name-only", "--no-renames", "-z", base, head, *scope).split("\0")
    prefix = f"{subdir}/" if subdir else ""
    return tuple(sorted({n.removeprefix(prefix) for n in names if n}))


def resolve_change(repo: Path, base: str | None = None, head: str | None = None) -> ChangeSpec:
    """The change `check` reviews: by default the merge-base of HEAD with the default branch against the
    working tree; `base`/`head` override either side."""
    top = git_toplevel(repo)
    subdir = subdir_of(top, repo)
    head = head or WORKTREE
    head_sha = head if head == WORKTREE else resolve_revision(top, head)
    if base is None:
        branch = default_branch(top)
        base_sha = merge_base(top, "HEAD", branch)
        base_label = f"merge-base with {branch}"
    else:
        base_sha = resolve_revision(top, base)
        base_label = base
    return ChangeSpec(
        repo=repo,
        base=base_sha,
        head=head_sha,
        base_label=base_label,
        head_label="working tree" if head == WORKTREE else head,
        changed_paths=changed_paths(top, base_sha, head_sha, subdir),
    )
