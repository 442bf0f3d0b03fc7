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
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_ONE_REVIEW = False  # set by tune_collector: this process runs one review, then exits
GC_THRESHOLD = 50_000  # collections of the youngest generation, every this many allocations (default: 700)


def tune_collector() -> None:
    """The modules imported so far moved out of the collector's sight (gc.freeze), and collections far
    rarer; cycles are still collected. Called once by the command (and by the engine benchmark, which
    measures what the command runs)."""
    global _ONE_REVIEW
    _ONE_REVIEW = True
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


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
