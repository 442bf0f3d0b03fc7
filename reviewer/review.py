"""The review pipeline (DESIGN.md): change -> trees -> discover -> select -> render -> diff -> verdict.

Findings come from the evaluation stage when it exists; this module owns the order of the stages,
the parallel renders, the timings and the verdict, and never lets a failure look like "no change".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from . import __version__
from .change import ChangeSpec
from .collector import collector_paused, keep_until_exit
from .config import CONFIG_FILE, Config
from .diff import diff_renders
from .discovery.incremental import head_discovery_needed, parent_manifests
from .evaluation import run_rules
from .llm.options import LlmOptions
from .llm.settings import effective_settings
from .policies.context import EvaluationContext
from .records import (
    App,
    AppStatus,
    Change,
    Finding,
    RenderError,
    RenderResult,
    Report,
    severity_rank,
)
from .rendering.cache import RenderCache
from .revision import RevisionView, default_jobs, open_revision
from .selection import Selection, select_apps
from .trees import WORKTREE, Checkouts, TreeContent, git_toplevel, list_ahead, subdir_of

if TYPE_CHECKING:
    from .policies.user import UserPolicy

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a scoped review rendered and could not discover, for its scope to keep (reviewer.shards)."""

    discovery_errors: tuple[RenderError, ...]  # the report's errors start with these
    base: Mapping[str, RenderResult]  # the scope's apps at base, in selection order
    head: Mapping[str, RenderResult]
    base_apps: Mapping[str, App]  # every app of each revision
    head_apps: Mapping[str, App]
    config: Config


class ReviewScope(Protocol):
    """Part of the selected apps to review instead of all of them: one shard's share (reviewer.shards)."""

    def narrow(self, selection: Selection, base: RevisionView, head: RevisionView) -> Mapping[str, str]:
        """The selected apps (id -> why) to render and judge: a part of `selection.selected`."""
        ...

    def rendered(self, rendered: Rendered) -> None:
        """Called once the scoped apps are rendered and judged."""
        ...


@dataclass
class _Clock:
    """The stages' timings, in order."""

    timings: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings.append((name, round(time.perf_counter() - started, 3)))


def tool_versions() -> tuple[tuple[str, str], ...]:
    # Imported here: a warm review takes the versions from the render cache and renders nothing, so it
    # need not load the renderers at all.
    from .rendering.helm import helm_version
    from .rendering.kustomize import kustomize_version

    return (("gitops-reviewer", __version__), ("kustomize", kustomize_version()), ("helm", helm_version()))


def verdict(errors: tuple[RenderError, ...], findings: tuple[Finding, ...], fail_on: str) -> str:
    """`error` when anything could not be rendered (fail closed), `fail` when a finding reaches `fail_on`."""
    if errors:
        return "error"
    threshold = severity_rank(fail_on)
    if any(not f.waived and severity_rank(f.severity) >= threshold for f in findings):
        return "fail"
    return "pass"


def _render_all(
    jobs: list[tuple[RevisionView, App]], progress: Progress | None, workers: int
) -> dict[tuple[int, str], RenderResult]:
    """Render (view, app) pairs in parallel, `workers` at a time; Helm renders in process, kustomize in
    subprocesses, both release the GIL.

    Renders the cache answers are looked up here, one after the other, and only the others go to the
    pool as soon as they are found: answering from the cache is Python work that threads cannot share
    (the GIL), so handing thousands of hits to them would only add their hand-overs. The hits' records
    are made together once every entry is read (`RenderCache.renders`)."""
    results: dict[tuple[int, str], RenderResult] = {}
    total = len(jobs)
    done = 0

    def finished(view: RevisionView, app: App, result: RenderResult) -> None:
        nonlocal done
        results[(id(view), app.id)] = result
        done += 1
        if progress:
            progress(done, total, app.id)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render") as pool:
        futures: dict[Future[RenderResult], tuple[RevisionView, App]] = {}
        # Decoded cache entries live until the review ends and hold no cycles: later collections need
        # not walk them again. Renders that miss run meanwhile on other threads, collected as usual after.
        with collector_paused(freeze=True):
            read: dict[RenderCache, list[tuple[RevisionView, App, str, dict[str, Any]]]] = {}  # by cache
            for view, app in jobs:
                found, key = view.lookup(app)
                if found is not None:
                    finished(view, app, found)
                    continue
                data = None if key is None or view.cache is None else view.cache.entry(key)
                if data is None:
                    futures[pool.submit(view.render_missed, app, key)] = (view, app)
                    continue
                assert key is not None and view.cache is not None
                read.setdefault(view.cache, []).append((view, app, key, data))
            for cache, entries in read.items():
                made = cache.renders([(key, data) for _, _, key, data in entries])
                for (view, app, key, _), hit in zip(entries, made, strict=True):
                    if hit is not None and hit.app != app.id:  # another app's render: a wrong remembered key
                        hit, key = None, view.key_afresh(app)
                    if hit is None:  # damaged (removed), or not this app's: rendered
                        futures[pool.submit(view.render_missed, app, key)] = (view, app)
                    else:
                        finished(view, app, view.hit(app, hit))
        for future in as_completed(futures):
            finished(*futures[future], future.result())
    return results


def _statuses(
    selected: Mapping[str, str],
    base_apps: Mapping[str, App],
    head_apps: Mapping[str, App],
    changes: tuple[Change, ...],
    renders: Mapping[str, list[RenderResult]],
) -> list[AppStatus]:
    changed_apps = {c.app for c in changes} | {c.from_app for c in changes if c.from_app}
    statuses = []
    for app_id, reason in selected.items():
        b, h = base_apps.get(app_id), head_apps.get(app_id)
        errors = [e for result in renders.get(app_id, []) for e in result.errors]
        if errors:
            first = errors[0].message.splitlines()[0] if errors[0].message else "render failed"
            reason = f"{reason}; not rendered: {first}"
        if b is None:
            state = "added"
        elif h is None:
            state = "removed"
        elif errors:
            state = "not-rendered"  # nothing was compared: neither "changed" nor "unchanged" would be true
        else:
            state = "changed" if app_id in changed_apps else "unchanged"
        either = h or b
        name = either.name if either is not None else app_id
        statuses.append(AppStatus(app=app_id, name=name, state=state, base=b, head=h, reason=reason))
    return statuses


def _same_discovery(base: RevisionView, change: ChangeSpec, head_content: TreeContent | None) -> bool:
    """Whether the head's discovery is the base's (discovery.incremental): a commit head whose changed
    files discovery does not read, at a base whose discovery fully succeeded."""
    if change.head == WORKTREE or base.discovery.errors or any(r.errors for r in base.discovery.renders.values()):
        return False
    assert head_content is not None
    reason = head_discovery_needed(
        top=base.top,
        subdir=base.subdir,
        base_sha=base.revision,
        head_sha=change.head,
        changed=change.changed_paths,
        base_content=base.content or TreeContent.from_commit(base.top, base.revision, base.subdir),
        head_content=head_content,
        base_index=base.inputs,
        parents=parent_manifests(base.discovery),
        has_appsets=base.has_appsets,
    )
    return reason is None


def review(
    change: ChangeSpec,
    *,
    fail_on: str = "error",
    all_apps: bool = False,
    offline: bool | None = None,
    config_path: Path | None = None,
    progress: Progress | None = None,
    rules: list[ModuleType] | None = None,
    llm: LlmOptions | None = None,
    scope: ReviewScope | None = None,
    jobs: int | None = None,
    cache: RenderCache | None = None,
) -> Report:
    """Review one change and build the report every output format is made from. `jobs`: renders at a
    time (default: one per core).

    With a `scope`, only the selected apps it keeps are rendered, diffed and judged (the rules still
    see every discovered app); everything else is as without one."""
    clock = _Clock()
    warnings: list[str] = []
    workers = jobs or default_jobs()
    # Asking the tools their versions (a `kubectl version`, loading the Helm engine) overlaps discovery.
    versions_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tool-versions")
    versions = versions_pool.submit(cache.tool_versions if cache else lambda ask: ask(), tool_versions)
    versions_pool.shutdown(wait=False)
    with ExitStack() as stack:
        if change.head != WORKTREE:
            # The head commit's listing (what its render keys and the discovery check read) is asked of
            # git while the base is opened; asked for below, it is waited for rather than made again.
            top = git_toplevel(change.repo)
            stack.callback(list_ahead(top, change.head, subdir_of(top, change.repo), sized=False).join)
        checkouts = stack.enter_context(Checkouts())
        with clock.stage("discover base"):
            base = stack.enter_context(
                open_revision(
                    change.repo,
                    change.base,
                    config_path=config_path,
                    offline=offline,
                    jobs=workers,
                    cache=cache,
                    checkouts=checkouts,
                    prefetch=change.head,
                )
            )
        with clock.stage("discover head"):
            head_content = (
                None if change.head == WORKTREE else TreeContent.from_commit(base.top, change.head, base.subdir)
            )
            reuse = base if _same_discovery(base, change, head_content) else None
            head = stack.enter_context(
                open_revision(
                    change.repo,
                    change.head,
                    config=base.config,
                    offline=offline,
                    jobs=workers,
                    cache=cache,
                    reuse=reuse,
                    content=head_content,
                    checkouts=checkouts,
                )
            )
        if CONFIG_FILE in change.changed_paths and config_path is None:
            warnings.append(
                f"this change edits {CONFIG_FILE}; the review uses the base revision's configuration, so the "
                "edit takes effect only after it merges"
            )
        base_apps = {a.id: a for a in base.discovery.apps}
        head_apps = {a.id: a for a in head.discovery.apps}
        with clock.stage("select"):
            selection = select_apps(
                base_apps,
                head_apps,
                None,
                None,
                change.changed_paths,
                all_apps=all_apps,
                base_index=None if all_apps else base.inputs,
                head_index=None if all_apps else head.inputs,
            )
        selected = selection.selected if scope is None else scope.narrow(selection, base, head)
        render_jobs = [
            (view, apps[app_id])
            for app_id in selected
            for view, apps in ((base, base_apps), (head, head_apps))
            if app_id in apps
        ]
        with clock.stage("render"):
            rendered = _render_all(render_jobs, progress, workers)
            if cache is not None:
                cache.evict()
        base_side = {i: (base_apps[i], rendered[(id(base), i)]) for i in selected if i in base_apps}
        head_side = {i: (head_apps[i], rendered[(id(head), i)]) for i in selected if i in head_apps}
        with clock.stage("diff"):
            changes = diff_renders(base_side, head_side, config=base.config)
        renders_by_app: dict[str, list[RenderResult]] = {}
        for side in (base_side, head_side):
            for app_id, (_, result) in side.items():
                renders_by_app.setdefault(app_id, []).append(result)
        statuses_by_id = {s.app: s for s in _statuses(selected, base_apps, head_apps, changes, renders_by_app)}
        with clock.stage("evaluate"):
            ctx = EvaluationContext(
                changes=changes,
                base_apps=base_apps,
                head_apps=head_apps,
                base_renders={i: result for i, (_, result) in base_side.items()},
                head_renders={i: result for i, (_, result) in head_side.items()},
                statuses=statuses_by_id,
                config=base.config,
                changed_paths=change.changed_paths,
                options=base.config.rule_options,
            )
            user_policies: tuple[UserPolicy, ...] = ()
            if base.config.policy_files:
                from .policies.user import load_user_policies  # and CEL: only for a repo that has policies

                user_policies = load_user_policies(base.tree.root, base.config.policy_files)
            findings = run_rules(
                ctx,
                rules,
                disabled=base.config.rules_disabled,
                severities=base.config.rule_severities,
                user_policies=user_policies,
                waivers=tuple(base.config.waivers),
            )
        llm_review = None
        llm_settings = effective_settings(base.config.llm, llm)
        if llm_settings.enabled:
            # Advisory: the model's findings are added (capped by llm.severityCap), never substituted;
            # prompt overrides come from the base revision's tree, like the config.
            try:
                from .llm.stage import run_llm_review  # the LLM client and payload: only when the review is on
            except ImportError as exc:  # a broken install: the review is unavailable, the verdict stands
                llm_review = llm_settings.internal_failure(f"it cannot be loaded ({exc})")
            else:
                with clock.stage("llm"):
                    llm_findings, llm_review = run_llm_review(
                        llm_settings,
                        ctx,
                        findings,
                        base_root=base.tree.root,
                        waivers=tuple(base.config.waivers),
                        observer=llm.observer if llm is not None else None,
                    )
                findings = (*findings, *llm_findings)
        discovery_errors = (*base.discovery.errors, *head.discovery.errors)
        errors = discovery_errors + tuple(
            e for _, result in [*base_side.values(), *head_side.values()] for e in result.errors
        )
        if scope is not None:
            scope.rendered(
                Rendered(
                    discovery_errors,
                    {i: result for i, (_, result) in base_side.items()},
                    {i: result for i, (_, result) in head_side.items()},
                    base_apps,
                    head_apps,
                    base.config,
                )
            )
        statuses = list(statuses_by_id.values())
        # What the report does not hold (the unchanged part of every render, both revisions' discovery):
        # a command that exits once the report is written need not free it object by object first.
        keep_until_exit(rendered, base, head, ctx)
        unrendered = tuple(dict.fromkeys([*base.discovery.unrendered, *head.discovery.unrendered]))
        warnings.extend(w for w in head.discovery.warnings if w not in warnings)
        return Report(
            base_revision=change.base,
            head_revision=head.tree.revision if change.head == "WORKTREE" else change.head,
            base_label=change.base_label,
            head_label=change.head_label,
            apps=tuple(statuses),
            changes=changes,
            findings=findings,
            errors=errors,
            verdict=verdict(errors, findings, fail_on),
            warnings=tuple(warnings),
            unrendered=unrendered,
            timings=tuple(clock.timings),
            tool_versions=versions.result(),
            changed_paths=change.changed_paths,
            skipped_apps=len(selection.skipped),
            llm=llm_review,
        )
