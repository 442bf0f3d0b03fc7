"""The JSON report: the documented, stable contract for other programs (docs/report-json.md).

`schemaVersion` changes only when a field is removed or changes meaning; new fields may be added
without it. Keys come in a fixed order and lists in a fixed sort, so two runs over the same change give
byte-identical output. Secret values are masked here too (reviewer.report.masking).

The document holds everything the other formats print, so that a report can be read back
(reviewer.report.json_load) and published or merged elsewhere: the resources of each change as the
YAML diff shows them, the apps' definitions (without their raw manifests), evidence, the LLM review.

(The module is not called `json` so that it never shadows the standard library's.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..records import (
    App,
    AppStatus,
    Change,
    FieldDelta,
    Finding,
    LlmReview,
    Location,
    RenderError,
    Report,
    Resource,
    ResourceKey,
)
from ..redaction import redact_text
from .json_text import dumps_indented
from .masking import changed_secret_keys, is_secret_key, masked_body, masked_delta
from .options import FormatOptions
from .summary import ordered_findings, source_location

SCHEMA_VERSION = 1


def _jsonable(value: Any) -> Any:
    """Plain JSON values: mapping keys as strings, non-finite floats and unknown types as strings."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _redacted_jsonable(value: Any) -> Any:
    """`_jsonable(redacted_strings(value))` in one walk instead of two (the bodies of every change go
    through it): strings in mappings and lists redacted, then plain JSON values as `_jsonable` makes."""
    if isinstance(value, str):
        return redact_text(value)[0]
    if isinstance(value, Mapping):
        return {str(key): _redacted_jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted_jsonable(item) for item in value]
    return _jsonable(value)  # redacted_strings leaves anything else as it is


def _resource(key: ResourceKey | None) -> dict[str, str] | None:
    if key is None:
        return None
    return {"group": key.group, "kind": key.kind, "namespace": key.namespace, "name": key.name}


def _location(location: Location | None) -> dict[str, Any] | None:
    return {"file": location.file, "line": location.line} if location else None


def _destination(app: App | None) -> dict[str, str] | None:
    if app is None:
        return None
    destination = app.destination
    return {"server": destination.server, "name": destination.name, "namespace": destination.namespace}


def _definition(app: App | None) -> dict[str, Any] | None:
    """An app's definition as discovery read it. Not its raw manifest, nor its sources' tool options:
    inline Helm values and parameters may hold secrets."""
    if app is None:
        return None
    policy = app.sync_policy
    return {
        "name": app.name,
        "namespace": app.namespace,
        "project": app.project,
        "destination": _destination(app),
        "syncPolicy": {
            "automated": policy.automated,
            "prune": policy.prune,
            "selfHeal": policy.self_heal,
            "allowEmpty": policy.allow_empty,
            "syncOptions": list(policy.sync_options),
        },
        "sources": [
            {
                "repoURL": source.repo_url,
                "path": source.path,
                "targetRevision": source.target_revision,
                "chart": source.chart,
                "ref": source.ref,
                "origin": source.origin,
            }
            for source in app.sources
        ],
        "multiSource": app.multi_source,
        "ignoreDifferences": _jsonable(list(app.ignore_differences)),
        "finalizers": list(app.finalizers),
        "definedIn": _location(app.defined_in),
        "parent": app.parent,
        "generator": app.generator,
        "controlPlane": app.control_plane,
    }


def _app(status: AppStatus) -> dict[str, Any]:
    return {
        "app": status.app,
        "name": status.name,
        "state": status.state,
        "reason": status.reason,
        "destination": _destination(status.head or status.base),
        "base": _definition(status.base),
        "head": _definition(status.head),
    }


def _path(change: Change, delta: FieldDelta) -> dict[str, Any]:
    delta = masked_delta(change, delta)
    return {
        "path": delta.path,
        "kind": delta.kind,
        "before": _jsonable(delta.before),
        "after": _jsonable(delta.after),
        "ignored": delta.ignored,
    }


def _side(resource: Resource | None, changed: frozenset[tuple[str, str]] = frozenset()) -> dict[str, Any] | None:
    """One side of a change: the resource as the YAML diff prints it (Secret values masked, those in
    `changed` marked changed), with what the rules read besides its body."""
    if resource is None:
        return None
    return {
        "app": resource.app,
        "apiVersion": resource.api_version,
        "location": _location(resource.location),
        "syncWave": resource.sync_wave,
        "hookPhases": list(resource.hook_phases),
        "syncOptions": list(resource.sync_options),
        "body": _jsonable(masked_body(resource, changed))
        if is_secret_key(resource.key)
        else masked_body(resource, redact=_redacted_jsonable),  # converted as it is redacted
    }


def _change(change: Change) -> dict[str, Any]:
    location = source_location(change)
    return {
        "app": change.app,
        "type": change.type,
        "resource": _resource(change.key),
        "cluster": change.cluster,
        "hook": change.hook,
        "ignored": change.ignored,
        "fromApp": change.from_app if change.type == "moved" else None,
        "source": location.file if location else None,
        "paths": [_path(change, delta) for delta in change.deltas],
        "base": _side(change.base),
        "head": _side(change.head, changed_secret_keys(change)),
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "app": finding.app,
        "resource": _resource(finding.key),
        "path": finding.path,
        "message": finding.message,
        "origin": finding.origin,
        "fingerprint": finding.fingerprint,
        "waived": finding.waived,
        "title": finding.title,
        "location": _location(finding.location),
        "evidence": finding.evidence,
    }


def _error(error: RenderError) -> dict[str, Any]:
    return {
        "app": error.app,
        "message": error.message,
        "command": error.command,
        "exitCode": error.exit_code,
        "stderr": error.stderr,
        "source": error.source,
    }


def _llm(review: LlmReview | None) -> dict[str, Any] | None:
    if review is None:
        return None
    return {
        "status": review.status,
        "reason": review.reason,
        "kind": review.kind,
        "model": review.model,
        "endpoint": review.endpoint,
        "promptDigest": review.prompt_digest,
        "promptSource": review.prompt_source,
        "schemaVersion": review.schema_version,
        "severityCap": review.severity_cap,
        "mode": review.mode,
        "attempts": review.attempts,
        "cached": review.cached,
        "inputTokens": review.input_tokens,
        "notReviewed": list(review.not_reviewed),
        "summarised": list(review.summarised),
        "droppedFindings": review.dropped_findings,
        "dropped": dict(review.dropped),
        "redactedValues": review.redacted_values,
        "stripped": list(review.stripped),
        "elapsed": round(review.elapsed, 3),
    }


def _change_order(change: Change) -> tuple[str, ResourceKey, str, str]:
    return (change.app, change.key, change.cluster, change.type)


def report_document(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data, keys in contract order (docs/report-json.md)."""
    return {
        "verdict": report.verdict,
        "base": {"revision": report.base_revision, "label": report.base_label},
        "head": {"revision": report.head_revision, "label": report.head_label},
        "apps": [_app(status) for status in sorted(report.apps, key=lambda status: status.app)],
        "changes": [_change(change) for change in sorted(report.changes, key=_change_order)],
        "findings": [_finding(finding) for finding in ordered_findings(report.findings)],
        "errors": [_error(error) for error in report.errors],
        "unrendered": [
            {"what": item.what, "reason": item.reason, "location": _location(item.location)}
            for item in report.unrendered
        ],
        "warnings": list(report.warnings),
        "changedPaths": list(report.changed_paths),
        "timings": {stage: round(seconds, 3) for stage, seconds in report.timings},
        "toolVersions": dict(report.tool_versions),
        "skippedApps": report.skipped_apps,
        "llm": _llm(report.llm),
        "shard": None,
        "schemaVersion": SCHEMA_VERSION,
    }


def format_json(report: Report, options: FormatOptions) -> str:
    """The JSON contract. Options do not change it: a program reading it gets the same shape always."""
    del options
    return dumps_indented(report_document(report)) + "\n"
