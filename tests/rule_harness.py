"""Run a rule's documented examples (and other fixtures) through a real review of a real git repo."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitrepos import git, make_repo

from reviewer.change import resolve_change
from reviewer.records import Finding, Report
from reviewer.review import review


def run_change(
    tmp_path: Path, base: Mapping[str, str], head: Mapping[str, str | None], *, fail_on: str = "error"
) -> Report:
    """Commit `base` as the base revision, apply `head` (a file's new text, or None to delete it) to the
    working tree, and review the change with every registered rule."""
    repo = make_repo(tmp_path / "repo", dict(base))
    for rel, text in head.items():
        path = repo / rel
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    git(repo, "status", "--short")
    return review(resolve_change(repo, base="HEAD"), fail_on=fail_on)


def findings_of(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def run_example(tmp_path: Path, example: Mapping[str, Any]) -> Report:
    return run_change(tmp_path, example["base"], example["head"])
