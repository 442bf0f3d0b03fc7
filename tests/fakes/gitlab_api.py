"""A fake GitLab REST API v4 on 127.0.0.1, for the real python-gitlab client.

It serves the endpoints the GitLab publisher uses, the way GitLab does:

- authentication: `PRIVATE-TOKEN` must be a known token (else 401). A `JOB-TOKEN` is accepted by GitLab
  only on the endpoints listed in "CI/CD job token" (packages, artifacts, a few more); none of these is
  one of them, so a job token gets 401 here, as an unauthenticated request would.
- pagination: `page` and `per_page` (default 20, at most 100), with `X-Page`, `X-Per-Page`, `X-Total`,
  `X-Total-Pages`, `X-Next-Page`, `X-Prev-Page` and a `Link` header (`next`, `prev`, `first`, `last`).
- notes: created and edited (only by their author: 403 otherwise), at most 1,000,000 characters; a line
  starting with a known `/quick_action` is executed (recorded in `quick_actions`) and removed from the
  note, as GitLab does.
- commit statuses: the commit must exist; `state` one of pending, running, success, failed, canceled,
  skipped; `name`, `description`, `target_url` and `ref` at most 255 characters; a pending or running
  status of the same name is transitioned, anything else adds a status (GitLab's
  `find_or_initialize_by` over running-or-pending statuses).
- merge request diff versions, and discussions whose diff position must name a line of that version's
  diff (`new_line` an added line, `old_line` a removed one, both for an unchanged line in a hunk),
  else 400 with GitLab's "must be a valid line code".
- raw files at a commit, from a callable (the tests read them from a real git repository).

Faults are injected per method and path pattern: a status code (401, 429 with Retry-After, 500, ...)
for the next N matching requests, or for all of them. Every request is logged.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOTE_LIMIT = 1_000_000
STATUS_FIELD_LIMIT = 255
STATUS_STATES = ("pending", "running", "success", "failed", "canceled", "skipped")
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
QUICK_ACTIONS = (
    "merge",
    "approve",
    "close",
    "reopen",
    "assign",
    "label",
    "unlabel",
    "title",
    "rebase",
    "submit_review",
)
_QUICK_ACTION = re.compile(r"^/(" + "|".join(QUICK_ACTIONS) + r")\b.*$")
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")

FileReader = Callable[[str, str], str | None]  # (ref, path) -> content, None when missing


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    remaining: int | None  # None: forever
    retry_after: str | None = None
    after: bool = False  # the request is carried out, then answered with the fault (a lost response)
    hits: int = 0


@dataclass
class MergeRequest:
    project_id: str
    iid: int
    notes: list[dict[str, Any]] = field(default_factory=list)
    discussions: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)  # newest first, as GitLab lists them


def _timestamp(n: int) -> str:
    return f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000Z"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing its keep-alive connection is no error; anything else is printed as usual.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeGitlab:
    """The server state and its knobs; `url` is what python-gitlab is given."""

    def __init__(self, *, tokens: dict[str, dict[str, Any]], job_tokens: tuple[str, ...] = ()) -> None:
        self.tokens = tokens  # private token -> user
        self.job_tokens = set(job_tokens)
        self.merge_requests: dict[tuple[str, int], MergeRequest] = {}
        self.commits: dict[str, set[str]] = {}  # project -> known commit SHAs
        self.statuses: list[dict[str, Any]] = []
        self.files: dict[str, FileReader] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int, str]] = []  # (method, path?query, status, "private"/"job"/"none")
        self.quick_actions: list[str] = []
        self.lock = threading.Lock()
        self._ids = 1000
        handler = functools.partial(_Handler, fake=self)
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    # --- setup -------------------------------------------------------------------------------------

    def add_merge_request(self, project_id: str, iid: int) -> MergeRequest:
        mr = MergeRequest(project_id, iid)
        self.merge_requests[(project_id, iid)] = mr
        return mr

    def add_commits(self, project_id: str, *shas: str) -> None:
        self.commits.setdefault(project_id, set()).update(shas)

    def add_version(
        self, project_id: str, iid: int, *, base: str, start: str, head: str, diffs: list[dict[str, Any]]
    ) -> dict[str, Any]:
        mr = self.merge_requests[(project_id, iid)]
        version = {
            "id": self.next_id(),
            "head_commit_sha": head,
            "base_commit_sha": base,
            "start_commit_sha": start,
            "created_at": _timestamp(self._ids),
            "merge_request_id": iid,
            "state": "collected",
            "real_size": str(len(diffs)),
            "diffs": diffs,
        }
        mr.versions.insert(0, version)
        self.add_commits(project_id, base, start, head)
        return version

    def add_note(self, project_id: str, iid: int, body: str, author: dict[str, Any], *, system: bool = False) -> None:
        mr = self.merge_requests[(project_id, iid)]
        mr.notes.append(self._note(body, author, system=system))

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int | None = 1,
        retry_after: str | None = None,
        after: bool = False,
    ) -> Fault:
        """Answer the next `times` requests (None: all) matching `method` and the `path` regex with `status`;
        with `after`, carry each out first (the client never learns that it succeeded)."""
        fault = Fault(method.upper(), re.compile(path), status, times, retry_after, after)
        self.faults.append(fault)
        return fault

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- views for assertions ----------------------------------------------------------------------

    def notes_of(self, project_id: str, iid: int) -> list[dict[str, Any]]:
        return list(self.merge_requests[(project_id, iid)].notes)

    def discussions_of(self, project_id: str, iid: int) -> list[dict[str, Any]]:
        return list(self.merge_requests[(project_id, iid)].discussions)

    def _note(self, body: str, author: dict[str, Any], *, system: bool = False, **extra: Any) -> dict[str, Any]:
        note_id = self.next_id()
        return {
            "id": note_id,
            "type": extra.pop("type", None),
            "body": body,
            "author": author,
            "created_at": _timestamp(note_id),
            "updated_at": _timestamp(note_id),
            "system": system,
            "noteable_type": "MergeRequest",
            **extra,
        }


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _error(status: int, message: Any) -> _Reply:
    return _Reply(status, {"message": message})


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *args: Any, fake: FakeGitlab, **kwargs: Any) -> None:
        self.fake = fake
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        raw_path = parsed.path
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else b""
        self._extra_headers: dict[str, str] = {}  # one handler serves every request of a keep-alive connection
        with self.fake.lock:  # one request at a time, logged before it is answered
            try:
                self._inject_fault(method, raw_path, after=False)
                user = self._authenticate()
                reply = _Reply(201 if method == "POST" else 200, self._route(method, raw_path, query, payload, user))
                reply.headers = self._extra_headers
                self._inject_fault(method, raw_path, after=True)
            except _Reply as refused:
                reply = refused
            self.fake.requests.append((method, self.path, reply.status, self._auth_kind()))
        self._send(reply.status, reply.body, reply.headers)

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        if isinstance(body, bytes | str):
            data = body.encode() if isinstance(body, str) else body
            content_type = "text/plain; charset=utf-8"
        else:
            data = json.dumps(body).encode()
            content_type = "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _inject_fault(self, method: str, path: str, *, after: bool) -> None:
        for fault in self.fake.faults:
            if fault.after == after and fault.method == method and fault.path.search(path) and fault.remaining != 0:
                if fault.remaining is not None:
                    fault.remaining -= 1
                fault.hits += 1
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                messages = {401: "401 Unauthorized", 429: "Retry later", 500: "500 Internal Server Error"}
                raise _Reply(fault.status, {"message": messages.get(fault.status, str(fault.status))}, headers)

    def _auth_kind(self) -> str:
        if self.headers.get("PRIVATE-TOKEN") is not None:
            return "private"
        if self.headers.get("JOB-TOKEN") is not None:
            valid = self.headers.get("JOB-TOKEN") in self.fake.job_tokens
            return "job" if valid else "job (unknown)"
        return "none"

    def _authenticate(self) -> dict[str, Any]:
        token = self.headers.get("PRIVATE-TOKEN")
        if token is not None:
            user = self.fake.tokens.get(token)
            if user is None:
                raise _error(401, "401 Unauthorized")
            return user
        # A job token, even a valid one, is only honoured on GitLab's allowlisted endpoints (packages,
        # artifacts, releases, ...); none of these is one, so it counts as no authentication at all.
        raise _error(401, "401 Unauthorized")

    # --- routing -----------------------------------------------------------------------------------

    def _route(self, method: str, raw_path: str, query: dict[str, str], payload: bytes, user: dict[str, Any]) -> Any:
        path = raw_path.removeprefix("/api/v4")
        try:
            data: dict[str, Any] = json.loads(payload) if payload else {}
        except ValueError:
            raise _error(400, "400 Bad request - the body is not JSON") from None
        if method == "GET" and path == "/user":
            return {**user, "web_url": f"{self.fake.url}/{user['username']}"}
        match = re.fullmatch(r"/projects/([^/]+)/(.*)", path)
        if not match:
            raise _error(404, "404 Not Found")
        project = urllib.parse.unquote(match.group(1))
        rest = match.group(2)
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"merge_requests/(\d+)/notes", self._list_notes),
            ("POST", r"merge_requests/(\d+)/notes", self._create_note),
            ("PUT", r"merge_requests/(\d+)/notes/(\d+)", self._edit_note),
            ("GET", r"merge_requests/(\d+)/discussions", self._list_discussions),
            ("POST", r"merge_requests/(\d+)/discussions", self._create_discussion),
            ("GET", r"merge_requests/(\d+)/versions", self._list_versions),
            ("GET", r"merge_requests/(\d+)/versions/(\d+)", self._get_version),
            ("POST", r"statuses/([0-9a-f]+)", self._create_status),
            ("GET", r"repository/commits/([0-9a-f]+)/statuses", self._list_statuses),
            ("GET", r"repository/files/([^/]+)/raw", self._raw_file),
        ]
        for verb, pattern, handler in routes:
            found = re.fullmatch(pattern, rest)
            if verb == method and found:
                return handler(project, *found.groups(), query=query, data=data, user=user)
        raise _error(404, "404 Not Found")

    def _mr(self, project: str, iid: str) -> MergeRequest:
        mr = self.fake.merge_requests.get((project, int(iid)))
        if mr is None:
            raise _error(404, "404 Not found")
        return mr

    def _paginate(self, items: list[Any], query: dict[str, str]) -> list[Any]:
        per_page = min(max(int(query.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
        page = max(int(query.get("page", 1)), 1)
        total_pages = max(1, -(-len(items) // per_page))
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(total_pages),
            "X-Next-Page": str(page + 1) if page < total_pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        base = f"{self.fake.url}{urllib.parse.urlsplit(self.path).path}"

        def link(number: int, rel: str) -> str:
            params = {**query, "page": str(number), "per_page": str(per_page)}
            return f'<{base}?{urllib.parse.urlencode(params)}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < total_pages:
            links.append(link(page + 1, "next"))
        links += [link(1, "first"), link(total_pages, "last")]
        headers["Link"] = ", ".join(links)
        self._extra_headers = headers
        return items[(page - 1) * per_page : page * per_page]

    # --- notes -------------------------------------------------------------------------------------

    def _list_notes(self, project: str, iid: str, *, query: dict[str, str], **_: Any) -> list[dict[str, Any]]:
        notes = list(self._mr(project, iid).notes)
        order = query.get("order_by", "created_at")
        notes.sort(key=lambda note: (note[order], note["id"]), reverse=query.get("sort", "desc") == "desc")
        return self._paginate(notes, query)

    def _strip_quick_actions(self, body: str) -> str:
        kept = []
        for line in body.split("\n"):
            if _QUICK_ACTION.match(line):
                self.fake.quick_actions.append(line)
            else:
                kept.append(line)
        return "\n".join(kept)

    def _check_note(self, body: Any) -> str:
        if not isinstance(body, str) or not body.strip():
            raise _error(400, {"note": ["can't be blank"]})
        if len(body) > NOTE_LIMIT:
            raise _error(400, {"note": [f"is too long (maximum is {NOTE_LIMIT} characters)"]})
        return self._strip_quick_actions(body)

    def _create_note(self, project: str, iid: str, *, data: dict[str, Any], user: dict[str, Any], **_: Any) -> Any:
        mr = self._mr(project, iid)
        note = self.fake._note(self._check_note(data.get("body")), user)
        mr.notes.append(note)
        return note

    def _edit_note(
        self, project: str, iid: str, note_id: str, *, data: dict[str, Any], user: dict[str, Any], **_: Any
    ) -> Any:
        mr = self._mr(project, iid)
        note = next((n for n in mr.notes if n["id"] == int(note_id)), None)
        if note is None:
            raise _error(404, "404 Note Not Found")
        if note["author"]["id"] != user["id"]:
            raise _error(403, "403 Forbidden")
        note["body"] = self._check_note(data.get("body"))
        note["updated_at"] = _timestamp(self.fake.next_id())
        return note

    # --- diff versions and discussions ---------------------------------------------------------------

    def _list_versions(self, project: str, iid: str, *, query: dict[str, str], **_: Any) -> Any:
        versions = [{k: v for k, v in version.items() if k != "diffs"} for version in self._mr(project, iid).versions]
        return self._paginate(versions, query)

    def _get_version(self, project: str, iid: str, version_id: str, **_: Any) -> Any:
        for version in self._mr(project, iid).versions:
            if version["id"] == int(version_id):
                return {**version, "commits": []}
        raise _error(404, "404 Not found")

    def _list_discussions(self, project: str, iid: str, *, query: dict[str, str], **_: Any) -> Any:
        return self._paginate(list(self._mr(project, iid).discussions), query)

    def _create_discussion(
        self, project: str, iid: str, *, data: dict[str, Any], user: dict[str, Any], **_: Any
    ) -> Any:
        mr = self._mr(project, iid)
        body = self._check_note(data.get("body"))
        position = data.get("position")
        extra: dict[str, Any] = {"type": "DiscussionNote", "resolvable": True, "resolved": False}
        if position is not None:
            _validate_position(mr, position)
            extra = {"type": "DiffNote", "resolvable": True, "resolved": False, "position": position}
        discussion = {"id": f"{self.fake.next_id():040x}", "individual_note": False, "notes": []}
        discussion["notes"].append(self.fake._note(body, user, **extra))
        mr.discussions.append(discussion)
        return discussion

    # --- statuses ----------------------------------------------------------------------------------

    def _create_status(self, project: str, sha: str, *, data: dict[str, Any], user: dict[str, Any], **_: Any) -> Any:
        if sha not in self.fake.commits.get(project, set()):
            raise _error(404, "404 Commit Not Found")
        state = data.get("state")
        if state not in STATUS_STATES:
            raise _Reply(400, {"error": "state does not have a valid value"})
        for name in ("name", "description", "target_url", "ref"):
            value = data.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > STATUS_FIELD_LIMIT):
                raise _Reply(400, {"message": {name: [f"is too long (maximum is {STATUS_FIELD_LIMIT} characters)"]}})
        name = data.get("name") or data.get("context") or "default"
        ref = data.get("ref")
        current = next(
            (
                s
                for s in reversed(self.fake.statuses)
                if s["project"] == project
                and s["sha"] == sha
                and s["name"] == name
                and s["ref"] == ref
                and s["status"] in ("pending", "running")
            ),
            None,
        )
        if current is not None and current["status"] == state == "pending":
            raise _error(400, "Cannot transition status via :enqueue from :pending")
        status = current or {"id": self.fake.next_id(), "project": project, "sha": sha, "name": name, "ref": ref}
        status.update(
            status=state,
            description=data.get("description"),
            target_url=data.get("target_url"),
            author=user,
            created_at=status.get("created_at") or _timestamp(status["id"]),
        )
        if current is None:
            self.fake.statuses.append(status)
        return {k: v for k, v in status.items() if k != "project"}

    def _list_statuses(self, project: str, sha: str, *, query: dict[str, str], **_: Any) -> Any:
        statuses = [s for s in self.fake.statuses if s["project"] == project and s["sha"] == sha]
        if query.get("all") not in ("true", "1"):
            latest: dict[str, dict[str, Any]] = {}
            for status in statuses:
                latest[status["name"]] = status
            statuses = list(latest.values())
        return self._paginate([{k: v for k, v in s.items() if k != "project"} for s in statuses], query)

    # --- files -------------------------------------------------------------------------------------

    def _raw_file(self, project: str, encoded: str, *, query: dict[str, str], **_: Any) -> Any:
        reader = self.fake.files.get(project)
        ref = query.get("ref", "")
        content = reader(ref, urllib.parse.unquote(encoded)) if reader and ref else None
        if content is None:
            raise _error(404, "404 File Not Found")
        return content


def diff_lines(diff: str) -> tuple[set[int], set[int], set[tuple[int, int]]]:
    """(added new lines, removed old lines, (old, new) pairs of unchanged lines) of unified hunks."""
    added: set[int] = set()
    removed: set[int] = set()
    context: set[tuple[int, int]] = set()
    old = new = 0
    for line in diff.splitlines():
        hunk = _HUNK.match(line)
        if hunk:
            old, new = int(hunk.group(1)), int(hunk.group(2))
        elif line.startswith("+"):
            added.add(new)
            new += 1
        elif line.startswith("-"):
            removed.add(old)
            old += 1
        elif line.startswith(" "):
            context.add((old, new))
            old += 1
            new += 1
    return added, removed, context


def _validate_position(mr: MergeRequest, position: dict[str, Any]) -> None:
    invalid = _error(400, 'Note {:line_code=>["can\'t be blank", "must be a valid line code"]}')
    if position.get("position_type") != "text":
        raise _error(400, "position_type is not text")
    version = next(
        (
            v
            for v in mr.versions
            if (v["base_commit_sha"], v["start_commit_sha"], v["head_commit_sha"])
            == (position.get("base_sha"), position.get("start_sha"), position.get("head_sha"))
        ),
        None,
    )
    if version is None:
        raise invalid
    entry = next(
        (
            d
            for d in version["diffs"]
            if (d["old_path"], d["new_path"]) == (position.get("old_path"), position.get("new_path"))
        ),
        None,
    )
    if entry is None:
        raise invalid
    added, removed, context = diff_lines(entry["diff"])
    old_line, new_line = position.get("old_line"), position.get("new_line")
    if new_line is not None and old_line is None and new_line in added:
        return
    if old_line is not None and new_line is None and old_line in removed:
        return
    if old_line is not None and new_line is not None and (old_line, new_line) in context:
        return
    raise invalid


def version_diffs(repo: Path, base: str, head: str) -> list[dict[str, Any]]:
    """The `diffs` of a merge request version between two commits of a real repository, as GitLab
    returns them: per file, the unified hunks without the `diff --git`/`---`/`+++` header lines."""
    names = subprocess.run(
        ["git", "diff", "--name-status", "--no-renames", "-z", base, head],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    entries = []
    for status, path in zip(names[0::2], names[1::2], strict=False):
        if not path:
            continue
        text = subprocess.run(
            ["git", "diff", "--no-renames", "-U3", base, head, "--", path],
            cwd=repo,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        hunks = text[text.index("@@") :] if "@@" in text else ""
        entries.append(
            {
                "old_path": path,
                "new_path": path,
                "a_mode": "0" if status == "A" else "100644",
                "b_mode": "0" if status == "D" else "100644",
                "diff": hunks,
                "new_file": status == "A",
                "renamed_file": False,
                "deleted_file": status == "D",
            }
        )
    return entries


def git_file_reader(repo: Path) -> FileReader:
    """Files at a commit of a real repository (what `GET /repository/files/:path/raw?ref=` serves)."""

    def read(ref: str, path: str) -> str | None:
        result = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=repo, capture_output=True, text=True)
        return result.stdout if result.returncode == 0 else None

    return read


@contextmanager
def fake_gitlab(*, tokens: dict[str, dict[str, Any]], job_tokens: tuple[str, ...] = ()) -> Iterator[FakeGitlab]:
    """A running fake; stopped on exit."""
    fake = FakeGitlab(tokens=tokens, job_tokens=job_tokens)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
