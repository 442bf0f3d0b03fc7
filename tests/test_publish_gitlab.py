"""The GitLab publisher against the fake GitLab API (tests/fakes/gitlab_api.py), through the real
python-gitlab client: the sticky note, the commit status, retries, refused tokens, quick actions and
the pieces inline discussions are placed with."""

from __future__ import annotations

import re
from collections.abc import Iterator

import gitlab
import pytest
from fakes.gitlab_api import FakeGitlab, fake_gitlab

from reviewer.publish.common import STICKY_MARKER, RetryPolicy, sticky_body
from reviewer.publish.gitlab import (
    GITLAB_NOTE_LIMIT,
    NOTE_MAX_CHARS,
    STATUS_TEXT_MAX_CHARS,
    GitlabSettings,
    GitlabTarget,
    anchor_line,
    document_end,
    escape_quick_actions,
    note_body,
    parse_file_diff,
    publish,
)
from reviewer.records import Finding, Location, RenderError, Report, ResourceKey

PROJECT = "42"
IID = 3
HEAD = "a" * 40
BASE = "b" * 40
MERGE = "c" * 40
TOKEN = "glpat-reviewer-bot"
JOB_TOKEN = "glcbt-64_job"
BOT = {"id": 7, "username": "gitops-reviewer-bot", "name": "gitops-reviewer bot"}
ALICE = {"id": 8, "username": "alice", "name": "Alice"}
JOB_URL = "https://gitlab.example.com/acme/config/-/jobs/1234"
KEY = ResourceKey("apps", "Deployment", "web", "web")


@pytest.fixture
def fake() -> Iterator[FakeGitlab]:
    with fake_gitlab(tokens={TOKEN: BOT, "glpat-alice": ALICE}, job_tokens=(JOB_TOKEN,)) as server:
        server.add_merge_request(PROJECT, IID)
        server.add_commits(PROJECT, HEAD, BASE, MERGE)
        yield server


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def target(fake: FakeGitlab, token: str = TOKEN) -> GitlabTarget:
    return GitlabTarget(fake.url, PROJECT, IID, HEAD, token, job_url=JOB_URL)


def settings(**kwargs: object) -> GitlabSettings:
    defaults: dict[str, object] = {"retry": RetryPolicy(attempts=4, budget=30, max_wait=10, base_delay=0.01)}
    defaults["sleep"] = Sleeps()
    return GitlabSettings(**{**defaults, **kwargs})  # type: ignore[arg-type]


def report(verdict: str = "fail", findings: tuple[Finding, ...] | None = None, **kwargs: object) -> Report:
    if findings is None:
        findings = (Finding("replicas-zero", "error", "Replicas to zero", "web goes to 0 replicas", "argocd/web", KEY),)
    fields: dict[str, object] = {"errors": (), **kwargs}
    return Report(BASE, HEAD, "main", "!3 feature", (), (), findings, verdict=verdict, **fields)  # type: ignore[arg-type]


def outcome(outcomes: tuple[object, ...], surface: str) -> object:
    return next(o for o in outcomes if o.surface == surface)  # type: ignore[attr-defined]


def our_notes(fake: FakeGitlab) -> list[dict[str, object]]:
    return [n for n in fake.notes_of(PROJECT, IID) if str(n["body"]).startswith(STICKY_MARKER)]


def test_one_note_after_ten_runs_among_pages_of_other_notes(fake: FakeGitlab) -> None:
    for n in range(120):
        fake.add_note(PROJECT, IID, f"review comment {n}", ALICE)
    fake.add_note(PROJECT, IID, "added 1 commit", ALICE, system=True)
    # Someone quoting our note, marker included: never ours to edit.
    fake.add_note(PROJECT, IID, f"{STICKY_MARKER}\nquoted by hand", ALICE)
    for n in range(120):
        fake.add_note(PROJECT, IID, f"more discussion {n}", ALICE)
    bodies = []
    for run in range(10):
        findings = tuple(
            Finding("replicas-zero", "error", "Replicas to zero", f"run {run}: deployment {i} to 0", "argocd/web", KEY)
            for i in range(run % 3 + 1)
        )
        outcomes = publish(report(findings=findings), target(fake), settings())
        assert outcome(outcomes, "note").posted, outcomes  # type: ignore[attr-defined]
        bodies.append(note_body(report(findings=findings), settings()))
    mine = [n for n in our_notes(fake) if n["author"] == BOT]
    assert len(mine) == 1, "ten runs, one note"
    assert mine[0]["body"] == bodies[-1]
    quoted = [n for n in our_notes(fake) if n["author"] == ALICE]
    assert [n["body"] for n in quoted] == [f"{STICKY_MARKER}\nquoted by hand"]
    # 242 notes before ours: the search had to follow the pages (per_page is at most 100).
    pages = {m.group(1) for _, path, _, _ in fake.requests if (m := re.search(r"/notes\?.*page=(\d+)", path))}
    assert {"2", "3"} <= pages
    posts = [r for r in fake.requests if r[0] == "POST" and r[1].endswith("/notes")]
    assert len(posts) == 1


def test_unchanged_note_is_not_rewritten(fake: FakeGitlab) -> None:
    publish(report(), target(fake), settings())
    outcomes = publish(report(), target(fake), settings())
    assert "already up to date" in outcome(outcomes, "note").detail  # type: ignore[attr-defined]
    assert not [r for r in fake.requests if r[0] == "PUT"]


@pytest.mark.parametrize(("verdict", "state"), [("pass", "success"), ("fail", "failed"), ("error", "failed")])
def test_status_on_the_head_commit(fake: FakeGitlab, verdict: str, state: str) -> None:
    findings = () if verdict == "pass" else None
    errors = (RenderError("argocd/web", "helm template failed"),) if verdict == "error" else ()
    outcomes = publish(report(verdict, findings, errors=errors), target(fake), settings())
    assert outcome(outcomes, "status").posted  # type: ignore[attr-defined]
    assert [(s["sha"], s["status"], s["name"]) for s in fake.statuses] == [(HEAD, state, "gitops-reviewer")]
    status = fake.statuses[0]
    assert status["target_url"] == JOB_URL
    assert str(status["description"]).startswith(f"{verdict}: ")
    assert not [s for s in fake.statuses if s["sha"] in (BASE, MERGE)]


def test_status_texts_fit_gitlab_limits(fake: FakeGitlab) -> None:
    findings = tuple(
        Finding(
            f"rule-{i}-{'x' * 40}", ("warning", "error", "critical", "info")[i % 4], "t", "m", f"argocd/app-{i}", KEY
        )
        for i in range(400)
    )
    long_url = "https://gitlab.example.com/" + "g/" * 200 + "-/jobs/1"
    outcomes = publish(
        report(findings=findings),
        GitlabTarget(fake.url, PROJECT, IID, HEAD, TOKEN, job_url=long_url),
        settings(status_name="n" * 300),
    )
    assert outcome(outcomes, "status").posted, outcomes  # type: ignore[attr-defined]
    status = fake.statuses[-1]
    assert len(str(status["name"])) == STATUS_TEXT_MAX_CHARS
    assert len(str(status["description"])) <= STATUS_TEXT_MAX_CHARS
    assert status["target_url"] is None, "a link GitLab would refuse is left out, not cut"


def test_the_fake_refuses_what_gitlab_refuses(fake: FakeGitlab) -> None:
    gl = gitlab.Gitlab(fake.url, private_token=TOKEN)
    commit = gl.projects.get(PROJECT, lazy=True).commits.get(HEAD, lazy=True)
    with pytest.raises(gitlab.GitlabCreateError) as bad_state:
        commit.statuses.create({"state": "failure", "name": "x"})  # GitHub's word, not GitLab's
    assert bad_state.value.response_code == 400
    with pytest.raises(gitlab.GitlabCreateError):
        commit.statuses.create({"state": "success", "description": "d" * 256})
    with pytest.raises(gitlab.GitlabCreateError) as unknown:
        gl.projects.get(PROJECT, lazy=True).commits.get("d" * 40, lazy=True).statuses.create({"state": "success"})
    assert unknown.value.response_code == 404
    mr = gl.projects.get(PROJECT, lazy=True).mergerequests.get(IID, lazy=True)
    with pytest.raises(gitlab.GitlabCreateError):
        mr.notes.create({"body": "x" * (GITLAB_NOTE_LIMIT + 1)})
    alice = gitlab.Gitlab(fake.url, private_token="glpat-alice").projects.get(PROJECT, lazy=True)
    note = alice.mergerequests.get(IID, lazy=True).notes.create({"body": "mine"})
    theirs = mr.notes.get(note.id, lazy=True)
    theirs.body = "edited by someone else"
    with pytest.raises(gitlab.GitlabUpdateError) as forbidden:
        theirs.save()
    assert forbidden.value.response_code == 403


def test_a_job_token_cannot_post_notes_or_statuses(fake: FakeGitlab) -> None:
    gl = gitlab.Gitlab(fake.url, job_token=JOB_TOKEN)
    project = gl.projects.get(PROJECT, lazy=True)
    with pytest.raises(gitlab.GitlabAuthenticationError):
        project.mergerequests.get(IID, lazy=True).notes.create({"body": "hello"})
    with pytest.raises(gitlab.GitlabAuthenticationError):
        project.commits.get(HEAD, lazy=True).statuses.create({"state": "success"})
    assert {kind for _, _, _, kind in fake.requests} == {"job"}
    assert fake.notes_of(PROJECT, IID) == [] and fake.statuses == []


def test_a_refused_token_is_reported_on_every_surface(fake: FakeGitlab) -> None:
    outcomes = publish(report(), target(fake, token="glpat-revoked"), settings(inline_discussions=True))
    assert [(o.surface, o.posted) for o in outcomes] == [("note", False), ("status", False), ("discussions", False)]
    assert all("401 Unauthorized" in o.detail and "glpat-revoked" not in o.detail for o in outcomes)
    assert fake.notes_of(PROJECT, IID) == [] and fake.statuses == []


def test_429_then_success_is_retried_after_retry_after(fake: FakeGitlab) -> None:
    fake.fail("POST", r"/notes$", 429, times=1, retry_after="3")
    fake.fail("POST", r"/statuses/", 429, times=2, retry_after="1")
    sleeps = Sleeps()
    outcomes = publish(report(), target(fake), settings(sleep=sleeps))
    assert all(o.posted for o in outcomes), outcomes
    assert sleeps == [3.0, 1.0, 1.0], "waited exactly what GitLab asked"
    assert len(our_notes(fake)) == 1 and len(fake.statuses) == 1
    statuses = [status for method, path, status, _ in fake.requests if method == "POST" and "/statuses/" in path]
    assert statuses == [429, 429, 201]


def test_500_forever_is_given_up_and_said(fake: FakeGitlab) -> None:
    fake.fail("POST", r"/statuses/", 500, times=None)
    outcomes = publish(report(), target(fake), settings())
    assert outcome(outcomes, "note").posted  # type: ignore[attr-defined]
    status = outcome(outcomes, "status")
    assert not status.posted  # type: ignore[attr-defined]
    assert "HTTP 500" in status.detail and "gave up retrying" in status.detail  # type: ignore[attr-defined]
    attempts = [r for r in fake.requests if r[0] == "POST" and "/statuses/" in r[1]]
    assert len(attempts) == 4, "bounded: RetryPolicy.attempts"


def test_a_retry_after_longer_than_the_wait_limit_gives_up_at_once(fake: FakeGitlab) -> None:
    fake.fail("POST", r"/notes$", 429, times=None, retry_after="3600")
    sleeps = Sleeps()
    outcomes = publish(report(), target(fake), settings(sleep=sleeps))
    assert not outcome(outcomes, "note").posted  # type: ignore[attr-defined]
    assert sleeps == [] and outcome(outcomes, "status").posted  # type: ignore[attr-defined]


def test_a_lost_response_does_not_post_twice(fake: FakeGitlab) -> None:
    # GitLab creates the note but the answer is a 502: the retry lists the notes again, finds it, and
    # does not create a second one.
    fake.fail("POST", r"/notes$", 502, times=1, after=True)
    outcomes = publish(report(), target(fake), settings())
    assert "already up to date" in outcome(outcomes, "note").detail  # type: ignore[attr-defined]
    assert len(our_notes(fake)) == 1
    assert [r[2] for r in fake.requests if r[0] == "POST" and r[1].endswith("/notes")] == [502]


QUICK_ACTION_LINE = re.compile(r"^\s*/", re.MULTILINE)


def quick_action_report() -> Report:
    error = RenderError(
        "/merge",
        "/approve the render failed",
        command="/usr/local/bin/helm template web /charts/web",
        exit_code=1,
        stderr="/close\n  /label ~approved\n/merge\nError: boom",
    )
    finding = Finding(
        "/rebase", "critical", "/title pwned", "/merge\n/approve", "/unlabel", location=Location("/x.yaml")
    )
    return report("error", (finding,), errors=(error,), warnings=("/assign @me",))


def test_no_line_of_the_note_is_a_quick_action(fake: FakeGitlab) -> None:
    raw = sticky_body(quick_action_report(), max_chars=NOTE_MAX_CHARS)
    assert QUICK_ACTION_LINE.search(raw), "the markdown alone would let some through: the test must see them"
    body = note_body(quick_action_report(), settings())
    assert not QUICK_ACTION_LINE.search(body)
    assert body.replace("\u200b/", "/") == raw, "escaping only adds invisible characters"
    publish(quick_action_report(), target(fake), settings())
    assert fake.quick_actions == []
    assert our_notes(fake)[0]["body"] == body


def test_escape_quick_actions_keeps_other_slashes() -> None:
    text = "a /merge in a sentence\n/merge\n\t/approve\npath/to/file"
    assert escape_quick_actions(text) == "a /merge in a sentence\n\u200b/merge\n\t\u200b/approve\npath/to/file"


def test_findings_that_overflow_a_note_list_the_most_severe_and_link_the_rest(fake: FakeGitlab) -> None:
    findings = tuple(
        Finding("r", "error", "t", f"{i} " + "long message " * 350, f"argocd/app-{i}", KEY) for i in range(250)
    )
    url = f"{JOB_URL}/artifacts/file/gitops-reviewer-report/report.md"
    outcomes = publish(report(findings=findings), target(fake), settings(full_report_url=url))
    assert outcome(outcomes, "note").posted, outcomes  # type: ignore[attr-defined]
    body = str(our_notes(fake)[0]["body"])
    assert len(body) <= NOTE_MAX_CHARS and "fail" in body.splitlines()[1] and url in body
    assert "250 errors" in body  # the verdict line counts every finding, also those not listed
    listed = sum(1 for i in range(250) if re.search(rf"(?<!\d){i} long message", body))
    assert 0 < listed < 250 and f"{listed} of 250" in body


def test_note_trims_diffs_to_the_readable_size() -> None:
    assert NOTE_MAX_CHARS < GITLAB_NOTE_LIMIT
    body = note_body(report(), settings(note_max_chars=500))
    assert body.startswith(STICKY_MARKER) and "Replicas to zero" in body


def test_parse_file_diff_numbers_both_sides() -> None:
    diff = parse_file_diff(
        {
            "old_path": "a.yaml",
            "new_path": "a.yaml",
            "diff": "@@ -1,4 +1,5 @@\n keep\n-old\n+new\n+added\n keep\n@@ -10,2 +11,1 @@\n-gone\n kept\n"
            "\\ No newline at end of file\n",
        }
    )
    assert diff.added == {2, 3}
    assert diff.removed == {2, 10}


def test_anchor_is_the_first_change_inside_the_document() -> None:
    content = "apiVersion: v1\nkind: A\nspec: 1\n---\napiVersion: v1\nkind: B\nspec: 2\n"
    assert document_end(content, 1) == 4
    assert document_end(content, 5) == 8
    assert anchor_line({3, 7}, 1, 4) == 3
    assert anchor_line({7}, 1, 4) is None, "a change in the next document is another resource's"
    assert anchor_line({7}, 5, 8) == 7
    assert anchor_line({6, 2}, None, None) == 2


CRITICAL = Finding(
    "prune-deletion", "critical", "Deleted", "web is pruned", "argocd/web", KEY, location=Location("web.yaml", 1)
)
WEB_DIFF = {
    "old_path": "web.yaml",
    "new_path": "web.yaml",
    "diff": "@@ -1,2 +1,2 @@\n apiVersion: v1\n-kind: A\n+kind: B\n",
    "new_file": False,
    "deleted_file": False,
}


def test_no_inline_discussion_on_lines_of_a_newer_push(fake: FakeGitlab) -> None:
    fake.add_version(PROJECT, IID, base=BASE, start=BASE, head=MERGE, diffs=[WEB_DIFF])
    outcomes = publish(report(findings=(CRITICAL,)), target(fake), settings(inline_discussions=True))
    discussions = outcome(outcomes, "discussions")
    assert not discussions.posted and "a newer push" in discussions.detail  # type: ignore[attr-defined]
    assert fake.discussions_of(PROJECT, IID) == []
    assert outcome(outcomes, "note").posted  # type: ignore[attr-defined]


def test_inline_discussion_on_the_changed_line_once(fake: FakeGitlab) -> None:
    fake.add_version(PROJECT, IID, base=BASE, start=BASE, head=HEAD, diffs=[WEB_DIFF])
    fake.files[PROJECT] = lambda ref, path: "apiVersion: v1\nkind: B\n" if (ref, path) == (HEAD, "web.yaml") else None
    waived = Finding("prune-deletion", "critical", "t", "waived", "argocd/db", KEY, waived=True)
    for _ in range(3):
        outcomes = publish(report(findings=(CRITICAL, waived)), target(fake), settings(inline_discussions=True))
        assert outcome(outcomes, "discussions").posted, outcomes  # type: ignore[attr-defined]
    [discussion] = fake.discussions_of(PROJECT, IID)
    note = discussion["notes"][0]
    assert note["position"]["new_line"] == 2 and "old_line" not in note["position"]
    assert note["body"].startswith(f"<!-- gitops-reviewer:finding:{CRITICAL.fingerprint} -->")
    assert "1 already open" in outcome(outcomes, "discussions").detail  # type: ignore[attr-defined]
