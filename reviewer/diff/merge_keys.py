"""Lists that Kubernetes merges by key, so their items are paired by that key, not by position.

The keys are the strategic-merge-patch `patchMergeKey`s of k8s.io/api (with the extra `listMapKeys`
of server-side apply where one field alone is not unique: a Service may serve port 53 over TCP and
UDP). A list is recognised by its field name, wherever it appears, so the pod template of a Deployment,
a CronJob or an Argo Rollout is handled alike. Keying only changes how a difference is described,
never whether it is one: a list whose items lack the key, or repeat it, is compared by index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .paths import ItemKey, Scalar


@dataclass(frozen=True, slots=True)
class KeySpec:
    """The fields that identify an item. A field in `defaults` may be omitted (it then has that value)
    and is not shown when it does. A dotted field (`metadata.name`) is shown by its last part."""

    fields: tuple[str, ...]
    defaults: Mapping[str, Scalar] = field(default_factory=dict)


_NAME = (KeySpec(("name",)),)

# k8s.io/api core/v1 types.go (PodSpec, Container, ServiceSpec, ObjectMeta), admissionregistration/v1.
LIST_KEYS: dict[str, tuple[KeySpec, ...]] = {
    "containers": _NAME,
    "initContainers": _NAME,
    "ephemeralContainers": _NAME,
    "env": _NAME,
    "volumes": _NAME,
    "imagePullSecrets": _NAME,
    "resourceClaims": _NAME,
    "schedulingGates": _NAME,
    "webhooks": _NAME,
    "volumeMounts": (KeySpec(("mountPath",)),),
    "volumeDevices": (KeySpec(("devicePath",)),),
    "hostAliases": (KeySpec(("ip",)),),
    "ownerReferences": (KeySpec(("uid",)),),
    "topologySpreadConstraints": (KeySpec(("topologyKey", "whenUnsatisfiable")),),
    # Container ports (containerPort + protocol) or Service ports (port + protocol); protocol defaults to TCP.
    "ports": (
        KeySpec(("containerPort", "protocol"), {"protocol": "TCP"}),
        KeySpec(("port", "protocol"), {"protocol": "TCP"}),
    ),
    # Atomic for the API server, but naming the claim makes `volumeClaimTemplates[name=data]...` readable.
    "volumeClaimTemplates": (KeySpec(("metadata.name",)),),
}

_MISSING = object()


def _get(item: Mapping[str, Any], dotted: str) -> Any:
    if "." not in dotted:  # the usual one-field key: no split
        return item.get(dotted, _MISSING)
    value: Any = item
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def item_key(item: Any, spec: KeySpec) -> ItemKey | None:
    """The key of one item, or None if the item is not an object with scalar values for the key."""
    if type(item) is not dict and not isinstance(item, Mapping):
        return None
    shown: list[tuple[str, Scalar]] = []
    for name in spec.fields:
        value = _get(item, name)
        default = spec.defaults.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                return None
            continue
        if not isinstance(value, str | int | float | bool):
            return None
        if value != default:
            shown.append((name.rsplit(".", 1)[-1], value))
    return ItemKey(tuple(shown)) if shown else None


def _keys(items: Sequence[Any], spec: KeySpec) -> list[ItemKey] | None:
    keys = [item_key(item, spec) for item in items]
    if any(k is None for k in keys):
        return None
    present = [k for k in keys if k is not None]
    return present if len(set(present)) == len(present) else None


def keyed_items(
    name: str | None, base: Sequence[Any], head: Sequence[Any]
) -> tuple[list[ItemKey], list[ItemKey]] | None:
    """The keys of the items of two versions of the list called `name`, or None to compare by index.

    Both versions must be keyed by the same spec (the first one that fits both), with unique keys."""
    for spec in LIST_KEYS.get(name or "", ()):
        base_keys, head_keys = _keys(base, spec), _keys(head, spec)
        if base_keys is not None and head_keys is not None:
            return base_keys, head_keys
    return None


def find_item(name: str | None, items: Sequence[Any], key: ItemKey) -> Any:
    """The item of the list called `name` whose key is `key` (under any of its specs), else None."""
    for spec in LIST_KEYS.get(name or "", ()):
        for item in items:
            if item_key(item, spec) == key:
                return item
    return None
