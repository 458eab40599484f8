"""Forked worker processes, each given one task at a time and watched.

multiprocessing.Pool waits for ever for the result of a worker that died (the
kernel's out-of-memory killer, a crash inside a C library): the build would
hang at its last file. Here the parent knows which item each worker is on, so
a worker that dies costs that one item, reported as lost with the reason; the
items of its task it had not started go to another worker, and a new worker
takes its place.
"""

from __future__ import annotations

import collections
import gc
import multiprocessing
import os
import signal
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Callable, Iterable, Iterator

_FORK = multiprocessing.get_context("fork")


def _serve(tasks: Connection, results: Connection, inherited: list[Connection], setup: Callable[[], None],
           work: Callable[[tuple, object], Iterable]) -> None:
    """A worker's life: set up, then for each task received, send one result
    per item as soon as it is done. It ends when the parent closes its pipe
    or goes. The parent's ends of the other workers' pipes, inherited through
    fork, are closed first: otherwise a worker would not see its parent go."""
    for connection in inherited:
        connection.close()
    setup()
    context = None
    try:
        while True:
            unit, new_context = tasks.recv()
            if new_context is not None:
                context = new_context
            for result in work(unit, context):
                results.send(result)
    except (EOFError, BrokenPipeError):  # the parent has gone: nobody wants the results
        pass


# Units sent to a worker ahead of the one it is making: it never waits for the
# parent (busy writing the last file) to send the next. Units not yet sent can
# still go to another worker.
SENT_AHEAD = 1


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    tasks: Connection    # this process's end of each pipe (one-way pipes: no sockets)
    results: Connection
    sent: collections.deque = field(default_factory=collections.deque)    # units sent, each a list of items not yet reported
    queued: collections.deque = field(default_factory=collections.deque)  # the rest of its task's units, not sent yet
    has_context: bool = False  # the run's context has been sent to it

    def died(self) -> str:
        """Why the process ended, for the lost item's message."""
        self.process.join()
        code = self.process.exitcode
        if code == -signal.SIGKILL:
            return "was killed (SIGKILL: the system does this when it runs out of memory)"
        if code is not None and code < 0:
            return f"stopped with signal {signal.Signals(-code).name}"
        return f"exited with status {code}"


class ProcessPool:
    """`size` processes forked from this one. Each runs `setup()` once, then
    `work(unit, context)` for every unit it is given: an iterable of one result
    per item of the unit, in order. Whatever the parent holds when a worker is
    forked (imported modules, loaded data) the worker has without copying;
    only units and results cross the pipes.

    A task is a tuple of units that share work (one worker makes them one
    after the other, so what it worked out for one serves the next); a unit
    is a tuple of items that must be made together. A worker with nothing
    left to do takes the last units not yet sent from the worker with the most:
    the workers finish together."""

    def __init__(self, size: int, setup: Callable[[], None], work: Callable[[tuple, object], Iterable]):
        self.size = size
        self._setup = setup
        self._work = work
        self._workers: list[_Worker] = []

    def start(self) -> None:
        """Fork workers until there are `size`."""
        while len(self._workers) < self.size:
            self._workers.append(self._fork())

    def _fork(self) -> _Worker:
        tasks_in, tasks_out = _FORK.Pipe(duplex=False)
        results_in, results_out = _FORK.Pipe(duplex=False)
        inherited = [end for worker in self._workers for end in (worker.tasks, worker.results) if not end.closed]
        process = _FORK.Process(target=_serve, args=(tasks_in, results_out, [tasks_out, results_in, *inherited],
                                                     self._setup, self._work), daemon=True)
        # Objects made so far are frozen first: the worker's garbage collector
        # never walks the modules and data it inherits, so its collections stay
        # short and the memory pages it shares with this process stay shared
        # (4% of a build's time). They are thawed here once the fork is made.
        gc.freeze()
        try:
            process.start()
        finally:
            gc.unfreeze()
        tasks_in.close()
        results_out.close()
        return _Worker(process, tasks_out, results_in)

    def run(self, tasks: Iterable[tuple[tuple, ...]], context: object,
            lost: Callable[[object, str], object]) -> Iterator:
        """The results of every item of `tasks`, as they are done. Tasks are
        started in the order given (longest first balances best). The item a
        worker was on when it died gives `lost(item, reason)` instead; the rest
        of its task goes to another worker."""
        pending = collections.deque(tasks)
        for worker in self._workers:
            worker.has_context = False
        try:
            while pending or any(worker.sent for worker in self._workers):
                for worker in [worker for worker in self._workers if not worker.sent]:
                    if not worker.process.is_alive():  # died while idle: it had nothing of this run
                        self._remove(worker)
                self.start()  # in place of any that died
                for worker in self._workers:
                    self._feed(worker, pending, context)
                busy = [worker for worker in self._workers if worker.sent]
                ready = set(wait([worker.results for worker in busy] + [worker.process.sentinel for worker in busy]))
                for worker in [worker for worker in busy if ready & {worker.results, worker.process.sentinel}]:
                    yield from self._take_results(worker, pending, context, lost)
        finally:
            # Stopped part way (an interrupt, a file that could not be written):
            # what the busy workers are making would reach the next run as its
            # results. They are stopped; the next run starts new ones.
            for worker in [worker for worker in self._workers if worker.sent]:
                self._remove(worker)
            for worker in self._workers:
                worker.queued.clear()

    def _feed(self, worker: _Worker, pending: collections.deque, context: object) -> None:
        """Send `worker` its next units: from its task, else a new task, else
        the last units of the worker with the most still to send."""
        if not worker.sent and not worker.queued:
            if pending:
                worker.queued.extend(pending.popleft())
            else:
                most = max(self._workers, key=lambda other: len(other.queued))
                for _ in range((len(most.queued) + 1) // 2):
                    worker.queued.appendleft(most.queued.pop())
        while len(worker.sent) <= SENT_AHEAD and worker.queued:
            unit = worker.queued.popleft()
            # The context (it may be large: watch sends the source with it) goes
            # once a run, with the first unit, when the worker is idle and so
            # reading. Later units are small: while the worker is busy, the pipe
            # holds them without blocking this process, which must go on
            # reading the worker's results (else both would wait on each other).
            message = (unit, None if worker.has_context else context)
            worker.sent.append(list(unit))
            worker.has_context = True
            try:
                worker.tasks.send(message)
            except OSError:
                return  # it has just died: its sentinel says so

    def _take_results(self, worker: _Worker, pending: collections.deque, context: object, lost) -> Iterator:
        ended = False
        try:
            # Results it sent before it died are read before its death is.
            while worker.sent and worker.results.poll():
                result = worker.results.recv()
                unit = worker.sent[0]
                unit.pop(0)
                if not unit:
                    worker.sent.popleft()
                    self._feed(worker, pending, context)  # before the result is written: it goes on meanwhile
                yield result
        except (EOFError, OSError):
            ended = True  # its end of the pipe is closed: it has died, or is dying
        if worker.sent and (ended or not worker.process.is_alive()):
            reason = worker.died()
            item = worker.sent[0].pop(0)
            # The rest of its unit and task, not started, go to another worker.
            rest = tuple(tuple(unit) for unit in [*worker.sent, *worker.queued] if unit)
            self._remove(worker)
            if rest:
                pending.appendleft(rest)
            yield lost(item, reason)

    def _remove(self, worker: _Worker) -> None:
        """Stop a worker (if it still runs) and forget it."""
        self._stop([worker])
        self._workers.remove(worker)

    @staticmethod
    def _stop(workers: list[_Worker]) -> None:
        for worker in workers:
            worker.sent.clear()
            worker.queued.clear()
            worker.tasks.close()
            worker.results.close()
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in workers:
            worker.process.join(5)
            if worker.process.is_alive():
                os.kill(worker.process.pid, signal.SIGKILL)
                worker.process.join()

    def close(self) -> None:
        """End the workers, whatever they are doing."""
        self._stop(self._workers)
        self._workers = []
