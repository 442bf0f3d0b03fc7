"""action.yml is a valid composite action whose steps call the `github` command with options it has.

GitHub only finds most mistakes in an action at run time, on someone's pull request: a `run` step
without `shell`, an input that does not exist (it silently reads as empty), an output without
`value`, a flag the command does not know. These checks find them here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from test_cli_github import review_step

from reviewer.cli import cli

ACTION = Path(__file__).resolve().parents[1] / "action.yml"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text())  # type: ignore[no-any-return]


def test_required_fields(action: dict[str, Any]) -> None:
    assert isinstance(action["name"], str) and action["name"]
    assert isinstance(action["description"], str) and action["description"]
    assert action["runs"]["using"] == "composite"
    assert isinstance(action["runs"]["steps"], list) and action["runs"]["steps"]


def test_every_step_runs_a_command_or_uses_an_action(action: dict[str, Any]) -> None:
    for step in action["runs"]["steps"]:
        assert ("run" in step) != ("uses" in step), step.get("name")
        if "run" in step:
            assert step.get("shell") in ("bash", "sh", "pwsh", "python"), f"{step.get('name')}: run needs shell"
        else:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[\w.-]+", step["uses"]), step["uses"]


def test_every_input_referenced_exists(action: dict[str, Any]) -> None:
    text = ACTION.read_text()
    referenced = {m for expr in EXPRESSION.findall(text) for m in re.findall(r"inputs\.([\w-]+)", expr)}
    assert referenced, "the action reads its inputs"
    assert referenced <= set(action["inputs"]), referenced - set(action["inputs"])
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name
        assert "default" in spec or spec.get("required"), f"{name}: optional inputs need a default"


def test_outputs_have_values_from_the_review_step(action: dict[str, Any]) -> None:
    for name, spec in action["outputs"].items():
        assert spec.get("description"), name
        assert spec["value"] == f"${{{{ steps.review.outputs.{name} }}}}"


def test_steps_referenced_exist(action: dict[str, Any]) -> None:
    ids = {step.get("id") for step in action["runs"]["steps"]}
    text = ACTION.read_text()
    referenced = {m for expr in EXPRESSION.findall(text) for m in re.findall(r"steps\.([\w-]+)\.", expr)}
    assert referenced == {"review"} and referenced <= ids


def test_run_scripts_never_paste_expressions(action: dict[str, Any]) -> None:
    """Inputs go through `env:`: an expression inside a script would paste text into bash."""
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")


def _option_names(command: click.Command) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def test_the_flags_the_action_passes_exist_on_the_github_command() -> None:
    command = cli.get_command(click.Context(cli), "github")
    assert command is not None
    known = _option_names(command)
    script = review_step()["run"]
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", script))
    assert {
        "--repo",
        "--fail-on",
        "--comment",
        "--token-env",
        "--output-dir",
        "--llm-api-key-env",
        "--no-checks",
    } <= flags
    assert flags <= known, flags - known
    assert re.search(r"^args=\(github$", script, re.MULTILINE), "the subcommand comes first"


def test_choices_the_action_documents_are_the_commands(action: dict[str, Any]) -> None:
    command = cli.get_command(click.Context(cli), "github")
    assert command is not None
    params = {p.name: p for p in command.params}
    comment_choices = params["comment_mode"].type.choices  # type: ignore[attr-defined]
    assert set(comment_choices) == {"update", "off"}
    assert action["inputs"]["comment"]["default"] in comment_choices
    assert action["inputs"]["fail-on"]["default"] in params["fail_on"].type.choices  # type: ignore[attr-defined]
    assert params["output_dir"].default == Path(action["inputs"]["output-dir"]["default"])


def test_the_llm_key_reaches_only_the_review_step_by_variable_name(action: dict[str, Any]) -> None:
    holders = [s for s in action["runs"]["steps"] if "inputs.llm-api-key" in yaml.safe_dump(s)]
    assert [s.get("id") for s in holders] == ["review"]
    (name,) = [k for k, v in holders[0]["env"].items() if "inputs.llm-api-key" in v]
    assert f"--llm-api-key-env {name}" in holders[0]["run"]
    assert "echo" not in holders[0]["run"]
