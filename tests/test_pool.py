"""The worker pool itself (materials/pool.py), with trivial work instead of
rendering: how it shares tasks out, and that large messages never leave the
parent and a worker waiting on each other. Deaths of workers during real
builds are tested in test_failures.py."""

from __future__ import annotations

import os
import signal
import time

from materials.pool import ProcessPool

# Each test takes `no_hang` (conftest.py): a pool that waits for ever fails it.


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
        results = list(pool.run([tuple((number,) for number in range(8)), (("short",),)], 0.15, lost=None))
    finally:
        pool.close()
    assert sorted(str(item) for _, item in results) == sorted([*map(str, range(8)), "short"])
    by_worker: dict[int, list] = {}
    for pid, item in results:
        by_worker.setdefault(pid, []).append(item)
    assert len(by_worker) == 2
    [short_worker] = [pid for pid, items in by_worker.items() if "short" in items]
    taken = [item for item in by_worker[short_worker] if item != "short"]
    # It took from the end, and about half of what was left (three of the six
    # not sent, if both workers started at once): the two finish together.
    assert taken and taken == sorted(taken) and taken[-1] == 7, by_worker
    assert 1 <= len(taken) <= 5, by_worker


def echo_sizes(unit, context):
    for item in unit:
        yield len(context), bytes(item)


def test_large_contexts_and_results_do_not_deadlock(no_hang):
    # A 4 MB context (as watch sends its source) and 1 MB results, a unit
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


def lost_item(item, lost):
    return "lost", item, lost.reason, lost.died


def work_that_raises_on_bad(unit, context):
    for item in unit:
        if item == "bad":
            raise ValueError("a bad item")
        yield "made", item


def test_work_that_raises_fails_its_items_and_the_worker_goes_on(no_hang):
    pool = ProcessPool(1, nothing, work_that_raises_on_bad)
    pool.start()
    try:
        [worker] = pool._workers
        results = list(pool.run([(("a",), ("bad", "after-bad")), (("b",),)], None, lost_item))
        assert pool._workers == [worker] and worker.process.is_alive()
    finally:
        pool.close()
    # The rest of the unit that raised is not made either: its items are made together.
    assert results == [("made", "a"), ("lost", "bad", "ValueError: a bad item", False),
                       ("lost", "after-bad", "ValueError: a bad item", False), ("made", "b")]


def setup_that_dies() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_set_up_that_always_kills_its_worker_ends_the_run(no_hang):
    """Units a worker died before starting go to another worker, but only a
    few times: then each is failed, and the run ends."""
    pool = ProcessPool(2, setup_that_dies, slow_work)
    pool.start()
    try:
        results = list(pool.run([(("a",), ("b",)), (("c",),)], 0, lost_item))
    finally:
        pool.close()
    assert sorted(item for _, item, _, _ in results) == ["a", "b", "c"]
    assert {(kind, reason, died) for kind, _, reason, died in results} == {
        ("lost", "was killed (SIGKILL: the system does this when it runs out of memory)", True)}


def test_a_run_begun_while_another_is_open_gets_only_its_own_results(no_hang):
    pool = ProcessPool(2, nothing, slow_work)
    pool.start()
    try:
        first = pool.run([tuple((f"first {number}",) for number in range(6))], 0.05, lost_item)
        next(first)  # left open, as by a consumer that stopped without closing it
        second = pool.run([tuple((f"second {number}",) for number in range(4)), (("second short",),)], 0.01,
                          lost_item)
        got = [next(second)]
        first.close()  # late, while the second run goes on: it must not touch the second's workers
        got += list(second)
        assert list(first) == []
    finally:
        pool.close()
    assert sorted(item for _, item in got) == sorted([*(f"second {number}" for number in range(4)), "second short"])
