"""sync-policy-change: automated/prune/selfHeal/allowEmpty switched on or off fires, with the adoption
warning for several apps; an unchanged policy, a policy that stays disabled, and a new app do not."""

from __future__ import annotations

from pathlib import Path

from rule_harness import findings_of, run_change

from reviewer.policies.example_manifests import application
from reviewer.records import Finding

RULE = "sync-policy-change"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"


def _findings(tmp_path: Path, before: dict[str, str], after: dict[str, str | None]) -> list[Finding]:
    """`before`/`after`: app name -> its syncPolicy (flow YAML; "" for none; None at head: unchanged)."""
    base = {f"apps/argocd/{n}.yaml": application(n, f"apps/{n}", sync_policy=p) for n, p in before.items()}
    base.update({f"apps/{n}/cm.yaml": CM for n in before})
    head: dict[str, str | None] = {
        f"apps/argocd/{n}.yaml": application(n, f"apps/{n}", sync_policy=p) for n, p in after.items() if p is not None
    }
    return findings_of(run_change(tmp_path, base, head), RULE)


def test_enabling_prune_is_a_warning(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, {"web": "{automated: {}}"}, {"web": "{automated: {prune: true}}"})
    assert finding.severity == "warning"
    assert finding.title == "web: automated prune enabled"
    assert finding.app == "argocd/web"
    assert str(finding.key) == "argoproj.io/Application argocd/web"
    assert finding.path == "spec.syncPolicy.automated.prune"
    assert finding.location is not None and finding.location.file == "apps/argocd/web.yaml"
    assert finding.evidence == "prune: false -> true"
    assert "delete from the cluster every resource" in finding.message
    assert "sync the app on its own" not in finding.message  # it already did


def test_enabling_automated_with_prune_is_one_warning(tmp_path: Path) -> None:
    policy = "{automated: {prune: true, selfHeal: true}}"
    (finding,) = _findings(tmp_path, {"web": ""}, {"web": policy})
    assert finding.severity == "warning"
    assert finding.evidence == "automated: false -> true, prune: false -> true, selfHeal: false -> true"
    assert "sync the app on its own" in finding.message and "selfHeal" in finding.message


def test_disabling_prune_is_info(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, {"web": "{automated: {prune: true}}"}, {"web": "{automated: {}}"})
    assert finding.severity == "info"
    assert finding.title == "web: automated prune disabled"
    assert "keep running" in finding.message


def test_disabling_automated_is_info(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, {"web": "{automated: {prune: true}}"}, {"web": "{automated: {enabled: false}}"})
    assert finding.severity == "info"
    assert "manual sync" in finding.message


def test_enabling_automated_without_prune_is_info(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, {"web": ""}, {"web": "{automated: {}}"})
    assert (finding.severity, finding.title) == ("info", "web: automated sync enabled")
    assert finding.path == "spec.syncPolicy.automated"


def test_self_heal_alone_is_info(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, {"web": "{automated: {}}"}, {"web": "{automated: {selfHeal: true}}"})
    assert (finding.severity, finding.title) == ("info", "web: selfHeal enabled")
    assert finding.path == "spec.syncPolicy.automated.selfHeal"


def test_allow_empty_with_prune_is_a_warning(tmp_path: Path) -> None:
    before, after = "{automated: {prune: true}}", "{automated: {prune: true, allowEmpty: true}}"
    (finding,) = _findings(tmp_path, {"web": before}, {"web": after})
    assert (finding.severity, finding.title) == ("warning", "web: allowEmpty enabled")
    assert "wipe out all resources" in finding.message


def test_allow_empty_without_prune_is_info(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, {"web": "{automated: {}}"}, {"web": "{automated: {allowEmpty: true}}"})
    assert finding.severity == "info"
    assert "once automated prune is on" in finding.message


def test_several_apps_switched_to_automated_prune_adds_one_warning(tmp_path: Path) -> None:
    on = "{automated: {prune: true}}"
    findings = _findings(tmp_path, {"a": "", "b": "{automated: {}}", "c": ""}, {"a": on, "b": on, "c": None})
    adoption = [f for f in findings if f.app == ""]
    assert len(findings) == 3 and len(adoption) == 1
    assert adoption[0].severity == "warning"
    assert adoption[0].title == "2 apps switched to automated prune in one change"
    assert "argocd/a, argocd/b" in adoption[0].message and "one app at a time" in adoption[0].message


def test_one_app_switched_gets_no_adoption_warning(tmp_path: Path) -> None:
    findings = _findings(tmp_path, {"a": "", "b": ""}, {"a": "{automated: {prune: true}}", "b": "{automated: {}}"})
    assert [f.title for f in findings] == ["a: automated prune enabled", "b: automated sync enabled"]


def test_an_unchanged_policy_is_no_finding(tmp_path: Path) -> None:
    before, after = "{automated: {prune: true}}", "{automated: {prune: true}, syncOptions: [CreateNamespace=true]}"
    assert _findings(tmp_path, {"web": before}, {"web": after}) == []


def test_prune_under_disabled_automation_is_no_switch(tmp_path: Path) -> None:
    """`enabled: false` keeps prune inactive: flipping it changes nothing Argo CD does."""
    before, after = "{automated: {enabled: false}}", "{automated: {enabled: false, prune: true}}"
    assert _findings(tmp_path, {"web": before}, {"web": after}) == []


def test_a_new_app_is_no_switch(tmp_path: Path) -> None:
    base = {"apps/argocd/web.yaml": application("web", "apps/web"), "apps/web/cm.yaml": CM}
    new = application("api", "apps/api", sync_policy="{automated: {prune: true}}")
    report = run_change(tmp_path, base, {"apps/argocd/api.yaml": new, "apps/api/cm.yaml": CM})
    assert findings_of(report, RULE) == []
