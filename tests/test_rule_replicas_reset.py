"""replicas-reset: removing `spec.replicas` from a workload no autoscaler targets fires; an HPA or KEDA
ScaledObject of the same app targeting it, a base count of 1, and RespectIgnoreDifferences do not."""

from __future__ import annotations

from pathlib import Path

from rule_harness import findings_of, run_change

from reviewer.policies.example_manifests import application, deployment
from reviewer.records import Finding

RULE = "replicas-reset"
_APP = application("web", "apps/web", sync_policy="{automated: {prune: true}}")
_OTHER_APP = application("jobs", "apps/jobs", sync_policy="{automated: {prune: true}}")
IGNORE_REPLICAS = """  ignoreDifferences:
  - {group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}
"""
WORKLOAD = "apps/web/deployment.yaml"


def _hpa(target: str = "api", kind: str = "Deployment") -> str:
    return f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: {target}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: {kind}, name: {target}}}
  minReplicas: 2
  maxReplicas: 8
"""


SCALED_OBJECT = """apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: api}
spec:
  scaleTargetRef: {name: api}
  triggers: [{type: cpu, metadata: {value: "70"}}]
"""


def _findings(
    tmp_path: Path, before: int | None, *, app: str = _APP, extra_head: dict[str, str] | None = None
) -> list[Finding]:
    base = {"apps/argocd/web.yaml": app, "apps/argocd/jobs.yaml": _OTHER_APP, WORKLOAD: deployment("api", before)}
    base["apps/jobs/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\n"
    head = {WORKLOAD: deployment("api", None), **(extra_head or {})}
    return findings_of(run_change(tmp_path, base, head), RULE)


def test_removed_replicas_reset_to_one(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, 4)
    assert finding.severity == "warning"
    assert str(finding.key) == "apps/Deployment web/api"
    assert finding.path == "spec.replicas"
    assert finding.location is not None and finding.location.file == WORKLOAD
    assert "goes from 4 to 1 pod" in finding.message
    assert "ignoreDifferences" not in finding.message


def test_from_zero_it_starts_a_pod(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, 0)
    assert "from 0 to 1 pod" in finding.message


def test_an_hpa_in_another_app_does_not_count(tmp_path: Path) -> None:
    assert _findings(tmp_path, 4, extra_head={"apps/jobs/hpa.yaml": _hpa()})


def test_an_hpa_of_another_workload_does_not_count(tmp_path: Path) -> None:
    assert _findings(tmp_path, 4, extra_head={"apps/web/hpa.yaml": _hpa(target="worker")})
    assert _findings(tmp_path / "kind", 4, extra_head={"apps/web/hpa.yaml": _hpa(kind="StatefulSet")})


def test_ignore_differences_alone_still_resets(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, 4, app=_APP + IGNORE_REPLICAS)
    assert "ignoreDifferences covers spec.replicas" in finding.message


def test_an_hpa_targeting_it_owns_the_count(tmp_path: Path) -> None:
    assert _findings(tmp_path, 4, extra_head={"apps/web/hpa.yaml": _hpa()}) == []


def test_a_keda_scaled_object_targeting_it_owns_the_count(tmp_path: Path) -> None:
    """KEDA's scaleTargetRef defaults to an apps/v1 Deployment."""
    assert _findings(tmp_path, 4, extra_head={"apps/web/so.yaml": SCALED_OBJECT}) == []


def test_removing_the_default_moves_nothing(tmp_path: Path) -> None:
    assert _findings(tmp_path, 1) == []


def test_respect_ignore_differences_keeps_the_live_count(tmp_path: Path) -> None:
    app = application(
        "web", "apps/web", sync_policy="{automated: {prune: true}, syncOptions: [RespectIgnoreDifferences=true]}"
    )
    assert _findings(tmp_path, 4, app=app + IGNORE_REPLICAS) == []


def test_a_count_never_set_is_no_finding(tmp_path: Path) -> None:
    base = {"apps/argocd/web.yaml": _APP, WORKLOAD: deployment("api", None)}
    head = {WORKLOAD: deployment("api", None).replace("nginx:1.27", "nginx:1.28")}
    assert findings_of(run_change(tmp_path, base, head), RULE) == []
