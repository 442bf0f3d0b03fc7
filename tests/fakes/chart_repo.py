"""A Helm chart repository on 127.0.0.1: `index.yaml` plus packaged charts, with a request log.

Charts are packaged with the Helm SDK (`helm package`) and indexed with `helm repo index`, so the
repository is what a real one serves. Every request is recorded, so a test can tell whether a render
reached the repository at all.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import helm_python


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, repo: ChartRepo, **kwargs: Any) -> None:
        self.repo = repo  # set first: the base class serves the request from __init__
        super().__init__(*args, directory=str(repo.directory), **kwargs)

    def do_GET(self) -> None:
        with self.repo.lock:
            self.repo.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


class ChartRepo:
    """Serves the files of `directory`; `url` is `http://127.0.0.1:<port>`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.requests: list[str] = []
        self.lock = threading.Lock()
        handler = functools.partial(_Handler, repo=self)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def publish(self, chart_dir: Path) -> Path:
        """Package `chart_dir` into the repository and regenerate its index; returns the archive."""
        archive = Path(helm_python.package(chart_dir, destination=self.directory))
        helm_python.repo_index_generate(self.directory, base_url=self.url)
        return archive

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def chart_repo(directory: Path) -> Iterator[ChartRepo]:
    """A running repository serving `directory` (created if missing); stopped on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    repo = ChartRepo(directory)
    repo.start()
    try:
        yield repo
    finally:
        repo.stop()
