"""From parameter sets to Application manifests (ACD `controllers/template/template.go` GenerateApplications).

Each parameter set renders the template (`RenderTemplateParams`), then `templatePatch` if any. The
Application gets the AppSet's namespace and, unless the template declares finalizers or
`syncPolicy.preserveResourcesOnDeletion` is set, the resources finalizer. Its spec is normalized as
the controller does before writing it (util/argo `NormalizeApplicationSpec`). Names the API server
would refuse, and duplicates after the first (`applicationset_controller.go`,
`validateGeneratedApplications`), are reported and left out.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..applications import TOOL_BLOCKS, is_zero
from .template_patch import PatchError, apply_template_patch
from .templates import Failed, TemplateEngine, collect_strings, rebuild

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclass(slots=True)
class Pending:
    """One Application to build: the template, one parameter set, and where they came from."""

    generator: int
    template: dict[str, Any]
    params: dict[str, Any]
    strings: list[str] = field(default_factory=list)


class ApplicationBuilder:
    """Builds the Applications of one ApplicationSet; problems are appended to `errors`."""

    def __init__(
        self, *, label: str, namespace: str, preserve: bool, engine: TemplateEngine, errors: list[str]
    ) -> None:
        self.label = label
        self.namespace = namespace
        self.preserve = preserve
        self.engine = engine
        self.errors = errors

    def build_applications(self, pending: list[Pending], patch: str | None) -> list[dict[str, Any]]:
        """The Applications of every pending parameter set, all strings rendered in one batch."""
        jobs: list[tuple[str, Mapping[str, Any]]] = []
        spans: list[tuple[int, int, int | None]] = []  # (first job, job count, patch job)
        for item in pending:
            start = len(jobs)
            if item.params:
                collect_strings(template_application(item.template), item.strings)
                jobs.extend((s, item.params) for s in item.strings)
            patch_job = None
            if patch is not None:
                patch_job = len(jobs)
                jobs.append((patch, item.params))
            spans.append((start, len(item.strings), patch_job))
        rendered = self.engine.render_strings(jobs) if jobs else []

        applications: list[dict[str, Any]] = []
        for item, (start, count, patch_job) in zip(pending, spans, strict=True):
            app = self.build_one(
                item, rendered[start : start + count], rendered[patch_job] if patch_job is not None else None
            )
            if app is not None:
                applications.append(app)
        return self.drop_refused(applications)

    def build_one(
        self, item: Pending, strings: Sequence[str | Failed], patch: str | Failed | None
    ) -> dict[str, Any] | None:
        template_app = template_application(item.template)
        if not item.params:
            # RenderTemplateParams returns the template untouched (no finalizer) for empty params.
            app = template_app
        else:
            failed = next((s for s in strings if isinstance(s, Failed)), None)
            if failed is not None:
                self.errors.append(
                    f"ApplicationSet {self.label}: generator {item.generator}: cannot render the template "
                    f"with parameters {_summary(item.params)}: {failed.message}"
                )
                return None
            rebuilt = rebuild(template_app, iter([str(s) for s in strings]))
            assert isinstance(rebuilt, dict)
            app = rebuilt
            meta = app.setdefault("metadata", {})
            if not self.preserve and not meta.get("finalizers"):
                meta["finalizers"] = [RESOURCES_FINALIZER]
        if patch is not None:
            patched = self.apply_patch(app, patch, item)
            if patched is None:
                return None
            app = patched
        return self.finish(app)

    def apply_patch(self, app: dict[str, Any], patch: str | Failed, item: Pending) -> dict[str, Any] | None:
        """ACD applyTemplatePatch: a strategic merge patch on the Application; `spec.project` is kept."""
        where = (
            f"ApplicationSet {self.label}: generator {item.generator}: "
            f"templatePatch for parameters {_summary(item.params)}"
        )
        if isinstance(patch, Failed):
            self.errors.append(f"{where}: error replacing values in templatePatch: {patch.message}")
            return None
        try:
            return apply_template_patch(app, patch)
        except PatchError as exc:
            self.errors.append(f"{where}: {exc}")
            return None

    def finish(self, app: dict[str, Any]) -> dict[str, Any]:
        meta = app.get("metadata") if isinstance(app.get("metadata"), dict) else {}
        assert isinstance(meta, dict)
        out_meta: dict[str, Any] = {"name": meta.get("name", "")}
        if self.namespace:
            # GenerateApplications: an Application lives in its ApplicationSet's namespace.
            out_meta["namespace"] = self.namespace
        for key in ("labels", "annotations", "finalizers"):
            if meta.get(key):
                out_meta[key] = meta[key]
        spec = app.get("spec") if isinstance(app.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": out_meta,
            "spec": _normalize_spec(spec),
        }

    def drop_refused(self, applications: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Applications Argo CD or the API server would refuse: invalid names, duplicates."""
        kept: list[dict[str, Any]] = []
        seen: set[str] = set()
        for app in applications:
            name = app["metadata"]["name"]
            if not isinstance(name, str) or not name or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
                self.errors.append(
                    f"ApplicationSet {self.label} generated an Application named {name!r}, which is not "
                    "a valid Kubernetes object name; the API server refuses it"
                )
                continue
            if name in seen:
                # validateGeneratedApplications: the first keeps the name, the others are refused.
                self.errors.append(f"ApplicationSet {self.label} contains applications with duplicate name: {name}")
                continue
            seen.add(name)
            kept.append(app)
        return kept


def template_application(template: Mapping[str, Any]) -> dict[str, Any]:
    """ACD GetTempApplication: the template's name, namespace, labels, annotations, finalizers and spec."""
    meta = template.get("metadata") if isinstance(template.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    out_meta = {
        k: copy.deepcopy(meta[k]) for k in ("name", "namespace", "labels", "annotations", "finalizers") if k in meta
    }
    spec = template.get("spec")
    return {"metadata": out_meta, "spec": copy.deepcopy(dict(spec)) if isinstance(spec, Mapping) else {}}


def _normalize_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """ACD util/argo NormalizeApplicationSpec, applied before the Application is written."""
    spec = dict(spec)
    if not spec.get("project"):
        spec["project"] = "default"
    if "syncPolicy" in spec and is_zero(spec["syncPolicy"]):
        del spec["syncPolicy"]
    sources = [spec["source"]] if isinstance(spec.get("source"), dict) else []
    if isinstance(spec.get("sources"), list):
        sources += [s for s in spec["sources"] if isinstance(s, dict)]
    for source in sources:
        for kind in TOOL_BLOCKS:
            if kind in source and is_zero(source[kind]):
                del source[kind]
    return spec


def _summary(params: Mapping[str, Any]) -> str:
    text = json.dumps(params, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:197] + "..."
