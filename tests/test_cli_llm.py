"""The LLM review from the command line: the four flags the Action and CI template pass are enough,
the exit code stays the rules', a misconfiguration is loud, and `--help` never imports `openai`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from fakes.openai_server import answer, fake_openai
from llm_fixtures import CONFIGMAP_ID, KEY_ENV, SHOP_BASE, SHOP_HEAD, build_repo

from reviewer.cli import cli

FINDING = {
    "resource": CONFIGMAP_ID,
    "category": "config-reference",
    "severity": "critical",
    "title": "Key still read",
    "evidence": '"path": "data.MODE"',
    "explanation": "The Deployment still reads MODE.",
}


def check(repo: Path, *args: str) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(cli, ["check", "--repo", str(repo), "--format", "json", *args])
    assert result.exit_code in (0, 1, 2), result.output + result.stderr
    document = json.loads(result.stdout) if result.exit_code != 2 else {}
    return result.exit_code, document, result.stderr


def test_help_does_not_import_openai() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom reviewer.cli import cli\n"
        "for args in (['--help'], ['check', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
        "print('openai' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_four_flags_are_all_that_is_needed(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "repo", SHOP_BASE, SHOP_HEAD)
    with fake_openai(answer([FINDING])) as fake:
        code, report, _ = check(
            repo, "--llm", "--llm-base-url", fake.base_url, "--llm-model", "m-1", "--llm-api-key-env", KEY_ENV
        )
        assert len(fake.requests) == 1 and fake.bodies[0]["model"] == "m-1"
    assert code == 0, "a critical LLM finding is capped at warning: the check still passes"
    llm = report["llm"]
    assert isinstance(llm, dict) and llm["status"] == "reviewed" and llm["model"] == "m-1"
    findings = report["findings"]
    assert isinstance(findings, list)
    assert [(f["rule"], f["severity"], f["origin"]) for f in findings if f["origin"] == "llm"] == [
        ("llm:config-reference", "warning", "llm")
    ]


def test_a_misconfiguration_is_loud_but_the_exit_code_is_the_rules(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "repo", SHOP_BASE, SHOP_HEAD)
    with fake_openai(answer([FINDING])) as fake:
        code, report, stderr = check(
            repo, "--llm", "--llm-base-url", fake.base_url, "--llm-model", "m", "--llm-api-key-env", "NO_SUCH_KEY_VAR"
        )
        assert fake.requests == []
    assert code == 0
    assert "gitops-reviewer: LLM review misconfigured: the environment variable NO_SUCH_KEY_VAR" in stderr
    llm = report["llm"]
    assert isinstance(llm, dict) and (llm["status"], llm["kind"]) == ("misconfigured", "missing-key")


def test_a_bad_flag_is_a_usage_error(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "repo", SHOP_BASE, SHOP_HEAD)
    code, _, stderr = check(repo, "--llm", "--llm-base-url", "ftp://llm.example.com", "--llm-model", "m")
    assert code == 2 and "--llm-base-url must be an http:// or https:// URL" in stderr


def test_the_config_turns_it_on_and_no_llm_turns_it_off(tmp_path: Path) -> None:
    with fake_openai(answer([])) as fake:
        config = f"llm:\n  enabled: true\n  baseUrl: {fake.base_url}\n  model: m\n  apiKeyEnv: {KEY_ENV}\n"
        repo = build_repo(tmp_path / "repo", {**SHOP_BASE, ".gitops-reviewer.yaml": config}, SHOP_HEAD)
        _, off, _ = check(repo, "--no-llm")
        assert fake.requests == [] and off["llm"] is None
        _, on, _ = check(repo)
        assert len(fake.requests) == 1
    llm = on["llm"]
    assert isinstance(llm, dict) and llm["status"] == "reviewed"
