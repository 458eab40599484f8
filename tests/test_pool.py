"""The worker pool itself (materials/pool.py), with trivial work instead of
rendering: how it shares tasks out, and that large messages never leave the
parent and a worker waiting on each other. Deaths of workers during real
builds are tested in test_failures.py."""

from __future__ import annotations

import os
import signal
import time

import pytest

from materials.pool import ProcessPool


@pytest.fixture
def no_hang():
    def hung(signum, frame):
        raise AssertionError("the pool waited for ever")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def nothing() -> None:
    pass


def slow_work(unit, context):
    """Each item: (the process that made it, the item), after `context` seconds."""
    for item in unit:
        time.sleep(context)
        yield os.getpid(), item


def test_a_worker_with_nothing_left_takes_the_unsent_end_of_another_task(no_hang):
    # One task of eight units and one of a single unit: the worker that gets
    # the short one has nothing left after it and takes units from the long one.
    pool = ProcessPool(2, nothing, slow_work)
    pool.start()
    try:
        results = list(pool.run([tuple((number,) for number in range(8)), (("short",),)], 0.05, lost=None))
    finally:
        pool.close()
    assert sorted(str(item) for _, item in results) == sorted([*map(str, range(8)), "short"])
    by_worker: dict[int, list] = {}
    for pid, item in results:
        by_worker.setdefault(pid, []).append(item)
    assert len(by_worker) == 2
    [short_worker] = [pid for pid, items in by_worker.items() if "short" in items]
    taken = [item for item in by_worker[short_worker] if item != "short"]
    # It took from the end, and about half of what was left: the two finish together.
    assert taken and taken == sorted(taken) and taken[-1] == 7, by_worker
    assert 2 <= len(taken) <= 5, by_worker


def echo_sizes(unit, context):
    for item in unit:
        yield len(context), bytes(item)


def test_large_contexts_and_results_do_not_deadlock(no_hang):
    # A 4 MB context (as watch sends its source) and 1 MB results, many units
    # sent ahead: neither side may block writing while the other does too.
    context = b"x" * 4_000_000
    pool = ProcessPool(2, nothing, echo_sizes)
    pool.start()
    try:
        for _ in range(2):  # a second run, as watch's next build
            results = list(pool.run([tuple((1_000_000,) for _ in range(6)) for _ in range(3)], context, lost=None))
            assert len(results) == 18
            assert all(size == len(context) and len(data) == 1_000_000 for size, data in results)
    finally:
        pool.close()
