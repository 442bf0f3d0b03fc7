"""User policies (CEL) and waivers, through real reviews of real git repos."""

from __future__ import annotations

from pathlib import Path

import pytest
from apps import application
from conftest import EXAMPLE
from rule_harness import findings_of, run_change

from reviewer.config import parse_config
from reviewer.errors import ConfigError

POLICIES = {f"policies/{p.name}": p.read_text() for p in (EXAMPLE / "policies").glob("*.yaml")}
CONFIG = "policies:\n" + "".join(f"  - {name}\n" for name in sorted(POLICIES))

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: "{image}"}}]
"""
BINDING = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: ops}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects: [{{kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io}}]
"""
PVC = """apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: {cls}
  resources: {{requests: {{storage: 1Gi}}}}
"""


def base_files(**extra: str) -> dict[str, str]:
    return {
        ".gitops-reviewer.yaml": CONFIG,
        **POLICIES,
        "argo/web.yaml": application("web", "web"),
        "web/deploy.yaml": DEPLOY.format(image="nginx:1.27"),
        "web/binding.yaml": BINDING.format(role="view"),
        "web/pvc.yaml": PVC.format(cls="standard"),
        **extra,
    }


def test_no_latest_tag(tmp_path: Path) -> None:
    report = run_change(tmp_path / "a", base_files(), {"web/deploy.yaml": DEPLOY.format(image="nginx:latest")})
    (finding,) = findings_of(report, "policy:no-latest-tag")
    assert finding.severity == "error" and finding.origin == "policy"
    assert finding.message == "Deployment web runs an image without a pinned tag (latest)"
    assert report.verdict == "fail"
    pinned = run_change(tmp_path / "b", base_files(), {"web/deploy.yaml": DEPLOY.format(image="nginx:1.28")})
    assert findings_of(pinned, "policy:no-latest-tag") == []
    assert pinned.verdict == "pass"


def test_no_new_cluster_admin_binding_judges_the_transition(tmp_path: Path) -> None:
    report = run_change(tmp_path / "a", base_files(), {"web/binding.yaml": BINDING.format(role="cluster-admin")})
    assert [f.message for f in findings_of(report, "policy:no-new-cluster-admin-binding")] == [
        "ClusterRoleBinding ops grants cluster-admin"
    ]
    # Already cluster-admin at base: an unrelated edit is not a new grant.
    already = base_files(**{"web/binding.yaml": BINDING.format(role="cluster-admin")})
    edited = BINDING.format(role="cluster-admin").replace("name: ops}]", "name: ops-team}]")
    report = run_change(tmp_path / "b", already, {"web/binding.yaml": edited})
    assert findings_of(report, "policy:no-new-cluster-admin-binding") == []


def test_no_pvc_storage_class_change(tmp_path: Path) -> None:
    report = run_change(tmp_path / "a", base_files(), {"web/pvc.yaml": PVC.format(cls="fast-ssd")})
    (finding,) = findings_of(report, "policy:no-pvc-storage-class-change")
    assert finding.message == "PVC data changes storage class from standard to fast-ssd"


def test_policies_come_from_the_base_revision(tmp_path: Path) -> None:
    # The change weakens the policy and violates it in the same commit: the base policy still judges it.
    weakened = POLICIES["policies/no-latest-tag.yaml"].replace("severity: error", "severity: info")
    report = run_change(
        tmp_path,
        base_files(),
        {"policies/no-latest-tag.yaml": weakened, "web/deploy.yaml": DEPLOY.format(image="nginx:latest")},
    )
    (finding,) = findings_of(report, "policy:no-latest-tag")
    assert finding.severity == "error"
    assert [f.rule for f in report.findings if f.rule == "config-change"] == ["config-change"]


def test_a_policy_that_fails_to_evaluate_is_an_error_finding(tmp_path: Path) -> None:
    broken = "- name: broken\n  condition: object.spec.nothing.here == 1\n  severity: warning\n  message: x\n"
    files = base_files(**{"policies/broken.yaml": broken})
    files[".gitops-reviewer.yaml"] = "policies: [policies/broken.yaml]\n"
    report = run_change(tmp_path, files, {"web/deploy.yaml": DEPLOY.format(image="nginx:1.28")})
    (finding,) = findings_of(report, "policy:broken")
    assert finding.severity == "error" and "could not be evaluated" in finding.title


def test_waivers_by_match_by_annotation_and_expiry(tmp_path: Path) -> None:
    waived_config = CONFIG + "waivers:\n  - {rule: 'policy:no-latest-tag', app: 'argocd/*', reason: load test week}\n"
    report = run_change(
        tmp_path / "a",
        base_files(**{".gitops-reviewer.yaml": waived_config}),
        {"web/deploy.yaml": DEPLOY.format(image="nginx:latest")},
    )
    (finding,) = findings_of(report, "policy:no-latest-tag")
    assert finding.waived and "(waived: load test week)" in finding.message
    assert report.verdict == "pass", "a waived finding does not fail the verdict"

    expired = CONFIG + "waivers:\n  - {rule: 'policy:no-latest-tag', reason: old, expires: 2020-01-01}\n"
    report = run_change(
        tmp_path / "b",
        base_files(**{".gitops-reviewer.yaml": expired}),
        {"web/deploy.yaml": DEPLOY.format(image="nginx:latest")},
    )
    (finding,) = findings_of(report, "policy:no-latest-tag")
    assert not finding.waived and "expired on 2020-01-01" in finding.message

    annotated = DEPLOY.format(image="nginx:latest").replace(
        "metadata: {name: web}",
        "metadata: {name: web, annotations: {gitops-reviewer.io/waive: 'policy:no-latest-tag=canary'}}",
    )
    report = run_change(tmp_path / "c", base_files(), {"web/deploy.yaml": annotated})
    (finding,) = findings_of(report, "policy:no-latest-tag")
    assert finding.waived and "canary" in finding.message


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("waivers: [{rule: x}]\n", "needs a reason"),
        ("waivers: [{reason: r}]\n", "fingerprint"),
        ("waivers: [{rule: x, reason: r, expires: soon}]\n", "expires must be a date"),
        ("rules: {severity: {prune-deletion: fatal}}\n", "severities"),
        ("rules: {disable: prune-deletion}\n", "list of strings"),
    ],
)
def test_bad_rule_and_waiver_config(config: str, message: str) -> None:
    from reviewer.yamlio import load_yaml

    with pytest.raises(ConfigError, match=message):
        parse_config(load_yaml(config))
