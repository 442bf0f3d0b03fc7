"""The shared corpus of real config repos (git bundles), cloned for tests.

The corpus lives next to the project checkout, in `../shared/corpus` (`GITOPS_REVIEWER_CORPUS`
overrides the location). A user's checkout has no `../shared`: tests that need it skip, with the
reason, unless `GITOPS_REVIEWER_REQUIRE_CORPUS=1` (CI), where a missing corpus is a failure.

    from corpus_fixture import clone_corpus

    @pytest.fixture(scope="session")
    def examples(tmp_path_factory):
        return clone_corpus("argo-cd-applicationset-examples", tmp_path_factory.mktemp("corpus") / "examples")
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

CORPUS_ENV = "GITOPS_REVIEWER_CORPUS"
REQUIRE_ENV = "GITOPS_REVIEWER_REQUIRE_CORPUS"
CLONE_TIMEOUT = 300.0


def corpus_dir() -> Path | None:
    """The corpus folder, or None when it is absent."""
    override = os.environ.get(CORPUS_ENV)
    path = Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "corpus"
    return path if path.is_dir() else None


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)")
    pytest.skip(reason)


def clone_corpus(name: str, dest: Path, *, pair: bool = False) -> Path:
    """Clone `snapshots/NAME.bundle` (or `pairs/NAME.bundle` when `pair`) into `dest`; return `dest`.

    Skips the calling test when the corpus is absent (fails when it is required).
    """
    root = corpus_dir()
    if root is None:
        where = os.environ.get(CORPUS_ENV) or str(Path(__file__).resolve().parents[2] / "shared" / "corpus")
        _unavailable(f"the shared corpus is not available at {where}; set {CORPUS_ENV} to its location")
        raise AssertionError("unreachable")  # pytest.skip/fail raise
    bundle = root / ("pairs" if pair else "snapshots") / f"{name}.bundle"
    if not bundle.is_file():
        pytest.fail(f"corpus bundle {bundle} is missing")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_TERMINAL_PROMPT"] = "0"
    done = subprocess.run(
        ["git", "clone", "-q", str(bundle), str(dest)],
        capture_output=True,
        text=True,
        timeout=CLONE_TIMEOUT,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"git clone of {bundle} failed: {done.stderr.strip()}")
    return dest
