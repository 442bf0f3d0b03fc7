"""Reading a JSON report back (reviewer.report.json_load): real reviews of the example config repo
round-trip to the same JSON, text and markdown; a bad file is a usage error that names it and the
place in it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_check import edit
from test_report import _fields, rich_report

from reviewer.change import resolve_change
from reviewer.errors import UsageError
from reviewer.records import LlmReview, Report
from reviewer.report import FORMATS, FormatOptions, format_report
from reviewer.report.json_load import load_report
from reviewer.review import review

QUOTA_HEADER = "---\n"


def _mixed(repo: Path) -> None:
    """Every kind of change: modified (a Secret among them), added, removed, a hook, a move between apps."""
    edit(repo / "apps/postgres/secret.yaml", "example-only-not-a-real-password", "a-new-secret-value")
    edit(repo / "apps/guestbook/base/deployment.yaml", "containerPort: 80", "containerPort: 8080")
    edit(repo / "apps/postgres/backup-job.yaml", "backoffLimit: 1", "backoffLimit: 2")
    (repo / "apps/postgres/backup-pvc.yaml").unlink()
    (repo / "apps/postgres/extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  mode: fast\n"
    )
    quotas = (repo / "platform/quotas/quotas.yaml").read_text()
    web_quota, postgres_quota = quotas.split(QUOTA_HEADER, 1)
    (repo / "platform/quotas/quotas.yaml").write_text(postgres_quota)
    (repo / "platform/namespaces/web-quota.yaml").write_text(web_quota)


def _render_error(repo: Path) -> None:
    (repo / "apps/postgres/broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: [\n")
    edit(repo / "apps/guestbook/base/deployment.yaml", "containerPort: 80", "containerPort: 8080")


def _app_removed(repo: Path) -> None:
    """An app leaves the app of apps: cascade deletion, and its resources removed."""
    (repo / "clusters/prod/apps/web-staging.yaml").unlink()


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "mixed": _mixed,
    "render-error": _render_error,
    "app-removed": _app_removed,
}


def _review(repo: Path) -> Report:
    return review(resolve_change(repo), fail_on="warning")


@pytest.fixture(params=sorted(SCENARIOS))
def reviewed(request: pytest.FixtureRequest, example_repo: Path) -> Report:
    SCENARIOS[request.param](example_repo)
    return _review(example_repo)


def _outputs(report: Report) -> dict[str, str]:
    out = {fmt: format_report(report, fmt) for fmt in FORMATS}
    out["text, colour"] = format_report(report, "text", FormatOptions(color=True))
    out["markdown, trimmed"] = format_report(report, "markdown", FormatOptions(max_chars=1500))
    out["markdown, summary"] = format_report(report, "markdown", FormatOptions(include_diff=False))
    return out


def test_a_real_review_round_trips_through_json(reviewed: Report) -> None:
    assert reviewed.changes or reviewed.errors, "the scenario must change something"
    text = format_report(reviewed, "json")
    loaded = load_report(text, "report.json")
    assert format_report(loaded, "json") == text
    assert _outputs(loaded) == _outputs(reviewed)
    assert loaded.verdict == reviewed.verdict
    assert loaded.findings and {f.fingerprint for f in loaded.findings} == {f.fingerprint for f in reviewed.findings}


def test_the_mixed_scenario_has_every_kind_of_change(example_repo: Path) -> None:
    _mixed(example_repo)
    loaded = load_report(format_report(_review(example_repo), "json"), "report.json")
    assert {c.type for c in loaded.changes} == {"added", "removed", "modified", "moved"}
    assert any(c.hook for c in loaded.changes)
    moved = next(c for c in loaded.changes if c.type == "moved")
    assert (moved.from_app, moved.app) == ("argocd/platform-quotas", "argocd/platform-namespaces")
    secret = next(c for c in loaded.changes if c.key.kind == "Secret")
    assert "a-new-secret-value" not in json.dumps(secret.head.body if secret.head else {})
    status = next(s for s in loaded.apps if s.app == "argocd/postgres-prod")
    assert status.head is not None and status.head.sync_policy.sync_options == ("ServerSideApply=true",)
    assert status.head.manifest == {}, "raw manifests are not in reports"


def test_the_rich_hand_built_report_round_trips() -> None:
    report = rich_report()
    llm = LlmReview("unavailable", reason="timeout after 30s", model="m", not_reviewed=("a/b: Service x",))
    report = Report(**{**_fields(report), "llm": llm, "skipped_apps": 12})
    text = format_report(report, "json")
    loaded = load_report(text, "rich.json")
    assert format_report(loaded, "json") == text
    assert loaded.llm == llm and loaded.skipped_apps == 12
    assert _outputs(loaded) == _outputs(report)


def test_a_report_without_the_newer_fields_still_loads() -> None:
    document = json.loads(format_report(rich_report(), "json"))
    for key in ("skippedApps", "llm", "shard"):
        del document[key]
    for app in document["apps"]:
        del app["base"], app["head"]
    for change in document["changes"]:
        del change["base"], change["head"]
    for finding in document["findings"]:
        del finding["evidence"]
    for error in document["errors"]:
        del error["source"]
    loaded = load_report(json.dumps(document), "old.json")
    again = json.loads(format_report(loaded, "json"))
    assert [(c["app"], c["type"], c["fromApp"], c["source"]) for c in again["changes"]] == [
        (c["app"], c["type"], c["fromApp"], c["source"]) for c in document["changes"]
    ]
    assert [f["fingerprint"] for f in again["findings"]] == [f["fingerprint"] for f in document["findings"]]
    assert loaded.verdict == "fail" and loaded.skipped_apps == 0 and loaded.llm is None


def _document() -> dict[str, Any]:
    return json.loads(format_report(rich_report(), "json"))


def _broken(change: Callable[[dict[str, Any]], object]) -> str:
    document = _document()
    change(document)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", r"parts/7\.json: not valid JSON: .* at line 1, column 2"),
        ("[]", r"parts/7\.json: .*the document: expected an object, found a list"),
        (json.dumps({"verdict": "pass"}), r"parts/7\.json: .*schema version 1 \(no schemaVersion\)"),
        (_broken(lambda d: d.update(schemaVersion=2)), r"parts/7\.json: .*\(schemaVersion 2\)"),
        (_broken(lambda d: d.pop("changes")), r"parts/7\.json: .*the document: the key `changes` is missing"),
        (_broken(lambda d: d.update(verdict="maybe")), r"verdict: expected one of pass, fail, error, found 'maybe'"),
        (_broken(lambda d: d["changes"][1].update(cluster=7)), r"changes\[1\]\.cluster: expected a string"),
        (
            _broken(lambda d: d["findings"][0]["resource"].update(kind=None)),
            r"findings\[0\]\.resource\.kind: expected a string, found null",
        ),
        (
            _broken(lambda d: next(c for c in d["changes"] if c["type"] == "removed").update(type="added")),
            r"changes\[\d+\]: a change of type `added` needs exactly its head resource",
        ),
        (_broken(lambda d: d["timings"].update(render="slow")), r"timings\.render: expected a number"),
        (_broken(lambda d: d["apps"][0]["head"].update(syncPolicy=[])), r"apps\[0\]\.head\.syncPolicy: expected an"),
    ],
)
def test_a_bad_report_is_a_usage_error_naming_file_and_place(text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem) as raised:
        load_report(text, "parts/7.json")
    assert str(raised.value).startswith("parts/7.json: ")
    assert raised.value.exit_code == 2
