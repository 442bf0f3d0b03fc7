"""Built-in rule policies (DESIGN.md, "Rule policies"): one module per rule.

A rule module defines `ID` (public contract), `SEVERITY` (default), a docstring that is the rule's user
documentation (what it checks, why it matters, a failing and a passing example, options), and
`check(ctx: EvaluationContext) -> Iterator[Finding]`. Rules are pure: the engine (reviewer.evaluation)
owns severity overrides, disabling, waivers, de-duplication and crash isolation.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Protocol

from ..records import Finding
from .context import EvaluationContext


class RuleModule(Protocol):
    ID: str
    SEVERITY: str
    __doc__: str | None

    def check(self, ctx: EvaluationContext) -> Iterator[Finding]: ...


# The explicit registry: rule id -> module name under reviewer.policies.
RULE_MODULES: dict[str, str] = {
    "crd-removal": "crd_removal",
    "sync-order": "sync_order",
    "immutable-field": "immutable_field",
    "render-error": "render_error",
    "sync-policy-change": "sync_policy_change",
    "replicas-drop": "replicas_drop",
    "replicas-reset": "replicas_reset",
    "replicas-zero": "replicas_zero",
    "prune-deletion": "prune_deletion",
    "orphaned-resource": "orphaned_resource",
    "cascade-deletion": "cascade_deletion",
    "destination-change": "destination_change",
    "move-between-apps": "move_between_apps",
    "config-change": "config_change",
}


def load_rules(ids: list[str] | None = None) -> list[ModuleType]:
    """The rule modules, in registry order (or only `ids`)."""
    wanted = RULE_MODULES if ids is None else {i: RULE_MODULES[i] for i in ids}
    return [importlib.import_module(f"{__name__}.{module}") for module in wanted.values()]
