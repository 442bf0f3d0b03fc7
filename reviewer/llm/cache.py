"""An optional cache of validated model answers (`llm.cache: true`).

Keyed by everything that decides the answer: model, endpoint, prompt digest, schema version and the
redacted payload with the notes sent beside it. Only an answer that passed validation is stored, and
only its surviving findings (which quote nothing but the already redacted payload); a cached answer is
validated again on the way out, so an entry that no longer fits is ignored, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from ..cachedir import atomic_write, default_cache_dir

FORMAT = 1


def cache_key(model: str, base_url: str, prompt_digest: str, schema_version: str, data: str) -> str:
    material = json.dumps([FORMAT, model, base_url, prompt_digest, schema_version, data], ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


def cache_path(key: str, root: Path | None = None) -> Path:
    return (root or default_cache_dir() / "llm") / key[:2] / f"{key}.json"


def read_cached(key: str, root: Path | None = None) -> dict[str, Any] | None:
    """The stored entry, or None when there is none or it cannot be read (a cache never fails a review)."""
    path = cache_path(key, root)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(value, dict) or value.get("format") != FORMAT or not isinstance(value.get("findings"), list):
        return None
    return value


def write_cached(key: str, findings: list[dict[str, Any]], mode: str, root: Path | None = None) -> None:
    entry = {"format": FORMAT, "mode": mode, "findings": findings}
    # A read-only or full cache directory costs a model call next time, nothing else.
    with contextlib.suppress(OSError):
        atomic_write(cache_path(key, root), json.dumps(entry, ensure_ascii=False, indent=1).encode())
