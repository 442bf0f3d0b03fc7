"""The terminal format: per app a one-line summary and a unified YAML diff per resource, like `kubectl diff`.

```
argocd/web-prod  +1 ~1 -0
~ apps/Deployment web/web (charts/web/templates/deployment.yaml)
--- base/charts/web/templates/deployment.yaml
+++ head/charts/web/templates/deployment.yaml
@@ -20,7 +20,7 @@
-        image: web:1.0
+        image: web:1.1
```

Then render errors (command and stderr), what was not rendered and why, the findings (most severe
first) and the verdict. Colour only when asked (`FormatOptions.color`, set by the CLI for a TTY); text
that comes from the repo or the tools has its control characters replaced, so a manifest cannot send
escape sequences to the reviewer's terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..records import Change, Finding, RenderError, Report
from . import llm_notes
from .options import FormatOptions
from .summary import (
    AppSection,
    app_sections,
    change_notes,
    not_rendered,
    ordered_findings,
    plural,
    quiet_app_count,
    resource_title,
    revision_text,
    show_bidi_controls,
    source_location,
    verdict_details,
)
from .yamldiff import resource_diff

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
BLUE = "\x1b[34m"
CYAN = "\x1b[36m"

SEVERITY_COLORS = {"critical": BOLD + RED, "error": RED, "warning": YELLOW, "info": BLUE}
VERDICT_COLORS = {"pass": BOLD + GREEN, "fail": BOLD + RED, "error": BOLD + RED}
INDENT = "    "

# C0 and C1 control characters, DEL included; tab and newline are handled by the callers.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with control characters shown as `\\x1b` etc., never interpreted by the terminal, and
    bidirectional controls written out."""
    return show_bidi_controls(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text))


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self.color and text else text


def _diff_line_color(line: str) -> str:
    if line.startswith(("---", "+++")):
        return BOLD
    if line.startswith("@@"):
        return CYAN
    if line.startswith("+"):
        return GREEN
    if line.startswith("-"):
        return RED
    return ""


def _change_lines(change: Change, options: FormatOptions, paint: _Painter) -> Iterable[str]:
    location = source_location(change)
    header = resource_title(change) + (f" ({location.file})" if location else "")
    yield paint(CYAN, printable(header))
    for note in change_notes(change):
        yield INDENT + printable(note)
    if options.include_diff:
        for line in resource_diff(change, context=options.context_lines):
            line = printable(line.replace("\t", "    "))
            color = _diff_line_color(line)
            yield paint(color, line) if color else line


def _error_lines(error: RenderError, paint: _Painter) -> Iterable[str]:
    yield paint(RED, "render error: ") + printable(error.message)
    if error.command:
        yield INDENT + "command: " + printable(error.command)
    if error.exit_code is not None:
        yield INDENT + f"exit code: {error.exit_code}"
    if error.stderr.strip():
        yield INDENT + "stderr:"
        for line in error.stderr.rstrip().splitlines():
            yield INDENT * 2 + printable(line.replace("\t", "    "))


def _section_lines(section: AppSection, options: FormatOptions, paint: _Painter) -> Iterable[str]:
    summary = f"{section.app}  {section.counts}"
    note = section.state_note
    yield paint(BOLD, printable(summary)) + (f"  ({note})" if note else "")
    for change in section.changes:
        yield from _change_lines(change, options, paint)
    for error in section.errors:
        yield from _error_lines(error, paint)


def _finding_lines(finding: Finding, paint: _Painter) -> Iterable[str]:
    where = " ".join(
        part
        for part in (
            finding.app,
            str(finding.key) if finding.key else "",
            finding.path or "",
            f"({finding.location})" if finding.location else "",
        )
        if part
    )
    severity = paint(SEVERITY_COLORS.get(finding.severity, BOLD + RED), f"{printable(finding.severity):<8}")
    waived = "  (waived)" if finding.waived else ""
    advisory = "  (LLM, advisory)" if finding.origin == "llm" else ""
    yield f"  {severity}  {printable(finding.rule)}  {printable(where)}{waived}{advisory}"
    text = f"{finding.title}: {finding.message}" if finding.title else finding.message
    for line in text.splitlines() or [""]:
        yield INDENT * 2 + printable(line)
    if finding.origin == "llm" and finding.evidence:
        yield INDENT * 2 + "evidence: " + printable(finding.evidence)


def _llm_lines(report: Report, paint: _Painter) -> list[str]:
    """The LLM review's status and details (nothing when it was off)."""
    line = llm_notes.status_line(report)
    if line is None or report.llm is None:
        return []
    color = BOLD + RED if report.llm.status == "misconfigured" else YELLOW if report.llm.status != "reviewed" else BOLD
    lines = ["", paint(color, printable(line))]
    lines += [f"  {printable(detail)}" for detail in llm_notes.detail_lines(report.llm)]
    if report.llm.not_reviewed:
        lines.append(f"  not reviewed by the LLM ({len(report.llm.not_reviewed)}, input budget):")
        lines += [f"    {printable(name)}" for name in report.llm.not_reviewed]
    return lines


def format_text(report: Report, options: FormatOptions) -> str:
    """The report for a terminal (see the module docstring)."""
    paint = _Painter(options.color)
    base = revision_text(report.base_label, report.base_revision)
    head = revision_text(report.head_label, report.head_revision)
    lines = [printable(f"base {base} -> head {head}")]
    sections = app_sections(report)
    for section in sections:
        lines.append("")
        lines.extend(_section_lines(section, options, paint))
    quiet = quiet_app_count(report, sections)
    if sections and quiet:
        lines += ["", f"{plural(quiet, 'other app')} rendered with no changes"]
    elif not sections:
        lines += ["", f"no changes ({plural(quiet, 'app')} rendered)" if quiet else "no changes"]
    skipped = not_rendered(report)
    if skipped:
        lines += ["", paint(YELLOW, "not rendered:")]
        lines += [f"  {printable(what)}: {printable(why)}" for what, why in skipped]
    if report.warnings:
        lines += ["", paint(YELLOW, "warnings:")]
        lines += [f"  {printable(warning)}" for warning in report.warnings]
    if options.include_verdict:
        findings = ordered_findings(report.findings)
        if findings:
            lines += ["", paint(BOLD, f"findings ({len(findings)}):")]
            for finding in findings:
                lines.extend(_finding_lines(finding, paint))
        lines += _llm_lines(report, paint)
        verdict = paint(VERDICT_COLORS.get(report.verdict, BOLD + RED), report.verdict.upper())
        lines += ["", f"verdict: {verdict} ({verdict_details(report)})"]
        if report.llm is not None:
            lines.append(printable(llm_notes.footer(report.llm)))
    return "\n".join(lines) + "\n"
