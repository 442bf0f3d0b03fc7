"""The cyclic collector paused around the diff, the rules and the cache lookups: state restored, never
switched on by us."""

from __future__ import annotations

import gc

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
