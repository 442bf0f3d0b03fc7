"""Helm sources (reference §C.3; Argo CD helmTemplate, util/helm/cmd.go and docs/user-guide/helm.md),
rendered with the in-process Helm SDK from a real git repository, and charts pulled from a chart
repository served on 127.0.0.1 (tests/fakes/chart_repo.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from apps import REPO, application, render
from fakes.chart_repo import ChartRepo, chart_repo
from gitrepos import make_repo

from reviewer.records import RenderResult, Resource
from reviewer.rendering import render_app
from reviewer.revision import RevisionView, open_revision


def helm_app(name: str, path: str = "charts/web", **helm: Any) -> str:
    return application(name, path, helm=helm) if helm else application(name, path)


# The chart reports what it was given: release, namespace, cluster facts and the merged values.
WEB = {
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "charts/web/values.yaml": "msg: chart-default\nfromChart: kept\n",
    "charts/web/values-a.yaml": "msg: from-a\nonlyA: a\n",
    "charts/web/values-b.yaml": "msg: from-b\nonlyB: b\n",
    "charts/web/envs/00-base.yaml": "msg: base\nbase: true\n",
    "charts/web/envs/zz-top.yaml": "msg: zz-top\n",
    "charts/web/envs/nested/05-nested.yaml": "msg: nested\n",
    "charts/web/files/cert.pem": "-----BEGIN CERTIFICATE-----\nabc\n",
    "charts/web/templates/cm.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  release: {{ .Release.Name | quote }}
  namespace: {{ .Release.Namespace | quote }}
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  monitoring: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}
  values: {{ toJson .Values | quote }}
""",
    "charts/web/templates/hook.yaml": """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-install
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: busybox}]
""",
    "charts/web/templates/tests/test-connection.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
spec:
  containers: [{name: test, image: busybox}]
""",
    "charts/web/templates/NOTES.txt": "Thanks for installing {{ .Release.Name }}.\n",
    "charts/web/templates/_helpers.tpl": '{{- define "web.name" -}}web{{- end -}}\n',
    "charts/web/crds/widget.yaml": """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
""",
    "charts/web/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.2.0\n",
    "charts/web/charts/sub/templates/svc.yaml": (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-sub\nspec:\n  ports: [{port: 80}]\n"
    ),
}

OTHER_CHARTS = {
    "charts/strict/Chart.yaml": "apiVersion: v2\nname: strict\nversion: 0.1.0\n",
    "charts/strict/values.yaml": "port: 80\n",
    "charts/strict/values.schema.json": json.dumps(
        {"type": "object", "required": ["port"], "properties": {"port": {"type": "integer"}}}
    ),
    "charts/strict/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\ndata:\n  port: {{ .Values.port | quote }}\n"
    ),
    "charts/broken/Chart.yaml": "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
    "charts/broken/templates/cm.yaml": '{{ fail "boom: the chart refuses these values" }}\n',
    "charts/deps/Chart.yaml": (
        "apiVersion: v2\nname: deps\nversion: 0.1.0\ndependencies:\n"
        "- name: redis\n  version: 18.0.0\n  repository: https://charts.example.com\n"
    ),
    "charts/deps/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deps\n",
    "env/prod-values.yaml": "msg: from-ref-source\n",
    "env/more/extra.yaml": "fromRefGlob: yes\n",
}

APPS = {
    "defaults": helm_app("defaults"),
    "release-name": helm_app("release-name", releaseName="custom"),
    "helm-namespace": helm_app("helm-namespace", namespace="other"),
    "files-ab": helm_app("files-ab", valueFiles=["values-a.yaml", "values-b.yaml"]),
    "files-ba": helm_app("files-ba", valueFiles=["values-b.yaml", "values-a.yaml"]),
    "glob": helm_app("glob", valueFiles=["envs/*.yaml"]),
    "glob-recursive": helm_app("glob-recursive", valueFiles=["envs/**/*.yaml"]),
    "glob-pinned": helm_app("glob-pinned", valueFiles=["envs/*.yaml", "envs/00-base.yaml"]),
    "glob-root": helm_app("glob-root", valueFiles=["/env/*.yaml"]),
    "glob-none": helm_app("glob-none", valueFiles=["nothing/*.yaml"]),
    "glob-none-ignored": helm_app("glob-none-ignored", valueFiles=["nothing/*.yaml"], ignoreMissingValueFiles=True),
    "glob-outside": helm_app("glob-outside", valueFiles=["../../../*.yaml"]),
    "missing-file": helm_app("missing-file", valueFiles=["values-a.yaml", "missing.yaml"]),
    "missing-ignored": helm_app(
        "missing-ignored", valueFiles=["values-a.yaml", "missing.yaml"], ignoreMissingValueFiles=True
    ),
    "values-string": helm_app("values-string", valueFiles=["values-a.yaml"], values="msg: from-values\n"),
    "values-object": helm_app(
        "values-object", values="msg: from-values\nonlyInValues: x\n", valuesObject={"msg": "from-values-object"}
    ),
    "parameters": helm_app(
        "parameters",
        valuesObject={"msg": "from-values-object"},
        parameters=[
            {"name": "msg", "value": "from-parameter"},
            {"name": "flag", "value": "true"},
            {"name": "flagString", "value": "true", "forceString": True},
            {"name": "comma", "value": "a,b"},
            {"name": "escaped", "value": "c\\,d"},
            {"name": "list", "value": "{x,y}"},
        ],
    ),
    "file-parameters": helm_app("file-parameters", fileParameters=[{"name": "cert", "path": "files/cert.pem"}]),
    "skip-crds": helm_app("skip-crds", skipCrds=True),
    "skip-tests": helm_app("skip-tests", skipTests=True),
    "capabilities": helm_app("capabilities", kubeVersion="1.29.0", apiVersions=["monitoring.coreos.com/v1"]),
    "strict": helm_app("strict", "charts/strict", parameters=[{"name": "port", "value": "http", "forceString": True}]),
    "strict-skip": helm_app(
        "strict-skip",
        "charts/strict",
        skipSchemaValidation=True,
        parameters=[{"name": "port", "value": "http", "forceString": True}],
    ),
    "broken": helm_app("broken", "charts/broken"),
    "deps": helm_app("deps", "charts/deps"),
    "ref": application(
        "ref",
        sources=[
            {
                "repoURL": REPO,
                "path": "charts/web",
                "targetRevision": "HEAD",
                "helm": {"valueFiles": ["$values/env/prod-values.yaml", "$values/env/more/*.yaml"]},
            },
            {"repoURL": REPO, "targetRevision": "HEAD", "ref": "values"},
        ],
    ),
    "ref-external": application(
        "ref-external",
        sources=[
            {
                "repoURL": REPO,
                "path": "charts/web",
                "targetRevision": "HEAD",
                "helm": {"valueFiles": ["$values/env/prod-values.yaml"]},
            },
            {"repoURL": "https://github.com/acme/other-values.git", "targetRevision": "HEAD", "ref": "values"},
        ],
    ),
}

FILES = {**WEB, **OTHER_CHARTS, **{f"argo/{name}.yaml": text for name, text in APPS.items()}}


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RevisionView]:
    repo = make_repo(tmp_path_factory.mktemp("helm") / "repo", FILES)
    with open_revision(repo, "HEAD") as opened:
        yield opened


def ok(view: RevisionView, name: str) -> RenderResult:
    result = render(view, name)
    assert result.errors == (), [str(e) for e in result.errors]
    assert result.source_types == ("helm",)
    return result


def config(result: RenderResult) -> Resource:
    found = [r for r in result.resources if r.key.kind == "ConfigMap"]
    assert len(found) == 1, [str(r.key) for r in result.resources]
    return found[0]


def values(result: RenderResult) -> dict[str, Any]:
    """The chart's merged values, without what Helm coalesces in for the subchart (`sub`, `global`)."""
    data = json.loads(config(result).body["data"]["values"])
    assert isinstance(data, dict)
    return {k: v for k, v in data.items() if k not in ("sub", "global")}


def failure(result: RenderResult) -> str:
    assert result.resources == ()
    assert len(result.errors) == 1, result.errors
    return str(result.errors[0])


# --- release, namespace, values ----------------------------------------------------------------------


def test_release_name_defaults_to_the_app_name(view: RevisionView) -> None:
    result = ok(view, "defaults")
    cm = config(result)
    assert cm.key.name == "defaults-config"
    assert cm.body["data"]["release"] == "defaults"
    assert values(result) == {"msg": "chart-default", "fromChart": "kept"}


def test_release_name_override(view: RevisionView) -> None:
    cm = config(ok(view, "release-name"))
    assert cm.key.name == "custom-config"
    assert cm.body["data"]["release"] == "custom"


def test_namespace_is_the_destination_unless_helm_namespace_is_set(view: RevisionView) -> None:
    assert config(ok(view, "defaults")).body["data"]["namespace"] == "demo"
    cm = config(ok(view, "helm-namespace"))
    assert cm.body["data"]["namespace"] == "other"  # .Release.Namespace
    # The chart does not template metadata.namespace: the destination namespace fills it.
    assert cm.key.namespace == "demo"


def test_value_files_later_wins(view: RevisionView) -> None:
    assert values(ok(view, "files-ab")) == {"msg": "from-b", "onlyA": "a", "onlyB": "b", "fromChart": "kept"}
    assert values(ok(view, "files-ba"))["msg"] == "from-a"


def test_value_file_glob_expands_lexically(view: RevisionView) -> None:
    assert values(ok(view, "glob"))["msg"] == "zz-top"


def test_recursive_glob_takes_a_directory_files_before_its_subdirectories(view: RevisionView) -> None:
    # envs/00-base.yaml, envs/zz-top.yaml, then envs/nested/05-nested.yaml: the nested file is last.
    result = values(ok(view, "glob-recursive"))
    assert result["msg"] == "nested"
    assert result["base"] is True


def test_an_explicit_entry_takes_its_position_over_a_glob_match(view: RevisionView) -> None:
    assert values(ok(view, "glob-pinned"))["msg"] == "base"


def test_a_leading_slash_is_the_repository_root(view: RevisionView) -> None:
    assert values(ok(view, "glob-root"))["msg"] == "from-ref-source"


def test_a_glob_matching_nothing_is_an_error_unless_ignored(view: RevisionView) -> None:
    # The ComparisonError text of docs/user-guide/helm.md "No-match behavior".
    assert 'values file glob "nothing/*.yaml" matched no files' in failure(render(view, "glob-none"))
    assert values(ok(view, "glob-none-ignored"))["msg"] == "chart-default"


def test_a_glob_cannot_leave_the_repository(view: RevisionView) -> None:
    assert "outside the repository" in failure(render(view, "glob-outside"))


def test_a_missing_value_file_is_an_error_unless_ignored(view: RevisionView) -> None:
    assert "missing.yaml" in failure(render(view, "missing-file"))
    assert values(ok(view, "missing-ignored"))["msg"] == "from-a"


def test_values_string_beats_value_files(view: RevisionView) -> None:
    assert values(ok(view, "values-string")) == {"msg": "from-values", "onlyA": "a", "fromChart": "kept"}


def test_values_object_wins_and_values_is_ignored(view: RevisionView) -> None:
    # "valuesObject trumps values - therefore values will be ignored" (helm.md "Helm Value Precedence").
    assert values(ok(view, "values-object")) == {"msg": "from-values-object", "fromChart": "kept"}


def test_parameters_win_force_string_and_comma_escaping(view: RevisionView) -> None:
    got = values(ok(view, "parameters"))
    assert got["msg"] == "from-parameter"
    assert got["flag"] is True
    assert got["flagString"] == "true"
    assert got["comma"] == "a,b"  # Argo CD escapes the comma for --set
    assert got["escaped"] == "c,d"  # an already escaped comma is not escaped twice
    assert got["list"] == ["x", "y"]  # `{...}` is a Helm list and is left alone


def test_file_parameters(view: RevisionView) -> None:
    assert values(ok(view, "file-parameters"))["cert"] == "-----BEGIN CERTIFICATE-----\nabc\n"


def test_ref_source_value_files(view: RevisionView) -> None:
    result = render(view, "ref")
    assert result.errors == (), [str(e) for e in result.errors]
    assert result.source_types == ("helm", "ref")
    got = values(result)
    assert got["msg"] == "from-ref-source"
    assert got["fromRefGlob"] is True


def test_a_ref_to_another_repository_is_not_read_from_this_one(view: RevisionView) -> None:
    # env/prod-values.yaml exists here too, but `$values` is another repository.
    result = render(view, "ref-external")
    assert result.resources == ()
    assert any("$values/env/prod-values.yaml" in str(e) for e in result.errors)


# --- chart contents -------------------------------------------------------------------------------------


def test_crds_are_included_unless_skip_crds(view: RevisionView) -> None:
    crd = [r for r in ok(view, "defaults").resources if r.key.kind == "CustomResourceDefinition"]
    assert [r.key.name for r in crd] == ["widgets.example.com"]
    assert crd[0].location is not None and crd[0].location.file == "charts/web/crds/widget.yaml"
    assert not [r for r in ok(view, "skip-crds").resources if r.key.kind == "CustomResourceDefinition"]


def test_test_hooks_are_ignored_with_a_warning_or_skipped(view: RevisionView) -> None:
    result = ok(view, "defaults")
    everything = [r.key.name for r in (*result.resources, *result.hooks)]
    assert "defaults-test" not in everything
    assert any("defaults-test" in w for w in result.warnings)
    skipped = ok(view, "skip-tests")
    assert "skip-tests-test" not in [r.key.name for r in (*skipped.resources, *skipped.hooks)]
    assert not any("skip-tests-test" in w for w in skipped.warnings)


def test_kube_version_and_api_versions(view: RevisionView) -> None:
    default = config(ok(view, "defaults")).body["data"]
    assert default["kube"] == "v1.33.0"  # .gitops-reviewer.yaml's default cluster version
    assert default["monitoring"] == "false"
    given = config(ok(view, "capabilities")).body["data"]
    assert given["kube"] == "v1.29.0"
    assert given["monitoring"] == "true"


def test_vendored_subchart_renders_with_provenance(view: RevisionView) -> None:
    result = ok(view, "defaults")
    (service,) = [r for r in result.resources if r.key.kind == "Service"]
    assert str(service.key) == "Service demo/defaults-sub"
    assert service.location is not None
    assert service.location.file == "charts/web/charts/sub/templates/svc.yaml"
    location = config(result).location
    assert location is not None and location.file == "charts/web/templates/cm.yaml"


def test_helm_hooks_are_kept_apart(view: RevisionView) -> None:
    result = ok(view, "defaults")
    assert "defaults-migrate" not in [r.key.name for r in result.resources]
    (hook,) = result.hooks
    assert str(hook.key) == "batch/Job demo/defaults-migrate"
    assert hook.hook_phases == ("PreSync",)


def test_notes_and_helpers_are_not_resources(view: RevisionView) -> None:
    result = ok(view, "defaults")
    files = {r.location.file for r in (*result.resources, *result.hooks) if r.location}
    assert not any(f.endswith(("NOTES.txt", "_helpers.tpl")) for f in files)


def test_schema_validation_and_skip_schema_validation(view: RevisionView) -> None:
    assert "port" in failure(render(view, "strict"))
    assert config(ok(view, "strict-skip")).body["data"]["port"] == "http"


def test_template_error_is_a_per_app_error(view: RevisionView) -> None:
    result = render(view, "broken")
    assert result.resources == ()
    (error,) = result.errors
    assert error.command.startswith("helm template charts/broken --name-template broken")
    assert "boom: the chart refuses these values" in error.stderr


def test_missing_dependency_fails_closed(view: RevisionView) -> None:
    message = failure(render(view, "deps"))
    assert "redis" in message
    assert "charts/deps" in message


# --- charts from a chart repository ---------------------------------------------------------------------


def remote_chart(directory: Path, version: str, marker: str) -> Path:
    chart = directory / f"demo-{version}"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: demo\nversion: {version}\n")
    (chart / "values.yaml").write_text("greeting: hello\n")
    (chart / "values-prod.yaml").write_text("greeting: hello-prod\n")
    (chart / "templates/cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\n"
        f"data:\n  version: {marker}\n  greeting: {{{{ .Values.greeting }}}}\n"
    )
    return chart


def chart_app(name: str, url: str, version: str, **helm: Any) -> str:
    source: dict[str, Any] = {"repoURL": url, "chart": "demo", "targetRevision": version}
    if helm:
        source["helm"] = helm
    return yaml.safe_dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": {
                "project": "default",
                "source": source,
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "demo"},
            },
        }
    )


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ChartRepo, Path]]:
    base = tmp_path_factory.mktemp("chart-repo")
    with chart_repo(base / "served") as served:
        served.publish(remote_chart(base / "src", "1.2.3", "one"))
        served.publish(remote_chart(base / "src", "2.0.0", "two"))
        files = {
            ".gitops-reviewer.yaml": f"render:\n  chartCache: {base / 'cache'}\n",
            "argo/pulled.yaml": chart_app("pulled", served.url, "1.2.3"),
            "argo/pulled-values.yaml": chart_app("pulled-values", served.url, "2.0.0", valueFiles=["values-prod.yaml"]),
            "argo/unknown-version.yaml": chart_app("unknown-version", served.url, "9.9.9"),
        }
        yield served, make_repo(base / "repo", files)


def test_chart_is_pulled_by_version_rendered_and_cached(charts: tuple[ChartRepo, Path]) -> None:
    served, repo = charts
    served.reset()
    with open_revision(repo, "HEAD", offline=False) as view:
        app = view.find("pulled")
        first = render_app(app, view.ctx)
        assert first.errors == (), [str(e) for e in first.errors]
        assert first.source_types == ("helm",)
        cm = config(first)
        assert str(cm.key) == "ConfigMap demo/pulled-demo"
        assert cm.body["data"] == {"version": "one", "greeting": "hello"}
        assert cm.location is not None and "templates/cm.yaml" in cm.location.file
        # Discovery renders chart apps too (a pulled chart may generate Applications): with the cache,
        # this version was downloaded once for discovery and the render together.
        assert served.requests.count("/demo-1.2.3.tgz") == 1
        served.reset()
        second = render_app(app, view.ctx)
        assert second.errors == ()
        assert config(second).body == cm.body
        assert served.requests == []


def test_value_files_of_a_pulled_chart_are_relative_to_the_chart(charts: tuple[ChartRepo, Path]) -> None:
    _, repo = charts
    with open_revision(repo, "HEAD", offline=False) as view:
        result = render(view, "pulled-values")
    assert result.errors == (), [str(e) for e in result.errors]
    assert config(result).body["data"] == {"version": "two", "greeting": "hello-prod"}


def test_an_unknown_chart_version_is_a_clear_error(charts: tuple[ChartRepo, Path]) -> None:
    _, repo = charts
    with open_revision(repo, "HEAD", offline=False) as view:
        message = failure(render(view, "unknown-version"))
    assert "demo" in message and "9.9.9" in message


def test_offline_refuses_to_pull_without_any_request(charts: tuple[ChartRepo, Path]) -> None:
    served, repo = charts
    served.reset()
    with open_revision(repo, "HEAD", offline=True) as view:
        message = failure(render(view, "pulled"))
    assert "offline" in message
    assert served.requests == []


def test_a_chart_with_a_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    import os

    from gitrepos import git

    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0\n")
    files = {
        "charts/leak/Chart.yaml": "apiVersion: v2\nname: leak\nversion: 0.1.0\n",
        "charts/leak/templates/cm.yaml": (
            'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  x: {{ .Files.Get "files/x" | quote }}\n'
        ),
        "argo/leak.yaml": application("leak", "charts/leak"),
    }
    repo = make_repo(tmp_path / "repo", files)
    (repo / "charts/leak/files").mkdir()
    os.symlink(str(secret), repo / "charts/leak/files/x")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    with open_revision(repo, "HEAD") as view:
        result = render(view, "leak")
    assert result.resources == ()
    assert "out-of-bounds symlink" in result.errors[0].message
    assert "root:x" not in str(result)
