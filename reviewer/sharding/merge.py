"""Merging the parts of a sharded review into the report the unsharded review would have given.

1. The parts must be every shard of one review: the same number of shards, each index once, the same
   base and head, the same selection and partition, the same discovery. Anything else is a UsageError
   naming the files: a missing part must never let the others pass.
2. Each app was reviewed by exactly one shard: its status, changes, findings and render errors come
   from that part; what discovery found is the same in every part and is taken once.
3. Apps of different shards that interact (reviewer.sharding.interactions: a resource moving between
   them, a CRD in one and its custom resources in another, ...) were judged without each other. They
   are reviewed again here, together, from the repository (which must then be at hand, with the same
   revisions: the merge job checks it out as the shards did), and that review replaces their parts'.
4. The verdict is worked out again over everything, with the shards' `--fail-on` unless another is given.

Timings are per stage the slowest shard's (the jobs ran side by side), then the merge's own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..change import ChangeSpec
from ..errors import ReviewerError, UsageError
from ..records import AppStatus, Change, Finding, LlmReview, RenderError, Report, severity_rank
from ..review import Progress, Rendered, review, verdict
from ..revision import RevisionView
from ..selection import Selection
from .interactions import Reviewed, coupled_apps
from .parts import ShardPart

LISTED = 5  # apps named in a message; the rest are counted


def _names(apps: Iterable[str]) -> str:
    names = sorted(apps)
    more = len(names) - LISTED
    return ", ".join(names[:LISTED]) + (f" and {more} more" if more > 0 else "")


def _same(parts: Sequence[ShardPart], what: str, value: Callable[[ShardPart], object]) -> None:
    first = parts[0]
    for part in parts[1:]:
        if value(part) != value(first):
            raise UsageError(
                f"{part.source} and {first.source} differ in {what}: they are not parts of one review "
                "(every shard must review the same base and head with the same version and options)"
            )


def check_parts(parts: Sequence[ShardPart]) -> list[ShardPart]:
    """The parts in shard order, once they are known to be every shard of one review."""
    if not parts:
        raise UsageError("no parts to merge: name the files that `check --shard I/N --output FILE` wrote")
    total = parts[0].meta.spec.total
    by_index: dict[int, ShardPart] = {}
    for part in parts:
        spec = part.meta.spec
        if spec.total != total:
            raise UsageError(
                f"{part.source} is shard {spec} but {parts[0].source} is shard {parts[0].meta.spec}: parts of "
                "reviews split into different numbers of shards cannot be merged"
            )
        if spec.index in by_index:
            raise UsageError(f"{by_index[spec.index].source} and {part.source} are both shard {spec}")
        by_index[spec.index] = part
    missing = [i for i in range(1, total + 1) if i not in by_index]
    ordered = [by_index[i] for i in sorted(by_index)]
    _same(ordered, "base revision", lambda p: (p.report.base_revision, p.report.base_label))
    _same(ordered, "head revision", lambda p: (p.report.head_revision, p.report.head_label))
    _same(ordered, "the apps the change selects", lambda p: dict(p.meta.selection))
    if missing:
        lost = set(ordered[0].meta.selection) - {a for p in ordered for a in p.meta.assigned}
        shards = ", ".join(f"{i}/{total}" for i in missing)
        raise UsageError(
            f"shard {shards} missing: no part file was given for it, so {len(lost)} selected apps "
            f"({_names(lost) or 'none'}) have no review and there is no verdict"
        )
    _same(ordered, "partition (the share of apps of each shard)", lambda p: p.meta.partition_digest)
    _same(ordered, "options", lambda p: p.meta.options)
    _same(ordered, "discovery errors", lambda p: p.discovery_errors)
    _same(ordered, "warnings", lambda p: p.report.warnings)
    _same(ordered, "what was not rendered", lambda p: p.report.unrendered)
    _same(ordered, "changed paths", lambda p: p.report.changed_paths)
    seen: dict[str, str] = {}
    for part in ordered:
        for app in part.meta.assigned:
            if app in seen:
                raise UsageError(f"{seen[app]} and {part.source} both reviewed {app}")
            seen[app] = part.source
        _check_contents(part)
    if set(seen) != set(ordered[0].meta.selection):
        raise UsageError(f"{ordered[0].source}: the shards' apps are not the apps the change selects")
    return ordered


def _check_contents(part: ShardPart) -> None:
    """What a part reports is about the apps it was assigned."""
    assigned = part.meta.assigned
    strays = {s.app for s in part.report.apps} | {e.app for e in (*part.base_errors, *part.head_errors)}
    strays |= {side.app for c in part.report.changes for side in (c.base, c.head) if side is not None}
    strays -= assigned
    if strays:
        raise UsageError(f"{part.source}: reports on apps its shard was not assigned: {_names(strays)}")


@dataclass(frozen=True, slots=True)
class _Share:
    """What one source (a part, or the re-review) contributes for its apps."""

    apps: frozenset[str]
    statuses: tuple[AppStatus, ...]
    changes: tuple[Change, ...]
    findings: tuple[Finding, ...]
    base_errors: tuple[RenderError, ...]
    head_errors: tuple[RenderError, ...]

    def without(self, apps: frozenset[str]) -> _Share:
        return _Share(
            self.apps - apps,
            tuple(s for s in self.statuses if s.app not in apps),
            tuple(c for c in self.changes if c.app not in apps),
            tuple(f for f in self.findings if f.app not in apps),
            tuple(e for e in self.base_errors if e.app not in apps),
            tuple(e for e in self.head_errors if e.app not in apps),
        )


def _share(part: ShardPart) -> _Share:
    report = part.report
    return _Share(part.meta.assigned, report.apps, report.changes, report.findings, part.base_errors, part.head_errors)


class _AppsScope:
    """The review.ReviewScope of a re-review at merge: the coupled apps, of the shards' selection."""

    def __init__(self, apps: frozenset[str], selection: Mapping[str, str], repo: Path) -> None:
        self.apps = apps
        self.selection = dict(selection)
        self.repo = repo
        self.result: Rendered | None = None

    def narrow(self, selection: Selection, base: RevisionView, head: RevisionView) -> Mapping[str, str]:
        if dict(selection.selected) != self.selection:
            raise UsageError(
                f"the repository at {self.repo} selects other apps than the shards did: run merge in a checkout "
                "of the same repository, with the same configuration, as the shards"
            )
        return {app: why for app, why in selection.selected.items() if app in self.apps}

    def rendered(self, rendered: Rendered) -> None:
        self.result = rendered


def _re_review(
    parts: Sequence[ShardPart], apps: frozenset[str], repo: Path | None, fail_on: str, progress: Progress | None
) -> tuple[_Share, Report]:
    first = parts[0]
    report, options = first.report, first.meta.options
    why = (
        f"apps of different shards interact ({_names(apps)}: a resource moves between them, one needs what "
        "another adds, ...), so merge reviews them again, together"
    )
    if repo is None:
        raise UsageError(f"{why}; it needs the repository: pass --repo")
    change = ChangeSpec(
        repo=repo,
        base=report.base_revision,
        head=options.head,
        base_label=report.base_label,
        head_label=report.head_label,
        changed_paths=report.changed_paths,
    )
    scope = _AppsScope(apps, first.meta.selection, repo)
    try:
        again = review(
            change,
            fail_on=fail_on,
            all_apps=options.all_apps,
            offline=options.offline,
            config_path=Path(options.config_path) if options.config_path else None,
            progress=progress,
            scope=scope,
        )
    except ReviewerError as exc:
        raise UsageError(f"{why}, and that failed: {exc}") from exc
    assert scope.result is not None
    share = _Share(
        apps,
        again.apps,
        again.changes,
        tuple(f for f in again.findings if f.app in apps),
        tuple(e for result in scope.result.base.values() for e in result.errors),
        tuple(e for result in scope.result.head.values() for e in result.errors),
    )
    return share, again


def _by_app(errors: Iterable[RenderError], order: Sequence[str]) -> tuple[RenderError, ...]:
    """Render errors in selection order of their apps, each app's in the order they happened."""
    grouped: dict[str, list[RenderError]] = {}
    for error in errors:
        grouped.setdefault(error.app, []).append(error)
    return tuple(e for app in order for e in grouped.get(app, ()))


def _timings(parts: Sequence[ShardPart], extra: Iterable[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    slowest: dict[str, float] = {}
    for part in parts:
        for stage, seconds in part.report.timings:
            slowest[stage] = max(seconds, slowest.get(stage, 0.0))
    return (*slowest.items(), *extra)


def _llm(reviews: Sequence[LlmReview | None]) -> LlmReview | None:
    """One account of the shards' LLM reviews: reviewed only if every shard's was."""
    done = [r for r in reviews if r is not None]
    if not done:
        return None
    failed = next((r for r in done if r.status != "reviewed"), None)
    first = failed or done[0]
    return LlmReview(
        status=first.status,
        reason=first.reason,
        model=first.model,
        endpoint=first.endpoint,
        prompt_digest=first.prompt_digest,
        schema_version=first.schema_version,
        not_reviewed=tuple(item for r in done for item in r.not_reviewed),
        dropped_findings=sum(r.dropped_findings for r in done),
        redacted_values=sum(r.redacted_values for r in done),
        stripped=tuple(dict.fromkeys(item for r in done for item in r.stripped)),
        cached=all(r.cached for r in done),
        elapsed=max(r.elapsed for r in done),
    )


def _tool_warnings(parts: Sequence[ShardPart]) -> list[str]:
    first = parts[0]
    return [
        f"{part.source} ran other tool versions than {first.source} ({dict(part.report.tool_versions)})"
        for part in parts[1:]
        if part.report.tool_versions != first.report.tool_versions
    ]


def merge_parts(
    parts: Sequence[ShardPart],
    *,
    fail_on: str | None = None,
    repo: Path | None = None,
    progress: Progress | None = None,
) -> Report:
    """The one report of a sharded review (see the module doc)."""
    started = time.perf_counter()
    ordered = check_parts(parts)
    first = ordered[0]
    if fail_on is None:
        _same(ordered, "--fail-on", lambda p: p.meta.fail_on)
        fail_on = first.meta.fail_on
    shares = [_share(part) for part in ordered]
    coupled = coupled_apps(
        [Reviewed(share.apps, share.changes, part.meta.facts) for share, part in zip(shares, ordered, strict=True)]
    )
    extra: list[tuple[str, float]] = []
    llm_reviews = [part.report.llm for part in ordered]
    if coupled:
        again, report = _re_review(ordered, coupled, repo, fail_on, progress)
        shares = [share.without(coupled) for share in shares] + [again]
        extra.append(("re-review", round(sum(seconds for _, seconds in report.timings), 3)))
        llm_reviews.append(report.llm)
    order = list(first.meta.selection)
    position = {app: i for i, app in enumerate(order)}
    statuses = sorted((s for share in shares for s in share.statuses), key=lambda s: position[s.app])
    changes = sorted(
        (c for share in shares for c in share.changes), key=lambda c: (c.app, c.key, c.hook, c.cluster, c.type)
    )
    unique: dict[str, Finding] = {}
    for finding in (f for share in shares for f in share.findings):
        unique.setdefault(finding.fingerprint, finding)
    findings = tuple(
        sorted(unique.values(), key=lambda f: (-severity_rank(f.severity), f.app, str(f.key or ""), f.rule))
    )
    errors = (
        *first.discovery_errors,
        *_by_app((e for share in shares for e in share.base_errors), order),
        *_by_app((e for share in shares for e in share.head_errors), order),
    )
    extra.append(("merge", round(time.perf_counter() - started, 3)))
    return Report(
        base_revision=first.report.base_revision,
        head_revision=first.report.head_revision,
        base_label=first.report.base_label,
        head_label=first.report.head_label,
        apps=tuple(statuses),
        changes=tuple(changes),
        findings=findings,
        errors=errors,
        verdict=verdict(errors, findings, fail_on),
        warnings=(*first.report.warnings, *_tool_warnings(ordered)),
        unrendered=first.report.unrendered,
        timings=_timings(ordered, extra),
        tool_versions=first.report.tool_versions,
        changed_paths=first.report.changed_paths,
        skipped_apps=first.report.skipped_apps,
        llm=_llm(llm_reviews),
    )
