"""The render cache (reviewer/rendering/cache.py): keyed by every input, never a failure or a Secret,
data not code, private files, bounded size; and a warm review that renders nothing."""

from __future__ import annotations

import dataclasses
import os
import stat
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from apps import application
from gitrepos import git, make_repo

from reviewer import revision
from reviewer.change import resolve_change
from reviewer.discovery.snapshot import snapshot_made
from reviewer.records import Location, RenderError, RenderResult, Resource, ResourceKey
from reviewer.rendering.cache import RenderCache, Uncacheable, decode, encode, render_key
from reviewer.review import review
from reviewer.trees import Checkouts

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n"
SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  token: s3cr3t\n"


def _repo(tmp_path: Path, *, broken: bool = False) -> Path:
    files = {
        "apps/web.yaml": application("web", "web"),
        "apps/secrets.yaml": application("secrets", "secrets"),
        "web/kustomization.yaml": KUSTOMIZATION,
        "web/cm.yaml": CONFIGMAP,
        "secrets/secret.yaml": SECRET,
    }
    if broken:
        files["apps/broken.yaml"] = application("broken", "broken")
        files["broken/kustomization.yaml"] = KUSTOMIZATION  # names cm.yaml, which is not there
    return make_repo(tmp_path / "repo", files)


def _result(body: dict[str, Any]) -> RenderResult:
    key = ResourceKey("", str(body["kind"]), "demo", str(body["metadata"]["name"]))
    resource = Resource(key, "v1", body, "argocd/web", Location("web/cm.yaml", 1), 2, ("PreSync",), ("Prune=false",))
    return RenderResult("argocd/web", resources=(resource,), warnings=("w",), source_types=("kustomize",))


def test_an_entry_decodes_to_the_same_render() -> None:
    result = _result({"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1", "n": 2.5, "l": [None, True]}})
    assert decode(encode(result)) == result


@pytest.mark.parametrize(
    ("result", "why"),
    [
        (
            dataclasses.replace(
                _result({"kind": "ConfigMap", "metadata": {"name": "a"}}), errors=(RenderError("a", "x"),)
            ),
            "failed",
        ),
        (_result({"kind": "Secret", "metadata": {"name": "a"}, "data": {"k": "dg=="}}), "Secret"),
        (_result({"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {1: "int key"}}), "JSON"),
        (_result({"kind": "ConfigMap", "metadata": {"name": "a"}, "binaryData": {"b": b"raw"}}), "JSON"),
    ],
)
def test_failures_secrets_and_lossy_values_are_never_cached(result: RenderResult, why: str) -> None:
    with pytest.raises(Uncacheable, match=why):
        encode(result)


def _count_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    rendered: list[str] = []
    real = revision.render_app

    def counting(app: Any, ctx: Any) -> RenderResult:
        rendered.append(app.name)
        return real(app, ctx)

    monkeypatch.setattr(revision, "render_app", counting)
    return rendered


def _review(repo: Path, cache: RenderCache | None, base: str = "HEAD~1") -> Any:
    return review(resolve_change(repo, base, "HEAD"), cache=cache, jobs=2)


def test_a_warm_review_renders_nothing_and_reports_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path)
    (repo / "web/cm.yaml").write_text(CONFIGMAP.replace("info", "debug"))
    (repo / "secrets/secret.yaml").write_text(SECRET.replace("s3cr3t", "n3w"))
    git(repo, "commit", "-qam", "change")
    rendered = _count_renders(monkeypatch)
    cache = RenderCache(tmp_path / "cache")
    cold = _review(repo, cache)
    assert sorted(rendered) == ["secrets", "secrets", "web", "web"]
    rendered.clear()
    warm = _review(repo, RenderCache(tmp_path / "cache"))
    # The Secret's app is rendered again (never cached); the other comes from the cache, and the
    # revisions' discoveries too (no tree is scanned).
    assert sorted(rendered) == ["secrets", "secrets"]
    assert warm.changes == cold.changes and warm.apps == cold.apps and warm.findings == cold.findings
    assert warm.verdict == cold.verdict == "pass"
    for entry in (tmp_path / "cache").rglob("*"):
        mode = stat.S_IMODE(entry.stat().st_mode)
        assert mode == (0o700 if entry.is_dir() else 0o600), entry
        if entry.is_file():
            assert b"n3w" not in entry.read_bytes() and b"s3cr3t" not in entry.read_bytes()


def test_a_failed_render_is_rendered_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path, broken=True)
    (repo / "broken/kustomization.yaml").write_text(KUSTOMIZATION + "namePrefix: x-\n")
    git(repo, "commit", "-qam", "change")
    rendered = _count_renders(monkeypatch)
    for _ in range(2):
        report = _review(repo, RenderCache(tmp_path / "cache"))
        assert report.verdict == "error" and report.errors
    assert rendered.count("broken") == 4


def test_the_key_follows_every_input(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cache = RenderCache(tmp_path / "cache")

    def key(rev: str, **config: Any) -> str:
        with revision.open_revision(repo, rev, cache=cache) as view:
            app = view.find("web")
            ctx = view.ctx
            if config:
                ctx = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, **config))
            inputs = view.inputs.inputs[app.id]
            assert view.content is not None
            return render_key(app, ctx, inputs.directories, inputs.files, view.content)

    first = key("HEAD")
    (repo / "README.md").write_text("not an input\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "readme")
    assert key("HEAD") == first, "a file the app does not read leaves the key alone"
    assert key("HEAD", kube_version="1.20.0") != first, "the cluster's version is an input"
    (repo / "web/cm.yaml").write_text(CONFIGMAP + "  more: x\n")
    git(repo, "commit", "-qam", "content")
    assert key("HEAD") != first, "an input's content is part of the key"


def test_the_cache_evicts_the_least_recently_used(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path, max_bytes=1)
    body = {"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "y" * 100}}
    for i, key in enumerate(["a" * 64, "b" * 64, "c" * 64]):
        assert cache.put(key, _result(body))
        os.utime(cache._path(key), (1000 + i, 1000 + i))
    cache.max_bytes = cache._path("c" * 64).stat().st_size * 2
    assert cache.evict() >= 1
    assert cache.get("a" * 64) is None, "the oldest entry went first"
    assert cache.get("c" * 64) is not None


def test_a_damaged_entry_is_a_miss_and_is_removed(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path)
    cache.put("d" * 64, _result({"kind": "ConfigMap", "metadata": {"name": "a"}}))
    cache._path("d" * 64).write_bytes(b"not zlib")
    assert cache.get("d" * 64) is None
    assert not cache._path("d" * 64).exists()


def test_a_link_a_pipe_or_an_oversized_file_in_place_of_an_entry_is_a_miss(tmp_path: Path) -> None:
    """A cache restored from elsewhere may hold anything where an entry should be: none is followed, waited
    for or read whole, and each is a miss (the pipe and the oversized file are removed)."""
    import threading

    from reviewer.rendering.cache import MAX_ENTRY_BYTES

    cache = RenderCache(tmp_path / "cache")
    body = {"kind": "ConfigMap", "metadata": {"name": "a"}}
    assert cache.put("a" * 64, _result(body))
    link, pipe, big = "ab" + "0" * 62, "ac" + "0" * 62, "ad" + "0" * 62
    for key in (link, pipe, big):
        Path(cache._file(key)).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(cache._file("a" * 64), cache._file(link))
    os.mkfifo(cache._file(pipe))
    with open(cache._file(big), "wb") as file:
        file.truncate(MAX_ENTRY_BYTES + 1)  # sparse: no disk used
    answers: dict[str, object] = {}

    def ask() -> None:
        for key in (link, pipe, big):
            answers[key] = (cache.get(key), cache.hint(key, bytes))

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(timeout=30)
    assert not asking.is_alive(), "a read waited for a writer or read without bound"
    assert answers == {key: (None, None) for key in (link, pipe, big)}
    assert os.path.islink(cache._file(link)) and cache.get("a" * 64) is not None, "the link is not followed"
    assert not os.path.exists(cache._file(pipe)) and not os.path.exists(cache._file(big))


def test_a_damaged_entry_in_a_warm_review_is_rendered_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry that unpacks but holds a wrong value is found while the hits' records are made together:
    that app alone is rendered again, and the review reports what the cold one did."""
    from reviewer.rendering.cache import pack_render, unpack_render

    repo = _repo(tmp_path, broken=False)
    (repo / "web/cm.yaml").write_text(CONFIGMAP.replace("info", "debug"))
    git(repo, "commit", "-qam", "change")
    cold = _review(repo, RenderCache(tmp_path / "cache"))
    damaged = 0
    for path in (tmp_path / "cache" / "renders").rglob("*.json.z"):
        try:
            data = unpack_render(path.read_bytes())
        except (ValueError, KeyError, zlib.error):
            continue  # not a render (the tools' versions, a hint)
        if data["app"] == "argocd/web" and "debug" in str(data["resources"]["body"]):
            data["resources"]["syncWave"][0] = "soon"
            path.write_bytes(pack_render(data))
            damaged += 1
    assert damaged == 1
    rendered = _count_renders(monkeypatch)
    warm = _review(repo, RenderCache(tmp_path / "cache"))
    assert rendered.count("web") == 1 and warm.changes == cold.changes and warm.verdict == cold.verdict


def _keys_worked_out(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(app id, revision) of each render key worked out from the revision's content."""
    worked: list[tuple[str, str]] = []
    real = revision.render_key

    def counting(app: Any, ctx: Any, *args: Any) -> str:
        worked.append((app.id, ctx.revision))
        return real(app, ctx, *args)

    monkeypatch.setattr(revision, "render_key", counting)
    return worked


def _keys_used(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], str | None]:
    """The render key each (app id, revision) of a review was looked up by."""
    used: dict[tuple[str, str], str | None] = {}
    real = revision.RevisionView._cache_key

    def recording(view: revision.RevisionView, app: Any, ctx: Any) -> str | None:
        key = used[(app.id, view.revision)] = real(view, app, ctx)
        return key

    monkeypatch.setattr(revision.RevisionView, "_cache_key", recording)
    return used


def _kept(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    kept: list[str] = []
    real = RenderCache.keep

    def recording(cache: RenderCache, key: str, blob: bytes) -> None:
        kept.append(key)
        real(cache, key, blob)

    monkeypatch.setattr(RenderCache, "keep", recording)
    return kept


def _changed_web(tmp_path: Path) -> Path:
    repo = _repo(tmp_path)
    (repo / "web/cm.yaml").write_text(CONFIGMAP.replace("info", "debug"))
    (repo / "secrets/secret.yaml").write_text(SECRET.replace("s3cr3t", "n3w"))
    git(repo, "commit", "-qam", "change")
    return repo


def test_a_revisions_render_keys_are_remembered_for_the_next_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second review of a commit looks its apps' renders up by the keys the first worked out, without
    working them out again (nor storing them again), and answers as the first."""
    repo = _changed_web(tmp_path)
    worked, used, kept = _keys_worked_out(monkeypatch), _keys_used(monkeypatch), _kept(monkeypatch)
    cold = _review(repo, RenderCache(tmp_path / "cache"))
    assert len(worked) == len(used) == 4 and None not in used.values()
    assert sum(1 for key in kept if key not in {k for k, _ in worked}) >= 2, "base's and head's keys were kept"
    keys = dict(used)
    for seen in (worked, used, kept):
        seen.clear()
    warm_cache = RenderCache(tmp_path / "cache")
    warm = _review(repo, warm_cache)
    assert worked == [] and kept == []
    assert used == keys, "the same key for each app at each revision"
    assert warm.changes == cold.changes and warm.apps == cold.apps and warm.verdict == cold.verdict
    assert warm_cache.stats.hits == 4, "2 renders and 2 discoveries: the remembered keys are not counted"


def test_remembered_keys_are_those_of_the_same_commit_and_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another commit of the same tree, or another setting of the render context (the cluster's version
    here), has keys of its own: worked out again, never taken from another's."""
    repo = _changed_web(tmp_path)
    _review(repo, RenderCache(tmp_path / "cache"))
    worked = _keys_worked_out(monkeypatch)
    config = tmp_path / "other.yaml"
    config.write_text("render:\n  kubeVersion: 1.20.0\n")
    review(resolve_change(repo, "HEAD~1", "HEAD"), cache=RenderCache(tmp_path / "cache"), config_path=config)
    assert len(worked) == 4
    worked.clear()
    git(repo, "commit", "-q", "--allow-empty", "-m", "same tree, another commit")
    _review(repo, RenderCache(tmp_path / "cache"), base="HEAD~2")  # the base of the first review
    assert [revision for _, revision in worked] == [git(repo, "rev-parse", "HEAD").strip()] * 2, "only the new head's"


def test_the_working_trees_render_keys_are_never_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A working tree is opened at its HEAD commit, but its files are not the commit's: its render keys are
    worked out every time (were one remembered, the second review would read the first one's render)."""
    repo = _repo(tmp_path)
    worked = _keys_worked_out(monkeypatch)
    counts = []
    for level in ("debug", "warn"):
        (repo / "web/cm.yaml").write_text(CONFIGMAP.replace("info", level))
        report = review(resolve_change(repo, "HEAD", None), cache=RenderCache(tmp_path / "cache"), jobs=2)
        assert [c.head.body["data"]["level"] for c in report.changes if c.head is not None] == [level]
        counts.append(len(worked))
        worked.clear()
    assert counts == [2, 1], "the base commit's key and the working tree's, then the working tree's alone"


def _levels_repo(tmp_path: Path, *, apps: tuple[str, ...], directories: tuple[str, ...]) -> Path:
    """Kustomize apps (each reads the directory of its name), each directory a ConfigMap whose level is
    the directory's name; then a commit that changes each level to `<name>-new`."""
    files = {f"apps/{app}.yaml": application(app, app) for app in apps}
    for name in directories:
        files |= {f"{name}/kustomization.yaml": KUSTOMIZATION, f"{name}/cm.yaml": CONFIGMAP.replace("info", name)}
    repo = make_repo(tmp_path / "repo", files)
    for name in directories:
        (repo / f"{name}/cm.yaml").write_text(CONFIGMAP.replace("info", f"{name}-new"))
    git(repo, "commit", "-qam", "change")
    return repo


def test_the_keys_of_a_discovery_the_cache_does_not_hold_are_never_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A discovery is remembered with its keys only as the snapshot the cache holds: one that could not be
    stored (a discovery with an error, a full cache) is made again by the next review, which may find
    other apps (a parent's chart of a version range, a parent's render that failed before): a key
    remembered for the app of the same name would read another render."""
    repo = _levels_repo(tmp_path, apps=("web",), directories=("web", "web2"))

    def unstorable(snapshot: Any) -> bytes:
        raise Uncacheable("discovery reported errors")

    monkeypatch.setattr(revision, "encode_snapshot", unstorable)
    discover = revision.discover

    def web_reads(path: str) -> list[tuple[str, str]]:
        def discovered(*args: Any, **kwargs: Any) -> Any:
            found = discover(*args, **kwargs)
            apps = [
                dataclasses.replace(app, sources=tuple(dataclasses.replace(s, path=path) for s in app.sources))
                for app in found.apps
            ]
            return dataclasses.replace(found, apps=tuple(apps))

        monkeypatch.setattr(revision, "discover", discovered)
        report = _review(repo, RenderCache(tmp_path / "cache"))
        return [
            (c.base.body["data"]["level"], c.head.body["data"]["level"]) for c in report.changes if c.base and c.head
        ]

    kept = _kept(monkeypatch)
    assert web_reads("web") == [("web", "web-new")]
    assert all(len(Path(RenderCache(tmp_path / "cache")._file(key)).read_bytes()) <= 64 for key in kept), "no keys"
    assert web_reads("web2") == [("web2", "web2-new")], "the render of the app discovery found this time"


def test_a_remembered_key_that_finds_another_apps_render_is_worked_out_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys come from a directory a CI cache may have restored: one that names another app's entry is not
    that app's render. The app is rendered, by the key worked out again, and the review answers as
    the cold one."""
    from reviewer.rendering.cache import pack_keys, unpack_keys

    repo = _levels_repo(tmp_path, apps=("web", "api"), directories=("web", "api"))
    kept = _kept(monkeypatch)
    cold = _review(repo, RenderCache(tmp_path / "cache"))
    cache = RenderCache(tmp_path / "cache")
    swapped = 0
    for key in [*kept]:  # keeping them again records them again
        keys = cache.hint(key, unpack_keys)
        if keys is not None:
            keys["argocd/web"], keys["argocd/api"] = keys["argocd/api"], keys["argocd/web"]
            cache.keep(key, pack_keys(keys))
            swapped += 1
    assert swapped == 2, "the base's keys and the head's"
    rendered = _count_renders(monkeypatch)
    warm = _review(repo, cache)
    assert sorted(rendered) == ["api", "api", "web", "web"]
    assert warm.changes == cold.changes and warm.verdict == cold.verdict
    rendered.clear()
    again = _review(repo, RenderCache(tmp_path / "cache"))
    assert rendered == [] and again.changes == cold.changes, "the keys worked out again were kept"


@pytest.mark.parametrize(
    "damage",
    [
        b"not zlib",
        zlib.compress(b"[1, 2]"),
        zlib.compress(b'{"argocd/web": "not a key"}'),
        zlib.compress(b'{"argocd/web": 7}'),
        zlib.compress(b'{"argocd/web": "' + b"A" * 64 + b'"}'),
        zlib.compress(b'{"argocd/web": "' + b"a" * 64 + b'"'),
    ],
)
def test_damaged_remembered_keys_are_worked_out_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes
) -> None:
    repo = _changed_web(tmp_path)
    kept = _kept(monkeypatch)
    cold = _review(repo, RenderCache(tmp_path / "cache"))
    cache = RenderCache(tmp_path / "cache")
    for key in kept:
        if len(Path(cache._file(key)).read_bytes()) > 64:  # not a remembered digest: a revision's keys
            Path(cache._file(key)).write_bytes(damage)
    worked, used = _keys_worked_out(monkeypatch), _keys_used(monkeypatch)
    warm = _review(repo, cache)
    assert len(worked) == 4 and None not in used.values()
    assert warm.changes == cold.changes and warm.verdict == cold.verdict
    assert cache.stats.hits >= 2, "the renders still came from the cache, by the keys worked out again"
    worked.clear()
    _review(repo, RenderCache(tmp_path / "cache"))
    assert worked == [], "and the keys were kept again"


def test_no_cache_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from reviewer.cli import cli

    repo = _repo(tmp_path)
    (repo / "web/cm.yaml").write_text(CONFIGMAP.replace("info", "debug"))
    cache_dir = tmp_path / "no-cache-here"
    result = CliRunner().invoke(
        cli,
        ["check", "--repo", str(repo), "--base", "HEAD", "--no-cache", "--cache-dir", str(cache_dir), "--jobs", "1"],
    )
    assert result.exit_code == 0, result.output
    assert not cache_dir.exists()


def test_a_cache_that_cannot_be_written_does_not_fail_the_review(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be\n")
    repo = _repo(tmp_path)
    (repo / "web/cm.yaml").write_text(CONFIGMAP.replace("info", "debug"))
    git(repo, "commit", "-qam", "change")
    cache = RenderCache(blocker / "cache")
    report = _review(repo, cache)
    assert report.verdict == "pass" and len(report.changes) == 1
    assert cache.stats.unwritable > 0 and cache.stats.stored == 0


def test_a_warm_review_reports_progress_for_hits_and_misses(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "web/cm.yaml").write_text(CONFIGMAP.replace("info", "debug"))
    (repo / "secrets/secret.yaml").write_text(SECRET.replace("s3cr3t", "n3w"))
    git(repo, "commit", "-qam", "change")
    _review(repo, RenderCache(tmp_path / "cache"))
    seen: list[tuple[int, int, str]] = []
    change = resolve_change(repo, "HEAD~1", "HEAD")
    cache = RenderCache(tmp_path / "cache")
    review(change, cache=cache, jobs=2, progress=lambda done, total, app: seen.append((done, total, app)))
    assert cache.stats.hits >= 2, "web at both revisions came from the cache"
    assert [done for done, _, _ in seen] == [1, 2, 3, 4] and {total for _, total, _ in seen} == {4}
    assert sorted(app for _, _, app in seen) == ["argocd/secrets", "argocd/secrets", "argocd/web", "argocd/web"]


def _web_app() -> Any:
    from reviewer.records import App, AppSource, Destination, SyncPolicy

    return App(
        name="web",
        namespace="argocd",
        project="default",
        sources=(AppSource("https://example.invalid/r.git", "web", "HEAD", None, None, {"path": "web"}, "repo"),),
        destination=Destination("https://kubernetes.default.svc", "", "web"),
        sync_policy=SyncPolicy(),
        ignore_differences=(),
        finalizers=(),
        defined_in=None,
        manifest={"kind": "Application"},
    )


def _key_of(listing: list[tuple[str, str, str]], directories: set[str], files: set[str], revision: str = "r1") -> str:
    """render_key over a revision whose files are `listing` (the revision's own part of the key fixed)."""
    from types import SimpleNamespace

    from reviewer.trees import TreeContent

    app = _web_app()
    config = SimpleNamespace(allow_kustomize_plugins=False, allow_remote_bases=False)
    ctx: Any = SimpleNamespace(config=config, cache_context="the revision's part", revision=revision)
    return render_key(app, ctx, frozenset(directories), frozenset(files), TreeContent(None, listing))


LISTING = [
    ("base/cm.yaml", "100644", "b1"),
    ("base/kustomization.yaml", "100644", "b2"),
    ("web/kustomization.yaml", "100644", "w1"),
    ("other/x.yaml", "100644", "o1"),
]


def test_the_key_covers_each_file_under_each_directory_and_each_named_file() -> None:
    first = _key_of(LISTING, {"base", "web"}, {"values.yaml"})
    assert _key_of(LISTING, {"web", "base"}, {"values.yaml"}) == first
    assert _key_of([*LISTING, ("unrelated/y.yaml", "100644", "u")], {"base", "web"}, {"values.yaml"}) == first
    changed = [(p, m, "b9" if p == "base/cm.yaml" else b) for p, m, b in LISTING]
    assert _key_of(changed, {"base", "web"}, {"values.yaml"}) != first, "a blob under a directory"
    assert _key_of([*LISTING, ("base/new.yaml", "100644", "n")], {"base", "web"}, {"values.yaml"}) != first
    assert _key_of([*LISTING, ("values.yaml", "100644", "v")], {"base", "web"}, {"values.yaml"}) != first
    executable = [(p, "100755" if p == "web/kustomization.yaml" else m, b) for p, m, b in LISTING]
    assert _key_of(executable, {"base", "web"}, {"values.yaml"}) != first, "a mode"
    assert _key_of(LISTING, {"base", "web"}, set()) != first, "a named file, even a missing one"
    assert _key_of(LISTING, {"base"}, {"values.yaml"}) != first
    assert _key_of(LISTING, {"base", "web"}, {"values.yaml"}, revision="r2") == first, "the commit, only if used"


def test_the_key_is_the_digest_of_its_parts_in_order() -> None:
    """The key hashes the revision's common start once and the app's parts in one update: the digest of
    the same bytes, written part by part, is the key (and no revision's start answers for another's)."""
    import hashlib
    import json

    from reviewer.rendering import cache

    def by_parts(directories: set[str], files: set[str], revision_part: str) -> str:
        listing = dict((path, (mode, blob)) for path, mode, blob in LISTING)
        app_text = json.dumps(
            {
                "destination": ["https://kubernetes.default.svc", "", "web"],
                "id": "argocd/web",
                "manifest": {"kind": "Application"},
                "name": "web",
                "namespace": "argocd",
                "project": "default",
                "sources": [["https://example.invalid/r.git", "web", "HEAD", None, None, "repo", {"path": "web"}]],
                "syncOptions": [],
            },
            sort_keys=True,
        )
        digest = hashlib.sha256(f"render\0{cache.SCHEMA}\0{cache.tool_fingerprint()}\0the revision's part\0".encode())
        digest.update(f"{revision_part}\0{app_text}\0".encode())
        for directory in sorted(directories):
            under = hashlib.sha256()
            for path in sorted(p for p in listing if p.startswith(f"{directory}/")):
                under.update(f"{path}\0{listing[path][0]}\0{listing[path][1]}\n".encode())
            digest.update(f"d\0{directory}\0{under.hexdigest()}\n".encode())
        for path in sorted(files):
            mode, blob = listing.get(path, ("", ""))
            digest.update(f"f\0{path}\0{mode}\0{blob}\n".encode())
        return digest.hexdigest()

    for _ in range(2):  # the second time from the remembered start
        assert _key_of(LISTING, {"base", "web"}, {"values.yaml", "base/cm.yaml"}) == by_parts(
            {"base", "web"}, {"values.yaml", "base/cm.yaml"}, ""
        )
        assert _key_of(LISTING, set(), set()) == by_parts(set(), set(), "")
    cache._PREFIXES.clear()
    assert _key_of(LISTING, {"web"}, set()) == by_parts({"web"}, set(), "")


@pytest.mark.parametrize(
    ("extra", "files", "why"),
    [
        ([("base/link", "120000", "l")], set(), "symlink"),
        ([("web/link", "120000", "l")], {"web/link"}, "symlink"),
        ([("base/lib.libsonnet", "100644", "j")], set(), "Jsonnet"),
        ([], {"web/main.jsonnet"}, "Jsonnet"),  # named but missing: still a Jsonnet input
    ],
)
def test_symlinks_and_jsonnet_among_the_inputs_make_a_render_uncacheable(
    extra: list[tuple[str, str, str]], files: set[str], why: str
) -> None:
    with pytest.raises(Uncacheable, match=why):
        _key_of([*LISTING, *extra], {"base", "web"}, files)


def test_a_parameter_override_file_makes_the_commit_part_of_the_key() -> None:
    for listing, files in (
        ([*LISTING, ("web/.argocd-source-web.yaml", "100644", "p")], set()),
        (LISTING, {"web/.argocd-source.yaml"}),
    ):
        assert _key_of(listing, {"base", "web"}, files) != _key_of(listing, {"base", "web"}, files, revision="r2")


def test_the_next_revision_is_checked_out_ahead_only_when_this_one_is_discovered_afresh(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "web/cm.yaml").write_text(CONFIGMAP.replace("info", "debug"))
    git(repo, "commit", "-qam", "debug")
    base, head = (revision.resolve_revision(repo, rev) for rev in ("HEAD~1", "HEAD"))
    cache = RenderCache(tmp_path / "cache")
    with Checkouts() as checkouts:
        with revision.open_revision(repo, base, cache=cache, checkouts=checkouts, prefetch=head) as view:
            assert view.checkout.materialised, "discovered from its tree"
            assert checkouts.ahead == {head}
        with revision.open_revision(repo, head, cache=cache, checkouts=checkouts) as view:
            assert checkouts.ahead == set(), "the head took the checkout made for it"
            assert (view.checkout.root / "web/cm.yaml").read_text() == CONFIGMAP.replace("info", "debug")
    # The base's discovery now comes from the cache: its tree is not needed, nor (likely) the head's.
    with (
        Checkouts() as checkouts,
        revision.open_revision(repo, base, cache=cache, checkouts=checkouts, prefetch=head) as view,
    ):
        assert not view.checkout.materialised
        assert checkouts.ahead == set()


def test_a_binary_is_known_by_its_content_not_its_install_time(tmp_path: Path) -> None:
    """CI jobs install the same kustomize afresh each time: the cache must still answer them, and must
    not answer another build of the same size."""
    from reviewer.rendering import cache as cache_module

    RenderCache(tmp_path / "cache")  # the memo of binary digests
    tool = tmp_path / "bin" / "kustomize"
    tool.parent.mkdir()
    tool.write_bytes(b"\x7fELF version 5.4.3")
    first = cache_module._binary_digest(str(tool))
    os.utime(tool, ns=(1_000_000_000, 1_000_000_000))  # reinstalled: new time, same bytes
    assert cache_module._binary_digest(str(tool)) == first
    other = tmp_path / "bin2" / "kustomize"  # another build, same size and time
    other.parent.mkdir()
    other.write_bytes(b"\x7fELF version 5.4.4")
    os.utime(other, ns=(1_000_000_000, 1_000_000_000))
    assert cache_module._binary_digest(str(other)) != first


def test_a_damaged_binary_digest_memo_is_ignored(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    cache.remember("ab" * 32, "0" * 64)
    assert cache.remembered("ab" * 32) == "0" * 64
    Path(cache._file("cd" * 32)).parent.mkdir(parents=True, exist_ok=True)
    Path(cache._file("cd" * 32)).write_bytes(b"not a digest")
    assert cache.remembered("cd" * 32) is None
    assert cache.remembered("ef" * 32) is None
    assert cache.stats.hits == cache.stats.misses == cache.stats.stored == 0


def test_a_remembered_digest_read_is_marked_used_like_a_hit(tmp_path: Path) -> None:
    """A hint read on every run (the snapshot-made marker, a binary's digest) is kept by eviction, which
    removes the least recently used entries first."""
    cache = RenderCache(tmp_path / "cache")
    cache.remember("ab" * 32, "0" * 64)
    file = Path(cache._file("ab" * 32))
    os.utime(file, (1_000_000_000, 1_000_000_000))  # stored long ago
    assert cache.remembered("ab" * 32) == "0" * 64
    assert file.stat().st_mtime > time.time() - 60


def test_a_reinstalled_distribution_keeps_its_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.rendering import cache as cache_module

    info = tmp_path / "site" / "PyYAML-6.0.2.dist-info"
    info.mkdir(parents=True)
    (info / "RECORD").write_text("yaml/__init__.py,sha256=abc,100\n")
    monkeypatch.setattr(cache_module, "_installed", lambda: {"pyyaml": str(info)})
    first = cache_module._distribution("PyYAML")
    os.utime(info / "RECORD", ns=(1_000_000_000, 1_000_000_000))
    assert cache_module._distribution("PyYAML") == first
    (info / "RECORD").write_text("yaml/__init__.py,sha256=def,100\n")  # another build of that version
    assert cache_module._distribution("PyYAML") != first


def test_threads_asking_for_the_tool_fingerprint_together_hash_the_binaries_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from reviewer.rendering import cache as cache_module

    hashed: list[str] = []
    real = cache_module._binary

    def slow_binary(name: str) -> list[Any]:
        hashed.append(name)
        time.sleep(0.05)  # long enough for the other threads to ask meanwhile
        return real(name)

    monkeypatch.setattr(cache_module, "_binary", slow_binary)
    cache_module._tool_fingerprint.cache_clear()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = set(pool.map(lambda _: cache_module.tool_fingerprint(), range(4)))
    finally:
        cache_module._tool_fingerprint.cache_clear()
    assert len(answers) == 1
    assert sorted(hashed) == ["helm", "kubectl", "kustomize"], "each binary identified once"


def _commits_passed(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, position: int) -> list[str]:
    """Record the commit passed (at `position`) to each call of `owner.name`, which still runs."""
    seen: list[str] = []
    real = getattr(owner, name)

    def recording(*args: Any) -> Any:
        seen.append(args[position])
        return real(*args)

    monkeypatch.setattr(owner, name, recording)
    return seen


def test_the_listing_for_a_checkout_is_made_ahead_only_when_no_discovery_of_the_tree_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    sha = revision.resolve_revision(repo, "HEAD")
    listings: list[tuple[str, bool]] = []
    real = revision.list_ahead

    def recording(top: Path, commit: str, subdir: str, *, sized: bool = True) -> Any:
        listings.append((commit, sized))
        return real(top, commit, subdir, sized=sized)

    monkeypatch.setattr(revision, "list_ahead", recording)
    cache = RenderCache(tmp_path / "cache")
    apps = []
    with revision.open_revision(repo, sha, cache=cache) as view:  # cold: listed ahead for a checkout
        apps.append(view.discovery.apps)
    assert listings == [(sha, True)]
    with revision.open_revision(repo, sha, cache=cache) as view:  # known: the digests alone, no sizes
        apps.append(view.discovery.apps)
        assert not view.checkout.materialised
    assert listings == [(sha, True), (sha, False)]
    marker = snapshot_made(revision.tree_id(repo, sha, ""))
    assert cache.remembered(marker) is not None
    Path(cache._file(marker)).write_bytes(b"not a digest")  # a damaged hint is no hint: listed ahead again
    with revision.open_revision(repo, sha, cache=cache) as view:
        apps.append(view.discovery.apps)
    assert listings[2:] == [(sha, True)]
    assert apps[0] == apps[1] == apps[2] and apps[0]
    with revision.open_revision(repo, sha) as view:  # no cache: a checkout is certain
        assert view.discovery.apps == apps[0]
    assert listings[3:] == [(sha, True)]


def test_a_revision_whose_discovery_is_not_known_is_checked_out_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    sha = revision.resolve_revision(repo, "HEAD")
    ahead = _commits_passed(monkeypatch, Checkouts, "prefetch", 2)
    cache = RenderCache(tmp_path / "cache")
    found = []
    for _ in range(2):
        with Checkouts() as checkouts, revision.open_revision(repo, sha, cache=cache, checkouts=checkouts) as view:
            found.append((view.discovery.apps, view.checkout.materialised))
            assert checkouts.ahead == set(), "the checkout made ahead was handed to the revision"
    assert ahead == [sha], "checked out ahead when discovered afresh only"
    assert found[0][0] == found[1][0] and found[0][0]
    assert found[0][1] and not found[1][1], "the second discovery came from the cache, with no tree"


def _key_by_the_letter(app: Any, listing: list[tuple[str, str, str]], directories: set[str], files: set[str]) -> str:
    """The key as the module docstring defines it, worked out from scratch with nothing remembered: what
    `_key_of` must answer however its parts are remembered between keys and revisions."""
    import hashlib
    import json

    from reviewer.rendering import cache

    ordered = sorted(listing)
    under = {d: [e for e in ordered if d == "" or e[0].startswith(f"{d}/")] for d in directories}
    found = {f: next(((m, b) for p, m, b in ordered if p == f), None) for f in files}
    inputs = [*(p for entries in under.values() for p, _, _ in entries), *files]
    if any(m == "120000" for entries in under.values() for _, m, _ in entries) or any(
        f is not None and f[0] == "120000" for f in found.values()
    ):
        raise Uncacheable("a symlink is among its inputs")
    if any(p.endswith((".jsonnet", ".libsonnet")) for p in inputs):
        raise Uncacheable("Jsonnet imports may read files outside the app's inputs")
    app_text = json.dumps(cache._app_part(app), sort_keys=True, default=str)
    uses_revision = any(".argocd-source" in p for p in inputs) or "ARGOCD_APP_REVISION" in app_text
    digest = hashlib.sha256(f"render\0{cache.SCHEMA}\0{cache.tool_fingerprint()}\0the revision's part\0".encode())
    digest.update(f"{'r1' if uses_revision else ''}\0{app_text}\0".encode())
    for directory in sorted(directories):
        part = hashlib.sha256()
        for path, mode, blob in under[directory]:
            part.update(f"{path}\0{mode}\0{blob}\n".encode())
        digest.update(f"d\0{directory}\0{part.hexdigest()}\n".encode())
    for path in sorted(files):
        mode, blob = found[path] or ("", "")
        digest.update(f"f\0{path}\0{mode}\0{blob}\n".encode())
    return digest.hexdigest()


def test_remembered_parts_of_keys_answer_as_keys_worked_out_from_scratch() -> None:
    """Directories and named files are remembered per revision (by their content's listing): across
    revisions that differ in one file, directories that prefix one another, the root, missing and
    non-ASCII files, symlinks, Jsonnet and override files, each key is the one worked out from scratch."""
    import random
    from types import SimpleNamespace

    from reviewer.trees import TreeContent

    app = _web_app()
    config = SimpleNamespace(allow_kustomize_plugins=False, allow_remote_bases=False)
    paths = [
        "base/cm.yaml",
        "base/kustomization.yaml",
        "base-extra/cm.yaml",
        "base/sub/deep.yaml",
        "web/kustomization.yaml",
        "web/values.yaml",
        "wéb/ünïcode.yaml",
        "top.yaml",
        "lib/x.libsonnet",
        "web/.argocd-source-web.yaml",
        "links/l",
    ]
    directories = ["", "base", "base-extra", "base/sub", "web", "wéb", "lib", "links", "absent"]
    files = [*paths, "missing.yaml", "web/main.jsonnet", "base"]
    rng = random.Random(7)
    for _ in range(150):
        listing = [
            (p, "120000" if p == "links/l" else rng.choice(["100644", "100644", "100755"]), rng.choice("abc"))
            for p in paths
            if rng.random() < 0.8
        ]
        content = TreeContent(None, listing)
        for _ in range(6):  # several apps of one revision: parts remembered from the previous keys
            chosen_dirs = {d for d in directories if rng.random() < 0.2}
            chosen_files = {f for f in files if rng.random() < 0.2}
            ctx: Any = SimpleNamespace(config=config, cache_context="the revision's part", revision="r1")
            try:
                expected = _key_by_the_letter(app, listing, chosen_dirs, chosen_files)
            except Uncacheable as exc:
                expected = f"uncacheable: {exc}"
            try:
                got = render_key(app, ctx, frozenset(chosen_dirs), frozenset(chosen_files), content)
            except Uncacheable as exc:
                got = f"uncacheable: {exc}"
            assert got == expected, (listing, chosen_dirs, chosen_files)
