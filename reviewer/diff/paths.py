"""Field paths of a delta: `spec.template.spec.containers[name=api].image`, `metadata.labels["a/b"]`.

A path is a tuple of segments: a map key (`str`), a list index (`int`), or an `ItemKey` naming the
item of a list that Kubernetes merges by key. `format_path` prints it: dotted map keys, quoted (as
JSON strings) where a key is not a plain name, `[3]` for an index, `[name=api]` for a keyed item.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Scalar = str | int | float | bool | None

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.:/@+*-]+")


@dataclass(frozen=True, slots=True)
class ItemKey:
    """The identity of one item of a keyed list, as the (field, value) pairs shown in its path.

    Fields whose value is the API default (a port's `TCP` protocol) are left out, so `ports[port=80]`
    and an item that spells `protocol: TCP` out are the same item."""

    shown: tuple[tuple[str, Scalar], ...]

    @property
    def label(self) -> str:
        return ",".join(f"{name}={_value(value)}" for name, value in self.shown)

    @property
    def summary(self) -> Scalar:
        """The key as it appears in a `reordered` delta's before/after lists: the value of a one-field
        key (`api`, `8080`), else the label (`port=53,protocol=UDP`)."""
        return self.shown[0][1] if len(self.shown) == 1 else self.label


Segment = str | int | ItemKey
Path = tuple[Segment, ...]


def _value(value: Scalar) -> str:
    if isinstance(value, str) and _PLAIN_VALUE.fullmatch(value):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)


def format_path(path: Sequence[Segment]) -> str:
    """`("spec", "containers", ItemKey((("name", "api"),)), "image")` -> `spec.containers[name=api].image`."""
    path = tuple(path)
    return _format(path, tuple(type(v) for s in path if isinstance(s, ItemKey) for _, v in s.shown))


@lru_cache(maxsize=4096)
def _format(path: Path, types: tuple[type, ...]) -> str:
    """format_path, remembered: the same few paths change in resource after resource. `types` (of the
    keyed items' values) is part of the memo's key: `[port=1]`, `[port=true]` and `[port=1.0]` are
    equal paths to Python, not the same path."""
    out: list[str] = []
    for segment in path:
        if isinstance(segment, ItemKey):
            out.append(f"[{segment.label}]")
        elif isinstance(segment, int):
            out.append(f"[{segment}]")
        elif _PLAIN_KEY.fullmatch(segment):
            out.append(f".{segment}" if out else segment)
        else:
            out.append(f"[{json.dumps(segment)}]")
    return "".join(out)


def sort_key(path: Sequence[Segment]) -> tuple[tuple[int, Any], ...]:
    """Orders paths so a list's own delta comes before its items', indexes numerically."""
    return tuple((2, s.label) if isinstance(s, ItemKey) else (1, s) if isinstance(s, int) else (0, s) for s in path)


def field_names(path: Sequence[Segment]) -> tuple[str, ...]:
    """The map keys of a path, without list positions: what Kubernetes types are declared by."""
    return tuple(s for s in path if isinstance(s, str))
