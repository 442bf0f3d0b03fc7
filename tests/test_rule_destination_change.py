"""destination-change: an app pointed at another namespace or cluster."""

from __future__ import annotations

from pathlib import Path

from argo_fixtures import SYNC_OPTIONS, application, pvc, service, sync_policy
from rule_harness import findings_of, run_change, run_example

from reviewer.policies import destination_change
from reviewer.records import Finding, Report

RULE = "destination-change"
FILES = {"web/svc.yaml": service("web"), "web/data.yaml": pvc()}


def only(report: Report) -> Finding:
    (finding,) = findings_of(report, RULE)
    return finding


def web(**kw: object) -> str:
    kw.setdefault("policy", sync_policy())
    return application("web", **kw)  # type: ignore[arg-type]


def test_documented_failing_example(tmp_path: Path) -> None:
    finding = only(run_example(tmp_path, destination_change.EXAMPLES["fails"]))
    assert finding.severity == "critical"
    assert finding.path == "spec.destination.namespace"
    assert "from web to web-v2" in finding.message


def test_namespace_change_with_prune_deletes_and_recreates(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(namespace="a"), **FILES}
    finding = only(run_change(tmp_path, base, {"apps/web.yaml": web(namespace="b")}))
    assert finding.severity == "critical"
    assert "prunes 2 resources in a and recreates them in b" in finding.message
    assert "The data of PersistentVolumeClaim a/data is not carried over" in finding.message
    assert finding.app == "argocd/web"
    assert finding.location is not None and finding.location.file == "apps/web.yaml"


def test_namespace_change_without_prune_leaves_old_copies(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(namespace="a", policy=None), **FILES}
    finding = only(run_change(tmp_path, base, {"apps/web.yaml": web(namespace="b", policy=None)}))
    assert finding.severity == "error"
    assert "keep running in a" in finding.message


def test_prune_false_resources_are_left_not_pruned(tmp_path: Path) -> None:
    files = {"web/svc.yaml": service("web"), "web/data.yaml": pvc(annotations={SYNC_OPTIONS: "Prune=false"})}
    base = {"apps/web.yaml": web(namespace="a"), **files}
    finding = only(run_change(tmp_path, base, {"apps/web.yaml": web(namespace="b")}))
    assert finding.severity == "critical"
    assert "prunes 1 resource in a and recreates it in b: Service a/web." in finding.message
    assert "left running in a: PersistentVolumeClaim a/data" in finding.message


def test_namespace_change_that_moves_no_resource_is_no_finding(tmp_path: Path) -> None:
    files = {"web/svc.yaml": service("web", namespace="fixed")}
    base = {"apps/web.yaml": web(namespace="a"), **files}
    report = run_change(tmp_path, base, {"apps/web.yaml": web(namespace="b")})
    (status,) = [s for s in report.apps if s.app == "argocd/web"]
    assert status.base is not None and status.head is not None
    assert (status.base.destination.namespace, status.head.destination.namespace) == ("a", "b")
    assert not findings_of(report, RULE)


def test_cluster_change_orphans_everything_on_the_old_cluster(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(namespace="a"), **FILES}
    finding = only(run_change(tmp_path, base, {"apps/web.yaml": web(namespace="a", server="https://prod.example.com")}))
    assert finding.severity == "error"
    assert finding.path == "spec.destination.server"
    assert "its 2 resources on https://kubernetes.default.svc are orphaned there" in finding.message
    assert "https://prod.example.com" in finding.message


def test_cluster_and_namespace_change_is_reported_once_as_a_cluster_change(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(namespace="a"), **FILES}
    head = {"apps/web.yaml": web(namespace="b", server="https://prod.example.com")}
    assert only(run_change(tmp_path, base, head)).severity == "error"


def test_server_to_the_name_of_the_same_cluster_is_no_change(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(namespace="a"), **FILES}
    head = {"apps/web.yaml": web(namespace="a", server=None, cluster_name="in-cluster")}
    report = run_change(tmp_path, base, head)
    assert not report.changes
    assert not findings_of(report, RULE)


def test_unchanged_destination_is_no_finding(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(namespace="a"), **FILES}
    report = run_change(tmp_path, base, {"web/svc.yaml": service("web", port=81)})
    assert report.changes
    assert not findings_of(report, RULE)
