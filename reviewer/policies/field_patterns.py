"""Field-path patterns, matched against the paths of deltas.

A delta's path is printed by `reviewer.diff.paths.format_path`: `spec.selector.matchLabels.app`,
`metadata.labels["app.kubernetes.io/name"]`, `args[2]`, `containers[name=api].image`. A pattern is written
the same way, plus two wildcards: `*` for any map key (`spec.*`) and `[]` for any list item, by index or
by key (`spec.containers[].image`). `parse_path` reads both; `relation` says whether a delta lies at or
under a pattern's field, or is an ancestor of it (a subtree added or removed as a whole).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True, slots=True)
class Key:
    """A map key."""

    name: str


@dataclass(frozen=True, slots=True)
class Index:
    """A list position."""

    value: int


@dataclass(frozen=True, slots=True)
class Item:
    """The item of a keyed list, by its printed key (`name=api`)."""

    label: str


@dataclass(frozen=True, slots=True)
class AnyKey:
    """Pattern only: any map key."""


@dataclass(frozen=True, slots=True)
class AnyItem:
    """Pattern only: any list item."""


Segment = Key | Index | Item | AnyKey | AnyItem
Pattern = tuple[Segment, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.:/@+*-]+")
_INDEX = re.compile(r"[0-9]+\]")
_DECODER = json.JSONDecoder()


class PathError(ValueError):
    """A path or pattern that cannot be read."""


def _json_at(text: str, at: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, at)
    except json.JSONDecodeError:
        raise PathError(f"bad quoted value at {at} in {text!r}") from None


def _item_label(text: str, at: int) -> tuple[str, int]:
    """`name=api]` or `port=53,protocol=UDP]` (values plain or JSON): the label and the index of `]`."""
    start = at
    while True:
        name = _PLAIN_KEY.match(text, at)
        if not name or text[name.end() : name.end() + 1] != "=":
            raise PathError(f"bad list item key at {at} in {text!r}")
        at = name.end() + 1
        if text[at : at + 1] == '"':
            _, at = _json_at(text, at)
        else:
            value = _PLAIN_VALUE.match(text, at)
            if not value:
                raise PathError(f"bad list item key at {at} in {text!r}")
            at = value.end()
        if text[at : at + 1] == "]":
            return text[start:at], at
        if text[at : at + 1] != ",":
            raise PathError(f"bad list item key at {at} in {text!r}")
        at += 1


def _bracket(text: str, at: int, *, pattern: bool) -> tuple[Segment, int]:
    """The segment written in brackets starting after `[` at `at`, and the index after its `]`."""
    if text[at : at + 1] == '"':
        value, end = _json_at(text, at)
        if not isinstance(value, str) or text[end : end + 1] != "]":
            raise PathError(f"bad quoted key at {at} in {text!r}")
        return Key(value), end + 1
    if pattern and text[at : at + 1] == "]":
        return AnyItem(), at + 1
    if pattern and text[at : at + 2] == "*]":
        return AnyItem(), at + 2
    index = _INDEX.match(text, at)
    if index:
        return Index(int(text[at : index.end() - 1])), index.end()
    label, end = _item_label(text, at)
    return Item(label), end + 1


@lru_cache(maxsize=4096)
def parse_path(text: str, *, pattern: bool = False) -> Pattern:
    """The segments of a printed delta path, or (with `pattern`) of a pattern with wildcards.
    Remembered: the same few paths change in resource after resource (the result is immutable)."""
    out: list[Segment] = []
    at = 0
    while at < len(text):
        char = text[at]
        if char == "[":
            segment, at = _bracket(text, at + 1, pattern=pattern)
            out.append(segment)
            continue
        if char == ".":
            if not out:
                raise PathError(f"a path cannot start with '.': {text!r}")
            at += 1
        elif out:
            raise PathError(f"expected '.' or '[' at {at} in {text!r}")
        if pattern and text[at : at + 1] == "*":
            out.append(AnyKey())
            at += 1
            continue
        name = _PLAIN_KEY.match(text, at)
        if not name:
            raise PathError(f"expected a field name at {at} in {text!r}")
        out.append(Key(name.group()))
        at = name.end()
    if not out:
        raise PathError("an empty path")
    return tuple(out)


def format_pattern(pattern: Sequence[Segment]) -> str:
    """A pattern printed the way `parse_path` reads it."""
    out: list[str] = []
    for segment in pattern:
        if isinstance(segment, Key):
            if _PLAIN_KEY.fullmatch(segment.name):
                out.append(f".{segment.name}" if out else segment.name)
            else:
                out.append(f"[{json.dumps(segment.name)}]")
        elif isinstance(segment, AnyKey):
            out.append(".*" if out else "*")
        elif isinstance(segment, AnyItem):
            out.append("[]")
        elif isinstance(segment, Index):
            out.append(f"[{segment.value}]")
        else:
            out.append(f"[{segment.label}]")
    return "".join(out)


def _matches(wanted: Segment, seen: Segment) -> bool:
    kind = type(wanted)
    if kind is Key:  # the usual segment: compared without the dataclass's `==`
        return type(seen) is Key and wanted.name == seen.name  # type: ignore[union-attr]
    if kind is AnyKey:
        return isinstance(seen, Key)
    if kind is AnyItem:
        return isinstance(seen, Index | Item)
    return wanted == seen


def is_under(path: Sequence[Segment], pattern: Sequence[Segment]) -> bool:
    """`path` is the pattern's field or lies below it."""
    return len(path) >= len(pattern) and all(_matches(p, s) for p, s in zip(pattern, path, strict=False))


def is_above(path: Sequence[Segment], pattern: Sequence[Segment]) -> bool:
    """`path` is a strict ancestor of the pattern's field."""
    return len(path) < len(pattern) and all(_matches(p, s) for p, s in zip(pattern, path, strict=False))


def is_near(path: Sequence[Segment], pattern: Sequence[Segment]) -> bool:
    """`path` is the pattern's field, lies below it or is an ancestor of it (`is_under` or `is_above`),
    in one pass."""
    return all(_matches(p, s) for p, s in zip(pattern, path, strict=False))


def values_at(value: Any, pattern: Sequence[Segment]) -> list[Any]:
    """Every value a relative pattern reaches inside a JSON value (wildcards fan out; a keyed item
    cannot be told from a value, so it reaches nothing)."""
    found = [value]
    for segment in pattern:
        step: list[Any] = []
        for current in found:
            if isinstance(segment, Key):
                if isinstance(current, Mapping) and segment.name in current:
                    step.append(current[segment.name])
            elif isinstance(segment, AnyKey):
                if isinstance(current, Mapping):
                    step.extend(current.values())
            elif isinstance(segment, AnyItem):
                if _is_list(current):
                    step.extend(current)
            elif isinstance(segment, Index) and _is_list(current) and segment.value < len(current):
                step.append(current[segment.value])
        found = step
    return found


def without(value: Any, patterns: Sequence[Sequence[Segment]]) -> Any:
    """A copy of a JSON value with what the relative patterns reach removed."""
    copied = copy.deepcopy(value)
    for pattern in patterns:
        if pattern:
            _remove(copied, tuple(pattern))
    return copied


def _remove(value: Any, pattern: Pattern) -> None:
    segment, rest = pattern[0], pattern[1:]
    if isinstance(value, dict):
        names = list(value) if isinstance(segment, AnyKey) else [segment.name] if isinstance(segment, Key) else []
        for name in names:
            if name not in value:
                continue
            if rest:
                _remove(value[name], rest)
            else:
                del value[name]
    elif isinstance(value, list) and rest:
        if isinstance(segment, AnyItem):
            for item in value:
                _remove(item, rest)
        elif isinstance(segment, Index) and segment.value < len(value):
            _remove(value[segment.value], rest)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)
