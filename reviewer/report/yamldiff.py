"""The unified YAML diff of one change, as `kubectl diff` shows it: keys sorted, Secret values masked."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

import yaml

from ..records import Change, Resource
from .masking import CHANGED_MASK, changed_secret_keys, is_secret_key, masked_body, masked_delta, secret_path

try:
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Dumper = yaml.SafeDumper


class _ReadableDumper(_Dumper):  # type: ignore[misc]
    """Multi-line strings (scripts, config files in ConfigMaps) as `|` blocks, so a diff shows the line
    that changed instead of one long quoted string."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _str)

# Long values stay on one line: folding them would turn a one-word change into a multi-line diff.
_WIDTH = 1_000_000


def _plain(value: Any) -> Any:
    """Plain dicts and lists: a body may be any Mapping, and the safe dumper only knows dict."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def body_lines(body: Mapping[str, Any]) -> list[str]:
    """The body as YAML lines, keys sorted as kubectl prints them (Go marshals maps sorted)."""
    text: str = yaml.dump(
        _plain(body), Dumper=_ReadableDumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=_WIDTH
    )
    return text.splitlines()


def _label(side: str, resource: Resource | None) -> str:
    if resource is None:
        return "/dev/null"
    return f"{side}/{resource.location.file}" if resource.location else side


def resource_diff(change: Change, *, context: int = 3) -> list[str]:
    """Unified diff lines (no line ends) of the base body against the head body, `---`/`+++` first.

    Secret values are masked on both sides; a value that changed reads `<redacted: changed>` at head, so
    the diff names the key without showing either value. Empty when the bodies print the same (a move).
    A report read back from JSON has no bodies (a rendered manifest always has some): its diff is made
    of the field deltas instead (`delta_diff`).
    """
    if any(resource is not None and not resource.body for resource in (change.base, change.head)):
        return delta_diff(change)
    changed = changed_secret_keys(change)
    before = body_lines(masked_body(change.base)) if change.base else []
    after = body_lines(masked_body(change.head, changed)) if change.head else []
    return list(
        difflib.unified_diff(
            before,
            after,
            fromfile=_label("base", change.base),
            tofile=_label("head", change.head),
            n=context,
            lineterm="",
        )
    )


def _value(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, sort_keys=True, default=str)


def delta_diff(change: Change) -> list[str]:
    """The field deltas as diff lines, `-path: before` / `+path: after` (values as JSON, Secret values
    masked): what a report without bodies can still show. Empty when there are no deltas (an addition
    or a removal, whose body only the original run had)."""
    lines = []
    for delta in (masked_delta(change, d) for d in change.deltas):
        if delta.kind == "reordered":
            lines.append(f" {delta.path}: (order changed)")
            continue
        if delta.kind != "added":
            lines.append(f"-{delta.path}: {_value(delta.before)}")
        if delta.kind != "removed":
            # A changed Secret value reads as changed, as in the body diff, without either value.
            secret = is_secret_key(change.key) and delta.kind == "changed" and secret_path(delta.path) is not None
            lines.append(f"+{delta.path}: {_value(CHANGED_MASK if secret else delta.after)}")
    if not lines:
        return []
    return [f"--- {_label('base', change.base)}", f"+++ {_label('head', change.head)}", *lines]
