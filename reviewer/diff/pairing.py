"""Pairing the resources of base and head by identity: (destination cluster, hook or not, ResourceKey).

A key may be rendered by several apps at one revision (a shared resource, which Argo CD reports as
SharedResourceWarning), and a hook key (its generateName) may repeat inside one app, so each identity
holds a list of entries per side. They are paired, deterministically and symmetrically (swapping the
sides swaps the pairs; the order of the inputs does not matter):

1. app by app: entries of the same app, identical bodies first, then in digest order;
2. the leftovers across apps (moves): identical bodies first, then in (app, digest) order;
3. what is left is added (head only) or removed (base only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..records import Resource, ResourceKey


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource of one app at one revision, with its normalised body and that body's digest."""

    cluster: str
    app: str
    resource: Resource
    normalised: dict[str, Any] = field(compare=False, repr=False)
    digest: str

    @property
    def identity(self) -> tuple[str, bool, ResourceKey]:
        return self.cluster, self.resource.is_hook, self.resource.key

    @property
    def order(self) -> tuple[str, str]:
        return self.app, self.digest


@dataclass(frozen=True, slots=True)
class Pair:
    base: Entry | None
    head: Entry | None


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


def _group(entries: Iterable[Entry]) -> dict[tuple[str, bool, ResourceKey], list[Entry]]:
    groups: dict[tuple[str, bool, ResourceKey], list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[entry.identity].append(entry)
    return groups


def pair_resources(base: Iterable[Entry], head: Iterable[Entry]) -> list[Pair]:
    """Every resource of either side in exactly one pair (see the module doc for the order of pairing)."""
    base_groups, head_groups = _group(base), _group(head)
    pairs: list[Pair] = []
    for identity in sorted(set(base_groups) | set(head_groups)):
        olds, news = base_groups.get(identity, []), head_groups.get(identity, [])
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
