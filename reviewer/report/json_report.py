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
from json.encoder import encode_basestring as quote
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
from ..redaction import mask_secret_values, may_hold_credentials, redact_text
from .json_text import dumps_indented, plain_text, value_text
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


def _sorted_apps(report: Report) -> list[AppStatus]:
    return sorted(report.apps, key=lambda status: status.app)


def _sorted_changes(report: Report) -> list[Change]:
    return sorted(report.changes, key=_change_order)


def _document(report: Report, apps: Any, changes: Any) -> dict[str, Any]:
    return {
        "verdict": report.verdict,
        "base": {"revision": report.base_revision, "label": report.base_label},
        "head": {"revision": report.head_revision, "label": report.head_label},
        "apps": apps,
        "changes": changes,
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


def report_document(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data, keys in contract order (docs/report-json.md)."""
    apps = [_app(status) for status in _sorted_apps(report)]
    return _document(report, apps, [_change(change) for change in _sorted_changes(report)])


def format_json(report: Report, options: FormatOptions) -> str:
    """The JSON contract. Options do not change it: a program reading it gets the same shape always.

    The text is `dumps_indented(report_document(report))`, but its two large sections, the apps and the
    changes (nearly all of a large review's report), are written straight from the records (below)."""
    del options
    level = "\n  "
    sections = {
        "apps": _apps_text(_sorted_apps(report), level),
        "changes": _changes_text(_sorted_changes(report), level),
    }
    document = _document(report, None, None)
    members = [
        quote(key) + ": " + (sections[key] if key in sections else dumps_indented(value, level))
        for key, value in document.items()
    ]
    return "{" + level + ("," + level).join(members) + "\n}\n"


# The apps and changes sections as text. Each function below writes what `dumps_indented` writes for
# the value its namesake above builds (`_side_text` for `_side`, ...), at `indent`: the newline and spaces
# of the level the value sits at. Field values go through `value_text`, which writes any value as that
# function does: only the fixed shape of the records is spelled out here. A test compares both ways.


def _object(indent: str, members: list[str]) -> str:
    """A JSON object at `indent` from its members' `"key": value` texts."""
    inner = indent + "  "
    return "{" + inner + ("," + inner).join(members) + indent + "}"


def _array(indent: str, items: list[str]) -> str:
    if not items:
        return "[]"
    inner = indent + "  "
    return "[" + inner + ("," + inner).join(items) + indent + "]"


def _resource_text(key: ResourceKey | None, indent: str) -> str:
    if key is None:
        return "null"
    i = indent + "  "
    return _object(
        indent,
        [
            f'"group": {value_text(key.group, i)}',
            f'"kind": {value_text(key.kind, i)}',
            f'"namespace": {value_text(key.namespace, i)}',
            f'"name": {value_text(key.name, i)}',
        ],
    )


def _location_text(location: Location | None, indent: str) -> str:
    if not location:
        return "null"
    i = indent + "  "
    return _object(indent, [f'"file": {value_text(location.file, i)}', f'"line": {value_text(location.line, i)}'])


def _destination_text(app: App | None, indent: str) -> str:
    if app is None:
        return "null"
    destination, i = app.destination, indent + "  "
    return _object(
        indent,
        [
            f'"server": {value_text(destination.server, i)}',
            f'"name": {value_text(destination.name, i)}',
            f'"namespace": {value_text(destination.namespace, i)}',
        ],
    )


def _definition_text(app: App, indent: str) -> str:
    i = indent + "  "
    j = i + "  "
    k = j + "  "
    policy = app.sync_policy
    sources = [
        _object(
            j,
            [
                f'"repoURL": {value_text(source.repo_url, k)}',
                f'"path": {value_text(source.path, k)}',
                f'"targetRevision": {value_text(source.target_revision, k)}',
                f'"chart": {value_text(source.chart, k)}',
                f'"ref": {value_text(source.ref, k)}',
                f'"origin": {value_text(source.origin, k)}',
            ],
        )
        for source in app.sources
    ]
    sync_policy = [
        f'"automated": {value_text(policy.automated, j)}',
        f'"prune": {value_text(policy.prune, j)}',
        f'"selfHeal": {value_text(policy.self_heal, j)}',
        f'"allowEmpty": {value_text(policy.allow_empty, j)}',
        f'"syncOptions": {value_text(list(policy.sync_options), j)}',
    ]
    return _object(
        indent,
        [
            f'"name": {value_text(app.name, i)}',
            f'"namespace": {value_text(app.namespace, i)}',
            f'"project": {value_text(app.project, i)}',
            f'"destination": {_destination_text(app, i)}',
            f'"syncPolicy": {_object(i, sync_policy)}',
            f'"sources": {_array(i, sources)}',
            f'"multiSource": {value_text(app.multi_source, i)}',
            f'"ignoreDifferences": {value_text(_jsonable(list(app.ignore_differences)), i)}',
            f'"finalizers": {value_text(list(app.finalizers), i)}',
            f'"definedIn": {_location_text(app.defined_in, i)}',
            f'"parent": {value_text(app.parent, i)}',
            f'"generator": {value_text(app.generator, i)}',
            f'"controlPlane": {value_text(app.control_plane, i)}',
        ],
    )


def _apps_text(statuses: list[AppStatus], indent: str) -> str:
    i = indent + "  "
    j = i + "  "
    # An app's base and head are often one record (a head whose discovery is the base's): written once.
    definitions: dict[int, str] = {}

    def definition(app: App | None) -> str:
        if app is None:
            return "null"
        text = definitions.get(id(app))
        if text is None:
            text = definitions[id(app)] = _definition_text(app, j)
        return text

    return _array(
        indent,
        [
            _object(
                i,
                [
                    f'"app": {value_text(status.app, j)}',
                    f'"name": {value_text(status.name, j)}',
                    f'"state": {value_text(status.state, j)}',
                    f'"reason": {value_text(status.reason, j)}',
                    f'"destination": {_destination_text(status.head or status.base, j)}',
                    f'"base": {definition(status.base)}',
                    f'"head": {definition(status.head)}',
                ],
            )
            for status in statuses
        ],
    )


def _path_text(change: Change, delta: FieldDelta, indent: str) -> str:
    delta, i = masked_delta(change, delta), indent + "  "
    return _object(
        indent,
        [
            f'"path": {value_text(delta.path, i)}',
            f'"kind": {value_text(delta.kind, i)}',
            f'"before": {value_text(_jsonable(delta.before), i)}',
            f'"after": {value_text(_jsonable(delta.after), i)}',
            f'"ignored": {value_text(delta.ignored, i)}',
        ],
    )


def _side_text(resource: Resource | None, indent: str, changed: frozenset[tuple[str, str]] = frozenset()) -> str:
    if resource is None:
        return "null"
    i = indent + "  "
    if is_secret_key(resource.key):
        body = value_text(_jsonable(masked_body(resource, changed)), i)
    else:  # masked_body(resource, redact=_redacted_jsonable), written as it is redacted
        body = _redacted_text(mask_secret_values(resource.body), i)
    return _object(
        indent,
        [
            f'"app": {value_text(resource.app, i)}',
            f'"apiVersion": {value_text(resource.api_version, i)}',
            f'"location": {_location_text(resource.location, i)}',
            f'"syncWave": {value_text(resource.sync_wave, i)}',
            f'"hookPhases": {value_text(list(resource.hook_phases), i)}',
            f'"syncOptions": {value_text(list(resource.sync_options), i)}',
            f'"body": {body}',
        ],
    )


def _changes_text(changes: list[Change], indent: str) -> str:
    i = indent + "  "
    j = i + "  "
    items = []
    for change in changes:
        location = source_location(change)
        items.append(
            _object(
                i,
                [
                    f'"app": {value_text(change.app, j)}',
                    f'"type": {value_text(change.type, j)}',
                    f'"resource": {_resource_text(change.key, j)}',
                    f'"cluster": {value_text(change.cluster, j)}',
                    f'"hook": {value_text(change.hook, j)}',
                    f'"ignored": {value_text(change.ignored, j)}',
                    f'"fromApp": {value_text(change.from_app if change.type == "moved" else None, j)}',
                    f'"source": {value_text(location.file if location else None, j)}',
                    f'"paths": {_array(j, [_path_text(change, delta, j + "  ") for delta in change.deltas])}',
                    f'"base": {_side_text(change.base, j)}',
                    f'"head": {_side_text(change.head, j, changed_secret_keys(change))}',
                ],
            )
        )
    return _array(indent, items)


def _redacted_text(value: Any, indent: str) -> str:
    """`dumps_indented(_redacted_jsonable(value), indent)` without the copy when it would change nothing:
    plain JSON data (which `_redacted_jsonable` copies as it is, but for redacted strings) whose text
    holds nothing redaction masks is its own redacted text. That is most bodies: one walk and one search
    instead of a walk that copies and searches every string, then another that writes the copy."""
    text = plain_text(value, indent)
    if text is None or may_hold_credentials(text):
        return dumps_indented(_redacted_jsonable(value), indent)
    return text
