"""Which shard reviews which app: a deterministic, balanced partition of the selected apps.

Every shard job computes the partition on its own, from the same inputs (the selection, both
revisions' apps and trees, the base configuration), and must get the same answer: nothing here depends
on the job, the clock, the machine or the order things were listed in.

1. Apps that may trade resources stay together: apps whose destination (cluster and namespace, at
   either revision) is the same form one unit, and an app gone at head joins its parent chain (whose
   renders say what deleting it does). Resources moving between apps of one namespace, the usual
   reorganisation, are then paired in one job. Interactions this does not foresee (a cluster-scoped
   object moving between namespaces, a CRD in one app and its custom resources in another) are found
   and re-reviewed together by `merge` (reviewer.sharding.interactions).
2. Each app's cost is estimated from its inputs: per revision it exists at, a base cost per source by
   where it comes from (a chart from a registry costs a pull and a render), plus the files under its
   source path in this repo (kustomize and Helm work grows with them).
3. Units are dealt out largest first, each to the least loaded shard (lowest index on a tie): the
   longest-processing-time rule, whose busiest shard is within 4/3 of the best possible. A unit bigger
   than a fair share is dealt out app by app instead, so one crowded namespace cannot make one job the
   bottleneck.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..diff.clusters import destination_cluster
from ..errors import UsageError
from ..records import App

ALGORITHM = "cost-balanced/1"  # changes whenever the partition of the same inputs can change
SOURCE_COST = {"repo": 2, "chart": 8, "external": 1, "unresolved": 1}
FILES_PER_COST = 10  # files under a source path that cost as much as one more unit
MAX_FILES = 5000  # counting stops here: a bigger tree costs the same
MAX_SHARDS = 1000

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """`I/N`: the I-th (1-based) of N shards."""

    index: int
    total: int

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        match = _SPEC.match(text)
        if match is None:
            raise UsageError(f"--shard {text!r}: expected I/N, such as 2/4 (the second of four shards)")
        index, total = int(match[1]), int(match[2])
        if not 1 <= total <= MAX_SHARDS:
            raise UsageError(f"--shard {text!r}: the number of shards must be between 1 and {MAX_SHARDS}")
        if not 1 <= index <= total:
            raise UsageError(f"--shard {text!r}: the shard index must be between 1 and {total}")
        return cls(index, total)

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


@dataclass(frozen=True, slots=True)
class Partition:
    """The apps of each shard (index 0 is shard 1), and each shard's estimated cost."""

    shares: tuple[frozenset[str], ...]
    costs: tuple[int, ...]

    @property
    def digest(self) -> str:
        """Identifies the partition: two parts with the same digest come from the same partition."""
        text = json.dumps([ALGORITHM, [sorted(share) for share in self.shares]], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def owner(self, app_id: str) -> int | None:
        """The 1-based shard that reviews `app_id`, None for an app no shard reviews."""
        return next((i for i, share in enumerate(self.shares, start=1) if app_id in share), None)


class _Files:
    """Files under a directory of one tree, counted once per directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.counted: dict[str, int] = {}

    def under(self, rel: str) -> int:
        if rel not in self.counted:
            self.counted[rel] = self._count(rel)
        return self.counted[rel]

    def _count(self, rel: str) -> int:
        directory = (self.root / (rel.strip("/") or ".")).resolve()
        if directory != self.root and self.root not in directory.parents:
            return 0  # outside the repository: rendering refuses it anyway
        count = 0
        for _, dirs, files in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            count += len(files)
            if count >= MAX_FILES:
                return MAX_FILES
        return count


def _side_cost(app: App | None, files: _Files) -> int:
    if app is None:
        return 0
    cost = 1
    for source in app.sources:
        cost += SOURCE_COST.get(source.origin, 1)
        if source.origin == "repo" and source.path is not None:
            cost += files.under(source.path) // FILES_PER_COST
    return cost


class _Units:
    """Union-find over app ids: the units that are dealt out whole."""

    def __init__(self, apps: Sequence[str]) -> None:
        self.parent = {app: app for app in apps}

    def find(self, app: str) -> str:
        while self.parent[app] != app:
            self.parent[app] = self.parent[self.parent[app]]
            app = self.parent[app]
        return app

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the smallest id leads: the result is order-free

    def groups(self) -> list[list[str]]:
        out: dict[str, list[str]] = {}
        for app in sorted(self.parent):
            out.setdefault(self.find(app), []).append(app)
        return list(out.values())


def partition(
    selected: Sequence[str],
    base_apps: Mapping[str, App],
    head_apps: Mapping[str, App],
    base_root: Path,
    head_root: Path,
    config: Config,
    total: int,
) -> Partition:
    """The selected apps dealt out to `total` shards (see the module doc)."""
    apps = sorted(set(selected))
    base_files, head_files = _Files(base_root), _Files(head_root)
    cost = {a: _side_cost(base_apps.get(a), base_files) + _side_cost(head_apps.get(a), head_files) for a in apps}
    units = _Units(apps)
    places: dict[tuple[str, str], str] = {}
    for app_id in apps:
        for app in (base_apps.get(app_id), head_apps.get(app_id)):
            if app is not None:
                place = (destination_cluster(app, config), app.destination.namespace)
                units.join(app_id, places.setdefault(place, app_id))
        if app_id not in head_apps and app_id in base_apps:  # gone at head: with its parent chain
            parent, seen = base_apps[app_id].parent, {app_id}
            while parent and parent not in seen:
                if parent in cost:
                    units.join(app_id, parent)
                seen.add(parent)
                up = base_apps.get(parent) or head_apps.get(parent)
                parent = up.parent if up is not None else None
    fair = -(-sum(cost.values()) // total) if apps else 0
    dealt: list[list[str]] = []
    for group in units.groups():
        if len(group) > 1 and sum(cost[a] for a in group) > fair:
            dealt.extend([a] for a in group)
        else:
            dealt.append(group)
    dealt.sort(key=lambda group: (-sum(cost[a] for a in group), group[0]))
    shares: list[set[str]] = [set() for _ in range(total)]
    loads = [0] * total
    for group in dealt:
        target = min(range(total), key=lambda i: (loads[i], i))
        shares[target].update(group)
        loads[target] += sum(cost[a] for a in group)
    return Partition(tuple(frozenset(share) for share in shares), tuple(loads))
