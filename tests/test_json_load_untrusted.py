"""A report read back from JSON is untrusted (a fork's run may have written it): it renders with the same
escaping as a fresh review, shows field deltas for its diffs, and bad files are clear errors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from test_report import EVIL_MESSAGE, rich_report

from reviewer.errors import UsageError
from reviewer.report import format_report
from reviewer.report.json_load import load_report


def test_untrusted_text_from_the_file_is_escaped_when_rendered() -> None:
    document = json.loads(format_report(rich_report(), "json"))
    document["findings"][0]["message"] = EVIL_MESSAGE
    document["changes"][0]["resource"]["name"] = "<img src=x onerror=alert(1)>"
    document["head"]["label"] = "@org/admins <b>bold</b>"
    markdown = format_report(load_report(json.dumps(document), "x"), "markdown")
    prose = re.sub(r"(?ms)^(`{3,})diff\n.*?^\1$", "", markdown)  # diff blocks show text, never render it
    assert "<img src=x" in markdown and "<img" not in prose
    for raw in ("<script>", "<b>bold", "</details>\n<script"):
        assert raw not in markdown
    assert "@org" not in markdown  # no mention


def reject(document: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match) as caught:
        load_report(document if isinstance(document, str) else json.dumps(document), "artifact/report.json")
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2
    assert str(caught.value).startswith("artifact/report.json: ")


def test_bad_files_are_clear_errors() -> None:
    good = json.loads(format_report(rich_report(), "json"))
    reject("{not json", r"not valid JSON: .* line 1")
    reject([], r"expected an object, found a list")
    reject({**good, "schemaVersion": 2}, r"schema version 1 \(schemaVersion 2\)")
    reject({**good, "schemaVersion": True}, r"schema version 1 \(schemaVersion True\)")
    reject({**good, "verdict": "ok"}, r"verdict: expected one of pass, fail, error, found 'ok'")
    missing = dict(good)
    del missing["findings"]
    reject(missing, r"the key `findings` is missing")
    finding = {**good["findings"][0], "waived": 1}
    reject({**good, "findings": [finding]}, r"findings\[0\]\.waived: expected true or false, found a number")
    change = {**good["changes"][0], "type": "replaced"}
    reject({**good, "changes": [change]}, r"changes\[0\]\.type: expected one of .*found 'replaced'")
    error = {**good["errors"][0], "exitCode": True}
    reject({**good, "errors": [error]}, r"errors\[0\]\.exitCode: expected an integer or null, found a boolean")
    reject({**good, "timings": {"render": "fast"}}, r"timings\.render: expected a number, found a string")
