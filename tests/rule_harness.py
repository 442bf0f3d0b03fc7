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
    repo = change_repo(tmp_path / "repo", base, head)
    return review(resolve_change(repo, base="HEAD"), fail_on=fail_on)


def change_repo(path: Path, base: Mapping[str, str], head: Mapping[str, str | None]) -> Path:
    """A git repo at `path` with `base` committed and `head` applied to its working tree."""
    repo = make_repo(path, dict(base))
    for rel, text in head.items():
        target = repo / rel
        if text is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    git(repo, "status", "--short")
    return repo


def findings_of(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def run_example(tmp_path: Path, example: Mapping[str, Any]) -> Report:
    return run_change(tmp_path, example["base"], example["head"])
