"""From the renders of base and head to the change set (DESIGN.md, "Diff").

Compare cheaply first: most resources of a review are unchanged, and for them the stage does no more
than index them, look each up once and find the two bodies identical (`identical`: one object when
both came from the render cache with the same text, else one C-speed serialisation of each body),
allocating nothing per pair (pairing). Only the pairs that differ are normalised, walked for field
deltas and matched against ignore rules.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from ..collector import collector_paused
from ..config import Config
from ..records import App, Change, FieldDelta, RenderResult, Resource, ResourceKey
from .clusters import destination_cluster
from .deltas import RawDelta, body_deltas, identical
from .ignore import IgnoreRule, covered, parse_rules, strip
from .jsonshape import plain
from .pairing import Entry, Index, Pair, index_resources, pair_resources
from .paths import format_path, sort_key
from .secrets import changed_keys, masked_body, secret_deltas

Renders = Mapping[str, tuple[App, RenderResult]]


def _index(renders: Renders, skipped: set[str], config: Config) -> Index:
    return index_resources(
        (destination_cluster(app, config), app_id, (*result.resources, *result.hooks))
        for app_id, (app, result) in renders.items()
        if app_id not in skipped
    )


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    except TypeError:  # keys of mixed types
        return json.dumps(plain(value), sort_keys=True, default=str, ensure_ascii=False)


def _shows_in_json(delta: RawDelta) -> bool:
    """The delta changes the canonical JSON the digest hashes (normalise.digest). Only a `changed`
    value whose JSON reads the same (a masked Secret value, a type JSON writes as a string) may not.
    Two strings, or two ints, JSON writes alike only when they are equal: no need to write them."""
    if delta.kind != "changed":
        return True
    before, after = delta.before, delta.after
    kind = type(before)
    if kind is type(after) and (kind is str or kind is int):
        return bool(before != after)
    return _json_text(before) != _json_text(after)


def _is_secret(key: ResourceKey) -> bool:
    """By key, not by body: whichever apiVersion a side claims, a core Secret's values stay masked."""
    return key.group == "" and key.kind == "Secret"


def _field_deltas(
    key: ResourceKey, raw: list[RawDelta], pair: tuple[Entry, Entry], rules: tuple[IgnoreRule, ...]
) -> tuple[FieldDelta, ...]:
    matching = [rule for rule in rules if rule.matches(key)]
    if matching and raw:
        bodies = plain(pair[0].normalised), plain(pair[1].normalised)
        base, head = strip(bodies[0], matching), strip(bodies[1], matching)
        ignored = [covered(key.kind, d, base, head) for d in raw]
    else:
        ignored = [False] * len(raw)
    return tuple(
        FieldDelta(format_path(d.path), d.before, d.after, d.kind, flag) for d, flag in zip(raw, ignored, strict=True)
    )


def _shown(entry: Entry, changed: set[str], *, head: bool) -> Resource:
    """The resource as the Change carries it: as rendered, except a Secret, masked (secrets module)."""
    if not _is_secret(entry.resource.key):
        return entry.resource
    return dataclasses.replace(entry.resource, body=masked_body(entry.normalised, changed, head=head))


class _IgnoreRules:
    """The ignore rules of each head app (its ignoreDifferences plus the config's), parsed once per app."""

    def __init__(self, head: Renders, config: Config) -> None:
        self.head = head
        self.config_rules = parse_rules(config.diff_ignore)
        self.by_app: dict[str, tuple[IgnoreRule, ...]] = {}

    def __call__(self, app_id: str) -> tuple[IgnoreRule, ...]:
        rules = self.by_app.get(app_id)
        if rules is None:
            rules = self.by_app[app_id] = parse_rules(self.head[app_id][0].ignore_differences) + self.config_rules
        return rules


def _deltas(base: Entry, head: Entry, key: ResourceKey) -> list[RawDelta]:
    """The field deltas of two bodies that may differ, sorted by path.

    Equal digests mean no delta (normalise.digest): deltas are walked first, and the digests are
    compared only when every delta found is invisible to them."""
    if _is_secret(key):
        raw = secret_deltas(plain(base.normalised), plain(head.normalised))
        raw.sort(key=lambda d: sort_key(d.path))
    else:
        raw = body_deltas(key.kind, base.normalised, head.normalised)  # sorted
    if raw and not any(_shows_in_json(d) for d in raw) and base.digest == head.digest:
        return []
    return raw


def _change(pair: Pair, rules: _IgnoreRules) -> Change | None:
    if pair.base is None or pair.head is None:
        entry = pair.head or pair.base
        assert entry is not None
        shown = _shown(entry, set(), head=False)
        return Change(
            key=entry.resource.key,
            type="added" if pair.head else "removed",
            cluster=entry.cluster,
            base=None if pair.head else shown,
            head=shown if pair.head else None,
            hook=entry.resource.is_hook,
        )
    moved = pair.base.app != pair.head.app
    key = pair.head.resource.key
    if not pair.differ and identical(pair.base.resource.body, pair.head.resource.body):
        if not moved:
            return None
        raw: list[RawDelta] = []
        deltas: tuple[FieldDelta, ...] = ()
    else:
        raw = _deltas(pair.base, pair.head, key)
        if not raw and not moved:
            return None
        deltas = _field_deltas(key, raw, (pair.base, pair.head), rules(pair.head.app)) if raw else ()
    changed = changed_keys(raw) if _is_secret(key) else set()  # only a Secret is masked (_shown)
    return Change(
        key=key,
        type="moved" if moved else "modified",
        cluster=pair.head.cluster,
        base=_shown(pair.base, changed, head=False),
        head=_shown(pair.head, changed, head=True),
        deltas=deltas,
        hook=pair.head.resource.is_hook,
    )


def diff_renders(base: Renders, head: Renders, *, config: Config) -> tuple[Change, ...]:
    """The change set between the renders of base and head (app id -> (App, its RenderResult)).

    Resources are paired across all apps by (destination cluster, ResourceKey), hooks separately
    from desired-state resources (a hook's key is its name, or its generateName): same app on both
    sides and a different normalised body is `modified` (with field deltas); the key in another app
    at head is `moved` (with deltas if the body changed too); otherwise `added` or `removed`. Where a
    resource was written (file, line) is not compared, so moving it between files of one app is no
    change. Hooks give Changes with `hook=True`. Deltas covered by ignoreDifferences (the head app's,
    plus the config's `diff.ignore`) are kept, marked ignored. Secret values are masked everywhere.

    An app whose render failed at either revision has its resources left out on BOTH sides: a failed
    render must not read as "everything removed" (or added). The caller reports the render error and
    the verdict fails closed on it; meanwhile a resource moving to or from such an app shows as added
    to or removed from the other app, which is what that app does if it syncs on its own.

    Sorted by app (head's, else base's), then key.
    """
    skipped = {app_id for side in (base, head) for app_id, (_, result) in side.items() if result.errors}
    with collector_paused():  # no cycles made here (reviewer.collector)
        pairs = pair_resources(_index(base, skipped, config), _index(head, skipped, config), identical)
        rules = _IgnoreRules(head, config)
        changes = [c for c in (_change(p, rules) for p in pairs) if c is not None]
        return tuple(sorted(changes, key=lambda c: (c.app, c.key, c.hook, c.cluster, c.type)))
