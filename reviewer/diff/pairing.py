"""Pairing the resources of base and head by identity: (destination cluster, hook or not, ResourceKey).

A key may be rendered by several apps at one revision (a shared resource, which Argo CD reports as
SharedResourceWarning), and a hook key (its generateName) may repeat inside one app, so each identity
holds a list of entries per side. They are paired, deterministically and symmetrically (swapping the
sides swaps the pairs; the order of the inputs does not matter):

1. app by app: entries of the same app, identical bodies first, then in digest order;
2. the leftovers across apps (moves): identical bodies first, then in (app, digest) order;
3. what is left is added (head only) or removed (base only).

Nearly every identity has at most one entry per side, and then the rules above pair those two
whatever their apps and bodies. Such an identity costs no allocation: the index (`index_resources`)
holds the Resource itself, and `pair_resources` hands over the pairs of two resources of the same
app whose bodies are identical without making anything for them (most resources of a review are
unchanged), judging them all in one loop (`deltas.Identical.differing`). The digest is worked out
only where the order of several entries depends on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..records import Resource
from .deltas import Identical
from .normalise import digest, normalise

Group = tuple[str, bool]  # destination cluster, hook or not
Key = tuple[str, str, str, str]  # the ResourceKey's fields: a tuple hashes and compares in C
Slot = Resource | list["Entry"]  # the one resource of an identity (of the app it names), or its entries
Index = dict[Group, dict[Key, Slot]]


class Entry:
    """One resource of one app at one revision. Its normalised body and that body's digest are worked
    out on first use: most pairs are identical, and need neither."""

    __slots__ = ("_digest", "_normalised", "app", "cluster", "resource")

    def __init__(self, cluster: str, app: str, resource: Resource) -> None:
        self.cluster = cluster
        self.app = app
        self.resource = resource
        self._normalised: dict[str, Any] | None = None
        self._digest: str | None = None

    @property
    def normalised(self) -> dict[str, Any]:
        """The comparable form of the body (normalise.normalise), shallow: shared with the rendered body."""
        if self._normalised is None:
            self._normalised = normalise(self.resource.body)
        return self._normalised

    @property
    def digest(self) -> str:
        if self._digest is None:
            self._digest = digest(self.normalised)
        return self._digest

    @property
    def order(self) -> tuple[str, str]:
        return self.app, self.digest


@dataclass(frozen=True, slots=True)
class Pair:
    """A resource identity's entry at base and at head (None on the side that lacks it)."""

    base: Entry | None
    head: Entry | None
    differ: bool = False  # the bodies are known not to be identical (deltas.identical said no)


def index_resources(apps: Iterable[tuple[str, str, Iterable[Resource]]]) -> Index:
    """The resources of one revision by identity, from (destination cluster, app id, resources) per app.

    An identity's slot is the Resource itself while it is the only one and names the app it is listed
    under (the usual case: nothing allocated), else the list of its entries.

    Speed: every resource of both revisions passes here, so the usual case costs one `setdefault` (one
    hash of the key tuple, in C) and two checks; anything else goes through `_add`."""
    out: Index = {}
    for cluster, app_id, resources in apps:
        plain = out.get((cluster, False))
        if plain is None:
            plain = out[(cluster, False)] = {}
            out[(cluster, True)] = {}
        hooks = out[(cluster, True)]
        put = plain.setdefault
        size = len(plain)
        for resource in resources:
            rkey = resource.key
            key = (rkey.group, rkey.kind, rkey.namespace, rkey.name)
            if resource.hook_phases:
                _add(hooks, key, cluster, app_id, resource)
                continue
            found = put(key, resource)
            if len(plain) == size:  # the identity was there already
                _add(plain, key, cluster, app_id, resource, found)
            else:
                size += 1
                if resource.app != app_id:  # it may not be the slot: see the docstring
                    plain[key] = [Entry(cluster, app_id, resource)]
    return out


def _add(
    by_key: dict[Key, Slot], key: Key, cluster: str, app_id: str, resource: Resource, found: Slot | None = None
) -> None:
    """`resource` added to its identity in `by_key`, whose slot is `found` (looked up if not given)."""
    if found is None:
        found = by_key.get(key)
        if found is None and resource.app == app_id:
            by_key[key] = resource
            return
    entry = Entry(cluster, app_id, resource)
    if found is None:
        by_key[key] = [entry]
    elif isinstance(found, list):
        found.append(entry)
    else:
        by_key[key] = [Entry(cluster, found.app, found), entry]


def _match(base: list[Entry], head: list[Entry], pairs: list[Pair]) -> tuple[list[Entry], list[Entry]]:
    """Pair identical digests, then the rest in order; returns the unpaired leftovers of each side."""
    base, head = sorted(base, key=lambda e: e.order), sorted(head, key=lambda e: e.order)
    by_digest: dict[str, list[Entry]] = defaultdict(list)
    for entry in head:
        by_digest[entry.digest].append(entry)
    rest_base = []
    for entry in base:
        same = by_digest.get(entry.digest)
        if same:
            pairs.append(Pair(entry, same.pop(0)))
        else:
            rest_base.append(entry)
    rest_head = [e for e in head if any(e is s for s in by_digest[e.digest])]
    n = min(len(rest_base), len(rest_head))
    pairs.extend(Pair(b, h) for b, h in zip(rest_base[:n], rest_head[:n], strict=True))
    return rest_base[n:], rest_head[n:]


def _pair_group(olds: list[Entry], news: list[Entry]) -> list[Pair]:
    """Every entry of one identity in exactly one pair (see the module doc)."""
    if len(olds) <= 1 and len(news) <= 1:
        # One entry a side pairs whatever the apps and bodies: the same app (step 1), or two apps
        # (step 2, a move); one entry alone is removed or added (step 3).
        return [Pair(olds[0] if olds else None, news[0] if news else None)]
    pairs: list[Pair] = []
    leftover_base: list[Entry] = []
    leftover_head: list[Entry] = []
    for app in sorted({e.app for e in olds} | {e.app for e in news}):
        b, h = _match([e for e in olds if e.app == app], [e for e in news if e.app == app], pairs)
        leftover_base += b
        leftover_head += h
    removed, added = _match(leftover_base, leftover_head, pairs)
    pairs.extend(Pair(e, None) for e in removed)
    pairs.extend(Pair(None, e) for e in added)
    return pairs


def _entries(cluster: str, slot: Slot | None) -> list[Entry]:
    if slot is None:
        return []
    return slot if isinstance(slot, list) else [Entry(cluster, slot.app, slot)]


def pair_resources(olds: Index, news: Index, identical: Identical) -> Iterator[Pair]:
    """Every resource of either side in exactly one pair (see the module doc for the order of pairing),
    except the pairs of one resource a side, of one app, whose bodies are `identical`: nothing is made
    for those. `news` is emptied on the way.

    Pairs of one identity come in pairing order. The pairs of one resource a side, of one app, are
    judged together once their group (cluster, hook or not) has been walked, in one call
    (`Identical.differing`, no Python call per pair), so they come after the group's other pairs."""
    for group, old_keys in olds.items():
        cluster = group[0]
        new_keys = news.pop(group, None) or {}
        take = new_keys.pop
        befores: list[Resource] = []
        afters: list[Resource] = []
        for key, old in old_keys.items():
            new = take(key, None)
            if isinstance(old, list) or isinstance(new, list):
                yield from _pair_group(_entries(cluster, old), _entries(cluster, new))
            elif new is None:  # one entry a side, or none at head: the usual case (see _pair_group)
                yield Pair(Entry(cluster, old.app, old), None)
            elif old.app != new.app:
                yield Pair(Entry(cluster, old.app, old), Entry(cluster, new.app, new))
            else:
                befores.append(old)
                afters.append(new)
        for i in identical.differing([r.body for r in befores], [r.body for r in afters]):
            old, new = befores[i], afters[i]
            yield Pair(Entry(cluster, old.app, old), Entry(cluster, new.app, new), differ=True)
        for new in new_keys.values():
            yield from _pair_group([], _entries(cluster, new))
    for group, new_keys in news.items():
        for new in new_keys.values():
            yield from _pair_group([], _entries(group[0], new))
