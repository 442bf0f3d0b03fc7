"""ApplicationSet expansion against Argo CD's own examples (argoproj/argo-cd `applicationset/examples`).

Expected values are read off the example manifests and Argo CD's documentation and source
(`applicationset/generators/*.go`, `applicationset/utils/utils.go`), not produced by running the code.
The examples' git generators point at https://github.com/argoproj/argo-cd.git, which is the
repository the corpus snapshot is a copy of, so they are read from the clone.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from corpus_fixture import clone_corpus

from reviewer.config import Cluster
from reviewer.discovery.appsets import (
    RESOURCES_FINALIZER,
    AppSetExpansion,
    expand_appset,
    fasttemplate,
    go_format,
    sanitize_name,
)
from reviewer.globs import git_pathspec_match, go_path_match
from reviewer.yamlio import load_yaml, load_yaml_stream

ARGO_CD = "https://github.com/argoproj/argo-cd.git"
IN_CLUSTER = "https://kubernetes.default.svc"
DEV = Cluster(name="engineering-dev", server="https://1.2.3.4", labels={"environment": "dev"}, project="team-a")
PROD = Cluster(
    name="engineering-prod",
    server="https://2.4.6.8",
    labels={"environment": "prod"},
    annotations={"owner": "ops"},
)


@pytest.fixture(scope="session")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_corpus("argo-cd-applicationset-examples", tmp_path_factory.mktemp("corpus") / "appset-examples")


def is_argo_cd(url: str) -> bool:
    return url.removesuffix(".git").rstrip("/") == ARGO_CD.removesuffix(".git")


def load(root: Path, name: str) -> dict[str, Any]:
    path = root / "applicationset" / "examples" / name
    docs = [d.data for d in load_yaml_stream(path.read_text(encoding="utf-8"), file=name)]
    appsets = [d for d in docs if isinstance(d, dict) and d.get("kind") == "ApplicationSet"]
    assert len(appsets) == 1, name
    return appsets[0]


def expand(root: Path, appset: Mapping[str, Any], clusters: Sequence[Cluster] = (DEV, PROD)) -> AppSetExpansion:
    return expand_appset(appset, tree_root=root, is_this_repo=is_argo_cd, clusters=clusters, file="appset.yaml")


def inline(text: str) -> dict[str, Any]:
    data = load_yaml(text)
    assert isinstance(data, dict)
    return data


def names(expansion: AppSetExpansion) -> list[str]:
    return [app["metadata"]["name"] for app in expansion.applications]


def by_name(expansion: AppSetExpansion) -> dict[str, Mapping[str, Any]]:
    return {app["metadata"]["name"]: app for app in expansion.applications}


def helm_parameters(app: Mapping[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in app["spec"]["source"]["helm"]["parameters"]}


# --- list -------------------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize(
    "example", ["list-generator/list-example.yaml", "list-generator/list-example-fasttemplate.yaml"]
)
def test_list_generator(examples: Path, example: str) -> None:
    result = expand(examples, load(examples, example))

    assert result.errors == () and result.unrendered == ()
    assert names(result) == ["engineering-dev-guestbook", "engineering-prod-guestbook"]
    for app, cluster in zip(result.applications, ["engineering-dev", "engineering-prod"], strict=True):
        assert app["apiVersion"] == "argoproj.io/v1alpha1" and app["kind"] == "Application"
        assert "namespace" not in app["metadata"]  # the AppSet declares no namespace
        assert app["metadata"]["finalizers"] == [RESOURCES_FINALIZER]
        assert app["spec"]["project"] == "default"
        source = app["spec"]["source"]
        assert source == {
            "repoURL": ARGO_CD,
            "targetRevision": "HEAD",
            "path": f"applicationset/examples/list-generator/guestbook/{cluster}",
        }
        assert (examples / source["path"]).is_dir()
        assert app["spec"]["destination"] == {"server": IN_CLUSTER, "namespace": "guestbook"}
    assert result.policy == "sync" and result.preserve_resources_on_deletion is False


@pytest.mark.corpus
@pytest.mark.parametrize("example", ["design-doc/list.yaml", "design-doc/list-fasttemplate.yaml"])
def test_list_values_become_parameters(examples: Path, example: str) -> None:
    # goTemplate reads {{.values.project}} from the nested map; fasttemplate flattens it to values.project.
    result = expand(examples, load(examples, example))

    apps = by_name(result)
    assert {n: a["spec"]["project"] for n, a in apps.items()} == {
        "engineering-dev-guestbook": "dev",
        "engineering-prod-guestbook": "prod",
        "finance-preprod-guestbook": "preprod",
    }
    assert apps["finance-preprod-guestbook"]["spec"]["destination"]["server"] == "https://9.8.7.6"
    assert apps["finance-preprod-guestbook"]["spec"]["source"]["path"] == "guestbook/finance-preprod"


@pytest.mark.corpus
def test_post_selector_filters_parameter_sets(examples: Path) -> None:
    # docs/operator-manual/applicationset/Generators-Post-Selector.md
    appset = inline(
        """
        apiVersion: argoproj.io/v1alpha1
        kind: ApplicationSet
        metadata: {name: guestbook}
        spec:
          generators:
          - list:
              elements:
              - {cluster: engineering-dev, url: https://kubernetes.default.svc, env: staging}
              - {cluster: engineering-prod, url: https://kubernetes.default.svc, env: prod}
            selector:
              matchLabels: {env: staging}
          template:
            metadata: {name: '{{cluster}}-guestbook'}
            spec:
              project: default
              source: {repoURL: https://github.com/argoproj-labs/applicationset.git, targetRevision: HEAD,
                       path: 'examples/list-generator/guestbook/{{cluster}}'}
              destination: {server: '{{url}}', namespace: guestbook}
        """
    )
    assert names(expand(examples, appset)) == ["engineering-dev-guestbook"]


# --- clusters -----------------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("example", ["cluster/cluster-example.yaml", "cluster/cluster-example-fasttemplate.yaml"])
def test_cluster_generator_adds_the_local_cluster(examples: Path, example: str) -> None:
    # No selector: the local cluster (no secret) comes first, then every cluster secret.
    result = expand(examples, load(examples, example))

    assert names(result) == [
        "in-cluster-guestbook",
        "engineering-dev-guestbook",
        "engineering-prod-guestbook",
    ]
    servers = [app["spec"]["destination"]["server"] for app in result.applications]
    assert servers == [IN_CLUSTER, "https://1.2.3.4", "https://2.4.6.8"]
    assert all(app["spec"]["source"]["path"] == "guestbook" for app in result.applications)


@pytest.mark.corpus
def test_local_cluster_not_added_when_a_secret_has_its_server(examples: Path) -> None:
    local = Cluster(name="local", server=IN_CLUSTER)
    result = expand(examples, load(examples, "cluster/cluster-example.yaml"), clusters=[local, DEV])

    assert names(result) == ["local-guestbook", "engineering-dev-guestbook"]


@pytest.mark.corpus
def test_cluster_selector_excludes_the_local_cluster(examples: Path) -> None:
    # design-doc/clusters.yaml selects on the secret-type label every cluster secret carries. It
    # writes Go template syntax without goTemplate: fasttemplate leaves {{.name}} as it is, and the
    # API server refuses that name.
    result = expand(examples, load(examples, "design-doc/clusters.yaml"))

    assert result.applications == ()
    assert len(result.errors) == 2
    assert all("'{{.name}}-guestbook'" in e and "not a valid Kubernetes object name" in e for e in result.errors)


@pytest.mark.corpus
def test_cluster_parameters_selector_and_values(examples: Path) -> None:
    odd = Cluster(
        name="Team_A.Cluster",
        server="https://10.0.0.1",
        labels={"environment": "prod", "tier": "gold"},
        annotations={"owner": "team-a"},
        project="team-a",
    )
    appset = inline(
        """
        apiVersion: argoproj.io/v1alpha1
        kind: ApplicationSet
        metadata: {name: per-cluster, namespace: argocd}
        spec:
          goTemplate: true
          goTemplateOptions: ["missingkey=error"]
          generators:
          - clusters:
              selector:
                matchExpressions:
                - {key: environment, operator: In, values: [prod]}
              values:
                env: '{{ index .metadata.labels "environment" }}'
          template:
            metadata:
              name: '{{ .nameNormalized }}'
              labels:
                env: '{{ .values.env }}'
                type: '{{ index .metadata.labels "argocd.argoproj.io/secret-type" }}'
              annotations: {owner: '{{ index .metadata.annotations "owner" }}', cluster: '{{ .name }}'}
            spec:
              project: '{{ .project }}'
              source: {repoURL: https://github.com/argoproj/argo-cd.git, path: guestbook}
              destination: {server: '{{ .server }}', namespace: guestbook}
        """
    )
    result = expand(examples, appset, clusters=[DEV, odd])

    assert result.errors == ()
    # DEV is not prod; the selector also keeps the local cluster out. SanitizeName lowercases and
    # turns "_" into "-": Team_A.Cluster -> team-a.cluster.
    assert names(result) == ["team-a.cluster"]
    app = result.applications[0]
    assert app["metadata"]["namespace"] == "argocd"
    assert app["metadata"]["labels"] == {"env": "prod", "type": "cluster"}
    assert app["metadata"]["annotations"] == {"owner": "team-a", "cluster": "Team_A.Cluster"}
    assert app["spec"]["project"] == "team-a"
    assert app["spec"]["destination"]["server"] == "https://10.0.0.1"


# --- git ------------------------------------------------------------------------------------------------


@pytest.mark.corpus
def test_git_directories_with_exclude(examples: Path) -> None:
    example = "git-generator-directory/excludes/git-directories-exclude-example-fasttemplate.yaml"
    result = expand(examples, load(examples, example))

    # cluster-addons/* matches the three add-on directories; exclude-helm-guestbook is excluded, and
    # its templates/ subdirectory is not matched because `*` does not cross "/" (Go path.Match).
    assert result.errors == ()
    assert names(result) == ["argo-workflows", "prometheus-operator"]
    base = "applicationset/examples/git-generator-directory/excludes/cluster-addons"
    for app in result.applications:
        name = app["metadata"]["name"]
        assert app["metadata"]["namespace"] == "argocd"
        assert app["spec"]["project"] == "my-project"
        assert app["spec"]["source"]["path"] == f"{base}/{name}"
        assert app["spec"]["destination"] == {"server": IN_CLUSTER, "namespace": name}
        assert app["spec"]["syncPolicy"] == {"syncOptions": ["CreateNamespace=true"]}


@pytest.mark.corpus
def test_git_directories_go_template_path_is_a_map(examples: Path) -> None:
    # This example writes '{{.path}}' with goTemplate: .path is the map of path parameters, and Go
    # prints a map as map[key:value ...] with sorted keys.
    example = "git-generator-directory/excludes/git-directories-exclude-example.yaml"
    result = expand(examples, load(examples, example))

    app = by_name(result)["argo-workflows"]
    path = "applicationset/examples/git-generator-directory/excludes/cluster-addons/argo-workflows"
    assert app["spec"]["source"]["path"] == (
        f"map[basename:argo-workflows basenameNormalized:argo-workflows path:{path} "
        "segments:[applicationset examples git-generator-directory excludes cluster-addons argo-workflows]]"
    )


@pytest.mark.corpus
def test_git_directories_at_the_root_skip_hidden_directories(examples: Path) -> None:
    appset = inline(
        """
        metadata: {name: root}
        spec:
          generators:
          - git: {repoURL: https://github.com/argoproj/argo-cd.git, directories: [{path: '*'}]}
          template:
            metadata: {name: '{{path.basename}}'}
            spec:
              project: default
              source: {repoURL: x, path: '{{path}}'}
              destination: {server: x, namespace: x}
        """
    )
    assert (examples / ".git").is_dir()
    assert names(expand(examples, appset)) == ["applicationset"]


@pytest.mark.corpus
@pytest.mark.parametrize(
    "example",
    [
        "git-generator-files-discovery/git-generator-files.yaml",
        "git-generator-files-discovery/git-generator-files-fasttemplate.yaml",
    ],
)
def test_git_files_json(examples: Path, example: str) -> None:
    # cluster-config/engineering/{dev,prod}/config.json hold cluster.name engineering-dev / -prod.
    result = expand(examples, load(examples, example))

    assert result.errors == ()
    assert names(result) == ["engineering-dev-guestbook", "engineering-prod-guestbook"]
    for app in result.applications:
        assert app["spec"]["source"]["path"] == "applicationset/examples/git-generator-files-discovery/apps/guestbook"


@pytest.mark.corpus
@pytest.mark.parametrize(
    "example",
    [
        "git-generator-files-discovery/excludes/git-files-exclude-example.yaml",
        "git-generator-files-discovery/excludes/git-files-exclude-example-fasttemplate.yaml",
    ],
)
def test_git_files_exclude(examples: Path, example: str) -> None:
    assert names(expand(examples, load(examples, example))) == ["engineering-prod-guestbook"]


@pytest.mark.corpus
def test_git_files_path_parameters_and_greedy_glob(examples: Path) -> None:
    # Argo CD's default file globbing is `git ls-files` pathspecs, where `*` also matches "/"
    # (docs/operator-manual/applicationset/Generators-Git-File-Globbing.md): *.json finds the
    # config.json files two directories down.
    appset = inline(
        """
        metadata: {name: files, namespace: argocd}
        spec:
          generators:
          - git:
              repoURL: https://github.com/argoproj/argo-cd.git
              files: [{path: 'applicationset/examples/git-generator-files-discovery/*.json'}]
          template:
            metadata:
              name: '{{path[4]}}-{{path.basename}}'
              annotations:
                file: '{{path.filename}}'
                dir: '{{path}}'
                account: '{{aws_account}}'
                owner: '{{cluster.owner}}'
            spec:
              project: default
              source: {repoURL: x, path: x}
              destination: {server: '{{cluster.address}}', namespace: x}
        """
    )
    result = expand(examples, appset)

    assert names(result) == ["engineering-dev", "engineering-prod"]
    dev = result.applications[0]
    assert dev["metadata"]["annotations"] == {
        "file": "config.json",
        "dir": "applicationset/examples/git-generator-files-discovery/cluster-config/engineering/dev",
        "account": "123456",
        "owner": "cluster-admin@company.com",
    }
    assert dev["spec"]["destination"]["server"] == "http://1.2.3.4"


@pytest.mark.corpus
def test_path_param_prefix(examples: Path) -> None:
    appset = inline(
        """
        metadata: {name: prefixed}
        spec:
          goTemplate: true
          generators:
          - git:
              repoURL: https://github.com/argoproj/argo-cd.git
              pathParamPrefix: addon
              directories: [{path: applicationset/examples/matrix/cluster-addons/*}]
          template:
            metadata: {name: '{{.addon.path.basename}}', annotations: {path: '{{.addon.path.path}}'}}
            spec: {project: default, source: {repoURL: x, path: x}, destination: {server: x, namespace: x}}
        """
    )
    result = expand(examples, appset)

    assert names(result) == ["argo-workflows", "prometheus-operator"]
    annotation = result.applications[1]["metadata"]["annotations"]["path"]
    assert annotation == "applicationset/examples/matrix/cluster-addons/prometheus-operator"


@pytest.mark.corpus
def test_git_generator_on_another_repository_is_unrendered(examples: Path) -> None:
    result = expand(examples, load(examples, "design-doc/git-directory-discovery.yaml"))

    assert result.applications == () and result.errors == ()
    assert len(result.unrendered) == 1
    unrendered = result.unrendered[0]
    assert unrendered.what == "ApplicationSet cluster-addons generator git"
    assert unrendered.reason == (
        "git generator on external repository https://github.com/infra-team/cluster-deployments.git"
    )
    assert unrendered.location is not None and unrendered.location.file == "appset.yaml"


# --- matrix and merge ---------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("example", ["matrix/list-and-git.yaml", "matrix/list-and-git-fasttemplate.yaml"])
def test_matrix_git_and_list(examples: Path, example: str) -> None:
    result = expand(examples, load(examples, example))

    # Two add-on directories x two list elements, first generator outermost.
    assert names(result) == [
        "argo-workflows-engineering-dev",
        "argo-workflows-engineering-prod",
        "prometheus-operator-engineering-dev",
        "prometheus-operator-engineering-prod",
    ]
    app = by_name(result)["prometheus-operator-engineering-prod"]
    assert app["spec"]["project"] == "prod"
    assert app["spec"]["source"]["path"] == "applicationset/examples/matrix/cluster-addons/prometheus-operator"
    assert app["spec"]["destination"] == {"server": "https://2.4.6.8", "namespace": "prometheus-operator"}


@pytest.mark.corpus
@pytest.mark.parametrize("example", ["matrix/cluster-and-git.yaml", "matrix/cluster-and-git-fasttemplate.yaml"])
def test_matrix_git_and_clusters(examples: Path, example: str) -> None:
    result = expand(examples, load(examples, example))

    # The cluster selector (secret-type label) leaves the local cluster out.
    assert sorted(names(result)) == [
        "argo-workflows-engineering-dev",
        "argo-workflows-engineering-prod",
        "prometheus-operator-engineering-dev",
        "prometheus-operator-engineering-prod",
    ]
    app = by_name(result)["argo-workflows-engineering-dev"]
    assert app["spec"]["project"] == "dev"  # metadata.labels.environment of the cluster
    assert app["spec"]["destination"] == {"server": "https://1.2.3.4", "namespace": "argo-workflows"}


@pytest.mark.corpus
@pytest.mark.parametrize(
    "example",
    ["matrix/matrix-and-union-in-matrix.yaml", "matrix/matrix-and-union-in-matrix-fasttemplate.yaml"],
)
def test_matrix_of_merge_and_matrix(examples: Path, example: str) -> None:
    # The example's own comment: 2 merged clusters (engineering-test is not in the base) x 4 = 8.
    result = expand(examples, load(examples, example))

    assert result.errors == ()
    assert sorted(names(result)) == sorted(
        f"{prefix}-{cluster}-{suffix}"
        for prefix in ("first", "second")
        for cluster in ("engineering-dev", "engineering-prod")
        for suffix in ("1", "2")
    )
    app = by_name(result)["second-engineering-prod-2"]
    assert app["spec"]["destination"]["namespace"] == "second-engineering-prod-2"
    assert app["spec"]["source"]["path"] == "applicationset/examples/list-generator/guestbook/engineering-prod"


@pytest.mark.corpus
def test_matrix_git_files_yaml_feeding_elements_yaml(examples: Path) -> None:
    # docs/operator-manual/applicationset/Generators-List.md, "Dynamically generated elements": the
    # list generator is rendered with the git file's parameters, then parses elementsYaml.
    appset = inline(
        """
        apiVersion: argoproj.io/v1alpha1
        kind: ApplicationSet
        metadata: {name: elementsYaml, namespace: argocd}
        spec:
          goTemplate: true
          goTemplateOptions: ["missingkey=error"]
          generators:
          - matrix:
              generators:
              - git:
                  repoURL: https://github.com/argoproj/argo-cd.git
                  revision: HEAD
                  files:
                  - path: applicationset/examples/list-generator/list-elementsYaml-example.yaml
              - list:
                  elements: []
                  elementsYaml: "{{ .key.components | toJson }}"
          template:
            metadata:
              name: '{{.name}}'
            spec:
              project: default
              syncPolicy:
                automated: {selfHeal: true}
                syncOptions: [CreateNamespace=true]
              sources:
                - chart: '{{.chart}}'
                  repoURL: '{{.repoUrl}}'
                  targetRevision: '{{.version}}'
                  helm:
                    releaseName: '{{.releaseName}}'
              destination:
                server: https://kubernetes.default.svc
                namespace: '{{.namespace}}'
        """
    )
    result = expand(examples, appset)

    assert result.errors == ()
    assert names(result) == ["component1", "component2"]
    first, second = result.applications
    assert first["spec"]["sources"] == [
        {
            "chart": "podinfo",
            "repoURL": "https://stefanprodan.github.io/podinfo",
            "targetRevision": "6.3.2",
            "helm": {"releaseName": "component1"},
        }
    ]
    assert second["spec"]["sources"][0]["repoURL"] == "ghcr.io/stefanprodan/charts"
    assert second["spec"]["sources"][0]["targetRevision"] == "6.3.3"
    assert second["spec"]["destination"] == {"server": IN_CLUSTER, "namespace": "component2"}


KAFKA_OFF = Cluster(name="kafka-off", server="https://some-specific-cluster", labels={"use-kafka": "false"})
PLAIN = Cluster(name="plain", server="https://plain.example")


@pytest.mark.corpus
def test_merge_clusters_and_list_fasttemplate(examples: Path) -> None:
    # Merged on server: the second clusters generator (use-kafka: 'false') sets kafka false, the list
    # element for https://some-specific-cluster sets values.redis true.
    result = expand(examples, load(examples, "merge/merge-clusters-and-list-fasttemplate.yaml"), [KAFKA_OFF, PLAIN])

    assert result.errors == ()
    params = {name: helm_parameters(app) for name, app in by_name(result).items()}
    assert params == {
        "in-cluster": {"kafka": "true", "redis": "false"},
        "kafka-off": {"kafka": "false", "redis": "true"},
        "plain": {"kafka": "true", "redis": "false"},
    }


@pytest.mark.corpus
def test_merge_clusters_and_list_go_template(examples: Path) -> None:
    # With goTemplate the list element's key "values.redis" is a top-level key with a dot in it,
    # not the nested .values.redis: mergo merges it beside the cluster's values map, which keeps
    # redis 'false'. The kafka override is a nested map and merges.
    result = expand(examples, load(examples, "merge/merge-clusters-and-list.yaml"), [KAFKA_OFF, PLAIN])

    assert result.errors == ()
    assert helm_parameters(by_name(result)["kafka-off"]) == {"kafka": "false", "redis": "false"}


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("example", "staging_replicas"),
    [("merge/merge-two-matrixes-fasttemplate.yaml", "1"), ("merge/merge-two-matrixes.yaml", "2")],
)
def test_merge_two_matrixes(examples: Path, example: str, staging_replicas: str) -> None:
    # Only the local cluster: it x {staging, prod}; the override list matches (server, staging).
    # As above, "values.replicaCount" overrides only in fasttemplate mode.
    result = expand(examples, load(examples, example), clusters=[])

    apps = by_name(result)
    assert sorted(apps) == ["in-cluster-guestbook-prod", "in-cluster-guestbook-staging"]
    assert helm_parameters(apps["in-cluster-guestbook-staging"]) == {"replicaCount": staging_replicas}
    assert helm_parameters(apps["in-cluster-guestbook-prod"]) == {"replicaCount": "2"}
    assert apps["in-cluster-guestbook-staging"]["spec"]["destination"]["namespace"] == "guestbook-non-prod"


# --- templates --------------------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize(
    "example",
    [
        "template-override/template-overrides-example.yaml",
        "template-override/template-overrides-example-fasttemplate.yaml",
    ],
)
def test_generator_template_overrides_spec_template(examples: Path, example: str) -> None:
    result = expand(examples, load(examples, example))

    assert names(result) == ["engineering-dev-guestbook"]
    spec = result.applications[0]["spec"]
    assert spec["source"] == {
        "repoURL": ARGO_CD,
        "targetRevision": "HEAD",
        "path": "applicationset/examples/template-override/engineering-dev-override",
    }
    assert (examples / spec["source"]["path"]).is_dir()
    assert spec["destination"] == {"server": IN_CLUSTER, "namespace": "guestbook"}  # from spec.template


@pytest.mark.corpus
def test_each_generator_uses_its_own_template(examples: Path) -> None:
    result = expand(examples, load(examples, "design-doc/template-override.yaml"))

    apps = by_name(result)
    assert apps["engineering-dev-guestbook"]["spec"]["project"] == "project"
    assert apps["engineering-prod-guestbook"]["spec"]["project"] == "project2"
    assert apps["engineering-prod-guestbook"]["spec"]["source"]["path"] == "engineering-prod-override2"
    assert apps["engineering-prod-guestbook"]["spec"]["source"]["targetRevision"] == "HEAD"


@pytest.mark.corpus
def test_go_template_sprig_and_argo_functions(examples: Path) -> None:
    appset = inline(
        """
        metadata: {name: sprig, namespace: argocd}
        spec:
          goTemplate: true
          goTemplateOptions: ["missingkey=error"]
          generators:
          - git:
              repoURL: https://github.com/argoproj/argo-cd.git
              directories: [{path: applicationset/examples/matrix/cluster-addons/*}]
          template:
            metadata:
              name: '{{ .path.basename | replace "-" "." }}'
              annotations:
                upper: '{{ .path.basename | upper }}'
                team: '{{ dig "team" "platform" . }}'
                depth: '{{ len .path.segments }}'
                tail: '{{ slice .path.segments 2 | join "/" }}'
                loop: '{{ range .path.segments }}{{ $.path.basename | trunc 4 }}.{{ end }}'
                normalized: '{{ normalize "My_Add.on!" }}'
                slug: >-
                  {{ "Feature/ABC-123_some.Long.Branch-Name-that-is-quite-long-indeed-yes" | slugify 23 }}
                slug-default: >-
                  {{ slugify "Feature/ABC-123_some.Long.Branch-Name-that-is-quite-long-indeed-yes" }}
            spec:
              project: default
              source: {repoURL: x, path: '{{ .path.path }}'}
              destination: {server: x, namespace: x}
        """
    )
    result = expand(examples, appset)

    assert result.errors == ()
    assert names(result) == ["argo.workflows", "prometheus.operator"]
    annotations = result.applications[0]["metadata"]["annotations"]
    assert annotations["upper"] == "ARGO-WORKFLOWS"
    assert annotations["team"] == "platform"
    assert annotations["depth"] == "5"  # applicationset/examples/matrix/cluster-addons/argo-workflows
    assert annotations["tail"] == "matrix/cluster-addons/argo-workflows"
    assert annotations["loop"] == "argo." * 5  # $ is the parameter map inside range
    # normalize = SanitizeName: lower case, [^-a-z0-9.] -> "-", trim "-" and ".".
    assert annotations["normalized"] == "my-add.on"
    # slugify = SanitizeName, then gosimple/slug: "." -> "-", and smart truncation at the last "-"
    # within the maximum length (23, else 50).
    assert annotations["slug"] == "feature-abc-123-some"
    assert annotations["slug-default"] == "feature-abc-123-some-long-branch-name-that-is"


@pytest.mark.corpus
def test_missingkey_error_in_the_corpus(examples: Path) -> None:
    # matrix/list-and-list.yaml reads {{.path.path}} but no generator makes a path parameter.
    result = expand(examples, load(examples, "matrix/list-and-list.yaml"))

    assert result.applications == ()
    assert len(result.errors) == 4
    assert all('map has no entry for key "path"' in e and "argocd/list-and-list" in e for e in result.errors)


@pytest.mark.corpus
def test_fasttemplate_leaves_unknown_parameters(examples: Path) -> None:
    result = expand(examples, load(examples, "matrix/list-and-list-fasttemplate.yaml"))

    assert names(result) == [
        "engineering-dev-1",
        "engineering-dev-2",
        "engineering-prod-1",
        "engineering-prod-2",
    ]
    assert result.applications[0]["spec"]["source"]["path"] == "{{path}}"
    assert result.applications[0]["spec"]["destination"]["namespace"] == "{{path.basename}}"


@pytest.mark.corpus
@pytest.mark.parametrize(("options", "error"), [("[]", False), ('["missingkey=error"]', True)])
def test_default_function_and_missingkey(examples: Path, options: str, error: bool) -> None:
    appset = inline(
        f"""
        metadata: {{name: tiers}}
        spec:
          goTemplate: true
          goTemplateOptions: {options}
          generators: [{{list: {{elements: [{{cluster: dev}}]}}}}]
          template:
            metadata: {{name: '{{{{.cluster}}}}', labels: {{tier: '{{{{ .tier | default "gold" }}}}'}}}}
            spec:
              project: default
              source: {{repoURL: x, path: x}}
              destination: {{server: x, namespace: x}}
        """
    )
    result = expand(examples, appset)

    if error:
        assert result.applications == ()
        assert len(result.errors) == 1 and 'no entry for key "tier"' in result.errors[0]
    else:
        assert result.errors == ()
        assert result.applications[0]["metadata"]["labels"] == {"tier": "gold"}


@pytest.mark.corpus
def test_numbers_print_as_go_prints_float64(examples: Path) -> None:
    # List elements are JSON-decoded into float64 by Go; text/template prints 1234567 as 1.234567e+06.
    appset = inline(
        """
        metadata: {name: numbers}
        spec:
          goTemplate: true
          generators: [{list: {elements: [{cluster: dev, replicas: 1234567, small: 3}]}}]
          template:
            metadata: {name: '{{.cluster}}', annotations: {replicas: '{{.replicas}}', small: '{{.small}}'}}
            spec: {project: default, source: {repoURL: x, path: x}, destination: {server: x, namespace: x}}
        """
    )
    annotations = expand(examples, appset).applications[0]["metadata"]["annotations"]
    assert annotations == {"replicas": "1.234567e+06", "small": "3"}


@pytest.mark.corpus
def test_template_patch(examples: Path) -> None:
    # docs/operator-manual/applicationset/Template.md, "Template Patch", with a second element and
    # a patch that also tries to change the project and adds a finalizer.
    appset = inline(
        """
        apiVersion: argoproj.io/v1alpha1
        kind: ApplicationSet
        metadata: {name: guestbook, namespace: argocd}
        spec:
          goTemplate: true
          generators:
          - list:
              elements:
                - cluster: engineering-dev
                  url: https://kubernetes.default.svc
                  autoSync: true
                  prune: true
                  valueFiles: [values.large.yaml, values.debug.yaml]
                - cluster: engineering-prod
                  url: https://kubernetes.default.svc
                  autoSync: false
                  prune: false
                  valueFiles: [values.prod.yaml]
          template:
            metadata:
              name: '{{.cluster}}-deployment'
            spec:
              project: "default"
              source:
                repoURL: https://github.com/infra-team/cluster-deployments.git
                targetRevision: HEAD
                path: guestbook/{{ .cluster }}
              destination:
                server: '{{.url}}'
                namespace: guestbook
          templatePatch: |
            metadata:
              finalizers: [example.com/keep]
            spec:
              project: attacker
              source:
                helm:
                  valueFiles:
                  {{- range $valueFile := .valueFiles }}
                    - {{ $valueFile }}
                  {{- end }}
            {{- if .autoSync }}
              syncPolicy:
                automated:
                  prune: {{ .prune }}
            {{- end }}
        """
    )
    result = expand(examples, appset)

    assert result.errors == ()
    dev = by_name(result)["engineering-dev-deployment"]
    prod = by_name(result)["engineering-prod-deployment"]
    assert dev["spec"]["source"] == {
        "repoURL": "https://github.com/infra-team/cluster-deployments.git",
        "targetRevision": "HEAD",
        "path": "guestbook/engineering-dev",
        "helm": {"valueFiles": ["values.large.yaml", "values.debug.yaml"]},
    }
    assert dev["spec"]["syncPolicy"] == {"automated": {"prune": True}}
    assert "syncPolicy" not in prod["spec"]
    assert prod["spec"]["source"]["helm"] == {"valueFiles": ["values.prod.yaml"]}
    # The patch cannot change the project; finalizers merge (ObjectMeta patchStrategy "merge").
    assert dev["spec"]["project"] == "default"
    assert dev["metadata"]["finalizers"] == [RESOURCES_FINALIZER, "example.com/keep"]
    assert dev["metadata"]["namespace"] == "argocd"


# --- finalizers and policy ------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("example", "policy"),
    [
        ("applications-sync-policies/create-only.yaml", "create-only"),
        ("applications-sync-policies/create-update.yaml", "create-update"),
    ],
)
def test_policy_is_recorded(examples: Path, example: str, policy: str) -> None:
    result = expand(examples, load(examples, example))

    assert result.policy == policy
    assert names(result) == ["engineering-dev-guestbook", "engineering-prod-guestbook"]
    assert [a["metadata"]["labels"] for a in result.applications] == [{"foo": "bar"}, {"foo": "baz"}]
    assert all(a["metadata"]["finalizers"] == [RESOURCES_FINALIZER] for a in result.applications)


@pytest.mark.corpus
def test_preserve_resources_on_deletion_drops_the_finalizer(examples: Path) -> None:
    appset = load(examples, "list-generator/list-example.yaml")
    appset["spec"]["syncPolicy"] = {"preserveResourcesOnDeletion": True}
    result = expand(examples, appset)

    assert result.preserve_resources_on_deletion is True
    assert len(result.applications) == 2
    assert all("finalizers" not in a["metadata"] for a in result.applications)


@pytest.mark.corpus
def test_template_finalizers_replace_the_default(examples: Path) -> None:
    appset = load(examples, "list-generator/list-example.yaml")
    appset["spec"]["template"]["metadata"]["finalizers"] = ["resources-finalizer.argocd.argoproj.io/background"]
    result = expand(examples, appset)

    assert [a["metadata"]["finalizers"] for a in result.applications] == [
        ["resources-finalizer.argocd.argoproj.io/background"]
    ] * 2


# --- what cannot be expanded, and errors -------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("example", "what"),
    [
        ("pull-request-generator/pull-request-example.yaml", "ApplicationSet myapp generator pullRequest"),
        (
            "scm-provider-generator/scm-provider-example.yaml",
            "ApplicationSet guestbook generator scmProvider",
        ),
        (
            "scm-provider-generator/scm-provider-example-fasttemplate-gitlab.yaml",
            "ApplicationSet guestbook generator scmProvider",
        ),
        (
            "clusterDecisionResource/ducktype-example.yaml",
            "ApplicationSet book-import generator clusterDecisionResource",
        ),
    ],
)
def test_live_generators_are_unrendered(examples: Path, example: str, what: str) -> None:
    result = expand(examples, load(examples, example))

    assert result.applications == () and result.errors == ()
    assert [u.what for u in result.unrendered] == [what]
    assert "cannot be expanded offline" in result.unrendered[0].reason


@pytest.mark.corpus
def test_a_matrix_with_a_live_generator_is_unrendered_whole(examples: Path) -> None:
    appset = load(examples, "matrix/list-and-git.yaml")
    appset["spec"]["generators"][0]["matrix"]["generators"][1] = {
        "pullRequest": {"github": {"owner": "myorg", "repo": "myrepo"}}
    }
    appset["spec"]["generators"].append({"list": {"elements": [{"cluster": "solo", "url": "https://1.2.3.4"}]}})
    appset["spec"]["template"]["metadata"]["name"] = "{{.cluster}}"
    appset["spec"]["template"]["spec"]["project"] = "default"
    appset["spec"]["template"]["spec"]["source"]["path"] = "x"
    appset["spec"]["template"]["spec"]["destination"]["namespace"] = "x"
    result = expand(examples, appset)

    assert names(result) == ["solo"]  # the other generator still generates
    assert [u.what for u in result.unrendered] == ["ApplicationSet list-git generator matrix"]
    assert "pullRequest" in result.unrendered[0].reason


@pytest.mark.corpus
def test_unknown_generator_is_unrendered(examples: Path) -> None:
    appset = load(examples, "list-generator/list-example.yaml")
    appset["spec"]["generators"].append({"flux": {"repo": "x"}})
    result = expand(examples, appset)

    assert len(result.applications) == 2
    assert [u.what for u in result.unrendered] == ["ApplicationSet guestbook generator flux"]


@pytest.mark.corpus
def test_duplicate_generated_names(examples: Path) -> None:
    appset = load(examples, "list-generator/list-example.yaml")
    appset["spec"]["generators"][0]["list"]["elements"] = [
        {"cluster": "engineering-dev", "url": "https://1.1.1.1"},
        {"cluster": "engineering-dev", "url": "https://2.2.2.2"},
    ]
    result = expand(examples, appset)

    assert names(result) == ["engineering-dev-guestbook"]
    assert result.applications[0]["spec"]["destination"]["server"] == "https://1.1.1.1"
    assert result.errors == (
        "ApplicationSet guestbook contains applications with duplicate name: engineering-dev-guestbook",
    )


def _break(appset: dict[str, Any], how: str) -> dict[str, Any]:
    broken = copy.deepcopy(appset)
    spec = broken["spec"]
    if how == "spec":
        broken["spec"] = "not a mapping"
    elif how == "template":
        del spec["template"]
    elif how == "generators":
        spec["generators"] = {"list": {}}
    elif how == "entry":
        spec["generators"] = ["list"]
    elif how == "element":
        spec["generators"][0]["list"]["elements"] = ["engineering-dev"]
    elif how == "matrix":
        spec["generators"] = [{"matrix": {"generators": [spec["generators"][0]] * 3}}]
    elif how == "merge":
        spec["generators"] = [{"merge": {"generators": [spec["generators"][0]] * 2}}]
    elif how == "selector":
        spec["generators"][0]["selector"] = {"matchExpressions": [{"key": "a", "operator": "Like"}]}
    elif how == "parse":
        spec["template"]["metadata"]["name"] = "{{ .cluster | nosuchfunction }}"
    elif how == "helm-only":
        spec["template"]["metadata"]["name"] = '{{ include "x" . }}'
    elif how == "patch":
        spec["templatePatch"] = "spec: [unclosed"
    elif how == "elementsYaml":
        spec["generators"][0]["list"]["elementsYaml"] = "{{ broken"
    elif how == "empty":
        spec["generators"] = [{}]
    elif how == "unterminated":
        broken["spec"]["goTemplate"] = False
        spec["template"]["spec"]["source"]["path"] = "{{cluster}}/{{oops"
    return broken


@pytest.mark.corpus
@pytest.mark.parametrize(
    "how",
    [
        "spec",
        "template",
        "generators",
        "entry",
        "element",
        "matrix",
        "merge",
        "selector",
        "parse",
        "helm-only",
        "patch",
        "elementsYaml",
        "empty",
        "unterminated",
    ],
)
def test_malformed_appset_is_an_error_not_an_exception(examples: Path, how: str) -> None:
    result = expand(examples, _break(load(examples, "list-generator/list-example.yaml"), how))

    assert result.errors, how
    assert all("guestbook" in e for e in result.errors)
    assert result.applications == ()


def test_nothing_but_garbage() -> None:
    result = expand_appset({}, tree_root=Path("/nonexistent"), is_this_repo=is_argo_cd, clusters=())
    assert result.applications == () and len(result.errors) == 1


# --- the pieces, against Go's and Argo CD's documented behaviour -----------------------------------


@pytest.mark.parametrize(
    ("pattern", "name", "matched"),
    [
        ("a/*", "a/b", True),
        ("a/*", "a/b/c", False),  # path.Match: * does not cross "/"
        ("/d/[f|g]", "/d/g", True),  # the docs' example (Generators-Git.md)
        ("/d/[f|g]", "/d/e", False),
        ("a/?", "a/b", True),
        ("a/[^b]", "a/c", True),
        ("a/[", "a/[", None),  # malformed
    ],
)
def test_go_path_match(pattern: str, name: str, matched: bool | None) -> None:
    assert go_path_match(pattern, name) is matched


@pytest.mark.parametrize(
    ("pattern", "name", "matched"),
    [
        ("some-path/*.yaml", "some-path/a/b/c.yaml", True),  # Generators-Git-File-Globbing.md
        ("cluster-charts/*/*/values.yaml", "cluster-charts/c1/mychart/charts/sub/values.yaml", True),
        ("x/**/config.json", "x/config.json", False),
        ("x/config.json", "x/config.json", True),
        ("x", "x/y/z.json", True),  # a plain pathspec names a directory's files too
        ("x", "xy/z.json", False),
    ],
)
def test_git_pathspec_match(pattern: str, name: str, matched: bool) -> None:
    assert git_pathspec_match(pattern, name) is matched


def test_fasttemplate() -> None:
    params = {"a": "1", "b": "2", "n": {"x": "y"}}
    assert fasttemplate("{{a}}-{{ b }}-{{c}}-{{n}}-{{}}", params) == "1-2-{{c}}-{{n}}-{{}}"
    assert fasttemplate("no tags", params) == "no tags"
    with pytest.raises(ValueError, match="end tag"):
        fasttemplate("{{a}} {{b", params)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234567, "1.234567e+06"),
        (123456, "123456"),
        (0.5, "0.5"),
        (0.00001, "1e-05"),
        (True, "true"),
        (None, "<nil>"),
    ],
)
def test_go_format(value: Any, text: str) -> None:
    assert go_format(value) == text


def test_sanitize_name() -> None:
    # applicationset/generators/git_test.go: app_3 -> app-3, file_name.yaml -> file-name.yaml
    assert sanitize_name("app_3") == "app-3"
    assert sanitize_name("file_name.yaml") == "file-name.yaml"
    assert sanitize_name("-Weird Name.-") == "weird-name"


def test_a_printed_missing_key_without_missingkey_error_fails_closed(tmp_path: Path) -> None:
    # Argo CD writes `<no value>` into the generated Application (path `apps/<no value>`); Helm's engine
    # would print nothing, which would silently point the app at `apps/`.
    appset = inline(
        """
        metadata: {name: typo}
        spec:
          goTemplate: true
          generators: [{list: {elements: [{dir: a}]}}]
          template:
            metadata: {name: 'app-{{.dir}}'}
            spec:
              project: default
              source: {repoURL: x, path: 'apps/{{.dri}}'}
              destination: {server: x, namespace: x}
        """
    )
    result = expand(tmp_path, appset)
    assert result.applications == ()
    assert len(result.errors) == 1
    assert 'no entry for key "dri"' in result.errors[0] and "<no value>" in result.errors[0]
