"""Field-level deltas between two normalised bodies, by our own recursive walk (smaller and faster than
a generic deep diff, and it knows Kubernetes' list keys and quantities).

- Maps: a key on one side only is one `added`/`removed` delta with the whole value; keys in both are
  walked into.
- Lists Kubernetes merges by key (`merge_keys`): items are paired by key. An item on one side only is
  `added`/`removed` at `containers[name=sidecar]`; a paired item is walked into; a change in the order
  of the paired items is ONE `reordered` delta at the list's path, whose before/after are the key
  lists (it still matters: a reordered container list rolls the pods).
- Other lists: by index (`args[2]`), extra items `added`/`removed`.
- Scalars: equal if of the same JSON type and value (`1` is not `"1"`, `true` is not `1`), or, at a
  field Kubernetes types as a quantity, of the same quantity value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .merge_keys import keyed_items
from .paths import Path, Segment, sort_key
from .quantities import is_quantity_field, same_quantity


@dataclass(frozen=True, slots=True)
class RawDelta:
    """A delta before it is printed, marked ignored or masked."""

    path: Path
    before: Any = None
    after: Any = None
    kind: str = "changed"  # changed | added | removed | reordered


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def same_scalar(kind: str, path: Path, before: Any, after: Any) -> bool:
    if _json_type(before) == _json_type(after) and before == after:
        return True
    return is_quantity_field(kind, path) and same_quantity(before, after)


def _list_name(path: Path) -> str | None:
    return path[-1] if path and isinstance(path[-1], str) else None


def _walk(kind: str, path: Path, before: Any, after: Any, out: list[RawDelta]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after), key=str):
            if key not in after:
                out.append(RawDelta((*path, key), before[key], None, "removed"))
            elif key not in before:
                out.append(RawDelta((*path, key), None, after[key], "added"))
            else:
                _walk(kind, (*path, key), before[key], after[key], out)
    elif _is_list(before) and _is_list(after):
        keyed = keyed_items(_list_name(path), before, after)
        if keyed is None:
            _walk_by_index(kind, path, before, after, out)
        else:
            _walk_by_key(kind, path, before, after, *keyed, out)
    elif not same_scalar(kind, path, before, after):
        out.append(RawDelta(path, before, after, "changed"))


def _walk_by_index(kind: str, path: Path, before: Sequence[Any], after: Sequence[Any], out: list[RawDelta]) -> None:
    for i in range(max(len(before), len(after))):
        if i >= len(after):
            out.append(RawDelta((*path, i), before[i], None, "removed"))
        elif i >= len(before):
            out.append(RawDelta((*path, i), None, after[i], "added"))
        else:
            _walk(kind, (*path, i), before[i], after[i], out)


def _walk_by_key(
    kind: str,
    path: Path,
    before: Sequence[Any],
    after: Sequence[Any],
    before_keys: list[Any],
    after_keys: list[Any],
    out: list[RawDelta],
) -> None:
    old = dict(zip(before_keys, before, strict=True))
    new = dict(zip(after_keys, after, strict=True))
    if [k for k in before_keys if k in new] != [k for k in after_keys if k in old]:
        out.append(RawDelta(path, [k.summary for k in before_keys], [k.summary for k in after_keys], "reordered"))
    for key in before_keys:
        if key in new:
            _walk(kind, (*path, key), old[key], new[key], out)
        else:
            out.append(RawDelta((*path, key), old[key], None, "removed"))
    for key in after_keys:
        if key not in old:
            out.append(RawDelta((*path, key), None, new[key], "added"))


def body_deltas(kind: str, before: Any, after: Any, path: tuple[Segment, ...] = ()) -> list[RawDelta]:
    """Every difference between two normalised values of an object of `kind`, sorted by path."""
    out: list[RawDelta] = []
    _walk(kind, path, before, after, out)
    return sorted(out, key=lambda d: sort_key(d.path))


def same_value(kind: str, path: Path, before: Any, after: Any) -> bool:
    """No difference between two values at `path` (used to tell ignored deltas)."""
    out: list[RawDelta] = []
    _walk(kind, path, before, after, out)
    return not out
