"""What a rule sees: the changes, both revisions' apps and renders, and Argo CD facts about them.

A review can hold 100,000 resources and thousands of changes: rules look changes and resources up
through the indexes here (built once, on first use) rather than scanning every change for every
change. A rule that needs another lookup adds an index here, not a loop over `changes`.

A sharded review (reviewer.sharding) judges each app with only its own shard's renders, and merges
the shards' findings. That gives the unsharded result because every way a rule reads another app's
changes or renders is listed in reviewer.sharding.interactions: a rule that reads across apps in a new
way must be added there, or its findings will differ between sharded and unsharded reviews.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from ..config import Config
from ..records import App, AppStatus, Change, RenderResult, Resource, ResourceKey

DATA_BEARING_KINDS = frozenset({("", "PersistentVolumeClaim"), ("", "PersistentVolume"), ("", "Namespace")})


def sync_option(resource: Resource, name: str) -> str | None:
    """The effective value of a sync option (resource annotation over app option), e.g. `Prune`."""
    for option in resource.sync_options:
        key, _, value = option.partition("=")
        if key == name:
            return value
    return None


def holds_data(resource: Resource) -> bool:
    """PVCs, PVs, Namespaces, and StatefulSets with volumeClaimTemplates hold data."""
    key = resource.key
    if (key.group, key.kind) in DATA_BEARING_KINDS:
        return True
    if (key.group, key.kind) == ("apps", "StatefulSet"):
        spec = resource.body.get("spec")
        return isinstance(spec, Mapping) and bool(spec.get("volumeClaimTemplates"))
    return False


@dataclass(frozen=True)
class EvaluationContext:
    """What the rules read: the change set, the apps and renders of both revisions, the config."""

    changes: tuple[Change, ...]
    base_apps: Mapping[str, App]  # every app at base (id -> App)
    head_apps: Mapping[str, App]  # every app at head
    base_renders: Mapping[str, RenderResult]  # the apps rendered for this review, at base
    head_renders: Mapping[str, RenderResult]
    statuses: Mapping[str, AppStatus]  # the apps selected for this review
    config: Config
    changed_paths: tuple[str, ...] = ()
    options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)  # rule id -> options

    def app(self, app_id: str, *, base: bool = False) -> App | None:
        return (self.base_apps if base else self.head_apps).get(app_id)

    def changes_of(self, kind: str) -> Iterator[Change]:
        """The changes of one type (`added`, `removed`, `modified`, `moved`), in change-set order."""
        return iter(self._by_type.get(kind, ()))

    def changes_in(self, kind: str, app: str, cluster: str, group: str, kind_name: str) -> tuple[Change, ...]:
        """The changes of type `kind` to resources of `group`/`kind_name` that app `app` holds on
        `cluster` (at head for an addition, at base for a removal, at head otherwise), hooks included."""
        return self._by_place.get((kind, app, cluster, group, kind_name), ())

    def base_resource(self, app_id: str, key: ResourceKey) -> Resource | None:
        """The desired-state resource `key` of an app's base render, if rendered."""
        return self._base_index.get(app_id, {}).get(key) if app_id in self.base_renders else None

    @cached_property
    def _by_type(self) -> dict[str, tuple[Change, ...]]:
        out: dict[str, list[Change]] = {}
        for change in self.changes:
            out.setdefault(change.type, []).append(change)
        return {kind: tuple(changes) for kind, changes in out.items()}

    @cached_property
    def _by_place(self) -> dict[tuple[str, str, str, str, str], tuple[Change, ...]]:
        out: dict[tuple[str, str, str, str, str], list[Change]] = {}
        for change in self.changes:
            side = change.base if change.type == "removed" else change.head
            if side is None:
                continue
            place = (change.type, side.app, change.cluster, change.key.group, change.key.kind)
            out.setdefault(place, []).append(change)
        return {place: tuple(changes) for place, changes in out.items()}

    @cached_property
    def _base_index(self) -> dict[str, dict[ResourceKey, Resource]]:
        out: dict[str, dict[ResourceKey, Resource]] = {}
        for app_id, result in self.base_renders.items():
            index: dict[ResourceKey, Resource] = {}
            for resource in result.resources:
                index.setdefault(resource.key, resource)  # the first, as a scan would find
            out[app_id] = index
        return out
