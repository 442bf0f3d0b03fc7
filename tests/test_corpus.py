"""The real config repos of the shared corpus (`../shared/corpus/snapshots`), reviewed offline.

Every expectation here was read from the repos' own manifests (Application files, Chart templates,
values files, kustomizations), not produced by running the tool. Each bundle is cloned once per
module and each revision opened once (`open_revision` is a context manager: the fixtures hold it open
in an ExitStack). Corpus clones have a file:// bundle remote, so every config written here names the
upstream URL under `repos:`.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from corpus_fixture import clone_corpus

from reviewer.cli import cli
from reviewer.errors import UsageError
from reviewer.records import App, RenderResult, Resource
from reviewer.revision import RevisionView, open_revision

pytestmark = pytest.mark.corpus

FINALIZER = "resources-finalizer.argocd.argoproj.io"
IN_CLUSTER = "https://kubernetes.default.svc"


# --- helpers ----------------------------------------------------------------------------------------


Configs = Mapping[str, Mapping[str, Any]]


@contextlib.contextmanager
def opened(
    tmp_path_factory: pytest.TempPathFactory, bundle: str, configs: Configs | Callable[[Path], Configs]
) -> Iterator[tuple[Path, dict[str, RevisionView]]]:
    """Clone `bundle` once and open its working tree once per config (name -> config, or a function of
    the clone that returns them)."""
    base = tmp_path_factory.mktemp(bundle)
    clone = clone_corpus(bundle, base / "repo")
    with contextlib.ExitStack() as stack:
        views = {}
        for name, config in (configs(clone) if callable(configs) else configs).items():
            path = base / f"{name}.gitops-reviewer.yaml"
            path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
            views[name] = stack.enter_context(open_revision(clone, config_path=path, offline=True))
        yield clone, views


def by_id(view: RevisionView) -> dict[str, App]:
    return {app.id: app for app in view.discovery.apps}


def keys(resources: tuple[Resource, ...]) -> set[tuple[str, str, str]]:
    return {(r.key.kind, r.key.namespace, r.key.name) for r in resources}


def one(resources: tuple[Resource, ...], kind: str, name: str) -> Resource:
    found = [r for r in resources if r.key.kind == kind and r.key.name == name]
    assert len(found) == 1, f"{kind} {name}: {sorted(keys(resources))}"
    return found[0]


def error_text(result: RenderResult) -> str:
    return "\n".join(str(e) for e in result.errors)


def failed_without_output(result: RenderResult) -> str:
    """A render that must fail closed: errors, and no resources passed off as the app's content."""
    assert result.errors, f"{result.app} rendered {len(result.resources)} resources without an error"
    assert not result.resources and not result.hooks, result.app
    return error_text(result)


def unrendered_reasons(view: RevisionView) -> dict[str, str]:
    return {u.what: u.reason for u in view.discovery.unrendered}


def unreferenced_files(view: RevisionView) -> set[str]:
    return {u.location.file for u in view.discovery.unrendered if u.location is not None and "unreferenced" in u.reason}


# --- argoproj/argocd-example-apps -------------------------------------------------------------------

# apps/values.yaml: name -> (path, source type Argo CD detects there)
EXAMPLE_APPS = {
    "blue-green": ("blue-green", "helm"),
    "guestbook": ("guestbook", "directory"),
    "helm-dependency": ("helm-dependency", "helm"),
    "helm-guestbook": ("helm-guestbook", "helm"),
    "helm-hooks": ("helm-hooks", "directory"),
    "jsonnet-guestbook": ("jsonnet-guestbook", "directory"),
    "jsonnet-guestbook-tla": ("jsonnet-guestbook-tla", "directory"),
    "kustomize-guestbook": ("kustomize-guestbook", "kustomize"),
    "plugin-kasane": ("plugins/kasane", "plugin"),
    "plugin-kustomized-helm": ("plugins/kustomized-helm", "plugin"),
    "plugin-nix": ("plugins/nix", "plugin"),
    "pre-post-sync": ("pre-post-sync", "kustomize"),
    "sock-shop": ("sock-shop", "kustomize"),
    "sync-waves": ("sync-waves", "directory"),
}
EXAMPLE_APPS_CONFIG = {
    "repos": ["https://github.com/argoproj/argocd-example-apps.git"],
    "apps": [{"name": "apps", "path": "apps", "namespace": "argocd"}],
}


@pytest.fixture(scope="module")
def example_apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, RevisionView]]:
    with opened(tmp_path_factory, "argocd-example-apps", {"main": EXAMPLE_APPS_CONFIG}) as (clone, views):
        yield clone, views["main"]


def example(view: RevisionView, name: str) -> RenderResult:
    return view.render(by_id(view)[f"argocd/example.{name}"])


def test_example_apps_chart_generates_one_application_per_values_entry(
    example_apps: tuple[Path, RevisionView],
) -> None:
    _, view = example_apps
    apps = by_id(view)
    assert set(apps) == {"argocd/apps"} | {f"argocd/example.{name}" for name in EXAMPLE_APPS}
    assert view.discovery.errors == ()
    for name, (path, _) in EXAMPLE_APPS.items():
        app = apps[f"argocd/example.{name}"]
        assert app.parent == "argocd/apps", name
        assert app.defined_in is not None and app.defined_in.file == "apps/templates/applications.yaml"
        (source,) = app.sources
        assert source.path == path, name
        assert source.repo_url == "https://github.com/argoproj/argocd-example-apps"
        assert source.target_revision == "master"
        assert source.origin == "repo", "the .git-less spelling is the same repo as `repos:`"
        # destination.namespace defaults to the entry's name (`.namespace | default .name`)
        assert (app.destination.server, app.destination.namespace) == (IN_CLUSTER, name)
        policy = app.sync_policy
        assert (policy.automated, policy.prune, policy.self_heal) == (True, True, True), name
        assert policy.sync_options == ("CreateNamespace=true",)
        assert app.finalizers == (FINALIZER,)
        assert app.project == "default"
    plugin = apps["argocd/example.plugin-nix"].sources[0].spec["plugin"]
    assert plugin == {"name": "nix"}
    assert apps["argocd/example.blue-green"].sources[0].spec["helm"] == {"releaseName": "blue-green"}
    assert "helm" not in apps["argocd/example.guestbook"].sources[0].spec


def test_example_apps_source_types_in_the_apps_listing(example_apps: tuple[Path, RevisionView]) -> None:
    clone, _ = example_apps
    config = clone.parent / "main.gitops-reviewer.yaml"
    result = CliRunner().invoke(
        cli, ["apps", "--repo", str(clone), "--config", str(config), "--offline", "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    rows = {row["app"]: row for row in json.loads(result.stdout)["apps"]}
    for name, (path, kind) in EXAMPLE_APPS.items():
        row = rows[f"argocd/example.{name}"]
        assert (row["type"], row["path"]) == (kind, path), name
        assert row["destination"] == f"{IN_CLUSTER}/{name}"
        assert row["parent"] == "argocd/apps"
    assert rows["argocd/apps"]["type"] == "helm"


def test_example_guestbook_directory(example_apps: tuple[Path, RevisionView]) -> None:
    result = example(example_apps[1], "guestbook")
    assert result.errors == ()
    assert keys(result.resources) == {
        ("Deployment", "guestbook", "guestbook-ui"),
        ("Service", "guestbook", "guestbook-ui"),
    }
    deploy = one(result.resources, "Deployment", "guestbook-ui")
    assert deploy.key.group == "apps"
    assert deploy.body["spec"]["template"]["spec"]["containers"][0]["image"] == "gcr.io/google-samples/gb-frontend:v5"
    assert deploy.location is not None and deploy.location.file == "guestbook/guestbook-ui-deployment.yaml"
    assert result.hooks == ()


def test_example_helm_guestbook_uses_the_release_name(example_apps: tuple[Path, RevisionView]) -> None:
    result = example(example_apps[1], "helm-guestbook")
    assert result.errors == ()
    # releaseName helm-guestbook contains the chart name, so fullname is the release name alone
    assert keys(result.resources) == {
        ("Deployment", "helm-guestbook", "helm-guestbook"),
        ("Service", "helm-guestbook", "helm-guestbook"),
    }
    deploy = one(result.resources, "Deployment", "helm-guestbook").body
    assert deploy["metadata"]["labels"]["release"] == "helm-guestbook"  # not the app name example.helm-guestbook
    assert deploy["metadata"]["labels"]["chart"] == "helm-guestbook-0.1.0"
    assert deploy["metadata"]["labels"]["heritage"] == "Helm"
    assert deploy["spec"]["replicas"] == 1
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "gcr.io/google-samples/gb-frontend:v5"
    service = one(result.resources, "Service", "helm-guestbook").body
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"][0]["port"] == 80


@pytest.mark.parametrize("name", ["jsonnet-guestbook", "jsonnet-guestbook-tla"])
def test_example_jsonnet_guestbooks(example_apps: tuple[Path, RevisionView], name: str) -> None:
    result = example(example_apps[1], name)
    assert result.errors == ()
    # params.libsonnet (plain) and the TLA function's defaults both name it jsonnet-guestbook-ui
    assert keys(result.resources) == {
        ("Service", name, "jsonnet-guestbook-ui"),
        ("Deployment", name, "jsonnet-guestbook-ui"),
    }
    service = one(result.resources, "Service", "jsonnet-guestbook-ui")
    assert service.body["spec"]["type"] == "LoadBalancer"
    assert service.location is not None and service.location.file == f"{name}/guestbook-ui.jsonnet"
    deploy = one(result.resources, "Deployment", "jsonnet-guestbook-ui").body
    assert deploy["spec"]["replicas"] == 1
    assert deploy["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80}]


def test_example_kustomize_guestbook_name_prefix(example_apps: tuple[Path, RevisionView]) -> None:
    result = example(example_apps[1], "kustomize-guestbook")
    assert result.errors == ()
    assert keys(result.resources) == {
        ("Deployment", "kustomize-guestbook", "kustomize-guestbook-ui"),
        ("Service", "kustomize-guestbook", "kustomize-guestbook-ui"),
    }


def test_example_pre_post_sync_hooks_are_kept_apart(example_apps: tuple[Path, RevisionView]) -> None:
    result = example(example_apps[1], "pre-post-sync")
    assert result.errors == ()
    # namePrefix pre-post-sync- over the kustomize-guestbook base (itself prefixed kustomize-)
    assert keys(result.resources) == {
        ("Deployment", "pre-post-sync", "pre-post-sync-kustomize-guestbook-ui"),
        ("Service", "pre-post-sync", "pre-post-sync-kustomize-guestbook-ui"),
    }
    hooks = {(h.key.kind, h.key.name): h.hook_phases for h in result.hooks}
    assert hooks == {("Job", "pre-post-sync-before"): ("PreSync",), ("Job", "pre-post-sync-after"): ("PostSync",)}


def _hook(result: RenderResult, name: str) -> Resource:
    found = [
        h for h in result.hooks if name in (h.body["metadata"].get("name"), h.body["metadata"].get("generateName"))
    ]
    assert len(found) == 1, name
    return found[0]


def test_example_helm_hooks_map_to_argo_phases_and_waves(example_apps: tuple[Path, RevisionView]) -> None:
    result = example(example_apps[1], "helm-hooks")
    assert result.errors == ()
    # a Directory app: Argo CD still maps helm.sh/hook to its phases and helm.sh/hook-weight to waves
    assert keys(result.resources) == {("ReplicaSet", "helm-hooks", "frontend"), ("Service", "helm-hooks", "frontend")}
    assert one(result.resources, "ReplicaSet", "frontend").sync_wave == 0
    assert one(result.resources, "Service", "frontend").sync_wave == 2  # hook-weight "2" on a non-hook
    assert len(result.hooks) == 3
    assert (_hook(result, "upgrade-sql-schema").hook_phases, _hook(result, "upgrade-sql-schema").sync_wave) == (
        ("PreSync",),
        -2,
    )
    assert (_hook(result, "maint-page-up").hook_phases, _hook(result, "maint-page-up").sync_wave) == (("PreSync",), -1)
    assert (_hook(result, "maint-page-down").hook_phases, _hook(result, "maint-page-down").sync_wave) == (
        ("PostSync",),
        0,
    )
    assert _hook(result, "upgrade-sql-schema").body["metadata"]["generateName"] == "upgrade-sql-schema"


def test_example_sync_waves(example_apps: tuple[Path, RevisionView]) -> None:
    result = example(example_apps[1], "sync-waves")
    assert result.errors == ()
    waves = {(r.key.kind, r.key.name): r.sync_wave for r in result.resources}
    assert waves == {
        ("ReplicaSet", "backend"): 0,
        ("Service", "backend"): 0,
        ("ReplicaSet", "frontend"): 2,
        ("Service", "frontend"): 2,
    }
    assert {r.key.namespace for r in result.resources} == {"sync-waves"}
    assert (_hook(result, "upgrade-sql-schema").hook_phases, _hook(result, "upgrade-sql-schema").sync_wave) == (
        ("PreSync",),
        0,
    )
    assert (_hook(result, "maint-page-up").hook_phases, _hook(result, "maint-page-up").sync_wave) == (("Sync",), 1)
    assert (_hook(result, "maint-page-down").hook_phases, _hook(result, "maint-page-down").sync_wave) == (("Sync",), 3)
    assert len(result.hooks) == 3


def test_example_blue_green_rollout(example_apps: tuple[Path, RevisionView]) -> None:
    result = example(example_apps[1], "blue-green")
    assert result.errors == ()
    # release blue-green does not contain the chart name helm-guestbook: fullname is "<release>-<chart>"
    assert keys(result.resources) == {
        ("Rollout", "blue-green", "blue-green-helm-guestbook"),
        ("Service", "blue-green", "blue-green-helm-guestbook"),
        ("Service", "blue-green", "blue-green-helm-guestbook-preview"),
    }
    rollout = one(result.resources, "Rollout", "blue-green-helm-guestbook")
    assert rollout.key.group == "argoproj.io"
    assert rollout.body["spec"]["strategy"]["blueGreen"] == {
        "activeService": "blue-green-helm-guestbook",
        "previewService": "blue-green-helm-guestbook-preview",
    }


def test_example_sock_shop(example_apps: tuple[Path, RevisionView]) -> None:
    result = example(example_apps[1], "sock-shop")
    assert result.errors == ()
    kinds: dict[str, int] = {}
    for r in result.resources:
        kinds[r.key.kind] = kinds.get(r.key.kind, 0) + 1
    assert kinds == {"Deployment": 14, "Service": 14, "Ingress": 1}
    assert {r.key.namespace for r in result.resources} == {"sock-shop"}  # none set in base/: the destination's
    services = {"carts", "carts-db", "catalogue", "catalogue-db", "front-end", "orders", "orders-db", "payment"}
    services |= {"queue-master", "rabbitmq", "session-db", "shipping", "user", "user-db"}
    assert {r.key.name for r in result.resources if r.key.kind == "Deployment"} == services
    assert {r.key.name for r in result.resources if r.key.kind == "Service"} == services
    assert one(result.resources, "Ingress", "front-end-ingress").key.group == "networking.k8s.io"


@pytest.mark.parametrize("name", ["plugin-kasane", "plugin-kustomized-helm", "plugin-nix"])
def test_example_plugin_apps_fail_with_a_plugin_error(example_apps: tuple[Path, RevisionView], name: str) -> None:
    assert "plugin" in failed_without_output(example(example_apps[1], name)).lower()


def test_example_helm_dependency_fails_closed(example_apps: tuple[Path, RevisionView]) -> None:
    text = failed_without_output(example(example_apps[1], "helm-dependency"))
    assert "wordpress" in text and "9.0.3" in text and "https://charts.helm.sh/stable" in text


def test_example_render_cli_exits_1_on_a_plugin_app(example_apps: tuple[Path, RevisionView]) -> None:
    clone, _ = example_apps
    config = clone.parent / "main.gitops-reviewer.yaml"
    args = ["render", "--repo", str(clone), "--config", str(config), "--offline", "--app", "example.plugin-kasane"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "RENDER FAILED" in result.stdout
    assert "example.plugin-kasane" in result.stderr and "plugin" in result.stderr


# --- alphagov/govuk-helm-charts ---------------------------------------------------------------------

ENVS = ("integration", "staging", "production")
GOVUK_CONFIG = {
    "repos": ["https://github.com/alphagov/govuk-helm-charts"],
    "apps": [
        {
            "name": "argo-bootstrap",
            "path": "charts/argo-bootstrap",
            "namespace": "cluster-services",
            "controlPlane": env,
            "helm": {"valuesObject": {"govukEnvironment": env}},
        }
        for env in ENVS
    ],
}
# charts/app-config/values-<env>.yaml `govukApplications` (61, 59 and 60 entries); the other templates of
# charts/app-config add 8 apps per environment; kube-prometheus-stack-bootstrap and monitoring-config
# add a third level of 3 and 4 apps.
APP_COUNTS = {"integration": 78, "staging": 76, "production": 77}
ONLY_IN = {
    "govuk-ai-accelerator-app": {"integration"},
    "govuk-ai-graph-tools-app": {"integration"},
    "govuk-replatform-test-app": {"integration"},
    "kyverno-policies": {"integration"},  # templates/kyverno-policies.yaml: `if eq govukEnvironment "integration"`
    "rds-parquet-exports": {"staging"},  # rdsParquetExports.enabled only in values-staging.yaml
    "mirror": {"staging", "production"},
    "govuk-jobs": {"production"},
    "renovate": {"production"},  # templates/renovate.yaml: production only
}
IN_EVERY_ENV = {
    # app-config's own templates
    "cluster-autoscaler": "app-config",
    "govuk-synthetic-test-app": "app-config",
    "kube-prometheus-stack-bootstrap": "app-config",
    "monitoring-config": "app-config",
    "release-app": "app-config",
    "reloader": "app-config",
    "router-probe-backend": "app-config",
    # govukApplications entries of all three values files
    "account-api": "app-config",
    "asset-manager": "app-config",
    "whitehall-admin": "app-config",
    "licensify": "app-config",
    # third level
    "kube-prometheus-stack": "kube-prometheus-stack-bootstrap",
    "prometheus-oauth2-proxy": "kube-prometheus-stack-bootstrap",
    "alertmanager-oauth2-proxy": "kube-prometheus-stack-bootstrap",
    "tempo": "monitoring-config",
    "prometheus-adapter": "monitoring-config",
    "prometheus-pushgateway": "monitoring-config",
    "fastly-exporter": "monitoring-config",
}
# The children that use chart repositories (helm-versions/<env> files pin the versions).
EXTERNAL_CHARTS = {
    "cluster-autoscaler": ("https://kubernetes.github.io/autoscaler", "cluster-autoscaler", "9.59.0"),
    "reloader": ("https://stakater.github.io/stakater-charts", "reloader", "2.2.16"),
    "prometheus-oauth2-proxy": ("https://oauth2-proxy.github.io/manifests", "oauth2-proxy", "10.7.0"),
    "alertmanager-oauth2-proxy": ("https://oauth2-proxy.github.io/manifests", "oauth2-proxy", "10.7.0"),
    "kube-prometheus-stack": ("https://prometheus-community.github.io/helm-charts", "kube-prometheus-stack", None),
    "tempo": ("https://grafana.github.io/helm-charts", "tempo-distributed", "1.61.3"),
    "prometheus-adapter": ("https://prometheus-community.github.io/helm-charts", "prometheus-adapter", "5.3.0"),
    "prometheus-pushgateway": ("https://prometheus-community.github.io/helm-charts", "prometheus-pushgateway", "3.8.0"),
    "fastly-exporter": ("https://prometheus-community.github.io/helm-charts", "prometheus-fastly-exporter", "0.13.0"),
}
KUBE_PROMETHEUS_STACK = {"integration": "88.3.0", "staging": "82.18.0", "production": "82.18.0"}


@pytest.fixture(scope="module")
def govuk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RevisionView]:
    with opened(tmp_path_factory, "govuk-helm-charts", {"main": GOVUK_CONFIG}) as (_, views):
        yield views["main"]


def govuk_app(view: RevisionView, env: str, name: str) -> App:
    return by_id(view)[f"{env}/cluster-services/{name}"]


def env_apps(view: RevisionView, env: str) -> dict[str, App]:
    return {a.name: a for a in view.discovery.apps if a.control_plane == env}


@pytest.mark.parametrize("env", ENVS)
def test_govuk_app_config_is_the_child_of_argo_bootstrap(govuk: RevisionView, env: str) -> None:
    root = by_id(govuk)[f"{env}/argocd/argo-bootstrap"]
    assert root.parent is None
    app_config = govuk_app(govuk, env, "app-config")
    assert app_config.parent == root.id
    (source,) = app_config.sources
    assert source.path == "charts/app-config" and source.origin == "repo"
    assert source.spec["helm"]["valueFiles"] == ["values.yaml", f"values-{env}.yaml"]
    assert (app_config.destination.server, app_config.destination.namespace) == (IN_CLUSTER, "apps")
    assert "PruneLast=true" in app_config.sync_policy.sync_options


@pytest.mark.parametrize("env", ENVS)
def test_govuk_generated_apps_per_environment(govuk: RevisionView, env: str) -> None:
    apps = env_apps(govuk, env)
    assert len(apps) == APP_COUNTS[env]
    for name, parent in IN_EVERY_ENV.items():
        assert apps[name].parent == f"{env}/cluster-services/{parent}", name
    for name, envs in ONLY_IN.items():
        assert (name in apps) == (env in envs), (name, env)
    account_api = apps["account-api"]
    assert account_api.sources[0].path == "charts/generic-govuk-app"  # no chartPath: the default
    assert account_api.destination.namespace == "apps"
    assert account_api.project == "govuk"
    assert apps["licensify"].sources[0].path == "charts/licensify"
    assert apps["licensify"].destination.namespace == "licensify"
    for name, path in (
        ("router-probe-backend", "charts/router-probe-backend"),
        ("release-app", "charts/release"),
        ("govuk-synthetic-test-app", "charts/govuk-synthetic-test-app"),
    ):
        assert (apps[name].sources[0].path, apps[name].sources[0].origin) == (path, "repo"), name
    if env == "integration":
        kyverno = apps["kyverno-policies"]
        assert kyverno.destination.namespace == "sigstore-test"
        helm = kyverno.sources[0].spec["helm"]
        assert helm["valueFiles"] == ["values.yaml", "values-integration.yaml"]
        assert helm["ignoreMissingValueFiles"] is True


def test_govuk_every_generated_app_prunes_and_has_the_finalizer(govuk: RevisionView) -> None:
    generated = [a for a in govuk.discovery.apps if a.parent is not None]
    assert len(generated) == sum(APP_COUNTS.values()) - 3
    for app in generated:
        assert app.sync_policy.automated and app.sync_policy.prune, app.id
        assert FINALIZER in app.finalizers, app.id
        assert app.namespace == "cluster-services", app.id  # argoNamespace in app-config's values.yaml


@pytest.mark.parametrize("env", ENVS)
def test_govuk_chart_repository_apps_fail_clearly_offline(govuk: RevisionView, env: str) -> None:
    for name, (repo, chart, version) in EXTERNAL_CHARTS.items():
        app = govuk_app(govuk, env, name)
        (source,) = app.sources
        assert (source.origin, source.repo_url, source.chart) == ("chart", repo, chart), name
        assert source.target_revision == (version or KUBE_PROMETHEUS_STACK[env]), name
        text = failed_without_output(govuk.render(app))
        assert repo in text and "offline" in text, text
    failing = {a.name for a in env_apps(govuk, env).values() if govuk.render(a).errors}
    assert failing == set(EXTERNAL_CHARTS)


def test_govuk_same_name_in_two_environments_is_two_apps(govuk: RevisionView) -> None:
    ids = [a.id for a in govuk.discovery.apps if a.name == "account-api"]
    assert sorted(ids) == [f"{env}/cluster-services/account-api" for env in sorted(ENVS)]
    assert govuk.find("staging/cluster-services/account-api").control_plane == "staging"
    with pytest.raises(UsageError, match="ambiguous"):
        govuk.find("account-api")


def test_govuk_autoscaled_app_ignores_replica_differences(govuk: RevisionView) -> None:
    # values-production.yaml govuk-chat: helmValues.podAutoscaling targets the apps/v1 Deployments govuk-chat
    # and govuk-chat-worker; templates/govuk-application.yaml turns each into an ignoreDifferences entry
    chat = govuk_app(govuk, "production", "govuk-chat")
    assert list(chat.ignore_differences) == [
        {
            "group": "apps",
            "kind": "Deployment",
            "name": name,
            "namespace": "apps",
            "jsonPointers": ["/spec/replicas"],
        }
        for name in ("govuk-chat", "govuk-chat-worker")
    ]
    assert govuk_app(govuk, "production", "account-api").ignore_differences == ()


@pytest.mark.parametrize(
    ("env", "replicas", "tag"), [("integration", 2, "v749"), ("staging", 2, "v737"), ("production", 3, "v737")]
)
def test_govuk_account_api_deployment_per_environment(govuk: RevisionView, env: str, replicas: int, tag: str) -> None:
    # replicaCount: chart default 2, values-staging.yaml 2, values-production.yaml 3; the image tag
    # from charts/app-config/image-tags/<env>/account-api
    result = govuk.render(govuk_app(govuk, env, "account-api"))
    assert result.errors == ()
    deploy = one(result.resources, "Deployment", "account-api")
    assert deploy.key.namespace == "apps"
    assert deploy.body["spec"]["replicas"] == replicas
    (app,) = [c for c in deploy.body["spec"]["template"]["spec"]["containers"] if c["name"] == "app"]
    assert app["image"] == f"172025368201.dkr.ecr.eu-west-1.amazonaws.com/github/alphagov/govuk/account-api:{tag}"
    if env == "production":  # helmValues: dbMigrationEnabled true, uploadAssets.enabled false
        hooks = {(h.key.kind, h.key.name): h.hook_phases for h in result.hooks}
        assert hooks == {
            ("Job", "account-api-dbmigrate"): ("PreSync",),
            ("Job", "account-api-dbmigrate-notify"): ("SyncFail",),
        }


@pytest.mark.parametrize(
    ("env", "website"),
    [
        ("integration", "https://www.integration.publishing.service.gov.uk"),
        ("staging", "https://www.staging.publishing.service.gov.uk"),
        ("production", "https://www.gov.uk"),
    ],
)
def test_govuk_apps_env_configmap(govuk: RevisionView, env: str, website: str) -> None:
    result = govuk.render(govuk_app(govuk, env, "app-config"))
    assert result.errors == ()
    data = one(result.resources, "ConfigMap", "govuk-apps-env").body["data"]
    assert one(result.resources, "ConfigMap", "govuk-apps-env").key.namespace == "apps"
    assert data["GOVUK_ENVIRONMENT"] == env
    assert data["GOVUK_WEBSITE_ROOT"] == website
    assert ("OTEL_TRACES_SAMPLER" in data) == (env == "production")
    assert ("GOVUK_DATA_SYNC_PERIOD" in data) == (env != "production")
    applications = [r for r in result.resources if r.key.kind == "Application"]
    assert len(applications) == APP_COUNTS[env] - 9  # all but argo-bootstrap, app-config and the third level


def test_govuk_resource_counts_are_plausible(govuk: RevisionView) -> None:
    per_env = dict.fromkeys(ENVS, 0)
    hooks = 0
    for app in govuk.discovery.apps:
        result = govuk.render(app)
        per_env[app.control_plane] += len(result.resources)
        hooks += len(result.hooks)
    # corpus README: ~3,200 resources over 3 environments for the renderable apps
    assert 3000 <= sum(per_env.values()) + hooks <= 3400, (per_env, hooks)
    for env, count in per_env.items():
        assert 900 <= count <= 1150, (env, count)


def test_govuk_alertmanagerconfig_bare_equals_and_not_equals(govuk: RevisionView) -> None:
    result = govuk.render(govuk_app(govuk, "staging", "kube-prometheus-stack-bootstrap"))
    assert result.errors == ()
    assert keys(result.resources) == {
        ("AlertmanagerConfig", "monitoring", "alertmanagerconfig-general"),
        ("Application", "cluster-services", "kube-prometheus-stack"),
        ("Application", "cluster-services", "prometheus-oauth2-proxy"),
        ("Application", "cluster-services", "alertmanager-oauth2-proxy"),
        ("ExternalSecret", "monitoring", "alertmanager-receivers"),
        ("ExternalSecret", "monitoring", "grafana-admin-user"),
    }
    routes = one(result.resources, "AlertmanagerConfig", "alertmanagerconfig-general").body["spec"]["route"]["routes"]
    assert routes[0]["matchers"] == [{"name": "severity", "value": "page", "matchType": "="}]
    assert routes[1]["matchers"][1] == {"name": "environment", "value": "integration|production", "matchType": "=~"}
    by_receiver = {r["receiver"]: r["matchers"] for r in routes}
    # `matchType: !=` is a YAML tag (`!=`) on an empty node: Go's YAML (Helm, Argo CD) decodes it as ""
    assert by_receiver["slack-search-team-non-production-alerts"][1] == {
        "name": "environment",
        "value": "production",
        "matchType": "",
    }


# --- operate-first/apps -----------------------------------------------------------------------------

OPERATE_FIRST_CONFIG = {"repos": ["https://github.com/operate-first/apps.git"]}
MOC = "argocd/overlays/moc-infra/applications"
# argocd/overlays/moc-infra/applications/app-of-apps/kustomization.yaml
APP_OF_APPS = ("curator", "infra", "ocp-prod", "ocp-staging", "smaug", "jerry")


@pytest.fixture(scope="module")
def operate_first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RevisionView]:
    with opened(tmp_path_factory, "operate-first-apps", {"main": OPERATE_FIRST_CONFIG}) as (_, views):
        yield views["main"]


def test_operate_first_argocd_app_fails_on_its_remote_base(operate_first: RevisionView) -> None:
    app = by_id(operate_first)["argocd/argocd"]
    assert app.parent is None
    assert app.defined_in is not None
    assert app.defined_in.file == f"{MOC}/envs/moc/infra/cluster-management/argocd.yaml"
    assert (app.destination.name, app.destination.namespace) == ("moc-infra", "argocd")
    assert app.sources[0].path == "argocd/overlays/moc-infra"
    # argocd/base/kustomization.yaml: github.com/argoproj/argo-cd/manifests/base?ref=v2.1.3 (not fetched)
    assert "github.com/argoproj/argo-cd/manifests/base" in failed_without_output(operate_first.render(app))


def test_operate_first_app_of_apps_are_reviewed_as_roots_with_a_warning(operate_first: RevisionView) -> None:
    apps = by_id(operate_first)
    for cluster in APP_OF_APPS:
        app = apps[f"argocd/opf-app-of-apps-{cluster}"]
        assert app.parent is None, cluster
        assert app.project == "operate-first"
        assert (app.destination.name, app.destination.namespace) == ("moc-infra", "argocd")
        warnings = [w for w in operate_first.discovery.warnings if w.startswith(f"{app.id}:")]
        assert len(warnings) == 1 and "argocd/argocd" in warnings[0] and "root" in warnings[0], cluster
    smaug = apps["argocd/opf-app-of-apps-smaug"]
    assert smaug.sources[0].path == f"{MOC}/envs/moc/smaug"


def test_operate_first_per_cluster_name_suffix(operate_first: RevisionView) -> None:
    result = operate_first.render(by_id(operate_first)["argocd/opf-app-of-apps-smaug"])
    assert result.errors == ()
    applications = [r for r in result.resources if r.key.kind == "Application"]
    assert len(applications) > 50
    # envs/moc/smaug/kustomization.yaml: namespace argocd, nameSuffix -smaug
    assert all(r.key.name.endswith("-smaug") and r.key.namespace == "argocd" for r in applications)
    acme = one(result.resources, "Application", "acme-operator-smaug")  # `name: acme-operator` in the file
    assert acme.location is not None and acme.location.file == f"{MOC}/envs/moc/smaug/operate-first/acme-operator.yaml"
    infra = operate_first.render(by_id(operate_first)["argocd/opf-app-of-apps-infra"])
    assert ("Application", "argocd", "acm-infra") in keys(infra.resources)  # envs/moc/infra: nameSuffix -infra


def test_operate_first_three_levels_of_app_of_apps(operate_first: RevisionView) -> None:
    apps = by_id(operate_first)
    acme = apps["moc-infra/argocd/acme-operator-smaug"]
    assert acme.parent == "argocd/opf-app-of-apps-smaug"
    assert (acme.destination.name, acme.destination.namespace) == ("smaug", "acme-operator")
    assert acme.sources[0].path == "acme-operator/overlays/moc/smaug"
    assert acme.ignore_differences[0]["name"] == "letsencrypt-live"
    result = operate_first.render(acme)
    assert result.errors == ()
    assert keys(result.resources) == {
        ("Deployment", "acme-operator", "openshift-acme"),
        ("ServiceAccount", "acme-operator", "openshift-acme"),
        ("ConfigMap", "acme-operator", "letsencrypt-live"),
    }
    # The third level closes the loop: opf-app-of-apps-infra produces the Argo CD app itself (argocd-infra)
    loop = apps["moc-infra/argocd/argocd-infra"]
    assert loop.parent == "argocd/opf-app-of-apps-infra"
    assert loop.sources[0].path == "argocd/overlays/moc-infra"
    assert apps["moc-infra/argocd/cert-manager-jerry"].parent == "argocd/opf-app-of-apps-jerry"
    assert apps["moc-infra/argocd/external-secrets-curator"].parent == "argocd/opf-app-of-apps-curator"


def test_operate_first_ksops_generator_is_refused_not_run(operate_first: RevisionView) -> None:
    # cluster-logging/overlays/moc/smaug: `generators: [./secret-generator.yaml]`, kind ksops
    app = by_id(operate_first)["moc-infra/argocd/cluster-logging-smaug"]
    assert app.sources[0].path == "cluster-logging/overlays/moc/smaug"
    text = failed_without_output(operate_first.render(app))
    assert "external plugins disabled" in text and "ksops" in text


def test_operate_first_unlisted_app_of_apps_is_not_live(operate_first: RevisionView) -> None:
    # app-of-apps-demo.yaml sits in argocd/overlays/moc-infra/applications/app-of-apps/ but its
    # kustomization.yaml does not list it: even though argocd/argocd cannot render (remote base), the local
    # kustomization shows demo is not part of it, so neither it nor its children are live.
    apps = by_id(operate_first)
    assert "argocd/opf-app-of-apps-demo" not in apps
    assert "moc-infra/argocd/alertreceiver-demo" not in apps
    assert any(
        u.what.startswith("document at argocd/overlays/moc-infra/applications/app-of-apps/app-of-apps-demo.yaml")
        and "not listed by the kustomization of argocd/argocd" in u.reason
        for u in operate_first.discovery.unrendered
    )


def test_operate_first_other_git_repositories_are_external(operate_first: RevisionView) -> None:
    apps = by_id(operate_first)
    expected = {
        "moc-infra/argocd/prod-thoth-adviser-smaug": "https://github.com/thoth-station/thoth-application.git",
        "argocd/opf-app-of-apps-ocp-prod": "https://github.com/CCI-MOC/moc-apps.git",
        "moc-infra/argocd/api-designer-smaug": "https://github.com/Apicurio/apicurio-operate-first",
    }
    reasons = unrendered_reasons(operate_first)
    for app_id, url in expected.items():
        (source,) = apps[app_id].sources
        assert (source.origin, source.repo_url) == ("external", url), app_id
        assert any(what.startswith(app_id) and url in reason for what, reason in reasons.items()), app_id
        assert url in failed_without_output(operate_first.render(apps[app_id]))
    adviser = apps["moc-infra/argocd/prod-thoth-adviser-smaug"]
    assert (adviser.destination.name, adviser.destination.namespace) == ("smaug", "thoth-backend-prod")
    assert adviser.parent == "argocd/opf-app-of-apps-smaug"


def test_operate_first_commented_out_application_is_unreferenced(operate_first: RevisionView) -> None:
    # pulp.yaml is not in envs/moc/smaug/operate-first/kustomization.yaml
    pulp = f"{MOC}/envs/moc/smaug/operate-first/pulp.yaml"
    assert pulp in unreferenced_files(operate_first)
    assert not any(a.name.startswith("pulp") for a in operate_first.discovery.apps)


def test_operate_first_listed_applications_are_not_reported_unreferenced(operate_first: RevisionView) -> None:
    unreferenced = unreferenced_files(operate_first)
    # both files are listed in their kustomizations and produce live children (acme-operator-smaug, acm-infra)
    assert by_id(operate_first)["moc-infra/argocd/acme-operator-smaug"]
    assert by_id(operate_first)["moc-infra/argocd/acm-infra"]
    assert f"{MOC}/envs/moc/smaug/operate-first/acme-operator.yaml" not in unreferenced
    assert f"{MOC}/envs/moc/infra/cluster-management/acm.yaml" not in unreferenced


# --- cloud-native-toolkit/multi-tenancy-gitops ------------------------------------------------------

GITOPS_URL = "${GIT_BASEURL}/${GIT_ORG}/${GIT_GITOPS}"
MULTI_TENANCY_CONFIGS = {
    "main": {"repos": [GITOPS_URL], "ignore": ["0-bootstrap/others/**", "doc/**", "setup/**", "scripts/**"]},
    # doc/, setup/ and scripts/ read too
    "docs": {"repos": [GITOPS_URL], "ignore": ["0-bootstrap/others/**"]},
    # everything read: the alternative layouts in 0-bootstrap/others as well
    "everything": {"repos": [GITOPS_URL]},
}
SINGLE = "0-bootstrap/single-cluster"
LAYERS = {"infra": ("1-infra", 100), "services": ("2-services", 200), "applications": ("3-apps", 300)}


@pytest.fixture(scope="module")
def multi_tenancy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RevisionView]]:
    with opened(tmp_path_factory, "multi-tenancy-gitops", MULTI_TENANCY_CONFIGS) as (_, views):
        yield views


def test_multi_tenancy_bootstrap_and_its_three_layers(multi_tenancy: dict[str, RevisionView]) -> None:
    view = multi_tenancy["main"]
    apps = by_id(view)
    assert set(apps) == {"openshift-gitops/bootstrap-single-cluster"} | {f"openshift-gitops/{n}" for n in LAYERS}
    root = apps["openshift-gitops/bootstrap-single-cluster"]
    assert root.parent is None
    assert root.defined_in is not None and root.defined_in.file == "0-bootstrap/bootstrap.yaml"
    assert (root.sources[0].path, root.sources[0].origin) == (SINGLE, "repo")
    result = view.render(root)
    assert result.errors == ()
    waves = {r.key.name: r.sync_wave for r in result.resources if r.key.kind == "Application"}
    assert waves == {name: wave for name, (_, wave) in LAYERS.items()}
    infra_project = one(result.resources, "AppProject", "infra").body["spec"]["sourceRepos"]
    assert infra_project == ["${HELM_REPOURL}", GITOPS_URL, "${GIT_BASEURL}/${GIT_ORG}/${GIT_GITOPS_INFRA}"]
    for name, (layer, _) in LAYERS.items():
        child = apps[f"openshift-gitops/{name}"]
        assert child.parent == root.id
        (source,) = child.sources
        # repoURL/targetRevision added and the destination namespace replaced by the bootstrap's patches
        assert (source.path, source.repo_url, source.target_revision) == (
            f"{SINGLE}/{layer}",
            GITOPS_URL,
            "${GIT_GITOPS_BRANCH}",
        )
        assert child.destination.namespace == "${GIT_GITOPS_NAMESPACE}"
        rendered = view.render(child)
        assert rendered.errors == () and rendered.resources == (), name  # every resource is commented out


def test_multi_tenancy_commented_out_applications_are_unreferenced(multi_tenancy: dict[str, RevisionView]) -> None:
    view = multi_tenancy["main"]
    unreferenced = {f for f in unreferenced_files(view) if "/argocd/" in f}
    assert 180 <= len(unreferenced) <= 200
    assert f"{SINGLE}/1-infra/argocd/namespace-ci.yaml" in unreferenced
    assert f"{SINGLE}/2-services/argocd/operators/openshift-pipelines.yaml" in unreferenced
    assert f"{SINGLE}/3-apps/argocd/mq/prod.yaml" in unreferenced
    assert all(f.startswith(f"{SINGLE}/") for f in unreferenced)
    assert len(view.discovery.apps) == 4


def test_multi_tenancy_live_layer_documents_are_not_unreferenced(multi_tenancy: dict[str, RevisionView]) -> None:
    unreferenced = unreferenced_files(multi_tenancy["main"])
    for layer, _ in LAYERS.values():
        assert f"{SINGLE}/{layer}/{layer}.yaml" not in unreferenced


def test_multi_tenancy_broken_yaml_is_a_warning(multi_tenancy: dict[str, RevisionView]) -> None:
    broken = "argocd/operators/ibm-opsdashboard-operator.yaml"  # `     helm:` mis-indented at line 20 / 19
    # `grep -rn -E "^     helm:"` finds the mis-indented line in these copies of the file
    others = [
        "1-shared-cluster/cluster-1-cicd-dev-stage-prod",
        "1-shared-cluster/cluster-n-prod",
        "2-isolated-cluster/cluster-n-prod",
        "2-isolated-cluster/cluster-1-cicd-dev-stage",
        "3-multi-cluster/cluster-1-cicd",
        "3-multi-cluster/cluster-n-prod",
        "3-multi-cluster/cluster-2-dev",
        "3-multi-cluster/cluster-3-stage",
    ]
    expected = {
        "main": {f"{SINGLE}/2-services/{broken}:20"},
        "docs": {
            f"{SINGLE}/2-services/{broken}:20",
            f"doc/scenarios/apic-multi-cluster/gateway-analytics-cluster/2-services/{broken}:19",
            f"doc/scenarios/apic-multi-cluster/management-portal-cluster/2-services/{broken}:19",
        },
    }
    expected["everything"] = expected["docs"] | {
        f"0-bootstrap/others/{layout}/2-services/{broken}:20" for layout in others
    }
    for name, view in multi_tenancy.items():
        warned = {w.split(": ", 1)[0] for w in view.discovery.warnings if "invalid YAML" in w}
        assert warned == expected[name], name
        assert any("ibm-apic-gateway-analytics-instance" in w and "no spec" in w for w in view.discovery.warnings)
        assert "openshift-gitops/bootstrap-single-cluster" in by_id(view)


def test_multi_tenancy_doc_application_without_repo_url_fails(multi_tenancy: dict[str, RevisionView]) -> None:
    view = multi_tenancy["docs"]
    app = by_id(view)["argocd/apps-ace-ci"]  # doc/.../3-apps/argocd/ace/cicd.yaml: the repoURL is patched in
    assert app.defined_in is not None
    assert (
        app.defined_in.file == "doc/scenarios/apic-multi-cluster/gateway-analytics-cluster/3-apps/argocd/ace/cicd.yaml"
    )
    assert app.sources[0].repo_url == ""
    failed_without_output(view.render(app))


def test_multi_tenancy_missing_repo_url_is_named_as_such(multi_tenancy: dict[str, RevisionView]) -> None:
    view = multi_tenancy["docs"]
    text = error_text(view.render(by_id(view)["argocd/apps-ace-ci"]))
    assert "another Git repository" not in text and "repoURL" in text


# --- aws-samples/eks-blueprints-add-ons -------------------------------------------------------------

EKS_URL = "https://github.com/aws-samples/eks-blueprints-add-ons.git"
EKS_ANNOTATIONS = {
    "addons_repo_url": EKS_URL,
    "addons_repo_revision": "HEAD",
    "addons_repo_basepath": "argocd/",
    "addons_repo_path": "bootstrap/control-plane/addons",
}
EKS_CONFIG = {
    "repos": [EKS_URL],
    "clusters": [
        # the control plane: every AppSet excludes it (akuity.io/argo-cd-cluster-name NotIn [in-cluster])
        {
            "name": "in-cluster",
            "server": IN_CLUSTER,
            "labels": {"akuity.io/argo-cd-cluster-name": "in-cluster", "enable_metrics_server": "true"},
        },
        {
            "name": "my-cluster",  # argocd/clusters/my-cluster/addons/... holds its value files
            "server": "https://my-cluster.example.com",
            "labels": {
                "environment": "dev",
                "enable_metrics_server": "true",
                "enable_kyverno": "true",
                "enable_aws_ebs_csi_resources": "true",
            },
            "annotations": EKS_ANNOTATIONS,
        },
        {
            "name": "staging-cluster",
            "server": "https://staging.example.com",
            "labels": {"environment": "staging", "enable_metrics_server": "true"},
            "annotations": EKS_ANNOTATIONS,
        },
        {
            "name": "prod-cluster",  # matches only the merge's `environment: prod` generator
            "server": "https://prod.example.com",
            "labels": {"environment": "prod"},
            "annotations": EKS_ANNOTATIONS,
        },
    ],
    "apps": [
        {"name": "add-ons", "path": "chart", "namespace": "argocd"},
        {
            "name": "add-ons-enabled",
            "path": "chart",
            "namespace": "argocd",
            "helm": {
                "releaseName": "add-ons",
                "valuesObject": {
                    "metricsServer": {"enable": True},
                    "clusterAutoscaler": {"enable": True, "serviceAccountName": "cluster-autoscaler-sa"},
                },
            },
        },
    ],
}


@pytest.fixture(scope="module")
def eks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RevisionView]:
    with opened(tmp_path_factory, "eks-blueprints-add-ons", {"main": EKS_CONFIG}) as (_, views):
        yield views["main"]


def test_eks_app_of_apps_chart_renders_nothing_with_default_values(eks: RevisionView) -> None:
    # chart/values.yaml: every add-on has `enable: false`; each template is wrapped in `if ... .enable`
    result = eks.render(by_id(eks)["argocd/add-ons"])
    assert result.errors == () and result.resources == ()
    assert not [a for a in eks.discovery.apps if a.parent == "argocd/add-ons"]


def test_eks_enabled_add_ons_appear_as_children(eks: RevisionView) -> None:
    apps = by_id(eks)
    children = {a.id for a in eks.discovery.apps if a.parent == "argocd/add-ons-enabled"}
    assert children == {"argocd/metrics-server", "argocd/cluster-autoscaler"}
    metrics = apps["argocd/metrics-server"]
    (source,) = metrics.sources
    assert (source.repo_url, source.path, source.target_revision) == (EKS_URL, "add-ons/metrics-server", "HEAD")
    assert yaml.safe_load(source.spec["helm"]["values"]) == {"metrics-server": {"enable": True}}
    assert (metrics.destination.server, metrics.destination.namespace) == (IN_CLUSTER, "kube-system")
    assert metrics.sync_policy.automated and metrics.sync_policy.prune and not metrics.sync_policy.self_heal
    autoscaler = apps["argocd/cluster-autoscaler"].sources[0].spec["helm"]["parameters"]
    assert {"name": "cluster-autoscaler.rbac.serviceAccount.name", "value": "cluster-autoscaler-sa"} in autoscaler
    # add-ons/<name> are wrapper charts whose only content is a remote dependency: fail closed
    text = failed_without_output(eks.render(metrics))
    assert "metrics-server" in text and "3.8.2" in text and "https://kubernetes-sigs.github.io/metrics-server" in text
    assert "9.19.2" in failed_without_output(eks.render(apps["argocd/cluster-autoscaler"]))


def test_eks_bootstrap_applicationset_renders_the_addon_applicationsets(eks: RevisionView) -> None:
    bootstraps = [a for a in eks.discovery.apps if a.name == "bootstrap-addons"]
    assert len(bootstraps) == 1  # a fixed name for 3 matching clusters: duplicates are refused
    assert any("duplicate" in str(e) and "bootstrap-addons" in str(e) for e in eks.discovery.errors)
    (bootstrap,) = bootstraps
    assert bootstrap.generator == "ApplicationSet argocd/bootstrap-addons"
    assert bootstrap.sources[0].path == "argocd/bootstrap/control-plane/addons"
    result = eks.render(bootstrap)
    assert result.errors == ()
    appsets = {r.key.name for r in result.resources if r.key.kind == "ApplicationSet"}
    assert len(appsets) == 36 == len(result.resources)  # argocd/bootstrap/control-plane/addons/{aws,oss}/*
    assert {"addons-metrics-server", "addons-kyverno", "addons-aws-ebs-csi-resources"} <= appsets


def test_eks_merge_of_clusters_generators(eks: RevisionView) -> None:
    # merge: the first clusters generator (NotIn in-cluster, enable_metrics_server=true) is the base;
    # the staging/prod generators only override values of base entries, never add clusters
    names = {a.name for a in eks.discovery.apps if a.generator == "ApplicationSet argocd/addons-metrics-server"}
    assert names == {"addon-my-cluster-metrics-server", "addon-staging-cluster-metrics-server"}


def test_eks_multi_source_values_refs(eks: RevisionView) -> None:
    apps = {a.name: a for a in eks.discovery.apps}
    metrics = apps["addon-my-cluster-metrics-server"]
    assert metrics.parent == "argocd/bootstrap-addons"
    assert (metrics.destination.name, metrics.destination.namespace) == ("my-cluster", "kube-system")
    ref, chart = metrics.sources
    assert (ref.ref, ref.repo_url, ref.origin) == ("values", EKS_URL, "repo")
    assert (chart.chart, chart.repo_url, chart.target_revision) == (
        "metrics-server",
        "https://kubernetes-sigs.github.io/metrics-server",
        "3.11.0",
    )
    assert chart.spec["helm"]["valueFiles"] == [
        "$values/argocd/charts/addons/metrics-server/values.yaml",
        "$values/argocd/environments/dev/addons/metrics-server/values.yaml",
        "$values/argocd/clusters/my-cluster/addons/metrics-server/values.yaml",
    ]
    assert "offline" in failed_without_output(eks.render(metrics))
    # three sources: the $values ref, the kyverno chart (not fetched) and the in-repo resources chart
    kyverno = apps["addon-my-cluster-kyverno"]
    assert [s.origin for s in kyverno.sources] == ["repo", "chart", "repo"]
    assert kyverno.sources[2].path == "argocd/charts/addons/kyverno/resources"
    result = eks.render(kyverno)
    assert "https://kyverno.github.io/kyverno" in error_text(result)  # the app as a whole fails


def test_eks_in_repo_chart_from_an_applicationset(eks: RevisionView) -> None:
    app = {a.name: a for a in eks.discovery.apps}["addon-my-cluster-aws-ebs-csi-resources"]
    assert app.sources[0].path == "argocd/charts/addons/aws-ebs-csi/resources"
    result = eks.render(app)
    assert result.errors == ()
    classes = {r.key.name: r.body for r in result.resources if r.key.kind == "StorageClass"}
    assert set(classes) == {"gp2", "gp3"}
    assert classes["gp3"]["provisioner"] == "ebs.csi.aws.com"
    assert classes["gp3"]["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert classes["gp2"]["provisioner"] == "kubernetes.io/aws-ebs"


def test_eks_clusters_applicationset_path_is_missing(eks: RevisionView) -> None:
    # clusters-appset.yaml: path clusters/{{name}}; the repo has argocd/clusters/, not clusters/
    app = {a.name: a for a in eks.discovery.apps}["cluster-my-cluster"]
    assert app.sources[0].path == "clusters/my-cluster"
    assert app.sync_policy.allow_empty
    assert "clusters/my-cluster" in failed_without_output(eks.render(app))
    assert "cluster-in-cluster" not in {a.name for a in eks.discovery.apps}


# --- gitops-bridge-dev/gitops-bridge ----------------------------------------------------------------

BRIDGE_URL = "https://github.com/gitops-bridge-dev/gitops-bridge"
BRIDGE_EXAMPLES = "argocd/iac/terraform/examples/eks"
BRIDGE_OTHERS = [
    "multi-cluster",
    "argo-wf-ingress",
    "argo-workflows",
    "argocd-ingress",
    "aws-secrets-manager",
    "complete",
    "crossplane",
    "external-secrets",
    "karpenter",
    "private-ecr",
    "private-git",
]
BRIDGE_CONFIGS = {
    # no clusters declared: `clusters: {}` generators target the local cluster, which has no annotations
    "bare": {"repos": [BRIDGE_URL], "ignore": [f"{BRIDGE_EXAMPLES}/{d}/**" for d in BRIDGE_OTHERS]},
    # the getting-started example as its Terraform bootstraps it (main.tf / variables.tf defaults)
    "getting-started": {
        "repos": [BRIDGE_URL],
        "ignore": [f"{BRIDGE_EXAMPLES}/{d}/**" for d in BRIDGE_OTHERS],
        "clusters": [
            {
                "name": "getting-started",
                "server": IN_CLUSTER,
                "labels": {"environment": "dev", "enable_metrics_server": "true"},
                "annotations": {
                    "addons_repo_url": "https://github.com/gitops-bridge-dev/gitops-bridge-argocd-control-plane-template",
                    "addons_repo_basepath": "",
                    "addons_repo_path": "bootstrap/control-plane/addons",
                    "addons_repo_revision": "main",
                    "workload_repo_url": BRIDGE_URL,
                    "workload_repo_basepath": f"{BRIDGE_EXAMPLES}/",
                    "workload_repo_path": "getting-started/k8s",
                    "workload_repo_revision": "main",
                },
            }
        ],
    },
}


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RevisionView]]:
    with opened(tmp_path_factory, "gitops-bridge", BRIDGE_CONFIGS) as (_, views):
        yield views


def test_bridge_getting_started(bridge: dict[str, RevisionView]) -> None:
    view = bridge["getting-started"]
    apps = {a.name: a for a in view.discovery.apps}
    assert set(apps) == {"cluster-addons", "workloads"}
    addons = apps["cluster-addons"]
    assert addons.generator == "ApplicationSet argocd/cluster-addons"
    assert addons.sources[0].origin == "external"
    assert addons.sources[0].path == "bootstrap/control-plane/addons"
    assert any(what.startswith("argocd/cluster-addons") for what in unrendered_reasons(view))
    workloads = apps["workloads"]
    assert workloads.finalizers == (FINALIZER,)
    assert workloads.sources[0].path == f"{BRIDGE_EXAMPLES}/getting-started/k8s"
    assert (workloads.destination.name, workloads.destination.namespace) == ("getting-started", "")
    result = view.render(workloads)
    assert result.errors == ()
    assert keys(result.resources) == {
        ("Namespace", "", "game-2048"),
        ("Deployment", "game-2048", "game-2048"),
        ("Service", "game-2048", "game-2048"),
        ("Ingress", "game-2048", "game-2048"),
    }


def test_bridge_unfilled_placeholders_are_reported(bridge: dict[str, RevisionView]) -> None:
    view = bridge["bare"]
    apps = {a.name: a for a in view.discovery.apps}
    # the local cluster only: its cluster secret (made by Terraform) is what carries the annotations
    addons = apps["cluster-addons"]
    assert addons.destination.name == "in-cluster"
    assert addons.sources[0].repo_url == "{{metadata.annotations.addons_repo_url}}"
    text = failed_without_output(view.render(addons))
    assert "{{metadata.annotations.addons_repo_url}}" in text
    assert any("{{metadata.annotations.addons_repo_url}}" in r for r in unrendered_reasons(view).values())


def test_bridge_placeholder_is_not_called_another_repository(bridge: dict[str, RevisionView]) -> None:
    view = bridge["bare"]
    text = error_text(view.render({a.name: a for a in view.discovery.apps}["cluster-addons"]))
    assert "another Git repository" not in text


# --- StatCan/aaw-argocd-manifests -------------------------------------------------------------------

AAW_URL = "https://github.com/StatCan/aaw-argocd-manifests.git"


def _aaw_root(ext_vars: list[dict[str, str]]) -> dict[str, Any]:
    # the namespace's root app lives in the cluster: recurse the folder, jsonnet ext-vars as ./jsonnet sets
    directory: dict[str, Any] = {"recurse": True}
    if ext_vars:
        directory["jsonnet"] = {"extVars": ext_vars}
    return {"name": "daaas-system", "path": "daaas-system", "namespace": "daaas-system", "directory": directory}


AAW_CONFIGS = {
    "prod": {"repos": [AAW_URL], "apps": [_aaw_root([{"name": "targetRevision", "value": "aaw-prod-cc-00"}])]},
    "no-ext-var": {"repos": [AAW_URL], "apps": [_aaw_root([])]},
}


@pytest.fixture(scope="module")
def aaw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RevisionView]]:
    with opened(tmp_path_factory, "aaw-argocd-manifests", AAW_CONFIGS) as (_, views):
        yield views


def test_aaw_jsonnet_with_the_prod_ext_var(aaw: dict[str, RevisionView]) -> None:
    view = aaw["prod"]
    result = view.render(by_id(view)["argocd/daaas-system"])
    assert result.errors == ()
    instances = one(result.resources, "ConfigMap", "minio-instances-json")
    assert instances.location is not None
    assert instances.location.file == "daaas-system/notebook-controllers/minio-credential-injector/instances.jsonnet"
    text = instances.body["data"]["instances.json"]
    assert "minio-gateway-protected-b-system" in text and "aaw-dev" not in text
    policies = one(result.resources, "Application", "network-policies")
    assert policies.sync_wave == 2
    assert policies.body["spec"]["source"]["path"] == "environments/aaw-prod-cc-00"
    profiles = one(result.resources, "Application", "profiles-controller").body["spec"]["source"]["helm"]["values"]
    assert '"mount_path" = "auth/aaw-prod-cc-00"' in profiles
    assert "instances: minio_gateway_standard,minio_gateway_premium,minio_gateway_protected_b" in profiles


def test_aaw_children_external_repos_and_chart_repositories(aaw: dict[str, RevisionView]) -> None:
    view = aaw["prod"]
    apps = by_id(view)
    children = {a.name for a in view.discovery.apps if a.parent == "argocd/daaas-system"}
    assert {"blob-csi-driver", "kubeflow-profiles", "namespace-controller", "network-policies"} <= children
    assert {"profiles-controller", "trino", "hive-metastore", "inferenceservices-controller"} <= children
    blob = apps["daaas-system/blob-csi-driver"]
    assert (blob.sources[0].origin, blob.sources[0].chart) == ("chart", "blob-csi-driver")
    text = failed_without_output(view.render(blob))
    assert "https://raw.githubusercontent.com/kubernetes-sigs/blob-csi-driver/master/charts" in text
    assert "offline" in text
    profiles = apps["daaas-system/profiles-controller"]  # an Application written in jsonnet
    assert (profiles.sources[0].chart, profiles.sources[0].target_revision) == ("profiles-controller", "0.4.4")
    assert "https://statcan.github.io/charts" in failed_without_output(view.render(profiles))
    trino = apps["daaas-system/trino"]
    assert (trino.sources[0].origin, trino.sources[0].repo_url) == ("external", "https://github.com/StatCan/aaw-trino")
    assert (trino.destination.name, trino.destination.namespace) == ("in-cluster", "trino-system")


def test_aaw_missing_ext_var_fails_the_root(aaw: dict[str, RevisionView]) -> None:
    view = aaw["no-ext-var"]
    text = failed_without_output(view.render(by_id(view)["argocd/daaas-system"]))
    assert "targetRevision" in text and ".jsonnet" in text


# --- argoproj/argo-cd applicationset/examples -------------------------------------------------------

ARGO_CD_URL = "https://github.com/argoproj/argo-cd.git"
EXAMPLES = "applicationset/examples"
EXAMPLE_CLUSTERS = [
    {"name": "engineering-dev", "server": "https://1.2.3.4", "labels": {"use-kafka": "false"}},
    {"name": "staging", "server": "https://5.6.7.8"},
]
# one ApplicationSet file at a time: the examples reuse names (three AppSets are called `guestbook`)
ONE_EXAMPLE = {
    "list": "list-generator/list-example.yaml",
    "git-directories": "git-generator-directory/git-directories-example.yaml",
    "git-directories-exclude": "git-generator-directory/excludes/git-directories-exclude-example.yaml",
    "git-files": "git-generator-files-discovery/git-generator-files.yaml",
    "matrix": "matrix/list-and-git.yaml",
    "merge": "merge/merge-clusters-and-list.yaml",
    "template-override": "template-override/template-overrides-example.yaml",
}


def _appset_configs(clone: Path) -> Configs:
    listing = subprocess.run(
        ["git", "ls-files", "*.yaml"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.split()
    configs: dict[str, Mapping[str, Any]] = {"all": {"repos": [ARGO_CD_URL], "clusters": EXAMPLE_CLUSTERS}}
    for name, keep in ONE_EXAMPLE.items():
        ignore = [f for f in listing if f != f"{EXAMPLES}/{keep}"]
        configs[name] = {"repos": [ARGO_CD_URL], "clusters": EXAMPLE_CLUSTERS, "ignore": ignore}
    return configs


@pytest.fixture(scope="module")
def appset_examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, RevisionView]]]:
    with opened(tmp_path_factory, "argo-cd-applicationset-examples", _appset_configs) as (clone, views):
        yield clone, views


def test_appset_list_generator(appset_examples: tuple[Path, dict[str, RevisionView]]) -> None:
    view = appset_examples[1]["list"]
    apps = {a.name: a for a in view.discovery.apps}
    assert set(apps) == {"engineering-dev-guestbook", "engineering-prod-guestbook"}
    for cluster in ("engineering-dev", "engineering-prod"):
        app = apps[f"{cluster}-guestbook"]
        assert app.generator == "ApplicationSet argocd/guestbook"
        assert app.sources[0].path == f"{EXAMPLES}/list-generator/guestbook/{cluster}"
        assert (app.destination.server, app.destination.namespace) == (IN_CLUSTER, "guestbook")
        result = view.render(app)
        assert result.errors == ()
        assert keys(result.resources) == {
            ("Deployment", "guestbook", "guestbook-ui"),
            ("Service", "guestbook", "guestbook-ui"),
        }


def test_appset_git_directories_match_the_snapshot_paths(appset_examples: tuple[Path, dict[str, RevisionView]]) -> None:
    clone, views = appset_examples
    # the snapshot keeps argo-cd's applicationset/examples/ prefix: the generator's paths exist in it
    apps = {a.name: a for a in views["git-directories"].discovery.apps}
    assert set(apps) == {"argo-workflows", "prometheus-operator"}
    for name, app in apps.items():
        assert app.sources[0].path == f"{EXAMPLES}/git-generator-directory/cluster-addons/{name}"
        assert (clone / app.sources[0].path).is_dir()
        assert app.destination.namespace == name
        assert app.project == "my-project"
    # argo-workflows: a kustomization whose only resource is an https URL; prometheus-operator: a chart
    # whose requirements.yaml dependency (kube-prometheus-stack 40.5.0) is not vendored
    workflows = failed_without_output(views["git-directories"].render(apps["argo-workflows"]))
    assert "https://github.com/argoproj/argo-workflows/releases/download/v3.4.0/namespace-install.yaml" in workflows
    operator = failed_without_output(views["git-directories"].render(apps["prometheus-operator"]))
    assert "kube-prometheus-stack" in operator and "40.5.0" in operator


def test_appset_git_directories_exclude(appset_examples: tuple[Path, dict[str, RevisionView]]) -> None:
    view = appset_examples[1]["git-directories-exclude"]
    apps = {a.name: a for a in view.discovery.apps}
    assert set(apps) == {"argo-workflows", "prometheus-operator"}  # exclude-helm-guestbook excluded
    # the template says `path: '{{.path}}'` in goTemplate mode: the whole path map, as Go prints it
    path = apps["argo-workflows"].sources[0].path
    assert path is not None and path.startswith("map[") and "argo-workflows" in path
    failed_without_output(view.render(apps["argo-workflows"]))


def test_appset_git_files(appset_examples: tuple[Path, dict[str, RevisionView]]) -> None:
    view = appset_examples[1]["git-files"]
    apps = {a.name: a for a in view.discovery.apps}
    # cluster-config/engineering/{dev,prod}/config.json: cluster.name
    assert set(apps) == {"engineering-dev-guestbook", "engineering-prod-guestbook"}
    result = view.render(apps["engineering-prod-guestbook"])
    assert result.errors == ()
    assert keys(result.resources) == {  # apps/guestbook/kustomization.yaml: namePrefix kustomize-
        ("Deployment", "guestbook", "kustomize-guestbook-ui"),
        ("Service", "guestbook", "kustomize-guestbook-ui"),
    }


def test_appset_matrix_of_git_and_list(appset_examples: tuple[Path, dict[str, RevisionView]]) -> None:
    view = appset_examples[1]["matrix"]
    apps = {a.name: a for a in view.discovery.apps}
    assert set(apps) == {
        f"{addon}-{cluster}"
        for addon in ("argo-workflows", "prometheus-operator")
        for cluster in ("engineering-dev", "engineering-prod")
    }
    dev = apps["argo-workflows-engineering-dev"]
    assert (dev.project, dev.destination.server) == ("dev", "https://1.2.3.4")
    assert (
        apps["argo-workflows-engineering-prod"].project,
        apps["argo-workflows-engineering-prod"].destination.server,
    ) == (
        "prod",
        "https://2.4.6.8",
    )
    result = view.render(dev)  # matrix/cluster-addons/argo-workflows vendors namespace-install.yaml
    assert result.errors == ()
    kinds: dict[str, int] = {}
    for r in result.resources:
        kinds[r.key.kind] = kinds.get(r.key.kind, 0) + 1
    assert kinds == {
        "CustomResourceDefinition": 5,
        "ConfigMap": 1,
        "Deployment": 2,
        "Role": 2,
        "RoleBinding": 2,
        "Service": 2,
        "ServiceAccount": 2,
    }
    assert {r.key.namespace for r in result.resources if r.key.kind == "CustomResourceDefinition"} == {""}
    assert "9.4.10" in failed_without_output(view.render(apps["prometheus-operator-engineering-prod"]))


def test_appset_merge_of_clusters_and_list(appset_examples: tuple[Path, dict[str, RevisionView]]) -> None:
    view = appset_examples[1]["merge"]
    apps = {a.name: a for a in view.discovery.apps}
    # base: every cluster, the local one included (no selector); the list entry for
    # https://some-specific-cluster matches no base entry and is dropped
    assert set(apps) == {"in-cluster", "engineering-dev", "staging"}
    params = {
        name: {p["name"]: p["value"] for p in app.sources[0].spec["helm"]["parameters"]} for name, app in apps.items()
    }
    assert params == {
        "in-cluster": {"kafka": "true", "redis": "false"},
        "engineering-dev": {"kafka": "false", "redis": "false"},  # use-kafka: 'false' overrides kafka only
        "staging": {"kafka": "true", "redis": "false"},
    }
    assert all(a.sources[0].origin == "external" for a in apps.values())  # argocd-example-apps


def test_appset_template_override(appset_examples: tuple[Path, dict[str, RevisionView]]) -> None:
    view = appset_examples[1]["template-override"]
    (app,) = view.discovery.apps
    assert app.name == "engineering-dev-guestbook"
    # the generator's own template overrides the AppSet template's source path
    assert app.sources[0].path == f"{EXAMPLES}/template-override/engineering-dev-override"
    assert app.destination.namespace == "guestbook"
    assert view.render(app).errors == ()


def test_appset_generators_that_cannot_run_offline_are_reported(
    appset_examples: tuple[Path, dict[str, RevisionView]],
) -> None:
    view = appset_examples[1]["all"]
    reasons = {u.location.file: u.reason for u in view.discovery.unrendered if u.location is not None}
    assert "clusterDecisionResource" in reasons[f"{EXAMPLES}/clusterDecisionResource/ducktype-example.yaml"]
    assert "pullRequest" in reasons[f"{EXAMPLES}/pull-request-generator/pull-request-example.yaml"]
    assert "scmProvider" in reasons[f"{EXAMPLES}/scm-provider-generator/scm-provider-example.yaml"]
    # design-doc examples read another repository with their git generators
    assert (
        "https://github.com/infra-team/cluster-deployments.git"
        in reasons[f"{EXAMPLES}/design-doc/git-files-discovery.yaml"]
    )
    # matrix/cluster-and-git.yaml uses .metadata.labels.environment with missingkey=error; no cluster has it
    assert any("cluster-git" in str(e) for e in view.discovery.errors)
