"""Reading a JSON report back: exact round trips, clear errors on anything else, and a loaded report
(untrusted: a fork's run may have written it) that still renders safely."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gitrepos import git
from test_report import EVIL_MESSAGE, big_report, rich_report

from reviewer.change import resolve_change
from reviewer.errors import UsageError
from reviewer.report import format_report
from reviewer.report.json_load import ReportFormatError, load_report
from reviewer.review import review


def round_trip(text: str) -> str:
    return format_report(load_report(text, "report.json"), "json")


def test_a_real_review_round_trips(example_repo: Path) -> None:
    patch = example_repo / "apps/guestbook/overlays/prod/deployment-patch.yaml"
    patch.write_text(patch.read_text().replace("replicas: 3", "replicas: 0"))
    (example_repo / "apps/postgres/backup-pvc.yaml").unlink()
    secret = example_repo / "apps/postgres/secret.yaml"
    secret.write_text(secret.read_text().replace("stringData:", "stringData:\n  extra: added-value"))
    git(example_repo, "commit", "-qam", "scale down, drop the backup volume")
    report = review(resolve_change(example_repo, base="HEAD~1", head="HEAD"))
    text = format_report(report, "json")
    document = json.loads(text)
    assert document["findings"] and document["changes"], "a review with something to carry"
    assert {c["type"] for c in document["changes"]} >= {"modified", "removed"}
    assert round_trip(text) == text
    assert "added-value" not in text and "added-value" not in format_report(load_report(text, "x"), "markdown")


@pytest.mark.parametrize("make", [rich_report, big_report])
def test_hand_built_reports_round_trip(make: Any) -> None:
    text = format_report(make(), "json")
    assert round_trip(text) == text


def test_what_the_json_carries_comes_back() -> None:
    original = rich_report()
    loaded = load_report(format_report(original, "json"), "x")
    assert loaded.verdict == original.verdict
    assert {f.fingerprint for f in loaded.findings} == {f.fingerprint for f in original.findings}
    assert sorted(loaded.timings) == sorted(original.timings)
    assert dict(loaded.tool_versions) == dict(original.tool_versions)
    moved = next(c for c in loaded.changes if c.type == "moved")
    assert (moved.from_app, moved.app) == ("argocd/web-staging", "argocd/web-prod")


def test_a_loaded_report_shows_field_deltas_for_diffs() -> None:
    markdown = format_report(load_report(format_report(rich_report(), "json"), "x"), "markdown")
    assert "-spec.replicas: 3\n+spec.replicas: 2" in markdown
    assert '+data.password: "<redacted: changed>"' in markdown
    assert "hunter2" not in markdown and "sk_live_42" not in markdown


def test_untrusted_text_from_the_file_is_escaped_when_rendered() -> None:
    document = json.loads(format_report(rich_report(), "json"))
    document["findings"][0]["message"] = EVIL_MESSAGE
    document["changes"][0]["resource"]["name"] = "<img src=x onerror=alert(1)>"
    document["head"]["label"] = "@org/admins <b>bold</b>"
    markdown = format_report(load_report(json.dumps(document), "x"), "markdown")
    for raw in ("<script>", "<img", "<b>bold", "</details>\n<script"):
        assert raw not in markdown
    assert "@org" not in markdown  # no mention


def reject(document: Any, match: str) -> None:
    with pytest.raises(ReportFormatError, match=match) as caught:
        load_report(document if isinstance(document, str) else json.dumps(document), "artifact/report.json")
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2
    assert str(caught.value).startswith("artifact/report.json: not a gitops-reviewer JSON report: ")


def test_bad_files_are_clear_errors() -> None:
    good = json.loads(format_report(rich_report(), "json"))
    reject("{not json", r"line 1: invalid JSON")
    reject([], r"report: expected an object, found list")
    reject({**good, "schemaVersion": 2}, r"schemaVersion: 2; this version of gitops-reviewer reads 1")
    reject({**good, "schemaVersion": True}, r"schemaVersion: True; this version")
    reject({**good, "verdict": "ok"}, r"verdict: unknown verdict 'ok'")
    missing = dict(good)
    del missing["findings"]
    reject(missing, r"report: missing `findings`")
    finding = {**good["findings"][0], "waived": 1}
    reject({**good, "findings": [finding]}, r"findings\[0\]\.waived: expected true or false, found int")
    change = {**good["changes"][0], "type": "replaced"}
    reject({**good, "changes": [change]}, r"changes\[0\]\.type: unknown change type 'replaced'")
    error = {**good["errors"][0], "exitCode": True}
    reject({**good, "errors": [error]}, r"errors\[0\]\.exitCode: expected an integer, found bool")
    reject({**good, "timings": {"render": "fast"}}, r"timings\.render: expected a number, found str")
