"""The README's first command: examples/try-check.sh reviews the sample change of the example repo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT


def test_try_check_shows_the_sample_change() -> None:
    env = {**os.environ, "GITOPS_REVIEWER": str(Path(sys.executable).parent / "gitops-reviewer")}
    done = subprocess.run(
        [str(PROJECT / "examples/try-check.sh"), "--no-color"], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode in (0, 1), done.stderr
    out = done.stdout
    # examples/demo/change.patch: the guestbook base probe reaches both overlays; autoscaling off removes
    # web-prod's HPA; the backups PVC file is deleted.
    assert "argocd/guestbook-prod  +0 ~1 -0" in out
    assert "argocd/guestbook-staging  +0 ~1 -0" in out
    assert "+            path: /healthz" in out
    assert "- autoscaling/HorizontalPodAutoscaler web/web-prod" in out
    assert "- PersistentVolumeClaim postgres/postgres-backups" in out
    assert "verdict:" in out
