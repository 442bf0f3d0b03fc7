"""`gitops-reviewer render`: the manifests Argo CD would apply, per app, as YAML or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..records import RenderResult, Resource

if TYPE_CHECKING:
    from ..rendering.cache import RenderCache
from ..redaction import mask_secret_values
from .options import render_options, revision_options


def _resource_json(r: Resource) -> dict[str, Any]:
    return {
        "key": {"group": r.key.group, "kind": r.key.kind, "namespace": r.key.namespace, "name": r.key.name},
        "apiVersion": r.api_version,
        "source": str(r.location) if r.location else None,
        "syncWave": r.sync_wave,
        "hook": list(r.hook_phases),
        "syncOptions": list(r.sync_options),
        "manifest": mask_secret_values(r.body),
    }


def result_json(result: RenderResult) -> dict[str, Any]:
    return {
        "app": result.app,
        "sourceTypes": list(result.source_types),
        "resources": [_resource_json(r) for r in result.resources],
        "hooks": [_resource_json(r) for r in result.hooks],
        "warnings": list(result.warnings),
        "errors": [
            {
                "message": e.message,
                "command": e.command,
                "exitCode": e.exit_code,
                "stderr": e.stderr,
                "source": e.source,
            }
            for e in result.errors
        ],
    }


def _manifest_yaml(r: Resource) -> str:
    from ..yamlio import dump_yaml

    return dump_yaml(dict(mask_secret_values(r.body))).rstrip()


def result_yaml(result: RenderResult) -> str:
    parts = [f"# app: {result.app}"]
    for error in result.errors:
        parts.append(f"# RENDER FAILED: {error}".replace("\n", "\n# "))
    for warning in result.warnings:
        parts.append(f"# warning: {warning}")
    for r in result.resources:
        parts.append(f"---\n# source: {r.location or '?'}\n{_manifest_yaml(r)}")
    for r in result.hooks:
        parts.append(f"---\n# hook ({','.join(r.hook_phases)}), source: {r.location or '?'}\n{_manifest_yaml(r)}")
    return "\n".join(parts) + "\n"


@click.command("render")
@revision_options
@render_options
@click.option("--app", "app_name", default=None, help="Render only this app (name or [cluster/]namespace/name).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
def render_command(
    repo: Path,
    rev: str,
    config_path: Path | None,
    offline: bool | None,
    app_name: str | None,
    fmt: str,
    jobs: int | None,
    cache: RenderCache | None,
) -> None:
    """Render Applications the way Argo CD's repo-server would. Exits 1 if any render failed.

    Secret values are masked (their keys are shown)."""
    from ..revision import open_revision

    with open_revision(repo, rev, config_path=config_path, offline=offline, jobs=jobs, cache=cache) as view:
        apps = [view.find(app_name)] if app_name else list(view.discovery.apps)
        results = view.render_many(apps)
        if cache is not None:
            cache.evict()
        if fmt == "json":
            click.echo(json.dumps({"revision": view.revision, "apps": [result_json(r) for r in results]}, indent=2))
        else:
            click.echo("\n".join(result_yaml(r) for r in results), nl=False)
        failed = any(r.errors for r in results) or bool(view.discovery.errors)
        for r in results:
            for e in r.errors:
                click.echo(f"gitops-reviewer: render of {e.app} failed: {e}", err=True)
        if app_name is None:
            for u in view.discovery.unrendered:
                click.echo(f"gitops-reviewer: not rendered: {u.what}: {u.reason}", err=True)
    raise SystemExit(1 if failed else 0)
