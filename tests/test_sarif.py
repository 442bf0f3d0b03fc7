"""The SARIF 2.1.0 format, as GitHub code scanning reads it."""

from __future__ import annotations

import dataclasses
import inspect
import json
from typing import Any

import pytest
from test_report import rich_findings, rich_report

from reviewer.policies import RULE_MODULES, load_rules
from reviewer.records import Finding
from reviewer.report import FormatOptions, format_report
from reviewer.report import sarif as sarif_module
from reviewer.report.summary import ordered_findings


def sarif(report: Any = None, **options: Any) -> dict[str, Any]:
    return json.loads(format_report(report or rich_report(), "sarif", FormatOptions(**options)))  # type: ignore[no-any-return]


def test_log_and_driver() -> None:
    log = sarif()
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("gitops-reviewer", "0.1.0")
    assert run["properties"]["verdict"] == "fail"


def test_every_builtin_rule_is_described_with_its_documentation() -> None:
    rules = {rule["id"]: rule for rule in sarif()["runs"][0]["tool"]["driver"]["rules"]}
    assert set(RULE_MODULES) <= set(rules)
    for module in load_rules():
        rule = rules[module.ID]
        assert rule["help"]["text"] == inspect.cleandoc(module.__doc__ or "")
        assert "Why it matters" in rule["help"]["text"]
        assert not rule["shortDescription"]["text"].startswith(f"{module.ID}:")
        expected = {"critical": "error", "error": "error", "warning": "warning", "info": "note"}[module.SEVERITY]
        assert rule["defaultConfiguration"]["level"] == expected


def test_one_result_per_finding_most_severe_first() -> None:
    run = sarif()["runs"][0]
    results = run["results"]
    findings = ordered_findings(rich_findings())
    assert [r["ruleId"] for r in results] == [f.rule for f in findings]
    assert [r["level"] for r in results] == ["error", "error", "warning", "warning", "note"]
    rules = run["tool"]["driver"]["rules"]
    for result, finding in zip(results, findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == finding.rule
        assert result["partialFingerprints"] == {"gitopsReviewer/v1": finding.fingerprint}
        assert finding.message in result["message"]["text"]
        assert result["properties"]["app"] == finding.app


def test_rules_from_policies_and_the_llm_review_are_described_by_origin() -> None:
    rules = {rule["id"]: rule for rule in sarif()["runs"][0]["tool"]["driver"]["rules"]}
    assert "LLM review" in rules["llm-review"]["help"]["text"]
    assert rules["llm-review"]["shortDescription"]["text"] == "Reviewer note"
    assert "hook-added" in rules


def test_locations_are_repository_paths_with_lines() -> None:
    results = sarif(path_prefix="deploy/config")["runs"][0]["results"]
    by_rule = {r["ruleId"]: r["locations"][0]["physicalLocation"] for r in results}
    assert by_rule["prune-deletion"] == {
        "artifactLocation": {"uri": "deploy/config/charts/web/templates/pvc.yaml"},
        "region": {"startLine": 1},
    }
    # no location of its own: the source file of its resource
    assert by_rule["immutable-field"]["artifactLocation"]["uri"] == "deploy/config/charts/web/templates/deployment.yaml"


def test_waived_findings_are_suppressed_not_dropped() -> None:
    results = sarif()["runs"][0]["results"]
    (waived,) = [r for r in results if "suppressions" in r]
    assert waived["ruleId"] == "replicas-ignored"
    assert waived["suppressions"][0]["kind"] == "external"


def test_render_errors_make_the_invocation_unsuccessful() -> None:
    (invocation,) = sarif()["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("argocd/broken: helm template failed")
    clean = dataclasses.replace(rich_report(), errors=())
    assert sarif(clean)["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_results_are_capped_at_what_code_scanning_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sarif_module, "SARIF_MAX_RESULTS", 3)
    extra = tuple(Finding("r", "info", "t", f"m{i}", "argocd/a") for i in range(10))
    report = dataclasses.replace(rich_report(), findings=rich_findings() + extra)
    run = sarif(report)["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["prune-deletion", "immutable-field", "hook-added"]
    assert run["properties"]["resultsLeftOut"] == 12


def test_the_cap_is_code_scannings() -> None:
    assert sarif_module.SARIF_MAX_RESULTS == 25_000
