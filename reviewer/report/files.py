"""The report as files in one directory, for a CI system to keep as an artifact.

`report.md` is the whole markdown report, never trimmed (a comment or a job summary links to it when
they had to leave diffs out); `report.json` is the contract other programs (and `--from-report`) read;
`report.sarif` is for code scanning.
"""

from __future__ import annotations

from pathlib import Path

from ..records import Report
from . import FormatOptions, format_report

REPORT_FILES = {"markdown": "report.md", "json": "report.json", "sarif": "report.sarif"}


def write_report_files(report: Report, directory: Path, *, path_prefix: str = "") -> dict[str, Path]:
    """Write every file of `REPORT_FILES` into `directory` (created if needed); returns format -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for fmt, name in REPORT_FILES.items():
        path = directory / name
        path.write_text(format_report(report, fmt, FormatOptions(path_prefix=path_prefix)), encoding="utf-8")
        written[fmt] = path
    return written
