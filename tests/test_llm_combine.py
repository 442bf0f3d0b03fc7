"""LLM reviews read back from JSON and combined across shards."""

from __future__ import annotations

import json
from dataclasses import fields

from reviewer.llm.combine import combine_reviews
from reviewer.records import LlmReview
from reviewer.report.json_load import _llm as load_llm
from reviewer.report.json_load import _Reader
from reviewer.report.json_report import _llm


def test_a_review_survives_the_json_round_trip() -> None:
    review = LlmReview(
        status="reviewed",
        model="m",
        endpoint="https://api.example.com",
        prompt_digest="0123456789ab",
        schema_version="1",
        not_reviewed=("argocd/a ConfigMap x/y (added)",),
        dropped_findings=2,
        redacted_values=3,
        stripped=("1 HTML comment",),
        elapsed=1.25,
        mode="json_object",
        attempts=2,
        severity_cap="warning",
        summarised=("argocd/a ConfigMap x/z",),
        dropped=(("repeats a rule finding", 2),),
        input_tokens=900,
        prompt_source="package",
    )
    document = json.loads(json.dumps(_llm(review)))
    assert load_llm(_Reader("report.json"), document, "llm") == review
    documented = {f.name for f in fields(LlmReview)}
    assert len(document) == len(documented), "every field of the record is in the JSON contract"


def test_shards_combine_to_their_worst_and_add_up() -> None:
    ok = LlmReview(status="reviewed", model="m", redacted_values=2, dropped=(("x", 1),), dropped_findings=1, attempts=1)
    late = LlmReview(status="unavailable", reason="timed out", kind="timeout", model="m", redacted_values=1, attempts=3)
    merged = combine_reviews([ok, None, late, ok])
    assert merged is not None
    assert (merged.status, merged.reason, merged.kind, merged.model) == ("unavailable", "timed out", "timeout", "m")
    assert (merged.redacted_values, merged.dropped_findings, merged.dropped, merged.attempts) == (5, 2, (("x", 2),), 5)
    assert combine_reviews([None, None]) is None
    broken = LlmReview(status="misconfigured", reason="key refused", kind="auth")
    assert combine_reviews([late, broken]).status == "misconfigured"  # type: ignore[union-attr]
