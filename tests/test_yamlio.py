from __future__ import annotations

import pytest

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
