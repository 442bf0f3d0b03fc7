"""The benchmark's baselines and its engine scenario, each run as a child process by run.py.

    python benchmarks/baselines.py naive --repo R --base main --head bench/s1
    python benchmarks/baselines.py floor --repo R --base main --head bench/s1 --apps app-0001,... --jobs 2
    python benchmarks/baselines.py engine --resources 100000 --changed 0.05

- naive: what render-everything tools do. Every app of the synthetic repo is rendered at both
  revisions, one after the other (`kubectl kustomize`, Helm's engine, the files of a directory), and
  the two texts of each app are compared with difflib.
- floor: only the renders of the apps the change affects, the tool calls alone, with the same
  parallelism as the review: the physical limit of any tool that must render them.
- engine: the diff and rule engine alone (reviewer.diff.diff_renders + reviewer.evaluation.run_rules)
  on resources built in memory.

Each prints one JSON object: `seconds` is the time of the measured part only (checkouts excluded).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def checkout(repo: Path, rev: str, into: Path) -> Path:
    """`rev` of `repo` written to `into` (not timed: every tool needs the files)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=repo, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def app_specs(tree: Path) -> list[dict[str, Any]]:
    """The leaf Applications of the synthetic repo: name, source path, namespace, value files."""
    specs = []
    for path in sorted((tree / "argocd" / "apps").glob("*/*.yaml")):
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        source = doc["spec"]["source"]
        helm = source.get("helm") or {}
        specs.append(
            {
                "name": doc["metadata"]["name"],
                "path": source["path"],
                "namespace": doc["spec"]["destination"]["namespace"],
                "valueFiles": helm.get("valueFiles", []),
                "release": helm.get("releaseName", doc["metadata"]["name"]),
            }
        )
    return specs


def render(tree: Path, spec: dict[str, Any]) -> str:
    """One app's manifests as text, the way a render-everything tool gets them."""
    app_dir = tree / spec["path"]
    if (app_dir / "kustomization.yaml").is_file():
        return subprocess.run(["kubectl", "kustomize", str(app_dir)], check=True, capture_output=True, text=True).stdout
    if (app_dir / "Chart.yaml").is_file():
        import helm_python

        values: dict[str, Any] = {}
        for name in spec["valueFiles"]:
            values.update(yaml.load((app_dir / name).read_text(encoding="utf-8"), Loader=_LOADER) or {})
        with helm_python.Chart.load(app_dir) as chart:
            rendered = chart.render(values, name=spec["release"], namespace=spec["namespace"], is_install=True)
        return "".join(f"---\n# Source: {k}\n{v}" for k, v in sorted(rendered.items()))
    return "".join(f"---\n{p.read_text(encoding='utf-8')}" for p in sorted(app_dir.glob("*.yaml")))


def _both(repo: Path, base: str, head: str, work: Path) -> tuple[Path, Path]:
    return checkout(repo, base, work / "base"), checkout(repo, head, work / "head")


def naive(repo: Path, base: str, head: str, sample: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-naive-") as tmp:
        base_tree, head_tree = _both(repo, base, head, Path(tmp))
        specs = app_specs(head_tree)
        chosen = specs[:: max(1, len(specs) // sample)][:sample] if 0 < sample < len(specs) else specs
        started = time.perf_counter()
        changed = []
        for spec in chosen:
            before, after = render(base_tree, spec), render(head_tree, spec)
            if list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")):
                changed.append(spec["name"])
        seconds = time.perf_counter() - started
    scale = len(specs) / len(chosen)
    return {
        "seconds": seconds * scale,
        "measured_seconds": seconds,
        "apps": len(specs),
        "rendered_apps": len(chosen),
        "extrapolated": scale != 1,
        "changed_apps": len(changed) if scale == 1 else None,
    }


def floor(repo: Path, base: str, head: str, names: list[str], jobs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        base_tree, head_tree = _both(repo, base, head, Path(tmp))
        by_name = {s["name"]: s for s in app_specs(head_tree)}
        work: list[Callable[[], str]] = []
        for name in names:
            work += [lambda s=by_name[name]: render(base_tree, s), lambda s=by_name[name]: render(head_tree, s)]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            outputs = list(pool.map(lambda f: f(), work))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "renders": len(outputs), "apps": len(names)}


def engine(resources: int, changed: float, apps: int = 1000) -> dict[str, Any]:
    """diff + rules on `resources` resources over `apps` apps, `changed` of them modified at head."""
    from reviewer.collector import tune_collector
    from reviewer.config import Config
    from reviewer.diff import diff_renders
    from reviewer.evaluation import run_rules
    from reviewer.policies.context import EvaluationContext
    from reviewer.records import App, AppSource, Destination, RenderResult, Resource, ResourceKey, SyncPolicy

    tune_collector()  # as the command does before a review
    per_app = resources // apps
    every = round(1 / changed) if changed else 0
    base_side: dict[str, tuple[App, RenderResult]] = {}
    head_side: dict[str, tuple[App, RenderResult]] = {}
    n = 0
    for a in range(apps):
        name = f"app-{a:04d}"
        app = App(
            name=name,
            namespace="argocd",
            project="default",
            sources=(AppSource("https://git.example.invalid/c.git", name, "HEAD", None, None, {}, "repo"),),
            destination=Destination("https://kubernetes.default.svc", "", name),
            sync_policy=SyncPolicy(automated=True, prune=True, self_heal=True),
            ignore_differences=(),
            finalizers=(),
            defined_in=None,
            manifest={"metadata": {"name": name}},
        )
        before: list[Resource] = []
        after: list[Resource] = []
        for r in range(per_app):
            n += 1
            kind = ("ConfigMap", "Deployment", "Service")[r % 3]
            group = "apps" if kind == "Deployment" else ""
            body: dict[str, Any] = {
                "apiVersion": "apps/v1" if group else "v1",
                "kind": kind,
                "metadata": {"name": f"{name}-{r}", "namespace": name, "labels": {"app": name, "tier": "web"}},
            }
            if kind == "Deployment":
                body["spec"] = {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {"spec": {"containers": [{"name": "main", "image": "example/app:1.0.0"}]}},
                }
            elif kind == "Service":
                body["spec"] = {"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": name}}
            else:
                body["data"] = {"key": f"value-{r}", "other": "x" * 40}
            key = ResourceKey(group, kind, name, f"{name}-{r}")
            before.append(Resource(key, body["apiVersion"], body, app.id))
            head_body = json.loads(json.dumps(body))
            if every and n % every == 0:
                if kind == "Deployment":
                    head_body["spec"]["template"]["spec"]["containers"][0]["image"] = "example/app:1.1.0"
                elif kind == "Service":
                    head_body["spec"]["ports"][0]["targetPort"] = 9090
                else:
                    head_body["data"]["key"] = "changed"
            after.append(Resource(key, body["apiVersion"], head_body, app.id))
        base_side[app.id] = (app, RenderResult(app.id, resources=tuple(before)))
        head_side[app.id] = (app, RenderResult(app.id, resources=tuple(after)))
    config = Config()
    started, cpu_started = time.perf_counter(), time.process_time()
    changes = diff_renders(base_side, head_side, config=config)
    diffed, cpu_diffed = time.perf_counter(), time.process_time()
    ctx = EvaluationContext(
        changes=changes,
        base_apps={i: a for i, (a, _) in base_side.items()},
        head_apps={i: a for i, (a, _) in head_side.items()},
        base_renders={i: r for i, (_, r) in base_side.items()},
        head_renders={i: r for i, (_, r) in head_side.items()},
        statuses={},
        config=config,
    )
    findings = run_rules(ctx)
    done, cpu_done = time.perf_counter(), time.process_time()
    return {
        "seconds": done - started,
        "diff_seconds": diffed - started,
        "rules_seconds": done - diffed,
        # CPU time of this process: steadier than wall time when other work shares the machine.
        "cpu_seconds": cpu_done - cpu_started,
        "diff_cpu_seconds": cpu_diffed - cpu_started,
        "rules_cpu_seconds": cpu_done - cpu_diffed,
        "resources": n,
        "changes": len(changes),
        "findings": len(findings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    for name in ("naive", "floor"):
        p = sub.add_parser(name)
        p.add_argument("--repo", type=Path, required=True)
        p.add_argument("--base", required=True)
        p.add_argument("--head", required=True)
        p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
        p.add_argument("--apps", default="", help="floor: comma-separated app names")
        p.add_argument("--sample", type=int, default=0, help="naive: render only this many apps, extrapolate")
    p = sub.add_parser("engine")
    p.add_argument("--resources", type=int, default=100_000)
    p.add_argument("--changed", type=float, default=0.05)
    args = parser.parse_args()
    if shutil.which("kubectl") is None and args.what != "engine":
        sys.exit("kubectl is needed for the kustomize renders")
    if args.what == "naive":
        out = naive(args.repo, args.base, args.head, args.sample)
    elif args.what == "floor":
        out = floor(args.repo, args.base, args.head, [a for a in args.apps.split(",") if a], args.jobs)
    else:
        out = engine(args.resources, args.changed)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
