"""The Code Quality format: GitLab's CodeClimate-style JSON, so findings show in the merge request's
Code Quality widget and in the changes tab next to the lines they are about.

GitLab reads a JSON array of issues and needs, per issue, `description`, `check_name`, `fingerprint`,
`severity` (`info`, `minor`, `major`, `critical`, `blocker`), `location.path` and
`location.lines.begin` (docs.gitlab.com, "Code Quality", "Implement a custom tool"). The widget shows the
issues whose fingerprint is not in the target branch's report, so fingerprints must be stable across
runs: they are the finding's own fingerprint (rule + app + resource + field path).

Choices made here, and why:

- Severity: info -> `info`, warning -> `minor`, error -> `major`, critical -> `blocker`. Our `critical`
  means data loss (a database pruned, a volume claim replaced): the CodeClimate level that says "do not
  merge" is `blocker`, and `critical` stays unused so that the two scales cannot be read as one.
  A waived finding is listed (waivers are visible, never silent) at `info`, its description saying so.
- Every finding gets an entry, and GitLab drops an entry without a path, so a finding with no file
  (an app-level finding, a render failure) points at the Application's definition file and line, and
  failing that at the configuration file, line 1: the place a reviewer would go to act on it.
- Paths are relative to the git repository (GitLab links them to the MR's files): the config repo's
  subdirectory, if any, is `FormatOptions.path_prefix`.
- Two findings with the same fingerprint (the same rule about the same field, said twice) get the
  message hashed into the later one's fingerprint: GitLab shows only one issue per fingerprint.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..config import CONFIG_FILE
from ..records import Finding, Location, Report
from .json_text import dumps_indented
from .options import FormatOptions
from .summary import ordered_findings, show_bidi_controls

CODEQUALITY_SEVERITY = {"info": "info", "warning": "minor", "error": "major", "critical": "blocker"}
# Unknown severities rank highest elsewhere (fail closed); here too.
UNKNOWN_SEVERITY = "blocker"
WAIVED_SEVERITY = "info"
ENGINE_NAME = "gitops-reviewer"
# GitLab shows the description as one line in the widget; a multi-page message helps nobody there
# (the MR note and report.md have it in full).
DESCRIPTION_MAX_CHARS = 1000


def _definition(report: Report, app_id: str) -> Location | None:
    for status in report.apps:
        if status.app == app_id:
            app = status.head or status.base
            return app.defined_in if app is not None else None
    return None


def issue_location(report: Report, finding: Finding) -> Location:
    """Where the finding is shown: its own location, else its app's definition, else the config file;
    always with a line (1 when unknown)."""
    location = finding.location or _definition(report, finding.app) or Location(CONFIG_FILE, 1)
    return Location(location.file, location.line or 1)


def _description(finding: Finding) -> str:
    subject = f"{finding.app}: {finding.key}" if finding.key else finding.app
    text = f"{finding.title}: {finding.message}" if finding.title else finding.message
    text = f"[{subject}] {text}"
    if finding.waived:
        text = f"(waived) {text}"
    text = show_bidi_controls(" ".join(text.split()))
    return text if len(text) <= DESCRIPTION_MAX_CHARS else text[: DESCRIPTION_MAX_CHARS - 1] + "…"


def _severity(finding: Finding) -> str:
    if finding.waived:
        return WAIVED_SEVERITY
    return CODEQUALITY_SEVERITY.get(finding.severity, UNKNOWN_SEVERITY)


def codequality_issues(report: Report, options: FormatOptions | None = None) -> list[dict[str, Any]]:
    """One CodeClimate issue per finding, most severe first (the order of every other format)."""
    prefix = (options.path_prefix if options else "").strip("/")
    issues: list[dict[str, Any]] = []
    seen: set[str] = set()
    for finding in ordered_findings(report.findings):
        fingerprint, salt = finding.fingerprint, 0
        while fingerprint in seen:
            salt += 1
            text = f"{finding.fingerprint}\0{finding.message}\0{salt}"
            fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
        seen.add(fingerprint)
        location = issue_location(report, finding)
        path = f"{prefix}/{location.file}" if prefix else location.file
        issues.append(
            {
                "type": "issue",
                "engine_name": ENGINE_NAME,
                "check_name": finding.rule,
                "description": _description(finding),
                "categories": ["Bug Risk"],
                "severity": _severity(finding),
                "fingerprint": fingerprint,
                "location": {"path": path, "lines": {"begin": location.line}},
            }
        )
    return issues


def format_codequality(report: Report, options: FormatOptions) -> str:
    """The Code Quality artifact (`artifacts: reports: codequality:`): a JSON array, `[]` when clean."""
    return dumps_indented(codequality_issues(report, options)) + "\n"
