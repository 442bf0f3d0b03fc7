"""Rendering: each app's sources, the way Argo CD's repo-server renders them (DESIGN.md, "Render").

`render_app` (reviewer.rendering.render) never raises for a bad app: a failure is a `RenderError` on
the result, and the run goes on with the other apps.

The package imports nothing itself: the renderers (kustomize, Helm, directories, charts) load with the
first render, so a review whose renders all come from the cache (reviewer.rendering.cache), or a module
that only needs the render context, does not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .render import RENDERERS as RENDERERS
    from .render import SourceRenderer as SourceRenderer
    from .render import render_app as render_app
    from .render import render_source as render_source

_FROM_RENDER = frozenset({"RENDERERS", "SourceRenderer", "render_app", "render_source"})


def __getattr__(name: str) -> Any:
    """PEP 562: `reviewer.rendering.render_app` and friends, imported on first use."""
    if name in _FROM_RENDER:
        return getattr(importlib.import_module(f"{__name__}.render"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RENDERERS", "SourceRenderer", "render_app", "render_source"]
