"""cascade-deletion: an Application that disappears, and whether its deletion takes its resources."""

from __future__ import annotations

from pathlib import Path

from argo_fixtures import (
    FINALIZER,
    SYNC_OPTIONS,
    application,
    crd,
    list_appset,
    pvc,
    service,
    sync_policy,
)
from rule_harness import findings_of, run_change, run_example

from reviewer.policies import cascade_deletion
from reviewer.records import Finding, Report

RULE = "cascade-deletion"
WEB_FILES = {"web/svc.yaml": service("web"), "web/data.yaml": pvc()}
API_FILES = {"api/svc.yaml": service("api")}


def only(report: Report) -> Finding:
    (finding,) = findings_of(report, RULE)
    return finding


def app_of_apps(
    *, parent_policy: dict[str, object] | None = None, child: str | None = None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Root app `apps` (prunes unless told otherwise) rendering the Applications `web` and `api`."""
    return {
        "root.yaml": application("apps", "apps", policy=sync_policy() if parent_policy is None else parent_policy),
        "apps/web.yaml": child or application("web", finalizers=[FINALIZER]),
        "apps/api.yaml": application("api"),
        **WEB_FILES,
        **API_FILES,
        **(extra or {}),
    }


def test_documented_failing_example(tmp_path: Path) -> None:
    finding = only(run_example(tmp_path, cascade_deletion.EXAMPLES["fails"]))
    assert finding.severity == "critical"
    assert finding.app == "argocd/web"
    assert "PersistentVolumeClaim web/data" in finding.message and "Service web/web" in finding.message
    assert finding.location is not None and finding.location.file == "apps/web.yaml"


def test_child_with_finalizer_pruned_by_parent_lists_what_is_deleted(tmp_path: Path) -> None:
    finding = only(run_change(tmp_path, app_of_apps(), {"apps/web.yaml": None}))
    assert finding.severity == "critical"
    assert "pruned by argocd/apps's automated sync" in finding.message
    assert "deletes 2 resources: PersistentVolumeClaim demo/data, Service demo/web" in finding.message


def test_exemptions_are_kept_and_named(tmp_path: Path) -> None:
    extra = {
        "web/keep.yaml": pvc("keep", annotations={"helm.sh/resource-policy": "keep"}),
        "web/nodelete.yaml": service("nodelete", annotations={SYNC_OPTIONS: "Delete=false"}),
        "web/crd.yaml": crd(),
    }
    finding = only(run_change(tmp_path, app_of_apps(extra=extra), {"apps/web.yaml": None}))
    assert "deletes 2 resources:" in finding.message
    assert "PersistentVolumeClaim demo/keep (helm.sh/resource-policy: keep)" in finding.message
    assert "Service demo/nodelete (Delete=false)" in finding.message
    assert "widgets.example.com (a CRD)" in finding.message


def test_background_finalizer_variant_cascades(tmp_path: Path) -> None:
    child = application("web", finalizers=[f"{FINALIZER}/background"])
    assert only(run_change(tmp_path, app_of_apps(child=child), {"apps/web.yaml": None})).severity == "critical"


def test_without_finalizer_resources_are_orphaned(tmp_path: Path) -> None:
    finding = only(run_change(tmp_path, app_of_apps(child=application("web")), {"apps/web.yaml": None}))
    assert finding.severity == "warning"
    assert "does not cascade" in finding.message and "its 2 resources keep running" in finding.message


def test_parent_without_prune_keeps_the_application(tmp_path: Path) -> None:
    report = run_change(tmp_path, app_of_apps(parent_policy=sync_policy(prune=False)), {"apps/web.yaml": None})
    assert any(s.app == "argocd/web" and s.state == "removed" for s in report.apps)
    assert not findings_of(report, RULE)
    assert findings_of(report, "orphaned-resource")  # the Application object left running


def test_prune_false_on_the_child_application_keeps_it(tmp_path: Path) -> None:
    child = application("web", finalizers=[FINALIZER], annotations={SYNC_OPTIONS: "Prune=false"})
    report = run_change(tmp_path, app_of_apps(child=child), {"apps/web.yaml": None})
    assert any(s.app == "argocd/web" and s.state == "removed" for s in report.apps)
    assert not findings_of(report, RULE)


def test_prune_confirm_deletes_after_approval(tmp_path: Path) -> None:
    child = application("web", finalizers=[FINALIZER], annotations={SYNC_OPTIONS: "Prune=confirm"})
    finding = only(run_change(tmp_path, app_of_apps(child=child), {"apps/web.yaml": None}))
    assert finding.severity == "critical"
    assert "(after approval)" in finding.message


def test_root_application_removed_from_git_stays(tmp_path: Path) -> None:
    base = {"apps/web.yaml": application("web", finalizers=[FINALIZER]), **WEB_FILES}
    finding = only(run_change(tmp_path, base, {"apps/web.yaml": None}))
    assert finding.severity == "info"
    assert "no app in this repository manages its Application object" in finding.message


def test_grandchild_deleted_with_its_deleted_parent(tmp_path: Path) -> None:
    base = {
        "root.yaml": application("root", "root", policy=sync_policy()),
        "root/team.yaml": application("team", "team", finalizers=[FINALIZER]),
        "root/other.yaml": application("api"),
        "team/web.yaml": application("web", finalizers=[FINALIZER]),
        **WEB_FILES,
        **API_FILES,
    }
    report = run_change(tmp_path, base, {"root/team.yaml": None, "team/web.yaml": None})
    by_app = {f.app: f for f in findings_of(report, RULE)}
    assert by_app["argocd/team"].severity == "critical"
    assert by_app["argocd/web"].severity == "critical"
    assert "is deleted with argocd/team, which is pruned by argocd/root's" in by_app["argocd/web"].message


def test_child_application_in_the_list_says_its_finalizer_cascades(tmp_path: Path) -> None:
    # Only the parent's file goes: at head discovery sees team/web.yaml as a root, but the live `web`
    # is still a resource of `team` and goes with it.
    base = {
        "root.yaml": application("root", "root", policy=sync_policy()),
        "root/team.yaml": application("team", "team", finalizers=[FINALIZER]),
        "root/other.yaml": application("api"),
        "team/web.yaml": application("web", finalizers=[FINALIZER]),
        **WEB_FILES,
        **API_FILES,
    }
    finding = only(run_change(tmp_path, base, {"root/team.yaml": None}))
    assert finding.app == "argocd/team"
    assert "deletes 1 resource: argoproj.io/Application argocd/web (with everything it manages" in finding.message


def test_appset_element_removed_assumes_the_default_policy(tmp_path: Path) -> None:
    base = {"appset.yaml": list_appset("envs", ["web", "api"]), **WEB_FILES, **API_FILES}
    finding = only(run_change(tmp_path, base, {"appset.yaml": list_appset("envs", ["api"])}))
    assert finding.severity == "critical"
    assert finding.app == "argocd/web"
    assert "no longer generates it" in finding.message and "assumed" in finding.message


def test_appset_preserving_resources_orphans_them(tmp_path: Path) -> None:
    base = {"appset.yaml": list_appset("envs", ["web", "api"], preserve=True), **WEB_FILES, **API_FILES}
    finding = only(run_change(tmp_path, base, {"appset.yaml": list_appset("envs", ["api"], preserve=True)}))
    assert finding.severity == "warning"


def test_configured_controller_policy_create_only_keeps_the_app(tmp_path: Path) -> None:
    config = "rules:\n  options:\n    cascade-deletion:\n      applicationsetPolicy: create-only\n"
    base = {
        ".gitops-reviewer.yaml": config,
        "appset.yaml": list_appset("envs", ["web", "api"]),
        **WEB_FILES,
        **API_FILES,
    }
    finding = only(run_change(tmp_path, base, {"appset.yaml": list_appset("envs", ["api"])}))
    assert finding.severity == "info"
    assert "create-only keeps it" in finding.message


def test_policy_read_from_an_appset_a_parent_renders(tmp_path: Path) -> None:
    base = {
        "root.yaml": application("apps", "apps", policy=sync_policy()),
        "apps/envs.yaml": list_appset("envs", ["web", "api"], policy="create-update"),
        **WEB_FILES,
        **API_FILES,
    }
    report = run_change(tmp_path, base, {"apps/envs.yaml": list_appset("envs", ["api"], policy="create-update")})
    finding = only(report)
    assert finding.severity == "info"
    assert "create-update keeps it" in finding.message
    assert "assumed" not in finding.message


def test_appset_pruned_by_its_parent_takes_its_apps_whatever_the_policy(tmp_path: Path) -> None:
    base = {
        "root.yaml": application("apps", "apps", policy=sync_policy()),
        "apps/envs.yaml": list_appset("envs", ["web"], policy="create-only"),
        "apps/api.yaml": application("api"),
        **WEB_FILES,
        **API_FILES,
    }
    report = run_change(tmp_path, base, {"apps/envs.yaml": None})
    finding = only(report)
    assert finding.severity == "critical"
    assert "ownerReference" in finding.message
    (pruned,) = findings_of(report, "prune-deletion")
    assert pruned.key is not None and pruned.key.kind == "ApplicationSet"
    assert "The Applications it generates are deleted with it" in pruned.message
