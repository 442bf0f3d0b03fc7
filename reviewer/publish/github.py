"""Publishing a report to GitHub, through PyGithub: the only module that talks to GitHub.

Surfaces, in the order they are posted:

- the sticky pull-request comment: one per PR, found by `STICKY_MARKER` and edited in place on every
  run. Only comments written by the identity we post as count: the token's user when `GET /user` tells
  it (a personal access token), else any bot account (`GITHUB_TOKEN` and GitHub App tokens post as a
  bot, and cannot read `/user`). A person who pastes the marker into their own comment does not get it
  overwritten, and cannot make us edit a comment whose author they are. Duplicates of ours (two runs
  racing) are deleted, so a PR keeps exactly one.
- a check run on the PR's head commit: conclusion `success`, `neutral` (passed with warnings) or
  `failure` (blocking findings or a render failure: never success), one annotation per finding on the
  file and line that produced it, sent 50 per request (create, then update: GitHub appends). When the
  token may not create check runs (403: no `checks: write`), a commit status instead.
- the job summary (`$GITHUB_STEP_SUMMARY`), which also says what could not be posted and why.

Sizes follow GitHub's limits (reference constants below): a comment keeps headroom under 65,536
characters, trimming diffs before findings (reviewer.publish.common.fit_markdown).

Nothing here decides or hides the verdict: a surface that cannot be posted (read-only token of a fork
PR, rate limit beyond the retry budget, API down) is a `PublishOutcome` with the reason, and the caller
still exits with the review's verdict. 429 and 5xx answers are retried with `with_retries`, honouring
Retry-After; PyGithub's own urllib3 retries are off so that one bounded policy governs every call.
"""

from __future__ import annotations

import datetime
import functools
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import __version__
from ..errors import UsageError
from ..records import Finding, Report, severity_rank
from ..report.locations import FindingLocator, repo_path
from ..report.summary import ordered_findings, plural, verdict_details
from .common import (
    COMMENT_MODES,
    STICKY_MARKER,
    PublishOutcome,
    RetryableError,
    RetryPolicy,
    fit_markdown,
    parse_retry_after,
    sticky_body,
    with_retries,
)

if TYPE_CHECKING:
    from github.CheckRun import CheckRun
    from github.Issue import Issue
    from github.IssueComment import IssueComment
    from github.Repository import Repository

T = TypeVar("T")

# GitHub's limits (docs.github.com, REST API "Issues comments", "Check runs", "Commit statuses",
# "Workflow commands: job summary").
COMMENT_MAX_CHARS = 65_536  # more gets 422 "Body is too long"
COMMENT_BUDGET_CHARS = 65_000  # headroom under the limit, as other tools keep
CHECK_OUTPUT_MAX_CHARS = 65_535  # output.summary and output.text, each
ANNOTATIONS_PER_REQUEST = 50  # more are sent by updating the check run
ANNOTATION_TITLE_MAX_CHARS = 255
ANNOTATION_TEXT_MAX_CHARS = 16_000  # message and raw_details hold 64 KB: 16,000 characters fit in UTF-8
CHECK_TITLE_MAX_CHARS = 255
STATUS_DESCRIPTION_MAX_CHARS = 140
STEP_SUMMARY_MAX_BYTES = 1_048_576  # 1 MiB per step

CONCLUSIONS = {"pass": "success", "fail": "failure", "error": "failure"}
STATUS_STATES = {"pass": "success", "fail": "failure", "error": "error"}
ANNOTATION_LEVELS = {"critical": "failure", "error": "failure", "warning": "warning", "info": "notice"}

# What a 403 on a write most often means, said once where it is reported.
READ_ONLY_HINT = (
    "the token cannot write here: a pull request from a fork gets a read-only GITHUB_TOKEN (post the "
    "report artifact from a workflow_run workflow instead), or the workflow lacks the permission"
)


@dataclass(frozen=True, slots=True)
class GithubTarget:
    """Where to publish: the repository, the pull request and its head commit, and the run.

    `head_sha` is the PR's head commit (`pull_request.head.sha`), never the merge commit Actions checks
    out. `report_url` is where the whole report can be read (the run's page, with its job summary and
    artifact); the comment links to it when it had to trim. `path_prefix` is the config repo's directory
    in the git repository, so that annotations point at repository paths. `fork`: the PR comes from a
    fork, so a 403 is expected and explained.
    """

    repository: str  # owner/name
    head_sha: str
    pr_number: int | None = None
    api_url: str = "https://api.github.com"
    token: str | None = field(default=None, repr=False)
    report_url: str | None = None
    path_prefix: str = ""
    fork: bool = False


@dataclass(frozen=True, slots=True)
class GithubSettings:
    """How to publish. `comment`: `update` (the sticky comment) or `off`. `check_name` names the check
    run, and the commit status context when it falls back to one. `summary_path`: the job summary file
    (`$GITHUB_STEP_SUMMARY`), None for none. The pacing defaults are PyGithub's: GitHub asks for
    serial requests and about a second between writes to stay clear of secondary rate limits."""

    comment: str = "update"
    checks: bool = True
    check_name: str = "gitops-reviewer"
    summary_path: Path | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    timeout: int = 30
    seconds_between_requests: float | None = 0.25
    seconds_between_writes: float | None = 1.0


# --- calls ------------------------------------------------------------------------------------------------


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name:
            return str(value)
    return None


def _message(exc: Exception) -> str:
    from github import GithubException

    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or exc.message or "").strip()
        details = [str(e.get("message", "")) for e in data.get("errors", []) if isinstance(e, dict)]
        text = "; ".join(part for part in (message, *details) if part)
        return f"{exc.status} {text}".strip()
    return str(exc) or type(exc).__name__


def _is_rate_limit(exc: Any) -> bool:
    from github.Requester import Requester

    data = exc.data if isinstance(exc.data, dict) else {}
    return Requester.isRateLimitError(str(data.get("message") or ""))


def _retryable(call: Callable[[], T]) -> Callable[[], T]:
    """`call`, with the answers worth retrying turned into `RetryableError`: 429, 5xx, a 403 that is a
    rate limit (GitHub answers secondary rate limits with 403 or 429), a dropped connection."""
    import requests
    from github import GithubException

    def wrapped() -> T:
        try:
            return call()
        except GithubException as exc:
            retry_after = parse_retry_after(_header(exc.headers, "retry-after"))
            if exc.status == 429 or exc.status >= 500 or (exc.status == 403 and (retry_after or _is_rate_limit(exc))):
                raise RetryableError(_message(exc), retry_after=retry_after) from exc
            raise
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableError(f"connection failed: {exc}") from exc

    return wrapped


class _Api:
    """The repository, and every call made through one retry policy."""

    def __init__(self, target: GithubTarget, settings: GithubSettings) -> None:
        from github import Auth, Github

        assert target.token is not None
        self.github = Github(
            auth=Auth.Token(target.token),
            base_url=target.api_url.rstrip("/"),
            timeout=settings.timeout,
            user_agent=f"gitops-reviewer/{__version__}",
            per_page=100,
            retry=None,
            seconds_between_requests=settings.seconds_between_requests,
            seconds_between_writes=settings.seconds_between_writes,
            lazy=True,
        )
        self.repo: Repository = self.github.get_repo(target.repository)
        self.settings = settings

    def call(self, call: Callable[[], T]) -> T:
        return with_retries(_retryable(call), policy=self.settings.retry, sleep=self.settings.sleep)

    def login(self) -> str | None:
        """The token's user, or None when the token cannot say (an installation token gets 403)."""
        from github import GithubException

        try:
            return self.call(lambda: self.github.get_user().login)
        except (GithubException, RetryableError):
            return None


def _failures() -> tuple[type[Exception], ...]:
    """What a surface reports as not posted: API errors, retries given up, network and file errors.
    Anything else is a bug and propagates."""
    import requests
    from github import GithubException

    return (RetryableError, OSError, GithubException, requests.RequestException)


def _status(exc: Exception) -> int | None:
    from github import GithubException

    return exc.status if isinstance(exc, GithubException) else None


def _not_posted(surface: str, exc: Exception, target: GithubTarget) -> PublishOutcome:
    reason = _message(exc)
    if isinstance(exc, RetryableError):
        reason = f"gave up after retries: {reason}"
    elif _status(exc) == 403:
        reason += f" ({READ_ONLY_HINT})" if not target.fork else " (a pull request from a fork: the token is read-only)"
    return PublishOutcome(surface, False, reason)


# --- the comment ------------------------------------------------------------------------------------------


def _ours(comment: IssueComment, login: str | None) -> bool:
    if STICKY_MARKER not in (comment.body or ""):
        return False
    user = comment.user
    if user is None:
        return False
    return user.login == login if login else user.type == "Bot"


def comment_body(report: Report, target: GithubTarget) -> str:
    """The sticky comment: the marker, the verdict, the findings, the diffs as far as they fit."""
    return sticky_body(report, max_chars=COMMENT_BUDGET_CHARS, full_report_url=target.report_url)


def _post_comment(api: _Api, report: Report, target: GithubTarget) -> PublishOutcome:
    assert target.pr_number is not None
    issue: Issue = api.repo.get_issue(target.pr_number)
    login = api.login()
    ours = [c for c in api.call(lambda: list(issue.get_comments())) if _ours(c, login)]
    body = comment_body(report, target)
    if not ours:
        created = api.call(lambda: issue.create_comment(body))
        return PublishOutcome("comment", True, f"created comment {created.id} on #{target.pr_number}")
    first, *duplicates = ours
    for duplicate in duplicates:
        api.call(duplicate.delete)
    if first.body == body:
        return PublishOutcome("comment", True, f"comment {first.id} on #{target.pr_number} is up to date")
    api.call(lambda: first.edit(body))
    return PublishOutcome("comment", True, f"updated comment {first.id} on #{target.pr_number}")


# --- the check run and the commit status ------------------------------------------------------------------


def check_conclusion(report: Report) -> str:
    """`failure` for a failing or errored review; `neutral` for a pass with warnings (or worse findings
    below the threshold); `success` otherwise."""
    conclusion = CONCLUSIONS.get(report.verdict, "failure")
    if conclusion == "success" and any(
        not f.waived and severity_rank(f.severity) >= severity_rank("warning") for f in report.findings
    ):
        return "neutral"
    return conclusion


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _annotation(finding: Finding, path: str, line: int) -> dict[str, Any]:
    level = "notice" if finding.waived else ANNOTATION_LEVELS.get(finding.severity, "failure")
    title = f"{finding.severity}{' (waived)' if finding.waived else ''}: {finding.title or finding.rule}"
    where = " · ".join(part for part in (finding.app, str(finding.key or ""), finding.path or "") if part)
    annotation: dict[str, Any] = {
        "path": path,
        "start_line": line,
        "end_line": line,
        "annotation_level": level,
        "title": _cut(title, ANNOTATION_TITLE_MAX_CHARS),
        "message": _cut(f"{finding.message}\n\n{finding.rule} · {where}", ANNOTATION_TEXT_MAX_CHARS),
    }
    if finding.evidence:
        annotation["raw_details"] = _cut(finding.evidence, ANNOTATION_TEXT_MAX_CHARS)
    return annotation


def check_annotations(report: Report, path_prefix: str = "") -> tuple[list[dict[str, Any]], int]:
    """One annotation per finding that has a file to point at, most severe first, and how many have
    none (they are in the summary all the same)."""
    locator = FindingLocator(report)
    placed: list[dict[str, Any]] = []
    unplaced = 0
    for finding in ordered_findings(report.findings):
        location = locator.locate(finding)
        if location is None:
            unplaced += 1
            continue
        placed.append(_annotation(finding, repo_path(location, path_prefix), location.line or 1))
    return placed, unplaced


def _batches(items: Sequence[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def check_title(report: Report) -> str:
    return _cut(f"{report.verdict}: {verdict_details(report)}", CHECK_TITLE_MAX_CHARS)


def _post_check_run(api: _Api, report: Report, target: GithubTarget, name: str) -> list[PublishOutcome]:
    placed, unplaced = check_annotations(report, target.path_prefix)
    output: dict[str, Any] = {
        "title": check_title(report),
        "summary": fit_markdown(
            report, max_chars=CHECK_OUTPUT_MAX_CHARS, include_diff=False, full_report_url=target.report_url
        ),
        "text": fit_markdown(
            report, max_chars=CHECK_OUTPUT_MAX_CHARS, include_verdict=False, full_report_url=target.report_url
        ),
    }
    batches = list(_batches(placed, ANNOTATIONS_PER_REQUEST)) or [[]]
    extra: dict[str, Any] = {"details_url": target.report_url} if target.report_url else {}
    conclusion = check_conclusion(report)
    run: CheckRun = api.call(
        lambda: api.repo.create_check_run(
            name=name,
            head_sha=target.head_sha,
            status="completed",
            conclusion=conclusion,
            completed_at=datetime.datetime.now(datetime.UTC),
            output={**output, "annotations": batches[0]},
            **extra,
        )
    )
    outcomes = [PublishOutcome("check run", True, f"check run {run.id} ({conclusion}) on {target.head_sha[:12]}")]
    sent = len(batches[0])
    try:
        for batch in batches[1:]:
            api.call(functools.partial(run.edit, output={**output, "annotations": batch}))
            sent += len(batch)
    except _failures() as exc:
        missing = _not_posted("annotations", exc, target)
        outcomes.append(PublishOutcome("annotations", False, f"{len(placed) - sent} not sent: {missing.detail}"))
    if unplaced:
        outcomes.append(
            PublishOutcome(
                "annotations", False, f"{plural(unplaced, 'finding')} with no file to point at (in the summary)"
            )
        )
    return outcomes


def status_description(report: Report) -> str:
    """The commit status's one line, within GitHub's 140 characters."""
    return _cut(f"{report.verdict}: {verdict_details(report)}", STATUS_DESCRIPTION_MAX_CHARS)


def _post_status(api: _Api, report: Report, target: GithubTarget, context: str) -> PublishOutcome:
    state = STATUS_STATES.get(report.verdict, "failure")
    extra: dict[str, Any] = {"target_url": target.report_url} if target.report_url else {}
    commit = api.repo.get_commit(target.head_sha)
    api.call(
        lambda: commit.create_status(state=state, description=status_description(report), context=context, **extra)
    )
    return PublishOutcome("commit status", True, f"{context}: {state} on {target.head_sha[:12]}")


def _post_checks(api: _Api, report: Report, target: GithubTarget, settings: GithubSettings) -> list[PublishOutcome]:
    try:
        return _post_check_run(api, report, target, settings.check_name)
    except _failures() as exc:
        failed = _not_posted("check run", exc, target)
        if _status(exc) != 403:
            return [failed]
    # No `checks: write` (or a GitHub App without the Checks permission): a commit status says the same
    # verdict with less detail.
    try:
        return [failed, _post_status(api, report, target, settings.check_name)]
    except _failures() as exc:
        return [failed, _not_posted("commit status", exc, target)]


# --- the job summary --------------------------------------------------------------------------------------


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def outcome_lines(outcomes: Sequence[PublishOutcome]) -> list[str]:
    """`could not post the comment: 403 ...`, one line per surface that was not posted."""
    return [f"could not post the {o.surface}: {o.detail}" for o in outcomes if not o.posted]


def job_summary(report: Report, outcomes: Sequence[PublishOutcome], artifact_hint: str = "") -> str:
    """The whole report as far as 1 MiB allows, then what was and was not posted."""
    lines = [f"- {'posted' if o.posted else '**not posted**'}: {o.surface}: {o.detail}" for o in outcomes]
    tail = "\n".join(["#### Publishing", *lines]) + "\n" if lines else ""
    if artifact_hint:
        tail = f"{artifact_hint}\n\n{tail}"
    budget = STEP_SUMMARY_MAX_BYTES - _utf8_len(tail) - 2
    text = fit_markdown(report, max_chars=budget, size=_utf8_len)
    return f"{text}\n{tail}" if tail else text


def write_job_summary(path: Path, text: str) -> PublishOutcome:
    try:
        with path.open("a", encoding="utf-8") as handle:  # the runner gives each step its own file
            handle.write(text)
    except OSError as exc:
        return PublishOutcome("job summary", False, f"cannot write {path}: {exc.strerror or exc}")
    return PublishOutcome("job summary", True, f"{_utf8_len(text):,} bytes")


# --- all of it --------------------------------------------------------------------------------------------


def publish(
    report: Report, target: GithubTarget, settings: GithubSettings | None = None, *, artifact_hint: str = ""
) -> tuple[PublishOutcome, ...]:
    """Post `report` to every surface `settings` asks for; one outcome per surface, in order. Also for a
    report computed elsewhere (`--from-report`, `merge`). Never raises for what GitHub answers."""
    settings = settings or GithubSettings()
    if settings.comment not in COMMENT_MODES:
        raise ValueError(f"comment mode {settings.comment!r}: expected one of {', '.join(COMMENT_MODES)}")
    outcomes: list[PublishOutcome] = []
    wanted = (["comment"] if settings.comment == "update" else []) + (["check run"] if settings.checks else [])
    if target.token is None and wanted:
        outcomes += [PublishOutcome(surface, False, "no GitHub token") for surface in wanted]
    elif wanted:
        api = _Api(target, settings)
        if settings.comment == "update":
            if target.pr_number is None:
                outcomes.append(
                    PublishOutcome("comment", False, f"no pull request number (none open with head {target.head_sha})")
                )
            else:
                try:
                    outcomes.append(_post_comment(api, report, target))
                except _failures() as exc:
                    outcomes.append(_not_posted("comment", exc, target))
        if settings.checks:
            outcomes += _post_checks(api, report, target, settings)
    if settings.summary_path is not None:
        outcomes.append(write_job_summary(settings.summary_path, job_summary(report, outcomes, artifact_hint)))
    return tuple(outcomes)


def pull_request_for_commit(target: GithubTarget, settings: GithubSettings | None = None) -> int | None:
    """The open pull request whose head is `target.head_sha`, for a `workflow_run` whose event does not
    name it (GitHub leaves `workflow_run.pull_requests` empty for a PR from a fork)."""
    settings = settings or GithubSettings()
    api = _Api(target, settings)
    commit = api.repo.get_commit(target.head_sha)
    try:
        pulls = api.call(lambda: list(commit.get_pulls()))
    except _failures():
        return None  # the comment's outcome says there was no pull request to post to
    matching = [p.number for p in pulls if p.state == "open" and p.head.sha == target.head_sha]
    return matching[0] if len(matching) == 1 else None


def publish_report_from_environment(
    report: Report, env: Mapping[str, str] | None = None, settings: GithubSettings | None = None
) -> tuple[PublishOutcome, ...]:
    """`merge --publish github`: post an already-computed report (the merge of a sharded review) to the
    pull request of this Actions run, read from the environment exactly as `gitops-reviewer github` reads
    it: the `pull_request` event for the number and head commit, `GITHUB_REPOSITORY`, `GITHUB_API_URL`,
    the run's URL, the job summary, and the token in `GITHUB_TOKEN`."""
    from .github_actions import pull_request_event, read_event

    env = os.environ if env is None else env
    repository = env.get("GITHUB_REPOSITORY", "")
    if "/" not in repository:
        raise UsageError("merge --publish github: no repository: GITHUB_REPOSITORY is not set to OWNER/NAME")
    event_path = env.get("GITHUB_EVENT_PATH")
    event = pull_request_event(read_event(Path(event_path) if event_path else None), env.get("GITHUB_EVENT_NAME"))
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    run_id = env.get("GITHUB_RUN_ID")
    target = GithubTarget(
        repository=repository,
        head_sha=event.head_sha,
        pr_number=event.number,
        api_url=env.get("GITHUB_API_URL", "https://api.github.com"),
        token=env.get("GITHUB_TOKEN") or None,
        report_url=f"{server}/{repository}/actions/runs/{run_id}" if run_id else None,
        fork=event.fork,
    )
    if settings is None:
        summary = env.get("GITHUB_STEP_SUMMARY")
        settings = GithubSettings(summary_path=Path(summary) if summary else None)
    return publish(report, target, settings)
