"""What the publishers share: the sticky body and its fitting, Retry-After, the bounded retry loop."""

from __future__ import annotations

import email.utils
import time

import pytest
from test_report import CLUSTER, _fields, big_report, resource, rich_report

from reviewer.publish.common import (
    STICKY_MARKER,
    PublishOutcome,
    RetryableError,
    RetryPolicy,
    fit_markdown,
    parse_retry_after,
    sticky_body,
    with_retries,
)
from reviewer.records import Change, Finding, Report, ResourceKey
from reviewer.report import format_report
from reviewer.report.markdown import TRIMMED_NOTE, md_text


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Flaky:
    """Fails with the given errors, in order, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


# --- sticky body and fitting ------------------------------------------------------------------------------


def test_sticky_body_starts_with_the_marker_and_is_the_report_when_it_fits() -> None:
    report = rich_report()
    body = sticky_body(report, max_chars=100_000)
    assert body == f"{STICKY_MARKER}\n{format_report(report, 'markdown')}"
    assert STICKY_MARKER.startswith("<!--") and STICKY_MARKER.endswith("-->")  # hidden when rendered


@pytest.mark.parametrize("limit", [65_000, 20_000, 8_000])
def test_sticky_body_fits_by_trimming_diffs_first(limit: int) -> None:
    report = big_report(300)
    body = sticky_body(report, max_chars=limit, full_report_url="https://ci.example/run/1")
    assert len(body) <= limit
    assert TRIMMED_NOTE in body
    for finding in report.findings:
        assert md_text(finding.message, newline="<br>") in body
    assert "_of 5 findings shown" not in body


def many(report: Report, count: int) -> Report:
    extra = tuple(
        Finding("replicas-drop", "info", f"Note {i}", f"A long message number {i}. " * 5, f"argocd/app-{i}")
        for i in range(count)
    )
    return Report(**{**_fields(report), "findings": report.findings + extra})


def test_fit_lists_the_most_severe_findings_when_they_alone_do_not_fit() -> None:
    report = many(rich_report(), 300)
    text = fit_markdown(report, max_chars=20_000)
    assert len(text) <= 20_000
    assert text.startswith("**❌ gitops-reviewer: fail** · 1 critical, 1 error, 1 warning, 301 info")
    assert "| prune-deletion |" in text and "| immutable-field |" in text
    shown = int(text.split(" of 305 findings shown")[0].rsplit("_", 1)[1])
    assert 10 < shown < 305
    assert text.count("| replicas-drop |") == shown - 4  # the four most severe come first
    # one more finding would not have fitted: the search finds the most that fit
    assert len(fit_markdown(report, max_chars=20_000 + 400)) > len(text) or shown == 305


def test_fit_falls_back_to_the_verdict_line_and_a_pointer() -> None:
    report = rich_report()
    text = fit_markdown(report, max_chars=300, full_report_url="https://ci.example/run/1")
    assert len(text) <= 300
    assert text.startswith("**❌ gitops-reviewer: fail**")
    assert "[full report](https://ci.example/run/1)" in text


def wide_report(resources: int, repeat: int = 2000, plain: int = 40) -> Report:
    """`big_report(plain)` plus ConfigMaps of Japanese text: three UTF-8 bytes a character in their diffs."""
    report = big_report(plain)
    wide = tuple(
        Change(
            key=ResourceKey("", "ConfigMap", "web", f"wide-{i:03}"),
            type="added",
            cluster=CLUSTER,
            head=resource(
                "argocd/app-wide", "v1", "ConfigMap", "web", f"wide-{i:03}", {"data": {"k": "日本語テキスト" * repeat}}
            ),
        )
        for i in range(resources)
    )
    return Report(**{**_fields(report), "changes": report.changes + wide})


def test_fit_counts_bytes_when_asked() -> None:
    report = wide_report(60, repeat=100, plain=0)
    limit = 30_000
    by_chars = fit_markdown(report, max_chars=limit)
    by_bytes = fit_markdown(report, max_chars=limit, size=lambda text: len(text.encode()))
    assert len(by_chars) <= limit < len(by_chars.encode())
    assert limit * 0.8 < len(by_bytes.encode()) <= limit
    assert TRIMMED_NOTE in by_bytes


# --- Retry-After and retries ------------------------------------------------------------------------------


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    future = email.utils.formatdate(time.time() + 120, usegmt=True)
    assert 110 <= (parse_retry_after(future) or 0) <= 121
    past = email.utils.formatdate(time.time() - 120, usegmt=True)
    assert parse_retry_after(past) == 0.0


def test_retries_honour_retry_after() -> None:
    sleeps = Sleeps()
    call = Flaky(RetryableError("429", retry_after=5), RetryableError("429", retry_after=2))
    assert with_retries(call, sleep=sleeps) == "ok"
    assert sleeps == [5.0, 2.0]
    assert call.calls == 3


def test_retries_back_off_exponentially_with_jitter() -> None:
    sleeps = Sleeps()
    call = Flaky(RetryableError("500"), RetryableError("502"), RetryableError("503"))
    assert with_retries(call, policy=RetryPolicy(attempts=4, base_delay=1.0), sleep=sleeps) == "ok"
    assert [0.5 <= sleeps[0] <= 1.0, 1.0 <= sleeps[1] <= 2.0, 2.0 <= sleeps[2] <= 4.0] == [True] * 3


def test_retries_stop_at_the_attempts_the_budget_or_a_long_retry_after() -> None:
    sleeps = Sleeps()
    call = Flaky(*(RetryableError(f"500 #{i}") for i in range(10)))
    with pytest.raises(RetryableError, match="500 #2"):
        with_retries(call, policy=RetryPolicy(attempts=3), sleep=sleeps)
    assert call.calls == 3 and len(sleeps) == 2

    sleeps = Sleeps()
    call = Flaky(*(RetryableError("429", retry_after=20) for _ in range(10)))
    with pytest.raises(RetryableError):
        with_retries(call, policy=RetryPolicy(attempts=10, budget=50, max_wait=30), sleep=sleeps)
    assert sleeps == [20.0, 20.0], "a third wait would pass the 50-second budget"

    sleeps = Sleeps()
    call = Flaky(RetryableError("429", retry_after=600))
    with pytest.raises(RetryableError):
        with_retries(call, policy=RetryPolicy(max_wait=30), sleep=sleeps)
    assert sleeps == [] and call.calls == 1


def test_other_errors_are_not_retried() -> None:
    call = Flaky(ValueError("a bug"))
    with pytest.raises(ValueError):
        with_retries(call, sleep=Sleeps())
    assert call.calls == 1


def test_publish_outcome_is_a_frozen_record() -> None:
    outcome = PublishOutcome("comment", False, "403")
    with pytest.raises(AttributeError):
        outcome.posted = True  # type: ignore[misc]
    assert outcome == PublishOutcome("comment", False, "403")


def test_thousands_of_changed_apps_leave_out_app_lines_before_findings() -> None:
    report = big_report(0)
    extra = tuple(
        Change(
            key=ResourceKey("", "ConfigMap", "web", f"cm-{i:04}"),
            type="added",
            cluster=CLUSTER,
            head=resource(f"argocd/app-{i:04}", "v1", "ConfigMap", "web", f"cm-{i:04}", {"data": {"k": "v"}}),
        )
        for i in range(3000)
    )
    flagged = Finding("replicas-drop", "warning", "Flagged", "An app at the end of the list.", "argocd/app-2999")
    report = Report(**{**_fields(report), "changes": report.changes + extra, "findings": (*report.findings, flagged)})
    text = fit_markdown(report, max_chars=30_000)
    assert len(text) <= 30_000
    left_out = int(text.split(" more apps with changes left out to fit the size limit._")[0].rsplit("_", 1)[1])
    assert 2000 < left_out < 3000
    assert "- **argocd/app-2999** +1 ~0 -0: diff left out" in text, "an app with findings keeps its line"
    assert "- **argocd/app-2998**" not in text
    for finding in report.findings:
        assert md_text(finding.message, newline="<br>") in text
