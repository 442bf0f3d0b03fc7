"""The GitHub publisher against the fake GitHub API (tests/fakes/github_api.py), through real PyGithub.

The fake enforces GitHub's documented limits (65,536-character comments, 50 annotations per request,
140-character status descriptions, paginated comment listing) and can answer 403, 429 or 500; the
publisher must stay within the limits, never duplicate its comment, retry what is worth retrying,
and never let a failure to post read as a pass.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.github_api import FakeGithub, PullRequest, fake_github
from test_publish_common import Sleeps, wide_report
from test_report import _fields, big_report, rich_report

from reviewer.publish.common import STICKY_MARKER, RetryPolicy
from reviewer.publish.github import (
    ANNOTATIONS_PER_REQUEST,
    COMMENT_BUDGET_CHARS,
    COMMENT_MAX_CHARS,
    STATUS_DESCRIPTION_MAX_CHARS,
    STEP_SUMMARY_MAX_BYTES,
    GithubSettings,
    GithubTarget,
    check_conclusion,
    comment_body,
    publish,
    pull_request_for_commit,
)
from reviewer.records import Finding, Location, RenderError, Report, ResourceKey
from reviewer.report.markdown import md_text

PR = 42
HEAD = "8d41e07b2c6a5f4e3d2c1b0a9f8e7d6c5b4a3928"
RUN = "https://github.com/acme/gitops-config/actions/runs/7"


@pytest.fixture
def fake() -> Iterator[FakeGithub]:
    with fake_github() as server:
        yield server


def target(fake: FakeGithub, **changes: object) -> GithubTarget:
    base = GithubTarget(
        repository=fake.repository, head_sha=HEAD, pr_number=PR, api_url=fake.url, token=fake.token, report_url=RUN
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def settings(**changes: object) -> GithubSettings:
    base = GithubSettings(seconds_between_requests=None, seconds_between_writes=None, sleep=Sleeps())
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def outcome(outcomes: tuple[object, ...], surface: str) -> object:
    (found,) = [o for o in outcomes if getattr(o, "surface") == surface]  # noqa: B009
    return found


def many_findings(report: Report, count: int, severity: str = "warning") -> Report:
    """`report` plus `count` findings on its added ConfigMaps (each with its source file and line)."""
    extra = tuple(
        Finding(
            rule="replicas-drop",
            severity=severity,
            title=f"Finding {i}",
            message=f"ConfigMap cm-{i:03} changes in a way worth a look (#{i}).",
            app=f"argocd/app-{i % 3}",
            key=ResourceKey("", "ConfigMap", "web", f"cm-{i:03}"),
            location=Location(f"apps/app-{i % 3}/cm-{i:03}.yaml", i + 1),
        )
        for i in range(count)
    )
    return Report(**{**_fields(report), "findings": report.findings + extra})


# --- the sticky comment -----------------------------------------------------------------------------------


def test_ten_runs_leave_exactly_one_comment_among_pages_of_others(fake: FakeGithub) -> None:
    for i in range(130):  # more than one page of 100: ours must be found wherever it is
        fake.add_comment(PR, f"review comment {i}")
    fake.add_comment(PR, f"{STICKY_MARKER}\nI pasted your marker", login="mallory")  # not ours: left alone
    fake.add_comment(PR + 1, f"{STICKY_MARKER}\nanother PR's report", login="github-actions[bot]", user_type="Bot")
    report = rich_report()
    for run in range(10):
        if run == 5:  # a new push: the report changes
            report = dataclasses.replace(report, head_revision="f00dfeed")
        outcomes = publish(report, target(fake), settings())
        assert outcome(outcomes, "comment").posted  # type: ignore[attr-defined]
    comments = fake.issue_comments(PR)
    ours = [c for c in comments if c["user"]["login"] == "github-actions[bot]"]
    assert len(ours) == 1
    assert ours[0]["body"] == comment_body(report, target(fake))
    assert "f00dfeed" in ours[0]["body"]
    assert [c["body"] for c in comments if c["user"]["login"] == "mallory"] == [
        f"{STICKY_MARKER}\nI pasted your marker"
    ]
    assert len(comments) == 132
    assert fake.count("POST", rf"/issues/{PR}/comments$") == 1
    assert fake.count("PATCH", r"/issues/comments/\d+$") == 1  # runs 1-4 and 6-9 found it up to date
    assert fake.count("GET", rf"/issues/{PR}/comments$") == 10 * 2  # two pages each time
    assert len(fake.issue_comments(PR + 1)) == 1


def test_duplicate_comments_of_ours_are_removed(fake: FakeGithub) -> None:
    for _ in range(3):  # as if three runs had raced
        fake.add_comment(PR, f"{STICKY_MARKER}\nold", login="github-actions[bot]", user_type="Bot")
    publish(rich_report(), target(fake), settings())
    (comment,) = fake.issue_comments(PR)
    assert comment["body"].startswith(f"{STICKY_MARKER}\n**❌ gitops-reviewer: fail**")


def test_with_a_personal_token_only_the_tokens_user_comments_are_ours() -> None:
    with fake_github(login="ci-bot-user", user_type="User", installation_token=False, token="ghp_personal") as fake:
        fake.add_comment(PR, f"{STICKY_MARKER}\nsome app's report", login="other-bot[bot]", user_type="Bot")
        fake.add_comment(PR, f"{STICKY_MARKER}\nold", login="ci-bot-user")
        publish(rich_report(), target(fake), settings())
        bodies = {c["user"]["login"]: c["body"] for c in fake.issue_comments(PR)}
        assert bodies["other-bot[bot]"] == f"{STICKY_MARKER}\nsome app's report"
        assert "gitops-reviewer: fail" in bodies["ci-bot-user"]


def test_a_600_resource_diff_fits_the_comment_with_every_finding(fake: FakeGithub) -> None:
    report = many_findings(big_report(600), 40)
    full = comment_body(dataclasses.replace(report), dataclasses.replace(target(fake), report_url=None))
    outcomes = publish(report, target(fake), settings())
    assert outcome(outcomes, "comment").posted  # type: ignore[attr-defined]
    (comment,) = fake.issue_comments(PR)
    body = comment["body"]
    assert len(body) <= COMMENT_BUDGET_CHARS < COMMENT_MAX_CHARS
    assert len(full) <= COMMENT_BUDGET_CHARS, "the body is always fitted"
    assert "Some diffs were left out to fit the size limit" in body
    assert f"The [full report]({RUN}) has every diff." in body
    for finding in report.findings:
        assert md_text(finding.message, newline="<br>") in body, finding.rule
    assert body.index("#### Findings") < body.index("#### Changes")


def test_findings_that_alone_exceed_the_limit_are_listed_most_severe_first(fake: FakeGithub) -> None:
    report = many_findings(rich_report(), 700, severity="info")
    outcomes = publish(report, target(fake), settings())
    assert outcome(outcomes, "comment").posted  # type: ignore[attr-defined]
    body = fake.issue_comments(PR)[0]["body"]
    assert len(body) <= COMMENT_BUDGET_CHARS
    assert "#### Findings (705)" in body
    assert body.startswith(f"{STICKY_MARKER}\n**❌ gitops-reviewer: fail** · 1 critical, 1 error, 1 warning, 701 info")
    shown = re.search(r"_(\d+) of 705 findings shown, most severe first", body)
    assert shown is not None and 100 < int(shown.group(1)) < 705
    for severe in ("prune-deletion", "immutable-field", "hook-added"):
        assert f"| {severe} |" in body
    # every finding still reaches the check run, as an annotation
    (run_id,) = fake.check_runs
    assert len(fake.annotations[run_id]) == 705


# --- the check run ----------------------------------------------------------------------------------------


def test_more_than_50_findings_arrive_as_annotations_in_batches(fake: FakeGithub) -> None:
    report = many_findings(rich_report(), 120)
    outcomes = publish(report, target(fake), settings())
    assert outcome(outcomes, "check run").posted  # type: ignore[attr-defined]
    (run_id,) = fake.check_runs
    annotations = fake.annotations[run_id]
    assert len(annotations) == 125
    assert fake.count("POST", r"/check-runs$") == 1
    assert fake.count("PATCH", r"/check-runs/\d+$") == -(-125 // ANNOTATIONS_PER_REQUEST) - 1 == 2
    assert {a["title"] for a in annotations} >= {f"warning: Finding {i}" for i in range(120)}
    first = annotations[0]
    assert (first["annotation_level"], first["path"], first["start_line"]) == (
        "failure",
        "charts/web/templates/pvc.yaml",
        1,
    )
    by_title = {a["title"]: a for a in annotations}
    assert by_title["warning: Finding 7"]["start_line"] == 8
    assert by_title["warning (waived): Replicas change hidden by ignoreDifferences"]["annotation_level"] == "notice"
    # a finding without a location points at its resource's source file
    assert by_title["error: Immutable field changed"]["path"] == "charts/web/templates/deployment.yaml"
    assert by_title["info: Reviewer note"]["path"] == "charts/web/templates/netpol.yaml"
    assert fake.check_runs[run_id]["conclusion"] == "failure"
    assert fake.check_runs[run_id]["head_sha"] == HEAD
    assert fake.check_runs[run_id]["details_url"] == RUN


def test_annotations_point_at_repository_paths(fake: FakeGithub) -> None:
    publish(rich_report(), target(fake, path_prefix="deploy/config"), settings(comment="off"))
    (run_id,) = fake.check_runs
    assert {a["path"] for a in fake.annotations[run_id]} == {
        "deploy/config/charts/web/templates/pvc.yaml",
        "deploy/config/charts/web/templates/deployment.yaml",
        "deploy/config/apps/jobs/migrate.yaml",
        "deploy/config/charts/web/templates/netpol.yaml",
    }


def test_a_render_failure_is_a_failing_check_never_success(fake: FakeGithub) -> None:
    broken = RenderError(
        app="argocd/web-prod", message="kustomize build failed", command="kustomize build", exit_code=1
    )
    report = Report("a" * 40, HEAD, "main", "feature", (), (), (), (broken,), verdict="error")
    assert check_conclusion(report) == "failure"
    publish(report, target(fake), settings())
    (run,) = fake.check_runs.values()
    assert run["conclusion"] == "failure"
    assert "kustomize build failed" in run["output"]["summary"]
    fake.forbidden.add("checks")
    publish(report, target(fake), settings(comment="off"))
    (status,) = fake.statuses
    assert status["state"] == "error"


def test_conclusions(fake: FakeGithub) -> None:
    empty = Report("a" * 40, HEAD, "main", "feature", (), (), (), (), verdict="pass")
    warning = Finding("replicas-drop", "warning", "t", "m", "argocd/web")
    info = Finding("llm-review", "info", "t", "m", "argocd/web")
    waived = dataclasses.replace(warning, waived=True)
    assert check_conclusion(empty) == "success"
    assert check_conclusion(dataclasses.replace(empty, findings=(info,))) == "success"
    assert check_conclusion(dataclasses.replace(empty, findings=(waived,))) == "success"
    assert check_conclusion(dataclasses.replace(empty, findings=(warning,))) == "neutral"
    assert check_conclusion(dataclasses.replace(empty, findings=(warning,), verdict="fail")) == "failure"


def test_without_checks_permission_a_commit_status_says_the_verdict(fake: FakeGithub) -> None:
    fake.forbidden.add("checks")
    outcomes = publish(many_findings(rich_report(), 30), target(fake), settings(check_name="config-gate"))
    check = outcome(outcomes, "check run")
    assert not check.posted and "403" in check.detail  # type: ignore[attr-defined]
    assert outcome(outcomes, "commit status").posted  # type: ignore[attr-defined]
    (status,) = fake.statuses
    assert (status["sha"], status["state"], status["context"], status["target_url"]) == (
        HEAD,
        "failure",
        "config-gate",
        RUN,
    )
    assert len(status["description"]) <= STATUS_DESCRIPTION_MAX_CHARS
    assert status["description"].startswith("fail: 1 critical, 1 error, 31 warnings")


# --- failures: forks, rate limits, outages -----------------------------------------------------------------


def test_a_fork_read_only_token_degrades_gracefully(fake: FakeGithub, tmp_path: Path) -> None:
    fake.read_only = True
    summary = tmp_path / "summary.md"
    outcomes = publish(rich_report(), target(fake, fork=True), settings(summary_path=summary))
    posted = {o.surface: o.posted for o in outcomes}
    assert posted == {"comment": False, "check run": False, "commit status": False, "job summary": True}
    for o in outcomes[:3]:
        assert "403" in o.detail and "fork" in o.detail
    assert fake.comments == {} or all(c["user"]["login"] != fake.login for c in fake.comments.values())
    text = summary.read_text()
    assert text.startswith("**❌ gitops-reviewer: fail**")
    assert "- **not posted**: comment: 403 Resource not accessible by integration" in text


def test_429_with_retry_after_then_success_is_retried(fake: FakeGithub) -> None:
    fake.inject("POST", rf"/issues/{PR}/comments$", 429, headers={"Retry-After": "7"}, message="slow down")
    fake.inject("POST", r"/check-runs$", 403, headers={"Retry-After": "3"}, message="secondary rate limit")
    sleeps = Sleeps()
    outcomes = publish(rich_report(), target(fake), settings(sleep=sleeps))
    assert all(o.posted for o in outcomes)
    assert sleeps == [7.0, 3.0]  # exactly what the server asked for, no more requests than needed
    assert fake.count("POST", rf"/issues/{PR}/comments$") == 2
    assert len(fake.issue_comments(PR)) == 1
    assert len(fake.check_runs) == 1


def test_5xx_is_retried_with_backoff_within_the_budget(fake: FakeGithub) -> None:
    fake.inject("GET", rf"/issues/{PR}/comments$", 502, times=2)
    sleeps = Sleeps()
    outcomes = publish(rich_report(), target(fake), settings(sleep=sleeps))
    assert outcome(outcomes, "comment").posted  # type: ignore[attr-defined]
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] / 2


def test_a_server_that_stays_down_is_reported_not_raised(fake: FakeGithub) -> None:
    fake.inject("GET", rf"/issues/{PR}/comments$", 500, times=100)
    fake.inject("POST", r"/check-runs$", 429, times=100, headers={"Retry-After": "1"})
    sleeps = Sleeps()
    outcomes = publish(rich_report(), target(fake), settings(sleep=sleeps, retry=RetryPolicy(attempts=3)))
    comment, check = outcome(outcomes, "comment"), outcome(outcomes, "check run")
    assert not comment.posted and comment.detail.startswith("gave up after retries: 500")  # type: ignore[attr-defined]
    assert not check.posted and "429" in check.detail  # type: ignore[attr-defined]
    assert fake.count("POST", r"/check-runs$") == 3
    assert fake.statuses == [], "a rate limit is not a missing permission: no status fallback"


def test_a_retry_after_beyond_the_policy_gives_up_at_once(fake: FakeGithub) -> None:
    fake.inject("POST", rf"/issues/{PR}/comments$", 429, headers={"Retry-After": "3600"})
    sleeps = Sleeps()
    outcomes = publish(rich_report(), target(fake), settings(sleep=sleeps, checks=False))
    assert not outcome(outcomes, "comment").posted  # type: ignore[attr-defined]
    assert sleeps == []


def test_bad_credentials_and_no_token(fake: FakeGithub) -> None:
    outcomes = publish(rich_report(), target(fake, token="wrong"), settings())
    assert [(o.surface, o.posted) for o in outcomes] == [("comment", False), ("check run", False)]
    assert "401" in outcomes[0].detail
    outcomes = publish(rich_report(), target(fake, token=None), settings())
    assert [o.detail for o in outcomes] == ["no GitHub token", "no GitHub token"]


def test_the_token_is_never_in_reprs_or_outcomes(fake: FakeGithub) -> None:
    fake.read_only = True
    t = target(fake)
    outcomes = publish(rich_report(), t, settings())
    assert fake.token not in repr(t)
    assert all(fake.token not in o.detail for o in outcomes)


def test_enterprise_server_api_prefix() -> None:
    with fake_github(prefix="/api/v3") as fake:
        outcomes = publish(rich_report(), target(fake), settings())
        assert all(o.posted for o in outcomes)
        assert all(r.path.startswith("/api/v3/") for r in fake.requests)


# --- the job summary --------------------------------------------------------------------------------------


def test_job_summary_stays_within_one_mebibyte_counted_in_bytes(tmp_path: Path) -> None:
    report = wide_report(40)  # about 3.4 MB of UTF-8 in full, at a third as many characters
    summary = tmp_path / "summary.md"
    outcomes = publish(report, target(FakeGithub(), token=None), settings(summary_path=summary, comment="off"))
    assert outcome(outcomes, "job summary").posted  # type: ignore[attr-defined]
    data = summary.read_bytes()
    assert 900_000 < len(data) <= STEP_SUMMARY_MAX_BYTES
    text = data.decode()
    assert "Some diffs were left out to fit the size limit." in text
    assert "- **not posted**: check run: no GitHub token" in text
    for finding in report.findings:
        assert md_text(finding.rule) in text


def test_annotations_that_could_not_be_sent_or_placed_are_reported(fake: FakeGithub) -> None:
    nowhere = Finding("policy-x", "warning", "No file", "A finding about the repo as a whole.", "argocd/elsewhere")
    report = many_findings(rich_report(), 120)
    report = dataclasses.replace(report, findings=(*report.findings, nowhere))
    fake.inject("PATCH", r"/check-runs/\d+$", 500, times=100)
    outcomes = publish(report, target(fake), settings(retry=RetryPolicy(attempts=2)))
    details = [o.detail for o in outcomes if o.surface == "annotations"]
    assert not any(o.posted for o in outcomes if o.surface == "annotations")
    assert details[0].startswith("75 not sent: gave up after retries: 500")
    assert details[1] == "1 finding with no file to point at (in the summary)"
    (run_id,) = fake.check_runs
    assert len(fake.annotations[run_id]) == 50
    assert fake.check_runs[run_id]["conclusion"] == "failure", "the verdict went out with the first request"


def test_the_pull_request_of_a_head_commit(fake: FakeGithub) -> None:
    lookup = target(fake, pr_number=None)
    assert pull_request_for_commit(lookup, settings()) is None
    fake.pulls += [PullRequest(41, HEAD, state="closed"), PullRequest(42, HEAD), PullRequest(43, "b" * 40)]
    assert pull_request_for_commit(lookup, settings()) == 42
    fake.inject("GET", rf"/commits/{HEAD}/pulls$", 500, times=100)
    assert pull_request_for_commit(lookup, settings(retry=RetryPolicy(attempts=2))) is None
    outcomes = publish(rich_report(), lookup, settings(checks=False))
    assert [(o.surface, o.posted, o.detail) for o in outcomes] == [
        ("comment", False, f"no pull request number (none open with head {HEAD})")
    ]
