"""LLM settings given on the command line (or as Action / CI template inputs). They override the
`llm:` section of the base revision's `.gitops-reviewer.yaml`; anything left unset comes from there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import LlmConfig


@dataclass(frozen=True, slots=True)
class LlmOptions:
    """The command line's say on the advisory LLM review, applied over the config's `llm:` section."""

    enabled: bool | None = None  # --llm / --no-llm; None: as the config says (off by default)
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None  # the NAME of the environment variable holding the key, never the key
    # Used instead of the base revision's `llm:` section (the flags above still apply on top). For
    # `llm-eval`, which runs one endpoint's settings over many config repos.
    settings: LlmConfig | None = None
    # Called with every user prompt as it is sent: `llm-eval` checks that planted secrets never leave.
    observer: Callable[[str], None] | None = None
