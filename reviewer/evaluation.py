"""The Evaluate stage: run the rules over the change set and turn their findings into the verdict's input.

The engine, not the rules, owns: which rules run (config `rules.disable`), their severities (config
`rules.severity`), crash isolation (a crashing rule is an `error` finding naming it, never a silent pass),
de-duplication by fingerprint, and ordering.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING

from .collector import collector_paused
from .policies import load_rules
from .policies.context import EvaluationContext
from .policies.waivers import Waiver, apply_waivers
from .records import Finding, severity_rank

if TYPE_CHECKING:
    from .policies.user import UserPolicy


def run_rules(
    ctx: EvaluationContext,
    rules: Iterable[ModuleType] | None = None,
    *,
    disabled: Iterable[str] = (),
    severities: Mapping[str, str] | None = None,
    user_policies: tuple[UserPolicy, ...] = (),
    waivers: tuple[Waiver, ...] = (),
    today: dt.date | None = None,
) -> tuple[Finding, ...]:
    """Every finding of every enabled rule and user policy, severity-overridden, waived where a waiver
    says so, de-duplicated, most severe first."""
    off = set(disabled)
    overrides = dict(severities or {})
    findings: dict[str, Finding] = {}
    for rule in rules if rules is not None else load_rules():
        rule_id = str(getattr(rule, "ID", rule.__name__))
        if rule_id in off:
            continue
        try:
            with collector_paused():  # a rule makes no cycles, but for a crash's traceback (collector)
                produced = list(rule.check(ctx))
        except Exception as exc:  # a crashing rule must not read as "no findings"
            produced = [
                Finding(
                    rule=rule_id,
                    severity="error",
                    title=f"rule {rule_id} crashed",
                    message=f"the rule {rule_id} could not judge this change: {type(exc).__name__}: {exc}",
                    app="",
                )
            ]
        for finding in produced:
            if finding.rule in overrides:
                finding = replace(finding, severity=overrides[finding.rule])
            findings.setdefault(finding.fingerprint, finding)
    if user_policies:
        from .policies.user import evaluate_user_policies  # the module that made them: loaded already

        for finding in evaluate_user_policies(ctx, user_policies):
            if finding.rule not in off:
                findings.setdefault(finding.fingerprint, finding)
    waived = apply_waivers(findings.values(), waivers, ctx, today or dt.date.today())
    return tuple(sorted(waived, key=lambda f: (-severity_rank(f.severity), f.app, str(f.key or ""), f.rule)))
