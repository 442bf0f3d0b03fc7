"""replicas-zero: an existing workload scaled to 0 fires; a workload already at 0, a cut that is not to 0,
and kinds that do not scale pods do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from rule_harness import findings_of, run_change

from reviewer.policies.example_manifests import application, deployment
from reviewer.records import Finding

RULE = "replicas-zero"
APP_FILE = "apps/argocd/web.yaml"
WORKLOAD = "apps/web/workload.yaml"
IGNORE_REPLICAS = """  ignoreDifferences:
  - {group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}
"""
_APP = application("web", "apps/web", sync_policy="{automated: {prune: true}}")


def _findings(tmp_path: Path, base: str | None, head: str, *, app: str = _APP) -> list[Finding]:
    files = {APP_FILE: app, "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\n"}
    if base is not None:
        files[WORKLOAD] = base
    return findings_of(run_change(tmp_path, files, {WORKLOAD: head}), RULE)


def _hpa(max_replicas: int) -> str:
    return f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: api}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}
  minReplicas: 1
  maxReplicas: {max_replicas}
"""


def _scaled_object(max_count: int) -> str:
    return f"""apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {{name: api}}
spec:
  scaleTargetRef: {{name: api}}
  maxReplicaCount: {max_count}
  triggers: [{{type: cpu, metadata: {{value: "70"}}}}]
"""


def test_deployment_to_zero_is_an_error(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, deployment("api", 3), deployment("api", 0))
    assert finding.severity == "error"
    assert str(finding.key) == "apps/Deployment web/api"
    assert finding.app == "argocd/web"
    assert finding.path == "spec.replicas"
    assert finding.location is not None and finding.location.file == WORKLOAD
    assert "from 3 to 0 replicas" in finding.message and "terminates all its pods" in finding.message
    assert finding.evidence == "spec.replicas: 3 -> 0"
    assert "ignoreDifferences" not in finding.message


def test_absent_replicas_count_as_one(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, deployment("api", None), deployment("api", 0))
    assert "from 1 to 0" in finding.message


@pytest.mark.parametrize(
    ("kind", "api_version"),
    [("StatefulSet", "apps/v1"), ("ReplicaSet", "apps/v1"), ("Rollout", "argoproj.io/v1alpha1")],
)
def test_other_workload_kinds(tmp_path: Path, kind: str, api_version: str) -> None:
    base = deployment("api", 2, kind=kind, api_version=api_version)
    head = deployment("api", 0, kind=kind, api_version=api_version)
    (finding,) = _findings(tmp_path, base, head)
    assert finding.key is not None and finding.key.kind == kind
    assert finding.severity == "error"


def test_ignore_differences_does_not_hide_it(tmp_path: Path) -> None:
    app = _APP + IGNORE_REPLICAS
    (finding,) = _findings(tmp_path, deployment("api", 3), deployment("api", 0), app=app)
    assert finding.severity == "error"
    assert "ignoreDifferences covers spec.replicas" in finding.message
    assert "next sync of the app applies it" in finding.message
    assert "RespectIgnoreDifferences=true" in finding.message


def test_respect_ignore_differences_says_argo_cd_will_not_apply_it(tmp_path: Path) -> None:
    app = application(
        "web", "apps/web", sync_policy="{automated: {prune: true}, syncOptions: [RespectIgnoreDifferences=true]}"
    )
    (finding,) = _findings(tmp_path, deployment("api", 3), deployment("api", 0), app=app + IGNORE_REPLICAS)
    assert "sets RespectIgnoreDifferences=true" in finding.message
    assert "will not apply this to the existing object" in finding.message


def test_new_workload_at_zero_is_info(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, None, deployment("api", 0))
    assert finding.severity == "info"
    assert finding.title.startswith("new ")


def test_hpa_max_replicas_zero(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, _hpa(5), _hpa(0))
    assert finding.severity == "error"
    assert finding.path == "spec.maxReplicas"
    assert "Deployment api" in finding.message and "must be greater than 0" in finding.message


def test_new_hpa_at_zero_stays_an_error(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, None, _hpa(0))
    assert finding.severity == "error"


def test_keda_max_replica_count_zero(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, _scaled_object(10), _scaled_object(0))
    assert finding.severity == "error"
    assert finding.path == "spec.maxReplicaCount"
    assert "kedacore/keda#5570" in finding.message


def test_already_at_zero_is_no_finding(tmp_path: Path) -> None:
    """Rules judge transitions: the workload was stopped before this change (only its image changes)."""
    head = deployment("api", 0).replace("nginx:1.27", "nginx:1.28")
    assert _findings(tmp_path, deployment("api", 0), head) == []


def test_a_cut_that_is_not_to_zero_is_no_finding(tmp_path: Path) -> None:
    assert _findings(tmp_path, deployment("api", 3), deployment("api", 1)) == []


def test_hpa_min_replicas_zero_is_no_finding(tmp_path: Path) -> None:
    head = _hpa(5).replace("minReplicas: 1", "minReplicas: 0")
    assert _findings(tmp_path, _hpa(5), head) == []


def test_kinds_that_do_not_run_pods_are_ignored(tmp_path: Path) -> None:
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec: {{replicas: {n}}}\n"
    assert _findings(tmp_path, widget.format(n=3), widget.format(n=0)) == []
