"""Readers-writer locks per directory (rendering.dirlocks): what lets renders share bases yet never see
another render's kustomize edits."""

from __future__ import annotations

import threading
from pathlib import Path

from reviewer.rendering.dirlocks import DirectoryLocks

A, B = Path("/t/a"), Path("/t/b")


def _started(target: object) -> tuple[threading.Thread, threading.Event]:
    done = threading.Event()

    def run() -> None:
        target()  # type: ignore[operator]
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done


def test_readers_share_a_directory() -> None:
    locks = DirectoryLocks()
    with locks.hold(write=[], read=[A]):
        _, done = _started(lambda: locks.hold(write=[B], read=[A]).__enter__())
        assert done.wait(5), "a second reader of A waited for the first"


def test_a_writer_waits_for_readers_and_readers_wait_for_the_writer() -> None:
    locks = DirectoryLocks()
    order: list[str] = []
    reading = locks.reading(A)
    reading.__enter__()

    def write() -> None:
        with locks.hold(write=[A], read=[]):
            order.append("write")

    _, wrote = _started(write)
    assert not wrote.wait(0.2), "the writer did not wait for the reader"
    order.append("read done")
    reading.__exit__(None, None, None)
    assert wrote.wait(5)
    assert order == ["read done", "write"]

    with locks.hold(write=[A], read=[]):
        _, read = _started(lambda: locks.reading(A).__enter__())
        assert not read.wait(0.2), "a reader got in while A was being written"
    assert read.wait(5)


def test_the_writer_may_read_its_own_directory() -> None:
    locks = DirectoryLocks()
    with locks.hold(write=[A], read=[B]), locks.reading(A), locks.hold(write=[A], read=[]):
        pass
    # Released for others afterwards.
    _, done = _started(lambda: locks.hold(write=[A, B], read=[]).__enter__())
    assert done.wait(5)


def test_two_renders_each_writing_what_the_other_reads_do_not_deadlock() -> None:
    locks = DirectoryLocks()
    finished = []

    def render(write: Path, read: Path) -> None:
        for _ in range(200):
            with locks.hold(write=[write], read=[read]):
                pass
        finished.append(write)

    threads = [threading.Thread(target=render, args=args, daemon=True) for args in ((A, B), (B, A))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(finished) == [A, B]
