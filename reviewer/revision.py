"""One revision of the config repo, opened for review: its tree, config, apps and renders."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .collector import collector_paused
from .config import CONFIG_FILE, Config, config_from_text, load_config
from .discovery.incremental import parent_manifests, revision_dependence
from .discovery.repos import RepoIdentity
from .discovery.scan import Scan, crd_api_versions, scan_tree
from .discovery.snapshot import Snapshot, snapshot_key, snapshot_made
from .discovery.snapshot import decode as decode_snapshot
from .discovery.snapshot import encode as encode_snapshot
from .errors import GitError, UsageError
from .records import App, Discovery, RenderError, RenderResult
from .rendering.cache import RenderCache, Uncacheable, keys_id, pack_keys, render_key, unpack_keys
from .rendering.context import RenderContext
from .rendering.scopes import ScopeTable
from .selection import InputIndex, Inputs, app_inputs
from .trees import (
    WORKTREE,
    Checkout,
    Checkouts,
    Tree,
    TreeContent,
    git_toplevel,
    list_ahead,
    materialise,
    read_text,
    remotes,
    resolve_revision,
    subdir_of,
    tree_id,
)
from .yamlio import Document

LOCAL_REPO_URL = "https://config-repo.invalid/local"
CHILD_KINDS = ("Application", "ApplicationSet")


def _stored_as(discovered: Future[str | None]) -> str | None:
    """What a discovery was stored as; None when it could not be (its writer's error is not this review's)."""
    return None if discovered.exception() is not None else discovered.result()


def _discovered(digest: str | None) -> Future[str | None]:
    done: Future[str | None] = Future()
    done.set_result(digest)
    return done


def _snapshot_read(blob: bytes) -> tuple[Snapshot, str]:
    return decode_snapshot(blob), hashlib.sha256(blob).hexdigest()


def _snapshot_stored(cache: RenderCache, key: str, snapshot: Snapshot) -> str | None:
    """Store a discovery's snapshot; the digest of its bytes, or None when it was not stored."""
    blob: list[bytes] = []

    def encoded() -> bytes:
        blob.append(encode_snapshot(snapshot))
        return blob[0]

    return hashlib.sha256(blob[0]).hexdigest() if cache.write(key, encoded) else None


@dataclass
class RevisionView:
    """One revision opened for review (`open_revision`): its tree, config, discovered apps, and their
    renders, answered from discovery, the render cache or the tools."""

    checkout: Checkout
    config: Config
    ctx: RenderContext
    discovery: Discovery = field(default_factory=lambda: Discovery(apps=()))
    cache: RenderCache | None = None
    content: TreeContent | None = None  # file digests, for the render cache
    jobs: int = 1
    crds: tuple[Mapping[str, Any], ...] = ()  # CRDs written in the tree
    has_appsets: bool = False  # ApplicationSets in the tree (their git generators read its listing)
    subdir: str = ""  # the config repo's path inside the git repository
    top: Path = field(default_factory=Path)  # the git repository
    repo_path: str = ""  # the config repo as opened (absolute)
    remote_urls: tuple[str, ...] = ()  # its git remotes' URLs
    _inputs: InputIndex | None = field(default=None, repr=False)
    _inputs_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _by_id: dict[str, App] | None = field(default=None, repr=False)
    # The discovery its apps come from, as the digest of its snapshot's bytes, read from the render cache
    # or written there (a future while it is written); a head that reuses the base's discovery has the
    # base's. With the commit, what its render keys are remembered under (`_known_keys`). None: a
    # discovery the cache does not hold, whose keys are not remembered.
    discovered_as: Future[str | None] | None = None
    _keys: dict[str, str] | None = field(default=None, repr=False)
    _keys_id: str | None = field(default=None, repr=False)
    _keys_added: bool = field(default=False, repr=False)
    _keys_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def tree(self) -> Tree:
        """The revision's private tree (checked out on first use)."""
        return self.checkout.tree

    @property
    def revision(self) -> str:
        return self.ctx.revision

    @property
    def inputs(self) -> InputIndex:
        """Which files each app reads at this revision, and which apps read each file (built once)."""
        with self._inputs_lock:
            if self._inputs is None:
                apps = {a.id: a for a in self.discovery.apps}
                self._inputs = InputIndex.build(apps, self.ctx.root, self.ctx.graphs)
            return self._inputs

    def _inputs_of(self, app: App) -> Inputs:
        """The app's inputs from the index when it is one of this revision's apps (no tree needed)."""
        if self._inputs is not None:
            known = self._inputs.inputs.get(app.id)
            if known is not None and self._apps.get(app.id) is app:
                return known
        return app_inputs(app, self.ctx.root, self.ctx.graphs)

    @property
    def _apps(self) -> dict[str, App]:
        if self._by_id is None or len(self._by_id) != len(self.discovery.apps):
            self._by_id = {a.id: a for a in self.discovery.apps}
        return self._by_id

    def _cache_key(self, app: App, ctx: RenderContext) -> str | None:
        """The app's render cache key, or None when there is no cache or its render cannot be keyed.
        Computed before the render, from the revision's content as committed; or remembered from an
        earlier review of this revision (`_known_keys`)."""
        cache, content = self.cache, self.content
        if cache is None or content is None:
            return None
        known = self._known_keys() if ctx is self.ctx and self._apps.get(app.id) is app else None
        if known is not None:
            key = known.get(app.id)
            if key is not None:
                return key
        inputs = self._inputs_of(app)
        if not inputs.certain:
            return None
        try:
            key = render_key(app, ctx, inputs.directories, inputs.files, content)
        except Uncacheable:
            cache.stats.uncacheable += 1
            return None
        if known is not None:
            known[app.id] = key
            self._keys_added = True
        return key

    def _known_keys(self) -> dict[str, str] | None:
        """The render keys of this revision's apps worked out so far, by app id (rendering.cache.keys_id:
        read from the cache once, kept there by `keep_keys`); None when they cannot be remembered. A
        discovery still being written to the cache has none to read yet."""
        discovered = self.discovered_as
        if self._keys is None and discovered is not None and self.cache is not None:
            with self._keys_lock:
                if self._keys is None:
                    digest = _stored_as(discovered) if discovered.done() else None
                    if digest is not None:
                        self._keys_id = keys_id(digest, self.revision, self.subdir, self.ctx)
                        self._keys = self.cache.hint(self._keys_id, unpack_keys)
                    self._keys = self._keys or {}
        return self._keys

    def key_afresh(self, app: App) -> str | None:
        """The app's render key worked out again, in place of a remembered one (that found another app's
        render: the cache held a wrong key)."""
        known = self._known_keys()
        if known is not None:
            known.pop(app.id, None)
        return self._cache_key(app, self.ctx)

    def keep_keys(self) -> None:
        """Store the keys worked out by this review with those read (when it worked out any), once its
        discovery is in the cache (waiting for it to be written)."""
        if not self._keys_added or self.cache is None or self._keys is None or self.discovered_as is None:
            return
        if self._keys_id is None:
            digest = _stored_as(self.discovered_as)
            if digest is None:
                return
            self._keys_id = keys_id(digest, self.revision, self.subdir, self.ctx)
        self._keys_added = False
        self.cache.keep(self._keys_id, pack_keys(self._keys))

    def _render_and_store(self, app: App, ctx: RenderContext, key: str | None) -> RenderResult:
        result = render_app(app, ctx)
        if key is not None and self.cache is not None:
            self.cache.put(key, result)
        return result

    def render_app(self, app: App, ctx: RenderContext) -> RenderResult:
        """`render_app`, answered from the render cache when every input of the render is unchanged."""
        key = self._cache_key(app, ctx)
        if key is not None and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None and hit.app == app.id:
                return hit
            if hit is not None:  # another app's render: a wrong remembered key
                key = self.key_afresh(app) if ctx is self.ctx else None
        return self._render_and_store(app, ctx, key)

    def render(self, app: App) -> RenderResult:
        """The app's render, reusing one made during discovery."""
        cached = self.discovery.renders.get(app.id)
        if cached is not None:
            return cached
        return self._checked(app, self.render_app(app, self.ctx))

    def lookup(self, app: App) -> tuple[RenderResult | None, str | None]:
        """The app's render when it was made during discovery, else None and its cache key (if any): what
        `render` starts with, before the render cache is read (`RenderCache.entry`, then `hit`) or the
        app rendered (`render_missed`). Cheap enough to run before any render."""
        cached = self.discovery.renders.get(app.id)
        if cached is not None:
            return cached, None
        return None, self._cache_key(app, self.ctx)

    def hit(self, app: App, result: RenderResult) -> RenderResult:
        """`render` of an app that the render cache answered."""
        return self._checked(app, result)

    def render_missed(self, app: App, key: str | None) -> RenderResult:
        """`render` of an app that neither discovery nor the cache answered: rendered, and stored under `key`."""
        return self._checked(app, self._render_and_store(app, self.ctx, key))

    def _checked(self, app: App, result: RenderResult) -> RenderResult:
        missed = [r for r in result.resources if r.key.group == "argoproj.io" and r.key.kind in CHILD_KINDS]
        if missed:
            # Discovery decided this app holds no Applications, yet it renders some: its children were
            # not reviewed. Say so rather than pass.
            error = RenderError(
                app=app.id,
                message=f"renders {missed[0].key} (and {len(missed) - 1} more) that discovery did not expand; "
                "its child apps were not reviewed",
            )
            result = replace(result, errors=(*result.errors, error))
        return result

    def render_many(self, apps: list[App], jobs: int | None = None) -> list[RenderResult]:
        """`render` for each app, `jobs` at a time (default: one per core), in the order given."""
        if len(apps) < 2:
            return [self.render(app) for app in apps]
        with ThreadPoolExecutor(max_workers=jobs or self.jobs, thread_name_prefix="render") as pool:
            return list(pool.map(self.render, apps))

    def find(self, name: str) -> App:
        """An app by id (`[cluster/]namespace/name`) or plain name; ambiguity is a usage error."""
        exact = [a for a in self.discovery.apps if a.id == name]
        if exact:
            return exact[0]
        matches = [a for a in self.discovery.apps if a.name == name or a.id.endswith(f"/{name}")]
        if not matches:
            known = ", ".join(a.name for a in self.discovery.apps[:20]) or "none"
            raise UsageError(f"no app named {name!r} at {self.checkout.label} (apps: {known})")
        if len(matches) > 1:
            raise UsageError(f"{name!r} is ambiguous; use one of: {', '.join(a.id for a in matches)}")
        return matches[0]


def render_app(app: App, ctx: RenderContext) -> RenderResult:
    """`reviewer.rendering.render_app`, whose renderers are imported by the first render that the cache
    does not answer (a warm review needs none of them)."""
    from .rendering.render import render_app as render

    return render(app, ctx)


def discover(
    ctx: RenderContext, scan: Scan, *, render: Callable[[App, RenderContext], RenderResult], jobs: int
) -> Discovery:
    """`reviewer.discovery.graph.discover`, imported by the first revision that no snapshot answers."""
    from .discovery.graph import discover as run

    return run(ctx, scan, render=render, jobs=jobs)


def offline_default() -> bool:
    return os.environ.get("GITOPS_REVIEWER_OFFLINE", "").lower() in ("1", "true", "yes")


def default_jobs() -> int:
    """Renders at a time: one per core (kustomize and Helm are CPU-bound)."""
    return max(1, os.cpu_count() or 1)


def _config_of(top: Path, sha: str, subdir: str) -> Config:
    """The revision's own `.gitops-reviewer.yaml`, read from git (the defaults when it has none)."""
    text = read_text(top, sha, f"{subdir}/{CONFIG_FILE}" if subdir else CONFIG_FILE)
    return Config(source="(defaults)") if text is None else config_from_text(text, CONFIG_FILE)


@contextmanager
def open_revision(
    repo: Path,
    rev: str = WORKTREE,
    *,
    config_path: Path | None = None,
    config: Config | None = None,
    offline: bool | None = None,
    jobs: int | None = None,
    cache: RenderCache | None = None,
    reuse: RevisionView | None = None,
    content: TreeContent | None = None,
    checkouts: Checkouts | None = None,
    prefetch: str | None = None,
) -> Iterator[RevisionView]:
    """Open `rev` of the config repo at `repo`, read its config, and discover its apps.

    The config is `config_path` if given, else `config` (a review passes the base revision's to the head,
    so a change cannot weaken the gate that judges it), else the revision's own `.gitops-reviewer.yaml`.

    With a `cache`, a commit whose git tree was discovered before is not checked out: its discovery
    and selection index come from the cache, and the tree is materialised only if a render misses.
    `reuse`: another revision whose discovery is known to be this one's too (see discovery.incremental);
    `content`: the revision's file digests, when the caller has them already.
    `checkouts`: where the review's trees come from (and go), so that one can be made ahead of its use;
    `prefetch`: a revision the caller opens next (the head of a review): when this one has to be
    discovered from its tree, the other is checked out meanwhile, in the background, since its renders
    or its own discovery will then need its tree too."""
    jobs = jobs or default_jobs()
    offline = offline_default() if offline is None else offline
    with ExitStack() as stack:
        top = git_toplevel(repo)
        subdir = subdir_of(top, repo)
        tree_oid: str | None = None  # the config repo's git tree at `rev`, once asked for
        # Asked of git on other threads while this one works (each is a git process to wait for); their
        # results, or their errors, are taken below where they were asked for before.
        ahead = ThreadPoolExecutor(max_workers=2, thread_name_prefix="revision")
        stack.callback(ahead.shutdown, wait=True)
        where = os.fspath(repo.absolute())
        # The remotes of the repository `reuse` was opened in are this one's (read once per review).
        own_urls = reuse.remote_urls if reuse is not None and reuse.repo_path == where else None
        asked_urls = ahead.submit(remotes, repo) if own_urls is None else None
        asked_config = None
        if rev == WORKTREE:
            tree = stack.enter_context(materialise(repo, rev))
            checkout = Checkout(repo, rev, stack, tree)
            sha, content = tree.revision, tree.content
        else:
            sha = resolve_revision(top, rev)
            asked_config = ahead.submit(_config_of, top, sha, subdir) if config is None and not config_path else None
            likely = False  # that this revision is discovered from its tree (so checked out)
            if reuse is None and content is None:
                tree_oid = tree_id(top, sha, subdir) if cache is not None else None
                likely = tree_oid is None or cache is None or cache.remembered(snapshot_made(tree_oid)) is None
                if not likely:
                    # A discovery of this tree is cached: no checkout, but render keys need the commit's
                    # digests, listed by git meanwhile (see below).
                    stack.callback(list_ahead(top, sha, subdir, sized=False).join)
            if likely and checkouts is not None:
                # No discovery of this tree is known: it is checked out in the background while the
                # config is read and the snapshot key is worked out (hashing the tools), and handed out
                # just below. (A cached discovery needs no tree; a wrong guess costs a checkout.)
                checkouts.prefetch(repo, sha)
            checkout = checkouts.checkout(repo, sha, rev) if checkouts else Checkout(repo, sha, stack, label=rev)
            if likely and not checkout.materialised and checkouts is None:
                # Without a place for a checkout made ahead, at least its listing (with sizes) is.
                stack.callback(list_ahead(top, sha, subdir).join)
        if config_path:
            config = load_config(config_path, required=True)
        elif asked_config is not None:
            config = asked_config.result()
        elif config is None:
            config = load_config(checkout.root / CONFIG_FILE)  # the working tree's
        remote_urls = asked_urls.result() if asked_urls is not None else own_urls or ()
        urls = [*config.repos, *remote_urls]
        key = None
        snapshot = None
        discovered = reuse.discovered_as if reuse is not None else None
        if reuse is not None:
            snapshot = Snapshot(
                reuse.discovery,
                reuse.crds,
                reuse.ctx.escaping_symlinks,
                reuse.inputs.inputs,
                reuse.has_appsets,
            )
        elif cache is not None and rev != WORKTREE:
            tree_oid = tree_oid or tree_id(top, sha, subdir)
            key = snapshot_key(tree_oid, config, urls, offline)
            # A decoded discovery lives as long as the review and holds no cycles: no collection walks
            # it while it is made (one took longer than the decoding), nor after (reviewer.collector).
            with collector_paused(freeze=True):
                read = cache.read(key, _snapshot_read)
            snapshot, digest = read if read is not None else (None, None)
            if snapshot is not None and snapshot.revision not in ("", sha):
                snapshot = None  # made at another commit of this tree, and a parent renders the commit
            elif snapshot is not None:
                discovered = _discovered(digest)
        crds = snapshot.crds if snapshot else None
        scan = None
        parsed: dict[str, list[Document]] = {}
        if crds is None and checkouts is not None and prefetch is not None and prefetch != WORKTREE:
            with suppress(GitError):  # an unknown revision is reported when it is opened
                checkouts.prefetch(repo, resolve_revision(top, prefetch))
        if cache is not None and content is None and rev != WORKTREE:
            # A tree about to be scanned is checked out with its digests; otherwise ask git for them alone.
            content = checkout.tree.content if crds is None else TreeContent.from_commit(top, sha, subdir)
        if crds is None:
            scan = scan_tree(checkout.root, config.ignore, parsed)
            crds = tuple(scan.crds)
        ctx = RenderContext(
            checkout=checkout,
            revision=sha,
            config=config,
            identity=RepoIdentity.of(urls or [LOCAL_REPO_URL]),
            repo_url=(urls or [LOCAL_REPO_URL])[0],
            scopes=ScopeTable.build(cluster_scoped=config.cluster_scoped, namespaced=config.namespaced, crds=crds),
            cache_dir=Path(config.chart_cache).expanduser()
            if config.chart_cache
            else (cache.directory.parent / "charts" if cache else None),
            offline=offline,
            crd_api_versions=crd_api_versions(list(crds)),
            escaping_symlinks=snapshot.escaping_symlinks if snapshot else checkout.tree.escaping_symlinks,
            parsed_yaml=parsed,
        )
        view = RevisionView(
            checkout=checkout,
            config=config,
            ctx=ctx,
            cache=cache,
            content=content,
            jobs=jobs,
            crds=crds,
            subdir=subdir,
            top=top,
            repo_path=where,
            remote_urls=remote_urls,
            # A working tree's content is not named by its revision: its keys are never remembered.
            discovered_as=None if rev == WORKTREE else discovered,
        )
        stack.callback(view.keep_keys)
        if snapshot is not None:
            view.discovery = snapshot.discovery
            view.has_appsets = snapshot.appsets
            view._inputs = reuse.inputs if reuse is not None else InputIndex.from_inputs(snapshot.inputs)
        else:
            assert scan is not None
            view.discovery = discover(ctx, scan, render=view.render_app, jobs=jobs)
            view.has_appsets = any(d.kind == "ApplicationSet" for d in scan.docs) or any(
                a.generator for a in view.discovery.apps
            )
            if key is not None and cache is not None and content is not None:
                bound = revision_dependence(parent_manifests(view.discovery), view.inputs.inputs, content)
                made = Snapshot(
                    view.discovery,
                    crds,
                    ctx.escaping_symlinks,
                    view.inputs.inputs,
                    view.has_appsets,
                    revision=sha if bound else "",
                )
                # Written while the review goes on (its renders run in other processes); done before
                # the revision is closed.
                saving = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot")
                stack.callback(saving.shutdown, wait=True)
                view.discovered_as = saving.submit(_snapshot_stored, cache, key, made)
                assert tree_oid is not None
                saving.submit(cache.remember, snapshot_made(tree_oid), key)
        yield view
