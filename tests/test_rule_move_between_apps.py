"""move-between-apps: a resource moved from one app to another, and whether the old app can delete it."""

from __future__ import annotations

from pathlib import Path

from argo_fixtures import FINALIZER, SYNC_OPTIONS, application, crd, job_hook, pvc, service, sync_policy
from rule_harness import findings_of, run_change, run_example

from reviewer.policies import move_between_apps
from reviewer.records import Finding, Report

RULE = "move-between-apps"


def only(report: Report) -> Finding:
    (finding,) = findings_of(report, RULE)
    return finding


def moved(report: Report, kind: str) -> bool:
    return any(c.type == "moved" and c.key.kind == kind for c in report.changes)


def two_apps(
    old_policy: dict[str, object] | None, new_policy: dict[str, object] | None, files: dict[str, str]
) -> dict[str, str]:
    return {
        "apps/web.yaml": application("web", policy=old_policy),
        "apps/db.yaml": application("db", policy=new_policy),
        "web/svc.yaml": service("web"),
        "db/svc.yaml": service("db"),
        **files,
    }


def test_documented_failing_example(tmp_path: Path) -> None:
    finding = only(run_example(tmp_path, move_between_apps.EXAMPLES["fails"]))
    assert finding.severity == "error"
    assert str(finding.key) == "PersistentVolumeClaim shop/data"
    assert finding.app == "argocd/db"
    assert "if argocd/web syncs before argocd/db" in finding.message


def test_data_bearing_kind_from_a_pruning_app_is_an_error(tmp_path: Path) -> None:
    base = two_apps(sync_policy(), sync_policy(), {"web/data.yaml": pvc()})
    finding = only(run_change(tmp_path, base, {"web/data.yaml": None, "db/data.yaml": pvc()}))
    assert finding.severity == "error"
    assert "creates it anew, empty" in finding.message


def test_plain_kind_from_a_pruning_app_is_a_warning(tmp_path: Path) -> None:
    base = two_apps(sync_policy(), None, {"web/cache.yaml": service("cache", port=6379)})
    finding = only(run_change(tmp_path, base, {"web/cache.yaml": None, "db/cache.yaml": service("cache", port=6379)}))
    assert finding.severity == "warning"
    assert "argocd/web's automated sync prunes it" in finding.message


def test_prune_false_in_the_old_app_is_safe(tmp_path: Path) -> None:
    keep = pvc(annotations={SYNC_OPTIONS: "Prune=false"})
    base = two_apps(sync_policy(), sync_policy(), {"web/data.yaml": keep})
    report = run_change(tmp_path, base, {"web/data.yaml": None, "db/data.yaml": keep})
    assert moved(report, "PersistentVolumeClaim")
    assert not findings_of(report, RULE)


def test_old_app_without_prune_is_safe(tmp_path: Path) -> None:
    base = two_apps(sync_policy(prune=False), sync_policy(), {"web/data.yaml": pvc()})
    report = run_change(tmp_path, base, {"web/data.yaml": None, "db/data.yaml": pvc()})
    assert moved(report, "PersistentVolumeClaim")
    assert not findings_of(report, RULE)


def test_fail_on_shared_resource_blocks_adoption(tmp_path: Path) -> None:
    new = sync_policy(options=["FailOnSharedResource=true"])
    base = two_apps(None, new, {"web/data.yaml": pvc()})
    finding = only(run_change(tmp_path, base, {"web/data.yaml": None, "db/data.yaml": pvc()}))
    assert finding.severity == "warning"
    assert "FailOnSharedResource=true" in finding.message and "sync fails" in finding.message


def test_old_app_deleted_with_its_finalizer(tmp_path: Path) -> None:
    base = {
        "root.yaml": application("apps", "apps", policy=sync_policy()),
        "apps/web.yaml": application("web", finalizers=[FINALIZER]),
        "apps/db.yaml": application("db"),
        "web/data.yaml": pvc(),
        "db/svc.yaml": service("db"),
    }
    report = run_change(tmp_path, base, {"apps/web.yaml": None, "web/data.yaml": None, "db/data.yaml": pvc()})
    finding = only(report)
    assert finding.severity == "error"
    assert "deletes it with its resources finalizer" in finding.message


def test_moved_hook_is_no_finding(tmp_path: Path) -> None:
    base = two_apps(sync_policy(), sync_policy(), {"web/migrate.yaml": job_hook()})
    report = run_change(tmp_path, base, {"web/migrate.yaml": None, "db/migrate.yaml": job_hook()})
    assert any(c.type == "moved" and c.hook for c in report.changes)
    assert not findings_of(report, RULE)


def test_moved_crd_is_no_finding(tmp_path: Path) -> None:
    base = two_apps(sync_policy(), sync_policy(), {"web/crd.yaml": crd()})
    report = run_change(tmp_path, base, {"web/crd.yaml": None, "db/crd.yaml": crd()})
    assert moved(report, "CustomResourceDefinition")
    assert not findings_of(report, RULE)
