"""prune-deletion: what a pruning app deletes, and the near misses it must leave alone."""

from __future__ import annotations

from pathlib import Path

from argo_fixtures import (
    HOOK,
    SYNC_OPTIONS,
    application,
    configmap,
    crd,
    job_hook,
    pvc,
    service,
    statefulset,
    sync_policy,
)
from rule_harness import findings_of, run_change, run_example

from reviewer.policies import prune_deletion
from reviewer.records import Finding, Report

RULE = "prune-deletion"


def web(**policy: object) -> str:
    return application("web", policy=sync_policy(**policy))  # type: ignore[arg-type]


def only(report: Report) -> Finding:
    (finding,) = findings_of(report, RULE)
    return finding


def removed(report: Report, kind: str, name: str) -> bool:
    return any(c.type == "removed" and (c.key.kind, c.key.name) == (kind, name) for c in report.changes)


def test_documented_failing_example_is_critical(tmp_path: Path) -> None:
    finding = only(run_example(tmp_path, prune_deletion.EXAMPLES["fails"]))
    assert finding.severity == "critical"
    assert str(finding.key) == "PersistentVolumeClaim web/data"
    assert finding.app == "argocd/web"
    assert finding.location is not None and finding.location.file == "web/data.yaml"
    assert "prunes (deletes)" in finding.message


def test_plain_resource_is_an_error(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a", port=80), "web/b.yaml": service("b", port=81)}
    finding = only(run_change(tmp_path, base, {"web/b.yaml": None}))
    assert finding.severity == "error"
    assert finding.key is not None and finding.key.name == "b"
    assert "leaves Git" in finding.message


def test_statefulset_with_volume_claim_templates_is_critical(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/db.yaml": statefulset(volumes=True)}
    assert only(run_change(tmp_path, base, {"web/db.yaml": None})).severity == "critical"


def test_statefulset_without_volumes_is_an_error(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/db.yaml": statefulset(volumes=False)}
    assert only(run_change(tmp_path, base, {"web/db.yaml": None})).severity == "error"


def test_resource_prune_false_is_not_pruned(tmp_path: Path) -> None:
    keep = {SYNC_OPTIONS: "Prune=false"}
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/data.yaml": pvc(annotations=keep)}
    report = run_change(tmp_path, base, {"web/data.yaml": None})
    assert removed(report, "PersistentVolumeClaim", "data")
    assert not findings_of(report, RULE)


def test_app_prune_false_is_not_pruned(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(options=["Prune=false"]), "web/a.yaml": service("a"), "web/data.yaml": pvc()}
    report = run_change(tmp_path, base, {"web/data.yaml": None})
    assert removed(report, "PersistentVolumeClaim", "data")
    assert not findings_of(report, RULE)


def test_resource_annotation_overrides_app_prune_false(tmp_path: Path) -> None:
    base = {
        "apps/web.yaml": web(options=["Prune=false"]),
        "web/a.yaml": service("a"),
        "web/data.yaml": pvc(annotations={SYNC_OPTIONS: "Prune=true"}),
    }
    assert only(run_change(tmp_path, base, {"web/data.yaml": None})).severity == "critical"


def test_prune_confirm_still_deletes_after_approval(tmp_path: Path) -> None:
    base = {
        "apps/web.yaml": web(),
        "web/a.yaml": service("a"),
        "web/data.yaml": pvc(annotations={SYNC_OPTIONS: "Prune=confirm"}),
    }
    finding = only(run_change(tmp_path, base, {"web/data.yaml": None}))
    assert finding.severity == "critical"
    assert "approval" in finding.message and "then deletes it" in finding.message
    assert "Prune=confirm" in finding.evidence


def test_automated_without_prune_is_not_this_rule(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(prune=False), "web/a.yaml": service("a"), "web/data.yaml": pvc()}
    report = run_change(tmp_path, base, {"web/data.yaml": None})
    assert removed(report, "PersistentVolumeClaim", "data")
    assert not findings_of(report, RULE)
    assert findings_of(report, "orphaned-resource")


def test_removed_hook_is_not_pruned(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/migrate.yaml": job_hook()}
    report = run_change(tmp_path, base, {"web/migrate.yaml": None})
    assert any(c.type == "removed" and c.hook for c in report.changes)
    assert not findings_of(report, RULE)


def test_object_that_becomes_a_hook_is_pruned(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/cfg.yaml": configmap("cfg")}
    head = {"web/cfg.yaml": configmap("cfg", annotations={HOOK: "PreSync"})}
    finding = only(run_change(tmp_path, base, head))
    assert finding.severity == "error"
    assert "becomes a PreSync hook" in finding.message


def test_rename_says_from_and_to(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/svc.yaml": service("api", port=8080)}
    finding = only(run_change(tmp_path, base, {"web/svc.yaml": service("api-v2", port=8080)}))
    assert "renamed from Service demo/api to Service demo/api-v2" in finding.message
    assert finding.key is not None and finding.key.name == "api"


def test_unrelated_removal_and_addition_of_other_kinds_is_no_rename(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/svc.yaml": service("api")}
    finding = only(run_change(tmp_path, base, {"web/svc.yaml": None, "web/cfg.yaml": configmap("api-v2")}))
    assert "renamed" not in finding.message


def test_regenerated_configmap_is_info(tmp_path: Path) -> None:
    # kustomize configMapGenerator names: <name>-<10 characters of its hash alphabet>
    base = {
        "apps/web.yaml": web(),
        "web/a.yaml": service("a"),
        "web/cfg.yaml": configmap("cfg-5t9m2bh7k8", data={"a": "1"}),
    }
    head = {"web/cfg.yaml": configmap("cfg-h2g7fbd5c6", data={"a": "2"})}
    finding = only(run_change(tmp_path, base, head))
    assert finding.severity == "info"
    assert "regenerated" in finding.message


def test_everything_pruned_with_allow_empty_false_says_auto_sync_is_skipped(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/README.md": "the app's path stays\n", "web/data.yaml": pvc()}
    finding = only(run_change(tmp_path, base, {"web/data.yaml": None}))
    assert finding.severity == "critical"  # unchanged: see the rule's docstring
    assert "skips auto-sync" in finding.message


def test_allow_empty_true_deletes_without_the_skip(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(allow_empty=True), "web/README.md": "the app's path stays\n", "web/data.yaml": pvc()}
    finding = only(run_change(tmp_path, base, {"web/data.yaml": None}))
    assert "skips auto-sync" not in finding.message


def test_crd_removal_is_not_this_rule(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/crd.yaml": crd()}
    report = run_change(tmp_path, base, {"web/crd.yaml": None})
    assert removed(report, "CustomResourceDefinition", "widgets.example.com")
    assert not findings_of(report, RULE)


def test_file_reorganisation_is_no_finding(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/data.yaml": pvc()}
    report = run_change(tmp_path, base, {"web/data.yaml": None, "web/storage.yaml": pvc()})
    assert not report.changes
    assert not findings_of(report, RULE)


def test_whole_app_removed_is_cascade_deletion_not_this_rule(tmp_path: Path) -> None:
    base = {
        "root.yaml": application("apps", "apps", policy=sync_policy()),
        "apps/web.yaml": web(),
        "apps/api.yaml": application("api"),
        "api/a.yaml": service("a"),
        "web/data.yaml": pvc(),
    }
    report = run_change(tmp_path, base, {"apps/web.yaml": None})
    assert removed(report, "PersistentVolumeClaim", "data")
    assert not findings_of(report, RULE)


def test_resource_moved_to_another_app_is_not_pruned_here(tmp_path: Path) -> None:
    base = {
        "apps/web.yaml": web(),
        "apps/db.yaml": application("db", policy=sync_policy()),
        "web/a.yaml": service("a"),
        "db/b.yaml": service("b"),
        "web/data.yaml": pvc(),
    }
    report = run_change(tmp_path, base, {"web/data.yaml": None, "db/data.yaml": pvc()})
    assert any(c.type == "moved" for c in report.changes)
    assert not findings_of(report, RULE)


def test_cluster_change_leaves_resources_behind_instead(tmp_path: Path) -> None:
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/data.yaml": pvc()}
    head = {"apps/web.yaml": application("web", server="https://prod.example.com", policy=sync_policy())}
    report = run_change(tmp_path, base, head)
    assert removed(report, "PersistentVolumeClaim", "data")
    assert not findings_of(report, RULE)
    assert findings_of(report, "destination-change")


def test_owned_object_is_not_pruned(tmp_path: Path) -> None:
    owned = configmap("cfg").replace(
        "  name: cfg\n", "  name: cfg\n  ownerReferences:\n  - {apiVersion: v1, kind: Service, name: a, uid: x}\n"
    )
    base = {"apps/web.yaml": web(), "web/a.yaml": service("a"), "web/cfg.yaml": owned}
    report = run_change(tmp_path, base, {"web/cfg.yaml": None})
    assert removed(report, "ConfigMap", "cfg")
    assert not findings_of(report, RULE)
