"""Where a finding points in the config repo: for annotations on the PR's files and for SARIF results.

A rule that knows the line sets `Finding.location`. Otherwise the finding points at the file that
produced its resource (the head file, else the base file of a removal), and failing that at the file
that defines its app. Paths are relative to the config repo root; `repo_path` adds the prefix that
makes them relative to the git repository, which is what GitHub resolves them against.
"""

from __future__ import annotations

from ..records import Finding, Location, Report, ResourceKey
from .summary import source_location


class FindingLocator:
    """Locates the findings of one report; builds its indexes once (a review may have thousands)."""

    def __init__(self, report: Report) -> None:
        self._by_resource: dict[tuple[str, ResourceKey], Location] = {}
        self._by_key: dict[ResourceKey, Location] = {}
        for change in report.changes:
            location = source_location(change)
            if location is None:
                continue
            for app_id in (change.app, change.from_app):
                if app_id is not None:
                    self._by_resource.setdefault((app_id, change.key), location)
            self._by_key.setdefault(change.key, location)
        self._by_app: dict[str, Location] = {}
        for status in report.apps:
            defined = status.head or status.base
            if defined is not None and defined.defined_in is not None:
                self._by_app[status.app] = defined.defined_in

    def locate(self, finding: Finding) -> Location | None:
        """The finding's own location, else its resource's source file, else its app's definition."""
        if finding.location is not None:
            return finding.location
        if finding.key is not None:
            found = self._by_resource.get((finding.app, finding.key)) or self._by_key.get(finding.key)
            if found is not None:
                return found
        return self._by_app.get(finding.app)


def repo_path(location: Location, prefix: str) -> str:
    """The location's file as a path from the git repository root (`prefix` is the config repo's
    directory in it, `` when it is the root)."""
    prefix = prefix.strip("/")
    file = location.file.removeprefix("./")
    return f"{prefix}/{file}" if prefix else file
