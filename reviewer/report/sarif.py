"""SARIF 2.1.0, for GitHub code scanning (`github/codeql-action/upload-sarif`), reviewdog and IDEs.

One run; the driver lists every built-in rule with its documentation as help text (the rule module's
docstring, as `gitops-reviewer rules explain` prints it), plus the user policies and advisory reviews
that produced findings. One result per finding, most severe first: its level, its message, where it
points (reviewer.report.locations; paths from the git repository root, so `FormatOptions.path_prefix`
matters when the config repo is a subdirectory), and the finding's fingerprint as a partial fingerprint
so code scanning tracks an alert across runs. A waived finding carries an accepted suppression.

Render errors are not results (no rule produced them; the `render-error` rule's findings are): they
make the invocation unsuccessful, with one notification each, as a failed analysis does in SARIF.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from .. import __version__
from ..records import Finding, Report
from .json_text import dumps_indented
from .locations import FindingLocator, repo_path
from .options import FormatOptions
from .summary import ordered_findings

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub code scanning accepts at most 25,000 results per run (docs: "SARIF support for code scanning").
SARIF_MAX_RESULTS = 25_000
# The key of `partialFingerprints`: versioned, so a change of the fingerprint recipe can get a new key.
FINGERPRINT_KEY = "gitopsReviewer/v1"

LEVELS = {"critical": "error", "error": "error", "warning": "warning", "info": "note"}
ORIGIN_HELP = {
    "policy": "A user policy of this config repo (its YAML file under the configured policy paths says what "
    "it checks and why).",
    "llm": "An advisory finding of the LLM review. It never changes the verdict; check it against the diff.",
    "rule": "A gitops-reviewer rule.",
}


def _level(severity: str) -> str:
    return LEVELS.get(severity, "error")  # an unknown severity ranks highest (fail closed)


def _builtin_rules() -> dict[str, dict[str, Any]]:
    """The built-in rules as SARIF reportingDescriptors, documented from their modules' docstrings."""
    from ..policies import RULE_MODULES  # the report formats do not otherwise depend on the rules

    rules = {}
    for rule_id, module_name in RULE_MODULES.items():
        module = importlib.import_module(f"reviewer.policies.{module_name}")
        doc = inspect.cleandoc(module.__doc__ or "")
        first = doc.splitlines()[0] if doc else rule_id
        short = first.removeprefix(f"{rule_id}: ")
        rules[rule_id] = {
            "id": rule_id,
            "name": rule_id,
            "shortDescription": {"text": short},
            "fullDescription": {"text": short},
            "help": {"text": doc or short},
            "defaultConfiguration": {"level": _level(module.SEVERITY)},
            "properties": {"tags": ["argo-cd", "gitops"], "defaultSeverity": module.SEVERITY},
        }
    return rules


def _other_rule(finding: Finding) -> dict[str, Any]:
    short = finding.title or finding.rule
    return {
        "id": finding.rule,
        "name": finding.rule,
        "shortDescription": {"text": short},
        "help": {"text": ORIGIN_HELP.get(finding.origin, ORIGIN_HELP["rule"])},
        "defaultConfiguration": {"level": _level(finding.severity)},
        "properties": {"tags": ["argo-cd", "gitops", finding.origin]},
    }


def _message(finding: Finding) -> str:
    where = " · ".join(part for part in (finding.app, str(finding.key or ""), finding.path or "") if part)
    text = f"{finding.title}: {finding.message}" if finding.title else finding.message
    return f"{text} ({where})" if where else text


def _result(finding: Finding, rule_index: int, locator: FindingLocator, prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _level(finding.severity),
        "message": {"text": _message(finding)},
    }
    location = locator.locate(finding)
    if location is not None:
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": repo_path(location, prefix)},
                    "region": {"startLine": location.line or 1},
                }
            }
        ]
    result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    if finding.waived:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": "waived in the gitops-reviewer configuration"}
        ]
    result["properties"] = {
        "severity": finding.severity,
        "app": finding.app,
        "resource": str(finding.key) if finding.key else None,
        "path": finding.path,
        "origin": finding.origin,
    }
    return result


def sarif_document(report: Report, options: FormatOptions) -> dict[str, Any]:
    """The SARIF log as JSON-ready data."""
    findings = ordered_findings(report.findings)
    rules = _builtin_rules()
    for finding in findings:
        if finding.rule not in rules:
            rules[finding.rule] = _other_rule(finding)
    ordered_rules = [rules[rule_id] for rule_id in sorted(rules)]
    index = {rule["id"]: i for i, rule in enumerate(ordered_rules)}
    locator = FindingLocator(report)
    kept = findings[:SARIF_MAX_RESULTS]
    version = dict(report.tool_versions).get("gitops-reviewer", __version__)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "gitops-reviewer", "version": version, "rules": ordered_rules}},
        "results": [_result(finding, index[finding.rule], locator, options.path_prefix) for finding in kept],
        "invocations": [
            {
                "executionSuccessful": not report.errors,
                "toolExecutionNotifications": [
                    {"level": "error", "message": {"text": f"{error.app}: {error}"}} for error in report.errors
                ],
            }
        ],
        "properties": {
            "verdict": report.verdict,
            "baseRevision": report.base_revision,
            "headRevision": report.head_revision,
            "resultsLeftOut": len(findings) - len(kept),
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def format_sarif(report: Report, options: FormatOptions) -> str:
    """The SARIF 2.1.0 log (see the module docstring)."""
    return dumps_indented(sarif_document(report, options)) + "\n"
