"""crd-removal: a CRD leaving Git stays in the cluster (info), unless its own tracking lets a pruning app delete it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rule_harness import findings_of, run_change

from reviewer.records import Finding

RULE = "crd-removal"
REPO = "https://github.com/acme/config.git"
PRUNING: dict[str, Any] = {"automated": {"prune": True}}
CRD_ID = "apiextensions.k8s.io/CustomResourceDefinition"


def application(name: str = "platform", path: str = "crds", policy: dict[str, Any] | None = None) -> str:
    spec: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": REPO, "path": path, "targetRevision": "HEAD"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "platform"},
    }
    if policy is not None:
        spec["syncPolicy"] = policy
    return yaml.safe_dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": spec,
        }
    )


def crd(
    plural: str = "widgets", labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
) -> str:
    meta: dict[str, Any] = {"name": f"{plural}.example.com"}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    spec = {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": plural.capitalize()[:-1], "plural": plural},
        "versions": [
            {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {"type": "object"}}}
        ],
    }
    return yaml.safe_dump(
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": meta, "spec": spec}
    )


def remove_widgets(tmp_path: Path, widgets: str, app: str) -> list[Finding]:
    base = {"apps/platform.yaml": app, "crds/widgets.yaml": widgets, "crds/gadgets.yaml": crd("gadgets")}
    report = run_change(tmp_path, base, {"crds/widgets.yaml": None})
    assert not report.errors, report.errors
    assert [(c.type, c.key.name) for c in report.changes] == [("removed", "widgets.example.com")]
    return findings_of(report, RULE)


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_untracked_crd_stays(tmp_path: Path) -> None:
    finding = only(remove_widgets(tmp_path, crd(), application(policy=PRUNING)))
    assert finding.severity == "info" and finding.path is None
    assert "does not delete it" in finding.message and "no app manages it" in finding.message
    assert finding.location is not None and finding.location.file == "crds/widgets.yaml"


def test_chart_written_instance_label_in_a_pruning_app(tmp_path: Path) -> None:
    labelled = crd(labels={"app.kubernetes.io/instance": "platform"})
    finding = only(remove_widgets(tmp_path, labelled, application(policy=PRUNING)))
    assert finding.severity == "warning"
    assert "prunes it" in finding.message and "every custom resource" in finding.message
    assert "resourceTrackingMethod: label" in finding.message


def test_tracking_annotation_naming_the_app(tmp_path: Path) -> None:
    tracked = crd(annotations={"argocd.argoproj.io/tracking-id": f"platform:{CRD_ID}:platform/widgets.example.com"})
    assert only(remove_widgets(tmp_path, tracked, application(policy=PRUNING))).severity == "warning"


@pytest.mark.parametrize(
    ("metadata", "policy"),
    [
        ({"labels": {"app.kubernetes.io/instance": "platform"}}, None),  # no automated sync
        ({"labels": {"app.kubernetes.io/instance": "platform"}}, {"automated": {"prune": False}}),
        ({"labels": {"app.kubernetes.io/instance": "other-release"}}, PRUNING),  # not this app's tracking
        (
            {
                "labels": {"app.kubernetes.io/instance": "platform"},
                "annotations": {"argocd.argoproj.io/sync-options": "Prune=false"},
            },
            PRUNING,
        ),
        (
            {"annotations": {"argocd.argoproj.io/tracking-id": f"other:{CRD_ID}:x/widgets.example.com"}},
            PRUNING,
        ),
    ],
)
def test_tracking_near_misses_stay_info(
    tmp_path: Path, metadata: dict[str, Any], policy: dict[str, Any] | None
) -> None:
    finding = only(remove_widgets(tmp_path, crd(**metadata), application(policy=policy)))
    assert finding.severity == "info"


def test_crd_removed_with_its_app(tmp_path: Path) -> None:
    labelled = crd(labels={"app.kubernetes.io/instance": "platform"})
    base = {
        "apps/platform.yaml": application(policy=PRUNING),
        "apps/other.yaml": application("other", "other"),
        "crds/widgets.yaml": labelled,
        "other/gadgets.yaml": crd("gadgets"),
    }
    report = run_change(tmp_path, base, {"apps/platform.yaml": None, "crds/widgets.yaml": None})
    finding = only(findings_of(report, RULE))
    assert finding.severity == "info" and "never deletes a CRD with its app" in finding.message


def test_crd_moving_to_another_app_is_no_removal(tmp_path: Path) -> None:
    base = {
        "apps/platform.yaml": application(policy=PRUNING),
        "apps/other.yaml": application("other", "other"),
        "crds/widgets.yaml": crd(),
        "crds/gadgets.yaml": crd("gadgets"),
        "other/things.yaml": crd("things"),
    }
    report = run_change(tmp_path, base, {"crds/widgets.yaml": None, "other/widgets.yaml": crd()})
    assert [c.type for c in report.changes] == ["moved"]
    assert findings_of(report, RULE) == []
