"""The GitLab publisher: the only module that talks to GitLab (through python-gitlab).

For one merge request it posts, each surface on its own so that one failing never stops the others:

- `note`: one sticky note, found by `STICKY_MARKER` among all the MR's notes (paginated) and edited in
  place, so reruns never add a second one. Same content as the GitHub comment (`sticky_body`): the
  verdict and every finding first, diffs trimmed to `NOTE_MAX_CHARS`.
- `status`: a commit status on the MR's head commit, `success` or `failed` (a render failure fails).
- `discussions` (opt-in): an inline discussion on the changed line for each critical finding, placed with
  the MR's latest diff version and de-duplicated across runs by a hidden per-finding marker.

Nothing here decides or changes the verdict: every surface ends as a `PublishOutcome`, posted or with
the reason it was not, and the caller exits with the review's verdict either way.

Retries: python-gitlab would sleep for any Retry-After however long, cannot read the HTTP-date form of
it, and has no overall time budget, so its own retrying is left off and a response hook turns 429 and
5xx into `RetryableError` for `with_retries` (bounded attempts, budget and wait, Retry-After honoured).
Each retried unit re-reads before it writes (find the note, then edit or create it), so retrying a
request whose response was lost cannot post twice.
"""

from __future__ import annotations

import os
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import gitlab
import requests
from gitlab.exceptions import GitlabError
from gitlab.v4.objects import Project, ProjectMergeRequest

from .. import __version__
from ..records import Finding, Report
from ..report.markdown import SEVERITY_ICONS, md_text
from ..report.summary import ordered_findings, verdict_details
from .common import (
    STICKY_MARKER,
    PublishOutcome,
    RetryableError,
    RetryPolicy,
    parse_retry_after,
    sticky_body,
    with_retries,
)
from .gitlab_ci import DEFAULT_TOKEN_VARIABLE, MergeRequestPipeline, access_token, merge_request_pipeline

T = TypeVar("T")

# GitLab rejects a note longer than this (Note::MAX_NOTE_LENGTH).
GITLAB_NOTE_LIMIT = 1_000_000
# What we aim for: the size of the GitHub comment, so both platforms show the same note. A longer note
# is legal on GitLab but unreadable in the MR page; report.md in the job artifacts has every diff.
NOTE_MAX_CHARS = 65_000
# GitLab's commit status `name`, `description`, `target_url` and `ref` are limited to 255 characters.
STATUS_TEXT_MAX_CHARS = 255
DEFAULT_STATUS_NAME = "gitops-reviewer"
# The API's largest page (docs.gitlab.com, "REST API", pagination: per_page at most 100).
PER_PAGE = 100
REQUEST_TIMEOUT_SECONDS = 30.0
# Only findings this severe get an inline discussion: the others are in the note and the Code Quality
# widget, and a discussion per warning would bury the review in noise.
INLINE_SEVERITIES = ("critical",)
# A ceiling per run, for the same reason; the note lists everything anyway.
MAX_INLINE_DISCUSSIONS = 20
FINDING_MARKER = "<!-- gitops-reviewer:finding:{fingerprint} -->"
_FINDING_MARKER = re.compile(r"<!-- gitops-reviewer:finding:([0-9a-f]+) -->")

# GitLab runs a quick action for a line of a note that starts with `/command` (`/merge`, `/approve`,
# `/close`, ...), on creation and on edit. A zero-width space in front of the slash keeps the line
# looking the same and makes it plain text. Indented lines are escaped too: cheaper than knowing
# exactly which whitespace GitLab's extractor skips.
_QUICK_ACTION_LINE = re.compile(r"^([ \t]*)/", re.MULTILINE)
_ZERO_WIDTH_SPACE = "\u200b"
# A YAML document separator: where one resource of a multi-document file ends.
_DOCUMENT_SEPARATOR = re.compile(r"^---(\s|$)")
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def escape_quick_actions(text: str) -> str:
    """`text` with no line that GitLab would run as a quick action."""
    return _QUICK_ACTION_LINE.sub(lambda m: f"{m.group(1)}{_ZERO_WIDTH_SPACE}/", text)


@dataclass(frozen=True, slots=True)
class GitlabTarget:
    """Where to publish: the GitLab server, the MR's project (`CI_MERGE_REQUEST_PROJECT_ID`), the MR,
    and the head commit that gets the status. `job_url` is the status's link."""

    url: str
    project_id: str
    mr_iid: int
    head_sha: str
    token: str = field(repr=False)
    job_url: str = ""

    @classmethod
    def for_pipeline(cls, pipeline: MergeRequestPipeline, token: str) -> GitlabTarget:
        """The merge request a pipeline runs for; the status goes on its head (`status_sha`)."""
        return cls(
            url=pipeline.server_url,
            project_id=pipeline.project_id,
            mr_iid=pipeline.mr_iid,
            head_sha=pipeline.status_sha,
            token=token,
            job_url=pipeline.job_url,
        )


@dataclass(frozen=True, slots=True)
class GitlabSettings:
    """How to publish. `path_prefix` is the config repo's directory in the git repository (finding
    locations are relative to the config repo, GitLab's diffs to the repository)."""

    status_name: str = DEFAULT_STATUS_NAME
    inline_discussions: bool = False
    note_max_chars: int = NOTE_MAX_CHARS
    full_report_url: str | None = None
    path_prefix: str = ""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] | None = None  # None: time.sleep, looked up when called
    timeout: float = REQUEST_TIMEOUT_SECONDS


def _raise_retryable(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """requests response hook: 429 and 5xx become `RetryableError`, before python-gitlab sees them."""
    if response.status_code == 429 or response.status_code >= 500:
        path = urllib.parse.urlsplit(response.request.url or "").path
        response.close()  # give the connection back to the pool: nobody reads this body
        raise RetryableError(
            f"HTTP {response.status_code} {response.reason} on {response.request.method} {path}",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )


def _client(target: GitlabTarget, settings: GitlabSettings) -> gitlab.Gitlab:
    session = requests.Session()
    session.hooks["response"].append(_raise_retryable)
    return gitlab.Gitlab(
        target.url,
        private_token=target.token,
        timeout=settings.timeout,
        retry_transient_errors=False,  # retried by `with_retries` instead (see the module docstring)
        user_agent=f"gitops-reviewer/{__version__}",
        session=session,
    )


def _retrying(call: Callable[[], T], settings: GitlabSettings) -> T:
    def attempt() -> T:
        try:
            return call()
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableError(f"cannot reach GitLab: {type(exc).__name__}") from exc

    return with_retries(attempt, policy=settings.retry, sleep=time.sleep if settings.sleep is None else settings.sleep)


def describe_error(exc: Exception, target: GitlabTarget, policy: RetryPolicy | None = None) -> str:
    """A sentence for the job log; never the token."""
    if isinstance(exc, RetryableError):
        policy = policy or RetryPolicy()
        return (
            f"{exc}; gave up retrying (at most {policy.attempts} attempts, {policy.budget:g} s of waiting, "
            f"{policy.max_wait:g} s for one Retry-After)"
        )
    if isinstance(exc, GitlabError):
        code = exc.response_code
        if code == 401:
            return (
                "401 Unauthorized: GitLab did not accept the token (invalid, expired or revoked; a job token "
                "cannot post here)"
            )
        if code == 403:
            return (
                "403 Forbidden: the token may not do this; it needs the `api` scope and the Developer role "
                "or above in the project"
            )
        if code == 404:
            return (
                f"404 Not Found ({exc.error_message}): project {target.project_id}, merge request "
                f"!{target.mr_iid} or commit {target.head_sha[:12]} is not visible to the token"
            )
        return f"HTTP {code}: {exc.error_message}"
    return f"{type(exc).__name__}: {exc}"


class NotPosted(Exception):
    """A surface deliberately left alone; the message says why."""


def _attempt(surface: str, target: GitlabTarget, settings: GitlabSettings, call: Callable[[], str]) -> PublishOutcome:
    try:
        return PublishOutcome(surface, True, _retrying(call, settings))
    except NotPosted as exc:
        return PublishOutcome(surface, False, str(exc))
    except (RetryableError, GitlabError, requests.RequestException) as exc:
        return PublishOutcome(surface, False, describe_error(exc, target, settings.retry))


def publish(report: Report, target: GitlabTarget, settings: GitlabSettings | None = None) -> tuple[PublishOutcome, ...]:
    """Post `report` to the merge request: note, status, and (opt-in) inline discussions."""
    settings = settings or GitlabSettings()
    with _client(target, settings) as gl:
        project = gl.projects.get(target.project_id, lazy=True)
        mr = project.mergerequests.get(target.mr_iid, lazy=True)

        def whoami() -> int | None:
            gl.auth()
            return gl.user.id if gl.user is not None else None

        try:
            user_id = _retrying(whoami, settings)
        except GitlabError as exc:
            if exc.response_code in (401, 403):  # nothing else will work either: say it once per surface
                reason = describe_error(exc, target)
                return tuple(PublishOutcome(surface, False, reason) for surface in _surfaces(settings))
            user_id = None
        except (RetryableError, requests.RequestException):
            user_id = None  # the note search falls back to the marker alone; each post reports its own failure

        outcomes = [
            _attempt("note", target, settings, lambda: _upsert_note(mr, note_body(report, settings), user_id)),
            _attempt("status", target, settings, lambda: _set_status(project, report, target, settings)),
        ]
        if settings.inline_discussions:
            outcomes.append(
                _attempt(
                    "discussions", target, settings, lambda: _post_discussions(project, mr, report, target, settings)
                )
            )
        return tuple(outcomes)


def _surfaces(settings: GitlabSettings) -> tuple[str, ...]:
    return ("note", "status", "discussions") if settings.inline_discussions else ("note", "status")


# --- the sticky note -------------------------------------------------------------------------------


def note_body(report: Report, settings: GitlabSettings) -> str:
    """The note: `sticky_body` at `note_max_chars` (the same content and trimming as the GitHub comment:
    diffs go first, then, only if the findings alone overflow, the most severe findings that fit with a
    pointer to the full report), with quick actions escaped."""
    body = sticky_body(report, max_chars=settings.note_max_chars, full_report_url=settings.full_report_url)
    return escape_quick_actions(body)


def _upsert_note(mr: ProjectMergeRequest, body: str, user_id: int | None) -> str:
    for note in mr.notes.list(iterator=True, per_page=PER_PAGE, sort="asc", order_by="created_at"):
        attrs = note.attributes
        if attrs.get("system") or not str(attrs.get("body", "")).startswith(STICKY_MARKER):
            continue
        if user_id is not None and (attrs.get("author") or {}).get("id") != user_id:
            continue  # someone else's note quoting our marker: never ours to edit
        if attrs.get("body") == body:
            return f"note {note.id} already up to date"
        note.body = body
        note.save()
        return f"edited note {note.id}"
    created = mr.notes.create({"body": body})
    return f"created note {created.id}"


# --- the commit status -----------------------------------------------------------------------------


def _clip(text: str, limit: int = STATUS_TEXT_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_state(report: Report) -> str:
    """`success` only for a pass; a blocking finding and a render failure (`error`) are both `failed`."""
    return "success" if report.verdict == "pass" else "failed"


def _set_status(project: Project, report: Report, target: GitlabTarget, settings: GitlabSettings) -> str:
    data = {
        "state": status_state(report),
        "name": _clip(settings.status_name),
        "description": _clip(f"{report.verdict}: {verdict_details(report)}"),
    }
    if target.job_url and len(target.job_url) <= STATUS_TEXT_MAX_CHARS:
        data["target_url"] = target.job_url
    project.commits.get(target.head_sha, lazy=True).statuses.create(data)
    return f"{data['state']} on {target.head_sha[:12]} as {data['name']!r}"


# --- inline discussions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file of a merge request diff version: which lines changed, by side."""

    old_path: str
    new_path: str
    new_file: bool
    deleted_file: bool
    added: frozenset[int]  # line numbers in the new file
    removed: frozenset[int]  # line numbers in the old file


def parse_file_diff(entry: dict[str, Any]) -> FileDiff:
    """A `diffs[]` entry of `GET /merge_requests/:iid/versions/:id` (unified hunks without headers)."""
    added: set[int] = set()
    removed: set[int] = set()
    old = new = 0
    for line in str(entry.get("diff") or "").splitlines():
        header = _HUNK_HEADER.match(line)
        if header:
            old, new = int(header.group(1)), int(header.group(2))
        elif line.startswith("+"):
            added.add(new)
            new += 1
        elif line.startswith("-"):
            removed.add(old)
            old += 1
        elif line.startswith(" ") or line == "":
            old += 1
            new += 1
        # "\ No newline at end of file" moves neither side
    return FileDiff(
        old_path=str(entry.get("old_path") or entry.get("new_path") or ""),
        new_path=str(entry.get("new_path") or entry.get("old_path") or ""),
        new_file=bool(entry.get("new_file")),
        deleted_file=bool(entry.get("deleted_file")),
        added=frozenset(added),
        removed=frozenset(removed),
    )


def _finding_side(report: Report, finding: Finding) -> str:
    """`old` when the finding is about something the change removes (its location is in the base
    revision), `new` otherwise."""
    if finding.key is not None:
        for change in report.changes:
            if change.key == finding.key and finding.app in (change.app, change.from_app):
                return "old" if change.type == "removed" else "new"
    for status in report.apps:
        if status.app == finding.app and status.state == "removed":
            return "old"
    return "new"


def document_end(content: str, start: int) -> int:
    """The first line after the YAML document that starts at line `start` (1-based)."""
    lines = content.splitlines()
    for number in range(start + 1, len(lines) + 1):
        if _DOCUMENT_SEPARATOR.match(lines[number - 1]):
            return number
    return len(lines) + 1


def anchor_line(changed: Iterable[int], start: int | None, end: int | None) -> int | None:
    """The first changed line of the finding's document: lines `start` (default 1) to `end` (excluded;
    default: the rest of the file)."""
    low = start or 1
    candidates = sorted(line for line in changed if line >= low and (end is None or line < end))
    return candidates[0] if candidates else None


def discussion_body(finding: Finding) -> str:
    icon = SEVERITY_ICONS.get(finding.severity, "🛑")
    title = f"**{md_text(finding.title)}**: " if finding.title else ""
    subject = " · ".join(md_text(part) for part in (finding.app, str(finding.key or ""), finding.path or "") if part)
    body = (
        f"{FINDING_MARKER.format(fingerprint=finding.fingerprint)}\n"
        f"{icon} **{md_text(finding.severity)}** · `{md_text(finding.rule)}` · {subject}\n\n"
        f"{title}{md_text(finding.message, newline='<br>')}\n"
    )
    return escape_quick_actions(body)


def _existing_fingerprints(mr: ProjectMergeRequest) -> set[str]:
    found: set[str] = set()
    for discussion in mr.discussions.list(iterator=True, per_page=PER_PAGE):
        for note in discussion.attributes.get("notes") or ():
            found.update(_FINDING_MARKER.findall(str(note.get("body", ""))))
    return found


def _post_discussions(
    project: Project, mr: ProjectMergeRequest, report: Report, target: GitlabTarget, settings: GitlabSettings
) -> str:
    wanted = [f for f in ordered_findings(report.findings) if f.severity in INLINE_SEVERITIES and not f.waived]
    if not wanted:
        return "no critical findings"
    versions = mr.diffs.list(get_all=True)
    if not versions:
        raise NotPosted("the merge request has no diff version yet")
    latest = max(versions, key=lambda version: int(version.id))
    if latest.head_commit_sha != target.head_sha:
        raise NotPosted(
            f"the merge request's latest diff is for {str(latest.head_commit_sha)[:12]}, not "
            f"{target.head_sha[:12]} (a newer push): lines of another commit would be the wrong lines"
        )
    version = mr.diffs.get(latest.id)
    diffs = [parse_file_diff(entry) for entry in version.diffs]
    existing = _existing_fingerprints(mr)
    contents: dict[tuple[str, str], str | None] = {}

    def content(path: str, sha: str) -> str | None:
        if (path, sha) not in contents:
            try:
                contents[(path, sha)] = project.files.raw(file_path=path, ref=sha).decode("utf-8", "replace")
            except GitlabError:
                contents[(path, sha)] = None
        return contents[(path, sha)]

    created = already = unplaced = 0
    for finding in wanted:
        if finding.fingerprint in existing:
            already += 1
            continue
        if created >= MAX_INLINE_DISCUSSIONS:
            break
        position = _position(finding, report, diffs, version, settings, content)
        if position is None:
            unplaced += 1
            continue
        mr.discussions.create({"body": discussion_body(finding), "position": position})
        existing.add(finding.fingerprint)
        created += 1
    parts = [f"created {created} discussion{'s' if created != 1 else ''}"]
    if already:
        parts.append(f"{already} already open")
    if unplaced:
        parts.append(f"{unplaced} without a changed line in the diff (in the note only)")
    if len(wanted) > created + already + unplaced:
        parts.append(f"{len(wanted) - created - already - unplaced} over the limit of {MAX_INLINE_DISCUSSIONS}")
    return "; ".join(parts)


def _position(
    finding: Finding,
    report: Report,
    diffs: list[FileDiff],
    version: Any,
    settings: GitlabSettings,
    content: Callable[[str, str], str | None],
) -> dict[str, Any] | None:
    """The diff position for a finding (docs.gitlab.com, "Discussions API", "Create a new thread in the
    merge request diff"): `new_line` for an added line, `old_line` for a removed one; None when the
    finding's document has no changed line in this diff."""
    if finding.location is None:
        return None
    prefix = settings.path_prefix.strip("/")
    path = f"{prefix}/{finding.location.file}" if prefix else finding.location.file
    line = finding.location.line
    side = _finding_side(report, finding)
    for diff in diffs:
        if side == "new" and diff.new_path == path and not diff.deleted_file:
            sha, changed, key = str(version.head_commit_sha), diff.added, "new_line"
        elif side == "old" and diff.old_path == path and not diff.new_file:
            sha, changed, key = str(version.base_commit_sha), diff.removed, "old_line"
        else:
            continue
        end = None
        if line:
            text = content(path, sha)
            end = document_end(text, line) if text is not None else line + 1
        anchor = anchor_line(changed, line, end)
        if anchor is None:
            return None
        return {
            "position_type": "text",
            "base_sha": version.base_commit_sha,
            "start_sha": version.start_commit_sha,
            "head_sha": version.head_commit_sha,
            "old_path": diff.old_path,
            "new_path": diff.new_path,
            key: anchor,
        }
    return None


def publish_report_from_environment(
    report: Report, env: Mapping[str, str] | None = None, settings: GitlabSettings | None = None
) -> tuple[PublishOutcome, ...]:
    """`merge --publish gitlab`: post an already-computed report (the merge of a sharded review) to the
    merge request of this pipeline, read from the merge-request pipeline variables exactly as
    `gitops-reviewer gitlab` reads them, with the access token in `GITOPS_REVIEWER_GITLAB_TOKEN`.
    Without a usable token nothing is sent and the one outcome says why (the verdict stands)."""
    env = os.environ if env is None else env
    pipeline = merge_request_pipeline(env)
    token = access_token(env, DEFAULT_TOKEN_VARIABLE)
    if token.token is None:
        return (PublishOutcome("note", False, token.problem), PublishOutcome("status", False, token.problem))
    return publish(report, GitlabTarget.for_pipeline(pipeline, token.token), settings or GitlabSettings())
