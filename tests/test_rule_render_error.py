"""render-error: an app that fails to render at head gets one finding naming the command and the first
error line; an app that renders at head (even if it failed at base) gets none."""

from __future__ import annotations

from pathlib import Path

from rule_harness import findings_of, run_change

from reviewer.policies.example_manifests import application, deployment
from reviewer.policies.render_error import describe
from reviewer.records import RenderError

RULE = "render-error"
GOOD = "resources: [deployment.yaml]\n"
BROKEN = "resources: [deployment.yaml, missing.yaml]\n"


def _base(kustomization: str) -> dict[str, str]:
    return {
        "apps/argocd/web.yaml": application("web", "apps/web"),
        "apps/argocd/api.yaml": application("api", "apps/api"),
        "apps/web/kustomization.yaml": kustomization,
        "apps/web/deployment.yaml": deployment("web", 2),
        "apps/api/kustomization.yaml": GOOD,
        "apps/api/deployment.yaml": deployment("api", 2),
    }


def test_a_failed_render_at_head_is_one_error_per_app(tmp_path: Path) -> None:
    head: dict[str, str | None] = {
        "apps/web/kustomization.yaml": BROKEN,
        "apps/api/deployment.yaml": deployment("api", 3),
    }
    report = run_change(tmp_path, _base(GOOD), head)
    (finding,) = findings_of(report, RULE)
    (error,) = report.errors
    assert report.verdict == "error"
    assert finding.severity == "error"
    assert finding.app == "argocd/web"
    assert str(finding.key) == "argoproj.io/Application argocd/web"
    assert finding.location is not None and finding.location.file == "apps/argocd/web.yaml"
    assert error.command and f"`{error.command}` failed" in finding.message
    assert "missing.yaml" in finding.message
    assert "\n" not in finding.message  # the first error line only; the whole text is the evidence
    assert error.stderr.strip() in finding.evidence


def test_a_render_fixed_at_head_is_no_finding(tmp_path: Path) -> None:
    report = run_change(tmp_path, _base(BROKEN), {"apps/web/kustomization.yaml": GOOD})
    assert findings_of(report, RULE) == []


def test_a_healthy_render_is_no_finding(tmp_path: Path) -> None:
    report = run_change(tmp_path, _base(GOOD), {"apps/web/deployment.yaml": deployment("web", 3)})
    assert findings_of(report, RULE) == []


def test_describe_without_a_command_does_not_repeat_itself() -> None:
    assert describe(RenderError(app="a", message="app path 'x' does not exist")) == "app path 'x' does not exist"
    error = RenderError(
        app="a", message="helm template failed", command="helm template x", stderr="\n\nError: boom\nmore"
    )
    assert describe(error) == "`helm template x` failed: Error: boom"
    assert (
        describe(RenderError(app="a", message="plugin failed", stderr="line one\nline two"))
        == "plugin failed: line one"
    )
