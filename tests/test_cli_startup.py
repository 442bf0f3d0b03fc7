"""The command starts fast: `--help` does not import the platform clients, the LLM client or the
cluster client (they cost most of a second), only the commands that use them do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rule_harness import change_repo

from reviewer.policies.example_manifests import application, deployment

HEAVY = ("github", "gitlab", "openai", "kubernetes", "cel", "helm_python", "_gojsonnet", "jq", "deepdiff")

_PROBE = """
import json, sys
from reviewer.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print("\\n" + json.dumps(sorted(m for m in sys.modules if m in {heavy!r} or m.split(".")[0] in {heavy!r})))
"""


def _imported(*args: str, watched: tuple[str, ...] = HEAVY) -> list[str]:
    probe = _PROBE.format(heavy=set(watched))
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("args", [("--help",), ("check", "--help"), ("render", "--help"), ("--version",)])
def test_help_imports_no_heavy_module(args: tuple[str, ...]) -> None:
    assert _imported(*args) == []


def test_the_probe_sees_imports() -> None:
    # The probe itself must be able to fail: `rules` loads the rule modules.
    assert "reviewer.policies.crd_removal" in _imported("rules", watched=("reviewer",))


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


# What only some reviews need: libjq (`jqPathExpressions`), fractions and decimal (a configured
# `replicas-drop` threshold; quantities that differ), the user-policy engine (a repo with policy files).
# Imported by every review, they would cost each one's start-up time.
RARE = ("jq", "fractions", "decimal", "reviewer.policies.user", "reviewer.policies.cel_adapter")
POLICY = """- name: no-latest
  match: {kinds: [apps/Deployment]}
  condition: "false"
  severity: error
  message: never
"""
CONFIG = """diff:
  ignore: [{group: apps, kind: Deployment, jqPathExpressions: [.spec.template.metadata]}]
rules:
  options:
    replicas-drop: {threshold: 0.3}
policies: [policies.yaml]
"""


@pytest.mark.parametrize("configured", [False, True])
def test_a_review_imports_what_only_some_reviews_need_when_it_needs_it(tmp_path: Path, configured: bool) -> None:
    base = {"apps/argocd/web.yaml": application("web", "apps/web"), "apps/web/deployment.yaml": deployment("api", 4)}
    if configured:
        base |= {".gitops-reviewer.yaml": CONFIG, "policies.yaml": POLICY}
    repo = change_repo(tmp_path / "repo", base, {"apps/web/deployment.yaml": deployment("api", 2)})
    args = ["check", "--repo", str(repo), "--base", "HEAD", "--format", "json", "--output", str(tmp_path / "out.json")]
    loaded = _imported(*args, "--cache-dir", str(tmp_path / "cache"), watched=RARE)
    assert loaded == (sorted(RARE) if configured else [])
    assert json.loads((tmp_path / "out.json").read_text())["changes"]
