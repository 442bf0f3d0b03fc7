"""The `llm:` section of `.gitops-reviewer.yaml`, and how command-line options override it.

The section is read from the base revision like the rest of the config, so a pull request cannot switch
the review's endpoint, raise its severity cap or swap its prompts. The API key itself is never in the
config: `apiKeyEnv` names the environment variable that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..records import SEVERITIES, LlmReview
from ..redaction import redact_text
from .options import LlmOptions

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"

_KEYS = {
    "enabled",
    "baseUrl",
    "model",
    "apiKeyEnv",
    "timeout",
    "totalBudget",
    "maxRetries",
    "maxInputTokens",
    "maxOutputTokens",
    "severityCap",
    "cache",
    "prompts",
    "temperature",
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class LlmConfig:
    """Everything the LLM stage needs to know, with the defaults a CI job can live with.

    The SDK's own defaults (a 600 s timeout, 2 retries) are far too generous for a merge gate: a
    request gets `timeout` seconds, the whole stage `total_budget` seconds, retries included.
    """

    enabled: bool = False
    base_url: str = DEFAULT_BASE_URL
    model: str = ""
    api_key_env: str = DEFAULT_API_KEY_ENV
    timeout: float = 60.0
    total_budget: float = 180.0
    max_retries: int = 2
    max_input_tokens: int = 24_000
    max_output_tokens: int = 2_000
    severity_cap: str = "warning"
    cache: bool = False
    prompts: str = ""  # a directory of the config repo (base revision) with system.txt / user.txt overrides
    temperature: float | None = 0.0  # None: not sent (some reasoning models accept only their default)

    @property
    def endpoint(self) -> str:
        """Scheme and host of `base_url`: what a report may name (never a path or query)."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}"

    def internal_failure(self, detail: str, elapsed: float = 0.0) -> LlmReview:
        """The record of a review that a bug of its own stopped: unavailable, so the rules' verdict stands."""
        return LlmReview(
            status="unavailable",
            reason=f"internal error in the LLM review: {detail}",
            kind="internal",
            model=self.model,
            endpoint=self.endpoint,
            severity_cap=self.severity_cap,
            elapsed=elapsed,
        )


def _number(value: Any, where: str, *, integer: bool = False, minimum: float = 0.0, above: bool = False) -> Any:
    """A number (a whole number with `integer`) that is at least `minimum` (more than it with `above`)."""
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        raise ConfigError(f"{where} must be {kind}, not {value!r}")
    if value < minimum or (above and value == minimum):
        bound = f"more than {minimum:g}" if above else f"at least {minimum:g}"
        raise ConfigError(f"{where} must be {bound}, not {value!r}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


def check_base_url(value: Any, where: str) -> str:
    """An http(s) URL without credentials in it (the key travels in a header, from the environment)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be the URL of an OpenAI-compatible endpoint, e.g. {DEFAULT_BASE_URL}")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where} must be an http:// or https:// URL, not {value!r}")
    if parts.username or parts.password:
        raise ConfigError(
            f"{where} must not carry credentials; put the key in the environment variable apiKeyEnv names"
        )
    return value.strip()


def check_api_key_env(value: Any, where: str) -> str:
    """The NAME of an environment variable. Something that looks like a key itself is refused, so that a
    key pasted into the config (or a flag) is not silently accepted as a variable name."""
    looks_like_key = isinstance(value, str) and (
        value.lower().startswith(("sk-", "sk_", "rk_")) or len(value) > 64 or redact_text(value)[1] > 0
    )
    if looks_like_key or not isinstance(value, str) or not _ENV_NAME.match(value):
        if looks_like_key:
            raise ConfigError(
                f"{where} looks like an API key itself; put the key in an environment variable and give that "
                "variable's name here"
            )
        raise ConfigError(f"{where} must be the name of an environment variable (letters, digits, _), not {value!r}")
    return value


def check_model(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a model name, e.g. gpt-4o-mini")
    return value.strip()


def _prompts_dir(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a directory of the config repo")
    path = PurePosixPath(value.strip())
    if path.is_absolute() or ".." in path.parts:
        raise ConfigError(f"{where} must be a path inside the config repo (relative, no `..`), not {value!r}")
    return path.as_posix()


def parse_llm_config(value: Any, where: str) -> LlmConfig:
    """The `llm:` section; every bad value is a ConfigError that says what is expected."""
    if value is None:
        return LlmConfig()
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping, not {type(value).__name__}")
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYS))})")
    config = LlmConfig()
    fields: dict[str, Any] = {}
    if "enabled" in value:
        fields["enabled"] = _bool(value["enabled"], f"{where}.enabled")
    if "baseUrl" in value:
        fields["base_url"] = check_base_url(value["baseUrl"], f"{where}.baseUrl")
    if "model" in value:
        fields["model"] = check_model(value["model"], f"{where}.model")
    if "apiKeyEnv" in value:
        fields["api_key_env"] = check_api_key_env(value["apiKeyEnv"], f"{where}.apiKeyEnv")
    for key, name in (("timeout", "timeout"), ("totalBudget", "total_budget")):
        if key in value:
            fields[name] = float(_number(value[key], f"{where}.{key}", above=True))
    if "maxRetries" in value:
        fields["max_retries"] = _number(value["maxRetries"], f"{where}.maxRetries", integer=True)
    for key, name in (("maxInputTokens", "max_input_tokens"), ("maxOutputTokens", "max_output_tokens")):
        if key in value:
            fields[name] = _number(value[key], f"{where}.{key}", integer=True, minimum=1)
    if "severityCap" in value:
        cap = value["severityCap"]
        if cap not in SEVERITIES:
            raise ConfigError(f"{where}.severityCap must be one of {', '.join(SEVERITIES)}, not {cap!r}")
        fields["severity_cap"] = cap
    if "cache" in value:
        fields["cache"] = _bool(value["cache"], f"{where}.cache")
    if "prompts" in value:
        fields["prompts"] = _prompts_dir(value["prompts"], f"{where}.prompts")
    if "temperature" in value:
        raw = value["temperature"]
        fields["temperature"] = None if raw is None else float(_number(raw, f"{where}.temperature"))
    config = replace(config, **fields)
    if config.total_budget < config.timeout:
        raise ConfigError(
            f"{where}.totalBudget ({config.total_budget:g} s) must be at least timeout ({config.timeout:g} s)"
        )
    return config


def effective_settings(config: LlmConfig, options: LlmOptions | None) -> LlmConfig:
    """The config's `llm:` section (or the options' own `settings`) with the command-line overrides
    applied. Flags are checked like config values: a bad one is a ConfigError (exit code 2)."""
    if options is None:
        return config
    settings = options.settings if options.settings is not None else config
    fields: dict[str, Any] = {}
    if options.enabled is not None:
        fields["enabled"] = options.enabled
    if options.base_url is not None:
        fields["base_url"] = check_base_url(options.base_url, "--llm-base-url")
    if options.model is not None:
        fields["model"] = check_model(options.model, "--llm-model")
    if options.api_key_env is not None:
        fields["api_key_env"] = check_api_key_env(options.api_key_env, "--llm-api-key-env")
    return replace(settings, **fields)
