"""The advisory LLM review through the real pipeline: a real git repo and change, real kustomize-free
directory renders, the real `openai` client, and the fake OpenAI server scripted per scenario.

For every scenario the verdict must be exactly the rules' verdict, and the report must say what
happened: the model's (capped) findings, or "LLM review unavailable: <reason>", or a loud
misconfiguration.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import (
    FakeOpenAI,
    Reply,
    answer,
    completion,
    data_block,
    error_body,
    failing,
    fake_openai,
    hang,
    payload_of,
    raw,
    refusal,
    rejects_json_schema,
    sequence,
)
from llm_fixtures import (
    CONFIGMAP_ID,
    DEPLOYMENT_ID,
    SHOP_BASE,
    SHOP_HEAD,
    build_repo,
    rule_verdict,
    run_review,
    settings,
)

from reviewer.change import resolve_change
from reviewer.llm.options import LlmOptions
from reviewer.records import Report
from reviewer.report import format_report
from reviewer.review import review


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_repo(tmp_path_factory.mktemp("llm") / "shop", SHOP_BASE, SHOP_HEAD)


@pytest.fixture(scope="module")
def baseline(shop: Path) -> Report:
    """The review with the LLM off: what the rules alone say."""
    report = run_review(shop, None)
    assert report.llm is None
    assert report.verdict == "pass" and [f.rule for f in report.findings] == ["replicas-drop"]
    return report


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as server:
        yield server


def renamed_key_finding(body: dict[str, Any], **fields: Any) -> list[dict[str, Any]]:
    """What a good model says about the change: the Deployment still reads the ConfigMap key `MODE`."""
    data = data_block(body)
    evidence = '"path": "data.MODE", "change": "removed"'
    assert evidence in data, data
    finding = {
        "resource": CONFIGMAP_ID,
        "category": "config-reference",
        "severity": "critical",
        "title": "Key still read",
        "evidence": evidence,
        "explanation": "The Deployment web reads key MODE of this ConfigMap, which the change renames.",
    }
    return [{**finding, **fields}]


def assert_rule_verdict(report: Report, baseline: Report) -> None:
    assert report.verdict == baseline.verdict == rule_verdict(report)
    rule_findings = [f for f in report.findings if f.origin != "llm"]
    assert rule_findings == list(baseline.findings), "rule findings are never removed or changed"


def texts(report: Report) -> dict[str, str]:
    return {fmt: format_report(report, fmt) for fmt in ("text", "markdown", "json")}


def test_valid_findings_are_added_capped_and_never_change_the_verdict(
    shop: Path, baseline: Report, fake: FakeOpenAI
) -> None:
    fake.script = answer(renamed_key_finding)
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and report.llm.status == "reviewed"
    (llm,) = [f for f in report.findings if f.origin == "llm"]
    assert (llm.rule, llm.severity, llm.app, str(llm.key)) == (
        "llm:config-reference",
        "warning",
        "argocd/web",
        "ConfigMap shop/web-config",
    )
    assert "capped at warning" in llm.message and llm.location is not None
    assert report.llm.mode == "json_schema" and report.llm.attempts == 1
    assert [name for name, _ in report.timings][-1] == "llm"
    body = fake.bodies[0]
    assert body["model"] == "fake-model" and body["response_format"]["type"] == "json_schema"
    assert "tools" not in body and "functions" not in body and "tool_choice" not in body, "the model gets no tools"
    assert fake.requests[0]["headers"]["authorization"] == f"Bearer {fake.api_key}"
    out = texts(report)
    assert "llm:config-reference" in out["text"] and "(LLM, advisory)" in out["text"]
    assert "LLM review (advisory, severity capped at warning): 1 finding" in out["text"]
    assert f"prompt {report.llm.prompt_digest}" in out["markdown"] and "schema v1" in out["markdown"]
    assert "LLM fake-model" in out["markdown"]
    document = json.loads(out["json"])
    assert document["llm"]["status"] == "reviewed" and document["llm"]["promptDigest"] == report.llm.prompt_digest
    assert [f["origin"] for f in document["findings"]].count("llm") == 1


def test_a_raised_cap_lets_the_model_fail_the_check_but_never_lowers_it(shop: Path, fake: FakeOpenAI) -> None:
    fake.script = answer(renamed_key_finding)
    report = run_review(shop, fake, severity_cap="error")
    assert report.verdict == "fail", "worst(rule pass, min(llm critical, cap error)) = error -> fail"
    (llm,) = [f for f in report.findings if f.origin == "llm"]
    assert llm.severity == "error"


def test_the_payload_is_structured_and_carries_sync_policy_and_rule_findings(
    shop: Path, baseline: Report, fake: FakeOpenAI
) -> None:
    fake.script = answer([])
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and report.llm.status == "reviewed"
    payload = payload_of(fake.bodies[0])
    (app,) = payload["apps"]
    assert app["syncPolicy"] == {"automated": True, "prune": True, "selfHeal": True, "allowEmpty": False}
    assert [f["rule"] for f in payload["ruleFindings"]] == ["replicas-drop"]
    assert payload["ruleFindings"][0]["resource"] == DEPLOYMENT_ID
    changes = {c["id"]: c for c in payload["changes"]}
    assert list(changes) == [DEPLOYMENT_ID, CONFIGMAP_ID], "resources with rule findings come first"
    assert {"path": "spec.replicas", "change": "changed", "before": 4, "after": 2} in changes[DEPLOYMENT_ID]["fields"]
    assert "LLM review (advisory, severity capped at warning): no findings" in format_report(report, "text")


def test_findings_citing_unknown_resources_or_fake_evidence_are_dropped_and_counted(
    shop: Path, baseline: Report, fake: FakeOpenAI
) -> None:
    def findings(body: dict[str, Any]) -> list[dict[str, Any]]:
        good = renamed_key_finding(body)
        unknown = renamed_key_finding(body, resource="argocd/web apps/Deployment shop/database")
        made_up = renamed_key_finding(body, resource=DEPLOYMENT_ID, category="availability", evidence="replicas: 0")
        bad_enum = renamed_key_finding(body, category="vibes")
        return good + unknown + made_up + bad_enum

    fake.script = answer(findings)
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and report.llm.status == "reviewed"
    assert [f.rule for f in report.findings if f.origin == "llm"] == ["llm:config-reference"]
    assert report.llm.dropped_findings == 3
    assert dict(report.llm.dropped) == {
        "does not match the schema": 1,
        "names a resource that is not in the payload": 1,
        "evidence is not a verbatim excerpt of the payload": 1,
    }
    text = format_report(report, "text")
    assert "3 model findings dropped: 1 does not match the schema, 1 names a resource that is not in" in text


def test_a_repeat_of_a_rule_finding_is_dropped(shop: Path, fake: FakeOpenAI) -> None:
    fake.script = answer(
        lambda body: renamed_key_finding(
            body, resource=DEPLOYMENT_ID, category="availability", evidence='"path": "spec.replicas"'
        )
    )
    report = run_review(shop, fake)
    assert report.llm is not None and dict(report.llm.dropped) == {"repeats a rule finding": 1}
    assert not [f for f in report.findings if f.origin == "llm"]


def test_invalid_json_is_unavailable_not_no_findings(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = raw("Sure! Here are the findings: {findings: [")
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("unavailable", "invalid-json")
    out = texts(report)
    for output in (out["text"], out["markdown"]):
        assert "LLM review unavailable: the model's answer was unusable: the answer is not valid JSON" in output
    document = json.loads(out["json"])["llm"]
    assert (document["status"], document["kind"]) == ("unavailable", "invalid-json")
    assert document["reason"].startswith("the model's answer was unusable: the answer is not valid JSON")


def test_an_answer_of_the_wrong_shape_is_a_schema_failure(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = raw(json.dumps({"verdict": "APPROVE"}))
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("unavailable", "schema")
    assert "LLM review unavailable: the model's answer was unusable: the answer does not match the schema" in (
        format_report(report, "markdown")
    )


def test_a_server_without_json_schema_gets_one_json_mode_retry(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = rejects_json_schema(answer(renamed_key_finding))
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert [b["response_format"]["type"] for b in fake.bodies] == ["json_schema", "json_object"]
    assert report.llm is not None and (report.llm.status, report.llm.mode) == ("reviewed", "json_object")
    assert [f.rule for f in report.findings if f.origin == "llm"] == ["llm:config-reference"]
    assert "JSON mode was used" in format_report(report, "text")


def test_json_mode_is_tried_once_only(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = failing(400, "Unsupported parameter: 'max_completion_tokens'")
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert len(fake.requests) == 2
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("misconfigured", "bad-request")
    markdown = format_report(report, "markdown")
    assert markdown.split("\n\n")[1].startswith("> ⚠️ **LLM review misconfigured**: the endpoint rejected the request")


def test_a_refusal_is_unavailable(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = refusal("I can't help with reviewing infrastructure.")
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("unavailable", "refusal")
    assert "LLM review unavailable: the model refused: I can't help with reviewing infrastructure." in (
        format_report(report, "text")
    )


def test_an_answer_cut_off_at_the_output_limit_is_unavailable(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = raw('{"findings": [{"resource": "argocd/web', finish_reason="length")
    report = run_review(shop, fake, max_output_tokens=50)
    assert_rule_verdict(report, baseline)
    assert fake.bodies[0]["max_completion_tokens"] == 50
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("unavailable", "length")
    assert "LLM review unavailable: the answer was cut off at the output limit (50 tokens" in format_report(
        report, "text"
    )


def test_429_is_retried_after_retry_after(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = sequence(failing(429, "Rate limit reached", {"Retry-After": "1"}), answer(renamed_key_finding))
    started = time.monotonic()
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert len(fake.requests) == 2
    assert report.llm is not None and report.llm.status == "reviewed" and report.llm.attempts == 2
    assert report.llm.elapsed >= 1.0, "waited for Retry-After"
    assert time.monotonic() - started < 15


def test_429_that_outlasts_the_budget_is_unavailable(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = failing(429, "Rate limit reached for requests", {"Retry-After": "30"})
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert len(fake.requests) == 1, "a Retry-After past the budget is not waited for"
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("unavailable", "rate-limit")
    assert report.llm.elapsed < 3
    text = format_report(report, "text")
    assert "LLM review unavailable: the endpoint answered rate limited: Rate limit reached for requests;" in text
    assert "would pass the total time budget of 4 s" in text


def test_500_is_retried_then_unavailable(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = failing(500, "The server had an error while processing your request.")
    report = run_review(shop, fake, max_retries=2)
    assert_rule_verdict(report, baseline)
    assert len(fake.requests) == 3, "max_retries=2: three attempts"
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("unavailable", "server-error")
    assert "LLM review unavailable: the endpoint answered HTTP 500: The server had an error" in (
        format_report(report, "markdown")
    )
    assert "(3 attempts)" in report.llm.reason


def test_a_hang_past_the_timeout_is_unavailable(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = hang(10, answer([]))
    report = run_review(shop, fake, max_retries=0, total_budget=2.0)
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("unavailable", "timeout")
    assert report.llm.elapsed < 3, "the per-request timeout (1 s) bounds the wait"
    assert "LLM review unavailable: the endpoint did not answer within 1 s" in format_report(report, "text")


def test_the_total_budget_bounds_retries_of_hangs(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    fake.script = hang(10, answer([]))
    report = run_review(shop, fake, max_retries=5, timeout=1.0, total_budget=1.5)
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and report.llm.status == "unavailable"
    assert report.llm.elapsed < 2.5 and len(fake.requests) <= 2


def test_a_refused_key_is_a_loud_misconfiguration(shop: Path, baseline: Report) -> None:
    with fake_openai(answer([]), api_key="sk-the-right-key-0123456789abcdef") as fake:
        report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("misconfigured", "auth")
    assert "GITOPS_REVIEWER_TEST_LLM_KEY" in report.llm.reason and "HTTP 401" in report.llm.reason
    out = texts(report)
    assert "LLM review misconfigured: the endpoint refused the API key" in out["text"]
    assert out["markdown"].split("\n\n")[1].startswith("> ⚠️ **LLM review misconfigured**")
    for output in out.values():
        assert "sk-test-fake" not in output, "the key never reaches a report"


def test_a_missing_key_variable_is_a_misconfiguration_and_nothing_is_sent(
    shop: Path, baseline: Report, fake: FakeOpenAI
) -> None:
    report = run_review(shop, fake, api_key_env="GITOPS_REVIEWER_TEST_UNSET_KEY")
    assert_rule_verdict(report, baseline)
    assert fake.requests == []
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("misconfigured", "missing-key")
    assert "GITOPS_REVIEWER_TEST_UNSET_KEY" in format_report(report, "text")


def test_an_unknown_model_is_a_misconfiguration(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    missing = error_body("The model `fake-model` does not exist", code="model_not_found")
    fake.script = lambda body, n: Reply(404, missing)
    report = run_review(shop, fake)
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("misconfigured", "not-found")


def test_a_crash_in_the_llm_stage_leaves_the_rules_verdict(shop: Path, baseline: Report, fake: FakeOpenAI) -> None:
    def explode(prompt: str) -> None:
        raise RuntimeError("observer broke")

    report = review(resolve_change(shop, base="HEAD"), llm=LlmOptions(settings=settings(fake), observer=explode))
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("unavailable", "internal")
    assert "LLM review unavailable: internal error in the LLM review: RuntimeError: observer broke" in (
        format_report(report, "text")
    )


def test_an_llm_stage_that_cannot_be_loaded_leaves_the_rules_verdict(
    shop: Path, baseline: Report, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "reviewer.llm.stage", None)  # `import` raises ImportError
    report = review(resolve_change(shop, base="HEAD"), llm=LlmOptions(settings=settings(fake)))
    assert_rule_verdict(report, baseline)
    assert report.llm is not None and (report.llm.status, report.llm.kind) == ("unavailable", "internal")
    assert "LLM review unavailable: internal error in the LLM review: it cannot be loaded" in (
        format_report(report, "text")
    )
    assert fake.requests == []


def test_nothing_changed_skips_the_model(tmp_path: Path, fake: FakeOpenAI) -> None:
    repo = build_repo(tmp_path / "quiet", SHOP_BASE, {})
    report = run_review(repo, fake)
    assert fake.requests == []
    assert report.llm is not None and report.llm.status == "skipped"


def test_cache_serves_a_validated_answer_and_keys_on_the_model(
    shop: Path, baseline: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_REVIEWER_CACHE_DIR", str(tmp_path / "cache"))
    with fake_openai(answer(renamed_key_finding)) as fake:
        first = run_review(shop, fake, cache=True)
        second = run_review(shop, fake, cache=True)
        assert len(fake.requests) == 1, "the second review is served from the cache"
        other_model = run_review(shop, fake, cache=True, model="other-model")
        assert len(fake.requests) == 2, "another model is another key"
    assert first.llm is not None and second.llm is not None and not first.llm.cached and second.llm.cached
    assert [f for f in second.findings] == [f for f in first.findings]
    assert other_model.llm is not None and other_model.llm.status == "reviewed"
    entries = list((tmp_path / "cache" / "llm").rglob("*.json"))
    assert len(entries) == 2
    assert all("hunter2" not in e.read_text() for e in entries)


def test_invalid_answers_are_not_cached(shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPS_REVIEWER_CACHE_DIR", str(tmp_path / "cache"))
    with fake_openai(raw("not json")) as fake:
        run_review(shop, fake, cache=True)
        run_review(shop, fake, cache=True)
        assert len(fake.requests) == 2
    assert not (tmp_path / "cache" / "llm").exists() or not list((tmp_path / "cache" / "llm").rglob("*.json"))


def test_completion_helper_matches_the_sdk_model() -> None:
    """The fake's answers parse as the SDK's own ChatCompletion type (the shape is real)."""
    from openai.types.chat import ChatCompletion

    parsed = ChatCompletion.model_validate(completion(None, refusal="no"))
    assert parsed.choices[0].message.refusal == "no"
