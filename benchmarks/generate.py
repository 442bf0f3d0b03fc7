"""A synthetic Argo CD config repo of N apps, for the benchmark (deterministic, a real git repository).

Layout (N = 1,000 by default):

- ~60 % kustomize apps: `overlays/<app>/` over one of ~20 shared bases `bases/svc-XX/`, each of which
  pulls in `bases/common/`. `bases/svc-00/` is shared by exactly 5 % of the apps (50 of 1,000), the
  others split the remaining kustomize apps evenly.
- ~25 % Helm apps: one of five in-repo charts `charts/chart-X/` with per-app value files under
  `helm-values/<app>/values.yaml`.
- ~15 % plain directories: `plain/<app>/`.
- App of apps: `argocd/root.yaml` renders `argocd/teams/` (one Application per team), each team
  Application renders `argocd/apps/<team>/` (the leaf Applications).
- About ten resources per app, each app in its own namespace.

`scenarios()` adds the benchmark's changes as branches on top of `main`, and says which apps each one
affects, so the benchmark can check that the review selects exactly those.

    python benchmarks/generate.py /tmp/config-repo --apps 1000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_URL = "https://git.example.invalid/platform/config.git"
N_BASES = 20
N_CHARTS = 5
N_TEAMS = 10
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Benchmark",
    "GIT_AUTHOR_EMAIL": "benchmark@example.invalid",
    "GIT_COMMITTER_NAME": "Benchmark",
    "GIT_COMMITTER_EMAIL": "benchmark@example.invalid",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
}


@dataclass(frozen=True, slots=True)
class SyntheticApp:
    name: str
    kind: str  # kustomize | helm | directory
    path: str  # the source path
    team: str
    base: str = ""  # kustomize: the base it builds on
    chart: str = ""  # helm: the chart directory


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    branch: str
    affected: tuple[str, ...]  # app names whose render the change alters


def plan(n: int) -> list[SyntheticApp]:
    """The apps of a repo of `n` apps: 60 % kustomize, 25 % Helm, the rest plain directories."""
    n_kustomize = round(n * 0.60)
    n_helm = round(n * 0.25)
    n_bases = max(2, min(N_BASES, n_kustomize // 2))
    shared = max(1, round(n * 0.05))  # apps on bases/svc-00 (S2)
    apps: list[SyntheticApp] = []
    for i in range(n):
        name = f"app-{i:04d}"
        team = f"team-{i % N_TEAMS:02d}"
        if i < n_kustomize:
            base = 0 if i < shared else 1 + (i - shared) % (n_bases - 1)
            apps.append(SyntheticApp(name, "kustomize", f"overlays/{name}", team, base=f"bases/svc-{base:02d}"))
        elif i < n_kustomize + n_helm:
            chart = f"charts/chart-{i % N_CHARTS}"
            apps.append(SyntheticApp(name, "helm", chart, team, chart=chart))
        else:
            apps.append(SyntheticApp(name, "directory", f"plain/{name}", team))
    return apps


# --- file contents ----------------------------------------------------------------------------------


def _application(name: str, path: str, namespace: str, extra: str = "") -> str:
    return f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: {REPO_URL}
    targetRevision: HEAD
    path: {path}
{extra}  destination:
    server: https://kubernetes.default.svc
    namespace: {namespace}
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
"""


def _app_manifest(app: SyntheticApp) -> str:
    extra = ""
    if app.kind == "helm":
        extra = f"""    helm:
      releaseName: {app.name}
      valueFiles:
        - ../../helm-values/{app.name}/values.yaml
"""
    return _application(app.name, app.path, app.name, extra)


COMMON = {
    "bases/common/kustomization.yaml": """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - configmap.yaml
  - serviceaccount.yaml
""",
    "bases/common/configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: platform-defaults
data:
  LOG_LEVEL: info
  TRACING: "on"
""",
    "bases/common/serviceaccount.yaml": """apiVersion: v1
kind: ServiceAccount
metadata:
  name: workload
""",
}


def _base_files(base: str, index: int) -> dict[str, str]:
    label = f"svc-{index:02d}"
    return {
        f"{base}/kustomization.yaml": """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../common
  - deployment.yaml
  - service.yaml
  - hpa.yaml
  - pdb.yaml
  - networkpolicy.yaml
  - role.yaml
  - rolebinding.yaml
""",
        f"{base}/deployment.yaml": f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {label}
  labels:
    app: {label}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {label}
  template:
    metadata:
      labels:
        app: {label}
    spec:
      serviceAccountName: workload
      containers:
        - name: main
          image: registry.example.invalid/{label}:1.0.0
          ports:
            - containerPort: 8080
          envFrom:
            - configMapRef:
                name: platform-defaults
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
""",
        f"{base}/service.yaml": f"""apiVersion: v1
kind: Service
metadata:
  name: {label}
spec:
  selector:
    app: {label}
  ports:
    - port: 80
      targetPort: 8080
""",
        f"{base}/hpa.yaml": f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {label}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {label}
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 75
""",
        f"{base}/pdb.yaml": f"""apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {label}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: {label}
""",
        f"{base}/networkpolicy.yaml": f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {label}
spec:
  podSelector:
    matchLabels:
      app: {label}
  ingress:
    - ports:
        - port: 8080
""",
        f"{base}/role.yaml": f"""apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {label}
rules:
  - apiGroups: [""]
    resources: ["configmaps"]
    verbs: ["get", "list", "watch"]
""",
        f"{base}/rolebinding.yaml": f"""apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {label}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {label}
subjects:
  - kind: ServiceAccount
    name: workload
""",
    }


def _overlay_files(app: SyntheticApp, replicas: int) -> dict[str, str]:
    return {
        f"{app.path}/kustomization.yaml": f"""apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {app.name}
resources:
  - ../../{app.base}
patches:
  - path: replicas.yaml
configMapGenerator:
  - name: {app.name}-settings
    literals:
      - OWNER={app.team}
      - APP={app.name}
""",
        f"{app.path}/replicas.yaml": f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app.base.rsplit("/", 1)[1]}
spec:
  replicas: {replicas}
""",
    }


_CHART_TEMPLATES = {
    "configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  greeting: {{ .Values.greeting | quote }}
  owner: {{ .Values.owner | quote }}
""",
    "secret.yaml": """apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-credentials
type: Opaque
stringData:
  token: {{ .Values.token | quote }}
""",
    "serviceaccount.yaml": """apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Release.Name }}
""",
    "deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .Release.Name }}
    spec:
      serviceAccountName: {{ .Release.Name }}
      containers:
        - name: main
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
            - containerPort: 8080
""",
    "service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    app.kubernetes.io/name: {{ .Release.Name }}
  ports:
    - port: 80
      targetPort: 8080
""",
    "hpa.yaml": """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .Release.Name }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .Release.Name }}
  minReplicas: {{ .Values.replicas }}
  maxReplicas: {{ mul .Values.replicas 4 }}
""",
    "pdb.yaml": """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .Release.Name }}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .Release.Name }}
""",
    "ingress.yaml": """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ .Release.Name }}
spec:
  rules:
    - host: {{ .Release.Name }}.example.invalid
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ .Release.Name }}
                port:
                  number: 80
""",
    "role.yaml": """apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ .Release.Name }}
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    resourceNames: ["{{ .Release.Name }}-credentials"]
    verbs: ["get"]
""",
    "rolebinding.yaml": """apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ .Release.Name }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ .Release.Name }}
subjects:
  - kind: ServiceAccount
    name: {{ .Release.Name }}
""",
}


def _chart_files(chart: str, index: int) -> dict[str, str]:
    files = {
        f"{chart}/Chart.yaml": f"apiVersion: v2\nname: chart-{index}\nversion: 1.{index}.0\nappVersion: '1.0'\n",
        f"{chart}/values.yaml": """greeting: hello
owner: platform
token: change-me
replicas: 1
image:
  repository: registry.example.invalid/web
  tag: "1.0.0"
""",
    }
    for name, text in _CHART_TEMPLATES.items():
        files[f"{chart}/templates/{name}"] = text
    return files


def _helm_values(app: SyntheticApp, i: int) -> dict[str, str]:
    return {
        f"helm-values/{app.name}/values.yaml": f"""greeting: hello from {app.name}
owner: {app.team}
token: token-{i:04d}
replicas: {1 + i % 3}
image:
  tag: "1.{i % 7}.0"
"""
    }


def _plain_files(app: SyntheticApp, i: int) -> dict[str, str]:
    docs = []
    for j in range(5):
        docs.append(
            f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {app.name}-settings-{j}
data:
  index: "{j}"
  owner: {app.team}
"""
        )
    workload = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app.name}
spec:
  replicas: {1 + i % 2}
  selector:
    matchLabels:
      app: {app.name}
  template:
    metadata:
      labels:
        app: {app.name}
    spec:
      containers:
        - name: main
          image: registry.example.invalid/{app.name}:2.0.0
---
apiVersion: v1
kind: Service
metadata:
  name: {app.name}
spec:
  selector:
    app: {app.name}
  ports:
    - port: 80
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app.name}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {app.name}-report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: registry.example.invalid/report:1.0.0
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {app.name}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: {app.name}
"""
    return {f"{app.path}/config.yaml": "---\n".join(docs), f"{app.path}/workload.yaml": workload}


def repo_files(n: int) -> dict[str, str]:
    """Every file of the synthetic repo of `n` apps, by repo-relative path."""
    apps = plan(n)
    files: dict[str, str] = {
        "README.md": f"Synthetic config repository with {n} Argo CD Applications (benchmark input).\n",
        "argocd/root.yaml": _application("root", "argocd/teams", "argocd"),
        **COMMON,
    }
    teams = sorted({a.team for a in apps})
    for team in teams:
        files[f"argocd/teams/{team}.yaml"] = _application(team, f"argocd/apps/{team}", "argocd")
    bases = sorted({a.base for a in apps if a.base})
    for base in bases:
        files.update(_base_files(base, int(base.rsplit("-", 1)[1])))
    for chart in sorted({a.chart for a in apps if a.chart}):
        files.update(_chart_files(chart, int(chart.rsplit("-", 1)[1])))
    for i, app in enumerate(apps):
        files[f"argocd/apps/{app.team}/{app.name}.yaml"] = _app_manifest(app)
        if app.kind == "kustomize":
            files.update(_overlay_files(app, replicas=2 + i % 3))
        elif app.kind == "helm":
            files.update(_helm_values(app, i))
        else:
            files.update(_plain_files(app, i))
    return files


# --- git ----------------------------------------------------------------------------------------------


def git(repo: Path, *args: str, input: str | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", *args], cwd=repo, env=env, input=input, capture_output=True, text=True, check=True)
    return done.stdout


def generate(path: Path, n: int = 1000) -> list[SyntheticApp]:
    """Write the repo of `n` apps at `path` (a new directory) and commit it on `main`."""
    if path.exists() and any(path.iterdir()):
        raise SystemExit(f"{path} exists and is not empty")
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for rel, text in repo_files(n).items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", f"{n} apps")
    git(path, "remote", "add", "origin", REPO_URL)
    return plan(n)


def _commit_on_branch(repo: Path, branch: str, edits: dict[str, tuple[str, str]], message: str) -> None:
    """A branch off `main` with `old` replaced by `new` in each file (which must contain `old`)."""
    git(repo, "checkout", "-q", "-B", branch, "main")
    for rel, (old, new) in edits.items():
        path = repo / rel
        text = path.read_text(encoding="utf-8")
        if old not in text:
            raise RuntimeError(f"{rel} does not contain {old!r}")
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    git(repo, "commit", "-q", "-am", message)
    git(repo, "checkout", "-q", "main")


def scenarios(repo: Path, apps: list[SyntheticApp]) -> list[Scenario]:
    """Create the scenario branches (idempotent) and say which apps each affects."""
    kustomize = [a for a in apps if a.kind == "kustomize"]
    one = kustomize[len(kustomize) // 2]
    shared = [a for a in kustomize if a.base == "bases/svc-00"]
    replicas = (one.path + "/replicas.yaml", "replicas: ")
    current = (repo / replicas[0]).read_text(encoding="utf-8").split("replicas: ", 1)[1].split()[0]
    out = [
        Scenario(
            "S1",
            "one overlay changed (one app affected)",
            "bench/s1",
            (one.name,),
        ),
        Scenario(
            "S2",
            f"a base shared by {len(shared)} apps changed",
            "bench/s2",
            tuple(a.name for a in shared),
        ),
        Scenario(
            "S3",
            f"a base shared by every kustomize app ({len(kustomize)}) changed",
            "bench/s3",
            tuple(a.name for a in kustomize),
        ),
    ]
    edits = {
        "bench/s1": {replicas[0]: (f"replicas: {current}", f"replicas: {int(current) + 5}")},
        "bench/s2": {"bases/svc-00/deployment.yaml": ("svc-00:1.0.0", "svc-00:1.1.0")},
        "bench/s3": {"bases/common/configmap.yaml": ("LOG_LEVEL: info", "LOG_LEVEL: debug")},
    }
    existing = set(git(repo, "branch", "--format=%(refname:short)").split())
    for scenario in out:
        if scenario.branch not in existing:
            _commit_on_branch(repo, scenario.branch, edits[scenario.branch], scenario.description)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, help="where to create the repository (a new directory)")
    parser.add_argument("--apps", type=int, default=1000, help="number of leaf Applications (default 1000)")
    parser.add_argument("--scenarios", action="store_true", help="also create the benchmark's branches")
    args = parser.parse_args()
    apps = generate(args.path, args.apps)
    summary: dict[str, object] = {
        "apps": len(apps),
        "kinds": {k: sum(a.kind == k for a in apps) for k in ("kustomize", "helm", "directory")},
    }
    if args.scenarios:
        summary["scenarios"] = {s.name: len(s.affected) for s in scenarios(args.path, apps)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
