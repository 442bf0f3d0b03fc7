"""Kustomize sources (reference §C.2; Argo CD util/kustomize Build, docs/user-guide/kustomize.md),
built with the real kustomize engine (`kubectl kustomize`) from a real git repository.

Argo CD applies `spec.source.kustomize` with `kustomize edit` commands on the checked-out
kustomization; the expected outputs below are what those commands and `kustomize build` produce.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from apps import application, render
from gitrepos import make_repo

from reviewer.records import RenderResult, Resource
from reviewer.rendering.kustomize import ORIGIN_ANNOTATION
from reviewer.revision import RevisionView, open_revision

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.0
      - name: sidecar
        image: registry.example.com:5000/tools/sidecar:2.0
      - name: db
        image: postgres:15
"""
SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n"

# An overlay with comments and odd formatting: it must come back byte for byte after a render.
OVERLAY_KUSTOMIZATION = """\
# overlay for the web app
resources:
  - ../base     # the shared base
commonLabels: {team: payments}
images:
- name: postgres
  newName: mirror.example.com/postgres
"""

FILES = {
    "apps/base/kustomization.yaml": "resources:\n- deploy.yaml\n- service.yaml\n",
    "apps/base/deploy.yaml": DEPLOY,
    "apps/base/service.yaml": SERVICE,
    "apps/overlay/kustomization.yaml": OVERLAY_KUSTOMIZATION,
    "apps/overlay/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
    "argo/plain.yaml": application("plain", "apps/overlay"),
    "argo/names.yaml": application("names", "apps/overlay", kustomize={"namePrefix": "pre-", "nameSuffix": "-v2"}),
    "argo/images.yaml": application(
        "images",
        "apps/overlay",
        kustomize={
            "images": [
                "nginx=ghcr.io/acme/nginx:1.25",  # name=newName:tag
                "registry.example.com:5000/tools/sidecar@sha256:0123abcd",  # digest; the `:5000` is a port
                "postgres:16",  # replaces the kustomization's entry for postgres, newName included
            ]
        },
    ),
    "argo/images-preserve.yaml": application(
        "images-preserve", "apps/overlay", kustomize={"images": ["postgres=*:16"]}
    ),
    "argo/images-bad.yaml": application("images-bad", "apps/overlay", kustomize={"images": ["nginx"]}),
    "argo/replicas.yaml": application(
        "replicas", "apps/overlay", kustomize={"replicas": [{"name": "web", "count": 3}]}
    ),
    "argo/labels.yaml": application("labels", "apps/overlay", kustomize={"commonLabels": {"env": "prod"}}),
    "argo/labels-no-selector.yaml": application(
        "labels-no-selector", "apps/overlay", kustomize={"commonLabels": {"env": "prod"}, "labelWithoutSelector": True}
    ),
    "argo/labels-templates.yaml": application(
        "labels-templates",
        "apps/overlay",
        kustomize={"commonLabels": {"env": "prod"}, "labelWithoutSelector": True, "labelIncludeTemplates": True},
    ),
    "argo/labels-templates-alone.yaml": application(
        "labels-templates-alone",
        "apps/overlay",
        kustomize={"commonLabels": {"env": "prod"}, "labelIncludeTemplates": True},
    ),
    "argo/labels-clash.yaml": application("labels-clash", "apps/overlay", kustomize={"commonLabels": {"team": "ops"}}),
    "argo/labels-force.yaml": application(
        "labels-force", "apps/overlay", kustomize={"commonLabels": {"team": "ops"}, "forceCommonLabels": True}
    ),
    "argo/annotations.yaml": application(
        "annotations", "apps/overlay", kustomize={"commonAnnotations": {"owner": "payments"}}
    ),
    "argo/namespace.yaml": application("namespace", "apps/overlay", kustomize={"namespace": "custom"}),
    "argo/patches.yaml": application(
        "patches",
        "apps/overlay",
        kustomize={
            "patches": [
                {
                    "target": {"kind": "Deployment", "name": "web"},
                    "patch": '[{"op": "replace", "path": "/spec/replicas", "value": 5}]',
                }
            ]
        },
    ),
    "apps/components/extra/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cm.yaml]\n"
    ),
    "apps/components/extra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-component\n",
    "argo/components.yaml": application(
        "components",
        "apps/overlay",
        kustomize={"components": ["../components/extra", "../components/missing"], "ignoreMissingComponents": True},
    ),
    "argo/components-missing.yaml": application(
        "components-missing", "apps/overlay", kustomize={"components": ["../components/missing"]}
    ),
    # --- provenance ----------------------------------------------------------------------------------
    "apps/generated/kustomization.yaml": (
        "resources: [deploy.yaml]\nconfigMapGenerator:\n- name: settings\n  literals: [mode=fast]\n"
    ),
    "apps/generated/deploy.yaml": DEPLOY.replace(
        "        image: nginx:1.0\n",
        "        image: nginx:1.0\n        envFrom:\n        - configMapRef:\n            name: settings\n",
    ),
    "argo/generated.yaml": application("generated", "apps/generated"),
    "apps/generated-other/kustomization.yaml": "configMapGenerator:\n- name: settings\n  literals: [mode=slow]\n",
    "argo/generated-other.yaml": application("generated-other", "apps/generated-other"),
    "apps/keeps-origin/kustomization.yaml": "buildMetadata: [originAnnotations]\nresources: [../base]\n",
    "argo/keeps-origin.yaml": application("keeps-origin", "apps/keeps-origin"),
    # --- failures --------------------------------------------------------------------------------------
    "apps/bad-path/kustomization.yaml": "resources:\n- does-not-exist.yaml\n",
    "argo/bad-path.yaml": application("bad-path", "apps/bad-path"),
    "apps/ksops/kustomization.yaml": "generators:\n- ksops.yaml\n",
    "apps/ksops/secret.enc.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: encrypted\n",
    "argo/ksops.yaml": application("ksops", "apps/ksops"),
    "apps/remote/kustomization.yaml": (
        "resources:\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v3.3.1\n"
    ),
    "argo/remote.yaml": application("remote", "apps/remote"),
    "apps/remote-file/kustomization.yaml": "resources:\n- https://raw.githubusercontent.com/acme/x/main/cm.yaml\n",
    "argo/remote-file.yaml": application("remote-file", "apps/remote-file"),
}


def ksops_generator(marker: Path) -> str:
    """A KSOPS-style generator config whose exec function would leave `marker` behind if it ran."""
    return (
        "apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: secrets\n  annotations:\n"
        "    config.kubernetes.io/function: |\n      exec:\n        path: ./ksops.sh\n"
        f"files:\n- secret.enc.yaml\n# marker: {marker}\n"
    )


def ksops_script(marker: Path) -> str:
    return f"#!/bin/sh\ntouch {marker}\ncat secret.enc.yaml\n"


@pytest.fixture(scope="module")
def marker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ksops") / "plugin-ran"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, marker: Path) -> Path:
    path = tmp_path_factory.mktemp("kustomize") / "repo"
    script = path / "apps/ksops/ksops.sh"
    script.parent.mkdir(parents=True)
    script.write_text(ksops_script(marker))
    script.chmod(0o755)
    files = {**FILES, "apps/ksops/ksops.yaml": ksops_generator(marker)}
    return make_repo(path, files)


@pytest.fixture(scope="module")
def view(repo: Path) -> Iterator[RevisionView]:
    with open_revision(repo, "HEAD") as opened:
        yield opened


def ok(view: RevisionView, name: str) -> RenderResult:
    result = render(view, name)
    assert result.errors == (), [str(e) for e in result.errors]
    assert result.source_types == ("kustomize",)
    return result


def by_kind(result: RenderResult, kind: str) -> Resource:
    found = [r for r in result.resources if r.key.kind == kind]
    assert len(found) == 1, [str(r.key) for r in result.resources]
    return found[0]


def images(result: RenderResult) -> dict[str, str]:
    containers = by_kind(result, "Deployment").body["spec"]["template"]["spec"]["containers"]
    return {c["name"]: c["image"] for c in containers}


def test_plain_overlay(view: RevisionView) -> None:
    result = ok(view, "plain")
    assert sorted(str(r.key) for r in result.resources) == ["Service demo/web", "apps/Deployment demo/web"]
    deploy = by_kind(result, "Deployment").body
    assert deploy["metadata"]["labels"] == {"team": "payments"}
    assert images(result)["db"] == "mirror.example.com/postgres:15"


def test_name_prefix_and_suffix(view: RevisionView) -> None:
    result = ok(view, "names")
    assert sorted(r.key.name for r in result.resources) == ["pre-web-v2", "pre-web-v2"]


def test_images(view: RevisionView) -> None:
    # `kustomize edit set image` replaces an entry of the same name as a whole: postgres loses the
    # kustomization's newName (mirror.example.com/postgres) and gets only the new tag.
    assert images(ok(view, "images")) == {
        "web": "ghcr.io/acme/nginx:1.25",
        "sidecar": "registry.example.com:5000/tools/sidecar@sha256:0123abcd",
        "db": "postgres:16",
    }


def test_image_star_keeps_the_kustomization_field(view: RevisionView) -> None:
    # "Passing * (asterisk) as the new name ... will preserve the appropriate values from the
    # kustomization file" (kustomize edit set image --help).
    assert images(ok(view, "images-preserve"))["db"] == "mirror.example.com/postgres:16"


def test_an_image_without_tag_or_digest_is_an_error(view: RevisionView) -> None:
    result = render(view, "images-bad")
    assert result.resources == ()
    assert "invalid format of image" in result.errors[0].message


def test_replicas(view: RevisionView) -> None:
    assert by_kind(ok(view, "replicas"), "Deployment").body["spec"]["replicas"] == 3


def test_common_labels_go_into_selectors(view: RevisionView) -> None:
    deploy = by_kind(ok(view, "labels"), "Deployment").body
    assert deploy["metadata"]["labels"] == {"team": "payments", "env": "prod"}
    assert deploy["spec"]["selector"]["matchLabels"] == {"app": "web", "team": "payments", "env": "prod"}


def test_labels_without_selector(view: RevisionView) -> None:
    deploy = by_kind(ok(view, "labels-no-selector"), "Deployment").body
    assert deploy["metadata"]["labels"] == {"team": "payments", "env": "prod"}
    assert deploy["spec"]["selector"]["matchLabels"] == {"app": "web", "team": "payments"}
    # Not in the pod template either: --include-templates was not asked for.
    assert deploy["spec"]["template"]["metadata"]["labels"] == {"app": "web", "team": "payments"}


def test_labels_without_selector_but_in_templates(view: RevisionView) -> None:
    deploy = by_kind(ok(view, "labels-templates"), "Deployment").body
    assert deploy["spec"]["selector"]["matchLabels"] == {"app": "web", "team": "payments"}
    assert deploy["spec"]["template"]["metadata"]["labels"] == {"app": "web", "team": "payments", "env": "prod"}


def test_include_templates_needs_without_selector(view: RevisionView) -> None:
    # kustomize edit add label: "--without-selector flag must be specified for --include-templates to work".
    result = render(view, "labels-templates-alone")
    assert result.resources == ()
    assert "--without-selector" in result.errors[0].message


def test_a_label_already_in_the_kustomization_needs_force(view: RevisionView) -> None:
    result = render(view, "labels-clash")
    assert result.resources == ()
    assert "label team already in kustomization file" in result.errors[0].message
    forced = by_kind(ok(view, "labels-force"), "Deployment").body
    assert forced["metadata"]["labels"] == {"team": "ops"}


def test_common_annotations(view: RevisionView) -> None:
    result = ok(view, "annotations")
    assert {r.key.kind: r.body["metadata"]["annotations"] for r in result.resources} == {
        "Deployment": {"owner": "payments"},
        "Service": {"owner": "payments"},
    }


def test_namespace_option_beats_the_destination(view: RevisionView) -> None:
    result = ok(view, "namespace")
    assert {r.key.namespace for r in result.resources} == {"custom"}


def test_patches(view: RevisionView) -> None:
    assert by_kind(ok(view, "patches"), "Deployment").body["spec"]["replicas"] == 5


def test_components_with_missing_ones_ignored(view: RevisionView) -> None:
    result = ok(view, "components")
    assert "from-component" in {r.key.name for r in result.resources}


def test_a_missing_component_is_an_error_by_default(view: RevisionView) -> None:
    result = render(view, "components-missing")
    assert result.resources == ()
    assert "../components/missing" in result.errors[0].message


def test_the_kustomization_file_is_restored_byte_for_byte(view: RevisionView) -> None:
    kfile = view.tree.root / "apps/overlay/kustomization.yaml"
    for app in ("images", "labels-clash", "patches", "components"):
        render(view, app)
        assert kfile.read_bytes() == OVERLAY_KUSTOMIZATION.encode()
    assert not (view.tree.root / "apps/overlay/kustomization.yml").exists()
    render(view, "bad-path")  # a failed build restores it too
    assert (view.tree.root / "apps/bad-path/kustomization.yaml").read_text() == FILES[
        "apps/bad-path/kustomization.yaml"
    ]


def test_provenance_names_the_source_file_and_origin_annotations_are_removed(view: RevisionView) -> None:
    result = ok(view, "plain")
    where = {r.key.kind: r.location.file for r in result.resources if r.location}
    assert where == {"Deployment": "apps/base/deploy.yaml", "Service": "apps/base/service.yaml"}
    for resource in result.resources:
        assert ORIGIN_ANNOTATION not in (resource.body["metadata"].get("annotations") or {})
        assert "annotations" not in resource.body["metadata"]


def test_origin_annotations_asked_for_by_the_kustomization_stay(view: RevisionView) -> None:
    # With `buildMetadata: [originAnnotations]` in the repo, Argo CD's output has them too.
    service = by_kind(ok(view, "keeps-origin"), "Service")
    assert ORIGIN_ANNOTATION in service.body["metadata"]["annotations"]
    assert service.location is not None and service.location.file == "apps/base/service.yaml"


def test_config_map_generator_hash_names(view: RevisionView) -> None:
    result = ok(view, "generated")
    configmap = by_kind(result, "ConfigMap")
    assert re.fullmatch(r"settings-[a-z0-9]{10}", configmap.key.name)
    assert configmap.location is not None and configmap.location.file == "apps/generated/kustomization.yaml"
    containers = by_kind(result, "Deployment").body["spec"]["template"]["spec"]["containers"]
    assert containers[0]["envFrom"][0]["configMapRef"]["name"] == configmap.key.name
    # Different data, different name (so a change rolls the Deployment out).
    other = by_kind(ok(view, "generated-other"), "ConfigMap")
    assert other.key.name.startswith("settings-") and other.key.name != configmap.key.name


def test_build_error_reports_command_exit_code_and_stderr(view: RevisionView) -> None:
    result = render(view, "bad-path")
    assert result.resources == ()
    (error,) = result.errors
    assert error.command.endswith("kustomize apps/bad-path")
    assert error.exit_code not in (None, 0)
    assert "does-not-exist.yaml" in error.stderr
    assert view.tree.root.as_posix() not in error.stderr  # private tree paths are not shown


def test_exec_generator_plugin_is_refused_not_run(view: RevisionView, marker: Path) -> None:
    result = render(view, "ksops")
    assert result.resources == ()
    assert "ksops" in str(result.errors[0])
    assert not marker.exists()


@pytest.mark.parametrize("app", ["remote", "remote-file"])
def test_remote_bases_are_refused_without_network(view: RevisionView, app: str) -> None:
    started = time.monotonic()
    result = render(view, app)
    assert time.monotonic() - started < 10
    assert result.resources == ()
    (error,) = result.errors
    # Refused before kustomize runs: nothing is fetched, and the reason names the reference.
    assert "references the remote base" in error.message
    assert "render.allowRemoteBases" in error.message
    assert error.exit_code is None


# --- configuration-dependent behaviour: separate repositories ---------------------------------------


def test_plugin_build_options_are_refused_unless_allowed(tmp_path: Path) -> None:
    marker = tmp_path / "plugin-ran"
    path = tmp_path / "repo"
    script = path / "apps/ksops/ksops.sh"
    script.parent.mkdir(parents=True)
    script.write_text(ksops_script(marker))
    script.chmod(0o755)
    files = {
        ".gitops-reviewer.yaml": "render:\n  kustomizeBuildOptions: [--enable-alpha-plugins, --enable-exec]\n",
        "argo/ksops.yaml": FILES["argo/ksops.yaml"],
        "apps/ksops/kustomization.yaml": FILES["apps/ksops/kustomization.yaml"],
        "apps/ksops/secret.enc.yaml": FILES["apps/ksops/secret.enc.yaml"],
        "apps/ksops/ksops.yaml": ksops_generator(marker),
    }
    with open_revision(make_repo(path, files), "HEAD") as view:
        result = render(view, "ksops")
    assert result.resources == ()
    assert "allowKustomizePlugins" in result.errors[0].message
    assert not marker.exists()


def test_a_render_over_the_timeout_is_reported(tmp_path: Path) -> None:
    files = {
        ".gitops-reviewer.yaml": "render:\n  timeout: 0.001\n",
        "argo/slow.yaml": application("slow", "apps/base"),
        "apps/base/kustomization.yaml": FILES["apps/base/kustomization.yaml"],
        "apps/base/deploy.yaml": DEPLOY,
        "apps/base/service.yaml": SERVICE,
    }
    with open_revision(make_repo(tmp_path / "repo", files), "HEAD") as view:
        result = render(view, "slow")
        assert (view.tree.root / "apps/base/kustomization.yaml").read_text() == files["apps/base/kustomization.yaml"]
    assert result.resources == ()
    (error,) = result.errors
    assert "timed out" in str(error)
    assert error.command.endswith("kustomize apps/base")


def test_remote_base_reached_through_a_local_base_is_refused(tmp_path: Path) -> None:
    files = {
        "apps/overlay/kustomization.yaml": "resources:\n- ../base\n",
        "apps/base/kustomization.yaml": "resources:\n- github.com/acme/manifests/base?ref=v1\n- cm.yaml\n",
        "apps/base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        "argo/overlay.yaml": application("overlay", "apps/overlay"),
    }
    with open_revision(make_repo(tmp_path / "repo", files), "HEAD") as view:
        result = render(view, "overlay")
    (error,) = result.errors
    assert error.message.startswith("apps/base/kustomization.yaml references the remote base github.com/acme/")


def test_values_that_go_reads_as_numbers_stay_strings(tmp_path: Path) -> None:
    # `1234e56` (a possible short commit SHA) and `0x1F` are strings to PyYAML but numbers to Go's YAML.
    files = {
        "apps/k/kustomization.yaml": "resources:\n- deploy.yaml\n",
        "apps/k/deploy.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n"
            "      containers:\n      - name: web\n        image: nginx:1.0\n"
        ),
        "argo/k.yaml": application(
            "k", "apps/k", kustomize={"images": ["nginx:1234e56"], "commonAnnotations": {"build": "0x1F"}}
        ),
    }
    with open_revision(make_repo(tmp_path / "repo", files), "HEAD") as view:
        result = ok(view, "k")
    deploy = by_kind(result, "Deployment").body
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1234e56"
    assert deploy["metadata"]["annotations"]["build"] == "0x1F"


def test_enable_helm_gets_the_destination_clusters_facts(tmp_path: Path) -> None:
    from reviewer.rendering.kustomize import _build_options

    config = (
        "clusters:\n- {name: prod, server: 'https://prod.example', kubeVersion: '1.29.4',"
        " apiVersions: [monitoring.coreos.com/v1]}\n"
        "render: {kustomizeBuildOptions: [--enable-helm], kubeVersion: '1.33.0'}\n"
    )
    app = application("k", "apps/k").replace("https://kubernetes.default.svc", "https://prod.example")
    files = {".gitops-reviewer.yaml": config, "apps/k/kustomization.yaml": "resources: []\n", "argo/k.yaml": app}
    with open_revision(make_repo(tmp_path / "repo", files), "HEAD") as view:
        options = _build_options(view.find("k"), view.ctx, {})
        overridden = _build_options(view.find("k"), view.ctx, {"kubeVersion": "1.30.0"})
    assert options == [
        "--enable-helm",
        "--helm-kube-version",
        "1.29.4",
        "--helm-api-versions",
        "monitoring.coreos.com/v1",
    ]
    assert overridden[:3] == ["--enable-helm", "--helm-kube-version", "1.30.0"]


def test_an_apps_kustomize_options_never_reach_another_app_built_at_the_same_time(tmp_path: Path) -> None:
    """Argo CD edits an app's kustomization in a checkout of its own. Here `edited`'s overlay is also
    `reader`'s base, and both render at once, many times: `reader` must always get the committed
    overlay, never `edited`'s name prefix and image."""
    repo = make_repo(
        tmp_path / "repo",
        {
            "apps/base/kustomization.yaml": "resources:\n- deploy.yaml\n",
            "apps/base/deploy.yaml": DEPLOY,
            "apps/edited/kustomization.yaml": "resources:\n- ../base\n",
            "apps/reader/kustomization.yaml": "resources:\n- ../edited\n",
            "argo/edited.yaml": application(
                "edited", "apps/edited", kustomize={"namePrefix": "leak-", "images": ["nginx=leak/nginx:9"]}
            ),
            "argo/reader.yaml": application("reader", "apps/reader"),
        },
    )
    with open_revision(repo, "HEAD", jobs=2) as view:
        alone = render(view, "reader")
        assert not alone.errors
        assert [r.key.name for r in alone.resources] == ["web"]
        edited, reader = view.find("edited"), view.find("reader")
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda app: (app.name, view.render_app(app, view.ctx)), [edited, reader] * 6))
        # And the overlay is as committed afterwards.
        assert (view.tree.root / "apps/edited/kustomization.yaml").read_text() == "resources:\n- ../base\n"
    for name, result in results:
        assert not result.errors, result.errors
        names = [r.key.name for r in result.resources]
        if name == "reader":
            assert (names, _images(result)) == (["web"], _images(alone))
        else:
            assert names == ["leak-web"] and "leak/nginx:9" in _images(result)


def _images(result: RenderResult) -> list[str]:
    return [c["image"] for r in result.resources for c in r.body["spec"]["template"]["spec"]["containers"]]
