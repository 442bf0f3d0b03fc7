"""What every format says the same way: apps grouped with their changes, counts, notes, finding order.

The formats differ in decoration only; the grouping, the order and the wording of a change's notes live
here so that text, markdown and JSON never disagree about what changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..records import AppStatus, Change, Finding, Location, RenderError, Report, ResourceKey, severity_rank

SYMBOLS = {"added": "+", "modified": "~", "removed": "-", "moved": ">"}
NOT_RENDERED = "not-rendered"

# Bidirectional controls make text display in another order than it reads ("Trojan Source",
# CVE-2021-42574): a message or a value could look harmless in a terminal or a PR comment. Compiled by
# `re` on first use: the JSON report never needs it.
_BIDI_CONTROLS = "[\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def show_bidi_controls(text: str) -> str:
    """`text` with every bidirectional control character written out as `<U+202E>`."""
    return re.sub(_BIDI_CONTROLS, lambda m: f"<U+{ord(m.group()):04X}>", text)


@dataclass(frozen=True, slots=True)
class ChangeCounts:
    """Changes of one app by type; changes whose every difference is ignored are counted apart."""

    added: int = 0
    modified: int = 0
    removed: int = 0
    moved: int = 0
    ignored: int = 0

    @classmethod
    def of(cls, changes: Iterable[Change]) -> ChangeCounts:
        counts = dict.fromkeys(("added", "modified", "removed", "moved", "ignored"), 0)
        for change in changes:
            counts["ignored" if change.ignored else change.type if change.type in counts else "modified"] += 1
        return cls(**counts)

    @property
    def total(self) -> int:
        return self.added + self.modified + self.removed + self.moved + self.ignored

    def __str__(self) -> str:
        """`+3 ~2 -1`, then `>1` for moves and `(1 ignored)` when there are any."""
        text = f"+{self.added} ~{self.modified} -{self.removed}"
        if self.moved:
            text += f" >{self.moved}"
        if self.ignored:
            text += f" ({self.ignored} ignored)"
        return text


@dataclass(frozen=True, slots=True)
class AppSection:
    """One app of the report with what happened to it: its changes (by resource) and its render errors."""

    app: str
    status: AppStatus | None
    changes: tuple[Change, ...]
    errors: tuple[RenderError, ...]

    @property
    def counts(self) -> ChangeCounts:
        return ChangeCounts.of(self.changes)

    @property
    def state_note(self) -> str:
        """What happened to the app itself, if anything beyond its resources."""
        notes = []
        if self.status is not None and self.status.state == "added":
            notes.append("new app")
        elif self.status is not None and self.status.state == "removed":
            notes.append("app removed")
        if self.errors:
            notes.append("render failed")
        elif not self.changes:
            notes.append("no resource changes")
        return ", ".join(notes)


def _change_order(change: Change) -> tuple[ResourceKey, str, str]:
    return (change.key, change.cluster, change.type)


def app_sections(report: Report) -> tuple[AppSection, ...]:
    """The apps worth a section, sorted by app id: those with changes or render errors, and those added,
    removed or changed (an app whose definition changed but whose resources did not still gets a line)."""
    statuses = {status.app: status for status in report.apps}
    changes: dict[str, list[Change]] = {}
    for change in report.changes:
        changes.setdefault(change.app, []).append(change)
    errors: dict[str, list[RenderError]] = {}
    for error in report.errors:
        errors.setdefault(error.app, []).append(error)
    wanted = set(changes) | set(errors)
    wanted |= {s.app for s in report.apps if s.state in ("added", "removed", "changed")}
    return tuple(
        AppSection(
            app=app,
            status=statuses.get(app),
            changes=tuple(sorted(changes.get(app, ()), key=_change_order)),
            errors=tuple(errors.get(app, ())),
        )
        for app in sorted(wanted)
    )


def quiet_app_count(report: Report, sections: Iterable[AppSection]) -> int:
    """Apps rendered with nothing to show (not in any section, and rendered)."""
    shown = {section.app for section in sections}
    return sum(1 for s in report.apps if s.app not in shown and s.state != NOT_RENDERED)


def not_rendered(report: Report) -> tuple[tuple[str, str], ...]:
    """(what, why) for every app and source the review did not render, apps first."""
    apps = sorted((s.app, s.reason or "not rendered") for s in report.apps if s.state == NOT_RENDERED)
    others = ((f"{u.what} ({u.location})" if u.location else u.what, u.reason) for u in report.unrendered)
    return (*apps, *others)


def source_location(change: Change) -> Location | None:
    """Where the resource comes from: the head file, else the base file (a removal)."""
    head = change.head.location if change.head else None
    return head or (change.base.location if change.base else None)


def hook_phases(change: Change) -> tuple[str, ...]:
    resource = change.head or change.base
    return resource.hook_phases if resource else ()


def change_notes(change: Change) -> tuple[str, ...]:
    """Plain-text sentences about a change that its diff alone does not say."""
    notes = []
    if change.type == "moved":
        notes.append(f"moved from app {change.from_app} to app {change.app}")
    if change.hook:
        phases = ", ".join(hook_phases(change))
        notes.append(f"hook: runs at sync ({phases})" if phases else "hook: runs at sync")
    if change.ignored:
        notes.append("every difference is ignored (ignoreDifferences): Argo CD reports the app Synced")
    else:
        ignored = [d.path for d in change.deltas if d.ignored]
        if ignored:
            notes.append("ignored (ignoreDifferences): " + ", ".join(ignored))
    reordered = [d.path for d in change.deltas if d.kind == "reordered"]
    if reordered:
        notes.append("order only (still rolls the pods): " + ", ".join(reordered))
    return tuple(notes)


def change_symbol(change: Change) -> str:
    """`+` added, `~` modified, `-` removed, `>` moved (as in the app summary line)."""
    return SYMBOLS.get(change.type, "~")


def resource_title(change: Change) -> str:
    """`~ apps/Deployment web/web-prod`: the change symbol and the resource."""
    return f"{change_symbol(change)} {change.key}"


def _finding_order(finding: Finding) -> tuple[int, str, str, str, str, str]:
    return (
        -severity_rank(finding.severity),
        finding.app,
        str(finding.key or ""),
        finding.path or "",
        finding.rule,
        finding.message,
    )


def ordered_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Most severe first (critical, error, warning, info; unknown severities rank highest), then by app,
    resource, path and rule, so the order never depends on the order rules ran in."""
    return tuple(sorted(findings, key=_finding_order))


def finding_counts(findings: Iterable[Finding]) -> str:
    """`1 critical, 2 warnings; 1 waived`: findings that count, most severe first, then the waived ones."""
    counts: dict[str, int] = {}
    waived = 0
    for finding in ordered_findings(findings):
        if finding.waived:
            waived += 1
        else:
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
    text = ", ".join(f"{n} {_plural_severity(severity, n)}" for severity, n in counts.items()) or "no findings"
    return f"{text}; {waived} waived" if waived else text


def _plural_severity(severity: str, n: int) -> str:
    return severity + "s" if n > 1 and severity in ("warning", "error") else severity


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def verdict_details(report: Report) -> str:
    """Everything the verdict rests on, in one line: findings, render errors, changes."""
    parts = [finding_counts(report.findings)]
    if report.errors:
        parts.append(plural(len(report.errors), "render error"))
    apps = {change.app for change in report.changes}
    parts.append(f"{plural(len(report.changes), 'change')} in {plural(len(apps), 'app')}")
    return "; ".join(parts)


def revision_text(label: str, revision: str) -> str:
    """`main (abc1234)`, or just one of them when the other is empty or the same."""
    if label and revision and label != revision:
        return f"{label} ({revision})"
    return label or revision or "?"
