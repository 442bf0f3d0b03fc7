"""The one door to the model: a chat completion from an OpenAI-compatible endpoint, bounded in time.

`openai` is imported here, and only when a review actually calls the model, so the CLI (and `--help`)
never pays for it. The SDK's own retries are off (`max_retries=0`): this module retries instead, so that
the total wall-clock budget covers the requests, the waits and a server's Retry-After together; the
SDK would honour a Retry-After of up to two minutes whatever the budget says.

What can go wrong, and what the report says:
- timeouts, connection errors, 429 and 5xx: retried up to `max_retries` times within the budget, then
  `LlmUnavailable` ("LLM review unavailable: ...");
- 401/403 (the key), 404 (model or path), 400/422 (a request the server refuses): `LlmMisconfigured`,
  reported loudly, except that a 400/422 to the first request, which asks for JSON-schema output, is
  answered by asking once more in JSON mode (servers that do not implement `json_schema` refuse it);
- a refusal, an answer cut off at the output limit, a content filter: `LlmUnavailable`.

The model gets no tools: the request carries messages, a response format and limits, nothing else.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..publish.common import parse_retry_after
from ..redaction import MASK, redact_text
from .sanitise import model_text
from .settings import LlmConfig

JSON_SCHEMA = "json_schema"
JSON_OBJECT = "json_object"
BACKOFF = 0.5  # seconds before the first retry without Retry-After; doubles each time, with jitter


class LlmFailure(Exception):
    """The model could not review. `kind` is a short machine-readable cause for the JSON report."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class LlmUnavailable(LlmFailure):
    """A transient or model-side failure: the review says it is unavailable, and why."""


class LlmMisconfigured(LlmFailure):
    """The endpoint, model or key is wrong: a configuration error, reported loudly."""


@dataclass(frozen=True, slots=True)
class ModelReply:
    content: str
    mode: str  # json_schema | json_object
    attempts: int  # requests sent, the JSON-mode retry included


def _clean(text: str, key: str) -> str:
    """Server text for a report: the key and anything shaped like a token masked, one short line."""
    if key:
        text = text.replace(key, MASK)
    return model_text(redact_text(text)[0], limit=300)


def _status_message(exc: Any, key: str) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, Mapping) else None
    if not isinstance(message, str):
        message = str(getattr(exc, "message", "") or exc)
    return _clean(message, key)


def _response_format(mode: str, schema_name: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    if mode == JSON_SCHEMA:
        return {"type": JSON_SCHEMA, "json_schema": {"name": schema_name, "schema": dict(schema), "strict": True}}
    return {"type": JSON_OBJECT}


def complete(
    settings: LlmConfig,
    api_key: str,
    messages: Sequence[Mapping[str, str]],
    *,
    schema_name: str,
    schema: Mapping[str, Any],
    sleep: Callable[[float], None] = time.sleep,
) -> ModelReply:
    """The model's answer to `messages`, as JSON text, within `settings`' time budget."""
    import openai  # only here: the CLI must not import it unless the LLM review runs

    started = time.monotonic()
    deadline = started + settings.total_budget
    client = openai.OpenAI(base_url=settings.base_url, api_key=api_key, max_retries=0, timeout=settings.timeout)
    mode = JSON_SCHEMA
    attempts = 0
    failures = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            raise LlmUnavailable(f"the total time budget of {settings.total_budget:g} s ran out", "budget")
        attempts += 1
        request: dict[str, Any] = {
            "model": settings.model,
            "messages": [dict(m) for m in messages],
            "response_format": _response_format(mode, schema_name, schema),
            "max_completion_tokens": settings.max_output_tokens,
        }
        if settings.temperature is not None:
            request["temperature"] = settings.temperature
        create: Callable[..., Any] = client.chat.completions.create  # plain dicts in, as the server sees them
        try:
            response = create(**request, timeout=min(settings.timeout, remaining))
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise LlmMisconfigured(
                f"the endpoint refused the API key from ${settings.api_key_env} (HTTP {exc.status_code}): "
                f"{_status_message(exc, api_key)}",
                "auth",
            ) from None
        except openai.NotFoundError as exc:
            raise LlmMisconfigured(
                f"the endpoint does not know model {settings.model!r} or the API path (HTTP 404): "
                f"{_status_message(exc, api_key)}",
                "not-found",
            ) from None
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            if mode == JSON_SCHEMA:
                mode = JSON_OBJECT  # once: the server may not implement JSON-schema output
                continue
            raise LlmMisconfigured(
                f"the endpoint rejected the request (HTTP {exc.status_code}): {_status_message(exc, api_key)}",
                "bad-request",
            ) from None
        except openai.APIStatusError as exc:
            retryable = exc.status_code in (408, 409, 429) or exc.status_code >= 500
            kind = "rate-limit" if exc.status_code == 429 else "server-error"
            what = "rate limited" if exc.status_code == 429 else f"HTTP {exc.status_code}"
            reason = f"the endpoint answered {what}: {_status_message(exc, api_key)}"
            if not retryable:
                raise LlmUnavailable(reason, kind) from None
            retry_after = parse_retry_after(exc.response.headers.get("retry-after"))
            failures = _wait_or_fail(reason, kind, failures, settings, deadline, retry_after, sleep)
            continue
        except openai.APITimeoutError:
            reason = f"the endpoint did not answer within {min(settings.timeout, remaining):g} s"
            failures = _wait_or_fail(reason, "timeout", failures, settings, deadline, None, sleep)
            continue
        except openai.APIConnectionError as exc:
            reason = f"cannot connect to {settings.endpoint}: {_clean(str(exc.__cause__ or exc), api_key)}"
            failures = _wait_or_fail(reason, "connection", failures, settings, deadline, None, sleep)
            continue
        return _reply(response, mode, attempts, settings, api_key)


def _wait_or_fail(
    reason: str,
    kind: str,
    failures: int,
    settings: LlmConfig,
    deadline: float,
    retry_after: float | None,
    sleep: Callable[[float], None],
) -> int:
    """Sleep before the next retry, or raise LlmUnavailable when the retries or the budget are spent."""
    failures += 1
    if failures > settings.max_retries:
        tries = f"{failures} attempts" if failures > 1 else "1 attempt"
        raise LlmUnavailable(f"{reason} ({tries})", kind)
    wait = retry_after if retry_after is not None else BACKOFF * 2 ** (failures - 1) * (0.75 + random.random() / 4)
    if time.monotonic() + wait >= deadline:
        raise LlmUnavailable(
            f"{reason}; waiting {wait:g} s more would pass the total time budget of {settings.total_budget:g} s",
            kind,
        )
    sleep(wait)
    return failures


def _reply(response: Any, mode: str, attempts: int, settings: LlmConfig, api_key: str) -> ModelReply:
    choices = getattr(response, "choices", None) or []
    if not choices:
        raise LlmUnavailable("the endpoint returned no answer (no choices)", "empty")
    choice = choices[0]
    message = choice.message
    refusal = getattr(message, "refusal", None)
    if refusal:
        raise LlmUnavailable(f"the model refused: {_clean(str(refusal), api_key)}", "refusal")
    if choice.finish_reason == "length":
        raise LlmUnavailable(
            f"the answer was cut off at the output limit ({settings.max_output_tokens} tokens, llm.maxOutputTokens)",
            "length",
        )
    if choice.finish_reason == "content_filter":
        raise LlmUnavailable("the endpoint's content filter stopped the answer", "content-filter")
    content = message.content or ""
    if not content.strip():
        raise LlmUnavailable("the model returned an empty answer", "empty")
    return ModelReply(content=content, mode=mode, attempts=attempts)
