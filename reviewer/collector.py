"""How a review sets up Python's cyclic garbage collector.

A review allocates millions of small objects (parsed manifests, cache entries, records, the diff's
index) that hold no reference cycles and mostly live until it ends. Counted as allocations, they set
off collections that walk every object allocated since the last one (hundreds of thousands after a
large render, all alive) and free nothing: up to a third of a warm review's time with the default
threshold, and the largest source of spread between two runs of the diff. So the command raises the
threshold once (`tune_collector`), and the stages that make no cycles run with it paused
(`collector_paused`): their temporary objects are freed by reference counting before the collector
ever counts them, and a cycle made meanwhile (by a crashing rule's traceback, say) is collected once
it runs again.

The same holds at the end: freeing those objects one by one when the review returns, and again when the
interpreter tears itself down, takes longer than writing the report. So the command keeps what the
review made until the process ends (`keep_until_exit`), and ends without a teardown (`exit_now`): the
operating system takes the whole heap back at once.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

_ONE_REVIEW = False  # set by tune_collector: this process runs one review, then exits
GC_THRESHOLD = 50_000  # collections of the youngest generation, every this many allocations (default: 700)
_KEPT: list[object] = []  # keep_until_exit's objects


def tune_collector() -> None:
    """The modules imported so far moved out of the collector's sight (gc.freeze), and collections far
    rarer; cycles are still collected. Called once by the command (and by the engine benchmark, which
    measures what the command runs)."""
    global _ONE_REVIEW
    _ONE_REVIEW = True
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def reviews_many() -> None:
    """This process runs review after review (the LLM benchmark command), unlike the others the command
    sets up: what each review makes is neither frozen out of the collector's sight nor kept until the
    process exits (collector_paused, keep_until_exit), so it is freed once that review is done."""
    global _ONE_REVIEW
    _ONE_REVIEW = False


@contextmanager
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """No cyclic collection inside the block; the collector's state is as it was after it (a caller
    that paused it already keeps it paused). With `freeze`, in a process set up by `tune_collector`
    (which runs one review, then exits), what is alive when the block ends is moved out of the
    collector's sight too: for objects that live until the review ends, such as the records decoded
    from the render cache, which every later collection would otherwise walk again. A process that runs
    review after review (tests, the LLM benchmark, a library caller) never freezes: a cycle through a
    frozen object is never collected, so each review's would stay for good."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if freeze and _ONE_REVIEW:
            gc.freeze()
        gc.enable()


def keep_until_exit(*objects: object) -> None:
    """In a process set up by `tune_collector`, `objects` stay alive until it ends (`exit_now` never
    frees them); anywhere else this does nothing, and they are freed as usual."""
    if _ONE_REVIEW:
        _KEPT.append(objects)


def exit_now(code: int | None) -> NoReturn:
    """End the process as `sys.exit(code)` would, without the interpreter's teardown (which frees every
    object left): the standard streams are flushed and the exit functions run first (the private home
    of the tools is removed, reviewer.proc). While another thread that is not a daemon still runs, or
    when a stream cannot be flushed (a closed pipe), it is the ordinary exit, which waits for that
    thread and reports the stream as it always does."""
    others = [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    if others or not _flushed():
        sys.exit(code)
    atexit._run_exitfuncs()
    if not _flushed():  # an exit function wrote to a stream that is gone: as the ordinary exit ends
        os._exit(120)
    os._exit(code or 0)


def _flushed() -> bool:
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a closed pipe, a closed stream
        return False
    return True
