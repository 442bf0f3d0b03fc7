"""replicas-drop: a cut by half or more fires (threshold configurable); a smaller cut, a rise, and a cut
to 0 (replicas-zero's) do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from rule_harness import findings_of, run_change

from reviewer.policies.example_manifests import application, deployment
from reviewer.records import Finding, Report

RULE = "replicas-drop"
WORKLOAD = "apps/web/deployment.yaml"
_APP = application("web", "apps/web", sync_policy="{automated: {prune: true}}")


def _review(tmp_path: Path, before: int | None, after: int | None, *, config: str | None = None) -> Report:
    base = {"apps/argocd/web.yaml": _APP, WORKLOAD: deployment("api", before)}
    if config is not None:
        base[".gitops-reviewer.yaml"] = config
    return run_change(tmp_path, base, {WORKLOAD: deployment("api", after)})


def _findings(tmp_path: Path, before: int | None, after: int | None, *, config: str | None = None) -> list[Finding]:
    return findings_of(_review(tmp_path, before, after, config=config), RULE)


@pytest.mark.parametrize(("before", "after"), [(4, 2), (10, 3), (2, 1), (10, 5)])
def test_a_cut_by_half_or_more_fires(tmp_path: Path, before: int, after: int) -> None:
    (finding,) = _findings(tmp_path, before, after)
    assert finding.severity == "warning"
    assert str(finding.key) == "apps/Deployment web/api"
    assert finding.path == "spec.replicas"
    assert finding.evidence == f"spec.replicas: {before} -> {after}"
    assert f"terminates {before - after} of its pods" in finding.message


@pytest.mark.parametrize(("before", "after"), [(4, 3), (10, 6), (3, 4), (None, 1), (2, 2)])
def test_smaller_cuts_and_rises_do_not(tmp_path: Path, before: int | None, after: int) -> None:
    assert _findings(tmp_path, before, after) == []


def test_a_cut_to_zero_is_replicas_zero_not_a_drop(tmp_path: Path) -> None:
    report = _review(tmp_path, 4, 0)
    assert findings_of(report, RULE) == []
    assert findings_of(report, "replicas-zero")


def test_removing_the_count_is_replicas_reset_not_a_drop(tmp_path: Path) -> None:
    report = _review(tmp_path, 4, None)
    assert findings_of(report, RULE) == []
    assert findings_of(report, "replicas-reset")


def test_threshold_option(tmp_path: Path) -> None:
    config = "rules:\n  options:\n    replicas-drop: {threshold: 0.3}\n"
    assert _findings(tmp_path / "lower", 10, 7, config=config)
    assert _findings(tmp_path / "default", 10, 7) == []
    assert _findings(tmp_path / "below", 10, 8, config=config) == []


def test_an_invalid_threshold_is_reported_not_ignored(tmp_path: Path) -> None:
    config = "rules:\n  options:\n    replicas-drop: {threshold: 2}\n"
    (finding,) = _findings(tmp_path, 4, 2, config=config)
    assert finding.severity == "error"
    assert "threshold must be more than 0 and at most 1" in finding.message


def test_a_null_threshold_is_reported_not_taken_for_the_default(tmp_path: Path) -> None:
    config = "rules:\n  options:\n    replicas-drop: {threshold: null}\n"
    (finding,) = _findings(tmp_path, 4, 2, config=config)
    assert finding.severity == "error"
    assert "threshold must be a number, got None" in finding.message
