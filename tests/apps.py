"""Application manifests and renders for tests."""

from __future__ import annotations

from typing import Any

import yaml

from reviewer.records import RenderResult
from reviewer.revision import RevisionView

REPO = "https://github.com/acme/config.git"  # the `origin` remote that gitrepos.make_repo adds


def application(
    name: str, path: str | None = None, *, namespace: str = "demo", sources: list[Any] | None = None, **tools: Any
) -> str:
    """An Application on this repo (`spec.source` with tool options, or `spec.sources`)."""
    spec: dict[str, Any] = {
        "project": "default",
        "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
    }
    if sources is not None:
        spec["sources"] = sources
    else:
        spec["source"] = {"repoURL": REPO, "path": path, "targetRevision": "HEAD", **tools}
    return yaml.safe_dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": spec,
        }
    )


def render(view: RevisionView, name: str) -> RenderResult:
    return view.render(view.find(name))
