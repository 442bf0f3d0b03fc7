"""Field-level deltas between two normalised bodies, by our own recursive walk (smaller and faster than
a generic deep diff, and it knows Kubernetes' list keys and quantities).

- Maps: a key on one side only is one `added`/`removed` delta with the whole value; keys in both are
  walked into.
- Lists Kubernetes merges by key (`merge_keys`): items are paired by key. An item on one side only is
  `added`/`removed` at `containers[name=sidecar]`; a paired item is walked into; a change in the order
  of the paired items is ONE `reordered` delta at the list's path, whose before/after are the key
  lists (it still matters: a reordered container list rolls the pods).
- Other lists: by index (`args[2]`), extra items `added`/`removed`.
- Scalars: equal if of the same JSON type and value (`1` is not `"1"`, `true` is not `1`; NaN is NaN,
  as in the JSON the digest hashes), or, at a field Kubernetes types as a quantity, of the same
  quantity value.

The walk takes normalised bodies as they are and sees them in their JSON shape (`jsonshape`: string
keys, no null values) level by level, as it goes; the values in deltas are in that shape too.

Speed: a changed resource usually differs in a field or two, so the walk skips every subtree that is
`identical` on both sides (C-speed comparisons and serialisations) instead of converting and
walking it node by node, and tells types apart by exact type before it falls back to the abstract
Mapping/Sequence checks.
"""

from __future__ import annotations

import marshal
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .jsonshape import plain, plain_map
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


# After marshal's current format told an equal pair apart, this many comparisons go straight to format 2.
RETRY_AFTER = 32


class Identical:
    """Whether two values are the same, value for value and type for type (`true` is not `1`), by
    C-speed serialisations: never wrong when it says yes. No for anything marshal does not know (not
    a tree of plain dicts, lists and scalars): callers then compare the slow way.

    Marshal's current format is the fastest, but it also records which strings are interned and which
    objects are referenced twice, so two equal values from different sources (a cache entry and a
    fresh parse, or objects built in code) can serialise differently. Then format 2, which records
    values and types only, decides (after Python's `==`, which answers a differing pair at its first
    difference but does not tell `true` from `1`). Both ways answer alike; they differ in cost only.
    Values of one review mostly come from one kind of source, so once the current format failed on an
    equal pair, the next RETRY_AFTER comparisons go straight to format 2, then it is tried again. The
    state is only that choice: either way a yes means equal JSON values of equal JSON types. (They
    may differ on a NaN, which format 2 reads as the same bits and `==` as unequal to another NaN;
    a no leaves it to the walk, which finds no delta there either.)"""

    __slots__ = ("_skip",)

    def __init__(self) -> None:
        self._skip = 0

    def __call__(self, before: Any, after: Any) -> bool:
        return not self.differing((before,), (after,))

    def differing(self, befores: Sequence[Any], afters: Sequence[Any]) -> list[int]:
        """The positions of the pairs (befores[i], afters[i]) that are not identical: the answers, and
        the state after, of one call per pair in order, without the cost of a Python call per pair (the
        diff asks this of every resource of a review that has one entry a side)."""
        out: list[int] = []
        dumps = marshal.dumps
        skip = self._skip
        for i, (before, after) in enumerate(zip(befores, afters, strict=True)):
            if before is after:
                continue
            try:
                if skip:
                    skip -= 1
                    if dumps(before, 2) != dumps(after, 2):
                        out.append(i)
                elif dumps(before) == dumps(after):
                    pass
                elif before == after and dumps(before, 2) == dumps(after, 2):
                    skip = RETRY_AFTER
                else:
                    out.append(i)
            except ValueError:  # not a tree of plain dicts, lists and scalars
                out.append(i)
        self._skip = skip
        return out


identical = Identical()


def _unchanged(before: Any, after: Any) -> bool:
    """A quick yes for two values without any delta between them (no means: walk them)."""
    if before is after:
        return True
    kind = type(before)
    if kind is not type(after):
        return False
    if kind is str or kind is int or kind is bool:
        return bool(before == after)
    if kind is dict or kind is list:  # `==` first: most subtrees the walk compares differ
        return bool(before == after) and identical(before, after)
    return False


def _is_list(value: Any) -> bool:
    kind = type(value)
    if kind is list:
        return True
    if kind is dict or kind is str:
        return False
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _is_map(value: Any) -> bool:
    kind = type(value)
    return kind is dict or (kind is not list and kind is not str and isinstance(value, Mapping))


def _json_type(value: Any) -> str:
    kind = type(value)
    if kind is bool:
        return "bool"
    if kind is int or kind is float:
        return "number"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return kind.__name__


def _nan(value: Any) -> bool:
    return type(value) is float and math.isnan(value)


def same_scalar(kind: str, path: Path, before: Any, after: Any) -> bool:
    if _json_type(before) == _json_type(after) and (before == after or (_nan(before) and _nan(after))):
        return True
    return is_quantity_field(kind, path) and same_quantity(before, after)


def _list_name(path: Path) -> str | None:
    return path[-1] if path and isinstance(path[-1], str) else None


def _walk(kind: str, path: Path, before: Any, after: Any, out: list[RawDelta]) -> None:
    """Append the deltas between `before` and `after` (at `path`) to `out`, in no particular order."""
    if _is_map(before) and _is_map(after):
        before, after = plain_map(before), plain_map(after)
        for key, value in before.items():
            if key not in after:
                out.append(RawDelta((*path, key), plain(value), None, "removed"))
                continue
            other = after[key]
            if type(value) is str and type(other) is str and value == other:
                continue  # the common case, without a call
            if not _unchanged(value, other):
                _walk(kind, (*path, key), value, other, out)
        for key, value in after.items():
            if key not in before:
                out.append(RawDelta((*path, key), None, plain(value), "added"))
    elif _is_list(before) and _is_list(after):
        keyed = keyed_items(_list_name(path), before, after)
        if keyed is None:
            _walk_by_index(kind, path, before, after, out)
        else:
            _walk_by_key(kind, path, before, after, *keyed, out)
    elif not same_scalar(kind, path, before, after):
        out.append(RawDelta(path, plain(before), plain(after), "changed"))


def _walk_by_index(kind: str, path: Path, before: Sequence[Any], after: Sequence[Any], out: list[RawDelta]) -> None:
    for i in range(max(len(before), len(after))):
        if i >= len(after):
            out.append(RawDelta((*path, i), plain(before[i]), None, "removed"))
        elif i >= len(before):
            out.append(RawDelta((*path, i), None, plain(after[i]), "added"))
        elif not _unchanged(before[i], after[i]):
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
            if not _unchanged(old[key], new[key]):
                _walk(kind, (*path, key), old[key], new[key], out)
        else:
            out.append(RawDelta((*path, key), plain(old[key]), None, "removed"))
    for key in after_keys:
        if key not in old:
            out.append(RawDelta((*path, key), None, plain(new[key]), "added"))


def body_deltas(kind: str, before: Any, after: Any, path: tuple[Segment, ...] = ()) -> list[RawDelta]:
    """Every difference between two normalised values of an object of `kind`, sorted by path (the
    values need not be in their JSON shape: see the module doc)."""
    out: list[RawDelta] = []
    _walk(kind, path, before, after, out)
    if len(out) > 1:
        out.sort(key=lambda d: sort_key(d.path))
    return out


def same_value(kind: str, path: Path, before: Any, after: Any) -> bool:
    """No difference between two values at `path` (used to tell ignored deltas)."""
    out: list[RawDelta] = []
    _walk(kind, path, before, after, out)
    return not out
