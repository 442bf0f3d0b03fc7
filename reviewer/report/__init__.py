"""Report formats: one module per format, each a function `(Report, FormatOptions) -> str`.

`FORMATS` is the registry the CLI's `--format` and the publishers choose from. A format's module is
imported the first time that format is asked for: a review writes one format, and the others (the
Markdown comment, SARIF, Code Quality) would cost it their import for nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from ..errors import UsageError
from ..records import Report
from .options import FormatOptions

Formatter = Callable[[Report, FormatOptions], str]

# Format name -> "module:function", in the order the formats are listed.
_REGISTRY: dict[str, str] = {
    "text": "reviewer.report.text:format_text",
    "markdown": "reviewer.report.markdown:format_markdown",
    "json": "reviewer.report.json_report:format_json",
    "codequality": "reviewer.report.codequality:format_codequality",
    "sarif": "reviewer.report.sarif:format_sarif",
}


class _Formats(Mapping[str, Formatter]):
    """The registry as a read-only mapping whose values are imported on first use."""

    def __init__(self, registry: Mapping[str, str]) -> None:
        self._registry = dict(registry)
        self._loaded: dict[str, Formatter] = {}

    def __getitem__(self, name: str) -> Formatter:
        formatter = self._loaded.get(name)
        if formatter is None:
            module, _, attribute = self._registry[name].partition(":")
            formatter = getattr(importlib.import_module(module), attribute)
            self._loaded[name] = formatter
        return formatter

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry)

    def __len__(self) -> int:
        return len(self._registry)

    def __contains__(self, name: object) -> bool:
        return name in self._registry


FORMATS: Mapping[str, Formatter] = _Formats(_REGISTRY)


def format_report(report: Report, name: str, options: FormatOptions | None = None) -> str:
    """The report in format `name`; an unknown name is a usage error that lists the known ones."""
    formatter = FORMATS.get(name)
    if formatter is None:
        raise UsageError(f"unknown report format {name!r}; choose one of: {', '.join(FORMATS)}")
    return formatter(report, options or FormatOptions())


__all__ = ["FORMATS", "FormatOptions", "Formatter", "format_report"]
