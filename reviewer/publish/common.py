"""What the GitHub and GitLab publishers share: one content model, one retry policy, one outcome record.

A publisher never decides the verdict and never hides it: when a surface cannot be posted to (read-only
token, rate limit that outlasts the budget, API down), it records a `PublishOutcome` saying so and the
run still exits with the review's verdict.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..records import Report
from ..report import FormatOptions, format_report

T = TypeVar("T")

# The hidden marker that identifies our sticky comment/note. Changing it orphans existing comments.
STICKY_MARKER = "<!-- gitops-reviewer:report -->"


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """One surface (comment, check run, status, summary, artifact...) and what happened to it."""

    surface: str
    posted: bool
    detail: str = ""  # what was done ("edited comment 123") or why not ("403: token is read-only")


def sticky_body(report: Report, *, max_chars: int, full_report_url: str | None = None) -> str:
    """The comment/note body: the marker, then the markdown report trimmed to `max_chars` in total.
    Findings and render errors are never cut; diffs are (see `report.markdown`)."""
    budget = max_chars - len(STICKY_MARKER) - 1
    text = format_report(report, "markdown", FormatOptions(max_chars=budget, full_report_url=full_report_url))
    return f"{STICKY_MARKER}\n{text}"


class RetryableError(Exception):
    """Raised by a publisher's call wrapper for a response worth retrying (429, 5xx, connection reset).
    `retry_after` is the server's Retry-After, in seconds, when it sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries: at most `attempts` calls, never sleeping past `budget` seconds in total, never
    waiting longer than `max_wait` for one Retry-After (a longer wait gives up instead)."""

    attempts: int = 4
    budget: float = 60.0
    max_wait: float = 30.0
    base_delay: float = 1.0


def with_retries(
    call: Callable[[], T],
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`call()`, retried on `RetryableError` with exponential backoff and jitter, honouring Retry-After.
    The last `RetryableError` propagates when the attempts or the time budget run out."""
    policy = policy or RetryPolicy()
    slept = 0.0
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except RetryableError as exc:
            if attempt == policy.attempts:
                raise
            if exc.retry_after is not None:
                wait = exc.retry_after
                if wait > policy.max_wait:
                    raise
            else:
                wait = policy.base_delay * 2 ** (attempt - 1) * (0.5 + random.random() / 2)
            if slept + wait > policy.budget:
                raise
            sleep(wait)
            slept += wait
    raise AssertionError("unreachable")  # pragma: no cover
