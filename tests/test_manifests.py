"""From rendered documents to resources, as Argo CD post-processes a render (reference §C.0 steps 4-5,
§B.1, §B.3, §B.4): List flattening, namespace defaulting and clearing, resource exclusions, hooks,
sync waves and sync options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from reviewer.records import Location
from reviewer.rendering.manifests import Normalised, Produced, normalise
from reviewer.rendering.scopes import ScopeTable

SCOPES = ScopeTable.build()


def obj(kind: str, name: str | None = "x", *, api: str = "v1", namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if name is not None:
        meta["name"] = name
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": api, "kind": kind, "metadata": meta}


def hook(kind: str, name: str, annotations: Mapping[str, str], api: str = "batch/v1") -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "annotations": dict(annotations)}}


def run(
    *bodies: Mapping[str, Any],
    namespace: str = "demo",
    options: tuple[str, ...] = (),
    scopes: ScopeTable = SCOPES,
) -> Normalised:
    docs = [Produced(body, Location("apps/x/file.yaml", i + 1)) for i, body in enumerate(bodies)]
    return normalise(docs, app="argocd/x", destination_namespace=namespace, app_sync_options=options, scopes=scopes)


def keys(result: Normalised) -> list[str]:
    return [str(r.key) for r in result.resources]


# --- lists ------------------------------------------------------------------------------------------------


def test_lists_are_flattened_and_null_lists_dropped() -> None:
    result = run(
        {"apiVersion": "v1", "kind": "ConfigMapList", "items": [obj("ConfigMap", "a"), obj("ConfigMap", "b")]},
        {"apiVersion": "v1", "kind": "List", "items": [obj("Service", "svc")]},
        {"apiVersion": "v1", "kind": "PodList", "items": None},
        {"apiVersion": "v1", "kind": "SecretList", "items": []},
    )
    assert result.errors == []
    assert keys(result) == ["ConfigMap demo/a", "ConfigMap demo/b", "Service demo/svc"]
    assert result.resources[0].location == Location("apps/x/file.yaml", 1)


def test_a_list_item_that_is_not_an_object_is_an_error() -> None:
    result = run({"apiVersion": "v1", "kind": "List", "items": ["oops"]})
    assert result.resources == []
    assert len(result.errors) == 1


# --- namespaces and scope -----------------------------------------------------------------------------------


def test_namespaced_kinds_get_the_destination_namespace() -> None:
    result = run(obj("ConfigMap", "a"), obj("ConfigMap", "b", namespace="explicit"))
    assert keys(result) == ["ConfigMap demo/a", "ConfigMap explicit/b"]
    assert result.resources[0].body["metadata"]["namespace"] == "demo"


def test_cluster_scoped_kinds_lose_their_namespace() -> None:
    result = run(
        obj("ClusterRole", "reader", api="rbac.authorization.k8s.io/v1", namespace="demo"),
        obj("Namespace", "team", namespace="oops"),
    )
    assert keys(result) == ["rbac.authorization.k8s.io/ClusterRole reader", "Namespace team"]
    assert all("namespace" not in r.body["metadata"] for r in result.resources)


def test_unknown_kinds_are_treated_as_namespaced() -> None:
    # A kind whose CRD is not known gets the destination namespace, as Argo CD does.
    result = run(obj("Widget", "w", api="example.com/v1"))
    assert keys(result) == ["example.com/Widget demo/w"]


def test_scope_declared_by_a_crd() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Widget", "plural": "widgets"}},
    }
    scopes = ScopeTable.build(crds=[crd])
    result = run(obj("Widget", "w", api="example.com/v1", namespace="demo"), scopes=scopes)
    assert keys(result) == ["example.com/Widget w"]
    assert "namespace" not in result.resources[0].body["metadata"]


def test_a_namespaced_object_without_any_namespace_is_an_error() -> None:
    # NormalizeTargetObjects: "Namespace for ... is missing" (InvalidSpecError).
    result = run(obj("ConfigMap", "a"), namespace="")
    assert result.errors and "namespace" in result.errors[0]


def test_objects_without_kind_or_name_are_errors() -> None:
    result = run({"apiVersion": "v1", "metadata": {"name": "no-kind"}}, obj("ConfigMap", None))
    assert result.resources == []
    assert len(result.errors) == 2


# --- duplicates and exclusions --------------------------------------------------------------------------------


def test_a_repeated_key_keeps_the_last_one_with_a_warning() -> None:
    first = {**obj("ConfigMap", "same"), "data": {"v": "1"}}
    second = {**obj("ConfigMap", "same", namespace="demo"), "data": {"v": "2"}}
    result = run(first, obj("ConfigMap", "other"), second)
    assert keys(result) == ["ConfigMap demo/same", "ConfigMap demo/other"]
    assert result.resources[0].body["data"] == {"v": "2"}
    assert result.resources[0].location == Location("apps/x/file.yaml", 3)
    assert any("ConfigMap demo/same" in w for w in result.warnings)


def test_excluded_kinds_are_dropped_with_a_warning() -> None:
    # Argo CD 3.0's default resource.exclusions.
    result = run(
        obj("Endpoints", "web"),
        obj("EndpointSlice", "web-abc", api="discovery.k8s.io/v1"),
        obj("Lease", "lock", api="coordination.k8s.io/v1"),
        obj("Service", "web"),
    )
    assert keys(result) == ["Service demo/web"]
    assert len(result.warnings) == 3
    assert any("Endpoints" in w for w in result.warnings)


# --- hooks ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotations", "phases"),
    [
        ({"argocd.argoproj.io/hook": "PreSync"}, ("PreSync",)),
        ({"argocd.argoproj.io/hook": "PreSync,PostSync"}, ("PreSync", "PostSync")),
        ({"helm.sh/hook": "pre-install"}, ("PreSync",)),
        ({"helm.sh/hook": "pre-install,pre-upgrade"}, ("PreSync",)),
        ({"helm.sh/hook": "post-install, post-upgrade"}, ("PostSync",)),
        ({"helm.sh/hook": "pre-delete"}, ("PreDelete",)),
        ({"helm.sh/hook": "post-delete"}, ("PostDelete",)),
        # An Argo CD hook annotation beats Helm's.
        ({"argocd.argoproj.io/hook": "PostSync", "helm.sh/hook": "pre-install"}, ("PostSync",)),
        ({"argocd.argoproj.io/hook": "Skip,PreSync"}, ("Skip", "PreSync")),
    ],
)
def test_hook_phases(annotations: dict[str, str], phases: tuple[str, ...]) -> None:
    result = run(hook("Job", "migrate", annotations))
    assert result.resources == []
    (job,) = result.hooks
    assert job.hook_phases == phases
    assert job.is_hook


def test_skip_alone_stays_a_resource() -> None:
    # `hook: Skip` is in the desired state (so it is not pruned) but never applied.
    result = run(hook("ConfigMap", "kept", {"argocd.argoproj.io/hook": "Skip"}, api="v1"))
    assert result.hooks == []
    assert keys(result) == ["ConfigMap demo/kept"]
    assert result.resources[0].hook_phases == ()


def test_crd_install_is_not_a_hook() -> None:
    result = run(
        hook(
            "CustomResourceDefinition", "w.example.com", {"helm.sh/hook": "crd-install"}, api="apiextensions.k8s.io/v1"
        )
    )
    assert result.hooks == []
    assert keys(result) == ["apiextensions.k8s.io/CustomResourceDefinition w.example.com"]


@pytest.mark.parametrize(
    "annotations",
    [
        {"helm.sh/hook": "test"},
        {"helm.sh/hook": "test-success"},
        {"argocd.argoproj.io/hook": "Unknown"},
        {"argocd.argoproj.io/hook": ""},
    ],
)
def test_hooks_of_unknown_types_are_ignored_with_a_warning(annotations: dict[str, str]) -> None:
    result = run(hook("Pod", "check", annotations, api="v1"))
    assert result.resources == []
    assert result.hooks == []
    assert result.errors == []
    assert any("check" in w for w in result.warnings)


def test_a_hook_may_use_generate_name() -> None:
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"generateName": "migrate-", "annotations": {"argocd.argoproj.io/hook": "PreSync"}},
    }
    result = run(body)
    assert result.errors == []
    assert [h.key.name for h in result.hooks] == ["migrate-"]


# --- waves and sync options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotations", "wave", "warns"),
    [
        ({}, 0, False),
        ({"argocd.argoproj.io/sync-wave": "5"}, 5, False),
        ({"argocd.argoproj.io/sync-wave": "-2"}, -2, False),
        ({"argocd.argoproj.io/sync-wave": "+3"}, 3, False),
        ({"helm.sh/hook-weight": "7"}, 7, False),  # the Helm weight when there is no wave
        ({"argocd.argoproj.io/sync-wave": "1", "helm.sh/hook-weight": "7"}, 1, False),
        # strconv.Atoi: no spaces, no underscores; an unparsable wave falls back to the Helm weight.
        ({"argocd.argoproj.io/sync-wave": "abc"}, 0, True),
        ({"argocd.argoproj.io/sync-wave": " 4"}, 0, True),
        ({"argocd.argoproj.io/sync-wave": "1_000"}, 0, True),
        ({"argocd.argoproj.io/sync-wave": "abc", "helm.sh/hook-weight": "7"}, 7, True),
    ],
)
def test_sync_wave(annotations: dict[str, str], wave: int, warns: bool) -> None:
    result = run(hook("ConfigMap", "c", annotations, api="v1"))
    (resource,) = result.resources
    assert resource.sync_wave == wave
    assert bool(result.warnings) is warns


def test_resource_sync_options_override_the_app_ones() -> None:
    annotated = hook("ConfigMap", "c", {"argocd.argoproj.io/sync-options": "Prune=true, Replace=true"}, api="v1")
    result = run(annotated, obj("ConfigMap", "plain"), options=("Prune=false", "ServerSideApply=true"))
    options = {r.key.name: r.sync_options for r in result.resources}
    assert options["c"] == ("Prune=true", "ServerSideApply=true", "Replace=true")
    assert options["plain"] == ("Prune=false", "ServerSideApply=true")


def test_a_crd_in_the_same_render_declares_its_kind_cluster_scoped() -> None:
    from reviewer.rendering.manifests import Produced, normalise
    from reviewer.rendering.scopes import ScopeTable

    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "tenants.example.com"},
        "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Tenant", "plural": "tenants"}},
    }
    tenant = {"apiVersion": "example.com/v1", "kind": "Tenant", "metadata": {"name": "t1"}}
    scopes = ScopeTable.build()
    assert not scopes.is_cluster_scoped("example.com", "Tenant")
    out = normalise(
        [Produced(crd, None), Produced(tenant, None)],
        app="a",
        destination_namespace="ns",
        app_sync_options=(),
        scopes=scopes.with_crds([crd]),
    )
    assert [(r.key.kind, r.key.namespace) for r in out.resources] == [("CustomResourceDefinition", ""), ("Tenant", "")]


def test_a_hook_and_a_resource_with_one_key_are_one_object_the_last_wins() -> None:
    from reviewer.rendering.manifests import Produced, normalise
    from reviewer.rendering.scopes import ScopeTable

    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"}}
    hook = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "annotations": {"argocd.argoproj.io/hook": "PreSync"}},
    }
    out = normalise(
        [Produced(job, None), Produced(hook, None)],
        app="a",
        destination_namespace="ns",
        app_sync_options=(),
        scopes=ScopeTable.build(),
    )
    assert out.resources == []
    assert [(h.key.name, h.hook_phases) for h in out.hooks] == [("migrate", ("PreSync",))]
    assert any("rendered more than once" in w for w in out.warnings)
