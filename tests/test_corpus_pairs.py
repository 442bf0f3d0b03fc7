"""Real upstream changes (`../shared/corpus/pairs`), reviewed end to end with `check --base HEAD~1 --head HEAD`.

Each bundle holds the parent of a real upstream commit (HEAD~1) and that commit (HEAD). Every expectation
below was worked out from the upstream diff (`git show HEAD`), the manifests and charts it touches
(`kubectl kustomize` of the overlays involved, the Helm templates read by hand) and Argo CD's semantics
(README, ../shared/reference/argo-k8s-semantics.md): never from the tool's own output. Where something
cannot be rendered offline (a chart repository, a remote kustomize base, the KSOPS plugin) the honest
outcome is asserted: a render error naming the app, and the verdict `error`.

Verdicts are only asserted where render errors decide them (`error`): `pass` or `fail` otherwise depends on
the rules' findings, which are not what these tests are about.

The eight reviews are the slow part (large repos materialised twice and discovered offline), so the module
runs them side by side in `gitops-reviewer check` subprocesses, longest first, as soon as the first one is
needed; each test waits only for its own pair. Each pair is cloned and reviewed once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from corpus_fixture import clone_corpus, corpus_dir

pytestmark = pytest.mark.corpus

CHECK_TIMEOUT = 900.0
IN_CLUSTER = "https://kubernetes.default.svc"

# --- configs (the same as tests/test_corpus.py uses for the snapshots) ------------------------------------

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
OPERATE_FIRST_CONFIG = {"repos": ["https://github.com/operate-first/apps.git"]}
MULTI_TENANCY_CONFIG = {
    "repos": ["${GIT_BASEURL}/${GIT_ORG}/${GIT_GITOPS}"],
    "ignore": ["0-bootstrap/others/**", "doc/**", "setup/**", "scripts/**"],
}
EKS_URL = "https://github.com/aws-samples/eks-blueprints-add-ons.git"
EKS_CONFIG = {
    "repos": [EKS_URL],
    "clusters": [
        {
            "name": "in-cluster",
            "server": IN_CLUSTER,
            "labels": {"akuity.io/argo-cd-cluster-name": "in-cluster", "enable_metrics_server": "true"},
        },
        {
            "name": "my-cluster",
            "server": "https://my-cluster.example.com",
            "labels": {"environment": "dev", "enable_metrics_server": "true"},
        },
    ],
    "apps": [
        # the chart's defaults: every add-on disabled
        {"name": "add-ons", "path": "chart", "namespace": "argocd"},
        # a user who enabled the collector (and metrics-server) under the key the chart read before the rename
        {
            "name": "add-ons-enabled",
            "path": "chart",
            "namespace": "argocd",
            "helm": {
                "releaseName": "add-ons",
                "valuesObject": {
                    "metricsServer": {"enable": True},
                    "otelCollectorArgocd": {"enable": True, "serviceAccountName": "otel-collector-argocd-sa"},
                },
            },
        },
    ],
}

# bundle -> (config, fixture name); listed slowest first: that is the order the reviews start in
PAIRS: dict[str, tuple[dict[str, Any], str]] = {
    "operate-first-auto-sync-off": (OPERATE_FIRST_CONFIG, "auto_sync_off"),
    "operate-first-decommission-morty": (OPERATE_FIRST_CONFIG, "morty"),
    "govuk-nfs-volume-asset-manager": (GOVUK_CONFIG, "nfs_volume"),
    "operate-first-vault-volume-claims": (OPERATE_FIRST_CONFIG, "vault_claims"),
    "govuk-disable-mirror-sync": (GOVUK_CONFIG, "mirror_sync"),
    "govuk-retire-exporter": (GOVUK_CONFIG, "retire_exporter"),
    "multi-tenancy-secure-proxy-recipe": (MULTI_TENANCY_CONFIG, "secure_proxy"),
    "eks-addons-otel-rename": (EKS_CONFIG, "otel_rename"),
}


# --- running the reviews ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    bundle: str
    clone: Path
    exit_code: int
    report: dict[str, Any]


def _review(bundle: str, root: Path) -> Review:
    clone = clone_corpus(bundle, root / bundle, pair=True)
    config = root / f"{bundle}.gitops-reviewer.yaml"
    config.write_text(yaml.safe_dump(PAIRS[bundle][0], sort_keys=False))
    command = [sys.executable, "-c", "from reviewer.cli import main; main()", "check", "--repo", str(clone)]
    command += ["--base", "HEAD~1", "--head", "HEAD", "--format", "json", "--config", str(config), "--offline"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=CHECK_TIMEOUT, check=False)
    assert done.returncode in (0, 1), f"{bundle}: exit {done.returncode}\n{done.stderr[-4000:]}"
    return Review(bundle, clone, done.returncode, json.loads(done.stdout))


class _Reviews:
    """The pairs this session's selected tests need, reviewed in parallel (bounded by the cores)."""

    def __init__(self, root: Path, bundles: list[str]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, 4)), thread_name_prefix="pair")
        self._root = root
        self._futures: dict[str, Future[Review]] = {}
        for bundle in bundles:
            self._submit(bundle)

    def _submit(self, bundle: str) -> Future[Review]:
        if bundle not in self._futures:
            self._futures[bundle] = self._pool.submit(_review, bundle, self._root)
        return self._futures[bundle]

    def get(self, bundle: str) -> Review:
        return self._submit(bundle).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def reviews(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Reviews]:
    root = tmp_path_factory.mktemp("pairs")
    if corpus_dir() is None:  # skips (or fails, when the corpus is required) with the reason
        clone_corpus(next(iter(PAIRS)), root / "absent", pair=True)
    by_fixture = {fixture: bundle for bundle, (_, fixture) in PAIRS.items()}
    wanted = {
        by_fixture[name]
        for item in request.session.items
        if getattr(item, "module", None) is request.module
        for name in getattr(item, "fixturenames", ())
        if name in by_fixture
    }
    runner = _Reviews(root, [bundle for bundle in PAIRS if bundle in wanted])
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def auto_sync_off(reviews: _Reviews) -> Review:
    return reviews.get("operate-first-auto-sync-off")


@pytest.fixture(scope="module")
def morty(reviews: _Reviews) -> Review:
    return reviews.get("operate-first-decommission-morty")


@pytest.fixture(scope="module")
def nfs_volume(reviews: _Reviews) -> Review:
    return reviews.get("govuk-nfs-volume-asset-manager")


@pytest.fixture(scope="module")
def vault_claims(reviews: _Reviews) -> Review:
    return reviews.get("operate-first-vault-volume-claims")


@pytest.fixture(scope="module")
def mirror_sync(reviews: _Reviews) -> Review:
    return reviews.get("govuk-disable-mirror-sync")


@pytest.fixture(scope="module")
def retire_exporter(reviews: _Reviews) -> Review:
    return reviews.get("govuk-retire-exporter")


@pytest.fixture(scope="module")
def secure_proxy(reviews: _Reviews) -> Review:
    return reviews.get("multi-tenancy-secure-proxy-recipe")


@pytest.fixture(scope="module")
def otel_rename(reviews: _Reviews) -> Review:
    return reviews.get("eks-addons-otel-rename")


# --- reading the report -----------------------------------------------------------------------------------

Key = tuple[str, str, str, str, str, str]  # app, type, group, kind, namespace, name


def key(change: dict[str, Any]) -> Key:
    r = change["resource"]
    return (change["app"], change["type"], r["group"], r["kind"], r["namespace"], r["name"])


def change_set(report: dict[str, Any]) -> set[Key]:
    keys = [key(c) for c in report["changes"]]
    assert len(keys) == len(set(keys)), "a resource is reported twice"
    return set(keys)


def the_change(report: dict[str, Any], app: str, kind: str, name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        c for c in report["changes"] if (c["app"], c["resource"]["kind"], c["resource"]["name"]) == (app, kind, name)
    ]
    assert len(found) == 1, f"{app} {kind}/{name}: {sorted(change_set(report))}"
    return found[0]


def paths(change: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p["path"], p["kind"]) for p in change["paths"]}


def states(report: dict[str, Any]) -> dict[str, str]:
    return {a["app"]: a["state"] for a in report["apps"]}


def touched(report: dict[str, Any]) -> dict[str, str]:
    """The apps added, removed or changed (not `unchanged`, and not `not-rendered`: apps whose render
    failed on both sides are checked through the report's errors)."""
    return {app: state for app, state in states(report).items() if state not in ("unchanged", "not-rendered")}


def error_apps(report: dict[str, Any]) -> set[str]:
    return {e["app"] for e in report["errors"]}


def error_text(report: dict[str, Any], app: str) -> str:
    return "\n".join(f"{e['message']}\n{e['stderr']}" for e in report["errors"] if e["app"] == app)


def assert_no_errors(review: Review) -> None:
    report = review.report
    assert report["errors"] == [], [(e["app"], e["message"]) for e in report["errors"]]
    assert report["verdict"] in ("pass", "fail")
    assert review.exit_code == (0 if report["verdict"] == "pass" else 1)


def assert_error_verdict(review: Review) -> None:
    assert review.report["verdict"] == "error"
    assert review.exit_code == 1


# --- alphagov/govuk-helm-charts #3843: retire govuk-exporter ----------------------------------------------
# values-staging.yaml and values-production.yaml drop the `govuk-exporter` entry of govukApplications, and
# charts/govuk-exporter (Deployment, Service, PodMonitor named .Values.name) is deleted. app-config's
# templates/govuk-application.yaml makes one Application per entry in `argoNamespace` (cluster-services),
# so those Applications leave app-config's output in the two environments; the child (destination
# namespace `apps`, appsNamespace) is removed with everything it rendered. integration never had it.


def test_retire_exporter_change_set(retire_exporter: Review) -> None:
    report = retire_exporter.report
    assert_no_errors(retire_exporter)
    expected: set[Key] = set()
    for env in ("staging", "production"):
        expected.add(
            (
                f"{env}/cluster-services/app-config",
                "removed",
                "argoproj.io",
                "Application",
                "cluster-services",
                "govuk-exporter",
            )
        )
        exporter = f"{env}/cluster-services/govuk-exporter"
        expected |= {
            (exporter, "removed", "apps", "Deployment", "apps", "govuk-exporter"),
            (exporter, "removed", "", "Service", "apps", "govuk-exporter"),
            (exporter, "removed", "monitoring.coreos.com", "PodMonitor", "apps", "govuk-exporter"),
        }
    assert change_set(report) == expected
    assert all(c["paths"] == [] for c in report["changes"])


def test_retire_exporter_apps(retire_exporter: Review) -> None:
    report = retire_exporter.report
    assert touched(report) == {
        "staging/cluster-services/app-config": "changed",
        "production/cluster-services/app-config": "changed",
        "staging/cluster-services/govuk-exporter": "removed",
        "production/cluster-services/govuk-exporter": "removed",
    }
    # values-integration.yaml did not change: app-config renders the same there
    assert states(report).get("integration/cluster-services/app-config", "unchanged") == "unchanged"
    assert not any(a.startswith("integration/") and s != "unchanged" for a, s in states(report).items())


# --- alphagov/govuk-helm-charts #2229: disable the mirror sync in integration -----------------------------
# values-integration.yaml drops the govuk-jobs app (charts/govuk-jobs: CronJob, ExternalSecret, PVC and
# ServiceAccount `govuk-mirror-sync`; its dependabot-metrics CronJob is production-only) and three
# `cronJobs` entries of govuk-e2e-tests (charts/govuk-e2e-tests renders one CronJob per entry). The
# govuk-e2e-tests Application carries those entries in spec.source.helm.values, so it is modified too.

INTEGRATION = "integration/cluster-services"


def test_mirror_sync_change_set(mirror_sync: Review) -> None:
    report = mirror_sync.report
    assert_no_errors(mirror_sync)
    jobs = f"{INTEGRATION}/govuk-jobs"
    e2e = f"{INTEGRATION}/govuk-e2e-tests"
    config = f"{INTEGRATION}/app-config"
    assert change_set(report) == {
        (config, "removed", "argoproj.io", "Application", "cluster-services", "govuk-jobs"),
        (config, "modified", "argoproj.io", "Application", "cluster-services", "govuk-e2e-tests"),
        (jobs, "removed", "batch", "CronJob", "apps", "govuk-mirror-sync"),
        (jobs, "removed", "", "PersistentVolumeClaim", "apps", "govuk-mirror-sync"),
        (jobs, "removed", "", "ServiceAccount", "apps", "govuk-mirror-sync"),
        (jobs, "removed", "external-secrets.io", "ExternalSecret", "apps", "govuk-mirror-sync"),
        (e2e, "removed", "batch", "CronJob", "apps", "govuk-e2e-tests-mirror-s3"),
        (e2e, "removed", "batch", "CronJob", "apps", "govuk-e2e-tests-mirror-s3-replica"),
        (e2e, "removed", "batch", "CronJob", "apps", "govuk-e2e-tests-mirror-gcs"),
    }


def test_mirror_sync_e2e_application_values(mirror_sync: Review) -> None:
    change = the_change(mirror_sync.report, f"{INTEGRATION}/app-config", "Application", "govuk-e2e-tests")
    assert paths(change) == {("spec.source.helm.values", "changed")}
    (values,) = change["paths"]
    assert "govuk-e2e-tests-mirror-s3-replica" in values["before"]
    assert "govuk-e2e-tests-mirror" not in values["after"] and "name: govuk-e2e-tests\n" in values["after"]


def test_mirror_sync_apps(mirror_sync: Review) -> None:
    assert touched(mirror_sync.report) == {
        f"{INTEGRATION}/app-config": "changed",
        f"{INTEGRATION}/govuk-e2e-tests": "changed",
        f"{INTEGRATION}/govuk-jobs": "removed",
    }


# --- alphagov/govuk-helm-charts #2912: an NFS PersistentVolume for asset-manager's clamav -----------------
# charts/asset-manager (used by the asset-manager app in all three environments, release asset-manager)
# gains a PersistentVolume and a PersistentVolumeClaim `asset-manager-clamav-db`; the `clam-virus-db`
# volume of the worker Deployment and of the freshclam pod spec (shared by the CronJob and by the PreSync
# hook Job) turns from `nfs:` into `persistentVolumeClaim:`.

VOLUME = "volumes[name=clam-virus-db]"


@pytest.mark.parametrize("env", ENVS)
def test_nfs_volume_change_set(nfs_volume: Review, env: str) -> None:
    report = nfs_volume.report
    assert_no_errors(nfs_volume)
    app = f"{env}/cluster-services/asset-manager"
    assert {k for k in change_set(report) if k[0] == app} == {
        (app, "added", "", "PersistentVolume", "", "asset-manager-clamav-db"),
        (app, "added", "", "PersistentVolumeClaim", "apps", "asset-manager-clamav-db"),
        (app, "modified", "apps", "Deployment", "apps", "asset-manager-worker"),
        (app, "modified", "batch", "CronJob", "apps", "asset-manager-freshclam"),
        (app, "modified", "batch", "Job", "apps", "asset-manager-freshclam"),
    }
    pod = "spec.template.spec"
    worker = the_change(report, app, "Deployment", "asset-manager-worker")
    assert paths(worker) == {(f"{pod}.{VOLUME}.nfs", "removed"), (f"{pod}.{VOLUME}.persistentVolumeClaim", "added")}
    cron = the_change(report, app, "CronJob", "asset-manager-freshclam")
    assert paths(cron) == {
        (f"spec.jobTemplate.{pod}.{VOLUME}.nfs", "removed"),
        (f"spec.jobTemplate.{pod}.{VOLUME}.persistentVolumeClaim", "added"),
    }
    job = the_change(report, app, "Job", "asset-manager-freshclam")
    assert job["hook"] is True  # argocd.argoproj.io/hook: PreSync
    assert paths(job) == {(f"{pod}.{VOLUME}.nfs", "removed"), (f"{pod}.{VOLUME}.persistentVolumeClaim", "added")}
    assert {c["hook"] for c in report["changes"] if c is not job and c["app"] == app} == {False}


def test_nfs_volume_apps(nfs_volume: Review) -> None:
    assert states(nfs_volume.report) == {f"{env}/cluster-services/asset-manager": "changed" for env in ENVS}
    assert len(nfs_volume.report["changes"]) == 15


# --- operate-first/apps #1822: vault StatefulSet volumeClaimTemplates ---------------------------------------
# vault/base/statefulsets/statefulset.yaml had `volumeClaimTemplates` (data) indented under
# spec.updateStrategy; the fix moves it to spec.volumeClaimTemplates and adds `config` and `home`. Only
# opf-vault (envs/moc/infra, nameSuffix -infra) renders vault/overlays/moc/infra, the only overlay.


def test_vault_claims_change_set(vault_claims: Review) -> None:
    report = vault_claims.report
    assert_no_errors(vault_claims)
    app = "moc-infra/argocd/opf-vault-infra"
    assert change_set(report) == {(app, "modified", "apps", "StatefulSet", "vault", "opf-vault")}
    change = the_change(report, app, "StatefulSet", "opf-vault")
    assert paths(change) == {
        ("spec.updateStrategy.volumeClaimTemplates", "removed"),
        ("spec.volumeClaimTemplates", "added"),
    }
    added = next(p for p in change["paths"] if p["path"] == "spec.volumeClaimTemplates")
    assert [t["metadata"]["name"] for t in added["after"]] == ["data", "config", "home"]
    assert {t["spec"]["resources"]["requests"]["storage"] for t in added["after"]} == {"10Gi"}
    assert touched(report) == {app: "changed"}


# --- operate-first/apps #2780: automated sync removed from every app ---------------------------------------
# Every Application file under argocd/overlays/moc-infra/applications comments out its whole `syncPolicy`.
# The live app-of-apps are those app-of-apps/kustomization.yaml lists; four render in-repo kustomizations
# (curator, infra, smaug, jerry: nameSuffix -<cluster>) and their outputs differ only at spec.syncPolicy,
# for the children listed below (`kubectl kustomize` of each path at both revisions). app-of-apps-demo.yaml
# is not in that kustomization, app-of-apps-osc-cl1/-cl2.yaml were already commented out of it before
# their deletion, and envs/dev has no app-of-apps: none of those files are live, so their edits and
# deletions change nothing. The app-of-apps Applications themselves are resources of argocd-infra
# (argocd/overlays/moc-infra), which cannot be rendered offline (remote bases in argocd/base).

THOTH = [
    "advise-reporter",
    "adviser",
    "amun-api",
    "amun-inspection",
    "chat-notification",
    "core-backend",
    "core-frontend",
    "core-graph",
    "core-infra",
    "core-middletier",
    "cve-update",
    "graph-backup",
    "graph-metrics-exporter",
    "graph-refresh",
    "graph-schema-update",
    "graph-sync-backend",
    "graph-sync-middletier",
    "investigator-message-metrics",
    "investigator",
    "kebechet",
    "management-api",
    "metrics-exporter",
    "mi",
    "monitoring",
    "package-extract",
    "package-releases",
    "package-update",
    "purge-job",
    "revsolver",
    "security-indicators",
    "solver",
    "user-api",
]
SYNC_OFF = {
    "curator": ["cert-manager", "cluster-resources", "external-secrets"],
    "jerry": ["cert-manager", "cluster-resources", "external-secrets"],
    "infra": [
        "acme-operator",
        "alertreceiver",
        "argocd-notifications",
        "cluster-logging",
        "cluster-resources",
        "external-secrets",
        "k8s-annotations-exporter",
        "kubevirt-hyperconverged",
    ],
    "smaug": [
        *[
            "acme-operator",
            "alertreceiver",
            "api-designer",
            "b4mad-minecraft",
            "b4mad-racing",
            "cert-manager",
            "ci-prow-prod",
        ],
        *["ci-prow-prod-test-pods", "cloudbeaver", "cloudbeaver-stage", "cluster-logging", "cluster-resources"],
        *[
            "copilot-ops",
            "curator-operator",
            "dex",
            "external-secrets",
            "github-pr-labeler",
            "grafana-public",
            "grafana",
        ],
        *["k8s-annotations-exporter", "kfp-tekton", "kruize-hpo", "kubevirt-hyperconverged", "kvm-device-plugin"],
        *["meteor-operator-pipelines", "meteor-operator-pushgateway", "meteor-shower", "nfd", "node-labeler"],
        *["okd-centos", "opendatahub-operator", "opf-jh-idle-culler", "opf-kafka", "opf-observatorium"],
        *["opf-slack-first", "opf-tekton-chains", "opf-triage-party", "opf-vault", "peribolos-as-a-service"],
        "prod-aicoe-ci",
        *(f"prod-thoth-{name}" for name in THOTH),
        *["pulp", "registry", "reloader", "robozome", "service-catalog", "smaug-nfs-server-and-provisioner"],
    ],
}
LIVE_PARENTS = {f"argocd/opf-app-of-apps-{cluster}" for cluster in SYNC_OFF}
SYNC_OFF_CHANGES = {
    (f"argocd/opf-app-of-apps-{cluster}", "modified", "argoproj.io", "Application", "argocd", f"{name}-{cluster}")
    for cluster, names in SYNC_OFF.items()
    for name in names
}


def test_auto_sync_off_expected_count() -> None:
    assert {c: len(n) for c, n in SYNC_OFF.items()} == {"curator": 3, "jerry": 3, "infra": 8, "smaug": 78}
    assert len(SYNC_OFF_CHANGES) == 92


def test_auto_sync_off_live_app_of_apps_lose_sync_policy(auto_sync_off: Review) -> None:
    report = auto_sync_off.report
    live = {k for k in change_set(report) if k[0] in LIVE_PARENTS}
    assert live == SYNC_OFF_CHANGES
    for change in report["changes"]:
        if change["app"] in LIVE_PARENTS:
            assert paths(change) == {("spec.syncPolicy", "removed")}, key(change)
            assert change["cluster"] == "name:moc-infra"
    for parent in LIVE_PARENTS:
        assert states(report)[parent] == "changed"
    # the children's own sources did not change: nothing they render differs
    children = {f"moc-infra/argocd/{name}-{cluster}" for cluster, names in SYNC_OFF.items() for name in names}
    assert not [k for k in change_set(report) if k[0] in children]


def test_auto_sync_off_argocd_app_cannot_be_rendered(auto_sync_off: Review) -> None:
    report = auto_sync_off.report
    assert_error_verdict(auto_sync_off)
    text = error_text(report, "moc-infra/argocd/argocd-infra")
    assert "github.com/argoproj/argo-cd/manifests/base" in text and "remote base" in text


def test_auto_sync_off_unreferenced_files_change_nothing(auto_sync_off: Review) -> None:
    report = auto_sync_off.report
    assert change_set(report) == SYNC_OFF_CHANGES
    assert "removed" not in states(report).values()


def test_auto_sync_off_external_app_is_not_rendered(auto_sync_off: Review) -> None:
    apps = {a["app"]: a for a in auto_sync_off.report["apps"]}
    # its definition changed (syncPolicy commented out); its source is https://github.com/CCI-MOC/moc-apps.git
    ocp_prod = apps["argocd/opf-app-of-apps-ocp-prod"]
    assert ocp_prod["state"] == "not-rendered"
    assert "another Git repository" in ocp_prod["reason"] and "CCI-MOC/moc-apps" in ocp_prod["reason"]


def test_auto_sync_off_failed_app_is_not_unchanged(auto_sync_off: Review) -> None:
    assert states(auto_sync_off.report)["moc-infra/argocd/argocd-infra"] != "unchanged"


# --- operate-first/apps #2341: decommission the morty cluster ---------------------------------------------
# app-of-apps-morty.yaml leaves app-of-apps/kustomization.yaml and is deleted with its whole tree
# (envs/emea/morty: ten Applications, nameSuffix -morty, destination cluster `morty`) and the morty
# overlays they rendered. Besides: the ManagedCluster `morty` leaves acm/overlays/moc/infra (acm-infra,
# which also needs KSOPS), the workshops AppProject loses its morty destination (argocd-projects-infra),
# the vault backup Task on smaug loses its morty step (tekton steps: a CRD list, compared by position), the
# smaug image registry config patch changes (cluster-resources-smaug: KSOPS) and a SOPS-encrypted file
# changes (kfdefs-smaug: KSOPS). The backup-job secret.yaml is not in its kustomization: no change.

MORTY_APPS = [
    "alertreceiver",
    "cert-manager",
    "cluster-resources",
    "external-secrets",
    "k8s-annotations-exporter",
    "kepler",
    "kubevirt-hyperconverged",
    "local-storage",
    "nfd",
    "odf",
]
MORTY = "argocd/opf-app-of-apps-morty"


def _m(name: str) -> str:
    return f"moc-infra/argocd/{name}-morty"


MORTY_CHANGES: set[Key] = {
    *((MORTY, "removed", "argoproj.io", "Application", "argocd", f"{name}-morty") for name in MORTY_APPS),
    (_m("external-secrets"), "removed", "", "ServiceAccount", "external-secrets-operator", "eso-vault-auth"),
    (
        _m("external-secrets"),
        "removed",
        "operator.external-secrets.io",
        "OperatorConfig",
        "external-secrets-operator",
        "opf",
    ),
    (_m("k8s-annotations-exporter"), "removed", "", "ServiceAccount", "opf-monitoring", "k8s-annotations-exporter"),
    (_m("k8s-annotations-exporter"), "removed", "", "Service", "opf-monitoring", "k8s-annotations-exporter"),
    (_m("k8s-annotations-exporter"), "removed", "apps", "Deployment", "opf-monitoring", "k8s-annotations-exporter"),
    (
        _m("k8s-annotations-exporter"),
        "removed",
        "monitoring.coreos.com",
        "ServiceMonitor",
        "opf-monitoring",
        "k8s-annotations-exporter",
    ),
    (_m("kepler"), "removed", "", "ServiceAccount", "kepler-monitoring", "kepler-sa"),
    (_m("kepler"), "removed", "", "Service", "kepler-monitoring", "kepler-exporter"),
    (_m("kepler"), "removed", "monitoring.coreos.com", "ServiceMonitor", "kepler-monitoring", "kepler-exporter"),
    (
        _m("kubevirt-hyperconverged"),
        "removed",
        "hco.kubevirt.io",
        "HyperConverged",
        "openshift-cnv",
        "kubevirt-hyperconverged",
    ),
    (_m("nfd"), "removed", "nfd.openshift.io", "NodeFeatureDiscovery", "openshift-nfd", "nfd-instance"),
    ("moc-infra/argocd/argocd-projects-infra", "modified", "argoproj.io", "AppProject", "argocd", "workshops"),
    ("moc-infra/argocd/opf-vault-smaug", "modified", "tekton.dev", "Task", "vault", "backup-vault"),
}
# `kubectl kustomize cluster-scope/overlays/prod/emea/morty` at HEAD~1: 191 objects, by (group, kind)
MORTY_CLUSTER_RESOURCES = {
    ("", "ConfigMap"): 1,
    ("", "LimitRange"): 10,
    ("", "Namespace"): 17,
    ("", "PersistentVolumeClaim"): 1,
    ("", "ResourceQuota"): 10,
    ("", "Secret"): 1,
    ("", "ServiceAccount"): 6,
    ("apps", "DaemonSet"): 1,
    ("config.openshift.io", "APIServer"): 1,
    ("config.openshift.io", "Project"): 1,
    ("external-secrets.io", "SecretStore"): 4,
    ("imageregistry.operator.openshift.io", "Config"): 1,
    ("machineconfiguration.openshift.io", "MachineConfig"): 2,
    ("operator.openshift.io", "IngressController"): 1,
    ("operators.coreos.com", "OperatorGroup"): 5,
    ("operators.coreos.com", "Subscription"): 8,
    ("rbac.authorization.k8s.io", "ClusterRole"): 2,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): 8,
    ("rbac.authorization.k8s.io", "Role"): 4,
    ("rbac.authorization.k8s.io", "RoleBinding"): 24,
    ("security.openshift.io", "SecurityContextConstraints"): 1,
    ("user.openshift.io", "Group"): 82,
}
# render failures: the KSOPS generator (refused), `kustomization.yaml is empty` bases, remote bases
MORTY_ERRORS = {
    "moc-infra/argocd/acm-infra": "ksops",
    "moc-infra/argocd/cluster-resources-smaug": "ksops",
    "moc-infra/argocd/kfdefs-smaug": "ksops",
    _m("alertreceiver"): "ksops",
    _m("cert-manager"): "ksops",
    _m("local-storage"): "kustomization.yaml is empty",
    _m("odf"): "kustomization.yaml is empty",
    "moc-infra/argocd/argocd-infra": "github.com/argoproj/argo-cd/manifests/base",
    # the same argocd.yaml, also reviewed as the root of the self-managing loop (see tests/test_corpus.py)
    "argocd/argocd": "github.com/argoproj/argo-cd/manifests/base",
}


def test_morty_change_set(morty: Review) -> None:
    report = morty.report
    cluster_resources = _m("cluster-resources")
    rest = {k for k in change_set(report) if k[0] != cluster_resources}
    assert rest == MORTY_CHANGES
    mine = [c for c in report["changes"] if c["app"] == cluster_resources]
    assert {c["type"] for c in mine} == {"removed"}
    assert Counter((c["resource"]["group"], c["resource"]["kind"]) for c in mine) == MORTY_CLUSTER_RESOURCES
    for change in report["changes"]:
        expected_cluster = "name:moc-infra" if change["app"].startswith("argocd/") else None
        if change["app"].startswith("moc-infra/") and change["app"].endswith("-morty"):
            expected_cluster = "name:morty"
        if expected_cluster:
            assert change["cluster"] == expected_cluster, key(change)


def test_morty_modified_fields(morty: Review) -> None:
    report = morty.report
    project = the_change(report, "moc-infra/argocd/argocd-projects-infra", "AppProject", "workshops")
    assert paths(project) == {("spec.destinations[1]", "removed")}
    assert project["paths"][0]["before"] == {
        "namespace": "aiops-tools-workshop",
        "server": "https://api.morty.emea.operate-first.cloud:6443",
    }
    # steps: create-snapshot, prune-old-snapshots, cleanup-old-taskruns, backup-...-morty, backup-...-smaug
    task = the_change(report, "moc-infra/argocd/opf-vault-smaug", "Task", "backup-vault")
    assert paths(task) == {
        ("spec.steps[3].name", "changed"),
        ("spec.steps[3].command[2]", "changed"),
        ("spec.steps[3].onError", "removed"),
        ("spec.steps[4]", "removed"),
    }


def test_morty_apps(morty: Review) -> None:
    report = morty.report
    assert touched(report) == {
        MORTY: "removed",
        **{_m(name): "removed" for name in MORTY_APPS},
        "moc-infra/argocd/argocd-projects-infra": "changed",
        "moc-infra/argocd/opf-vault-smaug": "changed",
    }


def test_morty_render_errors(morty: Review) -> None:
    report = morty.report
    assert_error_verdict(morty)
    assert error_apps(report) == set(MORTY_ERRORS)
    for app, text in MORTY_ERRORS.items():
        assert text in error_text(report, app), app


# --- cloud-native-toolkit/multi-tenancy-gitops #316: Sterling Secure Proxy recipe ---------------------------
# sterling-secure-proxy-setup.yaml is deleted and the cm/engine instance files are renamed inside, but all
# three were commented out of 0-bootstrap/single-cluster/2-services/kustomization.yaml (the setup line is
# removed from the comments): the services app renders the same (nothing) at both revisions. The rest is
# .idea/ and doc/.


def test_secure_proxy_changes_nothing(secure_proxy: Review) -> None:
    report = secure_proxy.report
    assert_no_errors(secure_proxy)
    assert report["changes"] == []
    assert report["verdict"] == "pass"
    assert "openshift-gitops/services" in states(report)
    assert touched(report) == {}
    deleted = "0-bootstrap/single-cluster/2-services/argocd/instances/sterling-secure-proxy-setup.yaml"
    assert deleted in report["changedPaths"]


# --- aws-samples/eks-blueprints-add-ons #140: otelCollectorArgocd renamed opentelemetryCollector ------------
# chart/templates/otel-collector-argocd.yaml (`if .Values.otelCollectorArgocd.enable`) becomes
# opentelemetry-collector.yaml (`if .Values.opentelemetryCollector.enable`). A user who enabled the add-on
# under the old key keeps that value: the Application otel-collector-argocd is no longer generated, and
# nothing replaces it. With the chart's defaults nothing is generated either way. The removed child's
# chart (add-ons/otel-collector-argocd) only wraps opentelemetry-collector 0.47.0 from a chart
# repository, which is not vendored: it cannot be rendered offline.


def test_otel_rename_change_set(otel_rename: Review) -> None:
    report = otel_rename.report
    assert change_set(report) == {
        ("argocd/add-ons-enabled", "removed", "argoproj.io", "Application", "argocd", "otel-collector-argocd")
    }
    assert touched(report) == {"argocd/add-ons-enabled": "changed", "argocd/otel-collector-argocd": "removed"}


def test_otel_rename_removed_child_cannot_be_rendered(otel_rename: Review) -> None:
    report = otel_rename.report
    assert_error_verdict(otel_rename)
    assert error_apps(report) == {"argocd/otel-collector-argocd"}
    text = error_text(report, "argocd/otel-collector-argocd")
    assert "opentelemetry-collector" in text and "0.47.0" in text
