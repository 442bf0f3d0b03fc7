"""Directory sources (reference §C.1; Argo CD repository.go findManifests, docs/user-guide/directory.md
and jsonnet.md), rendered from a real git repository, Jsonnet with go-jsonnet."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from apps import application, render
from gitrepos import make_repo

from reviewer.records import RenderResult
from reviewer.revision import RevisionView, open_revision


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


TREE = {
    "apps/tree/a.yaml": cm("a"),
    "apps/tree/c.yml": cm("c"),
    "apps/tree/d.json": json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}}),
    "apps/tree/notes.txt": cm("not-a-manifest-extension"),
    "apps/tree/sub/b.yaml": cm("b"),
    "apps/tree/sub/deeper/e.yaml": cm("e"),
    # YAML that is not a Kubernetes manifest is ignored silently.
    "apps/tree/values.yaml": "replicas: 3\nimage: nginx\n",
    "apps/tree/list.yaml": "- one\n- two\n",
    "apps/tree/broken-but-not-a-manifest.yaml": "key: [unclosed\n",
    # The skip marker works for every file type, Jsonnet included.
    "apps/tree/skipped.yaml": "# +argocd:skip-file-rendering\n" + cm("skipped"),
    "apps/tree/skipped.jsonnet": "// +argocd:skip-file-rendering\nthis is not jsonnet\n",
}

FILES = {
    **TREE,
    "argo/flat.yaml": application("flat", "apps/tree"),
    "argo/recurse.yaml": application("recurse", "apps/tree", directory={"recurse": True}),
    "argo/include-star.yaml": application(
        "include-star", "apps/tree", directory={"recurse": True, "include": "*.yaml"}
    ),
    "argo/include-alt.yaml": application(
        "include-alt", "apps/tree", directory={"recurse": True, "include": "{a.yaml,sub/deeper/*}"}
    ),
    "argo/exclude.yaml": application("exclude", "apps/tree", directory={"recurse": True, "exclude": "sub/*"}),
    "argo/include-exclude.yaml": application(
        "include-exclude", "apps/tree", directory={"recurse": True, "include": "*.yaml", "exclude": "*deeper*"}
    ),
    "argo/bad-glob.yaml": application("bad-glob", "apps/tree", directory={"recurse": True, "include": "{a.yaml"}),
    # --- broken input ------------------------------------------------------------------------------
    "argo/broken.yaml": application("broken", "apps/broken"),
    "apps/broken/ok.yaml": cm("fine"),
    "apps/broken/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
    "argo/bad-doc-after-good.yaml": application("bad-doc-after-good", "apps/bad-doc"),
    "apps/bad-doc/multi.yaml": cm("first") + "---\n- not\n- an object\n",
    # The good document is in flow style, so the file has no `metadata:`; Argo CD still fails it,
    # because objects came before the document that does not parse.
    "argo/bad-syntax-after-good.yaml": application("bad-syntax-after-good", "apps/bad-syntax"),
    "apps/bad-syntax/multi.yaml": 'apiVersion: v1\nkind: Namespace\n"metadata": {"name": "ns1"}\n---\nkey: [unclosed\n',
    "argo/json-two.yaml": application("json-two", "apps/json-two"),
    "apps/json-two/two.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}\n'
    '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y"}}\n',
    "argo/json-array.yaml": application("json-array", "apps/json-array"),
    "apps/json-array/list.json": '[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}]\n',
    # --- provenance --------------------------------------------------------------------------------
    "argo/lines.yaml": application("lines", "apps/lines"),
    "apps/lines/all.yaml": "# comment\n" + cm("one") + "---\n" + cm("two") + "---\n---\n" + cm("three"),
    # --- jsonnet -----------------------------------------------------------------------------------
    "argo/jsonnet.yaml": application(
        "jsonnet",
        "apps/jsonnet",
        directory={
            "jsonnet": {
                "extVars": [
                    {"name": "app", "value": "$ARGOCD_APP_NAME"},
                    {"name": "sum", "value": "1 + 2", "code": True},
                ],
                "tlas": [{"name": "replicas", "value": "4", "code": True}, {"name": "env", "value": "prod"}],
                "libs": ["vendor/lib"],
            }
        },
    ),
    "apps/jsonnet/main.jsonnet": (
        "local helpers = import 'helpers.libsonnet';\n"
        "function(replicas, env) [\n"
        "  helpers.cm(std.extVar('app') + '-' + env, { replicas: std.toString(replicas * 2),"
        " sum: std.toString(std.extVar('sum')), kind: std.type(replicas) }),\n"
        "  helpers.cm('second', {}),\n"
        "]\n"
    ),
    "apps/jsonnet/single.jsonnet": "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'single' } }\n",
    "vendor/lib/helpers.libsonnet": (
        "{ cm(name, data):: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name }, data: data } }\n"
    ),
    "argo/jsonnet-error.yaml": application("jsonnet-error", "apps/jsonnet-error"),
    "apps/jsonnet-error/bad.jsonnet": "{ a: error 'boom from jsonnet' }\n",
    # --- symlinks ----------------------------------------------------------------------------------
    "argo/symlinks.yaml": application("symlinks", "apps/symlinks"),
    "apps/real/target.yaml": cm("through-symlink"),
    "argo/symlink-out.yaml": application("symlink-out", "apps/symlink-out"),
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("directory")
    outside = base / "outside.yaml"
    outside.write_text(cm("outside"))
    path = base / "repo"
    (path / "apps/symlinks").mkdir(parents=True)
    os.symlink("../real/target.yaml", path / "apps/symlinks/link.yaml")
    (path / "apps/symlink-out").mkdir(parents=True)
    os.symlink(str(outside), path / "apps/symlink-out/escape.yaml")
    return make_repo(path, FILES)


@pytest.fixture(scope="module")
def view(repo: Path) -> Iterator[RevisionView]:
    with open_revision(repo, "HEAD") as opened:
        yield opened


def names(result: RenderResult) -> list[str]:
    return sorted(r.key.name for r in result.resources)


def failure(result: RenderResult) -> str:
    assert result.resources == ()
    assert len(result.errors) == 1, result.errors
    return str(result.errors[0])


def test_only_the_path_root_without_recurse(view: RevisionView) -> None:
    # .yaml, .yml and .json files of the root; notes.txt, non-manifest YAML and skipped files are not.
    result = render(view, "flat")
    assert result.errors == ()
    assert result.warnings == ()
    assert names(result) == ["a", "c", "d"]


def test_recurse_walks_subdirectories(view: RevisionView) -> None:
    result = render(view, "recurse")
    assert result.errors == ()
    assert names(result) == ["a", "b", "c", "d", "e"]


def test_include_star_crosses_directories(view: RevisionView) -> None:
    # gobwas/glob without separators: `*.yaml` matches sub/b.yaml and sub/deeper/e.yaml too.
    assert names(render(view, "include-star")) == ["a", "b", "e"]


def test_include_alternation(view: RevisionView) -> None:
    assert names(render(view, "include-alt")) == ["a", "e"]


def test_exclude(view: RevisionView) -> None:
    # `sub/*` excludes everything below sub/, nested directories included.
    assert names(render(view, "exclude")) == ["a", "c", "d"]


def test_exclude_is_applied_with_include(view: RevisionView) -> None:
    assert names(render(view, "include-exclude")) == ["a", "b"]


def test_an_include_that_does_not_compile_matches_nothing(view: RevisionView) -> None:
    # util/glob/glob.go: a pattern error is logged and Match returns false, so nothing is included.
    result = render(view, "bad-glob")
    assert result.errors == ()
    assert result.resources == ()


def test_broken_manifest_names_the_file(view: RevisionView) -> None:
    message = failure(render(view, "broken"))
    assert "apps/broken/bad.yaml" in message


def test_a_bad_document_after_good_ones_fails_the_file(view: RevisionView) -> None:
    message = failure(render(view, "bad-doc-after-good"))
    assert "apps/bad-doc/multi.yaml" in message


def test_a_syntax_error_after_good_documents_fails_the_file(view: RevisionView) -> None:
    message = failure(render(view, "bad-syntax-after-good"))
    assert "apps/bad-syntax/multi.yaml" in message


def test_a_json_file_holds_one_object(view: RevisionView) -> None:
    assert "apps/json-two/two.json" in failure(render(view, "json-two"))
    assert "apps/json-array/list.json" in failure(render(view, "json-array"))


def test_file_and_line_provenance(view: RevisionView) -> None:
    result = render(view, "lines")
    assert result.errors == ()
    where = {r.key.name: (r.location.file, r.location.line) for r in result.resources if r.location}
    # Each document's first line: after the comment, after each `---` (the empty document skipped).
    assert where == {
        "one": ("apps/lines/all.yaml", 2),
        "two": ("apps/lines/all.yaml", 9),
        "three": ("apps/lines/all.yaml", 17),
    }
    assert {r.key.namespace for r in result.resources} == {"demo"}


def test_jsonnet_ext_vars_tlas_and_libs(view: RevisionView) -> None:
    result = render(view, "jsonnet")
    assert result.errors == ()
    by_name = {r.key.name: r for r in result.resources}
    assert sorted(by_name) == ["jsonnet-prod", "second", "single"]
    # extVar `app` is env-substituted; `sum` and `replicas` are code (a number), `env` a string.
    assert by_name["jsonnet-prod"].body["data"] == {"replicas": "8", "sum": "3", "kind": "number"}
    assert by_name["jsonnet-prod"].location is not None
    assert by_name["jsonnet-prod"].location.file == "apps/jsonnet/main.jsonnet"


def test_jsonnet_error_is_reported_with_the_file(view: RevisionView) -> None:
    message = failure(render(view, "jsonnet-error"))
    assert "apps/jsonnet-error/bad.jsonnet" in message
    assert "boom from jsonnet" in message


def test_symlink_inside_the_repository_is_followed(view: RevisionView) -> None:
    result = render(view, "symlinks")
    assert result.errors == ()
    assert names(result) == ["through-symlink"]


def test_symlink_leaving_the_repository_is_an_error(view: RevisionView) -> None:
    # The link is removed when the revision is materialised; the app that contained it is refused.
    message = failure(render(view, "symlink-out"))
    assert "out-of-bounds symlink" in message
    assert "apps/symlink-out/escape.yaml" in message


def test_a_slow_jsonnet_evaluation_times_out(tmp_path: Path) -> None:
    files = {
        ".gitops-reviewer.yaml": "render:\n  timeout: 0.05\n",
        "apps/slow/slow.jsonnet": "{n: std.foldl(function(a, b) a + b, std.range(1, 2000000), 0)}\n",
        "argo/slow.yaml": application("slow", "apps/slow"),
    }
    with open_revision(make_repo(tmp_path / "repo", files), "HEAD") as view:
        result = render(view, "slow")
    assert result.resources == ()
    assert "jsonnet apps/slow/slow.jsonnet timed out after 0.05 s" in result.errors[0].message


def test_disable_extension_filter_reads_every_file(tmp_path: Path) -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-txt\n"
    files = {
        "apps/txt/manifest.txt": cm,
        "apps/txt/README.md": "# notes, not a manifest\n",
        "argo/filtered.yaml": application("filtered", "apps/txt"),
        "argo/unfiltered.yaml": application("unfiltered", "apps/txt", directory={"disableExtensionFilter": True}),
    }
    with open_revision(make_repo(tmp_path / "repo", files), "HEAD") as view:
        assert render(view, "filtered").resources == ()
        unfiltered = render(view, "unfiltered")
    assert unfiltered.ok
    assert [r.key.name for r in unfiltered.resources] == ["from-txt"]
