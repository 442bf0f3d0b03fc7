"""LLM settings given on the command line (or as Action / CI template inputs). They override the
`llm:` section of the base revision's `.gitops-reviewer.yaml`; anything left unset comes from there."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LlmOptions:
    enabled: bool | None = None  # --llm / --no-llm; None: as the config says (off by default)
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None  # the NAME of the environment variable holding the key, never the key
