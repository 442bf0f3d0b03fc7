"""The `helm` CLI backend: the exact `helm template` command line Argo CD builds, and its output parsed.

No `helm` binary is installed on the test machines, so a stand-in on PATH records its arguments and
prints what `helm template` prints (`# Source:` headers). The SDK backend is tested in test_helm.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from apps import application, render
from gitrepos import make_repo

from reviewer.rendering import helm as helm_module
from reviewer.revision import open_revision

FAKE_HELM = """#!/bin/sh
printf '%s\\n' "$@" > "$HELM_ARGS_FILE.$$"
mv "$HELM_ARGS_FILE.$$" "$HELM_ARGS_FILE"
cat <<'OUT'
---
# Source: web/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: from-cli
---
# Source: web/templates/hook.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-upgrade
OUT
"""


@pytest.fixture
def fake_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    args_file = tmp_path / "args"
    # Renders run with a scrubbed environment, so where to record is baked into the script.
    (bin_dir / "helm").write_text(FAKE_HELM.replace("$HELM_ARGS_FILE", str(args_file)))
    (bin_dir / "helm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    helm_module.helm_backend.cache_clear()
    yield args_file
    helm_module.helm_backend.cache_clear()


def test_cli_gets_argo_cds_command_line(tmp_path: Path, fake_helm: Path) -> None:
    helm = {
        "releaseName": "shop",
        "valueFiles": ["values-prod.yaml"],
        "values": "extra: true\n",
        "parameters": [{"name": "image.tag", "value": "1.2,3"}, {"name": "port", "value": "80", "forceString": True}],
        "kubeVersion": "1.30.0",
        "apiVersions": ["monitoring.coreos.com/v1"],
        "skipTests": True,
    }
    repo = make_repo(
        tmp_path / "repo",
        {
            "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
            "charts/web/values-prod.yaml": "a: 1\n",
            "charts/web/templates/cm.yaml": "kind: ConfigMap\n",
            "argo/web.yaml": application("web", "charts/web", namespace="shop", helm=helm),
        },
    )
    with open_revision(repo, "HEAD") as view:
        result = render(view, "web")
        root = view.tree.root
    assert result.ok, [str(e) for e in result.errors]
    args = fake_helm.read_text().splitlines()
    values_tmp = args[args.index("--values", args.index("--values") + 1) + 1]
    assert args == [
        "template",
        str(root / "charts/web"),
        "--name-template",
        "shop",
        "--namespace",
        "shop",
        "--kube-version",
        "1.30.0",
        "--set",
        "image.tag=1.2\\,3",
        "--set-string",
        "port=80",
        "--values",
        str(root / "charts/web/values-prod.yaml"),
        "--values",
        values_tmp,
        "--api-versions",
        "monitoring.coreos.com/v1",
        "--include-crds",
        "--skip-tests",
    ]
    (resource,) = result.resources
    assert resource.key.name == "from-cli"
    assert resource.location is not None and resource.location.file == "charts/web/templates/cm.yaml"
    assert [(h.key.name, h.hook_phases) for h in result.hooks] == [("migrate", ("PreSync",))]
    assert json.dumps(resource.body["metadata"]) == json.dumps({"name": "from-cli", "namespace": "shop"})
