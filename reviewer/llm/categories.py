"""The categories of an LLM finding (the schema's enum) and the category of each built-in rule's finding.

The mapping lets the review drop a model finding that repeats a rule finding (same resource, same
category), and lets `llm-eval` score rules and model on the same (resource, category) terms.
"""

from __future__ import annotations

CATEGORIES = (
    "deletion",
    "scale-to-zero",
    "immutable-field",
    "privilege",
    "rbac",
    "network",
    "config-reference",
    "autoscaling",
    "sync-policy",
    "availability",
    "other",
)

# Built-in rule id -> the category its findings belong to. Rules not listed (render-error, config-change,
# sync-order) report something no model category describes.
RULE_CATEGORIES = {
    "prune-deletion": "deletion",
    "cascade-deletion": "deletion",
    "orphaned-resource": "deletion",
    "crd-removal": "deletion",
    "destination-change": "deletion",
    "move-between-apps": "deletion",
    "replicas-zero": "scale-to-zero",
    "replicas-drop": "availability",
    "replicas-reset": "availability",
    "immutable-field": "immutable-field",
    "sync-policy-change": "sync-policy",
}

LLM_RULE_PREFIX = "llm:"


def rule_category(rule: str) -> str | None:
    """The category of a finding by its rule id: a built-in rule's, or an LLM finding's own (`llm:<category>`)."""
    if rule.startswith(LLM_RULE_PREFIX):
        return rule[len(LLM_RULE_PREFIX) :]
    return RULE_CATEGORIES.get(rule)
