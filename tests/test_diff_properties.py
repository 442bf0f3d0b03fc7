"""Properties of the diff (hypothesis): a render diffed against itself is empty; swapping base and head
swaps added/removed and before/after; the change set does not depend on the order of resources."""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_diff import make_app, resource

from reviewer.config import Config
from reviewer.diff import diff_renders
from reviewer.records import App, Change, RenderResult

CONFIG = Config()
# Every app has the same rule, so which app's rules apply (head's) does not break the symmetry.
APPS = [
    make_app(n, ignore=[{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}]) for n in "abc"
]
APPS.append(make_app("d", server="https://other.example.com"))

names = st.sampled_from(["x", "y", "z"])
quantities = st.sampled_from(["1Gi", "1024Mi", "2Gi", "500m", "0.5", 1, "1000m"])


@st.composite
def containers(draw: st.DrawFn) -> list[dict[str, Any]]:
    picked = draw(st.lists(st.sampled_from(["api", "web", "proxy"]), unique=True, min_size=1, max_size=2))
    return [
        {
            "name": n,
            "image": draw(st.sampled_from(["img:1", "img:2"])),
            "args": draw(st.lists(st.sampled_from(["-a", "-b"]), max_size=2)),
            "env": [
                {"name": e, "value": draw(st.sampled_from(["1", "2"]))}
                for e in draw(st.lists(st.sampled_from("AB"), unique=True))
            ],
            "resources": {"limits": {"memory": draw(quantities)}},
        }
        for n in picked
    ]


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(names)
    kind = draw(st.sampled_from(["ConfigMap", "Deployment", "Secret", "Job"]))
    meta: dict[str, Any] = {"name": name, "namespace": "demo"}
    if draw(st.booleans()):
        meta["labels"] = {"app.kubernetes.io/name": draw(names)}
    if kind == "ConfigMap":
        return {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": meta,
            "data": draw(st.dictionaries(names, names, max_size=2)),
        }
    if kind == "Secret":
        values = draw(st.dictionaries(names, names, max_size=2))
        body = {"apiVersion": "v1", "kind": kind, "metadata": meta}
        if draw(st.booleans()):
            body["stringData"] = values
        else:
            body["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
        return body
    pod = {"containers": draw(containers())}
    if kind == "Job":  # a hook
        meta = {"generateName": f"{name}-", "namespace": "demo"}
        return {
            "hook": "PreSync",
            "apiVersion": "batch/v1",
            "kind": kind,
            "metadata": meta,
            "spec": {"template": {"spec": pod}},
        }
    api = draw(st.sampled_from(["apps/v1", "apps/v1beta2"]))
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": meta,
        "spec": {"replicas": draw(st.integers(0, 2)), "template": {"spec": pod}},
    }


def _identity(body: Mapping[str, Any]) -> tuple[str, str, bool]:
    meta = body["metadata"]
    return body["kind"], meta.get("name") or meta["generateName"], "hook" in body


def _result(app: App, docs: list[dict[str, Any]]) -> tuple[App, RenderResult]:
    resources, hooks = [], []
    for doc in docs:
        doc = dict(doc)
        hook = doc.pop("hook", "")
        (hooks if hook else resources).append(resource(app.id, doc, hook=hook))
    return app, RenderResult(app.id, tuple(resources), tuple(hooks))


Docs = dict[str, list[dict[str, Any]]]


@st.composite
def app_docs(draw: st.DrawFn) -> Docs:
    """Some apps, each rendering resources with unique keys (the renderer keeps one per key)."""
    apps = draw(st.lists(st.sampled_from(APPS), unique_by=lambda a: a.id, max_size=3))
    return {app.id: draw(st.lists(bodies(), unique_by=_identity, max_size=3)) for app in apps}


def as_renders(docs: Docs) -> dict[str, tuple[App, RenderResult]]:
    by_id = {app.id: app for app in APPS}
    return {app_id: _result(by_id[app_id], app_bodies) for app_id, app_bodies in docs.items()}


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """The same resource with one small edit: a real change, or one that only looks like one."""
    body = copy.deepcopy(body)
    containers = body.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    edits = ["labels"]
    if containers:
        edits += ["image", "quantity", "reorder"] if len(containers) > 1 else ["image", "quantity"]
    if body["kind"] == "Deployment":
        edits += ["replicas", "apiVersion"]
    if body["kind"] in ("ConfigMap", "Secret"):
        edits += ["data", "fold"]
    edit = draw(st.sampled_from(edits))
    if edit == "labels":
        body["metadata"]["labels"] = {"app.kubernetes.io/name": draw(names)}
    elif edit == "reorder":
        containers.reverse()
    elif edit == "image":
        containers[0]["image"] = draw(st.sampled_from(["img:1", "img:3"]))
    elif edit == "quantity":
        containers[-1]["resources"]["limits"]["memory"] = draw(quantities)
    elif edit == "replicas":
        body["spec"]["replicas"] = draw(st.integers(0, 2))
    elif edit == "apiVersion":
        body["apiVersion"] = "apps/v1beta2" if body["apiVersion"] == "apps/v1" else "apps/v1"
    elif edit == "data":
        field = "stringData" if "stringData" in body else "data"
        body.setdefault(field, {})[draw(names)] = draw(st.sampled_from(["eA==", "eQ==", "x", "y"]))
    elif edit == "fold" and "stringData" in body:
        values = body.pop("stringData")
        body["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    return body


@st.composite
def revisions(draw: st.DrawFn) -> tuple[Docs, Docs]:
    """A base and a head made from it: resources kept, edited, dropped, moved to another app, added."""
    base = draw(app_docs())
    head: Docs = {}
    for app_id, docs in base.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # the app is gone
        head.setdefault(app_id, [])
        for body in docs:
            action = draw(st.sampled_from(["keep", "edit", "edit", "drop", "move"]))
            target = draw(st.sampled_from(APPS)).id if action == "move" else app_id
            if action == "drop" or any(_identity(b) == _identity(body) for b in head.get(target, [])):
                continue
            head.setdefault(target, []).append(draw(mutated(body)) if action == "edit" else body)
    for extra in draw(st.lists(bodies(), max_size=1)):
        target = draw(st.sampled_from(APPS)).id
        if all(_identity(b) != _identity(extra) for b in head.get(target, [])):
            head.setdefault(target, []).append(extra)
    return base, head


SWAP = {"added": "removed", "removed": "added", "modified": "modified", "moved": "moved"}


def _summary(change: Change, *, swapped: bool = False) -> tuple[Any, ...]:
    """What a change says, with base and head exchanged when `swapped`."""
    base_app = change.base.app if change.base else None
    head_app = change.head.app if change.head else None
    deltas = []
    for d in change.deltas:
        before, after, kind = d.before, d.after, d.kind
        if swapped:
            before, after, kind = after, before, SWAP.get(kind, kind)
        deltas.append((d.path, repr(before), repr(after), kind, d.ignored))
    if swapped:
        base_app, head_app = head_app, base_app
    ctype = SWAP[change.type] if swapped else change.type
    return (change.cluster, change.key, change.hook, ctype, base_app, head_app, tuple(sorted(deltas)))


@settings(max_examples=40, deadline=None)
@given(app_docs())
def test_a_render_diffed_against_itself_is_empty(docs: Docs) -> None:
    assert diff_renders(as_renders(docs), as_renders(copy.deepcopy(docs)), config=CONFIG) == ()


@settings(max_examples=100, deadline=None)
@given(revisions())
def test_swapping_base_and_head_swaps_the_change_set(docs: tuple[Docs, Docs]) -> None:
    base, head = as_renders(docs[0]), as_renders(docs[1])
    forward = sorted(_summary(c) for c in diff_renders(base, head, config=CONFIG))
    backward = sorted(_summary(c, swapped=True) for c in diff_renders(head, base, config=CONFIG))
    assert forward == backward


@settings(max_examples=60, deadline=None)
@given(revisions(), st.randoms(use_true_random=False))
def test_the_change_set_does_not_depend_on_resource_order(docs: tuple[Docs, Docs], rnd: Any) -> None:
    base, head = as_renders(docs[0]), as_renders(docs[1])

    def shuffled(render: dict[str, tuple[App, RenderResult]]) -> dict[str, tuple[App, RenderResult]]:
        items = list(render.items())
        rnd.shuffle(items)
        out = {}
        for app_id, (app, result) in items:
            resources, hooks = list(result.resources), list(result.hooks)
            rnd.shuffle(resources)
            rnd.shuffle(hooks)
            out[app_id] = (app, RenderResult(app_id, tuple(resources), tuple(hooks)))
        return out

    assert diff_renders(base, head, config=CONFIG) == diff_renders(shuffled(base), shuffled(head), config=CONFIG)
