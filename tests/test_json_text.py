"""`dumps_indented` writes exactly what `json.dumps(..., indent=2, ensure_ascii=False)` writes."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.report.json_text import dumps_indented, plain_text


def _standard(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


class _Text(str):
    pass


class _Number(int):
    pass


class _Decimal(float):
    def __repr__(self) -> str:
        return "not how JSON writes it"


TRICKY: list[Any] = [
    {},
    [],
    (),
    "",
    None,
    True,
    0,
    {"": ""},
    {"a": [], "b": {}, "c": [{}], "d": [[]]},
    [1, -1, 2.5, -0.0, 1e16, 1e-7, 10**40, math.nan, math.inf, -math.inf, True, False, None],
    ["é", "日本", "\u2028\u2029", '"quoted"', "back\\slash", "tab\tnew\nline", "\x00\x1f\x7f", "\ud800"],
    {"nested": {"deeper": {"deepest": [1, {"x": (2, 3)}]}}},
    (1, (2, (3,))),
    {"sub": _Text("str subclass"), "n": _Number(7), _Text("key"): 1},
    {"scalars": [_Number(3), _Decimal(2.5), 1, 2.5, None, False], "in a mapping": _Decimal(-0.5), "int": _Number(-1)},
]


@pytest.mark.parametrize("value", TRICKY)
def test_the_same_text_as_the_standard_library(value: Any) -> None:
    assert dumps_indented(value) == _standard(value)


@pytest.mark.parametrize(
    "value",
    [
        {1: "int key"},
        {None: "null key", "b": 1},
        {2.5: [1], True: False},
        {"a": {(1, 2): "tuple key"}},
    ],
)
def test_keys_that_are_not_strings_are_written_as_the_standard_library_writes_them(value: Any) -> None:
    if any(isinstance(k, tuple) for v in [value, *value.values()] if isinstance(v, dict) for k in v):
        with pytest.raises(TypeError):
            _standard(value)
        with pytest.raises(TypeError):
            dumps_indented(value)
    else:
        assert dumps_indented(value) == _standard(value)


@pytest.mark.parametrize("value", [{"a": {1, 2}}, [object()], {"a": b"bytes"}])
def test_values_json_cannot_hold_raise_the_standard_librarys_error(value: Any) -> None:
    with pytest.raises(TypeError) as standard:
        _standard(value)
    with pytest.raises(TypeError) as ours:
        dumps_indented(value)
    assert str(ours.value) == str(standard.value)


def test_a_cycle_is_the_standard_librarys_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented(loop)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=5), children, max_size=4)
        | st.tuples(children, children)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_json_value_is_written_byte_for_byte_alike(value: Any) -> None:
    assert dumps_indented(value) == _standard(value)


@pytest.mark.parametrize(
    "value", [{1: "int key"}, {_Text("key"): 1}, [math.nan], {"a": [math.inf]}, [object()], {"a": {1, 2}}]
)
def test_plain_text_refuses_what_json_would_convert_or_reject(value: Any) -> None:
    assert plain_text(value) is None


@settings(max_examples=200, deadline=None)
@given(_json, st.sampled_from(["\n", "\n    "]))
def test_plain_text_is_the_text_of_plain_data(value: Any, indent: str) -> None:
    text = plain_text(value, indent)
    if text is not None:
        assert text == dumps_indented(value, indent) == _standard(value).replace("\n", indent)
    else:
        assert any(isinstance(x, float) and not math.isfinite(x) for x in _leaves(value))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
