"""Report formats on hand-built reports: golden files for one rich report, and the guarantees every
format keeps (Secret values never printed, markdown that a PR cannot inject into, stable order).

The golden files under tests/data/golden/ are written by hand-run code and reviewed by reading them; no
test rewrites them. When a format changes on purpose, regenerate them deliberately and read the diff.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.errors import UsageError
from reviewer.records import (
    App,
    AppStatus,
    Change,
    Destination,
    FieldDelta,
    Finding,
    Location,
    RenderError,
    Report,
    Resource,
    ResourceKey,
    SyncPolicy,
    Unrendered,
)
from reviewer.report import FORMATS, FormatOptions, format_report
from reviewer.report.json_report import report_document
from reviewer.report.markdown import fence_for, md_text

GOLDEN = Path(__file__).parent / "data" / "golden"

# Values that must never appear in any output (raw and base64, at base and at head).
SECRET_VALUES = ("hunter2-base", "aHVudGVyMi1iYXNl", "hunter2-head", "aHVudGVyMi1oZWFk", "sk_live_42")

EVIL_NAME = "<img src=x>"
EVIL_MESSAGE = "Looks fine | really\n```\n</details>\n<script>alert(1)</script> ping @org/admins *bold* $x$"


def app_record(app_id: str, server: str = "https://kubernetes.default.svc", namespace: str = "web") -> App:
    ns, name = app_id.split("/")
    return App(
        name=name,
        namespace=ns,
        project="default",
        sources=(),
        destination=Destination(server=server, namespace=namespace),
        sync_policy=SyncPolicy(automated=True, prune=True),
        ignore_differences=(),
        finalizers=(),
        defined_in=Location(f"apps/{name}.yaml", 1),
        manifest={},
    )


def resource(
    app: str,
    api_version: str,
    kind: str,
    namespace: str,
    name: str,
    body: dict[str, Any] | None = None,
    file: str | None = None,
    hook_phases: tuple[str, ...] = (),
) -> Resource:
    group = api_version.rpartition("/")[0]
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    full = {"apiVersion": api_version, "kind": kind, "metadata": metadata, **(body or {})}
    return Resource(
        key=ResourceKey(group, kind, namespace, name),
        api_version=api_version,
        body=full,
        app=app,
        location=Location(file, 1) if file else None,
        hook_phases=hook_phases,
    )


CLUSTER = "https://kubernetes.default.svc"
WEB = "argocd/web-prod"


def deployment(image: str, replicas: int) -> dict[str, Any]:
    return {
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": image, "ports": [{"containerPort": 8080}]},
                        {"name": "metrics", "image": "exporter:2.1"},
                    ]
                },
            },
        }
    }


def rich_changes() -> tuple[Change, ...]:
    web_file = "charts/web/templates/deployment.yaml"
    base_deploy = resource(WEB, "apps/v1", "Deployment", "web", "web", deployment("web:1.3.0", 3), web_file)
    head_deploy = resource(WEB, "apps/v1", "Deployment", "web", "web", deployment("web:1.4.0", 2), web_file)
    worker_base = deployment("worker:1.0", 1)
    worker_head = deployment("worker:1.0", 1)
    containers = worker_head["spec"]["template"]["spec"]["containers"]
    containers.reverse()
    config_file = "charts/web/templates/configmap.yaml"
    secret_file = "charts/web/templates/secret.yaml"
    return (
        Change(
            key=head_deploy.key,
            type="modified",
            cluster=CLUSTER,
            base=base_deploy,
            head=head_deploy,
            deltas=(
                FieldDelta("spec.template.spec.containers[name=web].image", "web:1.3.0", "web:1.4.0"),
                FieldDelta("spec.replicas", 3, 2, ignored=True),
            ),
        ),
        Change(
            key=ResourceKey("apps", "Deployment", "web", "worker"),
            type="modified",
            cluster=CLUSTER,
            base=resource(WEB, "apps/v1", "Deployment", "web", "worker", worker_base, web_file),
            head=resource(WEB, "apps/v1", "Deployment", "web", "worker", worker_head, web_file),
            deltas=(FieldDelta("spec.template.spec.containers", kind="reordered"),),
        ),
        Change(
            key=ResourceKey("", "ConfigMap", "web", "web-config"),
            type="modified",
            cluster=CLUSTER,
            base=resource(
                WEB,
                "v1",
                "ConfigMap",
                "web",
                "web-config",
                {"data": {"app.ini": "[server]\nport = 8080\nworkers = 4\n"}},
                config_file,
            ),
            head=resource(
                WEB,
                "v1",
                "ConfigMap",
                "web",
                "web-config",
                {"data": {"app.ini": "[server]\nport = 8080\nworkers = 8\n"}},
                config_file,
            ),
            deltas=(
                FieldDelta(
                    "data[app.ini]", "[server]\nport = 8080\nworkers = 4\n", "[server]\nport = 8080\nworkers = 8\n"
                ),
            ),
        ),
        # Values deliberately left unmasked, as if the diff stage had failed to mask them: the report's
        # own guard must still hide them.
        Change(
            key=ResourceKey("", "Secret", "web", "web-db"),
            type="modified",
            cluster=CLUSTER,
            base=resource(
                WEB,
                "v1",
                "Secret",
                "web",
                "web-db",
                {"type": "Opaque", "data": {"password": "aHVudGVyMi1iYXNl", "user": "d2Vi"}},
                secret_file,
            ),
            head=resource(
                WEB,
                "v1",
                "Secret",
                "web",
                "web-db",
                {
                    "type": "Opaque",
                    "data": {"password": "aHVudGVyMi1oZWFk", "user": "d2Vi"},
                    "stringData": {"api-key": "sk_live_42"},
                },
                secret_file,
            ),
            deltas=(
                FieldDelta("data.password", "hunter2-base", "hunter2-head"),
                FieldDelta("stringData", None, {"api-key": "sk_live_42"}, kind="added"),
            ),
        ),
        Change(
            key=ResourceKey("autoscaling", "HorizontalPodAutoscaler", "web", "web"),
            type="modified",
            cluster=CLUSTER,
            base=resource(WEB, "autoscaling/v2", "HorizontalPodAutoscaler", "web", "web", {"spec": {"minReplicas": 2}}),
            head=resource(WEB, "autoscaling/v2", "HorizontalPodAutoscaler", "web", "web", {"spec": {"minReplicas": 3}}),
            deltas=(FieldDelta("spec.minReplicas", 2, 3, ignored=True),),
        ),
        Change(
            key=ResourceKey("", "Service", "web", "web"),
            type="moved",
            cluster=CLUSTER,
            base=resource(
                "argocd/web-staging",
                "v1",
                "Service",
                "web",
                "web",
                {"spec": {"ports": [{"port": 80}]}},
                "apps/web-staging/service.yaml",
            ),
            head=resource(
                WEB,
                "v1",
                "Service",
                "web",
                "web",
                {"spec": {"ports": [{"port": 80}]}},
                "charts/web/templates/service.yaml",
            ),
        ),
        Change(
            key=ResourceKey("networking.k8s.io", "NetworkPolicy", "web", EVIL_NAME),
            type="added",
            cluster=CLUSTER,
            head=resource(
                WEB,
                "networking.k8s.io/v1",
                "NetworkPolicy",
                "web",
                EVIL_NAME,
                {"spec": {"podSelector": {}}},
                "charts/web/templates/netpol.yaml",
            ),
        ),
        Change(
            key=ResourceKey("", "PersistentVolumeClaim", "web", "data"),
            type="removed",
            cluster=CLUSTER,
            base=resource(
                WEB,
                "v1",
                "PersistentVolumeClaim",
                "web",
                "data",
                {"spec": {"resources": {"requests": {"storage": "10Gi"}}}},
                "charts/web/templates/pvc.yaml",
            ),
        ),
        Change(
            key=ResourceKey("batch", "Job", "jobs", "db-migrate"),
            type="added",
            cluster=CLUSTER,
            head=resource(
                "argocd/jobs",
                "batch/v1",
                "Job",
                "jobs",
                "db-migrate",
                {"spec": {"template": {"spec": {"containers": [{"name": "migrate", "image": "migrate:7"}]}}}},
                "apps/jobs/migrate.yaml",
                hook_phases=("PreSync",),
            ),
            hook=True,
        ),
        Change(
            key=ResourceKey("apps", "Deployment", "legacy", "legacy"),
            type="removed",
            cluster=CLUSTER,
            base=resource(
                "argocd/legacy",
                "apps/v1",
                "Deployment",
                "legacy",
                "legacy",
                {"spec": {"replicas": 1}},
                "apps/legacy/deployment.yaml",
            ),
        ),
    )


def rich_findings() -> tuple[Finding, ...]:
    pvc = ResourceKey("", "PersistentVolumeClaim", "web", "data")
    return (
        Finding(
            rule="llm-review",
            severity="info",
            title="Reviewer note",
            message=EVIL_MESSAGE,
            app=WEB,
            key=ResourceKey("networking.k8s.io", "NetworkPolicy", "web", EVIL_NAME),
            origin="llm",
        ),
        Finding(
            rule="hook-added",
            severity="warning",
            title="New sync hook",
            message="Job jobs/db-migrate runs before every sync (PreSync).",
            app="argocd/jobs",
            key=ResourceKey("batch", "Job", "jobs", "db-migrate"),
            location=Location("apps/jobs/migrate.yaml", 1),
        ),
        Finding(
            rule="prune-deletion",
            severity="critical",
            title="Data deleted on sync",
            message="Argo CD prunes PersistentVolumeClaim web/data (automated sync with prune): its volume is lost.",
            app=WEB,
            key=pvc,
            location=Location("charts/web/templates/pvc.yaml", 1),
        ),
        Finding(
            rule="immutable-field",
            severity="error",
            title="Immutable field changed",
            message="spec.selector of a Deployment cannot change: the sync fails until the object is replaced.",
            app=WEB,
            key=ResourceKey("apps", "Deployment", "web", "worker"),
            path="spec.selector.matchLabels",
        ),
        Finding(
            rule="replicas-ignored",
            severity="warning",
            title="Replicas change hidden by ignoreDifferences",
            message="spec.replicas changes from 3 to 2 but the app ignores it.",
            app=WEB,
            key=ResourceKey("apps", "Deployment", "web", "web"),
            path="spec.replicas",
            waived=True,
        ),
    )


def rich_report() -> Report:
    apps = (
        AppStatus(WEB, "web-prod", "changed", base=app_record(WEB), head=app_record(WEB), reason="source path changed"),
        AppStatus(
            "argocd/web-staging",
            "web-staging",
            "changed",
            base=app_record("argocd/web-staging"),
            head=app_record("argocd/web-staging"),
            reason="source path changed",
        ),
        AppStatus("argocd/jobs", "jobs", "added", head=app_record("argocd/jobs", namespace="jobs"), reason="new app"),
        AppStatus(
            "argocd/legacy",
            "legacy",
            "removed",
            base=app_record("argocd/legacy", namespace="legacy"),
            reason="app removed",
        ),
        AppStatus(
            "argocd/broken",
            "broken",
            "changed",
            base=app_record("argocd/broken"),
            head=app_record("argocd/broken"),
            reason="values file changed",
        ),
        AppStatus(
            "argocd/external",
            "external",
            "not-rendered",
            base=app_record("argocd/external"),
            head=app_record("argocd/external"),
            reason="source is another Git repository (https://github.com/other/charts)",
        ),
        AppStatus(
            "argocd/quiet",
            "quiet",
            "unchanged",
            base=app_record("argocd/quiet"),
            head=app_record("argocd/quiet"),
            reason="shared base changed",
        ),
    )
    errors = (
        RenderError(
            app="argocd/broken",
            message="helm template failed",
            command="helm template broken charts/broken --namespace web --values values-prod.yaml",
            exit_code=1,
            stderr='Error: template: broken/templates/deploy.yaml:12:20: executing "broken/templates/deploy.yaml"\n'
            "  at <.Values.image.tag>: nil pointer evaluating interface {}.tag\n",
        ),
    )
    return Report(
        base_revision="3f2a9c1",
        head_revision="8d41e07",
        base_label="main",
        head_label="feature/web-1.4",
        apps=apps,
        changes=rich_changes(),
        findings=rich_findings(),
        errors=errors,
        verdict="fail",
        warnings=("argocd/web-prod: ignoreDifferences managedFieldsManagers cannot be applied offline",),
        unrendered=(
            Unrendered(
                "ApplicationSet argocd/clusters",
                "plugin generators need the Argo CD repo-server",
                Location("clusters/appset.yaml", 3),
            ),
        ),
        timings=(("discover", 0.412), ("render", 3.25), ("diff", 0.031)),
        tool_versions=(("gitops-reviewer", "0.1.0"), ("helm", "v3.21.0"), ("kustomize", "v5.8.0")),
        changed_paths=("apps/jobs/migrate.yaml", "charts/web/values-prod.yaml"),
    )


def empty_report() -> Report:
    quiet = AppStatus("argocd/quiet", "quiet", "unchanged", base=app_record("argocd/quiet"))
    return Report("a1", "b2", "main", "HEAD", apps=(quiet,), changes=(), findings=(), errors=(), verdict="pass")


GOLDEN_FILES = {"text": "report.txt", "markdown": "report.md", "json": "report.json"}


@pytest.mark.parametrize("fmt", sorted(GOLDEN_FILES))
def test_rich_report_matches_golden_file(fmt: str) -> None:
    expected = (GOLDEN / GOLDEN_FILES[fmt]).read_text()
    actual = format_report(rich_report(), fmt, FormatOptions())
    assert actual == expected, f"output differs from tests/data/golden/{GOLDEN_FILES[fmt]}: review, then rewrite it"


def test_registry_and_unknown_format() -> None:
    assert list(FORMATS) == ["text", "markdown", "json", "codequality", "sarif"]
    with pytest.raises(UsageError, match="unknown report format 'xml'"):
        format_report(rich_report(), "xml")


OPTION_SETS = (
    FormatOptions(),
    FormatOptions(color=True),
    FormatOptions(include_diff=False),
    FormatOptions(include_verdict=False),
    FormatOptions(max_chars=3000),
)


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("options", OPTION_SETS)
def test_no_secret_value_in_any_format(fmt: str, options: FormatOptions) -> None:
    output = format_report(rich_report(), fmt, options)
    for value in SECRET_VALUES:
        assert value not in output


def test_changed_secret_value_is_named_not_shown() -> None:
    text = format_report(rich_report(), "text")
    assert "-  password: <redacted>\n+  password: '<redacted: changed>'\n" in text
    assert "+stringData:\n+  api-key: <redacted>\n" in text
    assert "   user: <redacted>\n" in text
    secret = next(c for c in report_document(rich_report())["changes"] if c["resource"]["kind"] == "Secret")
    assert secret["paths"] == [
        {"path": "data.password", "kind": "changed", "before": "<redacted>", "after": "<redacted>", "ignored": False},
        {"path": "stringData", "kind": "added", "before": None, "after": {"api-key": "<redacted>"}, "ignored": False},
    ]


def test_text_summary_lines_count_each_type_and_ignored_apart() -> None:
    text = format_report(rich_report(), "text")
    assert "\nargocd/web-prod  +1 ~4 -1 >1 (1 ignored)\n" in text
    assert "\nargocd/jobs  +1 ~0 -0  (new app)\n" in text
    assert "\nargocd/legacy  +0 ~0 -1  (app removed)\n" in text
    assert "\nargocd/broken  +0 ~0 -0  (render failed)\n" in text
    assert "\n1 other app rendered with no changes\n" in text


def test_text_marks_each_change_type() -> None:
    text = format_report(rich_report(), "text")
    assert "\n~ apps/Deployment web/web (charts/web/templates/deployment.yaml)\n" in text
    assert "\n+ networking.k8s.io/NetworkPolicy web/<img src=x> (charts/web/templates/netpol.yaml)\n" in text
    assert "\n- PersistentVolumeClaim web/data (charts/web/templates/pvc.yaml)\n" in text
    assert "\n> Service web/web (charts/web/templates/service.yaml)\n" in text
    assert "    moved from app argocd/web-staging to app argocd/web-prod\n" in text
    assert "    hook: runs at sync (PreSync)\n" in text
    assert "    ignored (ignoreDifferences): spec.replicas\n" in text
    assert "    every difference is ignored (ignoreDifferences): Argo CD reports the app Synced\n" in text
    assert "    order only (still rolls the pods): spec.template.spec.containers\n" in text
    assert "-      - image: web:1.3.0\n+      - image: web:1.4.0\n" in text


def test_text_colour_only_when_asked() -> None:
    plain = format_report(rich_report(), "text", FormatOptions(color=False))
    coloured = format_report(rich_report(), "text", FormatOptions(color=True))
    assert "\x1b" not in plain
    assert "\x1b[32m+      - image: web:1.4.0\x1b[0m" in coloured
    assert "\x1b[31m-      - image: web:1.3.0\x1b[0m" in coloured
    assert "\x1b[36m~ apps/Deployment web/web (charts/web/templates/deployment.yaml)\x1b[0m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_text_never_passes_control_characters_to_the_terminal() -> None:
    report = rich_report()
    evil = Finding("r", "warning", "t", "clear screen \x1b[2J\x07 done", WEB)
    bad_error = RenderError("argocd/broken", "failed", command="helm", stderr="\x1b]0;title\x07oops")
    report = Report(**{**_fields(report), "findings": (evil,), "errors": (bad_error,)})
    text = format_report(report, "text")
    assert "\x1b" not in text and "\x07" not in text
    assert "clear screen \\x1b[2J\\x07 done" in text


def _fields(report: Report) -> dict[str, Any]:
    return {name: getattr(report, name) for name in Report.__dataclass_fields__}


def test_verdict_only_view_has_no_yaml_diff() -> None:
    for fmt in ("text", "markdown"):
        output = format_report(rich_report(), fmt, FormatOptions(include_diff=False))
        assert "@@" not in output and "image: web" not in output
        assert "prune-deletion" in output
    text = format_report(rich_report(), "text", FormatOptions(include_diff=False))
    assert "\nargocd/web-prod  +1 ~4 -1 >1 (1 ignored)\n" in text
    assert text.rstrip().endswith("1 render error; 10 changes in 3 apps)")


def test_diff_view_has_no_verdict_or_findings() -> None:
    text = format_report(rich_report(), "text", FormatOptions(include_verdict=False))
    markdown = format_report(rich_report(), "markdown", FormatOptions(include_verdict=False))
    for output in (text, markdown):
        assert "prune-deletion" not in output and "verdict" not in output.lower()
        assert "image: web:1.4.0" in output and "helm template failed" in output


def test_findings_most_severe_first_in_every_format() -> None:
    expected = ["prune-deletion", "immutable-field", "hook-added", "replicas-ignored", "llm-review"]
    for fmt in ("text", "markdown"):
        output = format_report(rich_report(), fmt)
        positions = [output.index(f" {rule} ") for rule in expected]
        assert positions == sorted(positions), fmt
    assert [f["rule"] for f in report_document(rich_report())["findings"]] == expected


def test_render_errors_name_app_command_and_stderr() -> None:
    text = format_report(rich_report(), "text")
    assert "render error: helm template failed\n" in text
    assert "    command: helm template broken charts/broken --namespace web --values values-prod.yaml\n" in text
    assert "    exit code: 1\n" in text
    assert "        at <.Values.image.tag>: nil pointer evaluating interface {}.tag\n" in text
    markdown = format_report(rich_report(), "markdown")
    assert "$ helm template broken charts/broken --namespace web --values values-prod.yaml\nexit code 1\n" in markdown
    assert report_document(rich_report())["errors"][0]["exitCode"] == 1


def test_not_rendered_apps_and_sources_say_why() -> None:
    text = format_report(rich_report(), "text")
    assert "  argocd/external: source is another Git repository (https://github.com/other/charts)\n" in text
    assert "  ApplicationSet argocd/clusters (clusters/appset.yaml:3): plugin generators need the Argo CD" in text


# --- markdown safety ----------------------------------------------------------------------------------

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,})([^`]*)$")


def split_fenced(markdown: str) -> tuple[list[str], list[list[str]]]:
    """(lines outside code fences, contents of each fenced block), closing fences as CommonMark does:
    a line of at least as many backticks as the opening, indented at most three spaces."""
    outside: list[str] = []
    blocks: list[list[str]] = []
    fence: str | None = None
    for line in markdown.splitlines():
        if fence is None:
            match = _FENCE_OPEN.match(line)
            if match:
                fence = match.group(1)
                blocks.append([])
            else:
                outside.append(line)
        elif re.fullmatch(rf" {{0,3}}`{{{len(fence)},}}\s*", line):
            fence = None
        else:
            blocks[-1].append(line)
    assert fence is None, "a code fence is never closed"
    return outside, blocks


def unescaped_pipes(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row))


def test_markdown_resource_names_and_messages_cannot_inject_html() -> None:
    markdown = format_report(rich_report(), "markdown")
    outside, _ = split_fenced(markdown)
    prose = "\n".join(outside)
    assert "<img" not in prose and "<script" not in prose
    assert "&lt;img src=x&gt;" in prose
    assert "@org/admins" not in prose and "@\u200borg/admins" in prose
    assert "\\*bold\\*" in prose and "\\$x\\$" in prose


def test_markdown_table_keeps_its_columns() -> None:
    markdown = format_report(rich_report(), "markdown")
    outside, _ = split_fenced(markdown)
    rows = [line for line in outside if line.startswith("| ")]
    assert len(rows) == 2 + len(rich_findings())
    assert all(unescaped_pipes(row) == 6 for row in rows), rows
    row = next(row for row in rows if "llm-review" in row)
    assert "Looks fine \\| really<br>\\`\\`\\`<br>&lt;/details&gt;<br>&lt;script&gt;" in row


def test_markdown_details_balance_and_code_fences_cannot_be_closed_by_content() -> None:
    nasty = "```\n</details>\n````\n<!-- x -->\n"
    config = ResourceKey("", "ConfigMap", "web", "nasty")
    change = Change(
        key=config,
        type="added",
        cluster=CLUSTER,
        head=resource(WEB, "v1", "ConfigMap", "web", "nasty", {"data": {"README.md": nasty}}),
    )
    report = Report(**{**_fields(rich_report()), "changes": (change,)})
    markdown = format_report(report, "markdown")
    outside, blocks = split_fenced(markdown)
    assert sum(line.count("<details>") for line in outside) == 1
    assert sum(line.count("</details>") for line in outside) == 1
    assert "+    ````" in next(block for block in blocks if "+    </details>" in block)
    assert any(line.startswith("`````diff") for line in markdown.splitlines())


def test_fence_and_escape_helpers() -> None:
    assert fence_for("no backticks") == "```"
    assert fence_for("a ```` b") == "`````"
    assert md_text("# title") == "\\# title"
    assert md_text("- item") == "\\- item"
    assert md_text("1. first") == "1\\. first"
    assert md_text("a | b\nc", newline="<br>") == "a \\| b<br>c"
    assert md_text("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"


def big_report(resources: int = 120) -> Report:
    report = rich_report()
    extra = tuple(
        Change(
            key=ResourceKey("", "ConfigMap", "web", f"cm-{i:03}"),
            type="added",
            cluster=CLUSTER,
            head=resource(
                f"argocd/app-{i % 3}",
                "v1",
                "ConfigMap",
                "web",
                f"cm-{i:03}",
                {"data": {f"k{j}": f"value {j}" for j in range(40)}},
            ),
        )
        for i in range(resources)
    )
    return Report(**{**_fields(report), "changes": report.changes + extra})


@pytest.mark.parametrize("limit", [60_000, 20_000, 6_000])
def test_markdown_trims_diffs_to_fit_and_never_cuts_findings(limit: int) -> None:
    report = big_report()
    full = format_report(report, "markdown")
    assert len(full) > 60_000
    options = FormatOptions(max_chars=limit, full_report_url="https://ci.example/run/1#summary")
    trimmed = format_report(report, "markdown", options)
    assert len(trimmed) <= limit
    assert (
        "Some diffs were left out to fit the size limit. The [full report](https://ci.example/run/1#summary)" in trimmed
    )
    for finding in rich_findings():
        assert f"| {md_text(finding.rule)} |" in trimmed
    assert "helm template failed" in trimmed
    split_fenced(trimmed)


def test_markdown_within_the_limit_is_not_trimmed() -> None:
    report = rich_report()
    full = format_report(report, "markdown")
    assert format_report(report, "markdown", FormatOptions(max_chars=len(full))) == full


# --- JSON contract ------------------------------------------------------------------------------------


def test_json_top_level_contract() -> None:
    document = json.loads(format_report(rich_report(), "json"))
    assert list(document) == [
        "verdict",
        "base",
        "head",
        "apps",
        "changes",
        "findings",
        "errors",
        "unrendered",
        "warnings",
        "changedPaths",
        "timings",
        "toolVersions",
        "skippedApps",
        "llm",
        "shard",
        "schemaVersion",
    ]
    assert document["schemaVersion"] == 1
    assert document["verdict"] == "fail"
    assert document["base"] == {"revision": "3f2a9c1", "label": "main"}
    assert document["toolVersions"]["helm"] == "v3.21.0"
    assert document["timings"] == {"discover": 0.412, "render": 3.25, "diff": 0.031}


def test_json_changes_and_findings_shape() -> None:
    document = report_document(rich_report())
    moved = next(c for c in document["changes"] if c["type"] == "moved")
    base, head = moved.pop("base"), moved.pop("head")
    assert (base["app"], head["app"]) == ("argocd/web-staging", WEB)
    assert head["location"] == {"file": "charts/web/templates/service.yaml", "line": 1}
    assert head["body"]["kind"] == "Service" and list(head) == [
        "app",
        "apiVersion",
        "location",
        "syncWave",
        "hookPhases",
        "syncOptions",
        "body",
    ]
    assert moved == {
        "app": WEB,
        "type": "moved",
        "resource": {"group": "", "kind": "Service", "namespace": "web", "name": "web"},
        "cluster": CLUSTER,
        "hook": False,
        "ignored": False,
        "fromApp": "argocd/web-staging",
        "source": "charts/web/templates/service.yaml",
        "paths": [],
    }
    assert {c["type"] for c in document["changes"]} == {"added", "removed", "modified", "moved"}
    assert [c["resource"]["name"] for c in document["changes"] if c["hook"]] == ["db-migrate"]
    assert [c["resource"]["kind"] for c in document["changes"] if c["ignored"]] == ["HorizontalPodAutoscaler"]
    finding = document["findings"][0]
    assert list(finding) == [
        "rule",
        "severity",
        "app",
        "resource",
        "path",
        "message",
        "origin",
        "fingerprint",
        "waived",
        "title",
        "location",
        "evidence",
    ]
    assert finding["fingerprint"] == rich_findings()[2].fingerprint
    assert finding["location"] == {"file": "charts/web/templates/pvc.yaml", "line": 1}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_output_does_not_depend_on_input_order(fmt: str) -> None:
    report = rich_report()
    shuffled = list(report.changes), list(report.findings), list(report.apps)
    for items in shuffled:
        random.Random(7).shuffle(items)
    other = Report(
        **{**_fields(report), "changes": tuple(shuffled[0]), "findings": tuple(shuffled[1]), "apps": tuple(shuffled[2])}
    )
    assert format_report(other, fmt) == format_report(report, fmt)


def test_empty_report_passes_in_every_format() -> None:
    report = empty_report()
    assert format_report(report, "text") == (
        "base main (a1) -> head HEAD (b2)\n\nno changes (1 app rendered)\n\n"
        "verdict: PASS (no findings; 0 changes in 0 apps)\n"
    )
    assert format_report(report, "markdown").startswith(
        "**✅ gitops-reviewer: pass** · no findings; 0 changes in 0 apps\n"
    )
    assert json.loads(format_report(report, "json"))["changes"] == []


def test_bidirectional_controls_are_written_out() -> None:
    trojan = Finding("r", "warning", "t", "access = \u202e nimda \u2066", WEB)
    report = Report(**{**_fields(rich_report()), "findings": (trojan,)})
    assert "access = <U+202E> nimda <U+2066>" in format_report(report, "text")
    assert "access = &lt;U+202E&gt; nimda &lt;U+2066&gt;" in format_report(report, "markdown")


DOC = Path(__file__).resolve().parents[1] / "docs" / "report-json.md"


def test_json_contract_document_covers_every_field() -> None:
    doc = DOC.read_text()
    golden = json.loads((GOLDEN / "report.json").read_text())
    nested = {key: golden[key][0] for key in ("apps", "changes", "findings", "errors", "unrendered")} | {
        "paths": golden["changes"][2]["paths"][0],
        "base": golden["base"],
    }
    for keys in (golden, *nested.values()):
        for key in keys:
            assert f"| `{key}` |" in doc, f"docs/report-json.md does not document `{key}`"
    match = re.search(r"## Example\n.*?```json\n(.*?)\n```", doc, re.DOTALL)
    assert match is not None
    example = json.loads(match.group(1))
    assert list(example) == list(golden)
    for key in ("apps", "changes", "findings", "errors", "unrendered"):
        assert all(list(item) == list(golden[key][0]) for item in example[key]), key


def test_secret_without_api_version_or_with_odd_data_is_still_masked() -> None:
    key = ResourceKey("", "Secret", "web", "odd")
    body = {"kind": "Secret", "metadata": {"name": "odd"}, "data": "sk_live_42", "stringData": {"k": "hunter2-head"}}
    change = Change(key=key, type="added", cluster=CLUSTER, head=Resource(key, "v1", body, WEB))
    report = Report(**{**_fields(rich_report()), "changes": (change,)})
    for fmt in FORMATS:
        output = format_report(report, fmt)
        assert "sk_live_42" not in output and "hunter2-head" not in output


# Shaped like real credentials (GitHub token, URL password, JWT); none is a real one.
PLANTED_TOKEN = "ghp_" + "Z" * 36
PLANTED_URL = "postgres://app:hunter2-in-url@db.internal:5432/app"
PLANTED_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXBhcnQ"


def test_credential_shaped_values_outside_secrets_are_masked_in_every_format() -> None:
    """A token in an env var, a password in a URL, a JWT in an annotation: masked in every format, while
    the change itself (which field, that it changed) stays visible."""

    def configmap(token: str, url: str) -> dict[str, Any]:
        return {
            "metadata": {"name": "cfg", "namespace": "web", "annotations": {"auth": PLANTED_JWT}},
            "data": {"GITHUB_TOKEN": token, "DATABASE_URL": url, "LOG_LEVEL": "info"},
        }

    old_url = "postgres://db.internal/app"
    base = resource(WEB, "v1", "ConfigMap", "web", "cfg", configmap("old-value", old_url), "a.yaml")
    head = resource(WEB, "v1", "ConfigMap", "web", "cfg", configmap(PLANTED_TOKEN, PLANTED_URL), "a.yaml")
    change = Change(
        key=head.key,
        type="modified",
        cluster=CLUSTER,
        base=base,
        head=head,
        deltas=(
            FieldDelta("data.GITHUB_TOKEN", "old-value", PLANTED_TOKEN),
            FieldDelta("data.DATABASE_URL", old_url, PLANTED_URL),
        ),
    )
    report = dataclasses.replace(rich_report(), changes=(change,))
    for fmt in FORMATS:
        output = format_report(report, fmt)
        for planted in (PLANTED_TOKEN, "hunter2-in-url", PLANTED_JWT):
            assert planted not in output, (fmt, planted)
    text = format_report(report, "text")
    assert "GITHUB_TOKEN" in text and "postgres://app:<redacted>@db.internal:5432/app" in text
    assert "old-value" in text, "values without a credential shape are shown as they are"


_BODY_TEXT = st.sampled_from(
    ["plain", "ghp_" + "a" * 36, "https://user:pass@host/x", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "é", ""]
)
_BODY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _BODY_TEXT,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.one_of(_BODY_TEXT, st.integers()), children, max_size=3)
        | st.tuples(children, children)
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(_BODY)
def test_the_json_body_walk_redacts_as_the_masking_module_does(body: Any) -> None:
    from reviewer.report.json_report import _jsonable, _redacted_jsonable
    from reviewer.report.masking import redacted_strings

    assert _redacted_jsonable(body) == _jsonable(redacted_strings(body))
