"""`gitops-reviewer rules` lists the built-in rules; `rules explain ID` prints one rule's documentation."""

from __future__ import annotations

import inspect

from click.testing import CliRunner

from reviewer.cli import cli
from reviewer.policies import RULE_MODULES, load_rules


def test_rules_lists_every_registered_rule() -> None:
    result = CliRunner().invoke(cli, ["rules"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["RULE", "SEVERITY", "WHAT", "IT", "FLAGS"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == set(RULE_MODULES)
    assert rows["replicas-zero"].split()[1] == "error"
    assert "an existing workload is scaled to 0 replicas." in rows["replicas-zero"]
    assert "replicas-zero:" not in rows["replicas-zero"]  # the id is not repeated in the summary
    assert rows["replicas-drop"].split()[1] == "warning"


def test_explain_prints_the_docstring() -> None:
    result = CliRunner().invoke(cli, ["rules", "explain", "replicas-drop"])
    assert result.exit_code == 0, result.output
    (module,) = load_rules(["replicas-drop"])
    assert result.output.startswith("replicas-drop (default severity: warning)\n")
    assert inspect.cleandoc(module.__doc__ or "") in result.output
    for section in ("What it checks", "Why it matters", "Failing example", "Passing example", "Options"):
        assert section in result.output


def test_explain_an_unknown_rule_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["rules", "explain", "no-such-rule"])
    assert result.exit_code == 2
    assert "unknown rule 'no-such-rule'" in result.output
    assert "replicas-zero" in result.output and "render-error" in result.output
