"""The pairing fast path (one resource a side kept as the slot, identical pairs dropped without a Pair)
answers as the plain rule does: every identity's entries through `_pair_group`, whatever their count.

The inputs are the tricky ones: resources shared by several apps, hooks whose generateName repeats
inside one app, moves between apps, two destination clusters, a resource listed under an app it
does not name, the same Resource object listed twice, Secrets, and bodies equal for Python but not
for JSON (`true` against `1`)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.diff.deltas import Identical
from reviewer.diff.pairing import Entry, Index, Pair, _pair_group, index_resources, pair_resources
from reviewer.records import Resource, ResourceKey

Apps = list[tuple[str, str, list[Resource]]]
Seen = tuple[str, str, int] | None  # cluster, app, position of the resource in the inputs

KEYS = [
    ResourceKey("", "ConfigMap", "demo", "settings"),
    ResourceKey("", "Secret", "demo", "token"),
    ResourceKey("apps", "Deployment", "demo", "api"),
    ResourceKey("batch", "Job", "demo", "migrate-"),  # a hook's generateName
]
BODIES: list[Any] = [{"data": {"a": "1"}}, {"data": {"a": "2"}}, {"data": {"a": True}}, {"data": {"a": 1}}]
CLUSTERS = ["https://kubernetes.default.svc", "https://other.example"]
APPS = ["argocd/a", "argocd/b", "argocd/c"]

spec = st.tuples(
    st.sampled_from(CLUSTERS[:1] * 3 + CLUSTERS[1:]),  # mostly one cluster
    st.sampled_from(APPS),
    st.sampled_from(APPS[:1] * 6 + APPS[1:]),  # the app the resource names: mostly the one it is listed under
    st.sampled_from(KEYS),
    st.sampled_from(BODIES),
    st.booleans(),  # a hook
)


def build(specs: Iterable[tuple[str, str, str, ResourceKey, Any, bool]], twice: bool) -> Apps:
    """The index's input: resources grouped by (cluster, app id), in order of first appearance."""
    grouped: dict[tuple[str, str], list[Resource]] = {}
    for cluster, app_id, named, key, body, hook in specs:
        named = app_id if named == APPS[0] else named
        resource = Resource(key, "v1", copy.deepcopy(body), named, hook_phases=("PreSync",) if hook else ())
        grouped.setdefault((cluster, app_id), []).append(resource)
    out = [(cluster, app_id, items) for (cluster, app_id), items in grouped.items()]
    if twice and out and out[0][2]:
        out[0][2].append(out[0][2][0])  # one Resource object listed twice
    return out


def plain_index(apps: Apps) -> Index:
    """The rule without the fast path: every identity a list of entries."""
    out: Index = {}
    for cluster, app_id, resources in apps:
        for group in ((cluster, False), (cluster, True)):
            out.setdefault(group, {})
        for resource in resources:
            k = resource.key
            key = (k.group, k.kind, k.namespace, k.name)
            out[(cluster, resource.is_hook)].setdefault(key, []).append(Entry(cluster, app_id, resource))  # type: ignore[union-attr]
    return out


def plain_pairs(olds: Index, news: Index) -> list[Pair]:
    """`_pair_group` on every identity, in order of first appearance."""
    out: list[Pair] = []
    for group in list(olds) + [g for g in news if g not in olds]:
        old_keys, new_keys = olds.get(group, {}), news.get(group, {})
        for key in list(old_keys) + [k for k in new_keys if k not in old_keys]:
            base, head = old_keys.get(key, []), new_keys.get(key, [])
            assert isinstance(base, list) and isinstance(head, list)
            out += _pair_group(base, head)
    return out


def no_change(pair: Pair) -> bool:
    """A pair that gives no Change (changes._change): two entries of one app, identical bodies."""
    return bool(
        pair.base
        and pair.head
        and pair.base.app == pair.head.app
        and Identical()(pair.base.resource.body, pair.head.resource.body)
    )


def described(pairs: Iterable[Pair], inputs: tuple[Apps, Apps]) -> list[tuple[Seen, Seen]]:
    """Each pair that gives a Change as (where its base came from, where its head came from), sorted by
    identity only (the order inside one identity is the pairing order and must be kept)."""
    position = {}
    for side, apps in enumerate(inputs):
        n = 0
        for _, _, resources in apps:
            for resource in resources:
                position.setdefault((side, id(resource)), n)
                n += 1

    def seen(entry: Entry | None, side: int) -> Seen:
        return None if entry is None else (entry.cluster, entry.app, position[(side, id(entry.resource))])

    def identity(pair: Pair) -> tuple[str, bool, ResourceKey]:
        entry = pair.base or pair.head
        assert entry is not None
        return entry.cluster, entry.resource.is_hook, entry.resource.key

    ordered = sorted((p for p in pairs if not no_change(p)), key=lambda p: str(identity(p)))  # stable
    return [(seen(p.base, 0), seen(p.head, 1)) for p in ordered]


@settings(max_examples=400, deadline=None)
@given(st.lists(spec, max_size=14), st.lists(spec, max_size=14), st.booleans(), st.booleans())
def test_the_fast_path_pairs_as_the_plain_rule(base: Any, head: Any, twice_base: bool, twice_head: bool) -> None:
    inputs = build(base, twice_base), build(head, twice_head)
    fast = list(pair_resources(index_resources(inputs[0]), index_resources(inputs[1]), Identical()))
    plain = plain_pairs(plain_index(inputs[0]), plain_index(inputs[1]))
    assert described(fast, inputs) == described(plain, inputs)
    assert all(not no_change(p) for p in fast if p.differ)  # `differ` is never said of an identical pair


def test_a_resource_listed_under_an_app_it_does_not_name_is_not_a_slot() -> None:
    resource = Resource(KEYS[0], "v1", {"data": {}}, "argocd/other")
    index = index_resources([(CLUSTERS[0], "argocd/a", [resource])])
    (slot,) = index[(CLUSTERS[0], False)].values()
    assert isinstance(slot, list) and [(e.app, e.resource) for e in slot] == [("argocd/a", resource)]


def test_the_same_resource_listed_twice_is_two_entries() -> None:
    resource = Resource(KEYS[0], "v1", {"data": {}}, "argocd/a")
    index = index_resources([(CLUSTERS[0], "argocd/a", [resource, resource])])
    (slot,) = index[(CLUSTERS[0], False)].values()
    assert isinstance(slot, list) and [e.resource for e in slot] == [resource, resource]


def test_a_bool_against_a_number_in_a_single_pair_is_marked_as_differing() -> None:
    before = Resource(KEYS[0], "v1", {"data": {"a": True}}, "argocd/a")
    after = Resource(KEYS[0], "v1", {"data": {"a": 1}}, "argocd/a")
    olds = index_resources([(CLUSTERS[0], "argocd/a", [before])])
    news = index_resources([(CLUSTERS[0], "argocd/a", [after])])
    (pair,) = pair_resources(olds, news, Identical())
    assert pair.differ and pair.base is not None and pair.head is not None
    assert (pair.base.resource, pair.head.resource) == (before, after)


def test_judging_pairs_together_answers_as_one_call_each_in_order() -> None:
    """`Identical.differing` over many pairs: the same answers, and the same state after, as calls one
    by one, through both modes (pairs from two sources switch to format 2; after RETRY_AFTER
    comparisons the current format is tried again)."""
    import json

    from test_diff_fast_paths import _TRICKY

    from reviewer.diff.deltas import RETRY_AFTER

    def from_two_sources(n: int) -> tuple[Any, Any]:
        body = {"labels": {"app": f"web-{n}"}, "replicas": n, "paused": n % 2 == 0}
        return body, json.loads(json.dumps(body))

    tricky = [(before, after) for before, after, _ in _TRICKY]
    pairs = [*tricky, *(from_two_sources(n) for n in range(RETRY_AFTER + 5)), *tricky, *tricky]
    pairs += [(p[0], p[0]) for p in tricky]  # the same object on both sides
    for start in (0, 3, RETRY_AFTER):
        one_by_one, together = Identical(), Identical()
        one_by_one._skip = together._skip = start
        expected = [i for i, (before, after) in enumerate(pairs) if not one_by_one(before, after)]
        assert together.differing([b for b, _ in pairs], [a for _, a in pairs]) == expected
        assert together._skip == one_by_one._skip
