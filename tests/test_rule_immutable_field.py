"""immutable-field: fires on changes the API server rejects, and says what Argo CD will do; near misses stay quiet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rule_harness import findings_of, run_change

from reviewer.policies.field_patterns import AnyItem, AnyKey, Index, Item, Key, format_pattern, parse_path
from reviewer.records import Finding

RULE = "immutable-field"
REPO = "https://github.com/acme/config.git"


def application(name: str = "web", path: str = "web", **spec: Any) -> str:
    body: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": REPO, "path": path, "targetRevision": "HEAD"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
        **spec,
    }
    return yaml.safe_dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": body,
        }
    )


def manifest(api_version: str, kind: str, name: str, annotations: dict[str, str] | None = None, **fields: Any) -> str:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return yaml.safe_dump({"apiVersion": api_version, "kind": kind, "metadata": meta, **fields})


def deployment(selector: str = "api", image: str = "api:1", annotations: dict[str, str] | None = None) -> str:
    return manifest(
        "apps/v1",
        "Deployment",
        "api",
        annotations,
        spec={
            "selector": {"matchLabels": {"app": selector}},
            "template": {
                "metadata": {"labels": {"app": selector}},
                "spec": {"containers": [{"name": "api", "image": image}]},
            },
        },
    )


def review_one(
    tmp_path: Path, before: str, after: str, *, app: str | None = None, update: bool = True, **extra: str
) -> list[Finding]:
    """Findings of this rule for `web/object.yaml` going from `before` to `after`; with `update`, the
    review must see the object as modified (so a near miss is quiet for the right reason)."""
    base = {"apps/web.yaml": app or application(), "web/object.yaml": before, **extra}
    report = run_change(tmp_path, base, {"web/object.yaml": after})
    assert not report.errors, report.errors
    if update:
        assert [c.type for c in report.changes] == ["modified"]
    return findings_of(report, RULE)


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


# --- workloads --------------------------------------------------------------------------------------


def test_deployment_selector_change_fails_the_sync(tmp_path: Path) -> None:
    finding = only(review_one(tmp_path, deployment("api"), deployment("api-v2")))
    assert finding.severity == "error"
    assert finding.path == "spec.selector"
    assert finding.key is not None and (finding.key.kind, finding.key.name) == ("Deployment", "api")
    assert "sync of this app fails" in finding.message and "field is immutable" in finding.message
    assert finding.location is not None and finding.location.file == "web/object.yaml"
    assert 'spec.selector.matchLabels.app (changed): "api" -> "api-v2"' in finding.evidence


def test_deployment_template_change_is_no_finding(tmp_path: Path) -> None:
    assert review_one(tmp_path, deployment(image="api:1"), deployment(image="api:2")) == []


def test_renamed_deployment_is_not_an_update(tmp_path: Path) -> None:
    renamed = deployment("api-v2").replace("name: api\n", "name: api-v2\n")
    assert review_one(tmp_path, deployment("api"), renamed, update=False) == []


def statefulset(**spec: Any) -> str:
    body = {
        "serviceName": "db",
        "replicas": 1,
        "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "pg:16"}]}},
        "volumeClaimTemplates": [
            {
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            }
        ],
    }
    annotations = spec.pop("annotations", None)
    return manifest("apps/v1", "StatefulSet", "db", annotations, spec={**body, **spec})


def test_statefulset_outside_the_allowlist(tmp_path: Path) -> None:
    finding = only(review_one(tmp_path, statefulset(), statefulset(serviceName="db-headless")))
    assert finding.path == "spec" and "spec.serviceName" in finding.title
    assert "updates to statefulset spec for fields other than" in finding.message


def test_statefulset_allowlisted_fields_and_written_out_defaults(tmp_path: Path) -> None:
    after = statefulset(replicas=3, minReadySeconds=5, podManagementPolicy="OrderedReady", revisionHistoryLimit=10)
    assert review_one(tmp_path, statefulset(), after) == []


def test_statefulset_claim_template_with_force_is_critical(tmp_path: Path) -> None:
    force = {"argocd.argoproj.io/sync-options": "Force=true"}
    bigger = [
        {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
        }
    ]
    finding = only(
        review_one(
            tmp_path, statefulset(annotations=force), statefulset(annotations=force, volumeClaimTemplates=bigger)
        )
    )
    assert finding.severity == "critical"
    assert "kubectl apply --force" in finding.message and "deleting the StatefulSet" in finding.message


def job(image: str, **extra: Any) -> str:
    annotations = extra.pop("annotations", None)
    spec = {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": image}]}}, **extra}
    return manifest("batch/v1", "Job", "migrate", annotations, spec=spec)


def test_job_template_change(tmp_path: Path) -> None:
    finding = only(review_one(tmp_path, job("m:1"), job("m:2")))
    assert finding.path == "spec.template" and "suspended and has never started" in finding.message


def test_job_hook_and_mutable_job_fields_are_no_finding(tmp_path: Path) -> None:
    hook = {"argocd.argoproj.io/hook": "PreSync"}
    assert review_one(tmp_path / "hook", job("m:1", annotations=hook), job("m:2", annotations=hook)) == []
    assert review_one(tmp_path / "mutable", job("m:1", parallelism=1), job("m:1", parallelism=4, backoffLimit=2)) == []


def test_job_with_replace_and_force_is_recreated(tmp_path: Path) -> None:
    options = {"argocd.argoproj.io/sync-options": "Replace=true,Force=true"}
    finding = only(review_one(tmp_path, job("m:1", annotations=options), job("m:2", annotations=options)))
    assert finding.severity == "error"  # a Job holds no data
    assert "kubectl replace --force" in finding.message


def test_indexed_job_may_scale_completions_with_parallelism(tmp_path: Path) -> None:
    before = job("m:1", completionMode="Indexed", completions=2, parallelism=2)
    elastic = job("m:1", completionMode="Indexed", completions=4, parallelism=4)
    assert review_one(tmp_path / "elastic", before, elastic) == []
    lopsided = job("m:1", completionMode="Indexed", completions=4, parallelism=2)
    assert only(review_one(tmp_path / "lopsided", before, lopsided)).path == "spec.completions"


# --- Services ---------------------------------------------------------------------------------------


def service(**spec: Any) -> str:
    return manifest("v1", "Service", "api", spec={"ports": [{"port": 80}], "selector": {"app": "api"}, **spec})


def test_cluster_ip_change_once_set(tmp_path: Path) -> None:
    finding = only(review_one(tmp_path, service(clusterIP="10.0.0.10"), service(clusterIP="10.0.0.11")))
    assert finding.path == "spec.clusterIP" and "may not change once set" in finding.message


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, {"ports": [{"port": 8080}]}),  # omitted on both sides: the allocated address stays
        ({"clusterIP": "10.0.0.10"}, {}),  # dropped from Git: the API server keeps the allocated one
        ({}, {"clusterIP": ""}),
        (
            {"type": "ExternalName", "externalName": "a.example.com", "clusterIP": "10.0.0.10"},
            {"type": "ExternalName", "externalName": "b.example.com", "clusterIP": "10.0.0.11"},
        ),
    ],
)
def test_cluster_ip_near_misses(tmp_path: Path, before: dict[str, Any], after: dict[str, Any]) -> None:
    assert review_one(tmp_path, service(**before), service(**after)) == []


def test_headless_to_allocated_address_fails(tmp_path: Path) -> None:
    assert (
        only(review_one(tmp_path, service(clusterIP="None"), service(clusterIP="10.0.0.12"))).path == "spec.clusterIP"
    )


def test_primary_cluster_ip_of_dual_stack(tmp_path: Path) -> None:
    before = service(clusterIPs=["10.0.0.10"], ipFamilyPolicy="PreferDualStack")
    secondary = service(clusterIPs=["10.0.0.10", "fd00::10"], ipFamilyPolicy="PreferDualStack")
    assert review_one(tmp_path / "secondary", before, secondary) == []
    primary = service(clusterIPs=["10.0.0.20"], ipFamilyPolicy="PreferDualStack")
    assert only(review_one(tmp_path / "primary", before, primary)).path == "spec.clusterIPs"


# --- storage and data -------------------------------------------------------------------------------


def pvc(storage: str = "10Gi", annotations: dict[str, str] | None = None, **spec: Any) -> str:
    body = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}, **spec}
    return manifest("v1", "PersistentVolumeClaim", "data", annotations, spec=body)


def test_pvc_storage_shrink(tmp_path: Path) -> None:
    finding = only(review_one(tmp_path, pvc("10Gi"), pvc("8Gi")))
    assert finding.path == "spec.resources.requests.storage"
    assert "can not be less than previous value" in finding.message


def test_pvc_growth_and_equal_quantities_are_no_finding(tmp_path: Path) -> None:
    assert review_one(tmp_path / "grow", pvc("10Gi"), pvc("20Gi")) == []
    assert review_one(tmp_path / "same", pvc("1Gi"), pvc("1024Mi", volumeMode="Filesystem")) == []


def test_pvc_storage_class_settable_once(tmp_path: Path) -> None:
    assert review_one(tmp_path / "from-unset", pvc(), pvc(storageClassName="fast")) == []
    changed = only(review_one(tmp_path / "changed", pvc(storageClassName="slow"), pvc(storageClassName="fast")))
    assert changed.path == "spec.storageClassName"


def test_pvc_access_modes_with_replace_force_is_critical(tmp_path: Path) -> None:
    options = {"argocd.argoproj.io/sync-options": "Replace=true,Force=true"}
    finding = only(
        review_one(tmp_path, pvc(annotations=options), pvc(annotations=options, accessModes=["ReadWriteMany"]))
    )
    assert finding.severity == "critical" and finding.path == "spec"
    assert "new, empty volume" in finding.message


def configmap(data: dict[str, str], immutable: bool | None) -> str:
    fields: dict[str, Any] = {"data": data}
    if immutable is not None:
        fields["immutable"] = immutable
    return manifest("v1", "ConfigMap", "settings", **fields)


def test_immutable_configmap_data(tmp_path: Path) -> None:
    finding = only(review_one(tmp_path / "frozen", configmap({"a": "1"}, True), configmap({"a": "2"}, True)))
    assert finding.path == "data"
    assert review_one(tmp_path / "mutable", configmap({"a": "1"}, None), configmap({"a": "2"}, None)) == []
    # Becoming immutable is allowed.
    assert review_one(tmp_path / "freezing", configmap({"a": "1"}, False), configmap({"a": "2"}, True)) == []


def test_secret_type(tmp_path: Path) -> None:
    opaque = manifest("v1", "Secret", "creds", stringData={"k": "v"})
    explicit = manifest("v1", "Secret", "creds", type="Opaque", stringData={"k": "v"})
    tls = manifest("v1", "Secret", "creds", type="kubernetes.io/tls", stringData={"k": "v"})
    assert review_one(tmp_path / "default", opaque, explicit) == []
    assert only(review_one(tmp_path / "tls", opaque, tls)).path == "type"


def test_role_binding_role_ref(tmp_path: Path) -> None:
    def binding(role: str) -> str:
        return manifest(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            "ops",
            roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            subjects=[{"kind": "Group", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}],
        )

    assert only(review_one(tmp_path, binding("view"), binding("edit"))).path == "roleRef"


# --- what Argo CD does, by sync options -------------------------------------------------------------


def test_force_with_server_side_apply_is_a_sync_error(tmp_path: Path) -> None:
    options = {"argocd.argoproj.io/sync-options": "Force=true,ServerSideApply=true"}
    finding = only(review_one(tmp_path, deployment("api", annotations=options), deployment("b", annotations=options)))
    assert finding.severity == "error" and "refuses `--force` with `--server-side`" in finding.message


def test_force_in_app_sync_options_is_not_honoured(tmp_path: Path) -> None:
    app = application(syncPolicy={"syncOptions": ["Force=true"]})
    finding = only(review_one(tmp_path, deployment("api"), deployment("b"), app=app))
    assert "sync of this app fails" in finding.message


def test_replace_alone_still_fails(tmp_path: Path) -> None:
    app = application(syncPolicy={"syncOptions": ["Replace=true"]})
    finding = only(review_one(tmp_path, deployment("api"), deployment("b"), app=app))
    assert "kubectl replace`, rejected the same way" in finding.message


def test_ignore_differences_only_count_with_respect_ignore_differences(tmp_path: Path) -> None:
    ignore = [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/selector"]}]
    plain = application(ignoreDifferences=ignore)
    assert only(review_one(tmp_path / "applied", deployment("api"), deployment("b"), app=plain)).path == "spec.selector"
    respected = application(ignoreDifferences=ignore, syncPolicy={"syncOptions": ["RespectIgnoreDifferences=true"]})
    assert review_one(tmp_path / "respected", deployment("api"), deployment("b"), app=respected) == []


def test_moved_resource_with_selector_change(tmp_path: Path) -> None:
    base = {
        "apps/web.yaml": application(),
        "apps/api.yaml": application("api", "api"),
        "web/object.yaml": deployment("api"),
        "web/settings.yaml": configmap({"a": "1"}, None),
        "api/settings.yaml": configmap({"a": "1"}, None).replace("settings", "api-settings"),
    }
    head = {"web/object.yaml": None, "api/object.yaml": deployment("b")}
    finding = only(findings_of(run_change(tmp_path, base, head), RULE))
    assert "moves from" in finding.message and finding.path == "spec.selector"


# --- custom resources -------------------------------------------------------------------------------


CRD = yaml.safe_dump(
    {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "size": {"type": "integer"},
                                        "zone": {
                                            "type": "string",
                                            "x-kubernetes-validations": [
                                                {"rule": "self == oldSelf", "message": "zone is immutable"}
                                            ],
                                        },
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
)


def widget(**spec: Any) -> str:
    return manifest("example.com/v1", "Widget", "w", spec=spec)


def test_crd_transition_rule_makes_a_field_immutable(tmp_path: Path) -> None:
    finding = only(review_one(tmp_path, widget(zone="a"), widget(zone="b"), **{"web/crd.yaml": CRD}))
    assert finding.path == "spec.zone" and "zone is immutable" in finding.message
    assert "widgets.example.com" in finding.evidence


def test_crd_transition_rule_near_misses(tmp_path: Path) -> None:
    # Setting the field for the first time: a transition rule does not run without an old value.
    assert review_one(tmp_path / "first", widget(size=1), widget(size=1, zone="b"), **{"web/crd.yaml": CRD}) == []
    assert (
        review_one(tmp_path / "other", widget(size=1, zone="a"), widget(size=2, zone="a"), **{"web/crd.yaml": CRD})
        == []
    )


def test_crd_group_change(tmp_path: Path) -> None:
    changed = CRD.replace("group: example.com", "group: example.org")
    findings = review_one(tmp_path, CRD, changed)
    assert [f.path for f in findings] == ["spec.group"]


def test_fields_from_config(tmp_path: Path) -> None:
    config = yaml.safe_dump(
        {
            "rules": {
                "options": {
                    RULE: {"fields": [{"group": "example.com", "kind": "Gadget", "paths": ["spec.disks[].class"]}]}
                }
            }
        }
    )

    def gadget(cls: str, size: int) -> str:
        return manifest("example.com/v1", "Gadget", "g", spec={"disks": [{"class": cls, "size": size}]})

    extra = {".gitops-reviewer.yaml": config}
    assert (
        only(review_one(tmp_path / "fires", gadget("ssd", 1), gadget("hdd", 1), **extra)).path == "spec.disks[].class"
    )
    assert review_one(tmp_path / "quiet", gadget("ssd", 1), gadget("ssd", 2), **extra) == []


def test_bad_config_entry_is_a_crash_finding_naming_the_rule(tmp_path: Path) -> None:
    config = yaml.safe_dump({"rules": {"options": {RULE: {"fields": [{"kind": "Gadget", "paths": ["spec..x"]}]}}}})
    finding = only(
        review_one(tmp_path, deployment(image="a:1"), deployment(image="a:2"), **{".gitops-reviewer.yaml": config})
    )
    assert finding.title == f"rule {RULE} crashed" and "paths" in finding.message


# --- path patterns ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("spec.selector.matchLabels.app", (Key("spec"), Key("selector"), Key("matchLabels"), Key("app"))),
        ('metadata.labels["app.kubernetes.io/name"]', (Key("metadata"), Key("labels"), Key("app.kubernetes.io/name"))),
        ("spec.containers[name=api].image", (Key("spec"), Key("containers"), Item("name=api"), Key("image"))),
        (
            "spec.ports[port=53,protocol=UDP].name",
            (Key("spec"), Key("ports"), Item("port=53,protocol=UDP"), Key("name")),
        ),
        ('env[name="a]b"].value', (Key("env"), Item('name="a]b"'), Key("value"))),
        ("args[2]", (Key("args"), Index(2))),
    ],
)
def test_delta_paths_parse_and_print_back(text: str, segments: tuple[Any, ...]) -> None:
    assert parse_path(text) == segments
    assert format_pattern(segments) == text


def test_pattern_wildcards() -> None:
    assert parse_path("spec.*.x[].y", pattern=True) == (Key("spec"), AnyKey(), Key("x"), AnyItem(), Key("y"))
    with pytest.raises(ValueError):
        parse_path("spec.*")  # wildcards only in patterns


def test_crds_are_found_in_every_render_in_order_and_only_with_their_group() -> None:
    from reviewer.policies.immutable_table import CRD_GROUP, CRD_KIND, crds_of
    from reviewer.records import Resource, ResourceKey

    def res(group: str, kind: str, name: str) -> Resource:
        return Resource(ResourceKey(group, kind, "", name), "v1", {}, "argocd/a")

    crd_a, crd_b = res(CRD_GROUP, CRD_KIND, "a.example.com"), res(CRD_GROUP, CRD_KIND, "b.example.com")
    lookalike = res("other.example.com", CRD_KIND, "c")  # the kind of a CRD in another group
    renders = [
        (res("", "ConfigMap", "x"), crd_a, lookalike),
        (),
        [res("apps", "Deployment", "y")],
        iter([crd_b, res("", "Service", "z")]),  # any iterable, not only a sequence
    ]
    assert list(crds_of(renders)) == [crd_a, crd_b]


def _violations_without_the_path_filter(change: Any, table: Any) -> list[Any]:
    """immutable_table.violations as it reads every rule's conditions before looking at the deltas."""
    from reviewer.policies import immutable_table as it

    assert change.base is not None and change.head is not None
    base, head = change.base.body, change.head.body
    facts = table.facts_for(change.key.group, change.key.kind)
    deltas = [(d, p) for d in change.deltas if (p := it._parsed(d)) is not None and not it._noise(d, p, facts)]
    found = []
    for rule in table.rules_for(change.head):
        if not all(it.BODY_CONDITIONS[c](base, head) for c in rule.when if c in it.BODY_CONDITIONS):
            continue
        checks = [it.VALUE_CONDITIONS[c] for c in rule.when if c in it.VALUE_CONDITIONS]
        hits = [d for d, p in deltas if (v := it._field_values(d, p, rule)) is not None and all(c(*v) for c in checks)]
        if hits and it._compare_holds(rule, base, head):
            found.append(it.Violation(rule, tuple(hits)))
    return found


def test_only_deltas_near_a_field_are_read_and_the_answers_are_those_of_reading_all() -> None:
    from reviewer.config import Config
    from reviewer.diff import diff_renders
    from reviewer.policies.immutable_table import builtin_table, violations
    from reviewer.records import App, Destination, RenderResult, Resource, ResourceKey, SyncPolicy

    app = App(
        "web",
        "argocd",
        "default",
        (),
        Destination("https://kubernetes.default.svc", "", "web"),
        SyncPolicy(),
        (),
        (),
        None,
        {},
    )
    service = {"type": "ClusterIP", "clusterIP": "10.0.0.1", "ports": [{"port": 80}], "selector": {"app": "a"}}
    pairs: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("", "Service", {"spec": service}, {"spec": {**service, "clusterIP": "10.0.0.2"}}),
        ("", "Service", {"spec": service}, {"spec": {**service, "type": "ExternalName", "clusterIP": "10.0.0.2"}}),
        ("", "Service", {"spec": {**service, "clusterIP": "None"}}, {"spec": {**service, "clusterIP": "10.0.0.9"}}),
        ("", "Service", {"spec": service}, {}),  # the whole spec removed: a delta above every field
        ("", "Service", {"spec": service}, {"spec": {**service, "ports": [{"port": 81}]}}),
        (
            "apps",
            "Deployment",
            {"spec": {"selector": {"matchLabels": {"a": "1"}}, "replicas": 1}},
            {"spec": {"selector": {"matchLabels": {"a": "2"}}, "replicas": 1}},
        ),
        ("apps", "Deployment", {"spec": {"replicas": 1}}, {"spec": {"replicas": 2}}),
        ("apps", "StatefulSet", {"spec": {"serviceName": "a", "replicas": 1}}, {"spec": {"serviceName": "b"}}),
        (
            "batch",
            "Job",
            {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}},
            {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:2"}]}}, "parallelism": 2}},
        ),
        (
            "",
            "PersistentVolumeClaim",
            {"spec": {"resources": {"requests": {"storage": "2Gi"}}, "volumeMode": "Filesystem"}},
            {"spec": {"resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Block"}},
        ),
        ("", "ConfigMap", {"immutable": True, "data": {"a": "1"}}, {"immutable": True, "data": {"a": "2"}}),
        ("", "ConfigMap", {"data": {"a": "1"}}, {"data": {"a": "2"}}),
    ]
    table = builtin_table()
    checked = 0
    for n, (group, kind, before, after) in enumerate(pairs):
        key = ResourceKey(group, kind, "web", f"r{n}")
        version = f"{group}/v1" if group else "v1"

        def side(body: dict[str, Any], key: ResourceKey = key, version: str = version, kind: str = kind) -> Any:
            full = {"apiVersion": version, "kind": kind, "metadata": {"name": key.name, "namespace": "web"}, **body}
            return {app.id: (app, RenderResult(app.id, (Resource(key, version, full, app.id),)))}

        (change,) = diff_renders(side(before), side(after), config=Config())
        for skip in (False, True):
            assert violations(change, table, skip_ignored=skip) == _violations_without_the_path_filter(change, table)
        checked += bool(_violations_without_the_path_filter(change, table))
    assert checked >= 5, "the cases must include violations, not only quiet changes"


def test_is_near_answers_as_is_under_or_is_above() -> None:
    """The one-pass check of the deltas near a rule's field against the two it stands for, on paths and
    patterns with every kind of segment (keys that look alike, wildcards, indexes, keyed items)."""
    import itertools

    from reviewer.policies.field_patterns import is_above, is_near, is_under, parse_path

    texts = ["spec", "spec.a", "spec.b", 'spec["a"]', "spec.a.b", "spec.a[0]", "spec.a[name=x]", "spec.a[1].b"]
    patterns = ["spec", "spec.a", "spec.*", "spec.a[]", "spec.a[].b", "spec.*.b", "*", "spec.a[0]", "spec.a[name=x]"]
    paths = [parse_path(t) for t in texts]
    for path, pattern in itertools.product(paths, [parse_path(p, pattern=True) for p in patterns]):
        assert is_near(path, pattern) is (is_under(path, pattern) or is_above(path, pattern)), (path, pattern)
    # A segment that is no wildcard matches exactly what the dataclass's `==` calls equal.
    from reviewer.policies.field_patterns import _matches

    segments = {s for p in paths for s in p} | {Key("0"), Index(0), Item("name=x"), Key("name=x")}
    for wanted, seen in itertools.product(segments, segments):
        assert _matches(wanted, seen) is (wanted == seen), (wanted, seen)
