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
