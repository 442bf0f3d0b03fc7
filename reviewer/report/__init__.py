"""Report formats: one module per format, each a function `(Report, FormatOptions) -> str`.

`FORMATS` is the registry the CLI's `--format` and the publishers choose from.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UsageError
from ..records import Report
from .codequality import format_codequality
from .json_report import format_json
from .markdown import format_markdown
from .options import FormatOptions
from .sarif import format_sarif
from .text import format_text

Formatter = Callable[[Report, FormatOptions], str]

FORMATS: dict[str, Formatter] = {
    "text": format_text,
    "markdown": format_markdown,
    "json": format_json,
    "codequality": format_codequality,
    "sarif": format_sarif,
}


def format_report(report: Report, name: str, options: FormatOptions | None = None) -> str:
    """The report in format `name`; an unknown name is a usage error that lists the known ones."""
    formatter = FORMATS.get(name)
    if formatter is None:
        raise UsageError(f"unknown report format {name!r}; choose one of: {', '.join(FORMATS)}")
    return formatter(report, options or FormatOptions())


__all__ = ["FORMATS", "FormatOptions", "Formatter", "format_report"]
