"""Every built-in rule documents itself, and its documented examples behave as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from rule_harness import findings_of, run_example

from reviewer.policies import RULE_MODULES, load_rules
from reviewer.records import SEVERITIES

SECTIONS = ("What it checks", "Why it matters", "Failing example", "Passing example", "Options")


@pytest.mark.parametrize("rule_id", sorted(RULE_MODULES))
def test_rule_module_contract(rule_id: str) -> None:
    (module,) = load_rules([rule_id])
    assert rule_id == module.ID
    assert module.SEVERITY in SEVERITIES
    doc = module.__doc__ or ""
    for section in SECTIONS:
        assert section in doc, f"{rule_id}: docstring lacks {section!r}"
    assert set(module.EXAMPLES) == {"fails", "passes"}


@pytest.mark.parametrize("rule_id", sorted(RULE_MODULES))
def test_documented_examples(rule_id: str, tmp_path: Path) -> None:
    (module,) = load_rules([rule_id])
    fails = run_example(tmp_path / "fails", module.EXAMPLES["fails"])
    assert findings_of(fails, rule_id), f"{rule_id}: the failing example raised no finding"
    passes = run_example(tmp_path / "passes", module.EXAMPLES["passes"])
    assert not findings_of(passes, rule_id), f"{rule_id}: the passing example raised {findings_of(passes, rule_id)}"
