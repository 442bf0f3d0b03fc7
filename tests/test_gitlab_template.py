"""The GitLab CI template (`.gitlab-ci-template.yml`) and the CI/CD component
(`templates/gitops-reviewer.yml`): valid YAML, MR pipelines only, full history, checksum-verified
tools, a command line the real click command accepts, and artifacts where the command writes them.

The job scripts are run by a real shell with a stand-in `gitops-reviewer` on PATH that records its
arguments, which are then parsed by the real `gitlab` command: what the shell would pass is what is
checked, quoting and variable expansion included."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reviewer.cli import cli
from reviewer.cli.gitlab import CODE_QUALITY_REPORT, DEFAULT_OUTPUT_DIR, gitlab_command
from reviewer.records import SEVERITIES

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / ".gitlab-ci-template.yml"
COMPONENT = ROOT / "templates" / "gitops-reviewer.yml"
MR_RULE = {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}
_INPUT = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def template_jobs() -> dict[str, Any]:
    jobs = yaml.safe_load(TEMPLATE.read_text())
    assert isinstance(jobs, dict)
    return jobs


def resolved(jobs: dict[str, Any], name: str) -> dict[str, Any]:
    """A job with `extends` applied (GitLab merges hashes deeply; the job's own keys win)."""
    job = dict(jobs[name])
    parent = job.pop("extends", None)
    if parent is None:
        return job
    base = resolved(jobs, parent)
    for key, value in job.items():
        base[key] = {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return base


def component_documents() -> tuple[dict[str, Any], dict[str, Any]]:
    documents = list(yaml.safe_load_all(COMPONENT.read_text()))
    assert len(documents) == 2, "a component is a spec document and a job document"
    return documents[0], documents[1]


def interpolate(text: str, inputs: dict[str, Any]) -> str:
    """The component with its inputs' defaults, as GitLab interpolates `$[[ inputs.name ]]`."""

    def value(match: re.Match[str]) -> str:
        default = inputs[match.group(1)].get("default", "")
        return str(default).lower() if isinstance(default, bool) else str(default)

    return _INPUT.sub(value, text)


def component_job() -> dict[str, Any]:
    spec, _ = component_documents()
    text = COMPONENT.read_text().split("\n---\n", 1)[1]
    jobs = yaml.safe_load(interpolate(text, spec["spec"]["inputs"]))
    return dict(jobs["gitops-reviewer"])


def run_script(job: dict[str, Any], tmp_path: Path, **extra_env: str) -> list[list[str]]:
    """Run the job's `script` in sh with the job's variables, `gitops-reviewer` replaced by a recorder;
    returns each call's arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "calls"
    recorder = bin_dir / "gitops-reviewer"
    recorder.write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done >> {shlex.quote(str(log))}\necho >> {log}\n'
    )
    recorder.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", **{k: str(v) for k, v in job.get("variables", {}).items()}}
    env.update(extra_env)
    script = "\n".join(job["script"])
    subprocess.run(["sh", "-ec", script], env=env, check=True)
    calls = [line for line in log.read_text().split("\n") if line]
    return [call.split("\0")[:-1] for call in calls]


def parse_gitlab_call(args: list[str]) -> dict[str, Any]:
    """The parameters the real command would get (click parses; nothing runs)."""
    assert args[0] == "gitlab" and "gitlab" in cli.list_commands(click.Context(cli))
    context = gitlab_command.make_context("gitlab", args[1:])
    return dict(context.params)


def command_options() -> set[str]:
    names: set[str] = set()
    for param in gitlab_command.params:
        if isinstance(param, click.Option):
            names.update(param.opts + param.secondary_opts)
    return names


def flags_in(script: str) -> set[str]:
    """Every `--option` written in a script (`set --` ends the shell's own options: not one of ours)."""
    tokens = (token.rstrip(";").split("=")[0] for token in shlex.split(script))
    return {token for token in tokens if token.startswith("--") and token != "--"}


def test_template_parses_and_the_concrete_job_extends_the_hidden_one() -> None:
    jobs = template_jobs()
    assert ".gitops-reviewer" in jobs and jobs["gitops-reviewer"]["extends"] == ".gitops-reviewer"


@pytest.mark.parametrize("source", ["template", "component"])
def test_job_runs_only_in_merge_request_pipelines_with_full_history(source: str) -> None:
    job = resolved(template_jobs(), "gitops-reviewer") if source == "template" else component_job()
    assert job["rules"] == [MR_RULE]
    assert str(job["variables"]["GIT_DEPTH"]) == "0"
    assert "python" in job["image"]


@pytest.mark.parametrize("source", ["template", "component"])
def test_tools_are_pinned_and_checksum_verified(source: str) -> None:
    job = resolved(template_jobs(), "gitops-reviewer") if source == "template" else component_job()
    variables = {k: str(v) for k, v in job.get("variables", {}).items()}
    lines = [
        re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m.group(1), m.group(0)), line) for line in job["before_script"]
    ]
    downloads = [line for line in lines if line.startswith("curl ")]
    assert len(downloads) == 2
    for tool, version in (("kustomize", r"v5\.\d+\.\d+"), ("helm", r"v3\.\d+\.\d+")):
        [download] = [line for line in downloads if f"{tool}_" in line or f"{tool}-" in line]
        assert re.search(version, download), f"{tool} is not pinned: {download}"
        archive = shlex.split(download)[shlex.split(download).index("-o") + 1]
        check = lines[lines.index(download) + 1]
        assert re.fullmatch(rf"echo \"[0-9a-f]{{64}}  {re.escape(archive)}\" \| sha256sum -c -", check), check
        assert lines.index(check) < next(
            i for i, line in enumerate(lines) if line.startswith("tar ") and archive in line
        )


def test_template_script_is_a_command_line_the_command_accepts(tmp_path: Path) -> None:
    job = resolved(template_jobs(), "gitops-reviewer")
    assert flags_in(" ".join(job["script"])) <= command_options()
    [call] = run_script(job, tmp_path)
    params = parse_gitlab_call(call)
    assert params["output_dir"] == DEFAULT_OUTPUT_DIR
    assert params["fail_on"] == "error" and params["status_name"] == "gitops-reviewer"
    # Extra arguments pass through the variable, split as the shell splits them.
    again = tmp_path / "again"
    again.mkdir()
    [call] = run_script(job, again, GITOPS_REVIEWER_ARGS="--inline-discussions --repo .")
    assert parse_gitlab_call(call)["inline_discussions"] is True


def test_component_inputs_are_declared_used_and_valid(tmp_path: Path) -> None:
    spec, job_document = component_documents()
    inputs = spec["spec"]["inputs"]
    used = set(_INPUT.findall(COMPONENT.read_text().split("\n---\n", 1)[1]))
    assert used == set(inputs), "every input is used, and only declared inputs are"
    assert inputs["fail-on"]["options"] == list(SEVERITIES)
    assert inputs["fail-on"]["default"] in SEVERITIES
    assert inputs["inline-discussions"]["type"] == "boolean"
    assert list(job_document) == ["gitops-reviewer"]


def test_component_script_is_a_command_line_the_command_accepts(tmp_path: Path) -> None:
    job = component_job()
    assert flags_in(" ".join(job["script"])) <= command_options()
    [call] = run_script(job, tmp_path)
    params = parse_gitlab_call(call)
    assert params["output_dir"] == DEFAULT_OUTPUT_DIR
    assert params["token_variable"] == "GITOPS_REVIEWER_GITLAB_TOKEN"
    assert params["inline_discussions"] is False
    # With inline-discussions: true, the flag is passed.
    spec, _ = component_documents()
    inputs = {**spec["spec"]["inputs"], "inline-discussions": {"type": "boolean", "default": True}}
    text = interpolate(COMPONENT.read_text().split("\n---\n", 1)[1], inputs)
    other = tmp_path / "on"
    other.mkdir()
    [call] = run_script(yaml.safe_load(text)["gitops-reviewer"], other)
    assert parse_gitlab_call(call)["inline_discussions"] is True


@pytest.mark.parametrize("source", ["template", "component"])
def test_artifacts_are_where_the_command_writes_them(source: str) -> None:
    job = resolved(template_jobs(), "gitops-reviewer") if source == "template" else component_job()
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always", "a failing review is the one whose report matters"
    assert artifacts["paths"] == [f"{DEFAULT_OUTPUT_DIR}/"]
    assert artifacts["reports"]["codequality"] == f"{DEFAULT_OUTPUT_DIR}/{CODE_QUALITY_REPORT}"


def test_template_passes_the_llm_settings_and_only_the_key_variable_name(tmp_path: Path) -> None:
    job = resolved(template_jobs(), "gitops-reviewer")
    [call] = run_script(job, tmp_path)
    params = parse_gitlab_call(call)
    assert params["llm_enabled"] is None, "empty: the config decides"
    on = tmp_path / "on"
    on.mkdir()
    [call] = run_script(
        job,
        on,
        GITOPS_REVIEWER_LLM="true",
        GITOPS_REVIEWER_LLM_BASE_URL="https://llm.internal.example/v1",
        GITOPS_REVIEWER_LLM_MODEL="gpt-4o-mini",
        GITOPS_REVIEWER_LLM_API_KEY="sk-not-on-the-command-line",
    )
    params = parse_gitlab_call(call)
    assert params["llm_enabled"] is True
    assert params["llm_base_url"] == "https://llm.internal.example/v1" and params["llm_model"] == "gpt-4o-mini"
    assert params["llm_api_key_env"] == "GITOPS_REVIEWER_LLM_API_KEY"
    assert "sk-not-on-the-command-line" not in " ".join(call)


def test_component_passes_the_llm_settings(tmp_path: Path) -> None:
    spec, _ = component_documents()
    inputs = {**spec["spec"]["inputs"], "llm": {"default": "true"}, "llm-model": {"default": "m1"}}
    text = interpolate(COMPONENT.read_text().split("\n---\n", 1)[1], inputs)
    [call] = run_script(yaml.safe_load(text)["gitops-reviewer"], tmp_path)
    params = parse_gitlab_call(call)
    assert params["llm_enabled"] is True and params["llm_model"] == "m1"
    assert params["llm_api_key_env"] == "GITOPS_REVIEWER_LLM_API_KEY"
