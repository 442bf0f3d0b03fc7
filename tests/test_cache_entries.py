"""Cache entries are untrusted input (the cache directory may come from a CI cache): a render entry or
a revision snapshot decodes to exactly what was stored, and anything else in its place, whatever its
shape, is a miss that is removed, never a crash and never a wrong record."""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reviewer.discovery import snapshot
from reviewer.records import (
    App,
    AppSource,
    Destination,
    Discovery,
    Location,
    RenderResult,
    Resource,
    ResourceKey,
    SyncPolicy,
    Unrendered,
)
from reviewer.rendering import cache
from reviewer.rendering.cache import LineMemo, RenderCache, decode, encode, pack_render, result_data
from reviewer.selection import Inputs


def _resource(name: str, app: str = "argocd/web", **fields: Any) -> Resource:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"n": 1.5, "l": [None]}}
    return Resource(ResourceKey("", "ConfigMap", "demo", name), "v1", body, app, **fields)


RENDER = RenderResult(
    "argocd/web",
    resources=(
        _resource("plain"),
        _resource("located", location=Location("web/cm.yaml", 3), sync_wave=-2, sync_options=("Prune=false",)),
        _resource("no-line", location=Location("web/cm.yaml")),
        _resource("other-app", app="argocd/other"),
    ),
    hooks=(_resource("hook", hook_phases=("PreSync", "PostSync")),),
    warnings=("a warning",),
    source_types=("kustomize",),
)


def test_a_render_entry_decodes_to_the_same_render() -> None:
    assert decode(encode(RENDER)) == RENDER
    for render in (RenderResult("argocd/empty"), RenderResult("argocd/hooks", hooks=RENDER.hooks)):
        assert decode(encode(render)) == render


LOCATED = RenderResult(
    "argocd/api",
    resources=tuple(
        Resource(
            ResourceKey(group, kind, namespace, name),
            api,
            {"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": {"é": [1, 2.5, None, True, {}]}},
            "argocd/api",
            Location(f"api/{name}.yaml", line),
            wave,
        )
        for group, kind, namespace, name, api, line, wave in [
            ("apps", "Deployment", "demo", "web", "apps/v1", None, 0),
            ("", "Service", "demo", "web", "v1", 7, -5),
            ("rbac.authorization.k8s.io", "ClusterRole", "", "reader", "rbac.authorization.k8s.io/v1", 1, 10**20),
        ]
    ),
    warnings=(),
    source_types=("directory", "helm"),
)


@pytest.mark.parametrize("render", [RENDER, LOCATED, RenderResult("argocd/empty")], ids=["mixed", "located", "empty"])
def test_records_made_column_by_column_are_the_records_their_constructors_make(render: RenderResult) -> None:
    decoded = decode(encode(render))
    assert decoded == render
    for made, expected in zip((*decoded.resources, *decoded.hooks), (*render.resources, *render.hooks), strict=True):
        assert repr(made) == repr(expected)
        assert hash(made.key) == hash(expected.key) and made.key == expected.key
        assert made.location == expected.location and hash(made.location) == hash(expected.location)
        assert type(made.hook_phases) is tuple and type(made.sync_options) is tuple


UNLOCATED = RenderResult(
    "argocd/mixed",
    resources=(
        _resource("first", app="argocd/mixed", sync_options=("Replace=true",)),
        _resource("nowhere", app="argocd/mixed"),
        _resource("owned", app="argocd/owner", location=Location("m/x.yaml", 9), sync_wave=3),
    ),
    hooks=(
        _resource("pre", app="argocd/mixed", hook_phases=("PreSync",)),
        _resource("post", app="argocd/mixed", hook_phases=("PostSync",), sync_options=("Force=true",)),
    ),
)
UNLOCATED = dataclasses.replace(
    UNLOCATED,
    resources=(
        *UNLOCATED.resources[:1],
        dataclasses.replace(UNLOCATED.resources[1], location=None),
        UNLOCATED.resources[2],
    ),
)


def test_renders_read_together_are_the_renders_read_one_by_one(tmp_path: Path) -> None:
    """Records of several entries are made together, a column over all of them: each row's owner, hook
    phases, sync options and location stay with their own render and row."""
    renders = [RENDER, RenderResult("argocd/empty"), LOCATED, UNLOCATED, RENDER]
    store = RenderCache(tmp_path)
    keys = [f"{i:064x}" for i in range(len(renders))]
    for key, render in zip(keys, renders, strict=True):
        assert store.put(key, render)
    entries = [(key, store.entry(key)) for key in keys]
    made = store.renders([(key, data) for key, data in entries if data is not None])
    assert made == renders
    assert [decode(encode(render)) for render in renders] == made
    assert store.stats.hits == len(renders) and store.stats.misses == 0


def test_a_damaged_entry_among_renders_read_together_is_the_only_miss(tmp_path: Path) -> None:
    store = RenderCache(tmp_path)
    keys = ["1" * 64, "2" * 64, "3" * 64]
    for key, render in zip(keys, [RENDER, LOCATED, UNLOCATED], strict=True):
        assert store.put(key, render)
    store._path(keys[1]).write_bytes(pack_render(_set(("resources", "syncWave", 0), "early")(result_data(LOCATED))))
    entries = [(key, store.entry(key)) for key in keys]
    assert all(data is not None for _, data in entries), "each entry unpacks: the damage is in a column"
    made = store.renders([(key, data) for key, data in entries if data is not None])
    assert made == [RENDER, None, UNLOCATED]
    assert not store._path(keys[1]).exists() and store._path(keys[0]).exists()
    assert store.stats.hits == 2 and store.stats.misses == 1


def test_a_record_made_column_by_column_stays_frozen() -> None:
    made = decode(encode(LOCATED)).resources[0]
    with pytest.raises(AttributeError):
        made.api_version = "v2"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        made.key.name = "other"  # type: ignore[misc]


def test_columns_of_different_lengths_make_no_records() -> None:
    with pytest.raises(ValueError):
        cache._records(Location, (["a.yaml", "b.yaml"], [1]))
    with pytest.raises(TypeError):
        cache._records(Location, (["a.yaml"],))


def _data() -> dict[str, Any]:
    return copy.deepcopy(result_data(RENDER))


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], Any]:
    def mutate(data: dict[str, Any]) -> Any:
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return data

    return mutate


RENDER_DAMAGE: dict[str, Callable[[dict[str, Any]], Any]] = {
    "another schema": _set(("schema",), 2),
    "not a mapping": lambda data: [data],
    "no resources": lambda data: {k: v for k, v in data.items() if k != "resources"},
    "resources not a table": _set(("resources",), [["", "ConfigMap", "demo", "plain"]]),
    "a table without a column": lambda data: _set(
        ("resources",), {k: v for k, v in data["resources"].items() if k != "syncWave"}
    )(data),
    "a table with another column": _set(("resources", "extra"), []),
    "a column too short": lambda data: _set(("resources", "kind"), data["resources"]["kind"][:-1])(data),
    "a column too long": lambda data: _set(("resources", "body"), [*data["resources"]["body"], {}])(data),
    "a column that is a mapping": _set(("resources", "name"), {"0": "plain"}),
    "a group column that is a string": _set(("resources", "group"), "abcd"),
    "a kind that is a number": _set(("resources", "kind", 1), 7),
    "a namespace that is null": _set(("resources", "namespace", 0), None),
    "a name that is a list": _set(("resources", "name", 3), ["x"]),
    "an apiVersion that is a list": _set(("resources", "apiVersion", 0), ["v1"]),
    "a body that is a list": _set(("resources", "body", 0), [1, 2]),
    "a body that is a string": _set(("resources", "body", 2), "kind: ConfigMap"),
    "a file that is a number": _set(("resources", "file", 1), 3),
    "a file column that is a string": _set(("resources", "file"), "web/cm.yaml"),
    "a file column too short": lambda data: _set(("resources", "file"), data["resources"]["file"][:-1])(data),
    "a line column too long": lambda data: _set(("resources", "line"), [*data["resources"]["line"], None])(data),
    "a line that is a string": _set(("resources", "line", 1), "3"),
    "a line that is a boolean": _set(("resources", "line", 1), True),
    "a line that is a float": _set(("resources", "line", 1), 3.0),
    "a line without a file": _set(("resources", "line", 0), 3),
    "a wave that is a string": _set(("resources", "syncWave", 1), "-2"),
    "a wave that is a float": _set(("resources", "syncWave", 1), 1.5),
    "a wave that is a boolean": _set(("resources", "syncWave", 1), True),
    "hooks that are a string": _set(("hooks", "hookPhases", 0, 1), "PreSync"),
    "hook phases that are numbers": _set(("hooks", "hookPhases", 0, 1), [1]),
    "hook phases of a row past the end": _set(("hooks", "hookPhases", 0, 0), 1),
    "hook phases of a negative row": _set(("hooks", "hookPhases", 0, 0), -1),
    "hook phases of a row that is a string": _set(("hooks", "hookPhases", 0, 0), "0"),
    "hook phases of a row that is a boolean": _set(("hooks", "hookPhases", 0, 0), False),
    "hook phases as a mapping": _set(("hooks", "hookPhases"), {"0": ["PreSync"]}),
    "a hook phase pair of three": _set(("hooks", "hookPhases", 0), [0, ["PreSync"], 1]),
    "sync options that are a mapping": _set(("resources", "syncOptions", 0, 1), {"Prune": "false"}),
    "sync options listed twice for a row": lambda data: _set(
        ("resources", "syncOptions"), [*data["resources"]["syncOptions"], *data["resources"]["syncOptions"]]
    )(data),
    "a table without rows that lists hook phases": _set(
        ("hooks",), {**{key: [] for key in cache._TABLE_KEYS}, "hookPhases": [[0, ["PreSync"]]]}
    ),
    "an owner that is a number": _set(("resources", "app", 0, 1), 5),
    "an owner that is null": _set(("resources", "app", 0, 1), None),
    "warnings that are a string": _set(("warnings",), "w"),
    "an app that is null": _set(("app",), None),
    "source types that hold null": _set(("sourceTypes",), [None]),
}


@pytest.mark.parametrize("damage", RENDER_DAMAGE, ids=list(RENDER_DAMAGE))
def test_a_render_entry_of_the_wrong_shape_is_a_miss_and_is_removed(tmp_path: Path, damage: str) -> None:
    store = RenderCache(tmp_path)
    key = "e" * 64
    assert store.put(key, RENDER)
    damaged = RENDER_DAMAGE[damage](_data())
    store._path(key).write_bytes(pack_render(damaged) if isinstance(damaged, dict) else cache.pack(damaged))
    assert store.get(key) is None
    assert not store._path(key).exists()
    assert store.stats.misses == 1 and store.stats.hits == 0


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"not zlib at all",
        zlib.compress(b"{not json"),
        zlib.compress(b"[" * 100_000 + b"]" * 100_000),  # deeper than the parser's recursion limit
        zlib.compress(json.dumps({"schema": cache.SCHEMA}).encode())[:-3],  # truncated
        zlib.compress(b"null"),
        zlib.compress(b'"a string"'),
    ],
    ids=["empty", "not zlib", "not json", "deep nesting", "truncated", "null", "a string"],
)
def test_bytes_that_are_no_entry_are_a_miss(tmp_path: Path, blob: bytes) -> None:
    store = RenderCache(tmp_path)
    key = "f" * 64
    assert store.put(key, RENDER)
    store._path(key).write_bytes(blob)
    assert store.get(key) is None
    assert not store._path(key).exists()


def test_an_entry_that_cannot_be_read_is_a_miss(tmp_path: Path) -> None:
    store = RenderCache(tmp_path)
    key = "c" * 64
    assert store.put(key, RENDER)
    store._path(key).unlink()
    store._path(key).mkdir()  # opened, but not read
    assert store.get(key) is None and store.stats.misses == 1
    assert store.get("b" * 64) is None and store.stats.misses == 2


def _lines(blob: bytes) -> list[str]:
    return zlib.decompress(blob).decode().split("\n")


def _replace(index: int, line: str) -> Callable[[list[str]], list[str]]:
    return lambda lines: [*lines[:index], line, *lines[index + 1 :]]


def _columns(line: str, column: str, value: Any) -> str:
    """A line of shared columns with `column` set to `value`."""
    columns = json.loads(line)
    columns[cache._SHARED_COLUMNS.index(column)] = value
    return json.dumps(columns, separators=(",", ":"))


# An entry is its header (line 0), then each table with rows: its shared columns, its own columns (a line
# each) and its bodies (a line each): RENDER's four resources, then its hook.
SHARED = 1  # the resources' shared columns
OWN = 2
BODY = 3  # the first resource's body
HOOK_BODY = BODY + 4 + 2  # the hook's
LINE_DAMAGE: dict[str, Callable[[list[str]], list[str]]] = {
    "a body missing": lambda lines: lines[:-1],
    "a body too many": lambda lines: [*lines, lines[-1]],
    "a hook's column taken for a resource's body": lambda lines: [*lines[:BODY], *lines[BODY + 1 :]],
    "no line but the header": lambda lines: lines[:1],
    "an empty line for a body": _replace(BODY + 1, ""),
    "a body that is not JSON": _replace(BODY, '{"apiVersion":'),
    "a body that is a list": _replace(BODY, "[]"),
    "a body that is null": _replace(BODY + 2, "null"),
    "a hook's body that is a string": _replace(HOOK_BODY, '"kind: ConfigMap"'),
    "a body with NaN": _replace(BODY, '{"n":NaN}'),
    "two bodies on one line": lambda lines: [*lines[:BODY], lines[BODY] + lines[BODY + 1], *lines[BODY + 2 :], "{}"],
    "a body too deep": _replace(BODY + 3, "[" * 100_000 + "]" * 100_000),
    "columns that are not JSON": _replace(SHARED, '[["","",""],'),
    "columns that are a body": _replace(SHARED, '{"kind":"ConfigMap"}'),
    "columns that are one column": _replace(OWN, '["demo","demo","demo","demo"]'),
    "a column too few": lambda lines: _replace(SHARED, json.dumps(json.loads(lines[SHARED])[:-1]))(lines),
    "a column too many": lambda lines: _replace(OWN, json.dumps([*json.loads(lines[OWN]), []]))(lines),
    "a column of another length": lambda lines: _replace(SHARED, _columns(lines[SHARED], "kind", ["ConfigMap"]))(lines),
    "a kind that is a number": lambda lines: _replace(SHARED, _columns(lines[SHARED], "kind", [1, 2, 3, 4]))(lines),
    "columns in another order": lambda lines: [lines[0], lines[2], lines[1], *lines[3:]],
    "no columns for a table with rows": lambda lines: [lines[0], *lines[3:]],
    "lines for a table without rows": lambda lines: [lines[0].replace('"hooks":1', '"hooks":0'), *lines[1:]],
    "a row count that is a string": lambda lines: [lines[0].replace('"resources":4', '"resources":"4"'), *lines[1:]],
    "a negative row count": lambda lines: [lines[0].replace('"hooks":1', '"hooks":-1'), *lines[1:]],
    "a table in the header": lambda lines: [
        lines[0].replace('"resources":4', '"resources":' + json.dumps(result_data(RENDER)["resources"])),
        *lines[1:],
    ],
    "a header that is not JSON": _replace(0, '{"schema":'),
}


@pytest.mark.parametrize("damage", LINE_DAMAGE, ids=list(LINE_DAMAGE))
def test_an_entry_whose_lines_are_not_its_values_is_a_miss_and_is_removed(tmp_path: Path, damage: str) -> None:
    store = RenderCache(tmp_path)
    key = "d" * 64
    assert store.put(key, RENDER)
    lines = _lines(store._path(key).read_bytes())
    assert len(lines) == 1 + 2 * 2 + len(RENDER.resources) + len(RENDER.hooks)
    damaged = LINE_DAMAGE[damage](lines)
    assert damaged != lines
    store._path(key).write_bytes(zlib.compress("\n".join(damaged).encode()))
    assert store.get(key) is None
    assert not store._path(key).exists()
    assert store.stats.misses == 1 and store.stats.hits == 0


def test_a_value_read_again_is_the_value_read_before(tmp_path: Path) -> None:
    """A review reads an app's entry at base and at head: the bodies (and columns) they share are one
    object, made once; a body whose text differs is its own, and every render reads back as stored."""
    changed = dataclasses.replace(RENDER.resources[0], body={**RENDER.resources[0].body, "data": {"n": 2}})
    head = dataclasses.replace(RENDER, resources=(changed, *RENDER.resources[1:]))
    memo = LineMemo()
    first, second = decode(encode(RENDER), memo), decode(encode(head), memo)
    assert first == RENDER and second == head
    assert first.resources[0].body is not second.resources[0].body
    for before, after in zip((*first.resources[1:], *first.hooks), (*second.resources[1:], *second.hooks), strict=True):
        assert before.body is after.body
    alone = decode(encode(RENDER))  # without a memo: values of its own
    assert alone == RENDER and alone.resources[1].body is not first.resources[1].body


def test_the_memo_of_lines_is_bounded_and_answers_alike_when_emptied(monkeypatch: pytest.MonkeyPatch) -> None:
    memo = LineMemo()
    text = encode(RENDER)
    size = sum(map(len, _lines(text)[1:]))
    monkeypatch.setattr(LineMemo, "BOUND", size // 2)  # emptied while one entry is read
    assert decode(text, memo) == RENDER and decode(text, memo) == RENDER
    assert memo._size <= size // 2


def test_a_remembered_line_is_checked_again_where_it_is_used() -> None:
    """A line's value is remembered whatever it is; whether it fits is judged at each use: a list read
    as a column is no body, and a line that is not JSON is not remembered."""
    memo = LineMemo()
    lines = _lines(encode(RENDER))
    columns = lines[OWN]  # a list of lists, remembered
    assert decode(encode(RENDER), memo) == RENDER and columns.encode() in memo._values
    with pytest.raises(ValueError):
        decode(zlib.compress("\n".join(_replace(BODY, columns)(lines)).encode()), memo)
    with pytest.raises(ValueError):
        decode(zlib.compress("\n".join(_replace(BODY, "{")(lines)).encode()), memo)
    assert b"{" not in memo._values
    assert decode(encode(RENDER), memo) == RENDER


@pytest.mark.parametrize(
    "line",
    [
        '{"a":[1,2.5,-0.0,1e400,true,false,null,"\\u00e9\\ud83d\\ude00"],"b":{}}',
        "123456789012345678901234567890",
        '"\\ud800"',
        "[]",
        "null",
        '{"a":1,"a":2}',
        "-1.5E-7",
    ],
)
def test_a_line_reads_as_json_loads_reads_it(line: str) -> None:
    assert repr(cache._json_line(line)) == repr(json.loads(line))


@pytest.mark.parametrize(
    "line", ["", " {}", "{} ", "{}{}", "{},{}", "[1,]", "NaN", '{"a":Infinity}', "tru", "'a'", "\ufeff{}", "{"]
)
def test_a_line_that_is_not_exactly_one_json_value_is_refused(line: str) -> None:
    with pytest.raises(ValueError):
        cache._json_line(line)


TRICKY_LINES = [
    '{"a":[1,2.5,-0.0,1e400,-1e400,1e-400,true,false,null,"\\u00e9\\ud83d\\ude00é😀"],"b":{},"c":[]}',
    '"\\ud800"',  # a lone surrogate: jiter refuses it, the standard library reads it
    '{"a":"\\udc00\\ud800"}',
    '"\\ud83d\\ude00"',
    '{"a":1,"a":2}',
    '{"a":1,"b":2,"a":3}',
    "-0",
    "1E5",
    "9007199254740993",
    "1.00000000000000011102230246251565404236316680908203125",
    "2.2250738585072014e-308",
    "1" * 4300,
    "1" * 4301,  # past Python's limit of an integer's digits: refused by both
    "-" + "9" * 4300,
    "9" * 5000 + ".5",  # a float of more digits than jiter reads: the standard library's answer
    "[" * 199 + "]" * 199,
    "[" * 300 + "]" * 300,  # deeper than jiter reads
    '{"a":' * 250 + "1" + "}" * 250,
    "[" * 100_000 + "]" * 100_000,  # deeper than either reads
    "",
    " {}",
    "{} ",
    "\t1",
    "1\r",
    "{}{}",
    "{},{}",
    "[1,]",
    "[1 , 2]",
    '{"a" : 1}',
    "NaN",
    "[-Infinity]",
    '{"a":Infinity}',
    "tru",
    "'a'",
    "\ufeff{}",
    "{",
    '"\x1f"',
    '"\t"',
    '"\x7f\x80\u2028"',
    '"\\x"',
    "01",
    "1.",
    ".5",
    "+1",
    "0x10",
    "{1:2}",
    "null",
]


def _read(read: Callable[[Any], Any], line: Any) -> tuple[str, str]:
    try:
        return "value", repr(read(line))
    except (ValueError, RecursionError):
        return "refused", ""


@pytest.mark.parametrize("line", TRICKY_LINES, ids=range(len(TRICKY_LINES)))
def test_a_line_read_by_jiter_reads_as_the_standard_librarys_reading(line: str) -> None:
    assert _read(cache._bytes_line, line.encode("utf-8", "surrogatepass")) == _read(cache._json_line, line)


def test_ordinary_lines_are_read_by_jiter_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard library's scanner is only the fallback: an entry's usual lines never reach it."""

    def fallback(line: str) -> Any:
        raise AssertionError(f"read by the fallback: {line}")

    monkeypatch.setattr(cache, "_json_line", fallback)
    lines = [b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"n":"1.5"}}', b'[["",""],[0,-2]]']
    assert LineMemo().values(lines) == [json.loads(line) for line in lines]


def test_a_lower_limit_of_an_integers_digits_holds_for_lines_too() -> None:
    line = b"1" * 700
    assert LineMemo().values([line]) == [int(line)]
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        with pytest.raises(ValueError):
            LineMemo().values([line])
    finally:
        sys.set_int_max_str_digits(limit)


def test_bytes_that_are_not_utf8_are_no_line() -> None:
    for line in (b'"\xff"', b'"\xed\xa0\x80"', b'"\xc3"'):
        with pytest.raises(ValueError):
            cache._bytes_line(line)


def test_an_entry_that_inflates_past_the_bound_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = RenderCache(tmp_path)
    key = "a" * 64
    assert store.put(key, RENDER)
    size = len(zlib.decompress(store._path(key).read_bytes()))
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", size - 1)
    assert store.get(key) is None
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", size)
    assert store.put(key, RENDER)
    assert store.get(key) == RENDER


def test_a_render_with_a_value_json_cannot_write_is_not_stored(tmp_path: Path) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "nan"}, "data": {"x": float("nan")}}
    render = RenderResult("argocd/web", resources=(Resource(ResourceKey("", "ConfigMap", "", "nan"), "v1", body, "a"),))
    store = RenderCache(tmp_path)
    assert not store.put("b" * 64, render)
    assert store.stats.uncacheable == 1


def _app(name: str, **fields: Any) -> App:
    manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name}}
    return App(
        name=name,
        namespace="argocd",
        project="default",
        sources=(AppSource("https://example.invalid/r.git", name, "HEAD", None, None, {"path": name}, "repo"),),
        destination=Destination("https://kubernetes.default.svc", "", name),
        sync_policy=SyncPolicy(True, True, False, False, ("CreateNamespace=true",)),
        ignore_differences=({"kind": "Deployment", "jsonPointers": ["/spec/replicas"]},),
        finalizers=("resources-finalizer.argocd.argoproj.io",),
        defined_in=Location(f"apps/{name}.yaml", 1),
        manifest=manifest,
        **fields,
    )


SNAPSHOT = snapshot.Snapshot(
    discovery=Discovery(
        apps=(
            _app("root"),
            _app("web", parent="argocd/root"),
            _app("chart", generator="appset/list", control_plane="cp", multi_source=True),
        ),
        unrendered=(Unrendered("apps/x.yaml", "a plugin", Location("apps/x.yaml", 2)), Unrendered("y", "external")),
        warnings=("w",),
        renders={"argocd/root": RENDER},
    ),
    crds=({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition"},),
    escaping_symlinks=("link",),
    inputs={
        "argocd/web": Inputs(frozenset({"web"}), frozenset({"values.yaml"}), True),
        "argocd/root": Inputs(frozenset(), frozenset(), False),
    },
    appsets=True,
    revision="a" * 40,
)


def test_a_snapshot_decodes_to_the_same_snapshot() -> None:
    assert snapshot.decode(snapshot.encode(SNAPSHOT)) == SNAPSHOT


def _snapshot_data() -> dict[str, Any]:
    data = json.loads(zlib.decompress(snapshot.encode(SNAPSHOT)))
    assert isinstance(data, dict)
    return data


SNAPSHOT_DAMAGE: dict[str, Callable[[dict[str, Any]], Any]] = {
    "the previous schema": _set(("schema",), snapshot.SCHEMA - 1),
    "apps not a list": _set(("apps",), {"web": {}}),
    "an app of one field": _set(("apps", 0), ["root"]),
    "an app that is a mapping": _set(("apps", 0), {"name": "root"}),
    "a name that is a number": _set(("apps", 0, 0), 1),
    "a path that is a number": _set(("apps", 0, 3, 0, 1), 3),
    "a source spec that is a list": _set(("apps", 0, 3, 0, 5), []),
    "a source of six fields": _set(("apps", 0, 3, 0), ["a", "b", "c", None, None, {}]),
    "a destination of two": _set(("apps", 0, 4), ["a", "b"]),
    "automated as a string": _set(("apps", 0, 5, 0), "true"),
    "sync options as a string": _set(("apps", 0, 5, 4), "CreateNamespace=true"),
    "an ignore rule that is a string": _set(("apps", 0, 6), ["/spec"]),
    "a manifest that is a list": _set(("apps", 0, 9), []),
    "a parent that is a number": _set(("apps", 1, 10), 0),
    "multiSource as a number": _set(("apps", 2, 13), 1),
    "a definition line that is a string": _set(("apps", 0, 8, 1), "1"),
    "a damaged parent render": _set(("renders", "argocd/root", "resources", "body", 0), "body"),
    "renders as a list": _set(("renders",), []),
    "a CRD that is a string": _set(("crds", 0), "crd"),
    "inputs with a certainty that is a string": _set(("inputs", "argocd/web", 2), "yes"),
    "inputs with directories that are a string": _set(("inputs", "argocd/web", 0), "web"),
    "an unrendered item of two": _set(("unrendered", 0), ["a", "b"]),
    "appsets as a string": _set(("appsets",), "false"),
    "a revision that is null": _set(("revision",), None),
}


@pytest.mark.parametrize("damage", SNAPSHOT_DAMAGE, ids=list(SNAPSHOT_DAMAGE))
def test_a_snapshot_of_the_wrong_shape_is_a_miss_and_is_removed(tmp_path: Path, damage: str) -> None:
    store = RenderCache(tmp_path)
    key = "c" * 64
    assert store.write(key, lambda: snapshot.encode(SNAPSHOT))
    assert store.read(key, snapshot.decode) == SNAPSHOT
    store._path(key).write_bytes(cache.pack(SNAPSHOT_DAMAGE[damage](_snapshot_data())))
    assert store.read(key, snapshot.decode) is None
    assert not store._path(key).exists()


def test_an_apps_part_of_the_key_is_remembered_for_that_app_object_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def fresh(app: App) -> str:
        return json.dumps(cache._app_part(app), sort_keys=True, default=str)

    web, api = _app("web"), _app("api")
    assert cache._app_text(web) == fresh(web) and cache._app_text(api) == fresh(api)
    assert cache._app_text(web) is cache._app_text(web), "the same object: worked out once"
    twin = dataclasses.replace(web, project="other")  # another object, at the same address maybe later
    assert cache._app_text(twin) == fresh(twin) != fresh(web)
    monkeypatch.setattr(cache, "_APP_TEXTS_BOUND", 2)
    for name in ("a", "b", "c"):
        app = _app(name)
        assert cache._app_text(app) == fresh(app)
    assert len(cache._APP_TEXTS) <= 2
    assert cache._app_text(web) == fresh(web)
