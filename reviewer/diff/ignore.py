"""ignoreDifferences: the Application's `spec.ignoreDifferences` and the config's `diff.ignore`.

Argo CD (util/argo/normalizers/diff_normalizer.go) removes the ignored fields from both sides before
comparing. Here ignored fields do not hide anything: a delta they cover is kept with `ignored=True`,
so rules still see, say, replicas going to 0 under an HPA (Argo CD reports such an app Synced; the
corpus README lesson). A delta is covered when, once the ignored fields are removed from both bodies,
the two agree at its path.

Matching, as Argo CD's `ignoreNormalizer.Normalize`: `group` and `kind` are gobwas globs (`*` for
any; an omitted group is the core group, an omitted kind matches nothing), `name` and `namespace`
match exactly when set. Removal, as Argo CD's patches, in rule order:

- `jsonPointers`: RFC 6901 (`~1` is `/`, `~0` is `~`), an RFC 6902 `remove`; a pointer to nothing
  removes nothing.
- `jqPathExpressions`: evaluated as `del(<expression>)` with libjq (the `jq` package; Argo CD uses
  gojq). An expression that does not compile, fails, or does not yield exactly one object is
  skipped, which leaves its fields compared (never hidden). Argo CD's 1 s jq timeout is not
  reproduced: the expression runs to completion.
- `managedFieldsManagers`: needs the live object's managedFields; not applicable offline (no-op).

After any rule matched, empty maps and lists are removed from the whole body (`removeEmptyObjects`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..globs import gobwas_match
from ..records import ResourceKey
from .deltas import RawDelta, same_value
from .merge_keys import find_item
from .paths import ItemKey, Path


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """One `ignoreDifferences` entry: which resources, and the fields it removes from them."""

    group: str
    kind: str
    name: str
    namespace: str
    json_pointers: tuple[str, ...]
    jq_paths: tuple[str, ...]

    def matches(self, key: ResourceKey) -> bool:
        """Whether the rule removes anything from this resource (a rule with only
        managedFieldsManagers makes no patch in Argo CD, so it does not match either)."""
        return (
            bool(self.json_pointers or self.jq_paths)
            and gobwas_match(self.group, key.group)
            and gobwas_match(self.kind, key.kind)
            and self.name in ("", key.name)
            and self.namespace in ("", key.namespace)
        )


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def parse_rules(entries: Iterable[Mapping[str, Any]]) -> tuple[IgnoreRule, ...]:
    """Rules from `ignoreDifferences` entries (malformed fields are treated as absent)."""
    return tuple(
        IgnoreRule(
            group=str(e.get("group") or ""),
            kind=str(e.get("kind") or ""),
            name=str(e.get("name") or ""),
            namespace=str(e.get("namespace") or ""),
            json_pointers=_strings(e.get("jsonPointers")),
            jq_paths=_strings(e.get("jqPathExpressions")),
        )
        for e in entries
    )


_INDEX = re.compile(r"0|[1-9][0-9]*")  # RFC 6901 array-index: no leading zeros


def remove_pointer(doc: Any, pointer: str) -> None:
    """RFC 6902 `remove` of an RFC 6901 pointer, in place; a pointer to nothing removes nothing."""
    if not pointer.startswith("/"):
        return
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
    parent = doc
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(parent, dict):
            if part not in parent:
                return
            if last:
                del parent[part]
                return
            parent = parent[part]
        elif isinstance(parent, list):
            if not _INDEX.fullmatch(part) or int(part) >= len(parent):
                return
            if last:
                del parent[int(part)]
                return
            parent = parent[int(part)]
        else:
            return


@lru_cache(maxsize=1024)
def _jq_deletion(expression: str) -> Any:
    import jq  # imported on first use: most reviews have no jqPathExpressions

    try:
        return jq.compile(f"del({expression})")
    except ValueError:
        return None


def apply_jq(doc: dict[str, Any], expression: str) -> dict[str, Any]:
    """`del(<expression>)` on `doc`; `doc` itself when the expression is skipped (see module doc)."""
    program = _jq_deletion(expression)
    if program is None:
        return doc
    try:
        results = program.input_value(doc).all()
    except (ValueError, TypeError):
        return doc
    return results[0] if len(results) == 1 and isinstance(results[0], dict) else doc


def remove_empty(obj: dict[str, Any]) -> None:
    """Argo CD's removeEmptyObjects: empty maps and lists go, recursively (empty maps inside lists too)."""
    for key in list(obj):
        value = obj[key]
        if isinstance(value, dict):
            remove_empty(value)
            if not value:
                del obj[key]
        elif isinstance(value, list):
            kept = []
            for item in value:
                if isinstance(item, dict):
                    remove_empty(item)
                    if not item:
                        continue
                kept.append(item)
            if kept:
                obj[key] = kept
            else:
                del obj[key]


def strip(body: Mapping[str, Any], rules: Sequence[IgnoreRule]) -> dict[str, Any]:
    """A copy of a normalised body without the fields the (matching) rules ignore."""
    doc: dict[str, Any] = copy.deepcopy(dict(body))
    for rule in rules:
        for pointer in rule.json_pointers:
            remove_pointer(doc, pointer)
        for expression in rule.jq_paths:
            doc = apply_jq(doc, expression)
    remove_empty(doc)
    return doc


_MISSING = object()


def lookup(doc: Any, path: Path) -> Any:
    """The value at a delta's path, or _MISSING."""
    value = doc
    for i, segment in enumerate(path):
        if isinstance(segment, ItemKey):
            prev = path[i - 1] if i else None
            item = (
                find_item(prev if isinstance(prev, str) else None, value, segment) if isinstance(value, list) else None
            )
            if item is None:
                return _MISSING
            value = item
        elif isinstance(segment, int):
            if not isinstance(value, list) or segment >= len(value):
                return _MISSING
            value = value[segment]
        else:
            if not isinstance(value, dict) or segment not in value:
                return _MISSING
            value = value[segment]
    return value


def covered(kind: str, delta: RawDelta, base: Mapping[str, Any], head: Mapping[str, Any]) -> bool:
    """Whether the stripped bodies agree at the delta's path (both lack it, or hold the same value)."""
    before, after = lookup(base, delta.path), lookup(head, delta.path)
    if before is _MISSING or after is _MISSING:
        return before is after
    return same_value(kind, delta.path, before, after)
