"""The JSON shape of a value, as Kubernetes sees a manifest after sigs.k8s.io/yaml: maps with string
keys and no null values (Kubernetes decodes a null field as absent), lists; scalars as they are.

`plain` converts a whole tree; `plain_map` one level of a map, for walks that convert only what they
visit (diff.deltas skips identical subtrees without converting them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_SCALARS = frozenset({str, int, float, bool})
_STR = frozenset({str})


def plain_key(key: Any) -> str:
    """A map key as JSON has it: `true`, `null`, `1`."""
    if type(key) is str:
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def plain(value: Any) -> Any:
    """A JSON-shaped copy: dicts with string keys and no null values, lists; scalars as they are.

    Exact type checks first: this runs over every rendered resource, and ABC checks are slow."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {plain_key(k): v if type(v) in _SCALARS else plain(v) for k, v in value.items() if v is not None}
    if kind is list or (isinstance(value, Sequence) and not isinstance(value, str | bytes)):
        return [v if type(v) in _SCALARS else plain(v) for v in value]
    return value


def plain_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """One level of `plain` for a map: string keys, no null values; the values are left as they are.
    A dict already in that shape is returned as it is (callers only read it)."""
    if type(value) is dict and set(map(type, value)) <= _STR and None not in value.values():
        return value
    return {plain_key(k): v for k, v in value.items() if v is not None}
