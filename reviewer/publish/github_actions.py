"""What a GitHub Actions run tells the job: the event payload, and where to write outputs.

No network and no PyGithub here (the twin of `gitlab_ci`): the `github` command and `merge --publish
github` read the commits and the pull request from here.

The revisions come from the `pull_request` event: `pull_request.base.sha` and `pull_request.head.sha`.
Never `GITHUB_SHA`: on `pull_request` it is the merge commit Actions creates, which is neither side of
the change, and check runs and statuses set on it do not show on the pull request.

For a `workflow_run` (the second workflow of the fork pattern), the head commit and the pull request
come from the event GitHub wrote, never from the artifact the fork's run uploaded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError

# GitHub caps webhook payloads at 25 MB; an event file larger than that is not one.
EVENT_MAX_BYTES = 25 * 1024 * 1024
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class PullRequestEvent:
    number: int
    base_sha: str
    head_sha: str
    base_ref: str
    head_ref: str
    fork: bool  # the head branch lives in another repository: GITHUB_TOKEN is read-only


@dataclass(frozen=True, slots=True)
class WorkflowRunEvent:
    head_sha: str
    pr_number: int | None  # empty for a pull request from a fork: look it up by the head commit
    html_url: str | None  # the run that produced the artifact, where its summary is


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The bytes of `path`, refusing a file larger than `limit` (without reading more than that)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise UsageError(f"{what} {path} is larger than {limit:,} bytes")
    return raw


def read_event(path: Path | None) -> dict[str, Any]:
    """The event payload at `path` (`GITHUB_EVENT_PATH`)."""
    if path is None:
        raise UsageError(
            "no GitHub event: GITHUB_EVENT_PATH is not set (the github command runs in GitHub Actions; "
            "pass --event-path FILE to run it elsewhere)"
        )
    raw = read_bounded(path, EVENT_MAX_BYTES, "the GitHub event")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise UsageError(f"the GitHub event {path} is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise UsageError(f"the GitHub event {path} is not a JSON object")
    return payload


def _get(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _sha(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _SHA.fullmatch(value):
        raise UsageError(f"the GitHub event has no valid {what} (found {value!r})")
    return value


def pull_request_event(payload: dict[str, Any], event_name: str | None = None) -> PullRequestEvent:
    """The pull request of a `pull_request` (or `pull_request_target`) event."""
    pull = payload.get("pull_request")
    if not isinstance(pull, dict):
        name = event_name or "this event"
        raise UsageError(
            f"the github command reviews pull requests, and {name} has no `pull_request`: run it on "
            "`pull_request` events, or post a saved report with --from-report"
        )
    number = pull.get("number", payload.get("number"))
    if not isinstance(number, int) or isinstance(number, bool):
        raise UsageError(f"the GitHub event has no pull request number (found {number!r})")
    base_repo = _get(pull, "base.repo.full_name")
    head_repo = _get(pull, "head.repo.full_name")  # null when the fork was deleted
    return PullRequestEvent(
        number=number,
        base_sha=_sha(_get(pull, "base.sha"), "pull_request.base.sha"),
        head_sha=_sha(_get(pull, "head.sha"), "pull_request.head.sha"),
        base_ref=str(_get(pull, "base.ref") or "base"),
        head_ref=str(_get(pull, "head.ref") or "head"),
        fork=head_repo != base_repo,
    )


def workflow_run_event(payload: dict[str, Any]) -> WorkflowRunEvent | None:
    """The run of a `workflow_run` event, or None for another event."""
    run = payload.get("workflow_run")
    if not isinstance(run, dict):
        return None
    pulls = [p for p in run.get("pull_requests") or [] if isinstance(p, dict)]
    number = pulls[0].get("number") if len(pulls) == 1 else None
    html_url = run.get("html_url")
    return WorkflowRunEvent(
        head_sha=_sha(run.get("head_sha"), "workflow_run.head_sha"),
        pr_number=number if isinstance(number, int) and not isinstance(number, bool) else None,
        html_url=html_url if isinstance(html_url, str) and html_url.startswith("https://") else None,
    )


def write_outputs(path: Path | None, outputs: dict[str, str]) -> None:
    """Step outputs (`$GITHUB_OUTPUT`): `name=value` lines; values here never hold a newline."""
    if path is None:
        return
    with path.open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            handle.write(f"{name}={' '.join(value.split())}\n")


def workflow_command_value(text: str) -> str:
    """`text` escaped for a workflow command (`::warning::...`), as @actions/core escapes data."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
