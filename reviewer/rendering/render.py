"""Rendering an app: each of its sources, the way Argo CD's repo-server renders them (DESIGN.md, "Render").

`render_app` never raises for a bad app: a failure is a `RenderError` on the result, and the run
goes on with the other apps.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from ..errors import RenderFailure, ReviewerError
from ..records import App, AppSource, RenderError, RenderResult
from .charts import pull_chart
from .context import RenderContext
from .directory import render_directory
from .helm import build_template, render_helm, run_template
from .kustomize import render_kustomize
from .manifests import Produced, normalise
from .source import BuildEnv, apply_overrides, detect_type, resolve_path


class SourceRenderer(Protocol):
    def __call__(
        self,
        app: App,
        source: AppSource,
        app_dir: Path,
        env: BuildEnv,
        ctx: RenderContext,
        refs: Mapping[str, Path],
        warnings: list[str],
    ) -> list[Produced]: ...


RENDERERS: dict[str, SourceRenderer] = {
    "directory": render_directory,
    "kustomize": render_kustomize,
    "helm": render_helm,
}


def _refs(app: App, ctx: RenderContext) -> dict[str, Path]:
    """`ref` sources of a multi-source app: `$name/...` resolves to that repo's root (this repo only)."""
    refs = {}
    for source in app.sources:
        if source.ref and source.origin == "repo":
            refs[source.ref] = ctx.root
    return refs


def render_source(
    app: App, index: int, source: AppSource, ctx: RenderContext, refs: Mapping[str, Path], warnings: list[str]
) -> tuple[str, list[Produced]]:
    """Render one source; returns its type and documents. Raises RenderFailure."""
    # A `ref` source without a path (and not a chart) only provides files to the others (§C.4).
    if source.ref and not source.path and not source.chart:
        return "ref", []
    if source.origin == "unresolved":
        what = f"repoURL {source.repo_url!r} is an unfilled placeholder" if source.repo_url else "has no repoURL"
        raise RenderFailure(
            f"source #{index + 1} {what}; Argo CD cannot fetch it as written. If a bootstrap step fills it in "
            "with this repository's URL, list that literal value under `repos:` in .gitops-reviewer.yaml"
        )
    if source.origin == "external":
        raise RenderFailure(
            f"source #{index + 1} is another Git repository ({source.repo_url}); it is not rendered. "
            "List its URL under `repos:` in .gitops-reviewer.yaml if it is this repository"
        )
    if source.spec.get("plugin") is not None:
        raise RenderFailure("config management plugins cannot be reproduced without the plugin's sidecar")
    env_source = source
    if source.origin == "chart":
        chart_dir = pull_chart(source, ctx)
        env = BuildEnv.for_app(app, env_source, ctx.revision)
        tpl, notes = build_template(app, source, chart_dir, f"{source.chart}@{source.target_revision}", env, ctx, refs)
        warnings.extend(notes)
        return "helm", run_template(tpl, ctx)
    app_dir = resolve_path(ctx.root, source.path)
    rel_dir = ctx.rel(app_dir)
    escaping = [s for s in ctx.escaping_symlinks if rel_dir in ("", s) or s.startswith(f"{rel_dir}/")]
    if escaping:
        raise RenderFailure(
            f"the app path contains a symlink that points outside the repository ({escaping[0]}); "
            "Argo CD refuses to render it (out-of-bounds symlink)"
        )
    if app_dir.is_dir():
        source, used = apply_overrides(source, app_dir, app.name)
        warnings.extend(f"parameters overridden by {ctx.rel(app_dir / u)}" for u in used)
    kind = detect_type(source, app_dir)
    if kind not in RENDERERS:
        raise RenderFailure(f"{kind} sources cannot be rendered")
    env = BuildEnv.for_app(app, source, ctx.revision)
    return kind, RENDERERS[kind](app, source, app_dir, env, ctx, refs, warnings)


def render_app(app: App, ctx: RenderContext) -> RenderResult:
    """Render every source of `app` and post-process the result as Argo CD's controller does."""
    warnings: list[str] = []
    errors: list[RenderError] = []
    produced: list[Produced] = []
    types: list[str] = []
    refs = _refs(app, ctx)
    for index, source in enumerate(app.sources):
        try:
            kind, docs = render_source(app, index, source, ctx, refs, warnings)
        except RenderFailure as exc:
            errors.append(
                RenderError(
                    app=app.id,
                    message=str(exc),
                    source=index if len(app.sources) > 1 else None,
                    command=exc.command,
                    exit_code=exc.returncode,
                    stderr=exc.stderr,
                )
            )
            continue
        except ReviewerError as exc:
            errors.append(RenderError(app=app.id, message=str(exc), source=index if len(app.sources) > 1 else None))
            continue
        except Exception as exc:  # a renderer bug must fail this app, never the run, and never pass
            errors.append(
                RenderError(
                    app=app.id,
                    message=f"internal error while rendering: {type(exc).__name__}: {exc}",
                    source=index if len(app.sources) > 1 else None,
                )
            )
            continue
        types.append(kind)
        produced.extend(docs)
    result = normalise(
        produced,
        app=app.id,
        destination_namespace=app.destination.namespace,
        app_sync_options=app.sync_policy.sync_options,
        scopes=ctx.scopes.with_crds(d.body for d in produced if d.body.get("kind") == "CustomResourceDefinition"),
    )
    errors.extend(RenderError(app=app.id, message=m) for m in result.errors)
    return RenderResult(
        app=app.id,
        resources=tuple(result.resources),
        hooks=tuple(result.hooks),
        warnings=tuple([*warnings, *result.warnings]),
        errors=tuple(errors),
        source_types=tuple(types),
    )
