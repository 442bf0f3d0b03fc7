"""`spec.templatePatch`: a rendered strategic merge patch on each generated Application.

ACD `applicationset/controllers/template/patch.go` (applyTemplatePatch): the patch is YAML or JSON,
applied as a Kubernetes strategic merge patch, after which `spec.project` is restored.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ...errors import ManifestError
from ...yamlio import load_json, load_yaml_stream


class PatchError(Exception):
    """The rendered patch cannot be applied; the message is a sentence for the user."""


def apply_template_patch(app: dict[str, Any], patch: str) -> dict[str, Any]:
    """`app` with the rendered `patch` applied; `spec.project` is kept. Raises PatchError."""
    try:
        if patch.strip().startswith("{"):
            data = load_json(patch, file="templatePatch")
        else:
            docs = load_yaml_stream(patch, file="templatePatch")
            data = docs[0].data if docs else None
    except ManifestError as exc:
        raise PatchError(f"the rendered patch is not valid YAML or JSON: {exc}") from None
    if data is None:
        return app
    if not isinstance(data, Mapping):
        raise PatchError("the rendered patch is not a mapping")
    project = (app.get("spec") or {}).get("project") if isinstance(app.get("spec"), Mapping) else None
    patched = strategic_merge(app, data, "")
    if (
        patched is None
        or not isinstance(patched.get("metadata", {}), Mapping)
        or not isinstance(patched.get("spec", {}), Mapping)
    ):
        raise PatchError("the patched Application has no metadata or spec mapping")
    spec = patched.setdefault("spec", {})
    if project is None:
        spec.pop("project", None)
    else:
        spec["project"] = project  # the patch may not change the project (ACD patch.go)
    return patched


def strategic_merge(original: Mapping[str, Any], patch: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    """A strategic merge patch on an Application (k8s `strategicpatch.StrategicMergePatch`).

    Maps merge recursively, `null` deletes, lists are replaced, except `metadata.finalizers`, whose
    ObjectMeta field is tagged `patchStrategy:"merge"` (a union). `$patch: replace|delete` apply.
    """
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not str(k).startswith("$")}
    out = copy.deepcopy(dict(original))
    for key, value in patch.items():
        if str(key).startswith("$"):
            continue
        child = f"{path}.{key}" if path else str(key)
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping):
            current = out.get(key)
            merged = strategic_merge(current if isinstance(current, Mapping) else {}, value, child)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        elif child == "metadata.finalizers" and isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + [v for v in value if v not in out[key]]
        else:
            out[key] = copy.deepcopy(value)
    return out
