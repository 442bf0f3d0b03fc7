"""Secret values never leave the process: masked before anything is printed, posted or cached."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MASK = "<redacted>"


def is_secret(body: Mapping[str, Any]) -> bool:
    api_version = body.get("apiVersion")
    return body.get("kind") == "Secret" and api_version == "v1"


def mask_secret_values(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """A copy of a v1 Secret with every `data` / `stringData` value masked (keys kept); other objects as is."""
    if not is_secret(body):
        return body
    masked = dict(body)
    for field in ("data", "stringData"):
        values = body.get(field)
        if isinstance(values, Mapping):
            masked[field] = {key: MASK for key in values}
    return masked
