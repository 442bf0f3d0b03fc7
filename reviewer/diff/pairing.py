"""Pairing the resources of base and head by identity: (destination cluster, hook or not, ResourceKey).

A key may be rendered by several apps at one revision (a shared resource, which Argo CD reports as
SharedResourceWarning), and a hook key (its generateName) may repeat inside one app, so each identity
holds a list of entries per side. They are paired, deterministically and symmetrically (swapping the
sides swaps the pairs; the order of the inputs does not matter):

1. app by app: entries of the same app, identical bodies first, then in digest order;
2. the leftovers across apps (moves): identical bodies first, then in (app, digest) order;
3. what is left is added (head only) or removed (base only).

Nearly every identity has at most one entry per side, and then the rules above pair those two
whatever their bodies: such identities are paired without normalising or hashing anything (the
digest is worked out only where the order of several entries depends on it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..records import Resource
from .normalise import digest, normalise

Identity = tuple[str, bool, str, str, str, str]  # cluster, hook, group, kind, namespace, name


class Entry:
    """One resource of one app at one revision. Its normalised body and that body's digest are worked
    out on first use: most pairs are identical, and need neither."""

    __slots__ = ("_digest", "_normalised", "app", "cluster", "identity", "resource")

    def __init__(self, cluster: str, app: str, resource: Resource) -> None:
        self.cluster = cluster
        self.app = app
        self.resource = resource
        key = resource.key
        self.identity: Identity = (cluster, bool(resource.hook_phases), key.group, key.kind, key.namespace, key.name)
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


def _pair_group(olds: list[Entry], news: list[Entry], pairs: list[Pair]) -> None:
    """Every entry of one identity in exactly one pair (see the module doc)."""
    if len(olds) <= 1 and len(news) <= 1:
        # One entry a side pairs whatever the apps and bodies: the same app (step 1), or two apps
        # (step 2, a move); one entry alone is removed or added (step 3).
        pairs.append(Pair(olds[0] if olds else None, news[0] if news else None))
        return
    leftover_base: list[Entry] = []
    leftover_head: list[Entry] = []
    for app in sorted({e.app for e in olds} | {e.app for e in news}):
        b, h = _match([e for e in olds if e.app == app], [e for e in news if e.app == app], pairs)
        leftover_base += b
        leftover_head += h
    removed, added = _match(leftover_base, leftover_head, pairs)
    pairs.extend(Pair(e, None) for e in removed)
    pairs.extend(Pair(None, e) for e in added)


def _by_identity(entries: Iterable[Entry]) -> dict[Identity, Entry | list[Entry]]:
    """Entries by identity: the entry itself while it is the only one (no list to allocate), else a list."""
    out: dict[Identity, Entry | list[Entry]] = {}
    for entry in entries:
        found = out.get(entry.identity)
        if found is None:
            out[entry.identity] = entry
        elif isinstance(found, list):
            found.append(entry)
        else:
            out[entry.identity] = [found, entry]
    return out


def _listed(found: Entry | list[Entry] | None) -> list[Entry]:
    return [] if found is None else found if isinstance(found, list) else [found]


def pair_resources(base: Iterable[Entry], head: Iterable[Entry]) -> list[Pair]:
    """Every resource of either side in exactly one pair (see the module doc for the order of pairing).

    Pairs of one identity come in pairing order; identities come in the order they were first seen."""
    olds, news = _by_identity(base), _by_identity(head)
    pairs: list[Pair] = []
    for identity, old in olds.items():
        new = news.pop(identity, None)
        if isinstance(old, Entry) and not isinstance(new, list):  # the usual case (see _pair_group)
            pairs.append(Pair(old, new))
        else:
            _pair_group(_listed(old), _listed(new), pairs)
    for new in news.values():
        if isinstance(new, Entry):
            pairs.append(Pair(None, new))
        else:
            _pair_group([], new, pairs)
    return pairs
