"""render-error: an app this change affects could not be rendered at head.

What it checks
    Every app the review rendered at head whose render failed (kustomize build, helm template, a
    missing source path, an invalid manifest, ...): one finding per app, naming the command that failed
    and the first line of its error.

Why it matters
    Where Argo CD's repo-server fails the same way, the app shows a ComparisonError and syncs nothing
    until the render is fixed. The gate cannot tell what the change does to such an app, so it fails
    closed: the verdict is `error` whatever the other findings say, and this finding says why.

Failing example
    `apps/web/kustomization.yaml` at head lists `resources: [deployment.yaml, missing.yaml]` and
    `missing.yaml` does not exist.

Passing example
    The same kustomization listing only files that exist.

Options
    None.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Finding, RenderError, ResourceKey
from .context import EvaluationContext
from .example_manifests import application, deployment

ID = "render-error"
SEVERITY = "error"

_APP = application("web", "apps/web")
_KUSTOMIZATION = "resources: [deployment.yaml]\n"
EXAMPLES = {
    "fails": {
        "base": {
            "apps/argocd/web.yaml": _APP,
            "apps/web/kustomization.yaml": _KUSTOMIZATION,
            "apps/web/deployment.yaml": deployment("api", 2),
        },
        "head": {"apps/web/kustomization.yaml": "resources: [deployment.yaml, missing.yaml]\n"},
    },
    "passes": {
        "base": {
            "apps/argocd/web.yaml": _APP,
            "apps/web/kustomization.yaml": _KUSTOMIZATION,
            "apps/web/deployment.yaml": deployment("api", 2),
        },
        "head": {"apps/web/deployment.yaml": deployment("api", 3)},
    },
}

_EVIDENCE_LIMIT = 4000


def _first(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def describe(error: RenderError) -> str:
    """The command that failed and the first line of its error (the tool's stderr, else the message)."""
    first = _first(error.stderr) or _first(error.message) or "(no error text)"
    if error.command:
        return f"`{error.command}` failed: {first}"
    message = _first(error.message)
    return f"{message}: {first}" if message and message != first else first


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    for app_id in sorted(ctx.head_renders):
        errors = ctx.head_renders[app_id].errors
        if not errors:
            continue
        error = errors[0]
        more = (
            f" ({len(errors) - 1} more error{'s' if len(errors) > 2 else ''} in the evidence)"
            if len(errors) > 1
            else ""
        )
        app = ctx.head_apps.get(app_id)
        evidence = "\n".join(str(e) for e in errors)
        yield Finding(
            rule=ID,
            severity=SEVERITY,
            title=f"{app.name if app else app_id}: render failed at head",
            message=(
                f"app {app_id} could not be rendered at head: {describe(error)}{more}. Where Argo CD's "
                "repo-server fails the same way, the app shows a ComparisonError and syncs nothing until this "
                "is fixed; either way this review cannot tell what the change does to the app, so it fails closed."
            ),
            app=app_id,
            key=ResourceKey("argoproj.io", "Application", app.namespace, app.name) if app else None,
            location=app.defined_in if app else None,
            evidence=evidence[:_EVIDENCE_LIMIT],
        )
