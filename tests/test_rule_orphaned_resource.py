"""orphaned-resource: what an app that does not prune leaves running, and the near misses."""

from __future__ import annotations

from pathlib import Path

from argo_fixtures import SYNC_OPTIONS, application, configmap, crd, job_hook, pvc, service, sync_policy
from rule_harness import findings_of, run_change, run_example

from reviewer.policies import orphaned_resource
from reviewer.records import Finding, Report

RULE = "orphaned-resource"


def only(report: Report) -> Finding:
    (finding,) = findings_of(report, RULE)
    return finding


def removed(report: Report, kind: str, name: str) -> bool:
    return any(c.type == "removed" and (c.key.kind, c.key.name) == (kind, name) for c in report.changes)


def test_documented_failing_example(tmp_path: Path) -> None:
    finding = only(run_example(tmp_path, orphaned_resource.EXAMPLES["fails"]))
    assert finding.severity == "warning"
    assert str(finding.key) == "Service web/admin"
    assert "automated sync does not prune" in finding.message
    assert "OutOfSync" in finding.message


def test_app_without_automated_sync(tmp_path: Path) -> None:
    base = {"apps/web.yaml": application("web"), "web/a.yaml": service("a"), "web/b.yaml": service("b", port=81)}
    finding = only(run_change(tmp_path, base, {"web/b.yaml": None}))
    assert "no automated sync" in finding.message and "manual sync" in finding.message
    assert finding.evidence == "no syncPolicy.automated"


def test_prune_false_in_a_pruning_app(tmp_path: Path) -> None:
    base = {
        "apps/web.yaml": application("web", policy=sync_policy()),
        "web/a.yaml": service("a"),
        "web/data.yaml": pvc(annotations={SYNC_OPTIONS: "Prune=false"}),
    }
    finding = only(run_change(tmp_path, base, {"web/data.yaml": None}))
    assert finding.severity == "warning"
    assert "Prune=false" in finding.message


def test_ignore_extraneous_keeps_the_app_synced(tmp_path: Path) -> None:
    extraneous = {"argocd.argoproj.io/compare-options": "IgnoreExtraneous"}
    base = {
        "apps/web.yaml": application("web"),
        "web/a.yaml": service("a"),
        "web/b.yaml": service("b", port=81, annotations=extraneous),
    }
    finding = only(run_change(tmp_path, base, {"web/b.yaml": None}))
    assert "still reports Synced" in finding.message


def test_rename_leaves_the_old_object_beside_the_new_one(tmp_path: Path) -> None:
    base = {"apps/web.yaml": application("web"), "web/a.yaml": service("a"), "web/svc.yaml": service("api", port=81)}
    finding = only(run_change(tmp_path, base, {"web/svc.yaml": service("api-v2", port=81)}))
    assert "renamed from Service demo/api to Service demo/api-v2" in finding.message
    assert "beside the new one" in finding.message


def test_superseded_generated_configmap_is_info(tmp_path: Path) -> None:
    base = {
        "apps/web.yaml": application("web"),
        "web/a.yaml": service("a"),
        "web/cfg.yaml": configmap("cfg-5t9m2bh7k8"),
    }
    finding = only(run_change(tmp_path, base, {"web/cfg.yaml": configmap("cfg-h2g7fbd5c6", data={"a": "2"})}))
    assert finding.severity == "info"
    assert "superseded by its regenerated version cfg-h2g7fbd5c6" in finding.message


def test_pruning_app_is_prune_deletion_not_this_rule(tmp_path: Path) -> None:
    base = {
        "apps/web.yaml": application("web", policy=sync_policy()),
        "web/a.yaml": service("a"),
        "web/b.yaml": service("b", port=81),
    }
    report = run_change(tmp_path, base, {"web/b.yaml": None})
    assert not findings_of(report, RULE)
    assert findings_of(report, "prune-deletion")


def test_removed_hook_is_no_finding(tmp_path: Path) -> None:
    base = {"apps/web.yaml": application("web"), "web/a.yaml": service("a"), "web/migrate.yaml": job_hook()}
    report = run_change(tmp_path, base, {"web/migrate.yaml": None})
    assert any(c.type == "removed" and c.hook for c in report.changes)
    assert not findings_of(report, RULE)


def test_removed_crd_is_no_finding(tmp_path: Path) -> None:
    base = {"apps/web.yaml": application("web"), "web/a.yaml": service("a"), "web/crd.yaml": crd()}
    report = run_change(tmp_path, base, {"web/crd.yaml": None})
    assert removed(report, "CustomResourceDefinition", "widgets.example.com")
    assert not findings_of(report, RULE)


def test_whole_app_removed_is_not_this_rule(tmp_path: Path) -> None:
    base = {
        "root.yaml": application("apps", "apps", policy=sync_policy()),
        "apps/web.yaml": application("web"),
        "apps/api.yaml": application("api"),
        "api/a.yaml": service("a"),
        "web/b.yaml": service("b"),
    }
    report = run_change(tmp_path, base, {"apps/web.yaml": None})
    assert removed(report, "Service", "b")
    assert not findings_of(report, RULE)


def test_cluster_change_is_destination_change_not_this_rule(tmp_path: Path) -> None:
    base = {"apps/web.yaml": application("web"), "web/a.yaml": service("a")}
    report = run_change(tmp_path, base, {"apps/web.yaml": application("web", server="https://prod.example.com")})
    assert removed(report, "Service", "a")
    assert not findings_of(report, RULE)
