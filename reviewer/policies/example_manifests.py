"""Small manifests for the rules' documented examples (EXAMPLES), which the tests run through a real review.

The Application points at the repo the test harness creates (its `origin` is
https://github.com/acme/config.git), with a directory source.
"""

from __future__ import annotations

EXAMPLE_REPO = "https://github.com/acme/config.git"


def application(name: str, path: str, *, namespace: str | None = None, sync_policy: str = "", extra: str = "") -> str:
    """An Application `argocd/<name>` rendering the directory `path` into `namespace` (default: `name`).

    `sync_policy` is the YAML under `spec.syncPolicy` (flow style, e.g. `{automated: {prune: true}}`);
    `extra` more lines under `spec`, indented by two spaces.
    """
    text = f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: {name}, namespace: argocd}}
spec:
  project: default
  source: {{repoURL: "{EXAMPLE_REPO}", path: {path}, targetRevision: HEAD}}
  destination: {{server: "https://kubernetes.default.svc", namespace: {namespace or name}}}
"""
    if sync_policy:
        text += f"  syncPolicy: {sync_policy}\n"
    return text + extra


PRUNE = "{automated: {prune: true}}"


def deployment(name: str, replicas: int | None, *, kind: str = "Deployment", api_version: str = "apps/v1") -> str:
    """A minimal workload; `replicas=None` leaves `spec.replicas` out."""
    count = "" if replicas is None else f"  replicas: {replicas}\n"
    return f"""apiVersion: {api_version}
kind: {kind}
metadata: {{name: {name}}}
spec:
{count}  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: {name}, image: "nginx:1.27"}}]
"""


def pvc(name: str = "data", *, annotations: str = "") -> str:
    """A 1Gi PersistentVolumeClaim (the data a prune would destroy); `annotations` are YAML lines indented
    under `metadata.annotations`, e.g. `argocd.argoproj.io/sync-options: Prune=false`."""
    notes = "".join(f"    {line}\n" for line in annotations.splitlines())
    header = f"  annotations:\n{notes}" if notes else ""
    return f"""apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
{header}spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
"""
