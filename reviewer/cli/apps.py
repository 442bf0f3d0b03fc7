"""`gitops-reviewer apps`: the Applications of a revision, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import RenderFailure
from ..records import App, Discovery
from .options import render_options, revision_options

if TYPE_CHECKING:
    from ..rendering.cache import RenderCache
    from ..revision import RevisionView


def source_summary(app: App, view: RevisionView) -> tuple[str, str]:
    from ..rendering.source import detect_type, resolve_path

    types, paths = [], []
    for source in app.sources:
        if source.ref and not source.path and not source.chart:
            types.append("ref")
            paths.append(f"${source.ref}")
            continue
        if source.origin == "chart":
            types.append("helm")
            paths.append(f"{source.chart}@{source.target_revision}")
            continue
        if source.origin in ("external", "unresolved"):
            types.append(source.origin)
            paths.append(f"{source.repo_url} {source.path or ''}".strip())
            continue
        try:
            types.append(detect_type(source, resolve_path(view.ctx.root, source.path)))
        except RenderFailure:
            types.append("?")
        paths.append(source.path or ".")
    return ",".join(types), ",".join(paths)


def app_row(app: App, view: RevisionView) -> dict[str, Any]:
    kind, path = source_summary(app, view)
    policy = app.sync_policy
    return {
        "app": app.id,
        "name": app.name,
        "parent": app.parent or app.generator or "",
        "generator": app.generator or "",
        "type": kind,
        "path": path,
        "destination": f"{app.destination.cluster}/{app.destination.namespace}",
        "automated": policy.automated,
        "prune": policy.prune,
        "selfHeal": policy.self_heal,
        "definedIn": str(app.defined_in) if app.defined_in else "",
    }


def _table(rows: list[dict[str, Any]]) -> str:
    headers = ["APP", "PARENT", "TYPE", "PATH", "DESTINATION", "AUTO/PRUNE/HEAL", "DEFINED IN"]
    body = [
        [
            r["app"],
            r["parent"] or "-",
            r["type"],
            r["path"],
            r["destination"],
            "/".join("yes" if r[k] else "no" for k in ("automated", "prune", "selfHeal")),
            r["definedIn"],
        ]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *body, strict=False)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in [headers, *body]
    ]
    return "\n".join(lines)


def _notes(discovery: Discovery) -> list[str]:
    out = []
    for u in discovery.unrendered:
        out.append(f"not rendered: {u.what}: {u.reason}")
    for w in discovery.warnings:
        out.append(f"warning: {w}")
    for e in discovery.errors:
        out.append(f"error: {e.app}: {e}")
    for result in discovery.renders.values():
        for e in result.errors:
            out.append(f"error: {e.app}: {e}")
    return out


@click.command("apps")
@revision_options
@render_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def apps_command(
    repo: Path,
    rev: str,
    config_path: Path | None,
    offline: bool | None,
    fmt: str,
    jobs: int | None,
    cache: RenderCache | None,
) -> None:
    """List every Argo CD Application of the config repo at a revision."""
    from ..revision import open_revision

    with open_revision(repo, rev, config_path=config_path, offline=offline, jobs=jobs, cache=cache) as view:
        rows = [app_row(app, view) for app in view.discovery.apps]
        if cache is not None:
            cache.evict()
        failed = bool(view.discovery.errors) or any(r.errors for r in view.discovery.renders.values())
        if fmt == "json":
            payload = {
                "revision": view.revision,
                "apps": rows,
                "unrendered": [
                    {"what": u.what, "reason": u.reason, "location": str(u.location) if u.location else None}
                    for u in view.discovery.unrendered
                ],
                "warnings": list(view.discovery.warnings),
                "errors": [
                    {"app": e.app, "message": str(e)}
                    for e in [
                        *view.discovery.errors,
                        *(e for r in view.discovery.renders.values() for e in r.errors),
                    ]
                ],
            }
            click.echo(json.dumps(payload, indent=2))
        else:
            click.echo(_table(rows) if rows else "no Argo CD Applications found")
            for line in _notes(view.discovery):
                click.echo(line, err=True)
    raise SystemExit(1 if failed else 0)
