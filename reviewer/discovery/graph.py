"""The app graph of a revision: root Applications, app-of-apps children, ApplicationSet outputs.

Roots are the Application/ApplicationSet documents that no other app's source directory contains,
plus the apps declared in `.gitops-reviewer.yaml`. Each app whose source may hold Argo CD documents
is rendered; the Applications and ApplicationSets in its output are its children, recursively. A
document inside some app's source directory that its render does not produce is not live (e.g.
commented out of a kustomization) and is reported as unreferenced, not rendered.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RenderFailure
from ..records import App, Discovery, Location, RenderError, RenderResult, Resource, Unrendered
from ..rendering import render_app
from ..rendering.context import RenderContext
from ..rendering.kustomize_graph import find_kustomization, walk_kustomization
from ..rendering.source import detect_type, resolve_path
from ..trees import resolved, resolved_text
from .applications import (
    DEFAULT_CONTROL_NAMESPACE,
    InvalidApplication,
    config_app_manifest,
    parse_application,
)
from .scan import APPLICATION_KIND, ArgoDoc, Scan

# A commit SHA or a version tag: the source does not follow the branch under review.
PINNED_REVISION = re.compile(r"^(?:[0-9a-f]{7,40}|v?\d+\.\d+(?:\.\d+)?(?:[-+][\w.-]+)?)$")
IN_CLUSTER = ("https://kubernetes.default.svc", "https://kubernetes.default.svc/")
MAX_DEPTH = 20


def child_control_plane(parent: App) -> str:
    """Where a child Application object lives: the parent's destination cluster (the parent's own
    Argo CD when that destination is in-cluster)."""
    dest = parent.destination
    if dest.server in IN_CLUSTER or dest.name == "in-cluster" or not dest.cluster:
        return parent.control_plane
    return dest.cluster


@dataclass(slots=True)
class _Graph:
    ctx: RenderContext
    scan: Scan
    render: Callable[[App, RenderContext], RenderResult]
    pool: Executor | None = None  # renders parents ahead of their turn, in parallel (bounded by --jobs)
    apps: dict[str, App] = field(default_factory=dict)
    renders: dict[str, RenderResult] = field(default_factory=dict)
    unrendered: list[Unrendered] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[RenderError] = field(default_factory=list)
    produced_files: set[tuple[str, int | None]] = field(default_factory=set)
    argo_dirs: set[str] = field(default_factory=set)  # every directory with an Argo CD document below it
    _claims: dict[int, list[tuple[Path, bool]]] = field(default_factory=dict)
    _chart_holds_apps: dict[Path, bool] = field(default_factory=dict)
    _pending: dict[int, tuple[App, Future[RenderResult]]] = field(default_factory=dict)
    _holds_apps: dict[int, bool] = field(default_factory=dict)
    _is_chart: dict[Path, bool] = field(default_factory=dict)
    _source_dirs: dict[str, Path | str] = field(default_factory=dict)  # or why the path is refused
    _listed_types: dict[str, str] = field(default_factory=dict)  # detect_type's answers from the files
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = resolved(self.ctx.root)
        for file in self.scan.argo_files:
            parts = file.split("/")
            self.argo_dirs.update("/".join(parts[:i]) for i in range(len(parts)))

    # --- which directories an app claims -------------------------------------------------------

    def claims(self, app: App) -> list[tuple[Path, bool]]:
        known = self._claims.get(id(app))
        if known is not None:
            return known
        out = []
        for source in app.sources:
            # A repoURL that is empty or an unfilled placeholder (`${GIT_REPO}`, filled in by a bootstrap
            # script or a parent's patch) may well be this repo: it still claims its path here.
            if source.path is None or source.origin not in ("repo", "unresolved"):
                continue
            try:
                app_dir = self._source_dir(source.path)
                kind = detect_type(source, app_dir, self._listed_types)
            except RenderFailure:
                continue
            directory = source.spec.get("directory") if isinstance(source.spec.get("directory"), Mapping) else {}
            recursive = kind != "directory" or bool(directory and directory.get("recurse"))
            out.append((app_dir, recursive))
        self._claims[id(app)] = out  # the app object lives as long as the graph: its id is stable
        return out

    def _source_dir(self, path: str) -> Path:
        """`resolve_path` of a source path, once per path (the tree does not change during discovery:
        a render writes Argo CD's kustomize edits into files that exist, never a new one)."""
        known = self._source_dirs.get(path)
        if known is None:
            try:
                known = resolve_path(self.ctx.root, path)
            except RenderFailure as exc:
                known = str(exc)
            self._source_dirs[path] = known
        if isinstance(known, str):
            raise RenderFailure(known)
        return known

    def may_hold_apps(self, app: App) -> bool:
        """Whether rendering `app` could yield Applications: some file it reads has `kind: Application(Set)`."""
        known = self._holds_apps.get(id(app))
        if known is None:
            known = self._holds_apps[id(app)] = self._may_hold_apps(app)
        return known

    def _may_hold_apps(self, app: App) -> bool:
        root = str(self.root)
        inside = f"{root}/"
        seen: set[Path] = set()
        stack = [d for d, _ in self.claims(app)]  # resolved by resolve_path
        while stack:
            directory = stack.pop()
            if directory in seen:
                continue
            seen.add(directory)
            text = str(directory)
            if text == root:
                rel = ""
            elif text.startswith(inside):
                rel = text[len(inside) :]
            else:
                continue
            if rel in self.argo_dirs:
                return True
            stack.extend(d for d in self.ctx.graphs.walk(directory).directories if d not in seen)
        # Charts (their subcharts included): templates are skipped by the scan, so look at them directly.
        if any(self._chart_may_hold_apps(directory) for directory in seen if self._chart_dir(directory)):
            return True
        # A chart from a chart repository cannot be looked into before it is pulled: render it.
        return any(source.origin == "chart" for source in app.sources)

    def _chart_dir(self, directory: Path) -> bool:
        known = self._is_chart.get(directory)
        if known is None:
            known = self._is_chart[directory] = os.path.isfile(os.path.join(directory, "Chart.yaml"))
        return known

    def _chart_may_hold_apps(self, directory: Path) -> bool:
        """Whether a chart's templates mention `kind: Application(Set)` (read once per chart and revision)."""
        known = self._chart_holds_apps.get(directory)
        if known is None:
            known = False
            for path in directory.rglob("*"):
                in_templates = "templates" in path.relative_to(directory).parts[:-1]
                if in_templates and path.is_file() and APPLICATION_KIND.search(path.read_text(errors="replace")):
                    known = True
                    break
            self._chart_holds_apps[directory] = known
        return known

    def prefetch(self, apps: list[App], ancestors: tuple[str, ...]) -> None:
        """Start rendering, in parallel, the apps `add` will render next (app-of-apps parents): `add`
        still visits them one by one in document order, so the graph is the one a serial walk builds."""
        if self.pool is None:
            return
        for app in apps:
            if app.id in self.apps or app.id in ancestors or id(app) in self._pending:
                continue
            if self.may_hold_apps(app):
                self._pending[id(app)] = (app, self.pool.submit(self.render, app, self.ctx))

    def render_now(self, app: App) -> RenderResult:
        pending = self._pending.pop(id(app), None)
        return pending[1].result() if pending else self.render(app, self.ctx)

    def unlisted_by_failed_parents(self, location: Location, owners: list[App]) -> bool:
        """True when every claimer that failed to render is a kustomize app whose local kustomization
        graph (readable without the part that failed, e.g. a remote base) does not list this file: the
        document is not part of that parent even though its render could not be completed."""
        failed = [o for o in owners if o.id in self.renders and self.renders[o.id].errors]
        if not failed or len(failed) != len([o for o in owners if o.id in self.apps]):
            return False
        path = resolved(self.ctx.root / location.file)
        for owner in failed:
            listed = False
            for source in owner.sources:
                if source.origin != "repo" or source.path is None:
                    return False
                try:
                    app_dir = resolve_path(self.ctx.root, source.path)
                except RenderFailure:
                    return False
                if find_kustomization(app_dir) is None:
                    return False
                graph = walk_kustomization(app_dir, self.ctx.graphs)
                if graph.unreadable:
                    return False
                listed = listed or path in graph.files
            if listed:
                return False
        return True

    # --- building apps -------------------------------------------------------------------------

    def parse(self, doc: Mapping[str, Any], location: Location | None, **kw: Any) -> App | None:
        try:
            return parse_application(doc, self.ctx.identity, defined_in=location, **kw)
        except InvalidApplication as exc:
            where = f"{location}: " if location else ""
            self.warnings.append(f"{where}{exc}; skipped")
            return None

    def expand_appset(self, doc: Mapping[str, Any], location: Location | None, parent: App | None) -> list[App]:
        from .appsets import expand_appset

        meta = doc.get("metadata") if isinstance(doc.get("metadata"), Mapping) else {}
        assert isinstance(meta, Mapping)
        name = f"{meta.get('namespace') or DEFAULT_CONTROL_NAMESPACE}/{meta.get('name')}"
        expansion = expand_appset(
            doc,
            tree_root=self.ctx.root,
            is_this_repo=self.ctx.identity.is_this_repo,
            clusters=self.ctx.config.clusters,
            file=location.file if location else None,
        )
        self.unrendered.extend(expansion.unrendered)
        for err in expansion.errors:
            self.errors.append(RenderError(app=f"ApplicationSet {name}", message=err))
        control_plane = child_control_plane(parent) if parent else ""
        apps = []
        for generated in expansion.applications:
            app = self.parse(
                generated,
                location,
                parent=parent.id if parent else None,
                generator=f"ApplicationSet {name}",
                control_plane=control_plane,
            )
            if app:
                apps.append(app)
        return apps

    def add(self, app: App, ancestors: tuple[str, ...]) -> None:
        if ancestors and app.id == ancestors[-1]:
            return  # an app that manages its own Application object
        if app.id in ancestors:
            self.warnings.append(f"app-of-apps cycle: {' -> '.join((*ancestors, app.id))}; not expanded again")
            return
        existing = self.apps.get(app.id)
        if existing is not None:
            if existing.parent is None and app.parent is not None:
                # A root candidate turns out to be some app's child: keep the child's view.
                self.apps[app.id] = app
            elif existing.parent != app.parent or existing.generator != app.generator:
                self.warnings.append(
                    f"Application {app.id} is defined by both {existing.parent or existing.defined_in} and "
                    f"{app.parent or app.defined_in}; the first is kept"
                )
            return
        self.apps[app.id] = app
        if len(ancestors) >= MAX_DEPTH:
            self.warnings.append(f"app-of-apps deeper than {MAX_DEPTH} levels under {ancestors[0]}; stopped")
            return
        if not self.may_hold_apps(app):
            return
        result = self.render_now(app)
        self.renders[app.id] = result
        if result.errors:
            return  # its children are unknown: the render error says so (fail closed)
        # First every child (so their own renders can start together), then each in document order.
        children: list[App | RenderError | Resource] = []
        for resource in result.resources:
            if resource.key.group != "argoproj.io" or resource.key.kind not in (
                "Application",
                "ApplicationSet",
            ):
                continue
            if resource.location:
                self.produced_files.add((resource.location.file, resource.location.line))
            if resource.key.kind == "Application":
                try:
                    children.append(
                        parse_application(
                            resource.body,
                            self.ctx.identity,
                            defined_in=resource.location,
                            parent=app.id,
                            control_plane=child_control_plane(app),
                            default_namespace=resource.key.namespace or DEFAULT_CONTROL_NAMESPACE,
                        )
                    )
                except InvalidApplication as exc:
                    # The parent's sync would apply it and fail: that is the parent's error, not a skip.
                    children.append(RenderError(app=app.id, message=f"renders an invalid Application: {exc}"))
            else:
                children.append(resource)
        lineage = (*ancestors, app.id)
        self.prefetch([c for c in children if isinstance(c, App)], lineage)
        for child in children:
            if isinstance(child, RenderError):
                self.errors.append(child)
            elif isinstance(child, App):
                self.add(child, lineage)
            else:
                for generated in self.expand_appset(child.body, child.location, app):
                    self.add(generated, lineage)


def discover(
    ctx: RenderContext,
    scan: Scan,
    *,
    render: Callable[[App, RenderContext], RenderResult] = render_app,
    jobs: int = 1,
) -> Discovery:
    """All apps of the tree in `ctx`, with the renders done along the way (reusable by the caller).
    App-of-apps parents render `jobs` at a time."""
    if jobs > 1:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="discover") as pool:
            return _discover(_Graph(ctx=ctx, scan=scan, render=render, pool=pool))
    return _discover(_Graph(ctx=ctx, scan=scan, render=render))


def _discover(graph: _Graph) -> Discovery:
    ctx, scan = graph.ctx, graph.scan
    graph.warnings.extend(scan.warnings)
    candidates: list[tuple[ArgoDoc | None, App]] = []
    for entry in ctx.config.apps:
        manifest = config_app_manifest(entry, ctx.repo_url)
        app = graph.parse(
            manifest,
            Location(ctx.config.source or ".gitops-reviewer.yaml"),
            control_plane=str(entry.get("controlPlane") or ""),
        )
        if app:
            candidates.append((None, app))
    appset_docs: list[ArgoDoc] = []
    for doc in scan.docs:
        if doc.kind == "Application":
            app = graph.parse(doc.body, doc.location)
            if app:
                candidates.append((doc, app))
        else:
            appset_docs.append(doc)
    generated: list[tuple[ArgoDoc, App]] = []
    for set_doc in appset_docs:
        generated.extend((set_doc, app) for app in graph.expand_appset(set_doc.body, set_doc.location, None))

    # Which documents sit inside another app's source directory (and so are not roots).
    all_claims = [(app, graph.claims(app)) for _, app in [*candidates, *generated]]
    root = resolved(ctx.root)

    # directory -> [(app, recursive)]: a document is claimed by its own directory's apps and by the
    # recursive claims of the directories above it (one walk up per document, not a scan of all apps).
    by_directory: dict[str, list[tuple[App, bool]]] = {}
    for app, claims in all_claims:
        for directory, recursive in claims:
            by_directory.setdefault(directory.as_posix(), []).append((app, recursive))

    root_text = str(root)

    def claimed_by(doc: ArgoDoc, own: App | None) -> list[App]:
        directory = resolved_text(os.path.join(root_text, doc.location.file))
        owners: list[App] = []
        seen: set[int] = set()
        depth = 0
        # The directories above the document, innermost first, up to the root (strings: one walk per
        # document of a large repo).
        while (parent := os.path.dirname(directory)) != directory:
            directory = parent
            for app, recursive in by_directory.get(directory, ()):
                if (depth == 0 or recursive) and id(app) not in seen:
                    seen.add(id(app))
                    if own is None and app.defined_in == doc.location and app.generator:
                        continue  # an ApplicationSet's own output
                    owners.append(app)
            if directory == root_text:
                break
            depth += 1
        # Innermost first (the walk goes up): the most likely parent, and the one named in messages.
        return owners

    claimers: dict[Location, list[App]] = {}
    apps_at: dict[Location, list[App]] = {}
    for maybe_doc, app in [*candidates, *generated]:
        if maybe_doc is not None:
            apps_at.setdefault(maybe_doc.location, []).append(app)
    for maybe_doc, app in candidates:
        if maybe_doc is not None:
            owners = claimed_by(maybe_doc, app)
            if owners:
                claimers[maybe_doc.location] = owners
    for set_doc in appset_docs:
        owners = claimed_by(set_doc, None)
        if owners:
            claimers[set_doc.location] = owners

    def unclaimed(location: Location) -> bool:
        # An app whose own directory holds its manifest manages itself: that alone does not make it a child.
        return all(owner in apps_at.get(location, []) for owner in claimers.get(location, []))

    roots = [app for doc, app in candidates if doc is None or unclaimed(doc.location)]
    roots += [app for doc, app in generated if unclaimed(doc.location)]
    graph.prefetch(roots, ())
    for app in roots:
        graph.add(app, ())

    # Self-managing loops (Argo CD's own Application inside a tree it syncs: A renders B renders A) have
    # no unclaimed document; and when a parent fails to render, the child Applications already in the
    # cluster keep syncing. So a claimed document that no successfully rendered app accounts for is
    # reviewed as a root, preferring an app that contains its own manifest (the loop's entry point).
    def accounted(owner: App) -> bool:
        return owner.id in graph.apps and not (owner.id in graph.renders and graph.renders[owner.id].errors)

    def self_managing(loc: Location) -> bool:
        return any(a in claimers[loc] for a in apps_at.get(loc, []))

    for _ in range(len(claimers) + 1):
        memo: dict[Location, bool] = {}

        def orphaned(loc: Location, memo: dict[Location, bool] = memo) -> bool:
            if loc not in memo:
                memo[loc] = True  # a location being visited is part of a loop: no live app accounts for it
                memo[loc] = not any(
                    accounted(owner)
                    or (
                        owner.id not in graph.apps
                        and owner.defined_in is not None
                        and not orphaned(owner.defined_in, memo)
                    )
                    for owner in claimers.get(loc, [])
                )
            return memo[loc]

        pending = [
            loc
            for loc in claimers
            if not any(a.id in graph.apps for a in apps_at.get(loc, []))
            and orphaned(loc)
            and not graph.unlisted_by_failed_parents(loc, claimers[loc])
        ]
        if not pending:
            break
        # Children of failed parents all at once; a loop one entry at a time (the rest follow from it).
        # (Only documents all of whose claimers are known to have failed: an unreached claimer may yet
        # turn out to be the real parent.)
        orphans = [loc for loc in pending if all(o.id in graph.apps for o in claimers[loc])]
        starts = orphans or [min(pending, key=lambda loc: (not self_managing(loc), str(loc)))]
        for start in starts:
            failed = [o.id for o in claimers[start] if o.id in graph.apps and not accounted(o)]
            for app in apps_at.get(start, []):
                if failed:
                    graph.warnings.append(
                        f"{app.id}: its parent {failed[0]} failed to render, so whether it still produces this "
                        "Application is unknown; reviewed as a root"
                    )
                else:
                    graph.warnings.append(f"{app.id} is part of a self-managing app-of-apps loop; treated as a root")
                graph.add(app, ())

    for location, owners in sorted(claimers.items(), key=lambda item: str(item[0])):
        if (location.file, location.line) in graph.produced_files or (location.file, None) in graph.produced_files:
            continue
        if any(a.id in graph.apps for a in apps_at.get(location, [])):
            continue
        owner = next((o for o in owners if o.id in graph.apps), owners[0])
        if owner.id not in graph.apps:
            reason = f"inside the source of {owner.id}, which is not itself live"
        elif owner.id in graph.renders and graph.renders[owner.id].errors:
            reason = (
                f"not listed by the kustomization of {owner.id} (whose render failed)"
                if graph.unlisted_by_failed_parents(location, owners)
                else f"inside the source of {owner.id}, whose render failed"
            )
        else:
            reason = f"inside the source of {owner.id} but not part of its rendered output (unreferenced)"
        graph.unrendered.append(Unrendered(what=f"document at {location}", reason=reason, location=location))

    for app in graph.apps.values():
        for i, source in enumerate(app.sources):
            if source.origin == "repo" and PINNED_REVISION.match(source.target_revision):
                graph.warnings.append(
                    f"{app.id} source #{i + 1} is pinned to {source.target_revision}: Argo CD deploys that "
                    "revision, while this review renders the revision under review"
                )
            if source.origin in ("external", "unresolved"):
                reason = (
                    f"another Git repository ({source.repo_url}) is not rendered"
                    if source.origin == "external"
                    else (
                        f"repoURL {source.repo_url!r} is an unfilled placeholder"
                        if source.repo_url
                        else "the source has no repoURL"
                    )
                )
                graph.unrendered.append(
                    Unrendered(what=f"{app.id} source #{i + 1}", reason=reason, location=app.defined_in)
                )
    apps = tuple(sorted(graph.apps.values(), key=lambda a: a.id))
    return Discovery(
        apps=apps,
        unrendered=tuple(graph.unrendered),
        warnings=tuple(dict.fromkeys(graph.warnings)),
        errors=tuple(graph.errors),
        renders=dict(graph.renders),
    )
