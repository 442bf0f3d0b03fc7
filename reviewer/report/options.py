"""What a caller can ask of every report format; a format ignores what does not apply to it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """Options shared by the report formats.

    `color`: ANSI colours (text only; the CLI turns it on for a TTY).
    `include_diff`: the per-resource YAML diff; False gives the verdict-only summary.
    `include_verdict`: the findings and the verdict line; False gives the diff alone (`gitops-reviewer diff`).
    `max_chars`: markdown only: the most characters the output may have (a PR comment's limit). Diffs are
    trimmed per resource, then per app, with a note; findings and render errors are never cut, so the
    output can still exceed the limit when they alone do.
    `full_report_url`: markdown only: where the untrimmed report is (job summary, artifact), linked from
    the trimming note.
    `context_lines`: lines of unchanged YAML around each change in a diff.
    `max_findings`: markdown only: list at most this many findings, most severe first, and say how many
    more the full report has. Only for a surface whose size limit the findings alone exceed (a GitHub
    comment holds 65,536 characters); the verdict line still counts them all.
    `path_prefix`: where the config repo sits inside its git repository (`deploy/` or empty), for formats
    that point at files by their path from the repository root (SARIF, Code Quality).
    """

    color: bool = False
    include_diff: bool = True
    include_verdict: bool = True
    max_chars: int | None = None
    full_report_url: str | None = None
    context_lines: int = 3
    max_findings: int | None = None
    path_prefix: str = ""
