"""From the renders of base and head to the change set (DESIGN.md, "Diff")."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from ..config import Config
from ..records import App, Change, FieldDelta, RenderResult, Resource, ResourceKey
from .clusters import destination_cluster
from .deltas import RawDelta, body_deltas
from .ignore import IgnoreRule, covered, parse_rules, strip
from .normalise import digest, normalise, plain
from .pairing import Entry, Pair, pair_resources
from .paths import format_path, sort_key
from .secrets import changed_keys, masked_body, secret_deltas

Renders = Mapping[str, tuple[App, RenderResult]]


def _entries(renders: Renders, skipped: set[str], config: Config) -> Iterator[Entry]:
    for app_id, (app, result) in renders.items():
        if app_id in skipped:
            continue
        cluster = destination_cluster(app, config)
        for resource in (*result.resources, *result.hooks):
            body = normalise(resource.body)
            yield Entry(cluster, app_id, resource, body, digest(body))


def _is_secret(key: ResourceKey) -> bool:
    """By key, not by body: whichever apiVersion a side claims, a core Secret's values stay masked."""
    return key.group == "" and key.kind == "Secret"


def _raw_deltas(key: ResourceKey, before: dict[str, Any], after: dict[str, Any]) -> list[RawDelta]:
    deltas = secret_deltas(before, after) if _is_secret(key) else body_deltas(key.kind, before, after)
    return sorted(deltas, key=lambda d: sort_key(d.path))


def _field_deltas(
    key: ResourceKey, raw: list[RawDelta], bodies: tuple[dict[str, Any], dict[str, Any]], rules: tuple[IgnoreRule, ...]
) -> tuple[FieldDelta, ...]:
    matching = [rule for rule in rules if rule.matches(key)]
    if matching and raw:
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


def _rules(app: App, config: Config) -> tuple[IgnoreRule, ...]:
    return parse_rules(app.ignore_differences) + parse_rules(config.diff_ignore)


def _change(pair: Pair, head: Renders, config: Config) -> Change | None:
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
    if pair.base.digest == pair.head.digest and not moved:
        return None
    key = pair.head.resource.key
    bodies = plain(pair.base.normalised), plain(pair.head.normalised)
    raw = [] if pair.base.digest == pair.head.digest else _raw_deltas(key, *bodies)
    if not raw and not moved:
        return None
    changed = changed_keys(raw)
    return Change(
        key=pair.head.resource.key,
        type="moved" if moved else "modified",
        cluster=pair.head.cluster,
        base=_shown(pair.base, changed, head=False),
        head=_shown(pair.head, changed, head=True),
        deltas=_field_deltas(key, raw, bodies, _rules(head[pair.head.app][0], config)),
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
    pairs = pair_resources(_entries(base, skipped, config), _entries(head, skipped, config))
    changes = [c for c in (_change(p, head, config) for p in pairs) if c is not None]
    return tuple(sorted(changes, key=lambda c: (c.app, c.key, c.hook, c.cluster, c.type)))
