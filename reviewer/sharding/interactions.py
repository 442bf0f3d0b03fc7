"""Which apps of a sharded review interact: where what the rules say about one app depends on another
app's renders, so the two must be judged in one review for the result to equal the unsharded one.

The rules look across apps in these ways, and only these (reviewer.policies.context says so to whoever
adds a rule):

- pairing (the diff stage): a resource identity (cluster, hook or not, key) that changes in two apps
  is paired across them: a move, or a resource shared by two apps;
- sync-order: a Namespace or CRD one app adds is needed by a resource another app adds, or was already
  needed by another app's base render (then it existed before, and nothing is reported);
- immutable-field: the CRDs rendered by one app declare immutable fields of a kind another app modifies;
- cascade-deletion, move-between-apps: an app gone at head is judged by its parent chain's renders.

Each shard records, for each of its apps, the facts the first one cannot see in its report's changes
(`AppFacts`); `merge` joins the apps that interact (`coupled_apps`) and re-reviews together every group
of them that spans more than one shard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..diff.clusters import destination_cluster
from ..policies.immutable_table import crd_table, crds_of
from ..policies.sync_order import needs_of, provides
from ..records import App, Change
from ..review import Rendered

Kind = tuple[str, str]


@dataclass(frozen=True, slots=True)
class AppFacts:
    """What other apps' rules may read of one app, beyond its changes."""

    cluster: str | None  # its destination cluster at base (None: not at base)
    namespaces: tuple[str, ...] = ()  # namespaces its base render puts resources in
    kinds: tuple[Kind, ...] = ()  # (group, kind) of its base render's resources
    immutable_kinds: tuple[Kind, ...] = ()  # kinds whose fields the CRDs it renders make immutable
    parents: tuple[str, ...] = ()  # gone at head: its parent chain at base

    def document(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "namespaces": list(self.namespaces),
            "kinds": [list(kind) for kind in self.kinds],
            "immutableKinds": [list(kind) for kind in self.immutable_kinds],
            "parents": list(self.parents),
        }


def parent_chain(app_id: str, base_apps: Mapping[str, App], head_apps: Mapping[str, App]) -> tuple[str, ...]:
    """The parents of an app at base, nearest first (app of apps, or the app rendering its ApplicationSet)."""
    chain: list[str] = []
    app = base_apps.get(app_id)
    parent = app.parent if app is not None else None
    while parent and parent != app_id and parent not in chain:
        chain.append(parent)
        up = base_apps.get(parent) or head_apps.get(parent)
        parent = up.parent if up is not None else None
    return tuple(chain)


def app_facts(rendered: Rendered, apps: Iterable[str]) -> dict[str, AppFacts]:
    """The facts of the apps a shard rendered."""
    out = {}
    for app_id in sorted(apps):
        base_app = rendered.base_apps.get(app_id)
        base = rendered.base.get(app_id)
        namespaces: set[str] = set()
        kinds: set[Kind] = set()
        if base is not None:
            for resource in (*base.resources, *base.hooks):
                kinds.add((resource.key.group, resource.key.kind))
                if resource.key.namespace:
                    namespaces.add(resource.key.namespace)
        renders = [r for r in (base, rendered.head.get(app_id)) if r is not None]
        table = crd_table(crds_of((*r.resources, *r.hooks) for r in renders))
        gone = app_id in rendered.base_apps and app_id not in rendered.head_apps
        out[app_id] = AppFacts(
            cluster=destination_cluster(base_app, rendered.config) if base_app is not None else None,
            namespaces=tuple(sorted(namespaces)),
            kinds=tuple(sorted(kinds)),
            immutable_kinds=tuple(sorted({(rule.group, rule.kind) for rule in table.rules})),
            parents=parent_chain(app_id, rendered.base_apps, rendered.head_apps) if gone else (),
        )
    return out


@dataclass(frozen=True, slots=True)
class Reviewed:
    """What one shard reviewed: its apps, their changes and their facts."""

    apps: frozenset[str]
    changes: tuple[Change, ...]
    facts: Mapping[str, AppFacts]


class _Groups:
    """Union-find over app ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, app: str) -> str:
        self.parent.setdefault(app, app)
        while self.parent[app] != app:
            self.parent[app] = self.parent[self.parent[app]]
            app = self.parent[app]
        return app

    def join(self, apps: Iterable[str]) -> None:
        roots = sorted({self.find(app) for app in apps})
        for root in roots[1:]:
            self.parent[root] = roots[0]


def _edges(shards: Sequence[Reviewed]) -> Iterable[set[str]]:
    """Sets of apps that interact (see the module doc)."""
    changes = [change for shard in shards for change in shard.changes]
    facts = {app: fact for shard in shards for app, fact in shard.facts.items()}
    by_identity: dict[tuple[str, bool, Any], set[str]] = {}
    added_needs: dict[tuple[str, Any], set[str]] = {}
    definers: dict[Kind, set[str]] = {}
    base_needs: dict[tuple[str, Any], set[str]] = {}
    for change in changes:
        sides = {side.app for side in (change.base, change.head) if side is not None}
        by_identity.setdefault((change.cluster, change.hook, change.key), set()).update(sides)
        if change.type == "added" and change.head is not None:
            for need in needs_of(change.head, change.cluster):
                added_needs.setdefault(need, set()).add(change.app)
    for app, fact in facts.items():
        for kind in fact.immutable_kinds:
            definers.setdefault(kind, set()).add(app)
        if fact.cluster is not None:
            for what in (*fact.namespaces, *fact.kinds):
                base_needs.setdefault((fact.cluster, what), set()).add(app)
        yield {app, *fact.parents}
    yield from by_identity.values()
    for change in changes:
        provided = provides(change)
        if provided is not None:
            place = (change.cluster, provided)
            yield {change.app} | added_needs.get(place, set()) | base_needs.get(place, set())
        if change.type in ("modified", "moved") and not change.hook and change.deltas:
            yield {change.app} | definers.get((change.key.group, change.key.kind), set())


def coupled_apps(shards: Sequence[Reviewed]) -> frozenset[str]:
    """The apps whose results depend on apps another shard reviewed: every group of interacting apps
    (joined transitively) that spans more than one shard."""
    owner = {app: i for i, shard in enumerate(shards) for app in shard.apps}
    groups = _Groups()
    for apps in _edges(shards):
        groups.join(a for a in apps if a in owner)
    members: dict[str, set[str]] = {}
    for app in owner:
        members.setdefault(groups.find(app), set()).add(app)
    return frozenset(app for group in members.values() if len({owner[a] for a in group}) > 1 for app in group)
