"""`format_json` writes its large sections straight from the records: the text must be, byte for byte,
`dumps_indented(report_document(report))`, the document every other reader of the report is built from."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.records import (
    App,
    AppSource,
    AppStatus,
    Change,
    Destination,
    FieldDelta,
    Location,
    Report,
    Resource,
    ResourceKey,
    SyncPolicy,
)
from reviewer.report import FormatOptions
from reviewer.report.json_report import format_json, report_document
from reviewer.report.json_text import dumps_indented
from tests.test_report import app_record, empty_report, rich_report


def _slow(report: Report) -> str:
    return dumps_indented(report_document(report)) + "\n"


def _fast(report: Report) -> str:
    return format_json(report, FormatOptions())


def test_a_rich_report_is_written_as_its_document() -> None:
    report = rich_report()
    assert _fast(report) == _slow(report)
    assert _fast(report) == json.dumps(report_document(report), indent=2, ensure_ascii=False) + "\n"


def test_a_rich_reports_sections_are_written_by_their_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Records of their declared types never need the document's way (a TypeError would take it, with the
    same text): the templates write them."""
    from reviewer.report import json_report

    def unused(record: object) -> object:
        raise AssertionError("written from the document")

    report = rich_report()
    assert report.apps and report.changes
    monkeypatch.setattr(json_report, "_app", unused)
    monkeypatch.setattr(json_report, "_change", unused)
    level = "\n  "
    apps = "".join(json_report._apps_items(json_report._sorted_apps(report), level))
    changes = "".join(json_report._changes_items(json_report._sorted_changes(report), level))
    monkeypatch.undo()
    document = report_document(report)
    assert apps == dumps_indented(document["apps"], level) and changes == dumps_indented(document["changes"], level)


def test_an_empty_report_is_written_as_its_document() -> None:
    assert _fast(empty_report()) == _slow(empty_report())


class _Text(str):
    pass


class _Number(int):
    pass


# Strings JSON escapes, strings redaction masks (token shapes, URL passwords), and the rest of a manifest.
_TRICKY_TEXT = st.sampled_from(
    [
        "",
        "plain",
        'a "quoted" \\ value',
        "tab\tnew\nline\x00\x1f",
        "é 日本 \u2028 \ud800",
        "ghp_" + "a" * 36,
        "see https://user:hunter2@db.example.com/x",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
        "xoxb-1234567890-abcdefghij",
        "sk-" + "b" * 24,
    ]
)
_LEAF = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
    | _TRICKY_TEXT
    | st.builds(_Text, _TRICKY_TEXT)
    | st.builds(_Number, st.integers())
)
_KEY = st.text(max_size=5) | _TRICKY_TEXT | st.integers(0, 2) | st.sampled_from(["0", "1", None, True, 1.5])
_VALUE = st.recursive(
    _LEAF,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(_KEY, children, max_size=4)
        | st.tuples(children, children)
        | st.builds(lambda d: dict(d), st.dictionaries(st.text(max_size=3), children, max_size=3))
    ),
    max_leaves=12,
)
_BODY = st.dictionaries(_KEY, _VALUE, max_size=5)


@st.composite
def _resource(draw: st.DrawFn, key: ResourceKey) -> Resource:
    body = draw(_BODY)
    if draw(st.booleans()):  # a body that says what it is, as rendered manifests do
        body = {**body, "apiVersion": "v1", "kind": key.kind}
    return Resource(
        key=key,
        api_version=draw(st.sampled_from(["v1", "apps/v1"])),
        body=body,
        app=draw(st.sampled_from(["argocd/a", "argocd/b"])),
        location=draw(st.none() | st.builds(Location, _TRICKY_TEXT, st.none() | st.integers(1, 9))),
        sync_wave=draw(st.integers(-2, 2)),
        hook_phases=draw(st.sampled_from([(), ("PreSync",), ("PreSync", "PostSync")])),
        sync_options=draw(st.sampled_from([(), ("Prune=false",)])),
    )


@st.composite
def _change(draw: st.DrawFn) -> Change:
    key = ResourceKey(
        draw(st.sampled_from(["", "apps"])),
        draw(st.sampled_from(["Secret", "ConfigMap", "Deployment"])),
        draw(_TRICKY_TEXT),
        draw(st.sampled_from(["a", "b", "c"])),
    )
    kind = draw(st.sampled_from(["added", "modified", "removed", "moved"]))
    base = None if kind == "added" else draw(_resource(key))
    head = None if kind == "removed" else draw(_resource(key))
    paths = ["", ".", "data", "data.password", "stringData[api-key]", "spec.replicas", "metadata.labels"]
    deltas = draw(
        st.lists(
            st.builds(
                FieldDelta,
                st.sampled_from(paths),
                _VALUE,
                _VALUE,
                st.sampled_from(["changed", "added", "removed", "reordered"]),
                st.booleans(),
            ),
            max_size=3,
        )
    )
    return Change(
        key=key,
        type=kind,
        cluster=draw(st.sampled_from(["https://kubernetes.default.svc", ""])),
        base=base,
        head=head,
        deltas=tuple(deltas),
        hook=draw(st.booleans()),
    )


@st.composite
def _app(draw: st.DrawFn, app_id: str) -> App:
    app = app_record(app_id)
    source = AppSource(
        repo_url=draw(_TRICKY_TEXT),
        path=draw(st.none() | _TRICKY_TEXT),
        target_revision="HEAD",
        chart=draw(st.none() | st.just("web")),
        ref=draw(st.none() | st.just("values")),
        spec={"helm": {"valueFiles": ["secret-values.yaml"]}},
        origin="repo",
    )
    return dataclasses.replace(
        app,
        sources=tuple(draw(st.lists(st.just(source), max_size=2))),
        destination=Destination(draw(_TRICKY_TEXT), draw(st.text(max_size=3)), "web"),
        sync_policy=SyncPolicy(draw(st.booleans()), draw(st.booleans()), False, True, ("A=b",)),
        ignore_differences=tuple(draw(st.lists(st.dictionaries(_KEY, _VALUE, max_size=2), max_size=2))),
        finalizers=tuple(draw(st.lists(_TRICKY_TEXT, max_size=2))),
        defined_in=draw(st.none() | st.builds(Location, _TRICKY_TEXT, st.integers(1, 5))),
        parent=draw(st.none() | st.just("argocd/root")),
        multi_source=draw(st.booleans()),
    )


@st.composite
def _status(draw: st.DrawFn) -> AppStatus:
    app_id = draw(st.sampled_from(["argocd/a", "argocd/b", "apps/c"]))
    base = draw(st.none() | _app(app_id))
    shared = base is not None and draw(st.booleans())  # one record at both revisions, as discovery reuses it
    head = base if shared else draw(st.none() | _app(app_id))
    return AppStatus(
        app_id, app_id.rpartition("/")[2], draw(_TRICKY_TEXT), base=base, head=head, reason=draw(_TRICKY_TEXT)
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(_status(), max_size=3), st.lists(_change(), max_size=4))
def test_any_apps_and_changes_are_written_as_their_document(statuses: list[AppStatus], changes: list[Change]) -> None:
    report = dataclasses.replace(rich_report(), apps=tuple(statuses), changes=tuple(changes))
    assert _fast(report) == _slow(report)


def test_fields_not_of_their_records_types_are_written_as_their_document() -> None:
    """The sections are written by templates that take a `str` field for a string: a field of another type
    (records are not checked when made) is written as the document has it, and a subclass of `str` too."""
    report = rich_report()
    change, status = report.changes[0], report.apps[0]
    assert change.head is not None and status.head is not None
    odd_key = ResourceKey("", "ConfigMap", _Text("demo"), 7)  # type: ignore[arg-type]
    odd_policy = SyncPolicy(automated={"prune": True}, prune=1, sync_options=("A=b",))  # type: ignore[arg-type]
    odd_head = dataclasses.replace(change.head, app=_Text("argocd/web"), location=Location(3, None))  # type: ignore[arg-type]
    odd_app = dataclasses.replace(status.head, name=None, sync_policy=odd_policy)  # type: ignore[arg-type]
    odd_delta = FieldDelta(_Text("spec.replicas"), 1, 2, kind=None, ignored=0)  # type: ignore[arg-type]
    cases = [
        dataclasses.replace(report, changes=(dataclasses.replace(change, key=odd_key),)),
        dataclasses.replace(report, changes=(dataclasses.replace(change, head=odd_head),)),
        dataclasses.replace(report, changes=(dataclasses.replace(change, cluster=None, hook=1),)),  # type: ignore[arg-type]
        dataclasses.replace(report, changes=(dataclasses.replace(change, deltas=(odd_delta,)),)),
        dataclasses.replace(report, apps=(dataclasses.replace(status, head=odd_app),)),
        dataclasses.replace(report, apps=(dataclasses.replace(status, reason=_Text("r"), state=3),)),  # type: ignore[arg-type]
    ]
    for odd in cases:
        assert _fast(odd) == _slow(odd)


def test_a_body_key_that_becomes_another_keys_string_is_written_as_the_copy_keeps_it() -> None:
    """`{1: ..., "1": ...}` is one key in the document (str(1) == "1"): the later value, at the first place."""
    change = rich_report().changes[0]
    assert change.head is not None
    head = dataclasses.replace(change.head, body={1: "one", "x": [1.5, math.nan], "1": "the string one"})
    report = dataclasses.replace(rich_report(), changes=(dataclasses.replace(change, head=head),))
    text = _fast(report)
    assert text == _slow(report)
    assert '"1": "the string one",\n' in text
    assert '"NaN"' not in text and '"nan"' in text  # converted as the document converts it


def test_a_credential_next_to_escaped_characters_is_masked_in_a_body() -> None:
    change = rich_report().changes[0]
    assert change.head is not None
    token = "AKIA" + "B" * 16
    body = {"env": [{"name": "X", "value": "line\n" + token}], "q": '"' + "ghp_" + "c" * 36 + '"', "n": 1}
    head = dataclasses.replace(change.head, body=body)
    report = dataclasses.replace(rich_report(), changes=(dataclasses.replace(change, head=head),))
    text = _fast(report)
    assert text == _slow(report)
    assert token not in text and "ghp_" not in text and "line\\n<redacted>" in text


def test_a_value_json_cannot_hold_fails_as_the_document_does() -> None:
    change = rich_report().changes[0]
    assert change.head is not None
    head = dataclasses.replace(change.head, api_version={1, 2})  # type: ignore[arg-type]
    report = dataclasses.replace(rich_report(), changes=(dataclasses.replace(change, head=head),))
    errors = []
    for write in (_fast, _slow):
        try:
            write(report)
        except TypeError as exc:
            errors.append(str(exc))
    assert errors == ["Object of type set is not JSON serializable"] * 2


def test_dumps_indented_places_a_value_inside_a_larger_document() -> None:
    value: dict[str, Any] = {"a": [1, {"b": "c"}], "d": {}, 1: "not plain: the standard library writes it"}
    document = {"outer": [value]}
    nested = dumps_indented(value, "\n    ")
    assert dumps_indented(document) == '{\n  "outer": [\n    ' + nested + "\n  ]\n}"
