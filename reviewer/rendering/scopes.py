"""Which kinds are cluster-scoped, and which Argo CD excludes from the desired state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from ..yamlio import load_yaml


def group_of(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


@cache
def _builtin() -> Mapping[str, Any]:
    text = resources.files("reviewer").joinpath("data/scopes.yaml").read_text(encoding="utf-8")
    data = load_yaml(text, file="reviewer/data/scopes.yaml")
    assert isinstance(data, Mapping)
    return data


def _split(entries: Iterable[str]) -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
    kinds: set[tuple[str, str]] = set()
    groups: set[str] = set()
    for entry in entries:
        group, _, kind = entry.rpartition("/")
        if kind == "*":
            groups.add(group)
        else:
            kinds.add((group, kind))
    return frozenset(kinds), frozenset(groups)


def _crd_scopes(crds: Iterable[Mapping[str, Any]]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(cluster-scoped, namespaced) (group, kind) pairs declared by CRDs."""
    cluster: set[tuple[str, str]] = set()
    namespaced: set[tuple[str, str]] = set()
    for crd in crds:
        spec = crd.get("spec") if isinstance(crd.get("spec"), Mapping) else None
        names = spec.get("names") if spec and isinstance(spec.get("names"), Mapping) else None
        if not spec or not names or not names.get("kind"):
            continue
        pair = (str(spec.get("group", "")), str(names["kind"]))
        (cluster if spec.get("scope") == "Cluster" else namespaced).add(pair)
    return cluster, namespaced


@dataclass(frozen=True, slots=True)
class ScopeTable:
    """Which kinds are cluster-scoped, and which Argo CD excludes."""

    cluster_kinds: frozenset[tuple[str, str]]
    cluster_groups: frozenset[str]
    namespaced_kinds: frozenset[tuple[str, str]]
    excluded_kinds: frozenset[tuple[str, str]]
    excluded_groups: frozenset[str]

    @classmethod
    def build(
        cls,
        *,
        cluster_scoped: Iterable[str] = (),
        namespaced: Iterable[str] = (),
        crds: Iterable[Mapping[str, Any]] = (),
    ) -> ScopeTable:
        data = _builtin()
        c_kinds, c_groups = _split([*data.get("clusterScoped", []), *cluster_scoped])
        n_kinds, _ = _split(namespaced)
        crd_cluster, crd_ns = _crd_scopes(crds)
        e_kinds, e_groups = _split(data.get("excluded", []))
        return cls(
            cluster_kinds=frozenset((c_kinds | crd_cluster) - n_kinds - crd_ns),
            cluster_groups=c_groups,
            namespaced_kinds=frozenset(n_kinds | crd_ns),
            excluded_kinds=e_kinds,
            excluded_groups=e_groups,
        )

    def with_crds(self, crds: Iterable[Mapping[str, Any]]) -> ScopeTable:
        """This table plus the scopes CRDs declare (CRDs a render produces, e.g. from a chart's crds/)."""
        cluster, namespaced = _crd_scopes(crds)
        if not cluster and not namespaced:
            return self
        return replace(
            self,
            cluster_kinds=frozenset((self.cluster_kinds | cluster) - namespaced),
            namespaced_kinds=frozenset((self.namespaced_kinds - cluster) | namespaced),
        )

    def is_cluster_scoped(self, group: str, kind: str) -> bool:
        if (group, kind) in self.namespaced_kinds:
            return False
        return (group, kind) in self.cluster_kinds or group in self.cluster_groups

    def is_excluded(self, group: str, kind: str) -> bool:
        return (group, kind) in self.excluded_kinds or group in self.excluded_groups
