"""`gitops-reviewer github` end to end, run the way the Action runs it.

Each test builds a real git repository (the bundled example config repo, a base commit on `main`, a
pull request branch, and the merge commit Actions checks out), writes a recorded `pull_request` event
(tests/data/github/) with that repository's commits, and executes the Action's own review step from
action.yml with bash, its `${{ inputs.* }}` and `${{ github.* }}` expressions filled in as the runner
would. The command talks to the fake GitHub API (tests/fakes/github_api.py) through real PyGithub.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fakes.github_api import FakeGithub, PullRequest, fake_github
from gitrepos import git

from reviewer.publish.common import STICKY_MARKER

PROJECT = Path(__file__).resolve().parents[1]
EVENTS = Path(__file__).parent / "data" / "github"
REPOSITORY = "example-org/gitops-config"
RUN_ID = "12345678901"
LLM_KEY = "sk-test-do-not-leak-4242"


def action() -> dict[str, Any]:
    return yaml.safe_load((PROJECT / "action.yml").read_text())  # type: ignore[no-any-return]


def review_step() -> dict[str, Any]:
    (step,) = [s for s in action()["runs"]["steps"] if s.get("id") == "review"]
    return step  # type: ignore[no-any-return]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


@dataclass
class PullRequestRepo:
    path: Path
    base: str  # main's tip when the event was sent
    head: str  # the pull request's head
    merge: str  # what actions/checkout checks out (GITHUB_SHA)
    fork_point: str


def pull_request_repo(repo: Path, change: Any) -> PullRequestRepo:
    """`repo` (on main) with a `scale-down` branch made by `change(repo)`, a later unrelated commit on
    main, and their merge commit checked out, as actions/checkout leaves a pull_request run."""
    fork_point = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "scale-down")
    change(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the pull request's change")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "main")
    staging = repo / "apps/guestbook/overlays/staging/deployment-patch.yaml"
    staging.write_text(staging.read_text().replace("replicas: 1", "replicas: 2"))
    git(repo, "commit", "-qam", "main moves on: staging gets two replicas")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge scale-down into main", "scale-down")
    merge = git(repo, "rev-parse", "HEAD").strip()
    return PullRequestRepo(repo, base, head, merge, fork_point)


def scale_down(repo: Path) -> None:
    patch = repo / "apps/guestbook/overlays/prod/deployment-patch.yaml"
    patch.write_text(patch.read_text().replace("replicas: 3", "replicas: 0"))
    (repo / "apps/postgres/backup-pvc.yaml").unlink()


def event_file(tmp_path: Path, name: str, **shas: str) -> Path:
    """A recorded event with this repository's commits in place of the recorded ones."""
    text = (EVENTS / name).read_text()
    recorded = {
        "base": "3f2a9c1e8d0b4a6f7c5e2d1b0a9f8e7d6c5b4a39",
        "head": "8d41e07b2c6a5f4e3d2c1b0a9f8e7d6c5b4a3928",
    }
    for side, sha in shas.items():
        text = text.replace(recorded[side], sha)
    path = tmp_path / f"event-{name}"
    path.write_text(text)
    return path


def run_action(
    pr: PullRequestRepo | Path,
    fake: FakeGithub,
    tmp_path: Path,
    event: Path,
    *,
    event_name: str = "pull_request",
    inputs: dict[str, str] | None = None,
) -> Result:
    """Run the Action's review step as the runner would: its env block evaluated, bash -eo pipefail."""
    workspace = pr.path if isinstance(pr, PullRequestRepo) else pr
    runner_temp = tmp_path / "runner-temp"
    (runner_temp / "gitops-reviewer" / "bin").mkdir(parents=True, exist_ok=True)
    launcher = runner_temp / "gitops-reviewer" / "bin" / "gitops-reviewer"
    if not launcher.exists():
        launcher.symlink_to(Path(sys.executable).parent / "gitops-reviewer")
    summary, outputs = tmp_path / "step-summary.md", tmp_path / "github-output"
    for file in (summary, outputs):
        file.write_text("")
    github = {"token": fake.token, "action_path": str(PROJECT), "workspace": str(workspace)}
    values = {name: str(spec.get("default", "")) for name, spec in action()["inputs"].items()}
    values.update(inputs or {})

    def evaluate(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            context, name = match.group(1), match.group(2)
            value = (values if context == "inputs" else github)[name]
            return evaluate(value)  # an input default may itself be an expression

        return re.sub(r"\$\{\{\s*(inputs|github)\.([\w-]+)\s*\}\}", one, text)

    step = review_step()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_"))}
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME=event_name,
        GITHUB_EVENT_PATH=str(event),
        GITHUB_REPOSITORY=REPOSITORY,
        GITHUB_API_URL=fake.url,
        GITHUB_SERVER_URL="https://github.com",
        GITHUB_RUN_ID=RUN_ID,
        GITHUB_SHA=pr.merge if isinstance(pr, PullRequestRepo) else "0" * 40,
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_OUTPUT=str(outputs),
        RUNNER_TEMP=str(runner_temp),
    )
    env.update({name: evaluate(str(value)) for name, value in step["env"].items()})
    script = tmp_path / "review-step.sh"
    script.write_text(step["run"])
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    pairs = (line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return Result(done.returncode, done.stdout, done.stderr, dict(pairs), summary.read_text())


@pytest.fixture
def fake() -> Any:
    with fake_github(repository=REPOSITORY) as server:
        yield server


def test_the_action_reviews_a_pull_request_and_publishes_everything(
    example_repo: Path, fake: FakeGithub, tmp_path: Path
) -> None:
    pr = pull_request_repo(example_repo, scale_down)
    event = event_file(tmp_path, "pull_request.json", base=pr.base, head=pr.head)
    for i in range(3):
        fake.add_comment(42, f"looks good {i}", login="jdoe")
    result = run_action(pr, fake, tmp_path, event, inputs={"llm-api-key": LLM_KEY, "llm": "false"})
    assert result.code == 1, result.stderr  # replicas-zero is an error: the verdict fails
    assert result.outputs == {
        "verdict": "fail",
        "findings-count": "2",
        "report-dir": "gitops-reviewer-report",
        "sarif-file": "gitops-reviewer-report/report.sarif",
    }
    assert "gitops-reviewer: fail (1 error, 1 warning; 2 changes in 2 apps)" in result.stderr
    assert "could not post" not in result.stderr

    # the report files, for the artifact
    report_dir = pr.path / "gitops-reviewer-report"
    document = json.loads((report_dir / "report.json").read_text())
    assert document["verdict"] == "fail"
    assert document["base"]["revision"] == pr.fork_point, "the merge-base, not main's later tip"
    assert document["head"]["revision"] == pr.head
    assert {c["app"] for c in document["changes"]} == {"argocd/guestbook-prod", "argocd/postgres-prod"}
    sarif = json.loads((report_dir / "report.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"replicas-zero", "orphaned-resource"}
    assert (report_dir / "report.md").read_text().startswith("**❌ gitops-reviewer: fail**")

    # the sticky comment
    ours = [c for c in fake.issue_comments(42) if c["user"]["login"] == fake.login]
    (comment,) = ours
    body = comment["body"]
    assert body.startswith(f"{STICKY_MARKER}\n**❌ gitops-reviewer: fail** · 1 error, 1 warning")
    assert "| replicas-zero | argocd/guestbook-prod |" in body
    assert "-  replicas: 3\n+  replicas: 0" in body
    assert "base merge-base with main" in body and "head scale-down" in body

    # the check run: on the pull request's head, never on the merge commit
    (run,) = fake.check_runs.values()
    assert (run["head_sha"], run["conclusion"], run["name"]) == (pr.head, "failure", "gitops-reviewer")
    assert run["details_url"] == f"https://github.com/{REPOSITORY}/actions/runs/{RUN_ID}"
    annotations = fake.annotations[run["id"]]
    assert {(a["annotation_level"], a["path"]) for a in annotations} == {
        ("failure", "apps/guestbook/base/deployment.yaml"),
        ("warning", "apps/postgres/backup-pvc.yaml"),
    }
    assert all(r.query.get("sha") != pr.merge and pr.merge not in r.path for r in fake.requests)

    # the job summary
    assert result.summary.startswith("**❌ gitops-reviewer: fail**")
    assert "- posted: comment: created comment" in result.summary

    # no secret anywhere
    for text in (result.stdout, result.stderr, result.summary, body, json.dumps(fake.check_runs)):
        assert LLM_KEY not in text and fake.token not in text

    # a second run on the same pull request edits nothing new and adds no comment
    again = run_action(pr, fake, tmp_path, event)
    assert again.code == 1
    assert len([c for c in fake.issue_comments(42) if c["user"]["login"] == fake.login]) == 1
    assert len(fake.issue_comments(42)) == 4


def test_a_render_failure_fails_the_check(example_repo: Path, fake: FakeGithub, tmp_path: Path) -> None:
    def break_kustomization(repo: Path) -> None:
        kustomization = repo / "apps/guestbook/overlays/prod/kustomization.yaml"
        kustomization.write_text(kustomization.read_text().replace("../../base", "../../missing-base"))

    pr = pull_request_repo(example_repo, break_kustomization)
    event = event_file(tmp_path, "pull_request.json", base=pr.base, head=pr.head)
    result = run_action(pr, fake, tmp_path, event, inputs={"comment": "off", "fail-on": "critical"})
    assert result.code == 1
    assert result.outputs["verdict"] == "error"
    (run,) = fake.check_runs.values()
    assert run["conclusion"] == "failure"
    assert "render error" in run["output"]["title"]
    assert fake.comments == {}


def test_a_fork_pull_request_with_a_read_only_token_still_reviews(
    example_repo: Path, fake: FakeGithub, tmp_path: Path
) -> None:
    fake.read_only = True
    pr = pull_request_repo(example_repo, scale_down)
    event = event_file(tmp_path, "pull_request_fork.json", base=pr.base, head=pr.head)
    result = run_action(pr, fake, tmp_path, event)
    assert result.code == 1, "the exit code is the verdict's, not a publishing failure's"
    assert result.outputs["verdict"] == "fail"
    assert (pr.path / "gitops-reviewer-report" / "report.json").exists()
    for surface in ("comment", "check run", "commit status"):
        line = f"gitops-reviewer: could not post the {surface}: 403 Resource not accessible by integration"
        assert line in result.stderr
        assert f"::warning title=gitops-reviewer::could not post the {surface}: 403" in result.stdout
    assert "a pull request from a fork: the token is read-only" in result.stderr
    assert "- **not posted**: comment: 403" in result.summary
    assert "uploaded as this run's artifact" in result.summary
    assert fake.comments == {} and fake.check_runs == {} and fake.statuses == []


def test_a_shallow_checkout_says_to_fetch_the_history(example_repo: Path, fake: FakeGithub, tmp_path: Path) -> None:
    pr = pull_request_repo(example_repo, scale_down)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{pr.path}", str(shallow))  # the merge commit only
    event = event_file(tmp_path, "pull_request.json", base=pr.base, head=pr.head)
    result = run_action(shallow, fake, tmp_path, event)
    assert result.code == 2
    assert f"the pull request's base commit {pr.base} is not in the checkout" in result.stderr
    assert "fetch-depth: 0" in result.stderr
    assert fake.requests == []


def test_other_events_are_a_clear_usage_error(example_repo: Path, fake: FakeGithub, tmp_path: Path) -> None:
    push = tmp_path / "push.json"
    push.write_text(json.dumps({"ref": "refs/heads/main", "after": "a" * 40}))
    result = run_action(example_repo, fake, tmp_path, push, event_name="push")
    assert result.code == 2
    assert "has no `pull_request`: run it on `pull_request` events" in result.stderr


def test_the_workflow_run_pattern_posts_the_forks_saved_report(
    example_repo: Path, fake: FakeGithub, tmp_path: Path
) -> None:
    # 1. the fork's pull_request run: read-only token, the report uploaded as an artifact
    fake.read_only = True
    pr = pull_request_repo(example_repo, scale_down)
    fork_event = event_file(tmp_path, "pull_request_fork.json", base=pr.base, head=pr.head)
    assert run_action(pr, fake, tmp_path, fork_event).code == 1
    artifact = tmp_path / "downloaded-artifact"
    (pr.path / "gitops-reviewer-report").rename(artifact)
    # the artifact is untrusted: a head commit or PR number written into it must not matter
    document = json.loads((artifact / "report.json").read_text())
    document["head"]["revision"] = "f" * 40
    (artifact / "report.json").write_text(json.dumps(document))

    # 2. the workflow_run run in the base repository: write token, no checkout of the fork's code
    fake.read_only = False
    fake.pulls.append(PullRequest(42, pr.head))
    run_event = event_file(tmp_path, "workflow_run.json", head=pr.head)
    empty = tmp_path / "empty-workspace"
    empty.mkdir()
    result = run_action(
        empty, fake, tmp_path, run_event, event_name="workflow_run", inputs={"from-report": str(artifact)}
    )
    assert result.code == 1, result.stderr
    assert result.outputs["verdict"] == "fail"
    (comment,) = fake.issue_comments(42)
    assert "| replicas-zero | argocd/guestbook-prod |" in comment["body"]
    assert "-  replicas: 3\n+  replicas: 0" in comment["body"], "the saved report's manifests, diffed"
    (run,) = fake.check_runs.values()
    assert run["head_sha"] == pr.head, "from the workflow_run event, not from the artifact"
    assert run["details_url"] == "https://github.com/example-org/gitops-config/actions/runs/12345678901"
    assert {a["path"] for a in fake.annotations[run["id"]]} == {
        "apps/guestbook/base/deployment.yaml",
        "apps/postgres/backup-pvc.yaml",
    }


def test_help_never_imports_pygithub() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from reviewer.cli import cli\n"
        "for args in (['--help'], ['github', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
        "names = ('github', 'reviewer.publish.github')\n"
        "print(sorted(m for m in sys.modules if m in names or m.startswith('github.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_pull_request_events_are_read_strictly(tmp_path: Path) -> None:
    from reviewer.errors import UsageError
    from reviewer.publish.github_actions import pull_request_event, read_event, workflow_run_event

    same = pull_request_event(read_event(EVENTS / "pull_request.json"))
    fork = pull_request_event(read_event(EVENTS / "pull_request_fork.json"))
    assert (same.number, same.base_ref, same.head_ref, same.fork, fork.fork) == (42, "main", "scale-down", False, True)
    assert same.head_sha == "8d41e07b2c6a5f4e3d2c1b0a9f8e7d6c5b4a3928"
    run = workflow_run_event(read_event(EVENTS / "workflow_run.json"))
    assert run is not None and (run.pr_number, run.head_sha) == (None, same.head_sha)
    payload = read_event(EVENTS / "pull_request.json")
    payload["pull_request"]["head"]["sha"] = "HEAD; rm -rf /"
    with pytest.raises(UsageError, match=r"no valid pull_request.head.sha"):
        pull_request_event(payload)
    with pytest.raises(UsageError, match="GITHUB_EVENT_PATH is not set"):
        read_event(None)
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(UsageError, match="is not a JSON object"):
        read_event(tmp_path / "bad.json")
