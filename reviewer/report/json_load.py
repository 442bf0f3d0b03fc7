"""Read a JSON report (docs/report-json.md) back into a `Report`.

For publishing a report computed elsewhere: the fork pull-request pattern posts the report a read-only
run saved as an artifact, and sharded runs merge theirs. Such a file is untrusted data (a fork controls
the run that wrote it), so every field is type-checked and an unexpected shape is a clear error, never a
crash or a silently empty report. What the JSON holds comes back exactly: writing the loaded report
gives the same JSON. What it does not hold stays empty: resource bodies (so a markdown diff is made of
the field deltas, see reviewer.report.yamldiff), apps' full definitions (only the destination), the
per-source index of a render error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from ..errors import UsageError
from ..records import (
    App,
    AppStatus,
    Change,
    Destination,
    FieldDelta,
    Finding,
    LlmReview,
    Location,
    RenderError,
    Report,
    Resource,
    ResourceKey,
    SyncPolicy,
    Unrendered,
)
from .json_report import SCHEMA_VERSION


class ReportFormatError(UsageError):
    """The file is not a JSON report this version can read."""


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, what: str) -> ReportFormatError:
        return ReportFormatError(f"{self.source}: not a gitops-reviewer JSON report: {where}: {what}")

    def typed(self, value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
        # bool is an int in Python; a JSON `true` is never a number here
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise self.fail(where, f"expected {what}, found {type(value).__name__}")
        return value

    def obj(self, value: Any, where: str) -> Mapping[str, Any]:
        return cast(Mapping[str, Any], self.typed(value, dict, where, "an object"))

    def field(self, data: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in data:
            raise self.fail(where, f"missing `{key}`")
        return data[key]

    def text(self, data: Mapping[str, Any], key: str, where: str) -> str:
        return cast(str, self.typed(self.field(data, key, where), str, f"{where}.{key}", "a string"))

    def opt_text(self, data: Mapping[str, Any], key: str, where: str) -> str | None:
        value = self.field(data, key, where)
        return None if value is None else self.text(data, key, where)

    def flag(self, data: Mapping[str, Any], key: str, where: str) -> bool:
        return cast(bool, self.typed(self.field(data, key, where), bool, f"{where}.{key}", "true or false"))

    def opt_int(self, data: Mapping[str, Any], key: str, where: str) -> int | None:
        value = self.field(data, key, where)
        return None if value is None else cast(int, self.typed(value, int, f"{where}.{key}", "an integer"))

    def items(self, data: Mapping[str, Any], key: str, where: str) -> list[Any]:
        return cast(list[Any], self.typed(self.field(data, key, where), list, f"{where}.{key}", "a list"))

    def objects(self, data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
        return [self.obj(item, f"{where}.{key}[{i}]") for i, item in enumerate(self.items(data, key, where))]


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _key(r: _Reader, value: Any, where: str) -> ResourceKey | None:
    if value is None:
        return None
    data = r.obj(value, where)
    return ResourceKey(*(r.text(data, part, where) for part in ("group", "kind", "namespace", "name")))


def _location(r: _Reader, value: Any, where: str) -> Location | None:
    if value is None:
        return None
    data = r.obj(value, where)
    return Location(r.text(data, "file", where), r.opt_int(data, "line", where))


def _status(r: _Reader, data: Mapping[str, Any], where: str) -> AppStatus:
    app_id = r.text(data, "app", where)
    name = r.text(data, "name", where)
    state = r.text(data, "state", where)
    destination = r.field(data, "destination", where)
    app = None
    if destination is not None:
        dest = r.obj(destination, f"{where}.destination")
        namespace = app_id.rpartition("/")[0].rpartition("/")[2]
        app = App(
            name=name,
            namespace=namespace,
            project="",
            sources=(),
            destination=Destination(
                *(r.text(dest, k, f"{where}.destination") for k in ("server", "name", "namespace"))
            ),
            sync_policy=SyncPolicy(),
            ignore_differences=(),
            finalizers=(),
            defined_in=None,
            manifest={},
        )
    # The JSON has the head definition, else the base one: a removed app only has a base.
    removed = state == "removed"
    return AppStatus(
        app=app_id,
        name=name,
        state=state,
        base=app if removed else None,
        head=None if removed else app,
        reason=r.text(data, "reason", where),
    )


_DELTA_KINDS = ("changed", "added", "removed", "reordered")
_CHANGE_TYPES = ("added", "removed", "modified", "moved")


def _delta(r: _Reader, data: Mapping[str, Any], where: str) -> FieldDelta:
    kind = r.text(data, "kind", where)
    if kind not in _DELTA_KINDS:
        raise r.fail(f"{where}.kind", f"unknown kind {kind!r}")
    return FieldDelta(
        path=r.text(data, "path", where),
        before=r.field(data, "before", where),
        after=r.field(data, "after", where),
        kind=kind,
        ignored=r.flag(data, "ignored", where),
    )


def _change(r: _Reader, data: Mapping[str, Any], where: str) -> Change:
    app = r.text(data, "app", where)
    change_type = r.text(data, "type", where)
    if change_type not in _CHANGE_TYPES:
        raise r.fail(f"{where}.type", f"unknown change type {change_type!r}")
    key = _key(r, r.field(data, "resource", where), f"{where}.resource")
    if key is None:
        raise r.fail(f"{where}.resource", "a change needs its resource")
    source = r.opt_text(data, "source", where)
    from_app = r.opt_text(data, "fromApp", where)
    location = Location(source) if source is not None else None
    # Bodies are not in the JSON: empty bodies mark them unknown (reviewer.report.yamldiff).
    base = None if change_type == "added" else Resource(key, "", {}, from_app or app, location)
    head = None if change_type == "removed" else Resource(key, "", {}, app, location)
    return Change(
        key=key,
        type=change_type,
        cluster=r.text(data, "cluster", where),
        base=base,
        head=head,
        deltas=tuple(_delta(r, item, f"{where}.paths[{i}]") for i, item in enumerate(r.objects(data, "paths", where))),
        hook=r.flag(data, "hook", where),
    )


def _finding(r: _Reader, data: Mapping[str, Any], where: str) -> Finding:
    return Finding(
        rule=r.text(data, "rule", where),
        severity=r.text(data, "severity", where),
        title=r.text(data, "title", where),
        message=r.text(data, "message", where),
        app=r.text(data, "app", where),
        key=_key(r, r.field(data, "resource", where), f"{where}.resource"),
        path=r.opt_text(data, "path", where),
        location=_location(r, r.field(data, "location", where), f"{where}.location"),
        evidence=r.text(data, "evidence", where),
        origin=r.text(data, "origin", where),
        waived=r.flag(data, "waived", where),
    )


def _number(r: _Reader, data: Mapping[str, Any], key: str, where: str) -> float:
    return float(r.typed(r.field(data, key, where), (int, float), f"{where}.{key}", "a number"))


def _strings(r: _Reader, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    return tuple(
        r.typed(item, str, f"{where}.{key}[{i}]", "a string") for i, item in enumerate(r.items(data, key, where))
    )


def _llm(r: _Reader, value: Any) -> LlmReview | None:
    """The `llm` object (null when the LLM review was off), every field type-checked like the rest."""
    if value is None:
        return None
    where = "llm"
    data = r.obj(value, where)

    def count(key: str) -> int:
        return cast(int, r.typed(r.field(data, key, where), int, f"{where}.{key}", "an integer"))

    dropped = r.obj(r.field(data, "dropped", where), f"{where}.dropped")
    return LlmReview(
        status=r.text(data, "status", where),
        reason=r.text(data, "reason", where),
        kind=r.text(data, "kind", where),
        model=r.text(data, "model", where),
        endpoint=r.text(data, "endpoint", where),
        prompt_digest=r.text(data, "promptDigest", where),
        prompt_source=r.text(data, "promptSource", where),
        schema_version=r.text(data, "schemaVersion", where),
        severity_cap=r.text(data, "severityCap", where),
        mode=r.text(data, "mode", where),
        attempts=count("attempts"),
        cached=r.flag(data, "cached", where),
        input_tokens=count("inputTokens"),
        not_reviewed=_strings(r, data, "notReviewed", where),
        summarised=_strings(r, data, "summarised", where),
        dropped_findings=count("droppedFindings"),
        dropped=tuple(
            (reason, cast(int, r.typed(n, int, f"{where}.dropped.{reason}", "an integer")))
            for reason, n in dropped.items()
        ),
        redacted_values=count("redactedValues"),
        stripped=_strings(r, data, "stripped", where),
        elapsed=_number(r, data, "elapsed", where),
    )


def _error(r: _Reader, data: Mapping[str, Any], where: str) -> RenderError:
    return RenderError(
        app=r.text(data, "app", where),
        message=r.text(data, "message", where),
        command=r.text(data, "command", where),
        exit_code=r.opt_int(data, "exitCode", where),
        stderr=r.text(data, "stderr", where),
    )


def _pairs(
    r: _Reader, data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str
) -> tuple[tuple[str, Any], ...]:
    mapping = r.obj(r.field(data, key, "report"), key)
    return tuple((name, r.typed(value, kind, f"{key}.{name}", what)) for name, value in mapping.items())


def load_report(text: str, source: str) -> Report:
    """The report in `text` (what `format_json` wrote); `source` names it in error messages."""
    r = _Reader(source)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise r.fail(f"line {exc.lineno}", f"invalid JSON ({exc.msg})") from None
    data = r.obj(document, "report")
    version = r.field(data, "schemaVersion", "report")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise r.fail("schemaVersion", f"{version!r}; this version of gitops-reviewer reads {SCHEMA_VERSION}")
    verdict = r.text(data, "verdict", "report")
    if verdict not in ("pass", "fail", "error"):
        raise r.fail("verdict", f"unknown verdict {verdict!r}")
    base = r.obj(r.field(data, "base", "report"), "base")
    head = r.obj(r.field(data, "head", "report"), "head")
    return Report(
        base_revision=r.text(base, "revision", "base"),
        head_revision=r.text(head, "revision", "head"),
        base_label=r.text(base, "label", "base"),
        head_label=r.text(head, "label", "head"),
        apps=tuple(_status(r, item, f"apps[{i}]") for i, item in enumerate(r.objects(data, "apps", "report"))),
        changes=tuple(_change(r, item, f"changes[{i}]") for i, item in enumerate(r.objects(data, "changes", "report"))),
        findings=tuple(
            _finding(r, item, f"findings[{i}]") for i, item in enumerate(r.objects(data, "findings", "report"))
        ),
        errors=tuple(_error(r, item, f"errors[{i}]") for i, item in enumerate(r.objects(data, "errors", "report"))),
        verdict=verdict,
        warnings=tuple(
            r.typed(item, str, f"warnings[{i}]", "a string")
            for i, item in enumerate(r.items(data, "warnings", "report"))
        ),
        unrendered=tuple(
            Unrendered(
                r.text(item, "what", f"unrendered[{i}]"),
                r.text(item, "reason", f"unrendered[{i}]"),
                _location(r, r.field(item, "location", f"unrendered[{i}]"), f"unrendered[{i}].location"),
            )
            for i, item in enumerate(r.objects(data, "unrendered", "report"))
        ),
        timings=tuple((name, float(value)) for name, value in _pairs(r, data, "timings", (int, float), "a number")),
        tool_versions=_pairs(r, data, "toolVersions", str, "a string"),
        changed_paths=tuple(
            r.typed(item, str, f"changedPaths[{i}]", "a string")
            for i, item in enumerate(r.items(data, "changedPaths", "report"))
        ),
        llm=_llm(r, r.field(data, "llm", "report")),
    )
