"""A fake GitHub REST API on 127.0.0.1, for PyGithub pointed at it through `base_url`.

It serves what the GitHub publisher uses, with GitHub's documented behaviour where a client could get
it wrong:

- authentication: `Authorization: token X` / `Bearer X` must carry the token, else 401 "Bad credentials";
- `GET /user` answers 403 "Resource not accessible by integration" for an installation token (what
  `GITHUB_TOKEN` is), the user otherwise;
- issue comments: listing paginated with `per_page` (default 30, at most 100) and `page`, and `Link`
  headers (`rel="next"`, `rel="last"`); a body over 65,536 characters gets 422 "Body is too long";
- check runs: `output.summary` / `output.text` over 65,535 characters and more than 50 annotations in
  one request get 422; annotations of an update are appended; levels and required fields are checked;
- commit statuses: states `error`, `failure`, `pending`, `success`; a description over 140 characters
  gets 422;
- `GET /repos/{repo}/commits/{sha}/pulls`: the open pull requests whose head is `sha`.

Faults: `read_only` (every write gets 403, as a fork PR's token does), `forbidden` (403 on the writes
of one kind: "comments", "checks", "statuses"), and `inject()` for one-off answers (429 with
Retry-After, 500, 403) on matching requests. Every request is recorded.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

COMMENT_MAX = 65_536
CHECK_OUTPUT_MAX = 65_535
ANNOTATIONS_MAX = 50
STATUS_DESCRIPTION_MAX = 140
NOT_ACCESSIBLE = "Resource not accessible by integration"
CONCLUSIONS = {"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}
LEVELS = {"notice", "warning", "failure"}
STATES = {"error", "failure", "pending", "success"}


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    message: str


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class PullRequest:
    number: int
    head_sha: str
    state: str = "open"


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _invalid(resource: str, field_name: str, message: str) -> _Reply:
    errors = [{"resource": resource, "code": "custom", "field": field_name, "message": message}]
    return _Reply(422, {"message": "Validation Failed", "errors": errors})


@dataclass
class FakeGithub:
    """The fake API for one repository; `url` is the `base_url` to give PyGithub."""

    repository: str = "acme/gitops-config"
    token: str = "ghs_fake_installation_token"
    login: str = "github-actions[bot]"
    user_type: str = "Bot"
    installation_token: bool = True  # GET /user -> 403, as for GITHUB_TOKEN
    prefix: str = ""  # "/api/v3" for a GitHub Enterprise Server layout
    read_only: bool = False
    forbidden: set[str] = field(default_factory=set)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    comment_issue: dict[int, int] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    annotations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    pulls: list[PullRequest] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1000

    def __post_init__(self) -> None:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_PATCH(self) -> None:
                fake._handle(self, "PATCH")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # --- test API -----------------------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def url(self) -> str:
        return self.origin + self.prefix

    def start(self) -> FakeGithub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str = "injected fault",
    ) -> None:
        """Answer the next `times` requests whose method matches and whose path matches the regex `path`
        with `status` (and `headers`) instead of serving them."""
        with self.lock:
            self.faults.append(Fault(method, re.compile(path), status, times, headers or {}, message))

    def add_comment(self, issue: int, body: str, login: str = "someone", user_type: str = "User") -> int:
        with self.lock:
            return self._store_comment(issue, body, login, user_type)

    def issue_comments(self, issue: int) -> list[dict[str, Any]]:
        with self.lock:
            return [c for cid, c in sorted(self.comments.items()) if self.comment_issue[cid] == issue]

    def count(self, method: str, path_regex: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.method == method and re.search(path_regex, r.path))

    # --- serving ------------------------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _store_comment(self, issue: int, body: str, login: str, user_type: str) -> int:
        cid = self._new_id()
        self.comment_issue[cid] = issue
        self.comments[cid] = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "url": f"{self.url}/repos/{self.repository}/issues/comments/{cid}",
            "html_url": f"https://github.com/{self.repository}/pull/{issue}#issuecomment-{cid}",
            "issue_url": f"{self.url}/repos/{self.repository}/issues/{issue}",
            "body": body,
            "user": {"login": login, "id": abs(hash(login)) % 10**8, "type": user_type},
            "created_at": "2026-01-05T10:00:00Z",
            "updated_at": "2026-01-05T10:00:00Z",
            "author_association": "NONE",
        }
        return cid

    def _handle(self, handler: http.server.BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self.lock:
            self.requests.append(Recorded(method, parsed.path, query, body))
            try:
                reply = self._serve(handler, method, parsed.path, query, body)
            except _Reply as exc:
                reply = exc
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        handler.send_response(reply.status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _serve(
        self, handler: http.server.BaseHTTPRequestHandler, method: str, path: str, query: dict[str, str], body: Any
    ) -> _Reply:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and fault.path.search(path):
                fault.times -= 1
                raise _Reply(fault.status, {"message": fault.message}, dict(fault.headers))
        auth = handler.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() not in ("token", "bearer") or value != self.token:
            raise _Reply(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        if not path.startswith(self.prefix):
            raise _Reply(404, {"message": "Not Found"})
        path = path[len(self.prefix) :]
        if path == "/user" and method == "GET":
            if self.installation_token:
                raise _Reply(403, {"message": NOT_ACCESSIBLE})
            return _Reply(200, {"login": self.login, "id": 1, "type": self.user_type})
        repo = f"/repos/{self.repository}"
        if not path.startswith(repo + "/"):
            raise _Reply(404, {"message": "Not Found"})
        rest = path[len(repo) :]
        routes = (
            (r"/issues/(\d+)/comments", self._issue_comments),
            (r"/issues/comments/(\d+)", self._comment),
            (r"/check-runs", self._create_check_run),
            (r"/check-runs/(\d+)", self._update_check_run),
            (r"/statuses/([0-9a-f]{40})", self._create_status),
            (r"/commits/([0-9a-f]{40})/pulls", self._commit_pulls),
        )
        for pattern, route in routes:
            match = re.fullmatch(pattern, rest)
            if match:
                return route(method, path, query, body, *match.groups())
        raise _Reply(404, {"message": "Not Found"})

    def _write(self, kind: str) -> None:
        if self.read_only or kind in self.forbidden:
            raise _Reply(403, {"message": NOT_ACCESSIBLE})

    def _comment_body(self, body: Any) -> str:
        """The body of a comment write, checked as GitHub checks it."""
        self._write("comments")
        text = (body or {}).get("body")
        if not isinstance(text, str):
            raise _invalid("IssueComment", "body", "body wasn't supplied")
        if len(text) > COMMENT_MAX:
            raise _invalid("IssueComment", "data", f"Body is too long (maximum is {COMMENT_MAX} characters)")
        return text

    def _issue_comments(self, method: str, path: str, query: dict[str, str], body: Any, issue: str) -> _Reply:
        number = int(issue)
        if method == "GET":
            per_page = min(int(query.get("per_page", 30)), 100)
            page = int(query.get("page", 1))
            items = [c for cid, c in sorted(self.comments.items()) if self.comment_issue[cid] == number]
            last = max(1, -(-len(items) // per_page))
            links = []
            if page < last:
                links.append(f'<{self.origin}{path}?per_page={per_page}&page={page + 1}>; rel="next"')
                links.append(f'<{self.origin}{path}?per_page={per_page}&page={last}>; rel="last"')
            headers = {"Link": ", ".join(links)} if links else {}
            return _Reply(200, items[(page - 1) * per_page : page * per_page], headers)
        if method == "POST":
            text = self._comment_body(body)
            cid = self._store_comment(number, text, self.login, self.user_type)
            return _Reply(201, self.comments[cid])
        raise _Reply(404, {"message": "Not Found"})

    def _comment(self, method: str, path: str, query: dict[str, str], body: Any, comment_id: str) -> _Reply:
        cid = int(comment_id)
        if cid not in self.comments:
            raise _Reply(404, {"message": "Not Found"})
        if method == "PATCH":
            text = self._comment_body(body)
            self.comments[cid] = {**self.comments[cid], "body": text, "updated_at": "2026-01-05T11:00:00Z"}
            return _Reply(200, self.comments[cid])
        if method == "DELETE":
            self._write("comments")
            del self.comments[cid]
            del self.comment_issue[cid]
            return _Reply(204)
        if method == "GET":
            return _Reply(200, self.comments[cid])
        raise _Reply(404, {"message": "Not Found"})

    def _check_output(self, output: Any) -> list[dict[str, Any]]:
        if output is None:
            return []
        if not isinstance(output, dict) or not isinstance(output.get("title"), str):
            raise _invalid("CheckRun", "output.title", "title is missing")
        if not isinstance(output.get("summary"), str):
            raise _invalid("CheckRun", "output.summary", "summary is missing")
        for name in ("summary", "text"):
            if len(output.get(name) or "") > CHECK_OUTPUT_MAX:
                raise _invalid("CheckRun", f"output.{name}", f"is too long (maximum is {CHECK_OUTPUT_MAX} characters)")
        annotations = output.get("annotations") or []
        if len(annotations) > ANNOTATIONS_MAX:
            raise _Reply(422, {"message": f"Only {ANNOTATIONS_MAX} annotations are allowed per request"})
        for annotation in annotations:
            missing = [
                k for k in ("path", "start_line", "end_line", "annotation_level", "message") if k not in annotation
            ]
            if missing or annotation["annotation_level"] not in LEVELS:
                raise _invalid("CheckRun", "output.annotations", f"invalid annotation {annotation!r}")
            if len(annotation.get("title") or "") > 255:
                raise _invalid("CheckRun", "output.annotations.title", "is too long (maximum is 255 characters)")
        return list(annotations)

    def _run_json(self, run_id: int) -> dict[str, Any]:
        run = self.check_runs[run_id]
        return {
            **run,
            "output": {**run["output"], "annotations_count": len(self.annotations[run_id])},
        }

    def _create_check_run(self, method: str, path: str, query: dict[str, str], body: Any) -> _Reply:
        if method != "POST":
            raise _Reply(404, {"message": "Not Found"})
        self._write("checks")
        body = body or {}
        if not isinstance(body.get("name"), str) or not re.fullmatch(r"[0-9a-f]{40}", str(body.get("head_sha"))):
            raise _invalid("CheckRun", "head_sha", "name and head_sha are required")
        conclusion = body.get("conclusion")
        if conclusion is not None and conclusion not in CONCLUSIONS:
            raise _invalid("CheckRun", "conclusion", f"{conclusion!r} is not a conclusion")
        annotations = self._check_output(body.get("output"))
        run_id = self._new_id()
        output = {k: v for k, v in (body.get("output") or {}).items() if k != "annotations"}
        self.check_runs[run_id] = {
            "id": run_id,
            "name": body["name"],
            "head_sha": body["head_sha"],
            "status": "completed" if conclusion else body.get("status", "queued"),
            "conclusion": conclusion,
            "details_url": body.get("details_url"),
            "url": f"{self.url}/repos/{self.repository}/check-runs/{run_id}",
            "html_url": f"https://github.com/{self.repository}/runs/{run_id}",
            "output": output,
            "completed_at": body.get("completed_at"),
        }
        self.annotations[run_id] = annotations
        return _Reply(201, self._run_json(run_id))

    def _update_check_run(self, method: str, path: str, query: dict[str, str], body: Any, run_id: str) -> _Reply:
        rid = int(run_id)
        if method != "PATCH" or rid not in self.check_runs:
            raise _Reply(404, {"message": "Not Found"})
        self._write("checks")
        body = body or {}
        annotations = self._check_output(body.get("output"))
        run = self.check_runs[rid]
        for key in ("status", "conclusion", "details_url", "completed_at", "name"):
            if key in body:
                run[key] = body[key]
        if body.get("output"):
            run["output"] = {**run["output"], **{k: v for k, v in body["output"].items() if k != "annotations"}}
        self.annotations[rid].extend(annotations)  # GitHub appends the annotations of an update
        return _Reply(200, self._run_json(rid))

    def _create_status(self, method: str, path: str, query: dict[str, str], body: Any, sha: str) -> _Reply:
        if method != "POST":
            raise _Reply(404, {"message": "Not Found"})
        self._write("statuses")
        body = body or {}
        if body.get("state") not in STATES:
            raise _invalid("Status", "state", f"{body.get('state')!r} is not a state")
        if len(body.get("description") or "") > STATUS_DESCRIPTION_MAX:
            raise _invalid("Status", "description", "is too long (maximum is 140 characters)")
        status = {
            "id": self._new_id(),
            "sha": sha,
            "state": body["state"],
            "description": body.get("description"),
            "context": body.get("context", "default"),
            "target_url": body.get("target_url"),
            "url": f"{self.url}/repos/{self.repository}/statuses/{sha}",
        }
        self.statuses.append(status)
        return _Reply(201, status)

    def _commit_pulls(self, method: str, path: str, query: dict[str, str], body: Any, sha: str) -> _Reply:
        if method != "GET":
            raise _Reply(404, {"message": "Not Found"})
        pulls = [
            {
                "number": p.number,
                "state": p.state,
                "url": f"{self.url}/repos/{self.repository}/pulls/{p.number}",
                "head": {"sha": p.head_sha, "ref": "feature"},
            }
            for p in self.pulls
            if p.head_sha == sha
        ]
        return _Reply(200, pulls)


@contextmanager
def fake_github(**kwargs: Any) -> Iterator[FakeGithub]:
    """A started fake, stopped at the end of the block."""
    fake = FakeGithub(**kwargs).start()
    try:
        yield fake
    finally:
        fake.stop()
