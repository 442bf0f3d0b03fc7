"""`gitops-reviewer gitlab`: the review of a merge request, run by a GitLab CI job.

It reads the merge-request pipeline's variables, reviews the MR's base against its head, writes the
report (`report.md`, `report.json`) and the Code Quality artifact into `--output-dir`, then posts the
sticky note, the commit status and (opt-in) inline discussions. Publishing never changes the exit code:
a run that cannot post says what it could not post and still exits with the verdict.

python-gitlab and `reviewer.publish.gitlab` are imported inside the command, so `--help` and the other
commands never pay for them.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..change import ChangeSpec, resolve_change
from ..errors import GitError, UsageError
from ..llm.options import LlmOptions
from ..publish.common import PublishOutcome
from ..publish.gitlab_ci import DEFAULT_TOKEN_VARIABLE, MergeRequestPipeline, access_token, merge_request_pipeline
from ..records import SEVERITIES, Report
from ..rendering.cache import RenderCache
from ..report import FormatOptions, format_report
from ..review import review
from ..trees import git_toplevel
from .options import llm_options, render_options, repo_options

if TYPE_CHECKING:
    from ..publish.gitlab import GitlabSettings

DEFAULT_OUTPUT_DIR = Path("gitops-reviewer-report")
REPORT_MARKDOWN = "report.md"
REPORT_JSON = "report.json"
# The file name GitLab's own Code Quality template uses; the CI template points `reports: codequality:` at it.
CODE_QUALITY_REPORT = "gl-code-quality-report.json"
STATUS_NAME_MAX_CHARS = 255
_EXIT = {"pass": 0, "fail": 1, "error": 1}


def _change(repo: Path, pipeline: MergeRequestPipeline) -> ChangeSpec:
    try:
        change = resolve_change(repo, pipeline.review_base, pipeline.review_head)
    except GitError as exc:
        raise GitError(
            f"{exc}. The job's clone may be too shallow to hold the merge request's base commit: set "
            "GIT_DEPTH: 0 for the job (or fetch the base commit before running gitops-reviewer)"
        ) from None
    base_label = pipeline.target_branch or change.base_label
    head_label = f"!{pipeline.mr_iid}" + (f" {pipeline.source_branch}" if pipeline.source_branch else "")
    return dataclasses.replace(change, base_label=base_label, head_label=head_label)


def _path_prefix(repo: Path) -> str:
    """The config repo's directory inside its git repository ("" at the top)."""
    prefix = repo.resolve().relative_to(git_toplevel(repo).resolve()).as_posix()
    return "" if prefix == "." else prefix


def full_report_url(pipeline: MergeRequestPipeline, output_dir: Path) -> str | None:
    """The job artifact's URL for report.md (`<job>/artifacts/file/<path>`), when the output directory
    is inside the project directory (artifacts paths are relative to it)."""
    if not pipeline.job_url:
        return None
    project_dir = Path(pipeline.project_dir or os.getcwd()).resolve()
    try:
        relative = (output_dir.resolve() / REPORT_MARKDOWN).relative_to(project_dir)
    except ValueError:
        return f"{pipeline.job_url}/artifacts/browse"
    return f"{pipeline.job_url}/artifacts/file/{relative.as_posix()}"


def write_artifacts(report: Report, output_dir: Path, path_prefix: str) -> tuple[Path, ...]:
    """report.md (untrimmed), report.json and the Code Quality report, in `output_dir`."""
    output_dir.mkdir(parents=True, exist_ok=True)
    files = (
        (REPORT_MARKDOWN, format_report(report, "markdown")),
        (REPORT_JSON, format_report(report, "json")),
        (CODE_QUALITY_REPORT, format_report(report, "codequality", FormatOptions(path_prefix=path_prefix))),
    )
    written = []
    for name, text in files:
        path = output_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return tuple(written)


def _publish(
    report: Report, pipeline: MergeRequestPipeline, token: str, settings: GitlabSettings
) -> tuple[PublishOutcome, ...]:
    from ..publish.gitlab import GitlabTarget, publish

    return publish(report, GitlabTarget.for_pipeline(pipeline, token), settings)


@click.command("gitlab")
@repo_options
@llm_options
@render_options
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="error",
    show_default=True,
    help="Lowest finding severity that fails the merge request.",
)
@click.option("--all-apps", is_flag=True, help="Render every app, not only those the change can affect.")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_OUTPUT_DIR,
    show_default=True,
    help=f"Where {REPORT_MARKDOWN}, {REPORT_JSON} and {CODE_QUALITY_REPORT} are written (keep it as job artifacts).",
)
@click.option(
    "--token-variable",
    default=DEFAULT_TOKEN_VARIABLE,
    show_default=True,
    metavar="NAME",
    help="Environment variable holding a project or group access token (scope `api`) to post with.",
)
@click.option(
    "--status-name", default="gitops-reviewer", show_default=True, help="Name of the commit status on the MR head."
)
@click.option(
    "--inline-discussions/--no-inline-discussions",
    default=False,
    show_default=True,
    help="Open a discussion on the changed line of each critical finding (once per finding, across runs).",
)
@click.option(
    "--publish/--no-publish",
    default=True,
    show_default=True,
    help="Post the note and the status; --no-publish only reviews and writes the report files.",
)
def gitlab_command(
    repo: Path,
    config_path: Path | None,
    offline: bool | None,
    llm: LlmOptions,
    jobs: int | None,
    cache: RenderCache | None,
    fail_on: str,
    all_apps: bool,
    output_dir: Path,
    token_variable: str,
    status_name: str,
    inline_discussions: bool,
    publish: bool,
) -> None:
    """Review a GitLab merge request in its pipeline and post the result to it.

    Run it in a merge-request pipeline (rules: - if: $CI_PIPELINE_SOURCE == "merge_request_event") with
    the full git history (GIT_DEPTH: 0). Posting needs a project or group access token with the `api`
    scope in the variable named by --token-variable; the job token (CI_JOB_TOKEN) cannot post notes or
    statuses, so with only that the review still runs and its report is left in --output-dir.

    Exit codes: 0 pass, 1 blocking findings or failed renders (whether or not posting worked), 2 usage or
    configuration error (such as a pipeline that is not for a merge request), 3 internal error.
    """
    if not status_name.strip() or len(status_name) > STATUS_NAME_MAX_CHARS:
        raise UsageError(f"--status-name must be 1 to {STATUS_NAME_MAX_CHARS} characters")
    pipeline = merge_request_pipeline(os.environ)
    token = access_token(os.environ, token_variable)
    # Read once, then gone from the environment: no render, tool or log of this process can see it.
    os.environ.pop(token_variable, None)

    change = _change(repo, pipeline)
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
    prefix = _path_prefix(repo)
    written = write_artifacts(report, output_dir, prefix)
    click.echo(format_report(report, "text"), nl=False)
    click.echo(f"gitops-reviewer: {report.verdict}; report written to {', '.join(map(str, written))}", err=True)

    if not publish:
        click.echo("gitops-reviewer: --no-publish: nothing posted to the merge request", err=True)
    elif token.token is None:
        click.echo(f"gitops-reviewer: not posting to the merge request: {token.problem}", err=True)
    else:
        from ..publish.gitlab import GitlabSettings

        settings = GitlabSettings(
            status_name=status_name,
            inline_discussions=inline_discussions,
            full_report_url=full_report_url(pipeline, output_dir),
            path_prefix=prefix,
        )
        for outcome in _publish(report, pipeline, token.token, settings):
            if outcome.posted:
                click.echo(f"gitops-reviewer: posted {outcome.surface}: {outcome.detail}", err=True)
            else:
                click.echo(f"gitops-reviewer: could not post {outcome.surface}: {outcome.detail}", err=True)
    raise SystemExit(_EXIT[report.verdict])
