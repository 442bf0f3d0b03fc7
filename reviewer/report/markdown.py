"""The markdown format, for PR/MR comments and CI job summaries.

The verdict line first; then the findings table, most severe first; render errors with their command and
stderr; what was not rendered; then one collapsed `<details>` section per app with its `+a ~m -r`
counts and a ```` ```diff ```` block per resource.

Everything that comes from the repo or the tools (names, messages, paths, stderr) is escaped for the
context it lands in, so a PR cannot inject HTML, break the table, mention people or close a code block:
markdown text gets HTML entities and backslash escapes, HTML text gets entities, code gets a fence
longer than any backtick run inside it.

With `FormatOptions.max_chars` (a comment's size limit), diffs are trimmed, largest first, per resource
and then per app, with a note that says so; past that, the one-line entries of apps without findings go,
then the others'. The verdict, findings and render errors are never cut here; a surface whose limit
the findings alone exceed asks for fewer with `FormatOptions.max_findings` (reviewer.publish.common).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..records import Change, Finding, RenderError, Report
from . import llm_notes
from .options import FormatOptions
from .summary import (
    AppSection,
    app_sections,
    change_notes,
    change_symbol,
    not_rendered,
    ordered_findings,
    plural,
    quiet_app_count,
    revision_text,
    show_bidi_controls,
    source_location,
    verdict_details,
)
from .yamldiff import resource_diff

VERDICT_ICONS = {"pass": "✅", "fail": "❌", "error": "⚠️"}
SEVERITY_ICONS = {"critical": "🛑", "error": "🔴", "warning": "🟡", "info": "🔵"}
TRIMMED_NOTE = "Some diffs were left out to fit the size limit."

# Characters with a meaning in inline markdown (GitHub flavour: `~` strikethrough, `$` math, `|` tables).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")
# What would start a block (heading, list, quote, thematic break) at the start of a list item.
_BLOCK_START = re.compile(r"^(\d*)([#+=.)-])")
_BACKTICKS = re.compile(r"`+")
# A zero-width space after `@` keeps GitHub/GitLab from turning `@org/team` into a mention.
_NO_MENTION = "@\u200b"


def md_text(text: str, *, newline: str = " ") -> str:
    """`text` as literal inline markdown: HTML entities, backslash escapes, no mentions; line breaks
    become `newline` (`<br>` in a table cell)."""
    lines = []
    for line in show_bidi_controls(text).strip().splitlines():
        line = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(line, quote=False))
        lines.append(line.replace("@", _NO_MENTION))
    return _BLOCK_START.sub(r"\1\\\2", newline.join(lines))


def html_text(text: str) -> str:
    """`text` inside raw HTML (`<summary>`): entities only (markdown is not parsed there), one line."""
    return html.escape(show_bidi_controls(" ".join(text.split())), quote=True).replace("@", _NO_MENTION)


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run in `text`, so no line of it can close the block."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def code_block(lines: Iterable[str], info: str = "") -> str:
    body = show_bidi_controls("\n".join(lines))
    fence = fence_for(body)
    return f"{fence}{info}\n{body}\n{fence}"


def _table_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _finding_row(finding: Finding) -> str:
    severity = f"{SEVERITY_ICONS.get(finding.severity, '🛑')} {md_text(finding.severity)}"
    if finding.waived:
        severity += " (waived)"
    resource = md_text(str(finding.key)) if finding.key else ""
    if finding.path:
        resource += ("<br>" if resource else "") + md_text(finding.path)
    if finding.location:
        resource += ("<br>" if resource else "") + md_text(str(finding.location))
    message = md_text(finding.message, newline="<br>")
    if finding.title:
        message = f"**{md_text(finding.title)}**: {message}"
    if finding.origin == "llm":
        severity += " (LLM, advisory)"
        if finding.evidence:
            message += f"<br>evidence: {md_text(finding.evidence)}"
    return _table_row((severity, md_text(finding.rule), md_text(finding.app), resource, message))


def _findings(report: Report, options: FormatOptions) -> list[str]:
    findings = ordered_findings(report.findings)
    if not findings:
        return []
    shown = findings if options.max_findings is None else findings[: max(0, options.max_findings)]
    parts = [f"#### Findings ({len(findings)})"]
    if shown:
        rows = [_table_row(("Severity", "Rule", "App", "Resource", "Message")), _table_row(("---",) * 5)]
        parts.append("\n".join(rows + [_finding_row(finding) for finding in shown]))
    if len(shown) < len(findings):
        full = f"[full report]({_link_target(options.full_report_url)})" if options.full_report_url else "full report"
        parts.append(
            f"_{len(shown)} of {len(findings)} findings shown, most severe first, to fit the size limit; "
            f"the {full} lists them all._"
        )
    return parts


def _render_error(error: RenderError) -> list[str]:
    lines = [f"**{md_text(error.app)}**: {md_text(error.message, newline='<br>')}"]
    details = [f"$ {' '.join(error.command.split())}"] if error.command else []
    if error.exit_code is not None:
        details.append(f"exit code {error.exit_code}")
    details += error.stderr.rstrip().splitlines()
    if details:
        lines.append(code_block(details, "text"))
    return lines


MAX_NOT_REVIEWED = 50  # names in a comment; the JSON report has them all


def _llm_alert(report: Report) -> list[str]:
    """A misconfigured LLM review, right under the verdict: a broken key must not go unnoticed."""
    if report.llm is None or report.llm.status != "misconfigured":
        return []
    return [f"> ⚠️ **{llm_notes.MISCONFIGURED}**: {md_text(report.llm.reason)}"]


def _llm_section(report: Report) -> list[str]:
    line = llm_notes.status_line(report)
    if line is None or report.llm is None:
        return []
    review = report.llm
    items = [md_text(line)]
    items += [f"- {md_text(detail)}" for detail in llm_notes.detail_lines(review)]
    if review.not_reviewed:
        names = [md_text(name) for name in review.not_reviewed[:MAX_NOT_REVIEWED]]
        more = len(review.not_reviewed) - MAX_NOT_REVIEWED
        text = ", ".join(names) + (f", and {more} more (see the JSON report)" if more > 0 else "")
        items.append(f"- not reviewed by the LLM (input budget): {text}")
    return ["#### LLM review (advisory)", "\n".join(items)]


def _notices(report: Report) -> list[str]:
    parts: list[str] = []
    if report.errors:
        parts.append(f"#### Render errors ({len(report.errors)})")
        for error in report.errors:
            parts += _render_error(error)
    skipped = not_rendered(report)
    if skipped:
        parts.append("#### Not rendered")
        parts.append("\n".join(f"- **{md_text(what)}**: {md_text(why)}" for what, why in skipped))
    if report.warnings:
        parts.append("#### Warnings")
        parts.append("\n".join(f"- {md_text(warning)}" for warning in report.warnings))
    return parts


@dataclass(slots=True)
class _ResourceBlock:
    full: str
    trimmed: str
    use_trimmed: bool = False

    @property
    def text(self) -> str:
        return self.trimmed if self.use_trimmed else self.full


@dataclass(slots=True)
class _AppBlock:
    opening: str
    resources: list[_ResourceBlock]
    collapsed: str
    use_collapsed: bool = False
    flagged: bool = False  # the app has findings or render errors: the last to be left out

    @property
    def text(self) -> str:
        if self.use_collapsed or not self.resources:
            return self.collapsed
        return "\n\n".join([self.opening, *(block.text for block in self.resources), "</details>"])


def _resource_block(change: Change, options: FormatOptions) -> _ResourceBlock:
    location = source_location(change)
    # The symbol is ours and the line starts with `**`, so `+`/`-` cannot start a list.
    header = f"**{html.escape(change_symbol(change))} {md_text(str(change.key))}**"
    if location:
        header += f" · {md_text(location.file)}"
    notes = [f"- {md_text(note)}" for note in change_notes(change)]
    head = "\n".join([header, *notes])
    diff = resource_diff(change, context=options.context_lines) if options.include_diff else []
    if not diff:
        return _ResourceBlock(head, head)
    omitted = f"_{plural(len(diff), 'diff line')} left out to fit the size limit._"
    return _ResourceBlock(f"{head}\n\n{code_block(diff, 'diff')}", f"{head}\n\n{omitted}")


def _app_block(section: AppSection, options: FormatOptions, flagged: bool) -> _AppBlock:
    # The counts are ours and hold no markdown (a single `~` is no strikethrough).
    counts = str(section.counts)
    note = section.state_note
    summary = f"<b>{html_text(section.app)}</b> {html.escape(counts)}" + (f" ({html_text(note)})" if note else "")
    line = f"- **{md_text(section.app)}** {counts}" + (f" ({md_text(note)})" if note else "")
    resources = [_resource_block(change, options) for change in section.changes]
    collapsed = f"{line}: diff left out to fit the size limit." if resources else line
    return _AppBlock(f"<details><summary>{summary}</summary>", resources, collapsed, flagged=flagged)


@dataclass(slots=True)
class _Document:
    """The comment as blocks joined by blank lines; only the app blocks can shrink."""

    head: list[str]
    apps: list[_AppBlock]
    tail: list[str]
    note: str = ""
    left_out: int = 0  # apps left out of the listing altogether

    @property
    def text(self) -> str:
        note = [f"> {self.note}"] if self.note else []
        left_out = [_left_out_line(self.left_out)] if self.left_out else []
        apps = (app.text for app in self.apps)
        return "\n\n".join([*self.head, *note, *apps, *left_out, *self.tail]) + "\n"


def _left_out_line(count: int) -> str:
    return f"_{plural(count, 'more app')} with changes left out to fit the size limit._"


def _trim(document: _Document, max_chars: int, note: str) -> None:
    """Shrink `document` under `max_chars`: the biggest resource diffs first, then whole apps (biggest
    first). Sizes add up block by block, so each step subtracts exactly what it removed."""
    document.note = note
    size = len(document.text)
    blocks = sorted(
        (block for app in document.apps for block in app.resources),
        key=lambda block: len(block.trimmed) - len(block.full),
    )
    for block in blocks:
        if size <= max_chars:
            return
        if block.full != block.trimmed:
            size -= len(block.full) - len(block.trimmed)
            block.use_trimmed = True
    for app in sorted(document.apps, key=lambda app: len(app.collapsed) - len(app.text)):
        if size <= max_chars:
            return
        if len(app.collapsed) < len(app.text):
            size -= len(app.text) - len(app.collapsed)
            app.use_collapsed = True
    # Thousands of changed apps do not fit even as one line each: leave out whole lines, apps without
    # findings or render errors first, from the end of the listing; the findings table still names the
    # flagged ones. The reserve pays for the line that says how many were left out.
    reserve = len(_left_out_line(len(document.apps))) + 2
    order = [*(a for a in reversed(document.apps) if not a.flagged), *(a for a in reversed(document.apps) if a.flagged)]
    dropped: set[int] = set()  # by identity: comparing blocks field by field is slow and pointless
    for app in order:
        if size + (reserve if dropped else 0) <= max_chars:
            break
        dropped.add(id(app))
        size -= len(app.text) + 2
    document.left_out = len(dropped)
    document.apps = [app for app in document.apps if id(app) not in dropped]


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _footer(report: Report) -> list[str]:
    parts = [] if any(tool == "gitops-reviewer" for tool, _ in report.tool_versions) else ["gitops-reviewer"]
    parts += [f"{tool} {version}" for tool, version in report.tool_versions]
    parts += [f"{stage} {_duration(seconds)}" for stage, seconds in report.timings]
    if report.llm is not None:
        parts.append(llm_notes.footer(report.llm))
    return [f"<sub>{' · '.join(md_text(part) for part in parts)}</sub>"]


def _link_target(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def format_markdown(report: Report, options: FormatOptions) -> str:
    """The report as a PR comment or job summary (see the module docstring)."""
    base = revision_text(report.base_label, report.base_revision)
    head_rev = revision_text(report.head_label, report.head_revision)
    head: list[str] = []
    if options.include_verdict:
        icon = VERDICT_ICONS.get(report.verdict, "⚠️")
        head.append(f"**{icon} gitops-reviewer: {md_text(report.verdict)}** · {md_text(verdict_details(report))}")
        head += _llm_alert(report)
    head.append(f"base {md_text(base)} → head {md_text(head_rev)}")
    if options.include_verdict:
        head += _findings(report, options)
        head += _llm_section(report)
    head += _notices(report)
    sections = app_sections(report)
    flagged = {finding.app for finding in report.findings} | {error.app for error in report.errors}
    apps = [_app_block(section, options, section.app in flagged) for section in sections]
    changed_apps = len({change.app for change in report.changes})
    head.append(f"#### Changes ({plural(len(report.changes), 'resource')} in {plural(changed_apps, 'app')})")
    tail: list[str] = []
    quiet = quiet_app_count(report, sections)
    if quiet:
        tail.append(f"{plural(quiet, 'other app' if sections else 'app')} rendered with no changes.")
    tail += _footer(report)
    document = _Document(head, apps, tail)
    text = document.text
    if options.max_chars is None or len(text) <= options.max_chars:
        return text
    note = TRIMMED_NOTE
    if options.full_report_url:
        note += f" The [full report]({_link_target(options.full_report_url)}) has every diff."
    _trim(document, options.max_chars, note)
    return document.text
