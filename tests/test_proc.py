from __future__ import annotations

import time
from pathlib import Path

import pytest

from reviewer import proc
from reviewer.errors import ToolError


def test_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    out = proc.run(["env"]).stdout
    assert "ghp_secret" not in out and "aws-secret" not in out
    assert "PATH=" in out


def test_bad_exit_code_carries_command_code_and_stderr() -> None:
    with pytest.raises(ToolError) as info:
        proc.run(["sh", "-c", "echo oops >&2; exit 3"])
    assert info.value.returncode == 3
    assert info.value.stderr == "oops"
    assert info.value.command == "sh -c 'echo oops >&2; exit 3'"


def test_allowed_exit_codes() -> None:
    assert proc.run(["sh", "-c", "exit 1"], allowed=(0, 1)).returncode == 1


def test_missing_tool_is_a_sentence() -> None:
    with pytest.raises(ToolError, match="is not installed"):
        proc.run(["definitely-not-a-tool-here"])


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"timed out after 0\.5 s"):
        proc.run(["sh", "-c", f"sleep 30 & echo $! > {pid_file}; wait"], timeout=0.5)
    assert time.monotonic() - started < 10
    grandchild = int(pid_file.read_text())
    time.sleep(0.2)
    status = Path(f"/proc/{grandchild}/status")
    # Gone, or a zombie waiting for its reaper: either way no longer running.
    assert not status.exists() or "State:\tZ" in status.read_text()


def test_long_stderr_is_trimmed_in_the_middle() -> None:
    text = "start " + "x" * 10_000 + " end"
    trimmed = proc.trim(text, 100)
    assert trimmed.startswith("start") and trimmed.endswith("end")
    assert "characters cut" in trimmed
