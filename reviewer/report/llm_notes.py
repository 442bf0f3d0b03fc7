"""What every format says about the advisory LLM review, worded once.

The review is either off (`Report.llm` is None: nothing is said), or it says plainly what happened:
how many findings the model added and at what cap, what was dropped and why, what was redacted or
stripped before sending, what did not fit the budget; or "LLM review unavailable: <reason>", or, for a
configuration error, "LLM review misconfigured: <reason>" in a place no one can miss. Never silence
that could read as "the model found nothing".
"""

from __future__ import annotations

from ..records import LlmReview, Report
from .summary import plural

UNAVAILABLE = "LLM review unavailable"
MISCONFIGURED = "LLM review misconfigured"


def llm_finding_count(report: Report) -> int:
    return sum(1 for finding in report.findings if finding.origin == "llm")


def status_line(report: Report) -> str | None:
    """One line: what the LLM review amounted to; None when it was off."""
    review = report.llm
    if review is None:
        return None
    if review.status == "misconfigured":
        return f"{MISCONFIGURED}: {review.reason} (the verdict is the rules' alone; fix the llm settings)"
    if review.status == "unavailable":
        return f"{UNAVAILABLE}: {review.reason}"
    if review.status == "skipped":
        return f"LLM review skipped: {review.reason}"
    count = llm_finding_count(report)
    found = plural(count, "finding") if count else "no findings"
    cap = f", severity capped at {review.severity_cap}" if review.severity_cap else ""
    cached = " (cached answer)" if review.cached else ""
    partial = "; partial: some changes were not reviewed" if review.not_reviewed else ""
    return f"LLM review (advisory{cap}): {found}{cached}{partial}"


def detail_lines(review: LlmReview) -> list[str]:
    """Plain sentences on what the review sent, dropped and could not cover."""
    lines = []
    if review.dropped_findings:
        reasons = ", ".join(f"{n} {reason}" for reason, n in review.dropped) or "failed validation"
        lines.append(f"{plural(review.dropped_findings, 'model finding')} dropped: {reasons}")
    if review.redacted_values:
        lines.append(f"{plural(review.redacted_values, 'value')} redacted before sending (Secrets, credentials)")
    if review.stripped:
        lines.append("hidden text removed from the data before sending: " + ", ".join(review.stripped))
    if review.mode == "json_object":
        lines.append("the endpoint refused JSON-schema output; JSON mode was used and the answer validated locally")
    if review.summarised:
        lines.append(f"{plural(len(review.summarised), 'change')} sent without field values to fit the input budget")
    return lines


def footer(review: LlmReview) -> str:
    """`LLM gpt-4o-mini · prompt 0543f8cb90cd · schema v1`: which model and exactly which prompt."""
    parts = [f"LLM {review.model}" if review.model else "LLM"]
    if review.prompt_digest:
        source = "" if review.prompt_source in ("", "package") else f" ({review.prompt_source})"
        parts.append(f"prompt {review.prompt_digest}{source}")
    if review.schema_version:
        parts.append(f"schema v{review.schema_version}")
    return " · ".join(parts)
