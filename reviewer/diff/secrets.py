"""Secret values never reach a delta or a body that leaves the diff (DESIGN.md, security invariant 2).

A v1 Secret is compared with its values, but what comes out names only keys:
- deltas under `data` are per key (`data.password`, `data["tls.crt"]`), `added`/`removed`/`changed`,
  with `before`/`after` replaced by MASK;
- the bodies on the Change are masked copies of the normalised bodies (stringData folded into data,
  tool annotations such as last-applied-configuration gone), every value MASK, except that a value
  that changed reads CHANGED_MASK on the head side, so a text diff of the two bodies still shows
  which values changed.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from ..redaction import MASK
from .deltas import RawDelta, body_deltas

CHANGED_MASK = "<redacted: changed>"
SECRET_FIELDS = ("data", "stringData")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fold_string_data(body: dict[str, Any]) -> dict[str, Any]:
    """core/v1 Secret: "stringData ... is merged into the data field on write, overwriting any existing
    values"; the API server never returns stringData. So moving a value from one to the other, or
    writing it base64-encoded by hand, is no change."""
    string_data, data = body.get("stringData"), body.get("data") or {}
    if isinstance(string_data, Mapping) and isinstance(data, Mapping):
        merged = dict(data)
        for key, value in string_data.items():
            merged[key] = base64.b64encode(_text(value).encode()).decode()
        del body["stringData"]
        body["data"] = merged
    if "data" in body and not body["data"]:
        del body["data"]
    return body


def _mask(value: Any) -> Any:
    return None if value is None else MASK


def secret_deltas(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[RawDelta]:
    """The deltas of two normalised Secrets: per key under `data`, masked; the rest as for any object."""
    out: list[RawDelta] = []
    for field in SECRET_FIELDS:
        old, new = before.get(field), after.get(field)
        if isinstance(old, Mapping | None) and isinstance(new, Mapping | None):
            for delta in body_deltas("Secret", old or {}, new or {}, (field,)):
                # A value is a string; anything deeper is reported at its key, never below it.
                out.append(RawDelta(delta.path[:2], _mask(delta.before), _mask(delta.after), delta.kind))
        elif old != new:
            kind = "added" if old is None else "removed" if new is None else "changed"
            out.append(RawDelta((field,), _mask(old), _mask(new), kind))
    rest_before = {k: v for k, v in before.items() if k not in SECRET_FIELDS}
    rest_after = {k: v for k, v in after.items() if k not in SECRET_FIELDS}
    out.extend(body_deltas("Secret", rest_before, rest_after))
    return list({(d.path, d.kind): d for d in out}.values())


def masked_body(body: Mapping[str, Any], changed: set[str], *, head: bool) -> dict[str, Any]:
    """A copy of a normalised Secret with every value masked; on the head side a value in `changed`
    (a key of data) reads CHANGED_MASK."""
    out = dict(body)
    for field in SECRET_FIELDS:
        values = body.get(field)
        if isinstance(values, Mapping):
            out[field] = {k: CHANGED_MASK if head and f"{field}\0{k}" in changed else MASK for k in values}
        elif values is not None:
            out[field] = CHANGED_MASK if head and field in changed else MASK
    return out


def changed_keys(deltas: list[RawDelta]) -> set[str]:
    """The values a masked body must show as changed (see masked_body)."""
    keys = set()
    for d in deltas:
        if d.kind == "changed" and d.path and d.path[0] in SECRET_FIELDS:
            keys.add(f"{d.path[0]}\0{d.path[1]}" if len(d.path) > 1 else str(d.path[0]))
    return keys
