"""The cyclic collector paused around the diff, the rules and the cache lookups: state restored, never
switched on by us."""

from __future__ import annotations

import gc

import pytest

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


def test_what_is_alive_after_a_frozen_pause_is_out_of_the_collectors_sight() -> None:
    before = gc.get_freeze_count()
    try:
        with collector_paused(freeze=True):
            kept = [[n] for n in range(1000)]  # lists: always tracked (a dict of scalars may not be)
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(kept)
    finally:
        gc.unfreeze()
