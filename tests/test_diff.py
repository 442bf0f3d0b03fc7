"""The diff stage on hand-made resources: pairing, normalisation, deltas, ignoreDifferences, secrets."""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from reviewer.config import Cluster, Config, parse_config
from reviewer.diff import destination_cluster, diff_renders
from reviewer.diff.ignore import remove_pointer
from reviewer.diff.paths import ItemKey, format_path
from reviewer.diff.secrets import CHANGED_MASK
from reviewer.errors import ConfigError
from reviewer.records import (
    App,
    Change,
    Destination,
    FieldDelta,
    Location,
    RenderError,
    RenderResult,
    Resource,
    ResourceKey,
    SyncPolicy,
)
from reviewer.redaction import MASK

IN_CLUSTER = "https://kubernetes.default.svc"
CONFIG = Config()

# --- helpers (also used by test_diff_properties) ----------------------------------------------------


def make_app(
    name: str,
    *,
    server: str = IN_CLUSTER,
    dest_name: str = "",
    ignore: Iterable[Mapping[str, Any]] = (),
    control_plane: str = "",
) -> App:
    return App(
        name=name,
        namespace="argocd",
        project="default",
        sources=(),
        destination=Destination(server=server, name=dest_name, namespace="demo"),
        sync_policy=SyncPolicy(automated=True, prune=True),
        ignore_differences=tuple(ignore),
        finalizers=(),
        defined_in=None,
        manifest={},
        control_plane=control_plane,
    )


def resource(app: str, body: Mapping[str, Any], *, file: str = "all.yaml", hook: str = "") -> Resource:
    api_version = body["apiVersion"]
    meta = body["metadata"]
    return Resource(
        key=ResourceKey(
            api_version.rpartition("/")[0],
            body["kind"],
            meta.get("namespace", ""),
            meta.get("name") or meta.get("generateName", ""),
        ),
        api_version=api_version,
        body=body,
        app=app,
        location=Location(file),
        hook_phases=(hook,) if hook else (),
    )


def side(
    *apps: tuple[App, Iterable[Mapping[str, Any]]], errors: Iterable[str] = ()
) -> dict[str, tuple[App, RenderResult]]:
    """app id -> (App, RenderResult) with the given bodies; a body with a `hook:` key goes to hooks."""
    out = {}
    failed = set(errors)
    for app, bodies in apps:
        resources, hooks = [], []
        for body in bodies:
            body = dict(body)
            hook = body.pop("hook", "")
            (hooks if hook else resources).append(resource(app.id, body, hook=hook))
        errs = (RenderError(app.id, "kustomize failed"),) if app.name in failed else ()
        out[app.id] = (app, RenderResult(app.id, tuple(resources), tuple(hooks), errors=errs))
    return out


def deployment(name: str = "web", **spec: Any) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": spec.pop("containers", [{"name": "api", "image": "api:1"}])}
    pod.update(spec.pop("pod", {}))
    return {
        "apiVersion": spec.pop("apiVersion", "apps/v1"),
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "demo", **spec.pop("metadata", {})},
        "spec": {"replicas": spec.pop("replicas", 2), "template": {"spec": pod}, **spec},
    }


def configmap(name: str = "cm", namespace: str = "demo", **data: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}


def secret(
    name: str = "db", data: Mapping[str, str] | None = None, string_data: Mapping[str, str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "demo"}}
    if data is not None:
        body["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    if string_data is not None:
        body["stringData"] = dict(string_data)
    return body


def diff(
    base: Iterable[Mapping[str, Any]],
    head: Iterable[Mapping[str, Any]],
    *,
    app: App | None = None,
    config: Config = CONFIG,
) -> tuple[Change, ...]:
    """One app, base bodies vs head bodies."""
    app = app or make_app("web")
    return diff_renders(side((app, base)), side((app, head)), config=config)


def only(changes: tuple[Change, ...]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


def deltas(change: Change) -> dict[str, FieldDelta]:
    return {d.path: d for d in change.deltas}


# --- destination cluster --------------------------------------------------------------------------


def test_destination_server_is_the_cluster() -> None:
    assert destination_cluster(make_app("a", server="https://prod.example.com/"), CONFIG) == "https://prod.example.com"


def test_destination_name_resolves_through_the_config() -> None:
    config = Config(clusters=(Cluster(name="prod", server="https://prod.example.com"),))
    assert destination_cluster(make_app("a", server="", dest_name="prod"), config) == "https://prod.example.com"
    assert destination_cluster(make_app("a", server="", dest_name="staging"), config) == "name:staging"


def test_in_cluster_is_the_cluster_of_the_argo_cd_instance() -> None:
    assert destination_cluster(make_app("a"), CONFIG) == "local:in-cluster"
    assert destination_cluster(make_app("a", server="", dest_name="in-cluster"), CONFIG) == "local:in-cluster"
    assert destination_cluster(make_app("a", control_plane="hub"), CONFIG) == "hub:in-cluster"
    # A child Application living on cluster X (discovery names X as its control plane) deploys in-cluster to X.
    spoke = make_app("a", control_plane="https://spoke.example.com")
    assert destination_cluster(spoke, CONFIG) == "https://spoke.example.com"


def test_same_key_in_two_clusters_is_two_resources() -> None:
    prod, staging = make_app("prod", server="https://prod"), make_app("staging", server="https://staging")
    changes = diff_renders(side((prod, [configmap()])), side((staging, [configmap()])), config=CONFIG)
    assert {(c.type, c.cluster) for c in changes} == {("removed", "https://prod"), ("added", "https://staging")}


# --- pairing and change types ---------------------------------------------------------------------


def test_a_render_diffed_against_itself_is_empty() -> None:
    bodies = [deployment(), configmap(), secret(data={"a": "b"})]
    assert diff(bodies, copy.deepcopy(bodies)) == ()


def test_moving_a_resource_between_files_of_one_app_is_no_change() -> None:
    app = make_app("web")
    base = {app.id: (app, RenderResult(app.id, (resource(app.id, configmap(), file="a.yaml"),)))}
    head = {app.id: (app, RenderResult(app.id, (resource(app.id, configmap(), file="b/c.yaml"),)))}
    assert diff_renders(base, head, config=CONFIG) == ()


def test_a_resource_moved_between_apps_is_moved() -> None:
    a, b = make_app("a"), make_app("b")
    change = only(diff_renders(side((a, [configmap()]), (b, [])), side((a, []), (b, [configmap()])), config=CONFIG))
    assert (change.type, change.from_app, change.app, change.deltas) == ("moved", a.id, b.id, ())
    assert change.base is not None and change.head is not None


def test_a_moved_resource_that_also_changed_carries_deltas() -> None:
    a, b = make_app("a"), make_app("b")
    change = only(diff_renders(side((a, [configmap(x="1")])), side((b, [configmap(x="2")])), config=CONFIG))
    assert change.type == "moved"
    assert change.deltas == (FieldDelta("data.x", "1", "2"),)


def test_a_renamed_resource_is_removed_plus_added() -> None:
    changes = diff([configmap("old")], [configmap("new")])
    assert [(c.type, c.key.name) for c in changes] == [("added", "new"), ("removed", "old")]
    assert changes[0].head is not None and changes[0].base is None
    assert changes[1].base is not None and changes[1].head is None
    assert changes[0].deltas == () and changes[1].deltas == ()


def test_an_api_version_change_in_one_group_is_a_modification() -> None:
    change = only(diff([deployment(apiVersion="apps/v1beta2")], [deployment()]))
    assert change.type == "modified"
    assert change.deltas == (FieldDelta("apiVersion", "apps/v1beta2", "apps/v1"),)


def test_a_shared_resource_pairs_app_by_app_then_moves_then_adds() -> None:
    a, b, c = make_app("a"), make_app("b"), make_app("c")
    # base: a and b render the same key; head: b (changed) and c.
    base = side((a, [configmap(x="a")]), (b, [configmap(x="b")]), (c, []))
    head = side((a, []), (b, [configmap(x="b2")]), (c, [configmap(x="c")]))
    changes = diff_renders(base, head, config=CONFIG)
    assert [(ch.type, ch.from_app, ch.app) for ch in changes] == [("modified", b.id, b.id), ("moved", a.id, c.id)]
    # one app more at head: the leftover is added, never a crash
    head = side((a, [configmap(x="a")]), (b, [configmap(x="b")]), (c, [configmap(x="c")]))
    changes = diff_renders(base, head, config=CONFIG)
    assert [(ch.type, ch.app) for ch in changes] == [("added", c.id)]


def test_a_resource_listed_twice_by_one_app_pairs_as_two_entries() -> None:
    app = make_app("a")
    listed = resource(app.id, configmap())
    base = {app.id: (app, RenderResult(app.id, (listed, listed)))}
    head = {app.id: (app, RenderResult(app.id, (resource(app.id, configmap()),)))}
    change = only(diff_renders(base, head, config=CONFIG))
    assert (change.type, change.app) == ("removed", app.id)


def test_the_app_a_resource_is_listed_under_decides_whether_it_moved() -> None:
    """Pairing goes by the render an entry comes from, even where the resource names another app."""
    a, b = make_app("a"), make_app("b")

    def listed(app: App, **data: Any) -> dict[str, tuple[App, RenderResult]]:
        return {app.id: (app, RenderResult(app.id, (resource("argocd/elsewhere", configmap(**data)),)))}

    assert diff_renders(listed(a), listed(a), config=CONFIG) == ()
    assert [c.type for c in diff_renders(listed(a), listed(a, x="1"), config=CONFIG)] == ["modified"]
    change = only(diff_renders(listed(a), listed(b), config=CONFIG))
    assert (change.type, change.deltas) == ("moved", ())


def test_a_removed_app_removes_its_resources() -> None:
    a = make_app("a")
    changes = diff_renders(side((a, [configmap("x"), configmap("y")])), {}, config=CONFIG)
    assert [(c.type, c.key.name) for c in changes] == [("removed", "x"), ("removed", "y")]


def test_a_failed_render_produces_no_removals_nor_additions() -> None:
    a, b = make_app("a"), make_app("b")
    base = side((a, [configmap("x")]), (b, [configmap("y")]))
    head = side((a, []), (b, [configmap("y", v="2")]), errors=["a"])  # a's head render failed: empty
    assert [(c.type, c.app) for c in diff_renders(base, head, config=CONFIG)] == [("modified", b.id)]
    base = side((a, [configmap("z")]), errors=["a"])  # failed at base: head's resources are not "added"
    head = side((a, [configmap("x"), configmap("z")]))
    assert diff_renders(base, head, config=CONFIG) == ()


def test_hooks_are_diffed_apart_and_flagged() -> None:
    job = {
        "hook": "PreSync",
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"generateName": "migrate-", "namespace": "demo"},
    }
    job2 = {**job, "spec": {"backoffLimit": 1}}
    change = only(diff([job, configmap()], [job2, configmap()]))
    assert (change.type, change.hook, change.key.name) == ("modified", True, "migrate-")
    assert change.deltas == (FieldDelta("spec", None, {"backoffLimit": 1}, "added"),)


def test_a_resource_that_becomes_a_hook_is_removed_and_a_hook_is_added() -> None:
    cm = configmap()
    changes = diff([cm], [{**cm, "hook": "PreSync"}])
    assert sorted((c.type, c.hook) for c in changes) == [("added", True), ("removed", False)]


def test_output_is_sorted_by_app_then_key() -> None:
    a, b = make_app("a"), make_app("b")
    base = side((b, [configmap("z"), configmap("a")]), (a, [configmap("m")]))
    changes = diff_renders(base, {}, config=CONFIG)
    assert [(c.app, c.key.name) for c in changes] == [(a.id, "m"), (b.id, "a"), (b.id, "z")]


# --- normalisation --------------------------------------------------------------------------------


def test_status_and_server_metadata_are_not_compared() -> None:
    live_like = configmap()
    live_like["status"] = {"phase": "Active"}
    live_like["metadata"].update(
        uid="1234",
        resourceVersion="99",
        generation=3,
        creationTimestamp="2024-01-01T00:00:00Z",
        managedFields=[{"manager": "kubectl"}],
        selfLink="/api/v1/x",
        deletionTimestamp="2024-01-02T00:00:00Z",
        annotations={
            "argocd.argoproj.io/tracking-id": "web:/ConfigMap:demo/cm",
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
        },
    )
    assert diff([configmap()], [live_like]) == ()


def test_other_annotations_and_labels_are_compared() -> None:
    head = configmap()
    head["metadata"]["labels"] = {"app.kubernetes.io/name": "web"}
    change = only(diff([configmap()], [head]))
    assert change.deltas == (FieldDelta("metadata.labels", None, {"app.kubernetes.io/name": "web"}, "added"),)


def test_null_fields_are_absent_fields() -> None:
    head = deployment()
    head["spec"]["strategy"] = None
    head["metadata"]["labels"] = {}
    assert diff([deployment()], [head]) == ()


# --- field-level deltas ---------------------------------------------------------------------------


def test_a_changed_container_is_a_field_change_of_that_container() -> None:
    base = deployment(containers=[{"name": "api", "image": "api:1"}, {"name": "web", "image": "web:1"}])
    head = deployment(containers=[{"name": "api", "image": "api:2"}, {"name": "web", "image": "web:1"}])
    change = only(diff([base], [head]))
    assert change.deltas == (FieldDelta("spec.template.spec.containers[name=api].image", "api:1", "api:2"),)


def test_an_added_or_removed_container_is_one_delta_at_the_item() -> None:
    sidecar = {"name": "sidecar", "image": "envoy"}
    base = deployment(containers=[{"name": "api", "image": "api:1"}])
    head = deployment(containers=[{"name": "api", "image": "api:1"}, sidecar])
    change = only(diff([base], [head]))
    assert change.deltas == (FieldDelta("spec.template.spec.containers[name=sidecar]", None, sidecar, "added"),)
    change = only(diff([head], [base]))
    assert change.deltas == (FieldDelta("spec.template.spec.containers[name=sidecar]", sidecar, None, "removed"),)


def test_a_pure_reorder_is_exactly_one_reordered_delta() -> None:
    a, b, c = ({"name": n, "image": f"{n}:1"} for n in ("a", "b", "c"))
    change = only(diff([deployment(containers=[a, b, c])], [deployment(containers=[c, a, b])]))
    assert change.deltas == (
        FieldDelta("spec.template.spec.containers", ["a", "b", "c"], ["c", "a", "b"], "reordered"),
    )


def test_adding_an_item_at_the_front_is_not_a_reorder() -> None:
    a, b = {"name": "a", "image": "a"}, {"name": "b", "image": "b"}
    change = only(diff([deployment(containers=[a])], [deployment(containers=[b, a])]))
    assert [d.kind for d in change.deltas] == ["added"]


@pytest.mark.parametrize(
    ("container_field", "before", "after", "path"),
    [
        (
            "env",
            [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            [{"name": "B", "value": "3"}, {"name": "A", "value": "1"}],
            "env[name=B].value",
        ),
        (
            "volumeMounts",
            [{"mountPath": "/data", "name": "d", "readOnly": True}],
            [{"mountPath": "/data", "name": "d", "readOnly": False}],
            "volumeMounts[mountPath=/data].readOnly",
        ),
        (
            "ports",
            [{"containerPort": 80, "name": "http"}, {"containerPort": 9090}],
            [{"containerPort": 9090}, {"containerPort": 80, "name": "web"}],
            "ports[containerPort=80].name",
        ),
    ],
)
def test_container_lists_pair_by_merge_key(container_field: str, before: Any, after: Any, path: str) -> None:
    base = deployment(containers=[{"name": "api", container_field: before}])
    head = deployment(containers=[{"name": "api", container_field: after}])
    found = deltas(only(diff([base], [head])))
    prefix = "spec.template.spec.containers[name=api]."
    assert found[prefix + path].kind == "changed"
    assert [d.kind for d in found.values()] == (["reordered", "changed"] if len(before) > 1 else ["changed"])


def test_service_ports_pair_by_port_and_protocol() -> None:
    def service(*ports: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "dns", "namespace": "demo"},
            "spec": {"ports": list(ports)},
        }

    base = service({"port": 53, "protocol": "UDP", "targetPort": 53}, {"port": 53, "targetPort": 53})
    head = service({"port": 53, "targetPort": 5353}, {"port": 53, "protocol": "UDP", "targetPort": 53})
    change = only(diff([base], [head]))
    assert change.deltas == (
        FieldDelta("spec.ports", ["port=53,protocol=UDP", 53], [53, "port=53,protocol=UDP"], "reordered"),
        FieldDelta("spec.ports[port=53].targetPort", 53, 5353),
    )


def test_volumes_image_pull_secrets_and_host_aliases_pair_by_key() -> None:
    base = deployment(
        pod={
            "volumes": [{"name": "a", "emptyDir": {}}],
            "imagePullSecrets": [{"name": "r1"}],
            "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}],
        }
    )
    head = deployment(
        pod={
            "volumes": [{"name": "b", "emptyDir": {}}, {"name": "a", "configMap": {"name": "x"}}],
            "imagePullSecrets": [{"name": "r2"}, {"name": "r1"}],
            "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["b"]}],
        }
    )
    found = deltas(only(diff([base], [head])))
    pod = "spec.template.spec."
    assert set(found) == {
        pod + "volumes[name=a].configMap",
        pod + "volumes[name=a].emptyDir",
        pod + "volumes[name=b]",
        pod + "imagePullSecrets[name=r2]",
        pod + "hostAliases[ip=10.0.0.1].hostnames[0]",
    }


def test_lists_without_a_merge_key_compare_by_index() -> None:
    base = deployment(containers=[{"name": "api", "args": ["--a", "--b", "--c"]}])
    head = deployment(containers=[{"name": "api", "args": ["--a", "--b", "--d", "--e"]}])
    change = only(diff([base], [head]))
    prefix = "spec.template.spec.containers[name=api].args"
    assert change.deltas == (FieldDelta(f"{prefix}[2]", "--c", "--d"), FieldDelta(f"{prefix}[3]", None, "--e", "added"))


def test_items_with_repeated_or_missing_keys_compare_by_index() -> None:
    base = deployment(containers=[{"name": "api", "image": "a"}, {"name": "api", "image": "b"}])
    head = deployment(containers=[{"name": "api", "image": "a"}, {"name": "api", "image": "c"}])
    assert only(diff([base], [head])).deltas == (FieldDelta("spec.template.spec.containers[1].image", "b", "c"),)


def test_paths_quote_keys_that_are_not_plain_names() -> None:
    base, head = configmap(), configmap()
    base["metadata"]["labels"] = {"app.kubernetes.io/name": "a", "tier": "x"}
    head["metadata"]["labels"] = {"app.kubernetes.io/name": "b", "tier": "y"}
    assert [d.path for d in only(diff([base], [head])).deltas] == [
        'metadata.labels["app.kubernetes.io/name"]',
        "metadata.labels.tier",
    ]
    assert format_path(("data", "my key", 3, ItemKey((("name", "a b"),)))) == 'data["my key"][3][name="a b"]'


def test_type_changes_are_one_changed_delta() -> None:
    change = only(diff([configmap(x="1")], [{**configmap(), "data": ["x"]}]))
    assert change.deltas == (FieldDelta("data", {"x": "1"}, ["x"]),)
    change = only(diff([deployment(replicas=1)], [deployment(replicas="1")]))
    assert change.deltas == (FieldDelta("spec.replicas", 1, "1"),)
    change = only(diff([deployment(replicas=1)], [deployment(replicas=True)]))
    assert change.deltas == (FieldDelta("spec.replicas", 1, True),)


# --- quantities -----------------------------------------------------------------------------------


def _limits(**limits: Any) -> dict[str, Any]:
    return deployment(containers=[{"name": "api", "resources": {"limits": limits, "requests": limits}}])


def test_quantities_compare_by_value() -> None:
    assert diff([_limits(memory="1Gi", cpu="0.5")], [_limits(memory="1024Mi", cpu="500m")]) == ()
    assert diff([_limits(cpu=2)], [_limits(cpu="2000m")]) == ()


def test_a_changed_quantity_shows_the_strings_as_written() -> None:
    change = only(diff([_limits(memory="1Gi")], [_limits(memory="2048Mi")]))
    assert (
        FieldDelta("spec.template.spec.containers[name=api].resources.limits.memory", "1Gi", "2048Mi") in change.deltas
    )


@pytest.mark.parametrize(
    ("kind", "api", "make"),
    [
        ("PersistentVolumeClaim", "v1", lambda q: {"spec": {"resources": {"requests": {"storage": q}}}}),
        (
            "StatefulSet",
            "apps/v1",
            lambda q: {
                "spec": {
                    "volumeClaimTemplates": [
                        {"metadata": {"name": "d"}, "spec": {"resources": {"requests": {"storage": q}}}}
                    ]
                }
            },
        ),
        ("ResourceQuota", "v1", lambda q: {"spec": {"hard": {"requests.storage": q}}}),
        ("LimitRange", "v1", lambda q: {"spec": {"limits": [{"type": "Container", "max": {"memory": q}}]}}),
        ("PersistentVolume", "v1", lambda q: {"spec": {"capacity": {"storage": q}}}),
        (
            "Pod",
            "v1",
            lambda q: {"spec": {"volumes": [{"name": "t", "emptyDir": {"sizeLimit": q}}], "overhead": {"memory": q}}},
        ),
    ],
)
def test_quantities_where_kubernetes_types_them(kind: str, api: str, make: Any) -> None:
    def body(q: str) -> dict[str, Any]:
        return {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "demo"}, **make(q)}

    assert diff([body("1Gi")], [body("1024Mi")]) == ()
    assert only(diff([body("1Gi")], [body("2Gi")])).type == "modified"


def test_strings_that_look_like_quantities_elsewhere_are_strings() -> None:
    assert only(diff([configmap(size="1Gi")], [configmap(size="1024Mi")])).deltas == (
        FieldDelta("data.size", "1Gi", "1024Mi"),
    )
    base = deployment(containers=[{"name": "api", "env": [{"name": "MEM", "value": "1Gi"}]}])
    head = deployment(containers=[{"name": "api", "env": [{"name": "MEM", "value": "1024Mi"}]}])
    assert only(diff([base], [head])).type == "modified"


# --- ignoreDifferences ----------------------------------------------------------------------------

REPLICAS = {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}


def test_ignored_fields_keep_the_change_and_mark_the_delta() -> None:
    change = only(diff([deployment(replicas=3)], [deployment(replicas=0)], app=make_app("web", ignore=[REPLICAS])))
    assert change.deltas == (FieldDelta("spec.replicas", 3, 0, ignored=True),)
    assert change.ignored


def test_a_partly_ignored_change_is_not_ignored() -> None:
    base, head = deployment(replicas=3), deployment(replicas=0, containers=[{"name": "api", "image": "api:2"}])
    change = only(diff([base], [head], app=make_app("web", ignore=[REPLICAS])))
    assert {d.path: d.ignored for d in change.deltas} == {
        "spec.replicas": True,
        "spec.template.spec.containers[name=api].image": False,
    }
    assert not change.ignored


@pytest.mark.parametrize(
    ("rule", "ignored"),
    [
        (REPLICAS, True),
        ({**REPLICAS, "name": "web"}, True),
        ({**REPLICAS, "name": "other"}, False),
        ({**REPLICAS, "namespace": "demo"}, True),
        ({**REPLICAS, "namespace": "prod"}, False),
        ({**REPLICAS, "group": "*", "kind": "*"}, True),
        ({**REPLICAS, "kind": "Deploy*"}, True),
        ({**REPLICAS, "group": ""}, False),  # an omitted group is the core group
        ({"group": "apps", "jsonPointers": ["/spec/replicas"]}, False),  # an omitted kind matches nothing
        ({**REPLICAS, "jsonPointers": ["/spec/template"]}, False),
        ({**REPLICAS, "jsonPointers": ["/spec"]}, True),
        ({**REPLICAS, "jsonPointers": [], "managedFieldsManagers": ["kube-controller-manager"]}, False),
    ],
)
def test_which_rules_apply(rule: Mapping[str, Any], ignored: bool) -> None:
    change = only(diff([deployment(replicas=3)], [deployment(replicas=0)], app=make_app("web", ignore=[rule])))
    assert change.ignored is ignored


def test_managed_fields_managers_are_a_no_op() -> None:
    rule = {"group": "apps", "kind": "Deployment", "managedFieldsManagers": ["kube-controller-manager"]}
    base = deployment(containers=[{"name": "api", "env": []}])
    change = only(diff([base], [deployment(containers=[{"name": "api"}])], app=make_app("web", ignore=[rule])))
    assert not change.ignored  # no patch, so not even Argo CD's removal of empty lists applies


def test_json_pointers_unescape_slash_and_tilde() -> None:
    base, head = deployment(), deployment()
    base["metadata"]["annotations"] = {"example.com/a~b": "1", "keep": "1"}
    head["metadata"]["annotations"] = {"example.com/a~b": "2", "keep": "1"}
    rule = {"group": "apps", "kind": "Deployment", "jsonPointers": ["/metadata/annotations/example.com~1a~0b"]}
    assert only(diff([base], [head], app=make_app("web", ignore=[rule]))).ignored


def test_remove_pointer_indexes_lists_and_ignores_missing_paths() -> None:
    doc = {"a": [{"b": 1}, {"b": 2}], "c": {"d": 1}}
    for pointer in ("/a/1/b", "/a/7", "/a/01", "/a/\u00b2", "/x/y", "/c/d/e", "nope"):
        remove_pointer(doc, pointer)
    assert doc == {"a": [{"b": 1}, {}], "c": {"d": 1}}


def test_jq_path_expressions() -> None:
    base = deployment(containers=[{"name": "api", "image": "api:1"}, {"name": "istio-proxy", "image": "proxy:1"}])
    head = deployment(containers=[{"name": "api", "image": "api:1"}, {"name": "istio-proxy", "image": "proxy:2"}])
    expr = '.spec.template.spec.containers[] | select(.name == "istio-proxy") | .image'
    rule = {"group": "apps", "kind": "Deployment", "jqPathExpressions": [expr]}
    change = only(diff([base], [head], app=make_app("web", ignore=[rule])))
    assert change.deltas == (
        FieldDelta("spec.template.spec.containers[name=istio-proxy].image", "proxy:1", "proxy:2", ignored=True),
    )


@pytest.mark.parametrize("expr", [".spec.replicas | tostring", ".spec.(", '.spec.replicas, error("x")'])
def test_a_jq_expression_that_fails_is_skipped(expr: str) -> None:
    rule = {"group": "apps", "kind": "Deployment", "jqPathExpressions": [expr]}
    change = only(diff([deployment(replicas=3)], [deployment(replicas=0)], app=make_app("web", ignore=[rule])))
    assert not change.ignored


def test_emptied_maps_count_as_absent_once_a_rule_applies() -> None:
    base = deployment()
    base["metadata"]["annotations"] = {"autoscaler/last": "x"}
    rule = {"group": "apps", "kind": "Deployment", "jsonPointers": ["/metadata/annotations/autoscaler~1last"]}
    change = only(diff([base], [deployment()], app=make_app("web", ignore=[rule])))
    assert change.deltas == (FieldDelta("metadata.annotations", {"autoscaler/last": "x"}, None, "removed", True),)


def test_a_reorder_of_ignored_items_is_ignored() -> None:
    api, proxy = {"name": "api", "image": "a"}, {"name": "istio-proxy", "image": "p"}
    expr = '.spec.template.spec.containers[] | select(.name == "istio-proxy")'
    rule = {"group": "apps", "kind": "Deployment", "jqPathExpressions": [expr]}
    change = only(
        diff(
            [deployment(containers=[api, proxy])],
            [deployment(containers=[proxy, api])],
            app=make_app("web", ignore=[rule]),
        )
    )
    assert [(d.kind, d.ignored) for d in change.deltas] == [("reordered", True)]


def test_the_head_apps_rules_apply_to_a_modification() -> None:
    base_app, head_app = make_app("web"), make_app("web", ignore=[REPLICAS])
    changes = diff_renders(
        side((base_app, [deployment(replicas=3)])), side((head_app, [deployment(replicas=0)])), config=CONFIG
    )
    assert only(changes).ignored
    changes = diff_renders(
        side((head_app, [deployment(replicas=3)])), side((base_app, [deployment(replicas=0)])), config=CONFIG
    )
    assert not only(changes).ignored


def test_config_diff_ignore_applies_to_every_app() -> None:
    config = parse_config({"diff": {"ignore": [{"group": "apps", "kind": "*", "jsonPointers": ["/spec/replicas"]}]}})
    assert config.diff_ignore[0]["kind"] == "*"
    assert only(diff([deployment(replicas=3)], [deployment(replicas=0)], config=config)).ignored


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"diff": {"ignores": []}}, "unknown key"),
        ({"diff": {"ignore": [{"kind": "Deployment", "jsonPointer": ["/x"]}]}}, "unknown key"),
        ({"diff": {"ignore": [{"group": "apps", "jsonPointers": ["/x"]}]}}, "needs `kind`"),
        ({"diff": {"ignore": [{"kind": "Deployment"}]}}, "needs `jsonPointers` or `jqPathExpressions`"),
        ({"diff": {"ignore": {"kind": "Deployment"}}}, "must be a list"),
        ({"diff": {"ignore": [{"kind": "Deployment", "jsonPointers": "/x"}]}}, "list of strings"),
    ],
)
def test_config_diff_ignore_is_validated(data: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


# --- secrets --------------------------------------------------------------------------------------


def _all_text(change: Change) -> str:
    return repr(change)


def test_a_changed_secret_value_names_the_key_and_masks_the_value() -> None:
    change = only(
        diff(
            [secret(data={"password": "hunter2", "user": "app"})],
            [secret(data={"password": "swordfish", "user": "app"})],
        )
    )
    assert change.deltas == (FieldDelta("data.password", MASK, MASK, "changed"),)
    assert change.base is not None and change.head is not None
    assert change.base.body["data"] == {"password": MASK, "user": MASK}
    assert change.head.body["data"] == {"password": CHANGED_MASK, "user": MASK}
    text = _all_text(change)
    for value in ("hunter2", "swordfish", "aHVudGVyMg==", "c3dvcmRmaXNo", "YXBw"):
        assert value not in text


def test_secret_keys_added_and_removed() -> None:
    change = only(diff([secret(data={"a": "1", "tls.crt": "x"})], [secret(data={"b": "2", "tls.crt": "x"})]))
    assert change.deltas == (FieldDelta("data.a", MASK, None, "removed"), FieldDelta("data.b", None, MASK, "added"))
    change = only(diff([secret()], [secret(data={"tls.crt": "x"})]))
    assert change.deltas == (FieldDelta('data["tls.crt"]', None, MASK, "added"),)


def test_string_data_is_folded_into_data() -> None:
    assert diff([secret(data={"password": "hunter2"})], [secret(string_data={"password": "hunter2"})]) == ()
    change = only(diff([secret(data={"password": "hunter2"})], [secret(string_data={"password": "swordfish"})]))
    assert change.deltas == (FieldDelta("data.password", MASK, MASK),)
    assert change.head is not None and "stringData" not in change.head.body
    assert "swordfish" not in _all_text(change)


def test_added_and_removed_secrets_are_masked() -> None:
    body = secret(data={"password": "hunter2"}, string_data={"token": "abc123"})
    body["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": '{"stringData":{"token":"abc123"}}'
    }
    for changes in (diff([], [body]), diff([body], [])):
        change = only(changes)
        shown = change.head or change.base
        assert shown is not None and shown.body["data"] == {"password": MASK, "token": MASK}
        assert "abc123" not in _all_text(change) and "hunter2" not in _all_text(change)


def test_secret_metadata_changes_are_shown() -> None:
    head = secret(data={"a": "1"})
    head["type"] = "kubernetes.io/tls"
    change = only(diff([secret(data={"a": "1"})], [head]))
    assert change.deltas == (FieldDelta("type", None, "kubernetes.io/tls", "added"),)


def test_ignored_secret_keys_are_marked_and_still_masked() -> None:
    rule = {"kind": "Secret", "jsonPointers": ["/data/password"]}
    change = only(
        diff([secret(data={"password": "a"})], [secret(data={"password": "b"})], app=make_app("web", ignore=[rule]))
    )
    assert change.deltas == (FieldDelta("data.password", MASK, MASK, ignored=True),)
