"""Shared test setup: no test fetches from the network, and git runs with a fixed identity."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["GITOPS_REVIEWER_OFFLINE"] = "1"
os.environ.setdefault("GIT_AUTHOR_NAME", "Test")
os.environ.setdefault("GIT_AUTHOR_EMAIL", "test@example.invalid")
os.environ.setdefault("GIT_COMMITTER_NAME", "Test")
os.environ.setdefault("GIT_COMMITTER_EMAIL", "test@example.invalid")

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "examples" / "gitops-config"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path, files: dict[str, str], *, remote: str | None = "https://github.com/acme/config.git") -> Path:
    """A real git repository with `files` committed (and an `origin` remote, as a clone has)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for rel, text in files.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    if remote:
        git(path, "remote", "add", "origin", remote)
    return path


@pytest.fixture
def example_repo(tmp_path: Path) -> Iterator[Path]:
    """The bundled example config repo, committed into its own git repository."""
    files = {
        str(p.relative_to(EXAMPLE)): p.read_text()
        for p in EXAMPLE.rglob("*")
        if p.is_file()
    }
    yield make_repo(tmp_path / "gitops-config", files, remote="git@github.com:example-org/gitops-config.git")
