"""Local validation of the model's answer against the shipped schema and the payload."""

from __future__ import annotations

import json

import pytest

from reviewer.llm.payload import Payload, PayloadResource
from reviewer.llm.prompts import load_prompts
from reviewer.llm.validation import InvalidAnswer, check_findings, parse_answer, schema_errors
from reviewer.records import ResourceKey

SCHEMA = load_prompts().schema
RID = "argocd/web apps/Deployment shop/web"
PAYLOAD = Payload(
    text=json.dumps({"changes": [{"id": RID, "fields": [{"path": "spec.replicas", "after": 0}]}]}),
    resources={RID: PayloadResource("argocd/web", ResourceKey("apps", "Deployment", "shop", "web"))},
)


def finding(**fields: object) -> dict[str, object]:
    base = {
        "resource": RID,
        "category": "scale-to-zero",
        "severity": "error",
        "title": "Scaled to zero",
        "evidence": '"after": 0',
        "explanation": "No pods will run.",
    }
    return {**base, **fields}


def test_answers_that_are_not_json_or_not_the_schema_are_rejected_whole() -> None:
    with pytest.raises(InvalidAnswer) as not_json:
        parse_answer("Here you go: findings", SCHEMA)
    assert not_json.value.kind == "invalid-json"
    for bad in ({"findings": {}}, {"result": []}, [], {"findings": [], "verdict": "APPROVE"}):
        with pytest.raises(InvalidAnswer) as wrong:
            parse_answer(json.dumps(bad), SCHEMA)
        assert wrong.value.kind == "schema"


def test_a_fenced_json_answer_is_accepted() -> None:
    assert parse_answer('```json\n{"findings": []}\n```', SCHEMA) == []


def test_findings_are_checked_one_by_one() -> None:
    raw = [
        finding(),
        finding(category="scale-to-zero"),  # the same (resource, category) again
        finding(severity="fatal"),
        finding(extra="x"),
        finding(resource="argocd/web apps/Deployment shop/api"),
        finding(category="availability", evidence="replicas: 0"),
        finding(category="availability", evidence=" 0 "),  # too short to prove anything
        finding(category="autoscaling"),  # what a rule already said
        finding(category="other", resource=RID, evidence='"path": "spec.replicas"'),
    ]
    kept, dropped = check_findings(raw, SCHEMA, PAYLOAD, {(RID, "autoscaling")})
    found = [(k.category, k.evidence) for k in kept]
    assert found == [("scale-to-zero", '"after": 0'), ("other", '"path": "spec.replicas"')]
    assert dropped == {
        "does not match the schema": 2,
        "names a resource that is not in the payload": 1,
        "evidence is not a verbatim excerpt of the payload": 2,
        "repeats a rule finding": 2,
        "beyond the first 10": 0,
    }


def test_at_most_ten_findings_survive() -> None:
    resources = {f"r{i}": PAYLOAD.resources[RID] for i in range(12)}
    payload = Payload(text=PAYLOAD.text, resources=resources)
    raw = [finding(resource=f"r{i}") for i in range(12)]
    kept, dropped = check_findings(raw, SCHEMA, payload, set())
    assert len(kept) == 10 and dropped["beyond the first 10"] == 2


def test_schema_errors_say_where() -> None:
    item = SCHEMA["properties"]["findings"]["items"]
    assert schema_errors({"resource": 1}, item, "f")[:2] == ["f lacks category", "f lacks severity"]
    assert schema_errors(finding(severity=True), item, "f") == ["f.severity should be of type string"]
