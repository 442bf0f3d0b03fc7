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
# What to do with the sticky comment/note: `update` it in place (creating it the first time), or `off`.
COMMENT_MODES = ("update", "off")


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """One surface (comment, check run, status, summary, artifact...) and what happened to it."""

    surface: str
    posted: bool
    detail: str = ""  # what was done ("edited comment 123") or why not ("403: token is read-only")


def sticky_body(report: Report, *, max_chars: int, full_report_url: str | None = None) -> str:
    """The comment/note body: the marker, then the markdown report fitted to `max_chars` in total
    (see `fit_markdown`: diffs are trimmed first, findings only when they alone do not fit)."""
    budget = max_chars - len(STICKY_MARKER) - 1
    text = fit_markdown(report, max_chars=budget, full_report_url=full_report_url)
    return f"{STICKY_MARKER}\n{text}"


# Rounds of re-rendering with a smaller budget when the size is counted in bytes, not characters.
_FIT_ROUNDS = 10


def fit_markdown(
    report: Report,
    *,
    max_chars: int,
    full_report_url: str | None = None,
    include_verdict: bool = True,
    include_diff: bool = True,
    size: Callable[[str], int] = len,
) -> str:
    """The markdown report with `size(text) <= max_chars` (`size` counts characters, or UTF-8 bytes
    for a limit in bytes such as a job summary's).

    In order, until it fits: diffs trimmed per resource then per app (reviewer.report.markdown); then,
    only when the verdict, findings and render errors alone are too long, the findings listed most
    severe first as far as they fit, with a note that the full report has the rest; as a last resort,
    the verdict line and a pointer to the full report. The verdict line always comes first and always
    counts every finding.
    """

    def render(budget: int, max_findings: int | None) -> str:
        options = FormatOptions(
            include_verdict=include_verdict,
            include_diff=include_diff,
            max_chars=budget,
            full_report_url=full_report_url,
            max_findings=max_findings,
        )
        return format_report(report, "markdown", options)

    def attempt(max_findings: int | None) -> str | None:
        budget, fits, fails = max_chars, 0, 0  # character budgets known to fit / not to fit
        best: str | None = None
        for _ in range(_FIT_ROUNDS):
            text = render(budget, max_findings)
            measured = size(text)
            if measured <= max_chars:
                best, fits = text, budget
                if not fails or fails - fits <= max_chars // 50:
                    break
            else:
                if len(text) > budget:
                    break  # what is never trimmed is too long by itself
                fails = budget
            # Bytes per character vary with the content: shrink in proportion until something fits,
            # then bisect towards the largest budget that fits.
            budget = (fits + fails) // 2 if best is not None else min(budget - 1, budget * max_chars // measured)
            if budget <= 0:
                break
        return best

    text = attempt(None)
    if text is not None:
        return text
    best: str | None = None
    low, high = 0, len(report.findings) - 1
    while low <= high:  # the most findings that fit
        middle = (low + high) // 2
        candidate = attempt(middle)
        if candidate is None:
            high = middle - 1
        else:
            best, low = candidate, middle + 1
    if best is not None:
        return best
    first_line = render(max_chars, 0).split("\n", 1)[0]
    where = f"the [full report]({full_report_url})" if full_report_url else "the full report"
    text = f"{first_line}\n\n_The report is too long for this place: see {where}._\n"
    while size(text) > max_chars:  # a pathological verdict line: cut it, a character at a time
        text = text[: max(0, len(text) - max(1, size(text) - max_chars))]
    return text


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
