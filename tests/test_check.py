"""`gitops-reviewer check` / `diff` end to end: a real git repo, a base commit, a change, the exact change set.

Expectations come from the manifests of the example config repo (examples/gitops-config) and what
Argo CD keys resources by; the tool's JSON report (docs/report-json.md) is read back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from gitrepos import git

from reviewer.cli import cli


def check(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["check", "--repo", str(repo), "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output + result.stderr
    return result.exit_code, json.loads(result.stdout)


def changes(report: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(c["app"], c["type"], c["resource"]["kind"], c["resource"]["name"]) for c in report["changes"]}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_no_change_is_no_change_and_renders_nothing(example_repo: Path) -> None:
    code, report = check(example_repo)
    assert code == 0
    assert report["verdict"] == "pass"
    assert report["changes"] == [] and report["apps"] == []


def test_moving_a_resource_between_files_of_one_app_is_no_change(example_repo: Path) -> None:
    service = (example_repo / "apps/postgres/service.yaml").read_text()
    (example_repo / "apps/postgres/service.yaml").unlink()
    statefulset = example_repo / "apps/postgres/statefulset.yaml"
    statefulset.write_text(statefulset.read_text() + "---\n" + service)
    code, report = check(example_repo)
    assert code == 0
    assert [a["app"] for a in report["apps"]] == ["argocd/postgres-prod"], "the app was rendered"
    assert report["changes"] == []


def test_moving_a_resource_between_apps_is_moved(example_repo: Path) -> None:
    # The platform-quotas app (platform/quotas, prod cluster) takes over the web ResourceQuota file from
    # a new directory of platform-namespaces (same cluster): same key, another app.
    quotas = (example_repo / "platform/quotas/quotas.yaml").read_text()
    web_quota, postgres_quota = quotas.split("---\n", 1)
    assert "namespace: web" in web_quota
    (example_repo / "platform/quotas/quotas.yaml").write_text(postgres_quota)
    (example_repo / "platform/namespaces/web-quota.yaml").write_text(web_quota)
    _, report = check(example_repo)
    moved = [c for c in report["changes"] if c["type"] == "moved"]
    assert [(c["fromApp"], c["app"], c["resource"]["kind"]) for c in moved] == [
        ("argocd/platform-quotas", "argocd/platform-namespaces", "ResourceQuota")
    ]
    assert {c["type"] for c in report["changes"]} == {"moved"}


def test_renaming_is_a_removal_and_an_addition(example_repo: Path) -> None:
    edit(example_repo / "apps/postgres/service.yaml", "name: postgres\n", "name: postgres-db\n")
    _, report = check(example_repo)
    assert changes(report) == {
        ("argocd/postgres-prod", "removed", "Service", "postgres"),
        ("argocd/postgres-prod", "added", "Service", "postgres-db"),
    }


def test_a_shared_base_change_reaches_every_overlay(example_repo: Path) -> None:
    edit(example_repo / "apps/guestbook/base/deployment.yaml", "containerPort: 80", "containerPort: 8080")
    _, report = check(example_repo)
    assert changes(report) == {
        ("argocd/guestbook-prod", "modified", "Deployment", "prod-guestbook-ui"),
        ("argocd/guestbook-staging", "modified", "Deployment", "staging-guestbook-ui"),
    }
    for change in report["changes"]:
        paths = {p["path"]: p for p in change["paths"]}
        assert set(paths) == {
            "spec.template.spec.containers[name=guestbook-ui].ports[containerPort=80]",
            "spec.template.spec.containers[name=guestbook-ui].ports[containerPort=8080]",
        }


def test_an_image_bump_in_a_shared_base_is_overridden_where_an_overlay_pins_it(example_repo: Path) -> None:
    # Both overlays set the image through `images:`; only the container command change reaches them.
    edit(
        example_repo / "apps/guestbook/base/deployment.yaml",
        "image: gcr.io/heptio-images/ks-guestbook-demo:0.1",
        "image: gcr.io/heptio-images/ks-guestbook-demo:0.9",
    )
    _, report = check(example_repo)
    assert report["verdict"] == "pass"
    selected = {a["app"] for a in report["apps"]}
    assert selected == {"argocd/guestbook-prod", "argocd/guestbook-staging"}
    assert report["changes"] == [], "the overlays' images: override the base tag"


EXPORTER = "        - name: exporter\n          image: prometheuscommunity/postgres-exporter:v0.15.0\n"


def test_a_reordered_container_list_is_one_order_only_change(example_repo: Path) -> None:
    statefulset = example_repo / "apps/postgres/statefulset.yaml"
    edit(statefulset, "      containers:\n", "      containers:\n" + EXPORTER)  # base: [exporter, postgres]
    git(example_repo, "commit", "-qam", "add an exporter")
    base = git(example_repo, "rev-parse", "HEAD").strip()
    edit(statefulset, EXPORTER, "")
    edit(statefulset, "  volumeClaimTemplates:\n", EXPORTER + "  volumeClaimTemplates:\n")  # head: [postgres, exporter]
    _, report = check(example_repo, "--base", base)
    (change,) = report["changes"]
    assert (change["type"], change["resource"]["kind"]) == ("modified", "StatefulSet")
    assert [(p["path"], p["kind"]) for p in change["paths"]] == [("spec.template.spec.containers", "reordered")]


def test_a_quantity_in_other_units_is_no_change(example_repo: Path) -> None:
    edit(example_repo / "apps/guestbook/base/deployment.yaml", "memory: 64Mi", "memory: 0.0625Gi")
    edit(example_repo / "apps/guestbook/base/deployment.yaml", "cpu: 50m", "cpu: '0.05'")
    _, report = check(example_repo)
    assert {a["app"] for a in report["apps"]} == {"argocd/guestbook-prod", "argocd/guestbook-staging"}
    assert report["changes"] == []


def test_a_secret_value_change_names_the_key_never_the_value(example_repo: Path) -> None:
    edit(example_repo / "apps/postgres/secret.yaml", "example-only-not-a-real-password", "a-new-secret-value")
    for fmt in ("json", "text", "markdown"):
        result = CliRunner().invoke(cli, ["check", "--repo", str(example_repo), "--format", fmt])
        assert "a-new-secret-value" not in result.stdout
        assert "example-only-not-a-real-password" not in result.stdout
        assert "POSTGRES_PASSWORD" in result.stdout
    _, report = check(example_repo)
    (change,) = report["changes"]
    assert (change["type"], change["resource"]["kind"]) == ("modified", "Secret")
    assert [p["path"] for p in change["paths"]] == ["data.POSTGRES_PASSWORD"]


def test_a_failed_render_is_an_error_verdict_not_an_empty_diff(example_repo: Path) -> None:
    (example_repo / "apps/postgres/broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: [\n")
    code, report = check(example_repo)
    assert code == 1
    assert report["verdict"] == "error"
    assert any("broken.yaml" in e["message"] for e in report["errors"])


def test_diff_prints_changes_without_a_verdict(example_repo: Path) -> None:
    edit(example_repo / "apps/postgres/service.yaml", "name: postgres\n", "name: postgres-db\n")
    result = CliRunner().invoke(cli, ["diff", "--repo", str(example_repo), "--no-color"])
    assert result.exit_code == 0
    assert "postgres-db" in result.stdout
    assert "pass" not in result.stdout.lower().split()
    with_exit = CliRunner().invoke(cli, ["diff", "--repo", str(example_repo), "--exit-code"])
    assert with_exit.exit_code == 1


def test_output_file_and_fail_on(example_repo: Path, tmp_path: Path) -> None:
    # postgres-prod syncs by hand: the renamed Service's old name is left running (orphaned-resource, a warning).
    edit(example_repo / "apps/postgres/service.yaml", "name: postgres\n", "name: postgres-db\n")
    out = tmp_path / "report.json"
    args = ["check", "--repo", str(example_repo), "--format", "json", "--output", str(out)]
    lenient = CliRunner().invoke(cli, [*args, "--fail-on", "error"])
    assert lenient.exit_code == 0
    report = json.loads(out.read_text())
    assert report["verdict"] == "pass"
    assert [(f["rule"], f["severity"]) for f in report["findings"]] == [("orphaned-resource", "warning")]
    assert "report written to" in lenient.stderr
    strict = CliRunner().invoke(cli, [*args, "--fail-on", "warning"])
    assert strict.exit_code == 1
    assert json.loads(out.read_text())["verdict"] == "fail"


def test_a_revision_that_does_not_exist_is_a_usage_error(example_repo: Path) -> None:
    """The change is resolved on a thread while the pipeline is imported: its error still reaches the
    user as a sentence, with the usage error's exit code."""
    for option in ("--base", "--head"):
        result = CliRunner().invoke(cli, ["check", "--repo", str(example_repo), option, "does-not-exist"])
        assert result.exit_code == 2, result.output
        assert "unknown revision" in result.stderr
