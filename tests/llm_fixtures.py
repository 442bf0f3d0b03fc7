"""Real config repos with a change, reviewed through the real pipeline with the LLM review pointed at the
fake OpenAI server (tests/fakes/openai_server.py)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from fakes.openai_server import API_KEY, FakeOpenAI
from rule_harness import change_repo

from reviewer.change import resolve_change
from reviewer.llm.options import LlmOptions
from reviewer.llm.settings import LlmConfig
from reviewer.records import Report
from reviewer.review import review, verdict

KEY_ENV = "GITOPS_REVIEWER_TEST_LLM_KEY"
os.environ[KEY_ENV] = API_KEY


def application(name: str, path: str, *, prune: bool = True, namespace: str = "shop") -> str:
    policy = "  syncPolicy:\n    automated: {prune: %s, selfHeal: true}\n" % ("true" if prune else "false")
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata: {{name: {name}, namespace: argocd}}\n"
        "spec:\n  project: default\n"
        f"  source: {{repoURL: https://github.com/acme/config.git, path: {path}, targetRevision: HEAD}}\n"
        f"  destination: {{server: https://kubernetes.default.svc, namespace: {namespace}}}\n" + policy
    )


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.0
        env:
        - name: MODE
          valueFrom: {configMapKeyRef: {name: web-config, key: MODE}}
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: shop}
data: {MODE: fast}
"""

# The change: replicas 4 -> 2 (rule replicas-drop, a warning) and the ConfigMap key the Deployment reads
# renamed (no rule sees that: the model may).
SHOP_BASE = {"apps/web.yaml": application("web", "web"), "web/deploy.yaml": DEPLOYMENT, "web/cm.yaml": CONFIGMAP}
SHOP_HEAD = {
    "web/deploy.yaml": DEPLOYMENT.replace("replicas: 4", "replicas: 2"),
    "web/cm.yaml": CONFIGMAP.replace("MODE: fast", "RUN_MODE: fast"),
}
DEPLOYMENT_ID = "argocd/web apps/Deployment shop/web"
CONFIGMAP_ID = "argocd/web ConfigMap shop/web-config"


# A git repo with `base` committed and `head` (text, or None to delete) in its working tree.
build_repo = change_repo


def settings(fake: FakeOpenAI, **overrides: Any) -> LlmConfig:
    """Settings for the fake: one-second timeouts, so that no test waits long."""
    config = LlmConfig(
        enabled=True,
        base_url=fake.base_url,
        model="fake-model",
        api_key_env=KEY_ENV,
        timeout=1.0,
        total_budget=4.0,
        max_retries=1,
    )
    return replace(config, **overrides)


def run_review(repo: Path, fake: FakeOpenAI | None, *, fail_on: str = "error", **overrides: Any) -> Report:
    """The real pipeline over the working-tree change, with the LLM review on when `fake` is given."""
    llm = LlmOptions(settings=settings(fake, **overrides)) if fake is not None else None
    return review(resolve_change(repo, base="HEAD"), fail_on=fail_on, llm=llm)


def rule_verdict(report: Report, fail_on: str = "error") -> str:
    """The verdict the rule findings alone give."""
    return verdict(report.errors, tuple(f for f in report.findings if f.origin != "llm"), fail_on)
