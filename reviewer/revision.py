"""One revision of the config repo, opened for review: its tree, config, apps and renders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from .config import CONFIG_FILE, Config, load_config
from .discovery.graph import discover
from .discovery.repos import RepoIdentity
from .discovery.scan import crd_api_versions, scan_tree
from .errors import UsageError
from .records import App, Discovery, RenderError, RenderResult
from .rendering import render_app
from .rendering.context import RenderContext
from .rendering.scopes import ScopeTable
from .selection import InputIndex
from .trees import WORKTREE, Tree, materialise, remotes

LOCAL_REPO_URL = "https://config-repo.invalid/local"
CHILD_KINDS = ("Application", "ApplicationSet")


@dataclass
class RevisionView:
    tree: Tree
    config: Config
    ctx: RenderContext
    discovery: Discovery
    _inputs: InputIndex | None = field(default=None, repr=False)

    @property
    def inputs(self) -> InputIndex:
        """Which files each app reads at this revision, and which apps read each file (built once)."""
        if self._inputs is None:
            self._inputs = InputIndex.build({a.id: a for a in self.discovery.apps}, self.ctx.root, self.ctx.graphs)
        return self._inputs

    def render(self, app: App) -> RenderResult:
        """The app's render, reusing one made during discovery."""
        cached = self.discovery.renders.get(app.id)
        if cached is not None:
            return cached
        result = render_app(app, self.ctx)
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

    def find(self, name: str) -> App:
        """An app by id (`[cluster/]namespace/name`) or plain name; ambiguity is a usage error."""
        exact = [a for a in self.discovery.apps if a.id == name]
        if exact:
            return exact[0]
        matches = [a for a in self.discovery.apps if a.name == name or a.id.endswith(f"/{name}")]
        if not matches:
            known = ", ".join(a.name for a in self.discovery.apps[:20]) or "none"
            raise UsageError(f"no app named {name!r} at {self.tree.label} (apps: {known})")
        if len(matches) > 1:
            raise UsageError(f"{name!r} is ambiguous; use one of: {', '.join(a.id for a in matches)}")
        return matches[0]


def offline_default() -> bool:
    return os.environ.get("GITOPS_REVIEWER_OFFLINE", "").lower() in ("1", "true", "yes")


def default_jobs() -> int:
    """Renders at a time: one per core (kustomize and Helm are CPU-bound)."""
    return max(1, os.cpu_count() or 1)


@contextmanager
def open_revision(
    repo: Path,
    rev: str = WORKTREE,
    *,
    config_path: Path | None = None,
    config: Config | None = None,
    offline: bool | None = None,
    jobs: int | None = None,
) -> Iterator[RevisionView]:
    """Materialise `rev` of the config repo at `repo`, read its config, and discover its apps.

    The config is `config_path` if given, else `config` (a review passes the base revision's to the head,
    so a change cannot weaken the gate that judges it), else the revision's own `.gitops-reviewer.yaml`."""
    with materialise(repo, rev) as tree:
        if config_path:
            config = load_config(config_path, required=True)
        elif config is None:
            config = load_config(tree.root / CONFIG_FILE)
        urls = [*config.repos, *remotes(repo)]
        identity = RepoIdentity.of(urls or [LOCAL_REPO_URL])
        scan = scan_tree(tree.root, config.ignore)
        ctx = RenderContext(
            root=tree.root,
            revision=tree.revision,
            config=config,
            identity=identity,
            repo_url=(urls or [LOCAL_REPO_URL])[0],
            scopes=ScopeTable.build(cluster_scoped=config.cluster_scoped, namespaced=config.namespaced, crds=scan.crds),
            cache_dir=Path(config.chart_cache).expanduser() if config.chart_cache else None,
            offline=offline_default() if offline is None else offline,
            crd_api_versions=crd_api_versions(scan.crds),
            escaping_symlinks=tree.escaping_symlinks,
        )
        discovery = discover(ctx, scan, jobs=jobs or default_jobs())
        yield RevisionView(tree=tree, config=config, ctx=ctx, discovery=discovery)
