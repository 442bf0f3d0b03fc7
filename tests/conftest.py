"""Shared test setup: no test fetches from the network, and git runs with a fixed identity."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from gitrepos import make_repo

os.environ["GITOPS_REVIEWER_OFFLINE"] = "1"
os.environ.setdefault("GIT_AUTHOR_NAME", "Test")
os.environ.setdefault("GIT_AUTHOR_EMAIL", "test@example.invalid")
os.environ.setdefault("GIT_COMMITTER_NAME", "Test")
os.environ.setdefault("GIT_COMMITTER_EMAIL", "test@example.invalid")

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "examples" / "gitops-config"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own render cache: nothing is written to the user's, nothing leaks between tests."""
    monkeypatch.setenv("GITOPS_REVIEWER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def example_repo(tmp_path: Path) -> Iterator[Path]:
    """The bundled example config repo, committed into its own git repository."""
    files = {str(p.relative_to(EXAMPLE)): p.read_text() for p in EXAMPLE.rglob("*") if p.is_file()}
    yield make_repo(tmp_path / "gitops-config", files, remote="git@github.com:example-org/gitops-config.git")
