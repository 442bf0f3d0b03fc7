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
    statuses, changes = _sorted_apps(report), _sorted_changes(report)
    try:
        sections = {"apps": _apps_items(statuses, level), "changes": _changes_items(changes, level)}
    except TypeError:  # a field that is not of its record's type: written as the document has it
        sections = {
            "apps": [dumps_indented([_app(status) for status in statuses], level)],
            "changes": [dumps_indented([_change(change) for change in changes], level)],
        }
    # The text of megabytes is joined once, from its pieces: each `+` of a section would copy it again.
    parts = ["{"]
    separator = level
    for key, value in _document(report, None, None).items():
        parts += (separator, quote(key), ": ")
        separator = "," + level
        if key in sections:
            parts += sections[key]
        else:
            parts.append(dumps_indented(value, level))
    parts.append("\n}\n")
    return "".join(parts)


def _array_parts(indent: str, items: list[str]) -> list[str]:
    """The pieces of `_array(indent, items)`, which joined are its text."""
    if not items:
        return ["[]"]
    inner = indent + "  "
    parts = ["," + inner] * (2 * len(items))
    parts[0] = "[" + inner
    parts[1::2] = items
    parts.append(indent + "]")
    return parts


# The apps and changes sections as text. Each function below writes what `dumps_indented` writes for
# the value its namesake above builds (`_side_text` for `_side`, ...; the sections, `_apps_items` and
# `_changes_items`, as the pieces of that text), at `indent`: the newline and spaces of the level the
# value sits at, each record in one template of its fixed shape. A field of type `str` is written by
# `quote`, which raises TypeError for anything else (then `format_json` writes the document itself); any
# other field goes through `value_text`, which writes any value as `dumps_indented` does. A test compares
# both ways.


def _array(indent: str, items: list[str]) -> str:
    if not items:
        return "[]"
    inner = indent + "  "
    return "[" + inner + ("," + inner).join(items) + indent + "]"


def _optional(value: str | None) -> str:
    return "null" if value is None else quote(value)


def _resource_text(key: ResourceKey | None, indent: str) -> str:
    if key is None:
        return "null"
    i = indent + "  "
    return (
        f'{{{i}"group": {quote(key.group)},{i}"kind": {quote(key.kind)},'
        f'{i}"namespace": {quote(key.namespace)},{i}"name": {quote(key.name)}{indent}}}'
    )


def _location_text(location: Location | None, indent: str) -> str:
    if not location:
        return "null"
    i = indent + "  "
    return f'{{{i}"file": {quote(location.file)},{i}"line": {value_text(location.line, i)}{indent}}}'


def _destination_text(app: App | None, indent: str) -> str:
    if app is None:
        return "null"
    destination, i = app.destination, indent + "  "
    return (
        f'{{{i}"server": {quote(destination.server)},{i}"name": {quote(destination.name)},'
        f'{i}"namespace": {quote(destination.namespace)}{indent}}}'
    )


def _definition_text(app: App, indent: str) -> str:
    i = indent + "  "
    j = i + "  "
    k = j + "  "
    policy = app.sync_policy
    sources = [
        f'{{{k}"repoURL": {quote(source.repo_url)},{k}"path": {_optional(source.path)},'
        f'{k}"targetRevision": {quote(source.target_revision)},{k}"chart": {_optional(source.chart)},'
        f'{k}"ref": {_optional(source.ref)},{k}"origin": {quote(source.origin)}{j}}}'
        for source in app.sources
    ]
    return (
        f'{{{i}"name": {quote(app.name)},{i}"namespace": {quote(app.namespace)},{i}"project": {quote(app.project)},'
        f'{i}"destination": {_destination_text(app, i)},'
        f'{i}"syncPolicy": {{{j}"automated": {value_text(policy.automated, j)},'
        f'{j}"prune": {value_text(policy.prune, j)},{j}"selfHeal": {value_text(policy.self_heal, j)},'
        f'{j}"allowEmpty": {value_text(policy.allow_empty, j)},'
        f'{j}"syncOptions": {value_text(list(policy.sync_options), j)}{i}}},'
        f'{i}"sources": {_array(i, sources)},'
        f'{i}"multiSource": {value_text(app.multi_source, i)},'
        f'{i}"ignoreDifferences": {value_text(_jsonable(list(app.ignore_differences)), i)},'
        f'{i}"finalizers": {value_text(list(app.finalizers), i)},'
        f'{i}"definedIn": {_location_text(app.defined_in, i)},'
        f'{i}"parent": {_optional(app.parent)},{i}"generator": {_optional(app.generator)},'
        f'{i}"controlPlane": {quote(app.control_plane)}{indent}}}'
    )


def _apps_items(statuses: list[AppStatus], indent: str) -> list[str]:
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

    return _array_parts(
        indent,
        [
            f'{{{j}"app": {quote(status.app)},{j}"name": {quote(status.name)},{j}"state": {quote(status.state)},'
            f'{j}"reason": {quote(status.reason)},{j}"destination": {_destination_text(status.head or status.base, j)},'
            f'{j}"base": {definition(status.base)},{j}"head": {definition(status.head)}{i}}}'
            for status in statuses
        ],
    )


def _path_text(change: Change, delta: FieldDelta, indent: str) -> str:
    delta, i = masked_delta(change, delta), indent + "  "
    return (
        f'{{{i}"path": {quote(delta.path)},{i}"kind": {quote(delta.kind)},'
        f'{i}"before": {value_text(_jsonable(delta.before), i)},{i}"after": {value_text(_jsonable(delta.after), i)},'
        f'{i}"ignored": {value_text(delta.ignored, i)}{indent}}}'
    )


def _side_text(resource: Resource | None, indent: str, changed: frozenset[tuple[str, str]] = frozenset()) -> str:
    if resource is None:
        return "null"
    i = indent + "  "
    if is_secret_key(resource.key):
        body = value_text(_jsonable(masked_body(resource, changed)), i)
    else:  # masked_body(resource, redact=_redacted_jsonable), written as it is redacted
        body = _redacted_text(mask_secret_values(resource.body), i)
    return (
        f'{{{i}"app": {quote(resource.app)},{i}"apiVersion": {quote(resource.api_version)},'
        f'{i}"location": {_location_text(resource.location, i)},{i}"syncWave": {value_text(resource.sync_wave, i)},'
        f'{i}"hookPhases": {value_text(list(resource.hook_phases), i)},'
        f'{i}"syncOptions": {value_text(list(resource.sync_options), i)},{i}"body": {body}{indent}}}'
    )


def _changes_items(changes: list[Change], indent: str) -> list[str]:
    i = indent + "  "
    j = i + "  "
    k = j + "  "
    items = []
    for change in changes:
        location = source_location(change)
        items.append(
            f'{{{j}"app": {quote(change.app)},{j}"type": {quote(change.type)},'
            f'{j}"resource": {_resource_text(change.key, j)},{j}"cluster": {quote(change.cluster)},'
            f'{j}"hook": {value_text(change.hook, j)},{j}"ignored": {value_text(change.ignored, j)},'
            f'{j}"fromApp": {value_text(change.from_app if change.type == "moved" else None, j)},'
            f'{j}"source": {value_text(location.file if location else None, j)},'
            f'{j}"paths": {_array(j, [_path_text(change, delta, k) for delta in change.deltas])},'
            f'{j}"base": {_side_text(change.base, j)},'
            f'{j}"head": {_side_text(change.head, j, changed_secret_keys(change))}{i}}}'
        )
    return _array_parts(indent, items)


def _redacted_text(value: Any, indent: str) -> str:
    """`dumps_indented(_redacted_jsonable(value), indent)` without the copy when it would change nothing:
    plain JSON data (which `_redacted_jsonable` copies as it is, but for redacted strings) whose text
    holds nothing redaction masks is its own redacted text. That is most bodies: one walk and one search
    instead of a walk that copies and searches every string, then another that writes the copy."""
    text = plain_text(value, indent)
    if text is None or may_hold_credentials(text):
        return dumps_indented(_redacted_jsonable(value), indent)
    return text
