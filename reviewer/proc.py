"""The one door to subprocesses: timeout, scrubbed environment, allowed exit codes, uniform errors.

Renders run code paths of third-party tools on attacker-controlled input (a PR), so the child
gets only the environment it needs: no tokens, no cloud credentials, no proxies to internal hosts.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import functools
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import ToolError

DEFAULT_TIMEOUT = 120.0
STDERR_LIMIT = 4000

# Variables a tool may legitimately need. Everything else (GITHUB_TOKEN, AWS_*, OPENAI_API_KEY, ...)
# is dropped.
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished command: its arguments, exit code and output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@functools.cache
def private_home() -> str:
    """An empty HOME of this process's own: tools must not read a shared ~/.gitconfig or helm config
    (on a shared runner /tmp/.gitconfig is anyone's to write)."""
    home = tempfile.mkdtemp(prefix="gitops-reviewer-home-")
    atexit.register(shutil.rmtree, home, True)
    return home


def scrubbed_env(extra: Mapping[str, str] | None = None, *, home: str | None = None) -> dict[str, str]:
    """The environment a tool runs with: a short allowlist, a private HOME, plus `extra`."""
    env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    env["HOME"] = home or private_home()
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    if extra:
        env.update(extra)
    return env


T = TypeVar("T")
# In-process engines (Helm's Go engine, go-jsonnet) run here, so a caller can stop waiting. A Go call
# cannot be interrupted: on a timeout the thread finishes in the background and the render is failed.
_IN_PROCESS = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="in-process-tool")


def call_with_timeout(func: Callable[[], T], *, timeout: float, what: str) -> T:
    """Run an in-process tool call with a time limit; ToolError when it is exceeded."""
    future = _IN_PROCESS.submit(func)
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise ToolError(f"{what} timed out after {timeout:g} s", command=what) from None


def trim(text: str, limit: int = STDERR_LIMIT) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... ({len(text) - limit} characters cut) ...\n{text[-half:]}"


def describe(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def run(
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    allowed: Sequence[int] = (0,),
    input: bytes | None = None,
) -> Completed:
    """Run `argv` and return its output; raise ToolError on timeout, a missing tool or a bad exit code."""
    command = describe(argv)
    try:
        # A session of its own, so a timeout kills the whole process group (kustomize's git, helm's plugins).
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else scrubbed_env(),
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise ToolError(f"`{argv[0]}` is not installed or not on PATH", command=command) from None
    except OSError as exc:
        raise ToolError(f"`{argv[0]}` could not be started: {exc}", command=command) from None
    try:
        out, err = child.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        _, err = child.communicate()
        raise ToolError(
            f"`{argv[0]}` timed out after {timeout:g} s",
            command=command,
            stderr=trim((err or b"").decode("utf-8", "replace")),
        ) from None
    proc = subprocess.CompletedProcess(list(argv), child.returncode, out, err)
    stdout = proc.stdout.decode("utf-8", "replace")
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode not in allowed:
        raise ToolError(
            f"`{argv[0]}` exited with code {proc.returncode}",
            command=command,
            exit_code=proc.returncode,
            stderr=trim(stderr),
        )
    return Completed(tuple(argv), proc.returncode, stdout, stderr)
