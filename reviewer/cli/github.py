"""`gitops-reviewer github`: review a pull request in GitHub Actions and publish the result.

It reads the Actions environment (`GITHUB_EVENT_PATH`, `GITHUB_REPOSITORY`, `GITHUB_API_URL`,
`GITHUB_SERVER_URL`, `GITHUB_RUN_ID`, `GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`), reviews the pull
request's base against its head, writes the report files (`report.md`, `report.json`, `report.sarif`)
for the Action to upload, then posts the sticky comment, the check run (or a commit status) and the job
summary (reviewer.publish.github).

`--from-report` posts a report saved by an earlier run without reviewing anything: the second half of
the fork pattern, where a `workflow_run` workflow with a write token posts what the fork's read-only
run produced. The pull request and head commit then come from the options or the `workflow_run` event.

The exit code is the verdict's, as for `check` (0 pass, 1 fail or error), whether or not everything
could be posted: what could not is said on stderr and in the job summary.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import click

from ..change import merge_base, resolve_change
from ..errors import GitError, UsageError
from ..llm.options import LlmOptions
from ..publish.common import COMMENT_MODES
from ..publish.github_actions import (
    PullRequestEvent,
    pull_request_event,
    read_bounded,
    read_event,
    workflow_command_value,
    workflow_run_event,
    write_outputs,
)
from ..records import Report
from ..rendering.cache import RenderCache
from ..report.files import REPORT_FILES, write_report_files
from ..report.json_load import load_report
from ..report.summary import verdict_details
from ..review import review
from ..trees import git_toplevel, resolve_revision
from .options import fail_on_option, llm_options, render_options, repo_options

_EXIT = {"pass": 0, "fail": 1, "error": 1}
# A saved JSON report larger than this is refused (the fork's run wrote it: it is untrusted).
REPORT_MAX_BYTES = 64 * 1024 * 1024
FETCH_DEPTH_HINT = (
    "check out the full history: actions/checkout with `fetch-depth: 0` (the default fetches only the "
    "merge commit, without the pull request's base and head)"
)


def _require_commit(top: Path, sha: str, what: str) -> None:
    try:
        resolve_revision(top, sha)
    except GitError:
        raise UsageError(f"the pull request's {what} commit {sha} is not in the checkout: {FETCH_DEPTH_HINT}") from None


def _review_pull_request(
    event: PullRequestEvent,
    repo: Path,
    *,
    fail_on: str,
    config_path: Path | None,
    offline: bool | None,
    all_apps: bool,
    llm: LlmOptions,
    jobs: int | None,
    cache: RenderCache | None,
) -> tuple[Report, str]:
    """The review of the pull request's head against its merge-base with the base branch (the changes
    the pull request makes, as GitHub's own diff shows them), and the config repo's path prefix."""
    top = git_toplevel(repo)
    _require_commit(top, event.base_sha, "base")
    _require_commit(top, event.head_sha, "head")
    try:
        base = merge_base(top, event.base_sha, event.head_sha)
    except GitError as exc:
        raise UsageError(f"{exc}: {FETCH_DEPTH_HINT}") from None
    change = resolve_change(repo, base=base, head=event.head_sha)
    change = dataclasses.replace(change, base_label=f"merge-base with {event.base_ref}", head_label=event.head_ref)
    report = review(
        change,
        fail_on=fail_on,
        all_apps=all_apps,
        offline=offline,
        config_path=config_path,
        llm=llm,
        jobs=jobs,
        cache=cache,
    )
    prefix = repo.resolve().relative_to(top.resolve()).as_posix()
    return report, "" if prefix == "." else prefix


def _load_saved_report(path: Path) -> Report:
    file = path / REPORT_FILES["json"] if path.is_dir() else path
    raw = read_bounded(file, REPORT_MAX_BYTES, "the saved report")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"the saved report {file} is not UTF-8 text") from None
    return load_report(text, str(file))


def _say(line: str, *, warning: bool = False) -> None:
    click.echo(f"gitops-reviewer: {line}", err=True)
    if warning and os.environ.get("GITHUB_ACTIONS") == "true":
        # A workflow command shows the line on the run's page, not only deep in the log.
        click.echo(f"::warning title=gitops-reviewer::{workflow_command_value(line)}")


@click.command("github")
@repo_options
@llm_options
@render_options
@fail_on_option
@click.option("--all-apps", is_flag=True, help="Render every app, not only those the change can affect.")
@click.option(
    "--comment",
    "comment_mode",
    type=click.Choice(COMMENT_MODES),
    default="update",
    show_default=True,
    help="update: one sticky pull-request comment, edited in place on every run; off: no comment.",
)
@click.option(
    "--checks/--no-checks",
    default=True,
    show_default=True,
    help="Post a check run with annotations on the head commit (a commit status where check runs are not permitted).",
)
@click.option("--check-name", default="gitops-reviewer", show_default=True, help="Check run / commit status name.")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("gitops-reviewer-report"),
    show_default=True,
    help="Where to write report.md, report.json and report.sarif (the Action uploads it as an artifact).",
)
@click.option(
    "--token-env",
    default="GITHUB_TOKEN",
    show_default=True,
    metavar="NAME",
    help="Name of the environment variable that holds the GitHub token (never the token itself).",
)
@click.option("--event-path", envvar="GITHUB_EVENT_PATH", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--repository", envvar="GITHUB_REPOSITORY", metavar="OWNER/NAME", help="Default: $GITHUB_REPOSITORY.")
@click.option("--api-url", envvar="GITHUB_API_URL", default="https://api.github.com", show_default=True)
@click.option("--server-url", envvar="GITHUB_SERVER_URL", default="https://github.com", show_default=True)
@click.option("--run-id", envvar="GITHUB_RUN_ID", help="Default: $GITHUB_RUN_ID (links to the run's full report).")
@click.option(
    "--step-summary",
    envvar="GITHUB_STEP_SUMMARY",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Job summary file. Default: $GITHUB_STEP_SUMMARY.",
)
@click.option(
    "--github-output",
    envvar="GITHUB_OUTPUT",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Step outputs file (verdict, findings-count, report-dir, sarif-file). Default: $GITHUB_OUTPUT.",
)
@click.option(
    "--from-report",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Post this saved report (a report directory or its report.json) instead of reviewing.",
)
@click.option("--pr", "pr_number", type=int, default=None, help="Pull request number (with --from-report).")
@click.option("--head-sha", default=None, help="The pull request's head commit (with --from-report).")
@click.option(
    "--path-prefix",
    default=None,
    help="The config repo's directory in the git repository, for annotation paths "
    "(default: from --repo; empty with --from-report).",
)
def github_command(
    repo: Path,
    config_path: Path | None,
    offline: bool | None,
    llm: LlmOptions,
    jobs: int | None,
    cache: RenderCache | None,
    fail_on: str,
    all_apps: bool,
    comment_mode: str,
    checks: bool,
    check_name: str,
    output_dir: Path,
    token_env: str,
    event_path: Path | None,
    repository: str | None,
    api_url: str,
    server_url: str,
    run_id: str | None,
    step_summary: Path | None,
    github_output: Path | None,
    from_report: Path | None,
    pr_number: int | None,
    head_sha: str | None,
    path_prefix: str | None,
) -> None:
    """Review a pull request in GitHub Actions; post a comment, a check run and the job summary.

    Exit codes: 0 pass, 1 blocking findings or failed renders (also when the result could not be
    posted), 2 usage or configuration error, 3 internal error.
    """
    if not repository or "/" not in repository:
        raise UsageError("no repository: set GITHUB_REPOSITORY or pass --repository OWNER/NAME")
    run_url = f"{server_url.rstrip('/')}/{repository}/actions/runs/{run_id}" if run_id else None
    event_name = os.environ.get("GITHUB_EVENT_NAME")
    fork = False
    artifact_hint = ""
    if from_report is None:
        if event_name == "pull_request_target":
            _say(
                "running on pull_request_target renders the pull request's manifests with a write token; "
                "prefer pull_request plus a workflow_run workflow that posts the report",
                warning=True,
            )
        event = pull_request_event(read_event(event_path), event_name)
        report, prefix = _review_pull_request(
            event,
            repo,
            fail_on=fail_on,
            config_path=config_path,
            offline=offline,
            all_apps=all_apps,
            llm=llm,
            jobs=jobs,
            cache=cache,
        )
        written = write_report_files(report, output_dir, path_prefix=prefix)
        artifact_hint = (
            f"The whole report is in `{output_dir}` ({', '.join(p.name for p in written.values())}), "
            "uploaded as this run's artifact by the gitops-reviewer Action."
        )
        pr_number, head_sha, fork, report_url = event.number, event.head_sha, event.fork, run_url
        path_prefix = prefix if path_prefix is None else path_prefix
        sarif_file = str(written["sarif"])
    else:
        report = _load_saved_report(from_report)
        run = workflow_run_event(read_event(event_path)) if event_path is not None else None
        head_sha = head_sha or (run.head_sha if run else None)
        pr_number = pr_number if pr_number is not None else (run.pr_number if run else None)
        report_url = (run.html_url if run else None) or run_url
        sarif_file = ""
        if head_sha is None:
            raise UsageError(
                "--from-report needs the pull request's head commit: --head-sha SHA or a workflow_run event"
            )
    token = os.environ.get(token_env) or None

    from ..publish.github import GithubSettings, GithubTarget, outcome_lines, publish, pull_request_for_commit

    target = GithubTarget(
        repository=repository,
        head_sha=head_sha,
        pr_number=pr_number,
        api_url=api_url,
        token=token,
        report_url=report_url,
        path_prefix=path_prefix or "",
        fork=fork,
    )
    settings = GithubSettings(comment=comment_mode, checks=checks, check_name=check_name, summary_path=step_summary)
    if target.pr_number is None and comment_mode == "update" and token is not None:
        target = dataclasses.replace(target, pr_number=pull_request_for_commit(target, settings))
    outcomes = publish(report, target, settings, artifact_hint=artifact_hint)
    write_outputs(
        github_output,
        {
            "verdict": report.verdict,
            "findings-count": str(sum(1 for f in report.findings if not f.waived)),
            "report-dir": str(output_dir) if from_report is None else "",
            "sarif-file": sarif_file,
        },
    )
    _say(f"{report.verdict} ({verdict_details(report)})")
    for line in outcome_lines(outcomes):
        _say(line, warning=True)
    raise SystemExit(_EXIT.get(report.verdict, 1))
