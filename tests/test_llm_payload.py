"""The payload builder on hand-made change sets: priority order, the input budget, deletions never
dropped, Secrets as key names only, references to removed objects."""

from __future__ import annotations

import json

from reviewer.llm.payload import build_payload, change_tier, estimate_tokens, resource_id
from reviewer.records import (
    App,
    AppStatus,
    Change,
    Destination,
    FieldDelta,
    Finding,
    Resource,
    ResourceKey,
    SyncPolicy,
)

APP = "argocd/shop"
CLUSTER = "https://kubernetes.default.svc"


def app_record(prune: bool = True) -> App:
    return App(
        name="shop",
        namespace="argocd",
        project="default",
        sources=(),
        destination=Destination(server=CLUSTER, namespace="shop"),
        sync_policy=SyncPolicy(automated=True, prune=prune),
        ignore_differences=(),
        finalizers=(),
        defined_in=None,
        manifest={},
    )


STATUSES = {APP: AppStatus(app=APP, name="shop", state="changed", base=app_record(False), head=app_record())}


def resource(kind: str, name: str, body: dict[str, object] | None = None, group: str = "") -> Resource:
    api_version = f"{group}/v1" if group else "v1"
    key = ResourceKey(group, kind, "shop", name)
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": "shop"}}
    return Resource(key, api_version, {**manifest, **(body or {})}, APP)


def modified(kind: str, name: str, path: str, before: object, after: object, group: str = "") -> Change:
    res = resource(kind, name, group=group)
    return Change(res.key, "modified", CLUSTER, base=res, head=res, deltas=(FieldDelta(path, before, after),))


def removed(kind: str, name: str, body: dict[str, object] | None = None) -> Change:
    res = resource(kind, name, body)
    return Change(res.key, "removed", CLUSTER, base=res)


def big_configmap(name: str, size: int) -> Change:
    res = resource("ConfigMap", name, {"data": {"blob": "x" * size}})
    return Change(res.key, "added", CLUSTER, head=res)


def test_priority_rule_findings_then_deletions_then_notable_then_rest() -> None:
    rest = modified("ConfigMap", "settings", "data.colour", "blue", "green")
    notable = modified("Deployment", "web", "spec.replicas", 3, 2, group="apps")
    rbac = modified("ClusterRole", "reader", "rules[0].verbs", ["get"], ["*"], group="rbac.authorization.k8s.io")
    deletion = removed("Service", "web")
    flagged = modified("Service", "api", "spec.type", "ClusterIP", "LoadBalancer")
    finding = Finding(rule="some-rule", severity="warning", title="t", message="m", app=APP, key=flagged.key)
    payload = build_payload(
        [rest, notable, rbac, deletion, flagged], STATUSES, [finding], budget_tokens=10_000, head_resources={}
    )
    ids = [c["id"] for c in json.loads(payload.text)["changes"]]
    assert ids == [resource_id(APP, c.key) for c in (flagged, deletion, notable, rbac, rest)]
    flagged_keys = {(APP, flagged.key)}
    assert [change_tier(c, flagged_keys) for c in (flagged, deletion, notable, rbac, rest)] == [0, 1, 2, 2, 3]
    document = json.loads(payload.text)
    assert document["apps"][0]["syncPolicyAtBase"]["prune"] is False
    assert document["apps"][0]["syncPolicy"]["prune"] is True


def test_what_does_not_fit_is_named_and_deletions_are_never_dropped() -> None:
    deletions = [removed("ConfigMap", f"old-{i}", {"data": {"k": "v" * 300}}) for i in range(3)]
    fillers = [big_configmap(f"new-{i}", 3000) for i in range(5)]
    payload = build_payload([*fillers, *deletions], STATUSES, [], budget_tokens=2500, head_resources={})
    sent = {c["id"] for c in json.loads(payload.text)["changes"]}
    for deletion in deletions:
        assert resource_id(APP, deletion.key) in sent
    assert payload.not_reviewed, "some additions did not fit"
    assert all(name.endswith("(added)") for name in payload.not_reviewed)
    assert sent | {n.removesuffix(" (added)") for n in payload.not_reviewed} == {
        resource_id(APP, c.key) for c in [*fillers, *deletions]
    }
    assert payload.tokens <= 2500
    for name in payload.not_reviewed:
        assert name.removesuffix(" (added)") not in payload.resources, "a finding cannot cite what was not sent"


def test_deletions_shrink_to_brief_entries_before_anything_else_is_left_out() -> None:
    deletions = [removed("ConfigMap", f"old-{i}", {"data": {"k": "v" * 1400}}) for i in range(4)]
    payload = build_payload(deletions, STATUSES, [], budget_tokens=900, head_resources={})
    assert not payload.unavailable and not payload.not_reviewed
    changes = json.loads(payload.text)["changes"]
    assert len(changes) == 4
    assert any("manifest" not in c and c["detail"].startswith("field values") for c in changes)
    assert payload.brief


def test_when_even_the_deletions_do_not_fit_there_is_no_review() -> None:
    deletions = [removed("ConfigMap", f"old-{i}") for i in range(40)]
    payload = build_payload(deletions, STATUSES, [], budget_tokens=300, head_resources={})
    assert payload.text == "" and not payload.resources
    assert payload.unavailable.startswith("the 40 deletions alone need about")
    assert "llm.maxInputTokens" in payload.unavailable


def test_secrets_show_key_names_and_what_changed_never_values() -> None:
    key = ResourceKey("", "Secret", "shop", "db")
    secret = {"apiVersion": "v1", "kind": "Secret"}
    base = Resource(key, "v1", {**secret, "data": {"user": "YQ==", "pw": "Yg=="}}, APP)
    head = Resource(key, "v1", {**secret, "data": {"user": "YQ==", "pw": "Yw==", "new": "ZA=="}}, APP)
    change = Change(key, "modified", CLUSTER, base=base, head=head, deltas=(FieldDelta("data.pw", "Yg==", "Yw=="),))
    payload = build_payload([change], STATUSES, [], budget_tokens=5000, head_resources={})
    assert "Yg==" not in payload.text and "Yw==" not in payload.text and "ZA==" not in payload.text
    (entry,) = json.loads(payload.text)["changes"]
    assert entry["secretKeys"] == [
        {"key": "new", "change": "added"},
        {"key": "pw", "change": "changed"},
        {"key": "user", "change": "unchanged"},
    ]
    assert entry["fields"] == [{"path": "data.pw", "change": "changed", "before": "<redacted>", "after": "<redacted>"}]
    assert payload.redacted_values == 3


def test_references_to_a_removed_object_come_along() -> None:
    deletion = removed("ConfigMap", "web-config")
    deployment = resource(
        "Deployment",
        "web",
        {"spec": {"template": {"spec": {"volumes": [{"name": "cfg", "configMap": {"name": "web-config"}}]}}}},
        group="apps",
    )
    other_namespace = Resource(
        ResourceKey("apps", "Deployment", "elsewhere", "web"),
        "apps/v1",
        {"spec": {"template": {"spec": {"volumes": [{"configMap": {"name": "web-config"}}]}}}},
        APP,
    )
    payload = build_payload(
        [deletion], STATUSES, [], budget_tokens=5000, head_resources={APP: [deployment, other_namespace]}
    )
    (reference,) = json.loads(payload.text)["references"]
    assert reference == {
        "from": resource_id(APP, deployment.key),
        "field": "spec.template.spec.volumes[0].configMap.name",
        "to": resource_id(APP, deletion.key),
        "fromIsUnchanged": True,
    }
    assert resource_id(APP, deployment.key) in payload.resources, "the model may cite the referrer"


def test_long_values_are_cut_and_noise_is_left_out() -> None:
    res = resource(
        "ConfigMap",
        "big",
        {
            "metadata": {
                "name": "big",
                "namespace": "shop",
                "managedFields": [{"manager": "kubectl"}],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
            },
            "data": {"blob": "y" * 5000},
            "status": {"phase": "x"},
        },
    )
    payload = build_payload([Change(res.key, "added", CLUSTER, head=res)], STATUSES, [], budget_tokens=9000)
    (entry,) = json.loads(payload.text)["changes"]
    assert entry["manifest"]["metadata"] == {"name": "big", "namespace": "shop"}
    assert "status" not in entry["manifest"]
    assert entry["manifest"]["data"]["blob"].endswith("…[3500 more characters]")


def test_token_estimate_is_cautious() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 2
