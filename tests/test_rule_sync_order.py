"""sync-order: a new resource needing a new CRD or Namespace that another app (or no sync) creates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rule_harness import findings_of, run_change

from reviewer.policies.sync_order import EXAMPLES
from reviewer.records import Finding

RULE = "sync-order"
REPO = "https://github.com/acme/config.git"
CRD = EXAMPLES["fails"]["head"]["crds/widget.yaml"]
WIDGET = EXAMPLES["fails"]["head"]["widgets/blue.yaml"]
assert CRD is not None and WIDGET is not None


def application(name: str, namespace: str, *, server: str = "https://kubernetes.default.svc", **policy: Any) -> str:
    spec: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": REPO, "path": name, "targetRevision": "HEAD"},
        "destination": {"server": server, "namespace": namespace},
    }
    if policy:
        spec["syncPolicy"] = policy
    return yaml.safe_dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": spec,
        }
    )


def namespace(name: str, annotations: dict[str, str] | None = None) -> str:
    meta: dict[str, Any] = {"name": name, **({"annotations": annotations} if annotations else {})}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})


def configmap(name: str, annotations: dict[str, str] | None = None) -> str:
    meta: dict[str, Any] = {"name": name, **({"annotations": annotations} if annotations else {})}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}})


def review(tmp_path: Path, base: dict[str, str], head: dict[str, str | None]) -> list[Finding]:
    report = run_change(tmp_path, {"README.md": "config\n", **base}, head)
    assert not report.errors, report.errors
    return findings_of(report, RULE)


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_custom_resource_in_another_app_than_its_new_crd(tmp_path: Path) -> None:
    finding = only(review(tmp_path, {}, dict(EXAMPLES["fails"]["head"])))
    assert finding.severity == "error" and finding.app == "argocd/widgets"
    assert finding.key is not None and (finding.key.kind, finding.key.name) == ("Widget", "blue")
    assert "which app argocd/crds creates" in finding.message
    assert "the server could not find the requested resource" in finding.message
    assert finding.location is not None and finding.location.file == "widgets/blue.yaml"


def test_one_app_creates_its_crd_first_whatever_the_waves(tmp_path: Path) -> None:
    assert review(tmp_path, {}, dict(EXAMPLES["passes"]["head"])) == []


def test_crd_that_existed_at_base(tmp_path: Path) -> None:
    base = {"apps/crds.yaml": application("crds", "widgets"), "crds/widget.yaml": CRD}
    head: dict[str, str | None] = {
        "crds/widget.yaml": CRD.replace("served: true", "served: true\n      deprecated: false"),
        "apps/widgets.yaml": application("widgets", "widgets"),
        "widgets/blue.yaml": WIDGET,
    }
    assert review(tmp_path, base, head) == []


def test_crd_on_another_cluster(tmp_path: Path) -> None:
    head: dict[str, str | None] = {
        "apps/crds.yaml": application("crds", "widgets", server="https://other.example.com"),
        "crds/widget.yaml": CRD,
        "apps/widgets.yaml": application("widgets", "widgets"),
        "widgets/blue.yaml": WIDGET,
    }
    assert review(tmp_path, {}, head) == []


def test_namespaced_resource_in_a_namespace_another_app_creates(tmp_path: Path) -> None:
    head: dict[str, str | None] = {
        "apps/platform.yaml": application("platform", "platform"),
        "platform/team-a.yaml": namespace("team-a"),
        "apps/team.yaml": application("team", "team-a"),
        "team/settings.yaml": configmap("settings"),
    }
    finding = only(review(tmp_path, {}, head))
    assert finding.app == "argocd/team" and 'namespaces "team-a" not found' in finding.message
    assert "CreateNamespace=true" in finding.message


def test_create_namespace_on_the_dependent_app(tmp_path: Path) -> None:
    head: dict[str, str | None] = {
        "apps/platform.yaml": application("platform", "platform"),
        "platform/team-a.yaml": namespace("team-a"),
        "apps/team.yaml": application("team", "team-a", syncOptions=["CreateNamespace=true"]),
        "team/settings.yaml": configmap("settings"),
    }
    assert review(tmp_path, {}, head) == []


def test_namespace_that_already_had_resources(tmp_path: Path) -> None:
    base = {"apps/team.yaml": application("team", "team-a"), "team/settings.yaml": configmap("settings")}
    head: dict[str, str | None] = {
        "apps/platform.yaml": application("platform", "platform"),
        "platform/team-a.yaml": namespace("team-a"),
        "team/more.yaml": configmap("more"),
    }
    assert review(tmp_path, base, head) == []


def test_presync_hook_needing_a_namespace_of_its_own_app(tmp_path: Path) -> None:
    hook = configmap("seed", {"argocd.argoproj.io/hook": "PreSync"})
    head: dict[str, str | None] = {
        "apps/team.yaml": application("team", "team-a"),
        "team/ns.yaml": namespace("team-a", {"argocd.argoproj.io/sync-wave": "3"}),
        "team/seed.yaml": hook,
    }
    assert review(tmp_path, {}, head) == []


def test_presync_hook_needing_a_namespace_of_another_app(tmp_path: Path) -> None:
    hook = configmap("seed", {"argocd.argoproj.io/hook": "PreSync"})
    head: dict[str, str | None] = {
        "apps/platform.yaml": application("platform", "platform"),
        "platform/team-a.yaml": namespace("team-a"),
        "apps/team.yaml": application("team", "team-a"),
        "team/seed.yaml": hook,
    }
    finding = only(review(tmp_path, {}, head))
    assert "hook PreSync" in finding.evidence


def test_namespace_no_sync_creates(tmp_path: Path) -> None:
    head: dict[str, str | None] = {
        "apps/team.yaml": application("team", "team-a"),
        "team/ns.yaml": namespace("team-a", {"argocd.argoproj.io/hook": "Skip"}),
        "team/settings.yaml": configmap("settings"),
    }
    finding = only(review(tmp_path, {}, head))
    assert "which no sync creates" in finding.title and "Skip" in finding.message
