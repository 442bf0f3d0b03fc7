"""What Argo CD's repo-server does before any tool runs (reference §C.0): source-type detection,
`.argocd-source*.yaml` parameter overrides, and build-environment substitution.

Each app renders from a real git repository with the real tools (kubectl kustomize, the Helm SDK).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest
import yaml
from apps import application, render
from gitrepos import git, make_repo

from reviewer import trees
from reviewer.errors import RenderFailure
from reviewer.records import AppSource, RenderResult, Resource
from reviewer.rendering.source import BuildEnv, detect_type, resolve_path
from reviewer.revision import RevisionView, open_revision


def configmap(name: str, **data: str) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})


CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"
CHART_VALUES = "msg: default\nrelease_tag: none\n"
CHART_CM = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-values\n"
    "data:\n  msg: {{ .Values.msg | quote }}\n  tag: {{ .Values.release_tag | quote }}\n"
)
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.0
"""

FILES = {
    # --- detection -----------------------------------------------------------------------------
    "argo/detect-helm.yaml": application("detect-helm", "apps/chart"),
    "apps/chart/Chart.yaml": CHART,
    "apps/chart/values.yaml": CHART_VALUES,
    "apps/chart/templates/cm.yaml": CHART_CM,
    "argo/detect-kustomize.yaml": application("detect-kustomize", "apps/kust"),
    "apps/kust/kustomization.yaml": "resources: [cm.yaml]\n",
    "apps/kust/cm.yaml": configmap("from-kustomize"),
    "argo/detect-kustomize-yml.yaml": application("detect-kustomize-yml", "apps/kust-yml"),
    "apps/kust-yml/kustomization.yml": "resources: [cm.yaml]\n",
    "apps/kust-yml/cm.yaml": configmap("from-kustomization-yml"),
    "argo/detect-kustomize-capital.yaml": application("detect-kustomize-capital", "apps/kust-capital"),
    "apps/kust-capital/Kustomization": "resources: [cm.yaml]\n",
    "apps/kust-capital/cm.yaml": configmap("from-capital-kustomization"),
    "argo/detect-both.yaml": application("detect-both", "apps/both"),
    "apps/both/Chart.yaml": CHART,
    "apps/both/kustomization.yaml": "resources: [cm.yaml]\n",
    "apps/both/cm.yaml": configmap("from-kustomize"),
    "apps/both/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-helm\n",
    # discovery.go: the last match in walk order decides, and `prod-Chart.yaml` sorts after `kustomization.yaml`.
    "argo/detect-late-chart.yaml": application("detect-late-chart", "apps/late-chart"),
    "apps/late-chart/kustomization.yaml": "resources: [cm.yaml]\n",
    "apps/late-chart/cm.yaml": configmap("from-kustomize"),
    "apps/late-chart/prod-Chart.yaml": CHART,
    "argo/detect-directory.yaml": application("detect-directory", "apps/plain"),
    "apps/plain/cm.yaml": configmap("plain"),
    "argo/explicit-directory.yaml": application(
        "explicit-directory", "apps/chart-as-dir", directory={"include": "*.yaml"}
    ),
    # Argo CD drops tool blocks with nothing set (NormalizeApplicationSpec): this one is discovered.
    "argo/zero-directory.yaml": application("zero-directory", "apps/chart-as-dir", directory={"recurse": False}),
    "apps/chart-as-dir/Chart.yaml": CHART,
    "apps/chart-as-dir/cm.yaml": configmap("plain-file-next-to-chart"),
    "apps/chart-as-dir/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-template\n",
    "argo/two-blocks.yaml": application(
        "two-blocks", "apps/kust", kustomize={"namePrefix": "x-"}, helm={"releaseName": "r"}
    ),
    "argo/outside.yaml": application("outside", "../elsewhere"),
    "argo/missing-path.yaml": application("missing-path", "apps/does-not-exist"),
    # --- parameter overrides -------------------------------------------------------------------
    "argo/override-k.yaml": application("override-k", "apps/override-k"),
    "argo/override-k-other.yaml": application("override-k-other", "apps/override-k"),
    "apps/override-k/kustomization.yaml": "resources: [deploy.yaml]\n",
    "apps/override-k/deploy.yaml": DEPLOY,
    "apps/override-k/.argocd-source.yaml": "kustomize:\n  images: [nginx:1.26]\n",
    "apps/override-k/.argocd-source-override-k.yaml": "kustomize:\n  images: [nginx:1.27]\npath: apps/elsewhere\n",
    "argo/override-h.yaml": application(
        "override-h", "apps/override-h", helm={"parameters": [{"name": "msg", "value": "from-app"}]}
    ),
    "apps/override-h/Chart.yaml": CHART,
    "apps/override-h/values.yaml": CHART_VALUES,
    "apps/override-h/templates/cm.yaml": CHART_CM,
    "apps/override-h/.argocd-source-override-h.yaml": (
        "helm:\n  parameters:\n  - name: msg\n    value: from-override-file\n"
    ),
    # --- build environment ---------------------------------------------------------------------
    "argo/env-helm.yaml": application(
        "env-helm",
        "apps/env-chart",
        namespace="env-ns",
        helm={
            "valueFiles": ["values-$ARGOCD_APP_NAME.yaml"],
            "parameters": [
                {"name": "name", "value": "$ARGOCD_APP_NAME"},
                {"name": "ns", "value": "${ARGOCD_APP_NAMESPACE}"},
                {"name": "rev", "value": "$ARGOCD_APP_REVISION"},
                {"name": "short", "value": "$ARGOCD_APP_REVISION_SHORT"},
                {"name": "path", "value": "$ARGOCD_APP_SOURCE_PATH"},
                {"name": "literal", "value": "$$ARGOCD_APP_NAME"},
            ],
        },
    ),
    "apps/env-chart/Chart.yaml": CHART,
    "apps/env-chart/values-env-helm.yaml": "fromfile: picked-by-app-name\n",
    "apps/env-chart/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: env\ndata:\n"
        "{{- range $k, $v := .Values }}\n  {{ $k }}: {{ $v | quote }}\n{{- end }}\n"
    ),
    "argo/env-kustomize.yaml": application(
        "env-kustomize",
        "apps/env-kust",
        namespace="env-ns",
        kustomize={
            "images": ["nginx:$ARGOCD_APP_REVISION_SHORT"],
            "commonLabels": {"app-name": "$ARGOCD_APP_NAME"},
            "commonAnnotations": {"revision": "$ARGOCD_APP_REVISION_SHORT"},
        },
    ),
    "argo/env-kustomize-annotations.yaml": application(
        "env-kustomize-annotations",
        "apps/env-kust",
        kustomize={"commonAnnotations": {"revision": "$ARGOCD_APP_REVISION_SHORT"}, "commonAnnotationsEnvsubst": True},
    ),
    "apps/env-kust/kustomization.yaml": "resources: [deploy.yaml]\n",
    "apps/env-kust/deploy.yaml": DEPLOY,
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = make_repo(tmp_path_factory.mktemp("source") / "repo", FILES)
    # Helm's --set reads an all-digit value as a number (strvals), as Argo CD's own renders would: the
    # tests below compare the short SHA as a string, so they need one with a letter in it.
    message = 0
    while git(path, "rev-parse", "--short=7", "HEAD").strip().isdigit():
        message += 1
        git(path, "commit", "-q", "--amend", "-m", f"initial {message}")
    return path


@pytest.fixture(scope="module")
def view(repo: Path) -> Iterator[RevisionView]:
    with open_revision(repo, "HEAD") as opened:
        yield opened


def names(result: RenderResult) -> list[str]:
    return sorted(r.key.name for r in result.resources)


def only(result: RenderResult, kind: str) -> Resource:
    found = [r for r in result.resources if r.key.kind == kind]
    assert len(found) == 1, (kind, [str(r.key) for r in result.resources], result.errors)
    return found[0]


def image(result: RenderResult) -> str:
    body = only(result, "Deployment").body
    return str(body["spec"]["template"]["spec"]["containers"][0]["image"])


# --- detection ------------------------------------------------------------------------------------


def test_chart_yaml_means_helm(view: RevisionView) -> None:
    result = render(view, "detect-helm")
    assert result.errors == ()
    assert result.source_types == ("helm",)
    assert only(result, "ConfigMap").body["data"] == {"msg": "default", "tag": "none"}


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        ("detect-kustomize", "from-kustomize"),
        ("detect-kustomize-yml", "from-kustomization-yml"),
        ("detect-kustomize-capital", "from-capital-kustomization"),
    ],
)
def test_any_kustomization_file_name_means_kustomize(view: RevisionView, app: str, expected: str) -> None:
    # util/kustomize KustomizationNames: kustomization.yaml, kustomization.yml, Kustomization.
    result = render(view, app)
    assert result.errors == ()
    assert result.source_types == ("kustomize",)
    assert names(result) == [expected]


def test_kustomize_wins_over_chart_yaml(view: RevisionView) -> None:
    result = render(view, "detect-both")
    assert result.source_types == ("kustomize",)
    assert names(result) == ["from-kustomize"]


def test_the_last_detection_file_in_walk_order_decides(view: RevisionView) -> None:
    # A `*Chart.yaml` file after the kustomization makes the source Helm; there is no Chart.yaml to render.
    result = render(view, "detect-late-chart")
    assert result.resources == ()
    assert "Chart.yaml" in result.errors[0].message


def test_plain_files_mean_directory(view: RevisionView) -> None:
    result = render(view, "detect-directory")
    assert result.source_types == ("directory",)
    assert names(result) == ["plain"]


def test_an_explicit_block_wins_over_discovery(view: RevisionView) -> None:
    # `directory: {include: ...}` on a chart directory: plain files of the path root, templates not rendered.
    result = render(view, "explicit-directory")
    assert result.errors == ()
    assert result.source_types == ("directory",)
    assert names(result) == ["plain-file-next-to-chart"]


def test_a_tool_block_with_nothing_set_does_not_make_the_type_explicit(view: RevisionView) -> None:
    result = render(view, "zero-directory")
    assert result.errors == ()
    assert result.source_types == ("helm",)


def test_two_explicit_blocks_are_an_error(view: RevisionView) -> None:
    result = render(view, "two-blocks")
    assert result.resources == ()
    assert len(result.errors) == 1
    assert "multiple application sources defined" in result.errors[0].message


def test_a_path_leaving_the_repository_is_refused(view: RevisionView) -> None:
    result = render(view, "outside")
    assert result.resources == ()
    assert "outside the repository" in result.errors[0].message


def test_a_missing_app_path_is_an_error(view: RevisionView) -> None:
    result = render(view, "missing-path")
    assert result.resources == ()
    assert "apps/does-not-exist" in result.errors[0].message


def test_types_remembered_by_directory_are_the_types_detected_afresh(view: RevisionView) -> None:
    # Discovery asks once per directory; an explicit block still wins for the app that has one (the
    # chart directory `explicit-directory` shares with `detect-helm`-like apps is asked about both ways).
    def detected(source: AppSource, listed: dict[str, str] | None) -> str:
        try:
            return detect_type(source, resolve_path(view.ctx.root, source.path), listed)
        except RenderFailure as exc:
            return f"error: {exc}"

    sources = [s for app in view.discovery.apps for s in app.sources if s.origin == "repo"]
    explicit = next(s for s in sources if s.explicit_types == ("directory",))
    sources += [replace(explicit, spec={k: v for k, v in explicit.spec.items() if k != "directory"})]
    afresh = [detected(s, None) for s in sources]
    listed: dict[str, str] = {}
    for _ in range(2):  # filling the memo, then answered from it
        assert [detected(s, listed) for s in sources] == afresh
    assert {"helm", "kustomize", "directory"} <= set(afresh)
    assert afresh[-1] != "directory" and afresh[sources.index(explicit)] == "directory"
    assert listed, "the file-discovered types were remembered"


# --- parameter overrides --------------------------------------------------------------------------


def test_app_specific_override_file_is_merged_after_the_shared_one(view: RevisionView) -> None:
    # .argocd-source.yaml sets nginx:1.26, .argocd-source-override-k.yaml then nginx:1.27 (a JSON
    # merge patch replaces the list); `path` in an override file is not a tool field and is ignored.
    result = render(view, "override-k")
    assert result.errors == ()
    assert image(result) == "nginx:1.27"
    assert any(".argocd-source-override-k.yaml" in w for w in result.warnings)


def test_only_the_shared_override_file_applies_to_another_app(view: RevisionView) -> None:
    result = render(view, "override-k-other")
    assert result.errors == ()
    assert image(result) == "nginx:1.26"


def test_override_file_replaces_helm_parameters(view: RevisionView) -> None:
    result = render(view, "override-h")
    assert result.errors == ()
    assert only(result, "ConfigMap").body["data"]["msg"] == "from-override-file"


# --- build environment ----------------------------------------------------------------------------


def test_build_env_in_helm_parameters_and_value_files(view: RevisionView, repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD").strip()
    result = render(view, "env-helm")
    assert result.errors == ()
    assert (
        only(result, "ConfigMap").body["data"]
        == {
            "fromfile": "picked-by-app-name",  # values-$ARGOCD_APP_NAME.yaml
            "name": "env-helm",
            "ns": "env-ns",  # the destination namespace
            "rev": sha,
            "short": sha[:7],
            "path": "apps/env-chart",
            "literal": "$ARGOCD_APP_NAME",  # `$$` escapes a dollar
        }
    )


def test_build_env_in_kustomize_images_and_labels_but_not_annotations(view: RevisionView, repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD").strip()
    result = render(view, "env-kustomize")
    assert result.errors == ()
    deploy = only(result, "Deployment")
    assert image(result) == f"nginx:{sha[:7]}"
    assert deploy.body["metadata"]["labels"] == {"app-name": "env-kustomize"}
    # commonAnnotations are substituted only with commonAnnotationsEnvsubst.
    assert deploy.body["metadata"]["annotations"] == {"revision": "$ARGOCD_APP_REVISION_SHORT"}


def test_common_annotations_envsubst(view: RevisionView, repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD").strip()
    result = render(view, "env-kustomize-annotations")
    assert result.errors == ()
    assert only(result, "Deployment").body["metadata"]["annotations"] == {"revision": sha[:7]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$ARGOCD_APP_NAME", "guestbook"),
        ("${ARGOCD_APP_NAME}-x", "guestbook-x"),
        ("$ARGOCD_APP_NAME-x", "guestbook-x"),
        ("pre-$ARGOCD_APP_NAMESPACE", "pre-prod"),
        ("$UNKNOWN", ""),  # unknown variables are empty
        ("$$ARGOCD_APP_NAME", "$ARGOCD_APP_NAME"),  # `$$` is an escaped dollar
        ("cost: 5$", "cost: 5$"),  # a trailing `$` stays
        ("a$.b", "a$.b"),  # `$` before a non-name character stays
        ("${}x", "x"),  # os.Expand eats bad syntax
        ("$1x", "x"),  # a shell special character is a one-letter variable
    ],
)
def test_envsubst_follows_go_os_expand(text: str, expected: str) -> None:
    env = BuildEnv({"ARGOCD_APP_NAME": "guestbook", "ARGOCD_APP_NAMESPACE": "prod"})
    assert env.substitute(text) == expected


def _resolve_path_with_pathlib(root: Path, rel: str | None) -> Path:
    """The pathlib spelling of `resolve_path` (the string version must agree with it)."""
    text = (rel or ".").strip() or "."
    if PurePosixPath(text).is_absolute():
        text = text.lstrip("/") or "."
    target = (root / text).resolve()
    base = root.resolve()
    if target != base and base not in target.parents:
        raise RenderFailure(f"source path {rel!r} points outside the repository")
    return target


_TRICKY_PATHS = [
    None,
    "",
    " ",
    ".",
    "./",
    "/",
    "//apps",
    "/apps/a/",
    "apps//a/.",
    "apps/a/..",
    "apps/../..",
    "../tree/apps",
    "missing/x",
    "apps/a/../../..",
    "apps/a/../../tree/apps",
]


def _outcome(resolve: Callable[[Path, str | None], Path], root: Path, rel: str | None) -> Path | str:
    try:
        return resolve(root, rel)
    except RenderFailure as exc:
        return str(exc)


def test_resolve_path_agrees_with_pathlib_through_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "apps/a").mkdir(parents=True)
    (root / "linked").symlink_to(root / "apps")
    (root / "out").symlink_to(tmp_path)
    (root / "loop").symlink_to(root / "loop")
    for rel in [*_TRICKY_PATHS, "linked/a", "linked/../apps", "out", "out/tree/apps", "loop/x"]:
        try:
            expected = _outcome(_resolve_path_with_pathlib, root, rel)
        except RuntimeError:  # a symlink loop: pathlib raises, and so must the string version
            with pytest.raises(RuntimeError):
                resolve_path(root, rel)
            continue
        assert _outcome(resolve_path, root, rel) == expected, rel


def test_resolve_path_agrees_with_pathlib_in_a_checkout_without_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "apps/a").mkdir(parents=True)
    trees._plain_checkout(str(root), True)  # resolving is normalising there: no file system access
    try:
        for rel in _TRICKY_PATHS:
            assert _outcome(resolve_path, root, rel) == _outcome(_resolve_path_with_pathlib, root, rel), rel
    finally:
        trees._plain_checkout(str(root), False)
