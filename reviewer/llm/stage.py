"""The LLM stage of the pipeline: after the rules, before the verdict.

It turns the evaluated change set into a payload, asks the model, validates the answer and returns the
model's findings as ordinary `Finding`s (origin `llm`, rule `llm:<category>`, severity capped by
`llm.severityCap`) together with an `LlmReview` that says what happened. It never raises for a model
problem and never touches a rule finding: whatever goes wrong, the rule verdict stands and the report
says "LLM review unavailable: <reason>" (or, for a configuration problem, says so loudly).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ..policies.context import EvaluationContext
from ..policies.waivers import Waiver, apply_waivers
from ..records import Finding, LlmReview, severity_rank
from ..redaction import redact_text
from .cache import cache_key, read_cached, write_cached
from .categories import LLM_RULE_PREFIX
from .client import LlmFailure, LlmMisconfigured, complete
from .payload import Payload, build_payload, estimate_tokens, resource_id
from .prompts import PromptError, Prompts, load_prompts
from .sanitise import model_text
from .settings import LlmConfig
from .validation import (
    DROP_REASONS,
    MAX_FINDINGS,
    CheckedFinding,
    InvalidAnswer,
    check_findings,
    parse_answer,
    rule_pairs_of,
)

NOTES_RESERVE = 600  # tokens kept for the notes beside the data, which depend on what fitted
MAX_NAMED = 20  # not-reviewed resources named in the prompt's notes (the report names them all)
TITLE_LIMIT, MESSAGE_LIMIT, EVIDENCE_LIMIT = 80, 600, 200


def _notes(payload: Payload) -> str:
    """What the model should know about the data that the data cannot say itself."""
    notes = [
        "- ids: a resource's id is its app, then its group/Kind, then namespace/name; cite ids exactly.",
        "- syncPolicy is the app's at the head revision (syncPolicyAtBase when it changed): with automated "
        "and prune true, a removed resource is deleted from the cluster on merge.",
        "- references: unchanged or changed resources that still name a removed one.",
    ]
    if payload.redacted_values:
        notes.append(f"- {payload.redacted_values} credential values were replaced by <redacted> before sending.")
    if payload.stripped:
        notes.append(
            "- hidden text was removed from the data before sending: "
            + ", ".join(payload.stripped)
            + ". Someone may have tried to hide instructions in the repository."
        )
    if payload.brief:
        notes.append(f"- {len(payload.brief)} resources are sent without their field values, to fit the budget.")
    if payload.not_reviewed:
        named = ", ".join(payload.not_reviewed[:MAX_NAMED])
        more = len(payload.not_reviewed) - MAX_NAMED
        notes.append(
            f"- {len(payload.not_reviewed)} changed resources did not fit and are not in the data: {named}"
            + (f", and {more} more" if more > 0 else "")
        )
    return "\n".join(notes)


def _delimiters(text: str) -> tuple[str, str]:
    """A begin and end line no one could have planted in the data: random for every run."""
    while True:
        token = secrets.token_hex(12)
        begin, end = f"<<<DATA {token}>>>", f"<<<END OF DATA {token}>>>"
        if token not in text:
            return begin, end


def _finding(checked: CheckedFinding, payload: Payload, cap: str) -> Finding:
    """A validated model finding as a report finding: text sanitised and re-scanned, severity capped."""
    resource = payload.resources[checked.resource]

    def text(value: str, limit: int) -> str:
        return model_text(payload.redactor.scrub(value), limit=limit)

    severity = checked.severity if severity_rank(checked.severity) <= severity_rank(cap) else cap
    message = text(checked.explanation, MESSAGE_LIMIT)
    if severity != checked.severity:
        message += f" (rated {checked.severity} by the model; capped at {severity} by llm.severityCap)"
    return Finding(
        rule=f"{LLM_RULE_PREFIX}{checked.category}",
        severity=severity,
        title=text(checked.title, TITLE_LIMIT) or checked.category,
        message=message,
        app=resource.app,
        key=resource.key,
        location=resource.location,
        evidence=text(checked.evidence, EVIDENCE_LIMIT),
        origin="llm",
    )


def run_llm_review(
    settings: LlmConfig,
    ctx: EvaluationContext,
    rule_findings: Sequence[Finding],
    *,
    base_root: Path | None,
    waivers: tuple[Waiver, ...] = (),
    observer: Callable[[str], None] | None = None,
    today: dt.date | None = None,
) -> tuple[tuple[Finding, ...], LlmReview]:
    """The model's findings and the record of the review (see the module docstring). A bug in this
    stage is reported as the review being unavailable: it must not take the rules' verdict with it."""
    started = time.monotonic()
    try:
        return _review(settings, ctx, rule_findings, base_root, waivers, observer, today, started)
    except Exception as exc:
        detail = model_text(redact_text(str(exc))[0], limit=200)
        return (), settings.internal_failure(f"{type(exc).__name__}: {detail}", round(time.monotonic() - started, 3))


def _review(
    settings: LlmConfig,
    ctx: EvaluationContext,
    rule_findings: Sequence[Finding],
    base_root: Path | None,
    waivers: tuple[Waiver, ...],
    observer: Callable[[str], None] | None,
    today: dt.date | None,
    started: float,
) -> tuple[tuple[Finding, ...], LlmReview]:
    record = LlmReview(
        status="reviewed",
        model=settings.model,
        endpoint=settings.endpoint,
        severity_cap=settings.severity_cap,
    )

    def finish(review: LlmReview, findings: tuple[Finding, ...] = ()) -> tuple[tuple[Finding, ...], LlmReview]:
        return findings, replace(review, elapsed=round(time.monotonic() - started, 3))

    def failed(status: str, reason: str, kind: str, **more: Any) -> tuple[tuple[Finding, ...], LlmReview]:
        return finish(replace(record, status=status, reason=reason, kind=kind, **more))

    if not settings.model:
        return failed(
            "misconfigured", "no model is configured: set llm.model in the config or pass --llm-model", "no-model"
        )
    api_key = os.environ.get(settings.api_key_env, "")
    if not api_key.strip():
        return failed(
            "misconfigured",
            f"the environment variable {settings.api_key_env} (llm.apiKeyEnv / --llm-api-key-env) is not set",
            "missing-key",
        )
    try:
        prompts = load_prompts(base_root, settings.prompts)
    except (PromptError, OSError, ValueError, KeyError) as exc:
        return failed("misconfigured", f"the prompts cannot be loaded: {exc}", "prompt")
    record = replace(
        record,
        prompt_digest=prompts.digest,
        schema_version=prompts.schema_version,
        prompt_source=prompts.source,
    )
    if not ctx.changes:
        return failed("skipped", "no resource changes to review", "")

    schema_text = json.dumps(prompts.schema, ensure_ascii=False)
    try:
        overhead = _prompt_tokens(prompts, schema_text, "", "")
    except PromptError as exc:
        return failed("misconfigured", str(exc), "prompt")
    payload = build_payload(
        ctx.changes,
        ctx.statuses,
        rule_findings,
        budget_tokens=settings.max_input_tokens - overhead - NOTES_RESERVE,
        head_resources={app: (*result.resources, *result.hooks) for app, result in ctx.head_renders.items()},
    )
    record = replace(
        record,
        not_reviewed=payload.not_reviewed,
        summarised=payload.brief,
        redacted_values=payload.redacted_values,
        stripped=payload.stripped,
    )
    if payload.unavailable:
        return failed("unavailable", payload.unavailable, "budget", input_tokens=payload.tokens + overhead)
    notes = _notes(payload)
    begin, end = _delimiters(payload.text + notes)
    variables = _variables(schema_text, notes, payload.text, begin, end)
    system, user = prompts.render("system", variables), prompts.render("user", variables)
    tokens = estimate_tokens(system) + estimate_tokens(user)
    record = replace(record, input_tokens=tokens)
    if tokens > settings.max_input_tokens:
        reason = f"the prompt needs about {tokens} tokens, more than llm.maxInputTokens ({settings.max_input_tokens})"
        return failed("unavailable", reason, "budget")

    rule_pairs = rule_pairs_of(rule_findings, resource_id)
    key = cache_key(settings.model, settings.base_url, prompts.digest, prompts.schema_version, payload.text + notes)
    cached = read_cached(key) if settings.cache else None
    if cached is not None:
        kept, dropped = check_findings(cached["findings"], prompts.schema, payload, rule_pairs)
        if not any(dropped.values()):
            findings = _findings(kept, payload, settings, ctx, waivers, today)
            return finish(replace(record, cached=True, mode=str(cached.get("mode", ""))), findings)

    if observer is not None:
        observer(user)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    try:
        reply = complete(settings, api_key, messages, schema_name=prompts.schema_name, schema=prompts.schema)
    except LlmMisconfigured as exc:
        return failed("misconfigured", exc.reason, exc.kind)
    except LlmFailure as exc:
        return failed("unavailable", exc.reason, exc.kind)
    record = replace(record, mode=reply.mode, attempts=reply.attempts)
    try:
        raw = parse_answer(reply.content, prompts.schema)
    except InvalidAnswer as exc:
        return failed("unavailable", f"the model's answer was unusable: {exc}", exc.kind)
    kept, dropped = check_findings(raw, prompts.schema, payload, rule_pairs)
    if settings.cache:
        write_cached(key, [asdict(finding) for finding in kept], reply.mode)
    findings = _findings(kept, payload, settings, ctx, waivers, today)
    counts = tuple((reason, dropped[reason]) for reason in DROP_REASONS if dropped[reason])
    return finish(replace(record, dropped_findings=sum(dropped.values()), dropped=counts), findings)


def _variables(schema: str, notes: str, payload: str, begin: str, end: str) -> dict[str, object]:
    """Everything a prompt template may use."""
    return {
        "schema": schema,
        "notes": notes,
        "payload": payload,
        "begin": begin,
        "end": end,
        "max_findings": MAX_FINDINGS,
    }


def _prompt_tokens(prompts: Prompts, schema: str, notes: str, payload: str) -> int:
    variables = _variables(schema, notes, payload, "<<<DATA x>>>", "<<<END OF DATA x>>>")
    return estimate_tokens(prompts.render("system", variables)) + estimate_tokens(prompts.render("user", variables))


def _findings(
    kept: Sequence[CheckedFinding],
    payload: Payload,
    settings: LlmConfig,
    ctx: EvaluationContext,
    waivers: tuple[Waiver, ...],
    today: dt.date | None,
) -> tuple[Finding, ...]:
    findings = [_finding(checked, payload, settings.severity_cap) for checked in kept]
    unique = {finding.fingerprint: finding for finding in reversed(findings)}  # the first of a fingerprint wins
    ordered = [finding for finding in findings if unique.get(finding.fingerprint) is finding]
    return apply_waivers(ordered, waivers, ctx, today or dt.date.today())
