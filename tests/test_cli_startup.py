"""The command starts fast: `--help` does not import the platform clients, the LLM client or the
cluster client (they cost most of a second), only the commands that use them do."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("github", "gitlab", "openai", "kubernetes", "cel", "helm_python", "_gojsonnet", "jq", "deepdiff")

_PROBE = """
import json, sys
from reviewer.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print("\\n" + json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
"""


def _imported(*args: str) -> list[str]:
    probe = _PROBE.format(heavy=set(HEAVY))
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("args", [("--help",), ("check", "--help"), ("render", "--help"), ("--version",)])
def test_help_imports_no_heavy_module(args: tuple[str, ...]) -> None:
    assert _imported(*args) == []


def test_the_probe_sees_imports() -> None:
    # The probe itself must be able to fail: `rules` loads the rule modules, which use heavy modules.
    assert _imported("rules") != []


def test_the_help_table_matches_every_command() -> None:
    """`--help` lists commands from a table, without importing them: the table must say what they say."""
    import click

    from reviewer.cli import COMMANDS, SHORT_HELP_LIMIT, cli

    ctx = click.Context(cli)
    assert sorted(cli.list_commands(ctx)) == sorted(COMMANDS)
    for name, (_, short_help) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=SHORT_HELP_LIMIT) == short_help, name


def test_help_lists_every_command_and_imports_no_command_module() -> None:
    probe = (
        "import sys\nfrom reviewer.cli import cli\n"
        "try:\n    cli(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('reviewer.') and m.count('.') >= 1))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    for name in ("check", "github", "gitlab", "merge", "llm-eval", "render", "rules", "apps", "diff"):
        assert f"  {name} " in done.stdout, name
    loaded = done.stdout.strip().splitlines()[-1]
    for module in ("reviewer.review", "reviewer.cli.github", "reviewer.cli.merge", "reviewer.rendering"):
        assert f"'{module}'" not in loaded, module
