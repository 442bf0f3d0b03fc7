"""The diff's fast paths decide exactly what the slow ones would: an identical pair is no change
whatever objects it is made of, and a value that only Python calls equal (`true` and `1`) still is a
change. Run against the slow path itself (body_deltas over fully converted bodies)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import yaml
from test_diff import configmap, deltas, deployment, diff, only

from reviewer.diff.deltas import body_deltas, identical
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
