"""Sharding a review across jobs (`check --shard I/N`) and merging the parts (`merge`): the merged report
is the unsharded one, also where apps of different shards trade resources; parts that do not add up
to one whole review never pass."""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from apps import application
from click.testing import CliRunner, Result
from gitrepos import git, make_repo
from test_check import edit
from test_json_load import _mixed

from reviewer.cli import cli
from reviewer.config import Config
from reviewer.errors import UsageError
from reviewer.records import App, AppSource, Destination, SyncPolicy
from reviewer.report.json_load import load_report
from reviewer.sharding import ShardSpec, partition

PRUNE = {"automated": {"prune": True}}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def parts(repo: Path, out: Path, total: int, *extra: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(1, total + 1):
        path = out / f"part-{index}.json"
        result = run("check", "--repo", str(repo), "--shard", f"{index}/{total}", "--output", str(path), *extra)
        assert result.exit_code == 0, result.output + result.stderr
        assert f"shard {index}/{total}:" in result.stderr
        paths.append(path)
    return paths


def merged(repo: Path, paths: list[Path], *extra: str) -> tuple[int, dict[str, Any], str]:
    result = run("merge", *map(str, paths), "--repo", str(repo), "--format", "json", *extra)
    assert result.exit_code in (0, 1), result.output + result.stderr
    text = run("merge", *map(str, paths), "--repo", str(repo), "--format", "text", *extra)
    return result.exit_code, json.loads(result.stdout), text.stdout


def unsharded(repo: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = run("check", "--repo", str(repo), "--format", "json", *extra)
    assert result.exit_code in (0, 1), result.output + result.stderr
    text = run("check", "--repo", str(repo), "--format", "text", *extra)
    return result.exit_code, json.loads(result.stdout), text.stdout


def without_timings(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "timings"}


def assigned(paths: list[Path]) -> dict[str, int]:
    """app id -> the shard that reviewed it."""
    out = {}
    for path in paths:
        shard = json.loads(path.read_text())["shard"]
        out.update(dict.fromkeys(shard["assigned"], shard["index"]))
    return out


def assert_same_review(repo: Path, tmp_path: Path, total: int, *extra: str) -> list[Path]:
    """Sharded + merged gives exactly the unsharded report: changes, findings, errors, verdict, exit code.
    `extra`: options of `check` (the merge takes the shards' --fail-on and revisions from the parts)."""
    paths = parts(repo, tmp_path, total, *extra)
    code, document, text = merged(repo, paths)
    expected_code, expected, expected_text = unsharded(repo, *extra)
    assert (code, document["verdict"]) == (expected_code, expected["verdict"])
    assert without_timings(document) == without_timings(expected)
    assert text == expected_text
    assert [stage for stage in document["timings"]][-1] == "merge"
    return paths


# --- the example repo ------------------------------------------------------------------------------------


def _everything(repo: Path) -> None:
    """The mixed change of the JSON tests, an app removed from the app of apps, the gate's own
    configuration edited (a finding about no app), and an invalid Application (a discovery error)."""
    _mixed(repo)
    (repo / "clusters/prod/apps/web-staging.yaml").unlink()
    edit(repo / ".gitops-reviewer.yaml", "env: staging", "env: stage")
    (repo / "clusters/prod/apps/broken.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: broken\nspec: []\n"
    )


@pytest.mark.parametrize("total", [1, 2, 3, 7])
def test_sharded_and_merged_equals_unsharded_on_the_example_repo(
    example_repo: Path, tmp_path: Path, total: int
) -> None:
    _everything(example_repo)
    paths = assert_same_review(example_repo, tmp_path, total, "--fail-on", "warning")
    document = json.loads(paths[0].read_text())
    expected = unsharded(example_repo, "--fail-on", "warning")[1]
    assert {c["type"] for c in expected["changes"]} == {"added", "removed", "modified", "moved"}
    assert any(f["app"] == "" for f in expected["findings"]), "a finding about no app (config-change)"
    assert any("invalid Application" in e["message"] for e in expected["errors"]), "a discovery error"
    owners = assigned(paths)
    assert set(owners) == set(document["shard"]["selection"]), "every selected app is some shard's"
    if total > 1:
        assert len(set(owners.values())) > 1, "the apps are spread over the shards"


def test_all_apps_sharded_equals_unsharded(example_repo: Path, tmp_path: Path) -> None:
    edit(example_repo / "apps/guestbook/base/deployment.yaml", "containerPort: 80", "containerPort: 8080")
    paths = assert_same_review(example_repo, tmp_path, 2, "--all-apps")
    shard = json.loads(paths[0].read_text())["shard"]
    assert set(shard["selection"].values()) == {"--all-apps"} and shard["options"]["allApps"] is True


def test_every_shard_computes_the_same_partition(example_repo: Path, tmp_path: Path) -> None:
    _everything(example_repo)
    paths = parts(example_repo, tmp_path, 3)
    shards = [json.loads(p.read_text())["shard"] for p in paths]
    assert len({s["partitionDigest"] for s in shards}) == 1
    assert len({json.dumps(s["selection"], sort_keys=True) for s in shards}) == 1
    again = parts(example_repo, tmp_path / "again", 3)
    assert [json.loads(p.read_text())["shard"]["assigned"] for p in again] == [s["assigned"] for s in shards]


# --- apps that trade resources ---------------------------------------------------------------------------

CLUSTER_ROLE = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {name}\nrules: []\n"
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size:
                  type: integer
                  x-kubernetes-validations:
                    - rule: self == oldSelf
                      message: size is immutable
"""
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: blue\nspec:\n  size: {size}\n"


def _app(name: str, namespace: str) -> str:
    """An Application of this repo's `name/` directory whose automated sync prunes."""
    document = yaml.safe_load(application(name, name, namespace=namespace))
    document["spec"]["syncPolicy"] = PRUNE
    return yaml.safe_dump(document)


def trading_repo(path: Path) -> Path:
    """Apps in different namespaces (so the partition may part them), each with some content."""
    files = {f"apps/{n}.yaml": _app(n, f"ns-{n}") for n in ("alpha", "beta", "gamma", "delta", "ops", "shop")}
    files |= {f"{n}/cm.yaml": CONFIG_MAP.format(name=f"{n}-settings") for n in ("alpha", "beta", "gamma", "delta")}
    files["alpha/role.yaml"] = CLUSTER_ROLE.format(name="reader")
    files["ops/cm.yaml"] = CONFIG_MAP.format(name="ops-settings")
    files["shop/cm.yaml"] = CONFIG_MAP.format(name="shop-settings")
    return make_repo(path, files)


def _touch_all(repo: Path, names: tuple[str, ...]) -> None:
    for name in names:
        edit(repo / f"{name}/cm.yaml", "k: v", "k: w")


def test_a_cluster_scoped_resource_moving_between_shards_is_a_move_after_merge(tmp_path: Path) -> None:
    repo = trading_repo(tmp_path / "repo")
    (repo / "alpha/role.yaml").rename(repo / "beta/role.yaml")
    _touch_all(repo, ("gamma", "delta"))
    paths = assert_same_review(repo, tmp_path, 2)
    owners = assigned(paths)
    assert owners["argocd/alpha"] != owners["argocd/beta"], "the two apps are in different shards"
    # Alone, each shard saw a removal and an addition; merged, it is the move the unsharded review sees.
    alone = [json.loads(p.read_text()) for p in paths]
    assert sorted(c["type"] for d in alone for c in d["changes"] if c["resource"]["name"] == "reader") == [
        "added",
        "removed",
    ]
    assert any(f["rule"] == "prune-deletion" for d in alone for f in d["findings"])
    _, document, _ = merged(repo, paths)
    (move,) = [c for c in document["changes"] if c["resource"]["name"] == "reader"]
    assert (move["type"], move["fromApp"], move["app"]) == ("moved", "argocd/alpha", "argocd/beta")
    assert {f["rule"] for f in document["findings"]} == {"move-between-apps"}
    assert "re-review" in document["timings"]


def test_a_move_within_one_namespace_stays_in_one_shard(tmp_path: Path) -> None:
    files = {
        "apps/web.yaml": _app("web", "shop"),
        "apps/db.yaml": _app("db", "shop"),
        "apps/ops.yaml": _app("ops", "ops"),
        "web/cm.yaml": CONFIG_MAP.format(name="web"),
        "web/shared.yaml": CONFIG_MAP.format(name="shared"),
        "db/cm.yaml": CONFIG_MAP.format(name="db"),
        "ops/cm.yaml": CONFIG_MAP.format(name="ops"),
    }
    repo = make_repo(tmp_path / "repo", files)
    (repo / "web/shared.yaml").rename(repo / "db/shared.yaml")
    edit(repo / "ops/cm.yaml", "k: v", "k: w")
    paths = assert_same_review(repo, tmp_path, 2)
    owners = assigned(paths)
    assert owners["argocd/web"] == owners["argocd/db"] != owners["argocd/ops"]
    _, document, _ = merged(repo, paths)
    assert "re-review" not in document["timings"], "nothing to review again"
    assert [c["type"] for c in document["changes"] if c["resource"]["name"] == "shared"] == ["moved"]


def test_a_crd_and_its_resources_in_apps_of_different_shards(tmp_path: Path) -> None:
    repo = trading_repo(tmp_path / "repo")
    (repo / "ops/crd.yaml").write_text(CRD)
    (repo / "shop/widget.yaml").write_text(WIDGET.format(size=3))
    _touch_all(repo, ("alpha", "beta"))
    paths = assert_same_review(repo, tmp_path, 2)
    owners = assigned(paths)
    assert owners["argocd/ops"] != owners["argocd/shop"]
    _, document, _ = merged(repo, paths)
    assert [f["app"] for f in document["findings"] if f["rule"] == "sync-order"] == ["argocd/shop"]


def test_an_immutable_field_declared_by_another_shards_crd(tmp_path: Path) -> None:
    repo = trading_repo(tmp_path / "repo")
    (repo / "ops/crd.yaml").write_text(CRD)
    (repo / "shop/widget.yaml").write_text(WIDGET.format(size=3))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "widgets")
    base = git(repo, "rev-parse", "HEAD").strip()
    edit(repo / "shop/widget.yaml", "size: 3", "size: 4")
    edit(repo / "ops/crd.yaml", "name: widgets.example.com", "name: widgets.example.com\n  labels: {a: b}")
    paths = assert_same_review(repo, tmp_path, 2, "--base", base)
    owners = assigned(paths)
    assert owners["argocd/ops"] != owners["argocd/shop"]
    _, document, _ = merged(repo, paths)
    assert [(f["app"], f["path"]) for f in document["findings"] if f["rule"] == "immutable-field"] == [
        ("argocd/shop", "spec.size")
    ]


def test_merge_needs_the_repository_only_when_shards_interact(tmp_path: Path) -> None:
    repo = trading_repo(tmp_path / "repo")
    (repo / "alpha/role.yaml").rename(repo / "beta/role.yaml")
    _touch_all(repo, ("gamma", "delta"))
    paths = parts(repo, tmp_path, 2)
    elsewhere = tmp_path / "empty"
    elsewhere.mkdir()
    result = run("merge", *map(str, paths), "--repo", str(elsewhere))
    assert result.exit_code == 2
    assert "apps of different shards interact (argocd/alpha, argocd/beta" in result.stderr
    assert "failed" in result.stderr


# --- parts that do not make one review ------------------------------------------------------------------


@pytest.fixture
def three_parts(example_repo: Path, tmp_path: Path) -> tuple[Path, list[Path]]:
    edit(example_repo / "apps/guestbook/base/deployment.yaml", "containerPort: 80", "containerPort: 8080")
    (example_repo / "apps/postgres/backup-pvc.yaml").unlink()
    return example_repo, parts(example_repo, tmp_path, 3)


def _merge_error(repo: Path, *paths: Path) -> str:
    result = run("merge", *map(str, paths), "--repo", str(repo))
    assert result.exit_code == 2, result.output + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_missing_part_is_an_error_never_a_pass(three_parts: tuple[Path, list[Path]]) -> None:
    repo, paths = three_parts
    message = _merge_error(repo, paths[0], paths[2])
    assert "shard 2/3 missing" in message and "no verdict" in message
    owner = assigned([paths[1]])
    assert next(iter(owner)) in message, "names the apps nobody reviewed"
    gone = paths[1].with_name("gone.json")
    assert f"{gone}: no such part file" in _merge_error(repo, paths[0], gone, paths[2])


def test_a_duplicate_part_is_an_error(three_parts: tuple[Path, list[Path]], tmp_path: Path) -> None:
    repo, paths = three_parts
    copy = tmp_path / "copy.json"
    copy.write_text(paths[1].read_text())
    assert f"{paths[1]} and {copy} are both shard 2/3" in _merge_error(repo, *paths, copy)


def test_parts_of_different_reviews_are_an_error(three_parts: tuple[Path, list[Path]], tmp_path: Path) -> None:
    repo, paths = three_parts
    other = parts(repo, tmp_path / "two", 2)
    assert "split into different numbers of shards" in _merge_error(repo, paths[0], other[1], paths[2])
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "next")
    later = parts(repo, tmp_path / "later", 3, "--base", "HEAD~1", "--head", "HEAD")
    message = _merge_error(repo, paths[0], later[1], paths[2])
    assert re.search(r"differ in (base|head) revision: they are not parts of one review", message)
    assert str(later[1]) in message


def test_a_corrupt_or_foreign_file_is_named(three_parts: tuple[Path, list[Path]], tmp_path: Path) -> None:
    repo, paths = three_parts
    truncated = tmp_path / "truncated.json"
    truncated.write_text(paths[1].read_text()[:500])
    assert f"{truncated}: not valid JSON" in _merge_error(repo, paths[0], truncated, paths[2])
    whole = tmp_path / "whole.json"
    whole.write_text(run("check", "--repo", str(repo), "--format", "json").stdout)
    assert f"{whole}: not a shard part" in _merge_error(repo, paths[0], whole, paths[2])
    lying = tmp_path / "lying.json"
    document = json.loads(paths[1].read_text())
    document["shard"]["errors"]["base"] = 3
    lying.write_text(json.dumps(document))
    assert f"{lying}: not a shard part" in _merge_error(repo, paths[0], lying, paths[2])


def test_merge_exit_code_and_fail_on(three_parts: tuple[Path, list[Path]]) -> None:
    repo, paths = three_parts
    passing = run("merge", *map(str, paths), "--repo", str(repo))
    assert passing.exit_code == 0 and "verdict: PASS" in passing.stdout
    failing = run("merge", *map(str, paths), "--repo", str(repo), "--fail-on", "info")
    assert failing.exit_code == 1 and "verdict: FAIL" in failing.stdout


def test_shard_writes_json_only(example_repo: Path) -> None:
    result = run("check", "--repo", str(example_repo), "--shard", "1/2", "--format", "markdown")
    assert result.exit_code == 2 and "--shard writes a JSON part" in result.stderr
    result = run("check", "--repo", str(example_repo), "--shard", "3/2")
    assert result.exit_code == 2 and "the shard index must be between 1 and 2" in result.stderr
    stdout = run("check", "--repo", str(example_repo), "--shard", "1/1")
    assert stdout.exit_code == 0 and json.loads(stdout.stdout)["shard"]["total"] == 1


# --- publishing from merge --------------------------------------------------------------------------------


def test_publish_without_a_publisher_is_a_usage_error(
    three_parts: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, paths = three_parts
    for platform in ("github", "gitlab"):
        monkeypatch.setitem(sys.modules, f"reviewer.publish.{platform}", None)  # importing it fails
    result = run("merge", *map(str, paths), "--repo", str(repo), "--publish", "gitlab")
    assert result.exit_code == 2
    assert "this installation has no gitlab publisher for merged reports" in result.stderr


def test_merge_publishes_to_the_pull_request_of_the_run(
    three_parts: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`merge --publish github` in the merge job of an Actions matrix: one sticky comment and a check run
    on the pull request's head, from the pull_request event, through PyGithub against the fake API."""
    from fakes.github_api import fake_github

    from reviewer.publish.common import STICKY_MARKER

    repo, paths = three_parts
    event = json.loads((Path(__file__).parent / "data/github/pull_request.json").read_text())
    with fake_github() as fake:
        event["repository"]["full_name"] = fake.repository
        event_path = tmp_path / "event.json"
        event_path.write_text(json.dumps(event))
        for name, value in {
            "GITHUB_REPOSITORY": fake.repository,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_API_URL": fake.url,
            "GITHUB_RUN_ID": "77",
            "GITHUB_TOKEN": fake.token,
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        }.items():
            monkeypatch.setenv(name, value)
        for _ in range(2):
            result = run("merge", *map(str, paths), "--repo", str(repo), "--publish", "github")
            assert result.exit_code == 0, result.output + result.stderr
        comments = fake.issue_comments(event["number"])
        assert len(comments) == 1 and comments[0]["body"].startswith(STICKY_MARKER)
        assert "gitops-reviewer: pass" in comments[0]["body"]
        runs = list(fake.check_runs.values())
        assert runs and {r["head_sha"] for r in runs} == {event["pull_request"]["head"]["sha"]}
        assert "gitops-reviewer: pass" in (tmp_path / "summary.md").read_text()
        assert "posted the comment" in result.stderr


def test_merge_publishes_to_the_merge_request_of_the_pipeline(
    three_parts: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`merge --publish gitlab` in the merge job after a `parallel:` job: the note and the status."""
    from fakes.gitlab_api import fake_gitlab

    from reviewer.publish.common import STICKY_MARKER

    repo, paths = three_parts
    head = git(repo, "rev-parse", "HEAD").strip()
    bot = {"id": 11, "username": "project_42_bot_1", "name": "gitops-reviewer"}
    with fake_gitlab(tokens={"glpat-merge": bot}) as fake:
        fake.add_merge_request("42", 7)
        fake.add_commits("42", head)
        for name, value in {
            "CI_SERVER_URL": fake.url,
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_PROJECT_ID": "42",
            "CI_MERGE_REQUEST_IID": "7",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": head,
            "CI_COMMIT_SHA": head,
            "CI_JOB_URL": "https://gitlab.example.com/acme/config/-/jobs/5",
            "GITOPS_REVIEWER_GITLAB_TOKEN": "glpat-merge",
        }.items():
            monkeypatch.setenv(name, value)
        result = run("merge", *map(str, paths), "--repo", str(repo), "--publish", "gitlab")
        assert result.exit_code == 0, result.output + result.stderr
        notes = [n for n in fake.notes_of("42", 7) if str(n["body"]).startswith(STICKY_MARKER)]
        assert len(notes) == 1 and "gitops-reviewer: pass" in str(notes[0]["body"])
        assert [(s["sha"], s["status"]) for s in fake.statuses] == [(head, "success")], result.stderr


def test_publish_calls_the_publisher_with_the_merged_report(
    three_parts: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, paths = three_parts
    published = []
    module = types.ModuleType("reviewer.publish.github")
    module.publish_report_from_environment = lambda report: published.append(report) or ()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "reviewer.publish.github", module)
    result = run("merge", *map(str, paths), "--repo", str(repo), "--publish", "github", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (report,) = published
    assert report == load_report(result.stdout, "stdout")


# --- the partition itself ----------------------------------------------------------------------------------


def _definition(name: str, namespace: str, parent: str | None = None) -> App:
    source = AppSource("https://github.com/acme/config.git", name, "HEAD", None, None, {}, "repo")
    return App(
        name=name,
        namespace="argocd",
        project="default",
        sources=(source,),
        destination=Destination(server="https://kubernetes.default.svc", namespace=namespace),
        sync_policy=SyncPolicy(),
        ignore_differences=(),
        finalizers=(),
        defined_in=None,
        manifest={},
        parent=parent,
    )


def _tree(root: Path, apps: int) -> None:
    """app<i>/ holds (i % 5) * 10 files: apps of different estimated costs."""
    for i in range(apps):
        (root / f"app{i}").mkdir()
        for f in range(i % 5 * 10):
            (root / f"app{i}" / f"{f}.yaml").write_text("{}")


def test_partition_is_balanced_and_deterministic(tmp_path: Path) -> None:
    _tree(tmp_path, 40)
    base = {a.id: a for a in (_definition(f"app{i}", f"ns{i}") for i in range(40))}
    ids = sorted(base)
    result = partition(ids, base, base, tmp_path, tmp_path, Config(), 4)
    shuffled = partition(list(reversed(ids)), dict(reversed(base.items())), base, tmp_path, tmp_path, Config(), 4)
    assert result == shuffled and result.digest == shuffled.digest
    assert sorted(a for share in result.shares for a in share) == ids
    # An app costs 2 x (1 + 2 per repo source + 1 per 10 files): 6 to 14 here. Dealt largest first to
    # the least loaded shard, no shard ends more than one app's cost above another.
    assert sum(result.costs) == sum(2 * (3 + i % 5) for i in range(40))
    assert max(result.costs) - min(result.costs) <= 14


def test_partition_keeps_a_namespace_together(tmp_path: Path) -> None:
    _tree(tmp_path, 40)
    base = {a.id: a for a in (_definition(f"app{i}", f"ns{i % 7}") for i in range(40))}
    result = partition(sorted(base), base, base, tmp_path, tmp_path, Config(), 4)
    for share in result.shares:
        namespaces = {base[a].destination.namespace for a in share}
        others = {base[a].destination.namespace for s in result.shares if s is not share for a in s}
        assert not namespaces & others, "a namespace's apps stay in one shard"


def test_partition_keeps_a_removed_app_with_its_parent_and_splits_an_oversized_namespace(tmp_path: Path) -> None:
    root = _definition("root", "argocd")
    child = _definition("child", "far-away", parent=root.id)
    crowd = {a.id: a for a in (_definition(f"c{i}", "crowded") for i in range(12))}
    base = {root.id: root, child.id: child, **crowd}
    head = {k: v for k, v in base.items() if k != child.id}
    result = partition(sorted(base), base, head, tmp_path, tmp_path, Config(), 3)
    assert result.owner(root.id) == result.owner(child.id)
    assert len({result.owner(a) for a in crowd}) == 3, "a namespace bigger than a fair share is spread"


@pytest.mark.parametrize("text", ["0/4", "5/4", "2", "a/b", "1/0", "1/1001"])
def test_shard_spec_is_checked(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        ShardSpec.parse(text)
    assert str(ShardSpec.parse(" 2 / 4 ")) == "2/4"


def test_parts_are_reports_any_report_reader_can_load(three_parts: tuple[Path, list[Path]]) -> None:
    _, paths = three_parts
    for path in paths:
        report = load_report(path.read_text(), str(path))
        shard = json.loads(path.read_text())["shard"]
        assert {s.app for s in report.apps} == set(shard["assigned"])
        assert yaml.safe_load(path.read_text())["schemaVersion"] == 1
