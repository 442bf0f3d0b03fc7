"""The Code Quality format (GitLab's CodeClimate JSON) on hand-built reports: the fields GitLab needs,
the severity mapping, where findings without a file point, and fingerprints GitLab can tell apart."""

from __future__ import annotations

import json
import random
from typing import Any

from test_report import app_record, rich_report

from reviewer.records import AppStatus, Finding, Location, Report, ResourceKey
from reviewer.report import FormatOptions, format_report
from reviewer.report.codequality import CODEQUALITY_SEVERITY

KEY = ResourceKey("apps", "Deployment", "web", "web")
GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def issues(report: Report, options: FormatOptions | None = None) -> list[dict[str, Any]]:
    data = json.loads(format_report(report, "codequality", options))
    assert isinstance(data, list)
    return data


def with_findings(*findings: Finding, apps: tuple[AppStatus, ...] = ()) -> Report:
    return Report("a1", "b2", "main", "HEAD", apps, (), findings, (), "fail")


def test_every_finding_of_the_rich_report_is_a_complete_issue() -> None:
    report = rich_report()
    result = issues(report)
    assert len(result) == len(report.findings)
    for issue in result:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert isinstance(issue["description"], str) and issue["description"].strip()
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert isinstance(issue["fingerprint"], str) and issue["fingerprint"]
        assert issue["severity"] in GITLAB_SEVERITIES
        assert isinstance(issue["location"]["path"], str) and issue["location"]["path"]
        begin = issue["location"]["lines"]["begin"]
        assert isinstance(begin, int) and not isinstance(begin, bool) and begin >= 1
    assert len({i["fingerprint"] for i in result}) == len(result)


def test_severities_map_to_codeclimate_levels() -> None:
    assert CODEQUALITY_SEVERITY == {"info": "info", "warning": "minor", "error": "major", "critical": "blocker"}
    findings = [
        Finding(f"r-{s}", s, "t", "m", "argocd/web", KEY, location=Location("a.yaml", 3))
        for s in ("info", "warning", "error", "critical", "catastrophic")
    ]
    by_rule = {i["check_name"]: i["severity"] for i in issues(with_findings(*findings))}
    assert by_rule == {
        "r-info": "info",
        "r-warning": "minor",
        "r-error": "major",
        "r-critical": "blocker",
        "r-catastrophic": "blocker",  # unknown ranks highest: fail closed
    }


def test_a_waived_finding_is_listed_as_info_and_says_so() -> None:
    waived = Finding("prune-deletion", "critical", "t", "deleted", "argocd/web", KEY, waived=True)
    [issue] = issues(with_findings(waived))
    assert issue["severity"] == "info"
    assert issue["description"].startswith("(waived) ")


def test_findings_without_a_file_point_at_the_app_definition_or_the_config() -> None:
    app = AppStatus("argocd/web", "web", "changed", head=app_record("argocd/web"))
    removed = AppStatus("argocd/old", "old", "removed", base=app_record("argocd/old"))
    findings = (
        Finding("render-error", "error", "t", "render failed", "argocd/web"),
        Finding("cascade-deletion", "critical", "t", "app removed", "argocd/old"),
        Finding("config-change", "warning", "t", "config edited", "(config)"),
        Finding("replicas-zero", "error", "t", "to zero", "argocd/web", KEY, location=Location("web/d.yaml")),
    )
    locations = {i["check_name"]: i["location"] for i in issues(with_findings(*findings, apps=(app, removed)))}
    assert locations == {
        "render-error": {"path": "apps/web.yaml", "lines": {"begin": 1}},
        "cascade-deletion": {"path": "apps/old.yaml", "lines": {"begin": 1}},
        "config-change": {"path": ".gitops-reviewer.yaml", "lines": {"begin": 1}},
        "replicas-zero": {"path": "web/d.yaml", "lines": {"begin": 1}},  # a file without a line: line 1
    }


def test_paths_are_relative_to_the_git_repository() -> None:
    finding = Finding("r", "error", "t", "m", "argocd/web", KEY, location=Location("apps/web.yaml", 12))
    [issue] = issues(with_findings(finding), FormatOptions(path_prefix="deploy/gitops/"))
    assert issue["location"] == {"path": "deploy/gitops/apps/web.yaml", "lines": {"begin": 12}}


def test_same_fingerprint_twice_gets_two_stable_fingerprints() -> None:
    first = Finding("immutable-field", "error", "t", "selector changed", "argocd/web", KEY, path="spec")
    second = Finding("immutable-field", "error", "t", "volume claim changed", "argocd/web", KEY, path="spec")
    assert first.fingerprint == second.fingerprint
    one = issues(with_findings(first, second))
    other = issues(with_findings(second, first))
    assert one == other, "the order rules ran in does not matter"
    assert len({i["fingerprint"] for i in one}) == 2
    assert first.fingerprint in {i["fingerprint"] for i in one}


def test_descriptions_are_single_lines_of_bounded_length() -> None:
    finding = Finding("r", "error", "Title", "line one\nline two\u202e " + "x" * 5000, "argocd/web", KEY)
    [issue] = issues(with_findings(finding))
    assert "\n" not in issue["description"] and "\u202e" not in issue["description"]
    assert issue["description"].startswith("[argocd/web: apps/Deployment web/web] Title: line one line two")
    assert len(issue["description"]) <= 1000


def test_a_clean_report_is_an_empty_array() -> None:
    assert format_report(with_findings(), "codequality") == "[]\n"
    shuffled = list(rich_report().findings)
    random.Random(3).shuffle(shuffled)
    assert issues(with_findings(*shuffled)) == issues(with_findings(*rich_report().findings))
