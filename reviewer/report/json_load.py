"""Reading a JSON report (docs/report-json.md) back into the `Report` record.

What `json_report` writes, `load_report` reads: formatting the loaded report gives the same JSON, and
the text and markdown formats print the same as from the original. That is what lets a report be made
in one job and published or merged in another (`gitops-reviewer merge`, the publishers).

Reports written before the resources of each change, the apps' definitions, `evidence`, `skippedApps`
and `llm` were part of the document still load: the missing parts read as empty (a change then has
resources with no body, so its YAML diff is empty).

Anything else that does not match the contract is a UsageError naming the file, the place in the
document and what is wrong: a report that cannot be read must stop the job, never read as a pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

from ..errors import UsageError
from ..records import (
    App,
    AppSource,
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

VERDICTS = ("pass", "fail", "error")
CHANGE_TYPES = ("added", "removed", "modified", "moved")

T = TypeVar("T")


class _Reader:
    """Typed access to one JSON document; every error names the file and where in the document."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> NoReturn:
        raise UsageError(f"{self.source}: not a gitops-reviewer JSON report: {where}: {problem}")

    def obj(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"expected an object, found {_kind(value)}")
        return value

    def field(self, data: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in data:
            self.fail(where, f"the key `{key}` is missing")
        return data[key]

    def string(self, data: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
        value = data.get(key, default) if default is not None else self.field(data, key, where)
        if not isinstance(value, str):
            self.fail(f"{where}.{key}", f"expected a string, found {_kind(value)}")
        return value

    def optional_string(self, data: Mapping[str, Any], key: str, where: str) -> str | None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(f"{where}.{key}", f"expected a string or null, found {_kind(value)}")
        return value

    def boolean(self, data: Mapping[str, Any], key: str, where: str, *, default: bool | None = None) -> bool:
        value = data.get(key, default) if default is not None else self.field(data, key, where)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key}", f"expected true or false, found {_kind(value)}")
        return value

    def integer(self, data: Mapping[str, Any], key: str, where: str, *, default: int | None = None) -> int:
        value = data.get(key, default) if default is not None else self.field(data, key, where)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(f"{where}.{key}", f"expected an integer, found {_kind(value)}")
        return value

    def optional_integer(self, data: Mapping[str, Any], key: str, where: str) -> int | None:
        value = data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            self.fail(f"{where}.{key}", f"expected an integer or null, found {_kind(value)}")
        return value

    def number(self, value: Any, where: str) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.fail(where, f"expected a number, found {_kind(value)}")
        return float(value)

    def array(self, data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
        value = self.field(data, key, where) if required else data.get(key, [])
        if not isinstance(value, list):
            self.fail(f"{where}.{key}", f"expected a list, found {_kind(value)}")
        return value

    def strings(self, data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> tuple[str, ...]:
        items = self.array(data, key, where, required=required)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(f"{where}.{key}[{i}]", f"expected a string, found {_kind(item)}")
        return tuple(items)

    def each(self, data: Mapping[str, Any], key: str, where: str, read: Callable[[Any, str], T]) -> tuple[T, ...]:
        return tuple(read(item, f"{where}.{key}[{i}]") for i, item in enumerate(self.array(data, key, where)))

    def choice(self, data: Mapping[str, Any], key: str, where: str, allowed: tuple[str, ...]) -> str:
        value = self.string(data, key, where)
        if value not in allowed:
            self.fail(f"{where}.{key}", f"expected one of {', '.join(allowed)}, found {value!r}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def load_document(text: str, source: str) -> dict[str, Any]:
    """The JSON object of a report file, checked for being one (a JSON object of schema version 1)."""
    reader = _Reader(source)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise UsageError(f"{source}: not a gitops-reviewer JSON report: nested too deeply") from None
    data = dict(reader.obj(document, "the document"))
    version = data.get("schemaVersion")
    if type(version) is not int or version != SCHEMA_VERSION:  # JSON `true` is not 1
        found = "no schemaVersion" if version is None else f"schemaVersion {version!r}"
        raise UsageError(f"{source}: not a gitops-reviewer JSON report of schema version {SCHEMA_VERSION} ({found})")
    return data


def load_report(text: str, source: str) -> Report:
    """The Report that `format_json` wrote into `text`; `source` names the file in error messages."""
    return report_from_document(load_document(text, source), source)


def report_from_document(document: Mapping[str, Any], source: str) -> Report:
    """The Report of an already parsed report document (see load_document)."""
    r = _Reader(source)
    top = "the document"
    base = r.obj(r.field(document, "base", top), "base")
    head = r.obj(r.field(document, "head", top), "head")
    timings = r.obj(r.field(document, "timings", top), "timings")
    tools = r.obj(r.field(document, "toolVersions", top), "toolVersions")
    for tool, version in tools.items():
        if not isinstance(version, str):
            r.fail(f"toolVersions.{tool}", f"expected a string, found {_kind(version)}")
    llm = document.get("llm")
    return Report(
        base_revision=r.string(base, "revision", "base"),
        head_revision=r.string(head, "revision", "head"),
        base_label=r.string(base, "label", "base"),
        head_label=r.string(head, "label", "head"),
        apps=r.each(document, "apps", top, lambda item, where: _app_status(r, item, where)),
        changes=r.each(document, "changes", top, lambda item, where: _change(r, item, where)),
        findings=r.each(document, "findings", top, lambda item, where: _finding(r, item, where)),
        errors=r.each(document, "errors", top, lambda item, where: _error(r, item, where)),
        verdict=r.choice(document, "verdict", top, VERDICTS),
        warnings=r.strings(document, "warnings", top),
        unrendered=r.each(document, "unrendered", top, lambda item, where: _unrendered(r, item, where)),
        timings=tuple((stage, r.number(seconds, f"timings.{stage}")) for stage, seconds in timings.items()),
        tool_versions=tuple(tools.items()),
        changed_paths=r.strings(document, "changedPaths", top),
        skipped_apps=r.integer(document, "skippedApps", top, default=0),
        llm=None if llm is None else _llm(r, llm, "llm"),
    )


def _location(r: _Reader, value: Any, where: str) -> Location | None:
    if value is None:
        return None
    data = r.obj(value, where)
    return Location(r.string(data, "file", where), r.optional_integer(data, "line", where))


def _key(r: _Reader, value: Any, where: str) -> ResourceKey:
    data = r.obj(value, where)
    return ResourceKey(
        r.string(data, "group", where),
        r.string(data, "kind", where),
        r.string(data, "namespace", where),
        r.string(data, "name", where),
    )


def _destination(r: _Reader, value: Any, where: str) -> Destination:
    data = r.obj(value, where)
    return Destination(
        r.string(data, "server", where), r.string(data, "name", where), r.string(data, "namespace", where)
    )


def _definition(r: _Reader, value: Any, where: str) -> App | None:
    """An app's definition; its raw manifest and its sources' tool options are not in reports."""
    if value is None:
        return None
    data = r.obj(value, where)
    policy = r.obj(r.field(data, "syncPolicy", where), f"{where}.syncPolicy")
    sources = []
    for i, item in enumerate(r.array(data, "sources", where)):
        at = f"{where}.sources[{i}]"
        source = r.obj(item, at)
        sources.append(
            AppSource(
                repo_url=r.string(source, "repoURL", at),
                path=r.optional_string(source, "path", at),
                target_revision=r.string(source, "targetRevision", at),
                chart=r.optional_string(source, "chart", at),
                ref=r.optional_string(source, "ref", at),
                spec={},
                origin=r.string(source, "origin", at),
            )
        )
    ignore = r.array(data, "ignoreDifferences", where)
    for i, item in enumerate(ignore):
        r.obj(item, f"{where}.ignoreDifferences[{i}]")
    at = f"{where}.syncPolicy"
    return App(
        name=r.string(data, "name", where),
        namespace=r.string(data, "namespace", where),
        project=r.string(data, "project", where),
        sources=tuple(sources),
        destination=_destination(r, r.field(data, "destination", where), f"{where}.destination"),
        sync_policy=SyncPolicy(
            automated=r.boolean(policy, "automated", at),
            prune=r.boolean(policy, "prune", at),
            self_heal=r.boolean(policy, "selfHeal", at),
            allow_empty=r.boolean(policy, "allowEmpty", at),
            sync_options=r.strings(policy, "syncOptions", at),
        ),
        ignore_differences=tuple(ignore),
        finalizers=r.strings(data, "finalizers", where),
        defined_in=_location(r, data.get("definedIn"), f"{where}.definedIn"),
        manifest={},
        parent=r.optional_string(data, "parent", where),
        generator=r.optional_string(data, "generator", where),
        control_plane=r.string(data, "controlPlane", where),
        multi_source=r.boolean(data, "multiSource", where),
    )


def _app_status(r: _Reader, value: Any, where: str) -> AppStatus:
    data = r.obj(value, where)
    return AppStatus(
        app=r.string(data, "app", where),
        name=r.string(data, "name", where),
        state=r.string(data, "state", where),
        base=_definition(r, data.get("base"), f"{where}.base"),
        head=_definition(r, data.get("head"), f"{where}.head"),
        reason=r.string(data, "reason", where),
    )


def _side(r: _Reader, value: Any, where: str, key: ResourceKey) -> Resource:
    data = r.obj(value, where)
    body = r.obj(r.field(data, "body", where), f"{where}.body")
    wave = r.integer(data, "syncWave", where)
    return Resource(
        key=key,
        api_version=r.string(data, "apiVersion", where),
        body=body,
        app=r.string(data, "app", where),
        location=_location(r, data.get("location"), f"{where}.location"),
        sync_wave=wave,
        hook_phases=r.strings(data, "hookPhases", where),
        sync_options=r.strings(data, "syncOptions", where),
    )


def _bodiless(app: str, key: ResourceKey, source: str | None) -> Resource:
    """A side of a change from a report that did not carry the resources (older reports)."""
    return Resource(key=key, api_version="", body={}, app=app, location=Location(source) if source else None)


def _change(r: _Reader, value: Any, where: str) -> Change:
    data = r.obj(value, where)
    kind = r.choice(data, "type", where, CHANGE_TYPES)
    key = _key(r, r.field(data, "resource", where), f"{where}.resource")
    app = r.string(data, "app", where)
    if "base" in data or "head" in data:
        base = None if data.get("base") is None else _side(r, data["base"], f"{where}.base", key)
        head = None if data.get("head") is None else _side(r, data["head"], f"{where}.head", key)
    else:
        source = r.optional_string(data, "source", where)
        from_app = r.optional_string(data, "fromApp", where) or app
        base = None if kind == "added" else _bodiless(from_app, key, source)
        head = None if kind == "removed" else _bodiless(app, key, source)
    wanted = {"added": (False, True), "removed": (True, False)}.get(kind, (True, True))
    if (base is not None, head is not None) != wanted:
        sides = " and ".join(side for side, want in zip(("base", "head"), wanted, strict=True) if want)
        r.fail(where, f"a change of type `{kind}` needs exactly its {sides} resource")
    deltas = []
    for i, item in enumerate(r.array(data, "paths", where)):
        at = f"{where}.paths[{i}]"
        delta = r.obj(item, at)
        deltas.append(
            FieldDelta(
                path=r.string(delta, "path", at),
                before=delta.get("before"),
                after=delta.get("after"),
                kind=r.string(delta, "kind", at),
                ignored=r.boolean(delta, "ignored", at),
            )
        )
    return Change(
        key=key,
        type=kind,
        cluster=r.string(data, "cluster", where),
        base=base,
        head=head,
        deltas=tuple(deltas),
        hook=r.boolean(data, "hook", where),
    )


def _finding(r: _Reader, value: Any, where: str) -> Finding:
    data = r.obj(value, where)
    resource = data.get("resource")
    return Finding(
        rule=r.string(data, "rule", where),
        severity=r.string(data, "severity", where),
        title=r.string(data, "title", where),
        message=r.string(data, "message", where),
        app=r.string(data, "app", where),
        key=None if resource is None else _key(r, resource, f"{where}.resource"),
        path=r.optional_string(data, "path", where),
        location=_location(r, data.get("location"), f"{where}.location"),
        evidence=r.string(data, "evidence", where, default=""),
        origin=r.string(data, "origin", where),
        waived=r.boolean(data, "waived", where),
    )


def _error(r: _Reader, value: Any, where: str) -> RenderError:
    data = r.obj(value, where)
    return RenderError(
        app=r.string(data, "app", where),
        message=r.string(data, "message", where),
        source=r.optional_integer(data, "source", where),
        command=r.string(data, "command", where),
        exit_code=r.optional_integer(data, "exitCode", where),
        stderr=r.string(data, "stderr", where),
    )


def _unrendered(r: _Reader, value: Any, where: str) -> Unrendered:
    data = r.obj(value, where)
    return Unrendered(
        what=r.string(data, "what", where),
        reason=r.string(data, "reason", where),
        location=_location(r, data.get("location"), f"{where}.location"),
    )


def _llm(r: _Reader, value: Any, where: str) -> LlmReview:
    data = r.obj(value, where)
    elapsed = data.get("elapsed", 0.0)
    dropped = r.obj(data.get("dropped", {}), f"{where}.dropped")
    return LlmReview(
        status=r.string(data, "status", where),
        reason=r.string(data, "reason", where),
        kind=r.string(data, "kind", where, default=""),
        model=r.string(data, "model", where),
        endpoint=r.string(data, "endpoint", where),
        prompt_digest=r.string(data, "promptDigest", where),
        prompt_source=r.string(data, "promptSource", where, default=""),
        schema_version=r.string(data, "schemaVersion", where),
        severity_cap=r.string(data, "severityCap", where, default=""),
        mode=r.string(data, "mode", where, default=""),
        attempts=r.integer(data, "attempts", where, default=0),
        cached=r.boolean(data, "cached", where),
        input_tokens=r.integer(data, "inputTokens", where, default=0),
        not_reviewed=r.strings(data, "notReviewed", where),
        summarised=r.strings(data, "summarised", where, required=False),
        dropped_findings=r.integer(data, "droppedFindings", where),
        dropped=tuple((reason, r.integer(dropped, reason, f"{where}.dropped")) for reason in dropped),
        redacted_values=r.integer(data, "redactedValues", where),
        stripped=r.strings(data, "stripped", where),
        elapsed=r.number(elapsed, f"{where}.elapsed"),
    )
