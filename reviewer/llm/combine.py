"""LLM reviews across report boundaries: combined when the reports of sharded jobs are merged (each
shard reviewed its own apps). Reading one back from JSON is `reviewer.report.json_load`'s job.

The combined review is as bad as its worst part (misconfigured > unavailable > reviewed > skipped),
gives every reason, and adds up what each part sent, dropped and left out, so a merged report never
reads as more complete than its shards were.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..records import LlmReview

_STATUS_ORDER = ("skipped", "reviewed", "unavailable", "misconfigured")


def _rank(status: str) -> int:
    return _STATUS_ORDER.index(status) if status in _STATUS_ORDER else len(_STATUS_ORDER)


def combine_reviews(reviews: Iterable[LlmReview | None]) -> LlmReview | None:
    """One review for a merged report; None when no part had the LLM review on."""
    parts = [r for r in reviews if r is not None]
    if not parts:
        return None
    worst = max(parts, key=lambda r: _rank(r.status))
    reasons = list(dict.fromkeys(r.reason for r in parts if r.reason and r.status == worst.status))
    dropped: dict[str, int] = {}
    for part in parts:
        for reason, n in part.dropped:
            dropped[reason] = dropped.get(reason, 0) + n
    stripped = list(dict.fromkeys(s for r in parts for s in r.stripped))
    return LlmReview(
        status=worst.status,
        reason="; ".join(reasons),
        model=", ".join(dict.fromkeys(r.model for r in parts if r.model)),
        endpoint=", ".join(dict.fromkeys(r.endpoint for r in parts if r.endpoint)),
        prompt_digest=", ".join(dict.fromkeys(r.prompt_digest for r in parts if r.prompt_digest)),
        schema_version=", ".join(dict.fromkeys(r.schema_version for r in parts if r.schema_version)),
        not_reviewed=tuple(name for r in parts for name in r.not_reviewed),
        dropped_findings=sum(r.dropped_findings for r in parts),
        redacted_values=sum(r.redacted_values for r in parts),
        stripped=tuple(stripped),
        cached=all(r.cached for r in parts),
        elapsed=round(max(r.elapsed for r in parts), 3),
        kind=worst.kind,
        mode=", ".join(dict.fromkeys(r.mode for r in parts if r.mode)),
        attempts=sum(r.attempts for r in parts),
        severity_cap=worst.severity_cap or parts[0].severity_cap,
        summarised=tuple(name for r in parts for name in r.summarised),
        dropped=tuple(dropped.items()),
        input_tokens=max(r.input_tokens for r in parts),
        prompt_source=", ".join(dict.fromkeys(r.prompt_source for r in parts if r.prompt_source)),
    )
