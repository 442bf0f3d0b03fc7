"""Materialise a revision of the config repo (or its working tree) in a private temporary directory.

The user's checkout, index and `.git` are never written to: a revision is checked out through a
temporary index file into a temporary directory, and the working tree is copied file by file
(tracked plus untracked-but-not-ignored files, uncommitted edits included).
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from . import proc
from .errors import GitError, ToolError

WORKTREE = "WORKTREE"
GIT_TIMEOUT = 300.0
# Checkouts of this process that contain no symlink at all (resolved paths): inside them, resolving a
# path is normalising it.
# Replaced whole, never changed in place: readers in other threads iterate it while a checkout that is
# made ahead (Checkouts.prefetch) adds itself.
_PLAIN_CHECKOUTS: frozenset[str] = frozenset()
_PLAIN_CHECKOUTS_LOCK = threading.Lock()


def _plain_checkout(path: str, plain: bool) -> None:
    global _PLAIN_CHECKOUTS
    with _PLAIN_CHECKOUTS_LOCK:
        _PLAIN_CHECKOUTS = _PLAIN_CHECKOUTS | {path} if plain else _PLAIN_CHECKOUTS - {path}


def resolved(path: Path) -> Path:
    """`path.resolve()`, answered without touching the filesystem inside a private checkout that holds
    no symlinks: there every component is a real directory, so resolving is normalising. Discovery,
    selection and rendering resolve tens of thousands of paths in a large repo; each `resolve()` is an
    lstat per component. A path that is resolved already comes back as it is (no new `Path`)."""
    text = os.fspath(path)
    found = resolved_text(text)
    return path if found == text and isinstance(path, Path) else Path(found)


def resolved_text(path: str) -> str:
    """`resolved` for a path given and returned as a string: inside a private checkout without symlinks
    (where discovery spends its time) no `Path` object is made."""
    text = os.path.normpath(path if os.path.isabs(path) else os.path.join(os.getcwd(), path))
    for checkout in _PLAIN_CHECKOUTS:
        if text == checkout or text.startswith(checkout + "/"):
            return text
    return os.fspath(Path(path).resolve())


SYMLINK_MODE = "120000"


class TreeContent:
    """What each file of a revision holds, as git names it: (mode, blob id) by root-relative path.

    For a commit it comes from one `git ls-tree` (no file is read); for the working tree each file is
    hashed the way git hashes a blob when first asked. The render cache keys renders by these digests.
    """

    def __init__(self, root: Path | None, listing: list[tuple[str, str, str]] | None = None) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._listing = sorted(listing) if listing is not None else None  # (path, mode, blob id)
        self._paths = [entry[0] for entry in self._listing] if self._listing is not None else []
        self._hashed: dict[str, tuple[str, str] | None] = {}
        # path -> (mode, blob id), made on the first `file` of a listed revision: render keys ask for
        # tens of thousands of files, and a dict answers each without bisecting the listing.
        self._files: dict[str, tuple[str, str]] | None = None

    @classmethod
    def from_commit(cls, top: Path, sha: str, subdir: str) -> TreeContent:
        """The digests of a commit's files under `subdir`. Waits for a digest listing of it under way
        (`list_ahead`), not for a `sized` one: this is cheaper (no object is read for its size)."""
        with _listing(top, sha, subdir, sized=False):
            known = _known_content(top, sha, subdir)
            return known if known is not None else cls._listed(top, sha, subdir)

    @classmethod
    def _listed(cls, top: Path, sha: str, subdir: str) -> TreeContent:
        listing = _git(top, "ls-tree", "-r", "-z", "--full-tree", sha, *(["--", subdir] if subdir else []))
        prefix = f"{subdir}/" if subdir else ""
        entries = []
        for line in filter(None, listing.split("\0")):
            meta, _, path = line.partition("\t")
            mode, _, rest = meta.partition(" ")
            blob = rest.partition(" ")[2]
            entries.append((path.removeprefix(prefix), mode, blob))
        return _remember_content(top, sha, subdir, cls(None, entries))

    @classmethod
    def sized(cls, top: Path, sha: str, subdir: str) -> tuple[TreeContent, int]:
        """`from_commit`, and the bytes a checkout of the whole commit takes (as `tree_size`), from one
        `git ls-tree -l`: a checkout needs both, and each listing walks every tree of the commit.
        Remembered like `from_commit` (see `list_ahead`)."""
        with _listing(top, sha, subdir, sized=True):
            known = _known_content(top, sha, subdir)
            size = _known_size(top, sha, subdir)
            if known is not None and size is not None:
                return known, size
            return cls._sized(top, sha, subdir)

    @classmethod
    def _sized(cls, top: Path, sha: str, subdir: str) -> tuple[TreeContent, int]:
        listing = _git(top, "ls-tree", "-r", "-l", "-z", "--full-tree", sha)
        prefix = f"{subdir}/" if subdir else ""
        entries = []
        total = 0
        for line in filter(None, listing.split("\0")):
            meta, _, path = line.partition("\t")
            fields = meta.split()  # mode, type, object, size ("-" for a submodule)
            if len(fields) < 4:
                continue
            if fields[3].isdigit():
                total += int(fields[3])
            if path.startswith(prefix):
                entries.append((path.removeprefix(prefix), fields[0], fields[2]))
        return _remember_content(top, sha, subdir, cls(None, entries), total), total

    def has_symlinks(self) -> bool:
        """Whether any file is a symlink (asked of a commit's listing; a working tree is assumed to)."""
        if self._listing is None:
            return True
        return any(mode == SYMLINK_MODE for _, mode, _ in self._listing)

    def _hash_file(self, rel: str) -> tuple[str, str] | None:
        assert self.root is not None
        path = self.root / rel
        try:
            if path.is_symlink():
                mode, data = SYMLINK_MODE, os.readlink(path).encode()
            else:
                mode, data = "100644", path.read_bytes()
        except OSError:
            return None
        return mode, hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()

    def file(self, rel: str) -> tuple[str, str] | None:
        """(mode, blob id) of one file, or None when it does not exist."""
        if self._listing is not None:
            files = self._files
            if files is None:  # two threads may both make it: the same dict either way
                # Reversed: were a path listed twice, the first entry would answer, as bisecting found it.
                files = self._files = {path: (mode, blob) for path, mode, blob in reversed(self._listing)}
            return files.get(rel)
        with self._lock:
            if rel not in self._hashed:
                self._hashed[rel] = self._hash_file(rel)
            return self._hashed[rel]

    def under(self, rel_dir: str) -> list[tuple[str, str, str]]:
        """(path, mode, blob id) of every file below a directory ("" for the whole tree), by path."""
        if self._listing is not None:
            if not rel_dir:
                return list(self._listing)
            prefix = rel_dir + "/"
            i = bisect.bisect_left(self._paths, prefix)
            j = bisect.bisect_left(self._paths, prefix[:-1] + chr(ord("/") + 1))
            return self._listing[i:j]
        found = []
        assert self.root is not None
        top = self.root / rel_dir if rel_dir else self.root
        for dirpath, dirnames, filenames in os.walk(top):
            for name in [*filenames, *(d for d in dirnames if os.path.islink(os.path.join(dirpath, d)))]:
                rel = os.path.relpath(os.path.join(dirpath, name), self.root)
                known = self.file(rel)
                if known is not None:
                    found.append((rel, *known))
        return sorted(found)


# The content of the last commits listed (a commit's content never changes): a review lists the head
# while checking it out, then asks for its content again to compare it with the base.
# With the size of a checkout of the whole commit, when `sized` listed it.
_CONTENTS: dict[tuple[str, str, str], tuple[TreeContent, int | None]] = {}
_CONTENTS_KEPT = 2  # a review's base and head
_CONTENTS_LOCK = threading.Lock()
_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
# One lock per commit and kind of listing (sized or not): a second asker waits for the listing under way.
# Dropped with the commit's content (a late asker then lists again, as it would anyway).
_LISTING_LOCKS: dict[tuple[str, str, str, bool], threading.Lock] = {}


def _listing(top: Path, sha: str, subdir: str, *, sized: bool) -> threading.Lock:
    if not _FULL_SHA.match(sha):  # not remembered (a ref name may move): nothing to wait for
        return threading.Lock()
    with _CONTENTS_LOCK:
        return _LISTING_LOCKS.setdefault((os.fspath(top), sha, subdir, sized), threading.Lock())


def _known_content(top: Path, sha: str, subdir: str) -> TreeContent | None:
    with _CONTENTS_LOCK:
        known = _CONTENTS.get((os.fspath(top), sha, subdir))
    return known[0] if known else None


def _known_size(top: Path, sha: str, subdir: str) -> int | None:
    with _CONTENTS_LOCK:
        known = _CONTENTS.get((os.fspath(top), sha, subdir))
    return known[1] if known else None


def list_ahead(top: Path, sha: str, subdir: str, *, sized: bool = True) -> threading.Thread:
    """Start `TreeContent.sized` (or `from_commit`) for a commit in the background, so that the asker
    finds it done or waits for it rather than listing again, while this process does other work: a
    checkout's listing while the cache key hashes the tools' binaries, the head's while the base is
    opened. A failure is not reported here: the listing is asked for again, and raises, where it is used."""

    def run() -> None:
        with suppress(GitError):
            if sized:
                TreeContent.sized(top, sha, subdir)
            else:
                TreeContent.from_commit(top, sha, subdir)

    thread = threading.Thread(target=run, name="list-tree", daemon=True)
    thread.start()
    return thread


def _remember_content(top: Path, sha: str, subdir: str, content: TreeContent, size: int | None = None) -> TreeContent:
    if _FULL_SHA.match(sha):  # a ref name may move; a commit id names one content for ever
        with _CONTENTS_LOCK:
            _CONTENTS[(os.fspath(top), sha, subdir)] = (content, size)
            while len(_CONTENTS) > _CONTENTS_KEPT:
                oldest = next(iter(_CONTENTS))
                del _CONTENTS[oldest]
                _LISTING_LOCKS.pop((*oldest, True), None)
                _LISTING_LOCKS.pop((*oldest, False), None)
    return content


@dataclass(frozen=True, slots=True)
class Tree:
    """A materialised revision. `root` is the config repo root (a subdirectory when the repo is one)."""

    root: Path
    revision: str  # the commit SHA (HEAD's for the working tree)
    label: str  # what the user asked for: a ref, a SHA or WORKTREE
    repo_subdir: str  # the config repo's path inside the git repository ("" at the top)
    escaping_symlinks: tuple[str, ...] = ()  # symlinks that pointed outside the checkout (removed), root-relative
    content: TreeContent | None = field(default=None, compare=False)  # digests of its files


def _git(repo: Path, *args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
    try:
        done = proc.run(["git", *args], cwd=repo, timeout=GIT_TIMEOUT, env=proc.scrubbed_env(env), input=input)
    except ToolError as exc:
        raise GitError(f"git {args[0]} failed in {repo}: {exc.stderr or exc}") from None
    return done.stdout


def git_toplevel(path: Path) -> Path:
    """The top of the git repository containing `path` (asked of git once per directory and process).
    Keyed by the absolute path: `--repo .` means another directory after a `chdir`."""
    return _git_toplevel(path.absolute())


@functools.cache
def _git_toplevel(path: Path) -> Path:
    if not path.exists():
        raise GitError(f"{path} does not exist")
    try:
        out = proc.run(["git", "rev-parse", "--show-toplevel"], cwd=path, env=proc.scrubbed_env())
    except ToolError:
        raise GitError(f"{path} is not inside a git repository") from None
    return Path(out.stdout.strip())


# (repository, commit SHA) pairs git has confirmed in this process: a review resolves the base and head
# by name, then opens each by its SHA, and an object id names the same commit for ever.
_KNOWN_COMMITS: set[tuple[str, str]] = set()


def resolve_revision(repo: Path, rev: str) -> str:
    """The commit SHA of `rev`, or a GitError that names it."""
    where = os.fspath(repo.absolute())
    if (where, rev) in _KNOWN_COMMITS:
        return rev
    try:
        out = proc.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
            cwd=repo,
            env=proc.scrubbed_env(),
        )
    except ToolError:
        raise GitError(f"unknown revision {rev!r} in {repo}") from None
    sha = out.stdout.strip()
    _KNOWN_COMMITS.add((where, sha))
    return sha


def remotes(repo: Path) -> tuple[str, ...]:
    """Every fetch/push URL of every remote."""
    out = _git(repo, "remote", "-v")
    urls = {line.split()[1] for line in out.splitlines() if len(line.split()) >= 2}
    return tuple(sorted(urls))


def subdir_of(top: Path, path: Path) -> str:
    """`path` (a config repo) relative to `top` (its git repository's top), "" for the top itself."""
    rel = path.resolve().relative_to(top.resolve())
    return "" if str(rel) == "." else rel.as_posix()


# Leave this much room on a memory-backed filesystem besides the tree itself.
_SCRATCH_HEADROOM = 256 * 1024 * 1024


def scratch_parent(size_hint: int) -> str | None:
    """Where to write a private tree: a memory-backed `/dev/shm` when it has room for it, else the
    default temporary directory (None). A review writes and deletes a whole checkout per revision,
    which on a disk-backed /tmp costs more than every render of a small change; an explicit `TMPDIR`
    is always obeyed."""
    if os.environ.get("TMPDIR"):
        return None
    shm = "/dev/shm"
    try:
        stat = os.statvfs(shm)
    except OSError:
        return None
    if not os.access(shm, os.W_OK | os.X_OK) or stat.f_bavail * stat.f_frsize < 4 * size_hint + _SCRATCH_HEADROOM:
        return None
    return shm


def tree_size(top: Path, rev: str) -> int:
    """The bytes a checkout of `rev` (HEAD for the working tree) takes, from git's object sizes."""
    try:
        listing = _git(top, "ls-tree", "-r", "-l", "-z", "HEAD" if rev == WORKTREE else rev)
    except GitError:
        return 0
    total = 0
    for entry in filter(None, listing.split("\0")):
        fields = entry.split(None, 4)
        if len(fields) >= 4 and fields[3].isdigit():
            total += int(fields[3])
    return total


@contextmanager
def materialise(path: Path, rev: str = WORKTREE) -> Iterator[Tree]:
    """Yield a private copy of the config repo at `path` as of `rev` (or the working tree); always cleaned up.

    `path` may be a subdirectory of a git repository: the copy is of that subdirectory.
    """
    top = git_toplevel(path)
    subdir = subdir_of(top, path)
    content: TreeContent | None = None
    if rev == WORKTREE:
        size = tree_size(top, rev)
    else:
        sha = resolve_revision(top, rev)
        content, size = TreeContent.sized(top, sha, subdir)
    tmp = Path(tempfile.mkdtemp(prefix="gitops-reviewer-", dir=scratch_parent(size)))
    try:
        dest = tmp / "tree"
        dest.mkdir()
        if rev == WORKTREE:
            sha = _head_or_empty(top)
            _copy_worktree(top, subdir, dest)
        else:
            _checkout(top, sha, subdir, dest, tmp / "index")
        dest = dest.resolve()
        root = dest / subdir if subdir else dest
        root.mkdir(parents=True, exist_ok=True)
        escaping: tuple[str, ...]
        if content is not None and not content.has_symlinks():
            # git writes a symlink only for a symlink entry (mode 120000), and the listing holds every
            # file checked out: there is nothing to look for.
            escaping, links = (), 0
        else:
            escaping, links = remove_escaping_symlinks(dest, root)
        if not links:
            _plain_checkout(str(dest), True)
        yield Tree(
            root=root,
            revision=sha,
            label=rev,
            repo_subdir=subdir,
            escaping_symlinks=escaping,
            content=content or _hashed_worktree(root),
        )
    finally:
        _plain_checkout(str(tmp.resolve() / "tree"), False)
        remove_tree(tmp)


def remove_tree(path: Path) -> None:
    """Delete a private tree: `rm -rf`, which unlinks a checkout's thousands of files in a fraction of
    the time `shutil.rmtree` spends on them in Python (and without holding the GIL while render and
    cleanup threads run), then `shutil.rmtree` for anything left (no `rm`, or it failed). Symlinks are
    removed, never followed, either way."""
    with suppress(ToolError):
        proc.run(["rm", "-rf", "--", os.fspath(path)], timeout=GIT_TIMEOUT)
    if os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)


def _hashed_worktree(root: Path) -> TreeContent:
    """A working tree's digests, every file hashed now: renders write Argo CD's kustomize edits into
    the private tree, and a digest taken while one is in place would describe content nobody wrote."""
    content = TreeContent(root)
    content.under("")
    return content


def tree_id(top: Path, sha: str, subdir: str) -> str:
    """The git tree object of the config repo at a commit: equal ids, equal content (every file, mode
    and name), so anything derived from the content alone can be reused."""
    return _git(top, "rev-parse", f"{sha}:{subdir}" if subdir else f"{sha}^{{tree}}").strip()


def read_text(top: Path, sha: str, path: str) -> str | None:
    """One text file of a commit, read from git without a checkout (None when it does not exist;
    bytes that are not UTF-8 come back as U+FFFD)."""
    try:
        done = proc.run(
            ["git", "cat-file", "blob", f"{sha}:{path}"], cwd=top, timeout=GIT_TIMEOUT, env=proc.scrubbed_env()
        )
    except ToolError:
        return None
    return done.stdout


class Checkout:
    """A revision's private tree, materialised the first time something needs a file from it.

    A review whose renders all come from the cache never checks anything out. The checkout lives as long
    as `stack`; it is made at most once, even when render threads ask for it together.
    """

    def __init__(self, path: Path, rev: str, stack: ExitStack, tree: Tree | None = None, label: str = "") -> None:
        self._path = path
        self._rev = rev
        self.label = label or rev  # what the user asked for: a ref, a SHA or WORKTREE
        self._stack = stack
        self._tree = tree
        self._lock = threading.Lock()

    @property
    def materialised(self) -> bool:
        return self._tree is not None

    @property
    def tree(self) -> Tree:
        if self._tree is None:
            with self._lock:
                if self._tree is None:
                    self._tree = self._stack.enter_context(materialise(self._path, self._rev))
        return self._tree

    @property
    def root(self) -> Path:
        return self.tree.root


class Checkouts:
    """The private trees of one review: each made on first use, or ahead of it in the background
    (`prefetch`). A checkout is mostly git's work in subprocesses, so one started early runs on another
    core while this process discovers the other revision. Closing waits for a checkout still under way,
    then deletes the trees side by side (deleting is mostly the kernel's work)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stacks: list[ExitStack] = []  # one per checkout
        self._ahead: dict[tuple[str, str], Checkout] = {}  # prefetched, not yet handed out
        self._pending: list[threading.Thread] = []

    def checkout(self, path: Path, sha: str, label: str = "") -> Checkout:
        """A checkout of commit `sha` of the config repo at `path`, materialised on first use: the one
        prefetched for it if any (handed out once: two revisions never share a tree)."""
        with self._lock:
            found = self._ahead.pop((os.fspath(path.absolute()), sha), None)
            if found is not None:
                found.label = label or found.label
                return found
            return Checkout(path, sha, self._new_stack(), label=label)

    def prefetch(self, path: Path, sha: str) -> None:
        """Start checking out `sha` in the background for a later `checkout`. A failure is not reported
        here: the first use of the checkout tries again and raises it."""
        key = (os.fspath(path.absolute()), sha)
        with self._lock:
            if key in self._ahead:
                return
            checkout = self._ahead[key] = Checkout(path, sha, self._new_stack())

        def run() -> None:
            with suppress(Exception):  # raised again on first use (see above)
                checkout.tree  # noqa: B018 - materialises it

        thread = threading.Thread(target=run, name="checkout", daemon=True)
        with self._lock:
            self._pending.append(thread)
        thread.start()

    @property
    def ahead(self) -> set[str]:
        """The commits checked out (or being checked out) ahead of their use, not yet handed out."""
        with self._lock:
            return {sha for _, sha in self._ahead}

    def _new_stack(self) -> ExitStack:
        stack = ExitStack()
        self._stacks.append(stack)  # under self._lock
        return stack

    def close(self) -> None:
        for thread in self._pending:
            thread.join()
        failures: list[BaseException] = []

        def close(stack: ExitStack) -> None:
            try:
                stack.close()
            except BaseException as exc:  # raised below, once every tree is gone
                failures.append(exc)

        closing = [threading.Thread(target=close, args=(stack,), name="checkout-cleanup") for stack in self._stacks]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join()
        if failures:
            raise failures[0]

    def __enter__(self) -> Checkouts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remove_escaping_symlinks(checkout: Path, root: Path) -> tuple[tuple[str, ...], int]:
    """Delete symlinks that resolve outside the checkout, so no tool can read the host through them
    (a committed `x -> /etc/passwd` read by Helm's .Files.Get, a kustomization that is a link to a file
    elsewhere). Argo CD refuses apps containing them (util/io/path CheckOutOfBoundsSymlinks); the
    renderer fails those apps using the returned list (paths relative to `root`). Also returns how
    many symlinks stay (those that point inside the checkout)."""
    bound = checkout.resolve()
    found: list[str] = []
    kept = 0
    pending = [str(checkout)]
    while pending:
        with os.scandir(pending.pop()) as entries:  # file types from the directory listing: no stat each
            for entry in entries:
                if not entry.is_symlink():
                    if entry.is_dir():
                        pending.append(entry.path)
                    continue
                path = Path(entry.path)
                target = path.resolve()
                if target == bound or bound in target.parents:
                    kept += 1
                    continue
                found.append(os.path.relpath(path, root))
                path.unlink()
    return tuple(sorted(found)), kept


def _head_or_empty(top: Path) -> str:
    try:
        return resolve_revision(top, "HEAD")
    except GitError:
        return ""


def _checkout(top: Path, sha: str, subdir: str, dest: Path, index: Path) -> None:
    env = {"GIT_INDEX_FILE": str(index)}
    _git(top, "read-tree", sha, env=env)
    if not subdir:
        _git(top, "checkout-index", "--all", "--force", f"--prefix={dest}/", env=env)
        return
    names = _git(top, "ls-files", "-z", "--", subdir, env=env)
    _git(top, "checkout-index", "--force", "--stdin", "-z", f"--prefix={dest}/", env=env, input=names.encode())


def _copy_worktree(top: Path, subdir: str, dest: Path) -> None:
    listing = _git(top, "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", subdir or ".")
    for rel in sorted(set(filter(None, listing.split("\0")))):
        src = top / rel
        if not os.path.lexists(src):
            continue  # deleted in the working tree but not yet staged
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), target)
        elif src.is_file():
            shutil.copy2(src, target)
