"""What a GitLab merge-request pipeline tells the job, read from its predefined variables.

No network and no python-gitlab here: this module only decides which commits to compare, which commit
gets the status, and which token (if any) may post. GitLab sets the `CI_MERGE_REQUEST_*` variables only
in merge-request pipelines (`CI_PIPELINE_SOURCE == "merge_request_event"`); a branch pipeline lacks them,
and reviewing it would compare the wrong commits, so their absence is a usage error that names them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import UsageError

MERGE_REQUEST_EVENT = "merge_request_event"
DEFAULT_TOKEN_VARIABLE = "GITOPS_REVIEWER_GITLAB_TOKEN"
JOB_TOKEN_VARIABLE = "CI_JOB_TOKEN"

# CI_MERGE_REQUEST_PROJECT_ID, not CI_PROJECT_ID: for a merge request from a fork, the pipeline may run
# in the fork while the merge request (its notes, its statuses) lives in the target project.
REQUIRED_VARIABLES = (
    "CI_SERVER_URL",
    "CI_MERGE_REQUEST_PROJECT_ID",
    "CI_MERGE_REQUEST_IID",
    "CI_MERGE_REQUEST_DIFF_BASE_SHA",
    "CI_COMMIT_SHA",
)

NEEDS_ACCESS_TOKEN = (
    "add a project or group access token with the `api` scope (role Developer or above, so that it may set "
    "commit statuses) as a masked CI/CD variable named {variable}"
)


@dataclass(frozen=True, slots=True)
class MergeRequestPipeline:
    """The merge request a pipeline runs for, and the commits that matter.

    In a merged-results pipeline `CI_COMMIT_SHA` is GitLab's merge of the source into the target branch
    and `CI_MERGE_REQUEST_SOURCE_BRANCH_SHA` (empty elsewhere) is the source branch head. The review then
    compares the target branch (`CI_MERGE_REQUEST_TARGET_BRANCH_SHA`) with that merge: exactly what Argo CD
    will see after the merge. The status always goes on the source branch head, the commit the MR shows.
    """

    server_url: str
    project_id: str
    mr_iid: int
    diff_base_sha: str
    commit_sha: str
    source_branch_sha: str = ""
    target_branch_sha: str = ""
    source_branch: str = ""
    target_branch: str = ""
    job_url: str = ""
    project_dir: str = ""

    @property
    def merged_results(self) -> bool:
        return bool(self.source_branch_sha) and self.source_branch_sha != self.commit_sha

    @property
    def review_base(self) -> str:
        """The base revision of the review: the merge base, or the target branch for merged results."""
        if self.merged_results and self.target_branch_sha:
            return self.target_branch_sha
        return self.diff_base_sha

    @property
    def review_head(self) -> str:
        return self.commit_sha

    @property
    def status_sha(self) -> str:
        """The MR's head commit: the source branch head, never the base and never a merge commit."""
        return self.source_branch_sha or self.commit_sha


def merge_request_pipeline(env: Mapping[str, str]) -> MergeRequestPipeline:
    """The merge-request context from `env`; a `UsageError` naming what is missing outside one."""
    missing = [name for name in REQUIRED_VARIABLES if not env.get(name, "").strip()]
    if missing:
        source = env.get("CI_PIPELINE_SOURCE", "").strip()
        where = (
            f"this is a {source!r} pipeline, not a merge-request pipeline"
            if source and source != MERGE_REQUEST_EVENT
            else "this job does not run in a GitLab merge-request pipeline"
        )
        raise UsageError(
            f"{where}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. "
            f'Run the job only for merge requests (rules: - if: $CI_PIPELINE_SOURCE == "{MERGE_REQUEST_EVENT}"), '
            "or use `gitops-reviewer check` outside merge requests."
        )
    iid_text = env["CI_MERGE_REQUEST_IID"].strip()
    if not iid_text.isdigit():
        raise UsageError(f"CI_MERGE_REQUEST_IID is {iid_text!r}, not a merge request number")
    return MergeRequestPipeline(
        server_url=env["CI_SERVER_URL"].strip().rstrip("/"),
        project_id=env["CI_MERGE_REQUEST_PROJECT_ID"].strip(),
        mr_iid=int(iid_text),
        diff_base_sha=env["CI_MERGE_REQUEST_DIFF_BASE_SHA"].strip(),
        commit_sha=env["CI_COMMIT_SHA"].strip(),
        source_branch_sha=env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "").strip(),
        target_branch_sha=env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA", "").strip(),
        source_branch=env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "").strip(),
        target_branch=env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "").strip(),
        job_url=env.get("CI_JOB_URL", "").strip(),
        project_dir=env.get("CI_PROJECT_DIR", "").strip(),
    )


@dataclass(frozen=True, slots=True)
class AccessToken:
    """The token to post with, or why there is none (`problem`, a sentence for the job log)."""

    token: str | None
    variable: str
    problem: str = ""


def access_token(env: Mapping[str, str], variable: str = DEFAULT_TOKEN_VARIABLE) -> AccessToken:
    """The access token from `variable`. GitLab's job token cannot create merge-request notes or commit
    statuses (docs.gitlab.com, "CI/CD job token", allowed endpoints), so a job holding only
    `CI_JOB_TOKEN`, or a variable set to it, is told so instead of failing on a 401 later."""
    token = env.get(variable, "").strip()
    job_token = env.get(JOB_TOKEN_VARIABLE, "").strip()
    advice = NEEDS_ACCESS_TOKEN.format(variable=variable)
    if token and job_token and token == job_token:
        return AccessToken(
            None,
            variable,
            f"{variable} holds the job token (CI_JOB_TOKEN), and GitLab does not let a job token post "
            f"merge-request notes or commit statuses: {advice}",
        )
    if token:
        return AccessToken(token, variable)
    if job_token:
        return AccessToken(
            None,
            variable,
            f"{variable} is not set and only CI_JOB_TOKEN is available, which GitLab does not let post "
            f"merge-request notes or commit statuses: {advice}",
        )
    return AccessToken(None, variable, f"{variable} is not set: {advice}")
