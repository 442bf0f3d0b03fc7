"""`gitops-reviewer gitlab` end to end: a real git repository (the example config repo, a base commit
and a merge request's head commit), the merge-request pipeline variables exactly as GitLab sets them,
and the fake GitLab API (tests/fakes/gitlab_api.py) behind the real python-gitlab client."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import EXAMPLE
from fakes.gitlab_api import FakeGitlab, diff_lines, fake_gitlab, git_file_reader, version_diffs
from gitrepos import git, make_repo

from reviewer.cli import cli
from reviewer.cli.gitlab import full_report_url
from reviewer.publish.common import STICKY_MARKER
from reviewer.publish.gitlab_ci import merge_request_pipeline

MR_PROJECT = "42"
FORK_PROJECT = "77"  # the pipeline runs in the fork; the merge request lives in the target project
IID = 5
TOKEN = "glpat-gitops-reviewer"
JOB_TOKEN = "glcbt-64_e7Xjob"
BOT = {"id": 11, "username": "project_42_bot_1", "name": "gitops-reviewer"}
SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def commit_change(repo: Path) -> tuple[str, str]:
    """The merge request: the `web` Namespace deleted under automated prune (critical), postgres scaled
    to zero (error). Returns (base, head); the checkout is detached at head, as in a GitLab job."""
    return commit_change_in(repo, "")


def commit_change_in(repo: Path, subdir: str) -> tuple[str, str]:
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "feature/cleanup")
    namespaces = repo / subdir / "platform/namespaces/namespaces.yaml"
    namespaces.write_text(namespaces.read_text().split("---\n", 1)[1])
    statefulset = repo / subdir / "apps/postgres/statefulset.yaml"
    statefulset.write_text(statefulset.read_text().replace("replicas: 1", "replicas: 0"))
    git(repo, "commit", "-q", "-am", "clean up")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach", head)
    return base, head


def pipeline_env(fake: FakeGitlab, repo: Path, base: str, head: str, **overrides: str | None) -> dict[str, str | None]:
    """The predefined variables of a merge-request pipeline (docs.gitlab.com, "Predefined CI/CD variables")."""
    env: dict[str, str | None] = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER_URL": fake.url,
        "CI_API_V4_URL": f"{fake.url}/api/v4",
        "CI_PROJECT_ID": FORK_PROJECT,
        "CI_PROJECT_DIR": str(repo),
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_PROJECT_ID": MR_PROJECT,
        "CI_MERGE_REQUEST_IID": str(IID),
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/cleanup",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": "",  # empty outside merged-results pipelines
        "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": "",
        "CI_COMMIT_SHA": head,
        "CI_COMMIT_REF_NAME": "feature/cleanup",
        "CI_JOB_URL": "https://gitlab.example.com/acme/gitops-config/-/jobs/981",
        "CI_JOB_TOKEN": JOB_TOKEN,
        "GITOPS_REVIEWER_GITLAB_TOKEN": TOKEN,
    }
    env.update(overrides)
    return env


@pytest.fixture
def fake() -> Iterator[FakeGitlab]:
    with fake_gitlab(tokens={TOKEN: BOT}, job_tokens=(JOB_TOKEN,)) as server:
        server.add_merge_request(MR_PROJECT, IID)
        yield server


@pytest.fixture
def mr_repo(example_repo: Path, fake: FakeGitlab, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, str]:
    base, head = commit_change(example_repo)
    fake.add_version(MR_PROJECT, IID, base=base, start=base, head=head, diffs=version_diffs(example_repo, base, head))
    fake.files[MR_PROJECT] = git_file_reader(example_repo)
    monkeypatch.chdir(example_repo)  # a job runs in CI_PROJECT_DIR
    return example_repo, base, head


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(cli, ["gitlab", *args], env=env)


def statuses(fake: FakeGitlab) -> list[tuple[str, str, str]]:
    return [(str(s["sha"]), str(s["status"]), str(s["name"])) for s in fake.statuses]


def our_notes(fake: FakeGitlab) -> list[dict[str, Any]]:
    return [n for n in fake.notes_of(MR_PROJECT, IID) if str(n["body"]).startswith(STICKY_MARKER)]


def test_review_posts_note_status_and_writes_artifacts(fake: FakeGitlab, mr_repo: tuple[Path, str, str]) -> None:
    repo, base, head = mr_repo
    result = run(pipeline_env(fake, repo, base, head))
    assert result.exit_code == 1, result.output + result.stderr
    out = repo / "gitops-reviewer-report"
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "fail"
    assert (report["base"]["revision"], report["head"]["revision"]) == (base, head)
    assert {(f["rule"], f["severity"]) for f in report["findings"]} >= {
        ("prune-deletion", "critical"),
        ("replicas-zero", "error"),
    }
    assert (out / "report.md").read_text().startswith("**❌ gitops-reviewer: fail**")
    # The note: one, on the merge request's project (not the fork the pipeline ran in), findings first.
    notes = our_notes(fake)
    assert len(notes) == 1 and notes[0]["author"]["id"] == BOT["id"]
    body = notes[0]["body"]
    assert body.index("prune-deletion") < body.index("#### Changes")
    assert not [r for r in fake.requests if f"/projects/{FORK_PROJECT}/" in r[1]]
    # The status: on the head commit, failed, linked to the job.
    assert statuses(fake) == [(head, "failed", "gitops-reviewer")]
    assert fake.statuses[0]["target_url"] == "https://gitlab.example.com/acme/gitops-config/-/jobs/981"
    assert "posted note: created note" in result.stderr and "posted status: failed on" in result.stderr
    # The full report's link in the note points at the artifact the job keeps.
    assert "gitops-reviewer" in (repo / "gitops-reviewer-report" / "report.md").read_text()
    assert "apps/postgres/statefulset.yaml" in result.stdout, "the job log shows the text report"


def test_code_quality_report_has_a_valid_entry_per_finding(fake: FakeGitlab, mr_repo: tuple[Path, str, str]) -> None:
    repo, base, head = mr_repo
    run(pipeline_env(fake, repo, base, head))
    out = repo / "gitops-reviewer-report"
    findings = json.loads((out / "report.json").read_text())["findings"]
    issues = json.loads((out / "gl-code-quality-report.json").read_text())
    assert isinstance(issues, list) and len(issues) == len(findings) > 0
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert isinstance(issue["fingerprint"], str) and issue["fingerprint"]
        assert issue["severity"] in SEVERITIES
        path, line = issue["location"]["path"], issue["location"]["lines"]["begin"]
        assert isinstance(path, str) and isinstance(line, int) and line >= 1
        assert (repo / path).is_file() or git(repo, "cat-file", "-t", f"{base}:{path}").strip() == "blob"
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    prune = next(i for i in issues if i["check_name"] == "prune-deletion")
    assert prune["severity"] == "blocker"
    assert prune["location"] == {"path": "platform/namespaces/namespaces.yaml", "lines": {"begin": 1}}
    assert {i["fingerprint"] for i in issues} == {f["fingerprint"] for f in findings}


def test_reruns_keep_one_note_and_one_discussion_per_critical_finding(
    fake: FakeGitlab, mr_repo: tuple[Path, str, str]
) -> None:
    repo, base, head = mr_repo
    for _ in range(2):
        result = run(pipeline_env(fake, repo, base, head), "--inline-discussions")
        assert result.exit_code == 1, result.output + result.stderr
    assert "created 1 discussion" in result.stderr or "already open" in result.stderr
    assert len(our_notes(fake)) == 1
    discussions = fake.discussions_of(MR_PROJECT, IID)
    assert len(discussions) == 1, "the second run found the first run's discussion by its marker"
    note = discussions[0]["notes"][0]
    # The Namespace was deleted: the discussion sits on the first removed line of its document (lines
    # 1-6 of the base file; git's diff may keep its first lines as context), in the base revision's file,
    # at the MR's latest diff version (the fake also rejects any line that is not in the diff).
    position = dict(note["position"])
    old_line = position.pop("old_line")
    assert position == {
        "position_type": "text",
        "base_sha": base,
        "start_sha": base,
        "head_sha": head,
        "old_path": "platform/namespaces/namespaces.yaml",
        "new_path": "platform/namespaces/namespaces.yaml",
    }
    entry = next(d for d in version_diffs(repo, base, head) if d["old_path"] == "platform/namespaces/namespaces.yaml")
    _, removed, _ = diff_lines(entry["diff"])
    assert old_line == min(line for line in removed if line < 7)
    assert "prune-deletion" in note["body"] and "critical" in note["body"]
    assert "1 already open" in result.stderr


def test_a_job_token_alone_reviews_and_says_it_cannot_post(fake: FakeGitlab, mr_repo: tuple[Path, str, str]) -> None:
    repo, base, head = mr_repo
    result = run(pipeline_env(fake, repo, base, head, GITOPS_REVIEWER_GITLAB_TOKEN=None))
    assert result.exit_code == 1, "the verdict, not a usage error"
    assert "only CI_JOB_TOKEN is available" in result.stderr
    assert "GITOPS_REVIEWER_GITLAB_TOKEN" in result.stderr and "`api` scope" in result.stderr
    assert (repo / "gitops-reviewer-report" / "gl-code-quality-report.json").is_file()
    assert fake.requests == [], "nothing was tried with a token that cannot post"


def test_the_job_token_in_the_token_variable_is_recognised(fake: FakeGitlab, mr_repo: tuple[Path, str, str]) -> None:
    repo, base, head = mr_repo
    result = run(pipeline_env(fake, repo, base, head, GITOPS_REVIEWER_GITLAB_TOKEN=JOB_TOKEN))
    assert result.exit_code == 1
    assert "GITOPS_REVIEWER_GITLAB_TOKEN holds the job token (CI_JOB_TOKEN)" in result.stderr
    assert fake.requests == []


def test_a_branch_pipeline_is_a_usage_error_naming_the_missing_variables(
    fake: FakeGitlab, mr_repo: tuple[Path, str, str]
) -> None:
    repo, base, head = mr_repo
    env = pipeline_env(
        fake,
        repo,
        base,
        head,
        CI_PIPELINE_SOURCE="push",
        CI_MERGE_REQUEST_PROJECT_ID=None,
        CI_MERGE_REQUEST_IID=None,
        CI_MERGE_REQUEST_DIFF_BASE_SHA=None,
    )
    result = run(env)
    assert result.exit_code == 2
    assert "this is a 'push' pipeline, not a merge-request pipeline" in result.stderr
    assert "CI_MERGE_REQUEST_PROJECT_ID, CI_MERGE_REQUEST_IID, CI_MERGE_REQUEST_DIFF_BASE_SHA are not set" in (
        result.stderr
    )
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in result.stderr
    assert not (repo / "gitops-reviewer-report").exists() and fake.requests == []


def test_gitlab_down_still_exits_with_the_verdict(
    fake: FakeGitlab, mr_repo: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, base, head = mr_repo
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    fake.fail("GET", r".", 500, times=None)
    fake.fail("POST", r".", 500, times=None)
    result = run(pipeline_env(fake, repo, base, head))
    assert result.exit_code == 1, result.output + result.stderr
    assert "could not post note: HTTP 500" in result.stderr
    assert "could not post status: HTTP 500" in result.stderr
    assert len(slept) > 0, "it retried with backoff before giving up"
    assert (repo / "gitops-reviewer-report" / "report.md").is_file()


def test_a_passing_merge_request_gets_a_success_status(
    fake: FakeGitlab, example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = git(example_repo, "rev-parse", "HEAD").strip()
    readme = example_repo / "README.md"
    readme.write_text(readme.read_text() + "\nA note for humans.\n")
    git(example_repo, "commit", "-q", "-am", "docs")
    head = git(example_repo, "rev-parse", "HEAD").strip()
    fake.add_commits(MR_PROJECT, head)
    monkeypatch.chdir(example_repo)
    result = run(pipeline_env(fake, example_repo, base, head), "--status-name", "gitops/review")
    assert result.exit_code == 0, result.output + result.stderr
    assert statuses(fake) == [(head, "success", "gitops/review")]


def test_merged_results_pipeline_reviews_the_merge_and_marks_the_source_head(
    fake: FakeGitlab, example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, head = commit_change(example_repo)
    git(example_repo, "checkout", "-q", "main")
    (example_repo / "NOTES.md").write_text("target branch moved on\n")
    git(example_repo, "add", "NOTES.md")
    git(example_repo, "commit", "-q", "-m", "unrelated")
    target = git(example_repo, "rev-parse", "HEAD").strip()
    git(example_repo, "merge", "-q", "--no-ff", "-m", "merge", head)
    merge = git(example_repo, "rev-parse", "HEAD").strip()
    git(example_repo, "checkout", "-q", "--detach", merge)
    fake.add_commits(MR_PROJECT, base, head, merge, target)
    monkeypatch.chdir(example_repo)
    env = pipeline_env(
        fake,
        example_repo,
        base,
        merge,
        CI_MERGE_REQUEST_SOURCE_BRANCH_SHA=head,
        CI_MERGE_REQUEST_TARGET_BRANCH_SHA=target,
        CI_MERGE_REQUEST_EVENT_TYPE="merged_result",
    )
    result = run(env)
    assert result.exit_code == 1, result.output + result.stderr
    assert statuses(fake) == [(head, "failed", "gitops-reviewer")], "the source head: not the merge, not the base"
    report = json.loads((example_repo / "gitops-reviewer-report" / "report.json").read_text())
    assert (report["base"]["revision"], report["head"]["revision"]) == (target, merge)
    assert "NOTES.md" not in report["changedPaths"], "the target branch's own commits are not this MR's change"


def test_a_shallow_clone_without_the_base_says_how_to_fix_it(fake: FakeGitlab, mr_repo: tuple[Path, str, str]) -> None:
    repo, _, head = mr_repo
    result = run(pipeline_env(fake, repo, "f" * 40, head))
    assert result.exit_code == 2
    assert "GIT_DEPTH: 0" in result.stderr


def test_the_token_variable_is_configurable_and_never_printed(fake: FakeGitlab, mr_repo: tuple[Path, str, str]) -> None:
    repo, base, head = mr_repo
    env = pipeline_env(fake, repo, base, head, GITOPS_REVIEWER_GITLAB_TOKEN=None, REVIEW_BOT_TOKEN=TOKEN)
    result = run(env, "--token-variable", "REVIEW_BOT_TOKEN")
    assert result.exit_code == 1
    assert len(our_notes(fake)) == 1
    for path in (repo / "gitops-reviewer-report").iterdir():
        assert TOKEN not in path.read_text()
    assert TOKEN not in result.output + result.stderr


def test_help_does_not_import_python_gitlab() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from reviewer.cli import cli\n"
        "result = CliRunner().invoke(cli, ['gitlab', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert '--inline-discussions' in result.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'gitlab' or m == 'reviewer.publish.gitlab'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_a_config_repo_in_a_subdirectory_gets_repository_paths(
    fake: FakeGitlab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"deploy/{p.relative_to(EXAMPLE)}": p.read_text() for p in EXAMPLE.rglob("*") if p.is_file()}
    top = make_repo(tmp_path / "monorepo", files)
    base, head = commit_change_in(top, "deploy/")
    fake.add_version(MR_PROJECT, IID, base=base, start=base, head=head, diffs=version_diffs(top, base, head))
    fake.files[MR_PROJECT] = git_file_reader(top)
    monkeypatch.chdir(top)
    result = run(pipeline_env(fake, top, base, head), "--repo", "deploy", "--inline-discussions")
    assert result.exit_code == 1, result.output + result.stderr
    issues = json.loads((top / "gitops-reviewer-report" / "gl-code-quality-report.json").read_text())
    assert {i["location"]["path"] for i in issues} == {
        "deploy/platform/namespaces/namespaces.yaml",
        "deploy/apps/postgres/statefulset.yaml",
    }
    [discussion] = fake.discussions_of(MR_PROJECT, IID)
    assert discussion["notes"][0]["position"]["old_path"] == "deploy/platform/namespaces/namespaces.yaml"


def test_the_note_links_the_report_artifact_of_the_job() -> None:
    pipeline = merge_request_pipeline(
        {
            "CI_SERVER_URL": "https://gitlab.example.com",
            "CI_MERGE_REQUEST_PROJECT_ID": "1",
            "CI_MERGE_REQUEST_IID": "2",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": "b" * 40,
            "CI_COMMIT_SHA": "a" * 40,
            "CI_JOB_URL": "https://gitlab.example.com/g/p/-/jobs/9",
            "CI_PROJECT_DIR": "/builds/g/p",
        }
    )
    assert full_report_url(pipeline, Path("/builds/g/p/gitops-reviewer-report")) == (
        "https://gitlab.example.com/g/p/-/jobs/9/artifacts/file/gitops-reviewer-report/report.md"
    )
    assert (
        full_report_url(pipeline, Path("/tmp/elsewhere")) == "https://gitlab.example.com/g/p/-/jobs/9/artifacts/browse"
    )
