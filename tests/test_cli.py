"""The `apps` and `render` commands on the bundled example config repo (facts from its manifests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from gitrepos import git

from reviewer.cli import cli

EXPECTED_APPS = {
    "argocd/root": (
        "",
        "directory",
        "clusters/prod/apps",
        "https://kubernetes.default.svc/argocd",
        (True, True, True),
    ),
    "argocd/guestbook-prod": (
        "ApplicationSet argocd/guestbook-envs",
        "kustomize",
        "apps/guestbook/overlays/prod",
        "https://prod.k8s.example.com/guestbook",
        (True, True, True),
    ),
    "argocd/guestbook-staging": (
        "ApplicationSet argocd/guestbook-envs",
        "kustomize",
        "apps/guestbook/overlays/staging",
        "https://staging.k8s.example.com/guestbook",
        (True, True, True),
    ),
    "argocd/platform-namespaces": (
        "ApplicationSet argocd/platform",
        "directory",
        "platform/namespaces",
        "https://prod.k8s.example.com/default",
        (True, True, True),
    ),
    "argocd/platform-quotas": (
        "ApplicationSet argocd/platform",
        "directory",
        "platform/quotas",
        "https://prod.k8s.example.com/default",
        (True, True, True),
    ),
    "argocd/web-prod": ("", "helm", "charts/web", "https://prod.k8s.example.com/web", (True, False, True)),
    "argocd/web-staging": (
        "",
        "helm",
        "charts/web",
        "https://staging.k8s.example.com/web",
        (True, True, True),
    ),
    "argocd/postgres-prod": (
        "",
        "directory",
        "apps/postgres",
        "https://prod.k8s.example.com/postgres",
        (False, False, False),
    ),
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_apps_json_lists_every_application(example_repo: Path) -> None:
    code, out, _ = run("apps", "--repo", str(example_repo), "--format", "json")
    assert code == 0
    payload = json.loads(out)
    rows = {r["app"]: r for r in payload["apps"]}
    assert set(rows) == set(EXPECTED_APPS)
    for app_id, (generator, kind, path, destination, policy) in EXPECTED_APPS.items():
        row = rows[app_id]
        assert row["generator"] == generator, app_id
        assert row["type"] == kind, app_id
        assert row["path"] == path, app_id
        assert row["destination"] == destination, app_id
        assert (row["automated"], row["prune"], row["selfHeal"]) == policy, app_id
        if app_id != "argocd/root":
            assert row["parent"] in ("argocd/root", generator) or row["parent"].startswith("ApplicationSet"), app_id
    assert rows["argocd/web-prod"]["definedIn"] == "clusters/prod/apps/web-prod.yaml:1"
    assert payload["errors"] == []


def test_apps_table(example_repo: Path) -> None:
    code, out, _ = run("apps", "--repo", str(example_repo))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["APP", "PARENT", "TYPE"]
    web = next(line for line in lines if line.startswith("argocd/web-prod "))
    assert "helm" in web and "charts/web" in web and "yes/no/yes" in web


def test_render_json_has_resources_provenance_and_hooks(example_repo: Path) -> None:
    code, out, _ = run("render", "--repo", str(example_repo), "--format", "json", "--app", "postgres-prod")
    assert code == 0
    (app,) = json.loads(out)["apps"]
    kinds = {(r["key"]["kind"], r["key"]["namespace"], r["key"]["name"]): r for r in app["resources"]}
    assert set(kinds) == {
        ("Secret", "postgres", "postgres-credentials"),
        ("Service", "postgres", "postgres"),
        ("StatefulSet", "postgres", "postgres"),
        ("PersistentVolumeClaim", "postgres", "postgres-backups"),
    }
    assert kinds[("StatefulSet", "postgres", "postgres")]["syncWave"] == 1
    assert kinds[("StatefulSet", "postgres", "postgres")]["source"].startswith("apps/postgres/statefulset.yaml:")
    assert "Prune=false" in kinds[("PersistentVolumeClaim", "postgres", "postgres-backups")]["syncOptions"]
    assert "ServerSideApply=true" in kinds[("Service", "postgres", "postgres")]["syncOptions"]
    assert [(h["key"]["kind"], h["key"]["name"], h["hook"]) for h in app["hooks"]] == [
        ("Job", "postgres-backup", ["PreSync"])
    ]


def test_render_kustomize_and_helm_apps(example_repo: Path) -> None:
    code, out, _ = run("render", "--repo", str(example_repo), "--format", "json")
    assert code == 0
    apps = {a["app"]: a for a in json.loads(out)["apps"]}
    prod = {(r["key"]["kind"], r["key"]["name"]): r for r in apps["argocd/guestbook-prod"]["resources"]}
    deploy = prod[("Deployment", "prod-guestbook-ui")]["manifest"]
    assert deploy["spec"]["replicas"] == 3
    assert deploy["metadata"]["namespace"] == "guestbook"
    assert (
        deploy["spec"]["template"]["spec"]["containers"][0]["image"]
        == "registry.example.com/mirror/ks-guestbook-demo:0.1"
    )
    assert "config.kubernetes.io/origin" not in deploy["metadata"].get("annotations", {})
    assert prod[("Deployment", "prod-guestbook-ui")]["source"] == "apps/guestbook/base/deployment.yaml"
    assert any(kind == "ConfigMap" and name.startswith("prod-guestbook-env-") for kind, name in prod)
    web = {(r["key"]["kind"], r["key"]["name"]): r for r in apps["argocd/web-prod"]["resources"]}
    assert set(web) == {
        ("Deployment", "web-prod"),
        ("Service", "web-prod"),
        ("Ingress", "web-prod"),
        ("HorizontalPodAutoscaler", "web-prod"),
    }
    assert "replicas" not in web[("Deployment", "web-prod")]["manifest"]["spec"]
    image = web[("Deployment", "web-prod")]["manifest"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(":1.27.3"), "the helm.parameters image.tag wins over values-prod.yaml"
    assert web[("Ingress", "web-prod")]["source"] == "charts/web/templates/ingress.yaml"
    assert any("test" in w for w in apps["argocd/web-prod"]["warnings"])
    namespaces = apps["argocd/platform-namespaces"]["resources"]
    assert {(r["key"]["kind"], r["key"]["namespace"], r["key"]["name"]) for r in namespaces} == {
        ("Namespace", "", "web"),
        ("Namespace", "", "postgres"),
    }


def test_render_yaml_of_an_older_revision(example_repo: Path) -> None:
    values = example_repo / "charts/web/values-prod.yaml"
    values.write_text(values.read_text().replace("www.example.com", "shop.example.com"))
    git(example_repo, "commit", "-qam", "rename host")
    code_head, head, _ = run("render", "--repo", str(example_repo), "--rev", "HEAD", "--app", "web-prod")
    code_base, base, _ = run("render", "--repo", str(example_repo), "--rev", "HEAD~1", "--app", "web-prod")
    assert code_head == code_base == 0
    assert "shop.example.com" in head and "shop.example.com" not in base
    assert "www.example.com" in base
    assert "# source: charts/web/templates/ingress.yaml" in head


def test_working_tree_changes_are_rendered(example_repo: Path) -> None:
    (example_repo / "apps/postgres/extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: uncommitted\n"
    )
    code, out, _ = run("render", "--repo", str(example_repo), "--app", "postgres-prod")
    assert code == 0
    assert "name: uncommitted" in out


def test_failed_render_exits_1_with_the_reason(example_repo: Path) -> None:
    (example_repo / "apps/postgres/broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: [\n")
    code, out, err = run("render", "--repo", str(example_repo), "--app", "postgres-prod")
    assert code == 1
    assert "RENDER FAILED" in out
    assert "broken.yaml" in err


def test_usage_errors_exit_2(example_repo: Path) -> None:
    code, _, err = run("render", "--repo", str(example_repo), "--app", "nope")
    assert code == 2 and "no app named 'nope'" in err
    code, _, err = run("apps", "--repo", str(example_repo), "--rev", "does-not-exist")
    assert code == 2 and "unknown revision" in err
    (example_repo / "bad-config.yaml").write_text("render: {timeoutt: 3}\n")
    code, _, err = run("apps", "--repo", str(example_repo), "--config", str(example_repo / "bad-config.yaml"))
    assert code == 2 and "unknown key(s) timeoutt" in err


def test_installed_entry_point_runs(example_repo: Path) -> None:
    exe = Path(sys.executable).parent / "gitops-reviewer"
    done = subprocess.run([str(exe), "apps", "--repo", str(example_repo)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "argocd/guestbook-prod" in done.stdout


def test_secret_values_are_never_printed(example_repo: Path) -> None:
    for fmt in ("yaml", "json"):
        code, out, _ = run("render", "--repo", str(example_repo), "--app", "postgres-prod", "--format", fmt)
        assert code == 0
        assert "example-only-not-a-real-password" not in out
        assert "POSTGRES_PASSWORD" in out, "key names are kept"
        assert "<redacted>" in out
