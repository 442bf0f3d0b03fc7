"""The rules on the example config repo: three dangerous edits give exactly three findings; a pure file
reorganisation gives none."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reviewer.cli import cli


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def check(repo: Path) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["check", "--repo", str(repo), "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def test_pvc_deleted_selector_changed_and_scaled_to_zero(example_repo: Path) -> None:
    staging = example_repo / "charts/web/values-staging.yaml"
    # web-staging (automated, prune) loses its cache PVC and is scaled to zero.
    edit(staging, "persistence:\n  enabled: true", "persistence:\n  enabled: false")
    edit(staging, "replicaCount: 1", "replicaCount: 0")
    # guestbook-prod's Deployment selector gains a label: spec.selector is immutable.
    edit(
        example_repo / "apps/guestbook/overlays/prod/deployment-patch.yaml",
        "  replicas: 3\n  template:\n",
        "  replicas: 3\n  selector:\n    matchLabels:\n      tier: frontend\n  template:\n"
        "    metadata:\n      labels:\n        tier: frontend\n",
    )
    code, report = check(example_repo)
    assert code == 1
    assert report["verdict"] == "fail"
    found = sorted(
        (f["rule"], f["severity"], f["app"], f["resource"]["kind"], f["resource"]["name"])  # type: ignore[index]
        for f in report["findings"]  # type: ignore[attr-defined]
    )
    assert found == [
        ("immutable-field", "error", "argocd/guestbook-prod", "Deployment", "prod-guestbook-ui"),
        ("prune-deletion", "critical", "argocd/web-staging", "PersistentVolumeClaim", "web-staging-cache"),
        ("replicas-zero", "error", "argocd/web-staging", "Deployment", "web-staging"),
    ]


def test_a_pure_file_reorganisation_has_no_findings(example_repo: Path) -> None:
    service = (example_repo / "apps/postgres/service.yaml").read_text()
    (example_repo / "apps/postgres/service.yaml").unlink()
    statefulset = example_repo / "apps/postgres/statefulset.yaml"
    statefulset.write_text(statefulset.read_text() + "---\n" + service)
    quotas = example_repo / "platform/quotas/quotas.yaml"
    first, second = quotas.read_text().split("---\n", 1)
    quotas.write_text(second)
    (example_repo / "platform/quotas/web.yaml").write_text(first)
    code, report = check(example_repo)
    assert code == 0
    assert report["verdict"] == "pass"
    assert report["changes"] == [] and report["findings"] == []
