"""Local validation of the model's answer: never trust that the endpoint enforced the schema.

The answer must be JSON and match the shipped schema at the top (an object with a `findings` list);
otherwise the review is unavailable. Each finding is then checked on its own, and one that fails is
dropped and counted by reason: it does not match the schema (missing field, bad category or severity),
it names a resource that is not in the payload, its evidence is not a verbatim excerpt of the payload,
it repeats a rule finding, or it is beyond the first MAX_FINDINGS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .categories import rule_category
from .payload import Payload

MAX_FINDINGS = 10
MIN_EVIDENCE = 4  # characters: shorter "evidence" (`0`, `web`) is found anywhere and proves nothing
MAX_EVIDENCE = 400

DROPPED_SCHEMA = "does not match the schema"
DROPPED_RESOURCE = "names a resource that is not in the payload"
DROPPED_EVIDENCE = "evidence is not a verbatim excerpt of the payload"
DROPPED_REPEAT = "repeats a rule finding"
DROPPED_EXCESS = f"beyond the first {MAX_FINDINGS}"
DROP_REASONS = (DROPPED_SCHEMA, DROPPED_RESOURCE, DROPPED_EVIDENCE, DROPPED_REPEAT, DROPPED_EXCESS)

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(?P<body>.*)\n\s*```\s*$", re.DOTALL)


class InvalidAnswer(Exception):
    """The answer as a whole is unusable (not JSON, or not the shape of the schema)."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.kind = kind  # invalid-json | schema


def schema_errors(value: Any, schema: Mapping[str, Any], where: str = "answer") -> list[str]:
    """What is wrong with `value` against the JSON Schema subset the shipped schema uses (type, enum,
    required, properties, additionalProperties: false, items, maxItems)."""
    kind = schema.get("type")
    types = {"object": Mapping, "array": list, "string": str, "integer": int, "number": int | float, "boolean": bool}
    if kind in types and (not isinstance(value, types[kind]) or (kind != "boolean" and isinstance(value, bool))):
        return [f"{where} should be of type {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where} should be one of {', '.join(map(str, schema['enum']))}"]
    errors: list[str] = []
    if kind == "object":
        properties = schema.get("properties", {})
        errors += [f"{where} lacks {name}" for name in schema.get("required", ()) if name not in value]
        if schema.get("additionalProperties") is False:
            errors += [f"{where} has an unexpected {name}" for name in value if name not in properties]
        for name, sub in properties.items():
            if name in value:
                errors += schema_errors(value[name], sub, f"{where}.{name}")
    if kind == "array" and "items" in schema:
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{where}[{i}]")
    return errors


def parse_answer(content: str, schema: Mapping[str, Any]) -> list[Any]:
    """The list of raw findings in `content`; InvalidAnswer when the answer as a whole is unusable.
    A `maxItems` overflow or a bad item is not fatal here: items are judged one by one."""
    fenced = _FENCE.match(content)  # JSON mode lets some models wrap the object in a code fence
    try:
        value = json.loads(fenced["body"] if fenced else content)
    except ValueError as exc:
        detail = exc.args[0] if exc.args else exc
        raise InvalidAnswer(f"the answer is not valid JSON ({detail})", "invalid-json") from None
    top = {**schema, "properties": {"findings": {"type": "array"}}}
    errors = schema_errors(value, top)
    if errors:
        raise InvalidAnswer(f"the answer does not match the schema: {errors[0]}", "schema")
    findings: list[Any] = value["findings"]
    return findings


@dataclass(frozen=True, slots=True)
class CheckedFinding:
    """A model finding that passed every check, as the model wrote it (text not yet sanitised)."""

    resource: str
    category: str
    severity: str
    title: str
    evidence: str
    explanation: str


def check_findings(
    raw: Sequence[Any],
    schema: Mapping[str, Any],
    payload: Payload,
    rule_pairs: set[tuple[str, str]],
) -> tuple[list[CheckedFinding], dict[str, int]]:
    """The findings that pass, and the number dropped per reason (DROP_REASONS, in that order).
    `rule_pairs`: (resource id, category) of the rule findings, for spotting repeats."""
    item_schema = schema["properties"]["findings"]["items"]
    dropped = dict.fromkeys(DROP_REASONS, 0)
    kept: list[CheckedFinding] = []
    seen: set[tuple[str, str]] = set()
    for item in raw:
        if schema_errors(item, item_schema, "finding"):
            dropped[DROPPED_SCHEMA] += 1
            continue
        finding = CheckedFinding(**{name: item[name] for name in CheckedFinding.__slots__})
        if finding.resource not in payload.resources:
            dropped[DROPPED_RESOURCE] += 1
        elif not _evidence_holds(finding.evidence, payload.text):
            dropped[DROPPED_EVIDENCE] += 1
        elif (finding.resource, finding.category) in rule_pairs or (finding.resource, finding.category) in seen:
            dropped[DROPPED_REPEAT] += 1
        elif len(kept) >= MAX_FINDINGS:
            dropped[DROPPED_EXCESS] += 1
        else:
            kept.append(finding)
            seen.add((finding.resource, finding.category))
    return kept, dropped


def _evidence_holds(evidence: str, text: str) -> bool:
    evidence = evidence.strip()
    return MIN_EVIDENCE <= len(evidence) <= MAX_EVIDENCE and evidence in text


def rule_pairs_of(findings: Sequence[Any], resource_id: Any) -> set[tuple[str, str]]:
    """(resource id, category) of every rule finding with a known category."""
    pairs = set()
    for finding in findings:
        category = rule_category(finding.rule)
        if finding.key is not None and category is not None and finding.origin != "llm":
            pairs.add((resource_id(finding.app, finding.key), category))
    return pairs
