from __future__ import annotations

import functools
import math

import pytest
import yaml

from reviewer import yamlio
from reviewer.errors import ManifestError
from reviewer.yamlio import load_json, load_yaml, load_yaml_stream


def test_documents_carry_their_start_line_and_empty_ones_are_dropped() -> None:
    docs = load_yaml_stream("---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n")
    assert [(d.data, d.line) for d in docs] == [({"a": 1}, 2), ({"b": 2}, 7)]


def test_a_reused_anchor_shadows_the_earlier_one_as_in_go() -> None:
    # govuk-helm-charts values-integration.yaml redefines an anchor; Go YAML accepts it.
    data = load_yaml("a: &x 1\nb: *x\nc: &x 2\nd: *x\n")
    assert data == {"a": 1, "b": 1, "c": 2, "d": 2}


def test_bare_equals_sign_is_a_string() -> None:
    # PyYAML's SafeLoader rejects the `=` (value) tag; Go reads a plain string.
    assert load_yaml("matchers:\n- =\n") == {"matchers": ["="]}


def test_timestamps_stay_strings() -> None:
    assert load_yaml("date: 2024-01-02\nts: 2024-01-02T03:04:05Z\n") == {
        "date": "2024-01-02",
        "ts": "2024-01-02T03:04:05Z",
    }


def test_yaml_11_booleans_match_go_yaml_v2() -> None:
    assert load_yaml("a: yes\nb: off\nc: 'yes'\n") == {"a": True, "b": False, "c": "yes"}


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(ManifestError) as info:
        load_yaml_stream("a: 1\nb: [\n", file="apps/x.yaml")
    assert "apps/x.yaml:" in str(info.value)
    assert info.value.line is not None and info.value.line >= 2


def test_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        bomb += f"{cur}: &{cur} [" + ", ".join(f"*{prev}" for _ in range(10)) + "]\n"
    with pytest.raises(ManifestError, match="too many nodes"):
        load_yaml_stream(bomb)


def test_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reviewer.yamlio.MAX_DOCUMENT_BYTES", 10)
    with pytest.raises(ManifestError, match="larger than"):
        load_yaml_stream("a: 12345678901234567890\n", file="big.yaml")


def test_json_errors_carry_the_line() -> None:
    with pytest.raises(ManifestError) as info:
        load_json('{\n"a": 1,\n}', file="x.json")
    assert info.value.line == 3


def test_single_document_loader_refuses_streams() -> None:
    with pytest.raises(ManifestError, match="one YAML document"):
        load_yaml("a: 1\n---\nb: 2\n", file="values.yaml")


def test_unknown_local_tags_are_ignored_as_go_yaml_v2_does() -> None:
    # govuk's AlertmanagerConfig has `matchType: !=`: a `!=` tag on an empty scalar.
    assert load_yaml("a: !=\nb: !custom text\nc: !obj {k: v}\n") == {"a": "", "b": "text", "c": {"k": "v"}}


def test_anchor_renaming_leaves_ampersands_in_values_alone() -> None:
    text = "a: &x 1\nurl: https://h/?p=1&q=2\nb: *x\nc: &x [1, *x]\nd: *x\nstar: 2*3\n"
    assert load_yaml(text) == {"a": 1, "url": "https://h/?p=1&q=2", "b": 1, "c": [1, 1], "d": [1, 1], "star": "2*3"}


def _pyyaml_documents(text: str) -> list[object]:
    """The documents as PyYAML's own constructor and resolver build them (the reference the loader's
    direct construction and remembered tags must agree with)."""
    loader = yamlio.GoLikeLoader(text)
    loader.resolve = functools.partial(yamlio._base_resolve, loader)  # the resolver, nothing remembered
    try:
        out = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                data = loader.construct_document(node)
                if data is not None:
                    out.append(data)
        return out
    finally:
        loader.dispose()


def _typed(value: object) -> object:
    """A value with every scalar's type made part of it (`1 == 1.0 == True` in Python), NaN comparable."""
    if isinstance(value, dict):
        return [(_typed(k), _typed(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)


TRICKY_YAML = [
    "a: 1\nb: 0x1F\nc: 0o17\nd: 017\ne: 1_000\nf: 1:30\ng: +5\nh: -0\n",
    "a: .inf\nb: -.Inf\nc: .nan\nd: 1e3\ne: 1.5\nf: 1:30.5\ng: 6.8523015e+5\nh: 1.0e+3\n",
    "a: yes\nb: No\nc: ON\nd: off\ne: 'true'\nf: y\ng: TRUE\n",
    "a: ~\nb: null\nc:\nd: 'null'\ne: Null\n",
    "a: 2024-01-02\nb: 2024-01-02T03:04:05Z\nc: !!timestamp 2001-12-14\n",
    "a: !!int '5'\nb: !!str 5\nc: !!float '2'\nd: !!bool 'yes'\ne: !!null ''\n",
    "a: !!binary aGVsbG8=\nb: !!set {x, y}\nc: !!omap [{k: 1}, {j: 2}]\nd: !!pairs [{k: 1}]\n",
    "a: !=\nb: !custom text\nc: !obj {k: v}\nd: !seq [1, 2]\n",
    "=: x\nm:\n- =\n",
    "base: {a: 1}\nmerged:\n  <<: {a: 2, b: 3}\n  c: 4\n",
    "? [a, b]\n: x\n",
    "? {a: 1}\n: x\n",
    "a: 1\na: 2\nb: 3\n",
    "1: int\n1.0: float\ntrue: bool\nnull: none\n",
    "a: !!int abc\n",
    "k: !!float nope\nj: [1, 2\n",
    "[" * 400 + "]" * 400 + "\n",
    "a: &x 1\nb: *x\n",
    "url: https://h/?p=1&q=2\n",
    "---\n---\n# only a comment\n---\nlist: [1, '2', \"3\", 4.0]\n...\n---\nplain\n",
    "text: |\n  line 1\n  line 2\nfolded: >\n  a\n  b\n",
    '{"json": [1, 2.5, true, null, "s"], "nested": {"k": {}}}\n',
    "empty_map: {}\nempty_list: []\nspace: ' '\nkey with spaces: v\n",
    "a: !!str\nb: !!map {}\nc: !!seq []\n",
]


@pytest.mark.parametrize("text", TRICKY_YAML)
def test_direct_construction_builds_what_pyyaml_builds(text: str) -> None:
    yamlio._PLAIN_TAGS.clear()
    expected: tuple[str, object]
    try:
        expected = ("ok", [_typed(d) for d in _pyyaml_documents(text)])
    except (yaml.YAMLError, RecursionError):  # what the loader reports as a ManifestError
        expected = ("error", ManifestError)
    except Exception as exc:  # the reference's own failure is the expected outcome
        expected = ("error", type(exc))
    for _ in range(2):  # with no tag remembered, then with every tag remembered
        got: tuple[str, object]
        try:
            got = ("ok", [_typed(d.data) for d in load_yaml_stream(text)])
        except Exception as exc:
            got = ("error", type(exc))
        assert got == expected


def test_documents_without_anchors_or_special_tags_skip_pyyaml_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("PyYAML's constructor was used")

    monkeypatch.setattr(yamlio.GoLikeLoader, "construct_document", refuse)
    docs = load_yaml_stream("a: [1]\n---\na: [1]\nb: {c: 1.5, d: yes, e: ~, f: 2024-01-02}\n")
    assert docs[0].data == {"a": [1]}
    assert docs[1].data == {"a": [1], "b": {"c": 1.5, "d": True, "e": None, "f": "2024-01-02"}}
    assert docs[0].data["a"] is not docs[1].data["a"]  # nothing shared between documents
