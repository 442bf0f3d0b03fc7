"""The diff's fast paths decide exactly what the slow ones would: an identical pair is no change
whatever objects it is made of, and a value that only Python calls equal (`true` and `1`) still is a
change. Run against the slow path itself (body_deltas over fully converted bodies)."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest
import yaml
from test_diff import configmap, deltas, deployment, diff, only

from reviewer.diff.deltas import RETRY_AFTER, Identical, body_deltas, identical
from reviewer.diff.jsonshape import plain
from reviewer.diff.normalise import normalise


def _reparsed(body: dict[str, Any]) -> dict[str, Any]:
    """The same body as another source gives it: fresh objects, keys shared within the document."""
    return json.loads(json.dumps(body))  # type: ignore[no-any-return]


def test_identical_bodies_from_different_sources_are_no_change() -> None:
    base = deployment(replicas=3, pod={"securityContext": {"runAsNonRoot": True}})
    head = yaml.safe_load(yaml.safe_dump(_reparsed(base), sort_keys=False))
    assert base == head and base is not head
    assert identical(base, head)
    assert diff([base], [head]) == ()
    # Keys in another order are not identical to marshal, and are still no change.
    reordered = yaml.safe_load(yaml.safe_dump(base, sort_keys=True))
    assert not identical(base, reordered)
    assert diff([base], [reordered]) == ()


@pytest.mark.parametrize(
    ("before", "after"),
    [(True, 1), (False, 0), (1, True), (True, 1.0)],
)
def test_a_bool_against_a_number_is_a_change_though_python_calls_them_equal(before: Any, after: Any) -> None:
    base, head = configmap(), configmap()
    base["data"]["flag"], head["data"]["flag"] = before, after
    assert base == head, "Python does not tell them apart"
    assert not identical(base, head)
    change = only(diff([base], [head]))
    assert deltas(change)["data.flag"].before is before and deltas(change)["data.flag"].after is after


def test_a_bool_key_against_a_number_key_is_a_change() -> None:
    base, head = configmap(), configmap()
    base["data"] = {True: "x"}
    head["data"] = {1: "x"}
    assert base == head
    change = only(diff([base], [head]))
    assert {(d.path, d.kind) for d in change.deltas} == {("data.true", "removed"), ('data["1"]', "added")}


def test_nan_is_nan_in_the_walk_as_in_the_digest() -> None:
    base = configmap(ratio="0.5")
    base["ratio"] = math.nan
    head = _reparsed(configmap(ratio="0.7")) | {"ratio": float("nan")}
    change = only(diff([base], [head]))
    assert [d.path for d in change.deltas] == ["data.ratio"], "the NaN field did not change"


def _slow(base: dict[str, Any], head: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    found = body_deltas("Deployment", plain(normalise(base)), plain(normalise(head)))
    return [(str(d.path), d.before, d.after, d.kind) for d in found]


def _walked(base: dict[str, Any], head: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    found = body_deltas("Deployment", normalise(base), normalise(_reparsed(head)))
    return [(str(d.path), d.before, d.after, d.kind) for d in found]


@pytest.mark.parametrize(
    "edit",
    [
        lambda b: b["spec"]["template"]["spec"]["containers"][0].update(image="api:2"),
        lambda b: b["spec"].update(replicas=None, paused=True),
        lambda b: b["metadata"].update(labels={1: "one", "a": None}),
        lambda b: b["spec"]["template"]["spec"]["containers"].insert(0, {"name": "proxy", "image": "p:1"}),
        lambda b: b["spec"]["template"]["spec"]["containers"][0].update(env=[{"name": "A", "value": None}]),
        lambda b: b["spec"].update(strategy={"type": "Recreate", "rollingUpdate": None}),
    ],
)
def test_the_walk_skipping_identical_subtrees_finds_what_the_full_walk_finds(edit: Any) -> None:
    base = deployment(
        replicas=2,
        strategy={"type": "RollingUpdate"},
        containers=[{"name": "api", "image": "api:1", "env": [{"name": "A", "value": "1"}]}],
    )
    head = _reparsed(base)
    edit(head)
    assert _walked(base, head) == _slow(base, head)
    assert _walked(base, head), "the edit is a change"


# --- the comparison of whole bodies, in both of its modes -------------------------------------------

# (before, after, identical?): a no is always allowed (the slow path then decides), a yes never where
# the walk finds a delta. None: either (see Identical on NaN).
_TRICKY: list[tuple[Any, Any, bool | None]] = [
    ({"a": True}, {"a": 1}, False),
    ({"a": 1}, {"a": 1.0}, False),
    ({"a": False}, {"a": 0}, False),
    ({"a": True}, {"a": 1.0}, False),
    ({"a": 1}, {"a": "1"}, False),
    ({True: "x"}, {1: "x"}, False),
    ({1: "x"}, {1.0: "x"}, False),
    ({"a": [1, {"b": True}]}, {"a": [1, {"b": 1}]}, False),
    ({"a": [True, 1]}, {"a": [1, True]}, False),
    ({"a": 0.0}, {"a": -0.0}, False),  # no delta either: the walk decides
    ({"a": math.nan}, {"a": float("nan")}, None),
    ({"a": [math.nan]}, {"a": [math.nan]}, None),
    ({"a": None}, {}, False),  # no delta either: the walk decides
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}, False),  # no delta either: the walk decides
    ({"a": [1, 2]}, {"a": (1, 2)}, False),
    ({"a": dt.date(2024, 1, 1)}, {"a": dt.date(2024, 1, 1)}, False),  # not marshal's: the walk decides
    ({"a": "x", "b": {"c": [1, "2", False, 1.5]}}, {"a": "x", "b": {"c": [1, "2", False, 1.5]}}, True),
]


def _comparers() -> list[tuple[str, Identical]]:
    """A fresh comparer, and one that an equal pair from two sources sent straight to format 2."""
    fresh, switched = Identical(), Identical()
    built = {"labels": {"app": "web"}, "replicas": 2, "paused": False}
    assert switched(built, _reparsed(built)), "equal values from two sources are identical"
    assert switched._skip == RETRY_AFTER, "the current format told them apart, so the next pairs skip it"
    return [("fresh", fresh), ("format 2", switched)]


@pytest.mark.parametrize(("before", "after", "expected"), _TRICKY)
def test_identical_answers_alike_in_both_modes_and_never_hides_a_delta(
    before: Any, after: Any, expected: bool | None
) -> None:
    slow = body_deltas("ConfigMap", plain(before), plain(after))
    for mode, comparer in _comparers():
        said = comparer(before, after)
        assert comparer(after, before) is said, mode
        assert said is expected or expected is None, mode
        assert not (said and slow), f"{mode}: identical, but the walk finds {slow}"


def test_the_comparer_goes_back_to_the_current_format_after_a_while() -> None:
    _, (_, comparer) = _comparers()
    body = {"a": "x", "n": 1}
    for _ in range(RETRY_AFTER):
        assert comparer(body, dict(body))
    assert comparer._skip == 0
    assert comparer(body, dict(body)), "same sources again: the current format answers"
    assert comparer._skip == 0


def test_a_pair_the_current_format_tells_apart_for_its_types_keeps_the_mode() -> None:
    comparer = Identical()
    assert not comparer({"a": True}, {"a": 1})
    assert comparer._skip == 0, "a real difference says nothing about the sources"


@pytest.mark.parametrize(("before", "after"), [(True, 1), (1, "1"), (False, 0), (1.0, True)])
def test_a_diff_of_bodies_from_two_sources_still_sees_a_bool_against_a_number(before: Any, after: Any) -> None:
    """Many equal pairs from two sources first (so the comparisons go straight to format 2), then the
    pair that only Python calls equal."""
    bodies = [configmap(f"cm-{i}", x=str(i)) for i in range(RETRY_AFTER + 2)]
    tricky_base, tricky_head = configmap("tricky"), configmap("tricky")
    tricky_base["data"]["flag"], tricky_head["data"]["flag"] = before, after
    change = only(diff([*bodies, tricky_base], [*map(_reparsed, bodies), tricky_head]))
    assert change.key.name == "tricky"
    assert deltas(change)["data.flag"].before is before and deltas(change)["data.flag"].after is after


def test_remembered_paths_keep_the_type_of_a_keyed_items_value() -> None:
    """`true`, `1` and `1.0` are equal to Python; their paths are not the same path."""
    from reviewer.diff.paths import ItemKey, format_path

    shown = [format_path(("spec", "ports", ItemKey((("port", value),)), "x")) for value in (1, True, 1.0, 1)]
    assert shown == [f"spec.ports[port={v}].x" for v in ("1", "true", "1.0", "1")]
