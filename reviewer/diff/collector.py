"""The cyclic garbage collector held off while a stage that makes no reference cycles runs.

The diff and the rules allocate one object or more for each resource of both revisions (the index's
key tuples, the pairs, the changes), most of them freed again when the stage ends. Counted as
allocations, they set off collections of the young generations in the middle of the stage; a
collection walks every object allocated since the last one (after a large render, hundreds of
thousands, which it cannot free since they are alive) and reclaims nothing the stage made, since the
stage makes no cycles. Paused, the stage's temporary objects are freed by reference counting before
the collector ever counts them; what outlives the stage is counted as usual once it has been resumed,
and a cycle made meanwhile (by a crashing rule's traceback, say) is collected then.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector's state is as it was after it (a caller
    that paused it already keeps it paused)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
