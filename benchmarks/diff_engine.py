"""Throughput of the diff stage and the rule engine alone (no git, no rendering).

Builds two revisions of a large repo in memory: `--resources` rendered resources per side
(Deployments, Services and ConfigMaps of 30 to 60 fields each) spread over about 1,000 apps, of which
`--changed-fraction` differ at head (most modified, some removed, added or moved to another app).
Then runs `reviewer.diff.diff_renders` and `reviewer.evaluation.run_rules` as `reviewer.review.review`
does, and prints one JSON object: resources per second (per side: 100,000 means 2 x 100,000 bodies
compared), in wall-clock time and in CPU time of the process (steadier when other work shares the
machine), the time of each stage, and the resident memory: after building the inputs, the peak, and
what the diff and the rules added to it. Each body is an object tree of its own, as a YAML parser
returns it (about 10 KB in Python for 30 to 60 fields), so the inputs of 2 x 100,000 take about 2 GiB
before the engine starts.

    python benchmarks/diff_engine.py --resources 100000 --changed-fraction 0.05

`run(resources, changed_fraction)` returns the same figures; by default it measures in a fresh
interpreter, so that the peak memory is this scenario's and not the caller's.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as a script from anywhere
    sys.path.insert(0, str(ROOT))

from reviewer.config import Config  # noqa: E402
from reviewer.diff import diff_renders  # noqa: E402
from reviewer.evaluation import run_rules  # noqa: E402
from reviewer.policies.context import EvaluationContext  # noqa: E402
from reviewer.records import (  # noqa: E402
    App,
    AppSource,
    AppStatus,
    Destination,
    Location,
    RenderResult,
    Resource,
    ResourceKey,
    SyncPolicy,
)
from reviewer.rendering.manifests import merge_sync_options  # noqa: E402

SERVER = "https://kubernetes.default.svc"
REPO = "https://github.com/acme/config.git"


def _labels(app: str, name: str, rng: random.Random) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": app,
        "app.kubernetes.io/part-of": f"team-{rng.randrange(40)}",
        "app.kubernetes.io/managed-by": "kustomize",
    }


def _deployment(app: str, namespace: str, name: str, rng: random.Random) -> dict[str, Any]:
    labels = _labels(app, name, rng)
    env = [{"name": f"SETTING_{i}", "value": f"value-{rng.randrange(1000)}"} for i in range(4)]
    env.append({"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    container = {
        "name": name,
        "image": f"registry.example.com/{name}:1.{rng.randrange(30)}.{rng.randrange(10)}",
        "args": ["--port=8080", f"--workers={rng.randrange(1, 9)}"],
        "ports": [{"containerPort": 8080, "name": "http"}, {"containerPort": 9090, "name": "metrics"}],
        "env": env,
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 10},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}, {"name": "tmp", "mountPath": "/tmp"}],
        "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
    }
    sidecar = {
        "name": "proxy",
        "image": "registry.example.com/proxy:2.4.1",
        "ports": [{"containerPort": 15001, "name": "proxy"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": {"argocd.argoproj.io/sync-wave": str(rng.randrange(3))},
        },
        "spec": {
            "replicas": rng.randrange(1, 6),
            "selector": {"matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": app}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": dict(labels), "annotations": {"prometheus.io/scrape": "true"}},
                "spec": {
                    "serviceAccountName": name,
                    "containers": [container, sidecar],
                    "volumes": [{"name": "config", "configMap": {"name": f"{name}-config"}}, {"name": "tmp"}],
                },
            },
        },
    }


def _service(app: str, namespace: str, name: str, rng: random.Random) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": _labels(app, name, rng),
            "annotations": {
                "prometheus.io/port": "9090",
                "prometheus.io/scrape": "true",
                "service.kubernetes.io/topology-mode": "Auto",
            },
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": app},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "appProtocol": "http"},
                {"name": "metrics", "port": 9090, "targetPort": "metrics", "appProtocol": "http"},
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
            ],
            "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster",
            "ipFamilyPolicy": "SingleStack",
            "ipFamilies": ["IPv4"],
        },
    }


def _config_map(app: str, namespace: str, name: str, rng: random.Random) -> dict[str, Any]:
    data = {f"setting.{i}": f"value-{rng.randrange(100000)}" for i in range(rng.randrange(20, 40))}
    data["app.properties"] = "\n".join(f"key{i}=value{rng.randrange(100)}" for i in range(12)) + "\n"
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(app, name, rng)},
        "data": data,
    }


_BUILDERS = (_deployment, _service, _config_map)


def _app(index: int, prune: bool) -> App:
    name = f"app-{index:04d}"
    namespace = f"team-{index % 97}"
    source = AppSource(REPO, f"apps/{name}", "HEAD", None, None, {"path": f"apps/{name}"}, "repo")
    policy = SyncPolicy(automated=True, prune=prune) if prune else SyncPolicy()
    manifest = {"metadata": {"name": name, "namespace": "argocd"}, "spec": {"destination": {"namespace": namespace}}}
    return App(
        name=name,
        namespace="argocd",
        project="default",
        sources=(source,),
        destination=Destination(server=SERVER, namespace=namespace),
        sync_policy=policy,
        ignore_differences=(),
        finalizers=(),
        defined_in=Location(f"apps/{name}.yaml", 1),
        manifest=manifest,
    )


def _resource(app: App, body: dict[str, Any], index: int) -> Resource:
    meta = body["metadata"]
    group = body["apiVersion"].rpartition("/")[0] if "/" in body["apiVersion"] else ""
    return Resource(
        key=ResourceKey(group, body["kind"], meta["namespace"], meta["name"]),
        api_version=body["apiVersion"],
        body=body,
        app=app.id,
        location=Location(f"apps/{app.name}/{body['kind'].lower()}-{index}.yaml", 1),
        sync_options=merge_sync_options(app.sync_policy.sync_options, body),
    )


def _modify(body: dict[str, Any], rng: random.Random) -> None:
    """One realistic edit: an image bump, a replica count, a setting, a label, a port."""
    kind = body["kind"]
    if kind == "Deployment":
        spec = body["spec"]
        choice = rng.randrange(3)
        if choice == 0:
            container = spec["template"]["spec"]["containers"][0]
            container["image"] = container["image"] + "-patched"
        elif choice == 1:
            spec["replicas"] = spec["replicas"] + 1
        else:
            spec["template"]["spec"]["containers"][0]["env"][2]["value"] = "changed"
    elif kind == "Service":
        body["spec"]["ports"][0]["port"] = 8080
    else:
        body["data"]["setting.0"] = "changed"
        body["metadata"]["labels"]["release"] = "next"


def _parsed(value: Any) -> Any:
    """`value` made of objects of its own, keys and strings included, as a YAML parser returns it (no
    string shared with another document, none interned)."""
    kind = type(value)
    if kind is dict:
        return {key.encode().decode(): _parsed(item) for key, item in value.items()}
    if kind is list:
        return [_parsed(item) for item in value]
    if kind is str:
        return value.encode().decode()
    return value


def _bodies(apps: list[App], resources: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """`resources` bodies dealt over the apps. Two calls with one seed give equal bodies made of distinct
    objects, as two renders of the same manifests do."""
    rng = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = {a.id: [] for a in apps}
    for i in range(resources):
        app = apps[i % len(apps)]
        build_body = _BUILDERS[i % len(_BUILDERS)]
        out[app.id].append(_parsed(build_body(app.name, app.destination.namespace, f"svc-{i:06d}", rng)))
    return out


def build(resources: int, changed_fraction: float, seed: int = 1) -> dict[str, Any]:
    """The inputs of `diff_renders` for both sides, and the evaluation context's apps."""
    app_count = max(1, min(1000, resources // 100))
    apps = [_app(i, prune=i % 2 == 0) for i in range(app_count)]
    base_bodies = _bodies(apps, resources, seed)
    head_bodies = _bodies(apps, resources, seed)
    rng = random.Random(seed + 1)
    changed = int(resources * changed_fraction)
    removed = added = moved = changed // 20
    modified = changed - removed - added - moved
    flat = [(app_id, i) for app_id, bodies in head_bodies.items() for i in range(len(bodies))]
    picks = rng.sample(flat, min(len(flat), modified + removed + moved))
    for app_id, i in picks[:modified]:
        _modify(head_bodies[app_id][i], rng)
    gone = {(app_id, i) for app_id, i in picks[modified : modified + removed]}
    ids = [a.id for a in apps]
    arriving: dict[str, list[dict[str, Any]]] = {app_id: [] for app_id in ids}
    for app_id, i in picks[modified + removed :]:  # moved to another app
        arriving[ids[(ids.index(app_id) + 97) % len(ids)]].append(head_bodies[app_id][i])
        gone.add((app_id, i))
    for n in range(added):
        app = apps[n % app_count]
        arriving[app.id].append(_config_map(app.name, app.destination.namespace, f"new-{n:06d}", rng))
    by_id = {a.id: a for a in apps}

    def renders(bodies: dict[str, list[dict[str, Any]]], drop: set[tuple[str, int]]) -> dict[str, Any]:
        out = {}
        for app_id, items in bodies.items():
            app = by_id[app_id]
            kept = [b for i, b in enumerate(items) if (app_id, i) not in drop]
            result = RenderResult(app_id, tuple(_resource(app, b, i) for i, b in enumerate(kept)))
            out[app_id] = (app, result)
        return out

    head_final = {app_id: [*items, *arriving[app_id]] for app_id, items in head_bodies.items()}
    return {"apps": by_id, "base": renders(base_bodies, set()), "head": renders(head_final, gone)}


def _rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(resources: int, changed_fraction: float, profiler: Any = None) -> dict[str, Any]:
    """Build the inputs, then time the diff and the rules over them, in this process (under
    `profiler`, a `cProfile.Profile`, when given)."""
    started = time.perf_counter()
    inputs = build(resources, changed_fraction)
    built = time.perf_counter() - started
    gc.collect()
    rss_inputs = _rss_mib()
    config = Config()
    apps = inputs["apps"]
    if profiler is not None:
        profiler.enable()
    t0, c0 = time.perf_counter(), time.process_time()
    changes = diff_renders(inputs["base"], inputs["head"], config=config)
    t1, c1 = time.perf_counter(), time.process_time()
    changed_apps = {c.app for c in changes} | {c.from_app for c in changes if c.from_app}
    statuses = {
        app_id: AppStatus(app_id, app.name, "changed" if app_id in changed_apps else "unchanged", app, app)
        for app_id, app in apps.items()
    }
    ctx = EvaluationContext(
        changes=changes,
        base_apps=apps,
        head_apps=apps,
        base_renders={i: result for i, (_, result) in inputs["base"].items()},
        head_renders={i: result for i, (_, result) in inputs["head"].items()},
        statuses=statuses,
        config=config,
        options=config.rule_options,
    )
    findings = run_rules(ctx)
    t2, c2 = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.disable()
    total = t2 - t0
    kinds: dict[str, int] = {}
    for change in changes:
        kinds[change.type] = kinds.get(change.type, 0) + 1
    return {
        "resources": resources,
        "changed_fraction": changed_fraction,
        "apps": len(apps),
        "changes": kinds,
        "findings": len(findings),
        "build_seconds": round(built, 3),
        "diff_seconds": round(t1 - t0, 3),
        "rules_seconds": round(t2 - t1, 3),
        "seconds": round(total, 3),
        "resources_per_second": round(resources / total) if total else None,
        # CPU time of this process: the figure to compare on a machine other work shares.
        "cpu_seconds": round(c2 - c0, 3),
        "diff_cpu_seconds": round(c1 - c0, 3),
        "rules_cpu_seconds": round(c2 - c1, 3),
        "resources_per_cpu_second": round(resources / (c2 - c0)) if c2 > c0 else None,
        "bodies_per_second": round(2 * resources / total) if total else None,  # both revisions counted
        "rss_inputs_mib": round(rss_inputs),
        "peak_rss_mib": round(_rss_mib()),
        "engine_rss_mib": round(_rss_mib() - rss_inputs),  # what the diff and the rules added
    }


def run(resources: int, changed_fraction: float, *, isolated: bool = True) -> dict[str, Any]:
    """The figures of one scenario. `isolated` measures in a fresh interpreter (a clean peak memory)."""
    if not isolated:
        return measure(resources, changed_fraction)
    out = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--resources",
            str(resources),
            "--changed-fraction",
            str(changed_fraction),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--resources", type=int, default=100_000, help="resources per side (default 100000)")
    parser.add_argument("--changed-fraction", type=float, default=0.05, help="share that differs (default 0.05)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the diff and rules to FILE")
    args = parser.parse_args(argv)
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = measure(args.resources, args.changed_fraction, profiler)
        profiler.dump_stats(args.profile)
    else:
        result = measure(args.resources, args.changed_fraction)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
