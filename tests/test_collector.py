"""The cyclic collector paused around the diff, the rules and the cache lookups: state restored, never
switched on by us."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from reviewer import collector
from reviewer.collector import collector_paused


def test_the_collector_is_paused_inside_and_running_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_runs_again_after_an_error() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_is_alive_after_a_frozen_pause_is_out_of_the_collectors_sight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "_ONE_REVIEW", True)  # as the command sets it up (tune_collector)
    before = gc.get_freeze_count()
    try:
        with collector_paused(freeze=True):
            kept = [[n] for n in range(1000)]  # lists: always tracked (a dict of scalars may not be)
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(kept)
    finally:
        gc.unfreeze()


def test_a_process_that_runs_review_after_review_never_freezes() -> None:
    """Frozen objects are never collected: a cycle made through one later would stay for good."""
    assert not collector._ONE_REVIEW, "the test process was not set up as the command"

    class Holder:
        partner: object = None

    before = gc.get_freeze_count()
    with collector_paused(freeze=True):
        first, second = Holder(), Holder()
    assert gc.get_freeze_count() == before
    first.partner, second.partner = second, first  # a cycle, then garbage
    del first, second
    gc.collect()
    assert not [o for o in gc.get_objects() if type(o).__name__ == "Holder"], "the cycle was collected"


def test_what_a_review_keeps_is_freed_as_usual_outside_the_command() -> None:
    class Render:
        pass

    render = Render()
    alive = weakref.ref(render)
    collector.keep_until_exit(render)
    del render
    assert alive() is None


def test_the_command_keeps_what_a_review_made_until_it_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    class Render:
        pass

    monkeypatch.setattr(collector, "_ONE_REVIEW", True)
    monkeypatch.setattr(collector, "_KEPT", [])
    render = Render()
    alive = weakref.ref(render)
    collector.keep_until_exit(render)
    del render
    assert alive() is not None


def _exit_in_child(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = "import atexit, pathlib, sys, threading, time\nfrom reviewer.collector import exit_now\n" + body
    return subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("code", "status"), [("None", 0), ("0", 0), ("1", 1), ("3", 3)])
def test_exit_now_flushes_the_output_runs_the_exit_functions_and_keeps_the_status(
    tmp_path: Path, code: str, status: int
) -> None:
    done = _exit_in_child(
        "atexit.register(lambda: pathlib.Path(sys.argv[1], 'exit-function-ran').touch())\n"
        "atexit.register(lambda: print('from an exit function', file=sys.stderr))\n"
        "sys.stdout.write('x' * 100_000)  # buffered: a pipe is no terminal\n"
        f"exit_now({code})\n"
        "print('never')\n",
        tmp_path,
    )
    assert done.returncode == status
    assert done.stdout == "x" * 100_000
    assert done.stderr == "from an exit function\n"
    assert (tmp_path / "exit-function-ran").exists()


def test_exit_now_waits_for_a_thread_that_still_runs(tmp_path: Path) -> None:
    """Another thread (not a daemon) still working: the ordinary exit, which lets it finish."""
    done = _exit_in_child(
        "def work():\n"
        "    time.sleep(0.3)\n"
        "    pathlib.Path(sys.argv[1], 'finished').touch()\n"
        "threading.Thread(target=work).start()\n"
        "exit_now(2)\n",
        tmp_path,
    )
    assert done.returncode == 2
    assert (tmp_path / "finished").exists()


def test_the_command_removes_the_tools_private_home_when_it_exits(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom reviewer import proc\nfrom reviewer.cli import main\n"
            "print(proc.private_home(), file=sys.stderr)\nsys.argv = ['gitops-reviewer', 'rules']\nmain()\n",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "immutable-field" in done.stdout
    home = Path(done.stderr.splitlines()[0])
    assert home.name.startswith("gitops-reviewer-home-") and not home.exists()


def test_the_command_ends_without_the_interpreters_teardown(tmp_path: Path) -> None:
    """What is still alive when a command ends is not freed object by object: the command's exit is
    `exit_now`'s (an object's finaliser would run in a teardown, and does not), with the command's status."""
    script = (
        "import sys\n"
        "class Finalised:\n"
        "    def __del__(self):\n"
        "        sys.stderr.write('torn down\\n')\n"
        "alive = Finalised()\n"
        "from reviewer.cli import main\n"
        "sys.argv = ['gitops-reviewer', 'rules']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "immutable-field" in done.stdout and "torn down" not in done.stderr
    ordinary = subprocess.run(
        [sys.executable, "-c", script.replace("main()\n", "sys.exit(0)\n")], capture_output=True, text=True, timeout=60
    )
    assert "torn down" in ordinary.stderr, "the finaliser runs in an ordinary exit: the test can tell them apart"
