"""config-change: the change edits the gate's own configuration or policies.

What it checks
    The change under review adds, edits or deletes `.gitops-reviewer.yaml` or a user policy file it names.

Why it matters
    The gate reads its configuration, policies and waivers from the base revision, so a pull request
    cannot weaken the review that judges it. The edit takes effect only once it merges: reviewers
    should read it as a change to the gate itself (a new waiver, a disabled rule, a lower severity).

Failing example
    `rules: {disable: [prune-deletion]}` added to `.gitops-reviewer.yaml` in a pull request.

Passing example
    A pull request that changes only manifests.

Options
    None.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..config import CONFIG_FILE
from ..records import Finding, Location
from .context import EvaluationContext

ID = "config-change"
SEVERITY = "warning"

_APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  project: default
  source: {repoURL: "https://github.com/acme/config.git", path: web}
  destination: {server: "https://kubernetes.default.svc", namespace: web}
"""
_CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: blue}\n"
EXAMPLES = {
    "fails": {
        "base": {"apps/web.yaml": _APP, "web/cm.yaml": _CM, CONFIG_FILE: "rules: {}\n"},
        "head": {CONFIG_FILE: "rules: {disable: [prune-deletion]}\n"},
    },
    "passes": {
        "base": {"apps/web.yaml": _APP, "web/cm.yaml": _CM, CONFIG_FILE: "rules: {}\n"},
        "head": {"web/cm.yaml": _CM.replace("blue", "green")},
    },
}


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    watched = {CONFIG_FILE, *ctx.config.policy_files}
    for path in ctx.changed_paths:
        if path in watched:
            yield Finding(
                rule=ID,
                severity=SEVERITY,
                title="the gate's configuration changes",
                message=(
                    f"this change edits {path}; the review used the base revision's version, so the edit "
                    "(rules, severities, waivers, policies) takes effect only after it merges"
                ),
                app="",
                location=Location(path),
            )
