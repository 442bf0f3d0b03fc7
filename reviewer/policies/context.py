"""What a rule sees: the changes, both revisions' apps and renders, and Argo CD facts about them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

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
        return (c for c in self.changes if c.type == kind)

    def base_resource(self, app_id: str, key: ResourceKey) -> Resource | None:
        result = self.base_renders.get(app_id)
        return next((r for r in result.resources if r.key == key), None) if result else None
