"""Forked worker processes, each given one unit of work at a time and watched.

multiprocessing.Pool waits for ever for the result of a worker that died (the
kernel's out-of-memory killer, a crash inside a C library): the build would
hang at its last file. Here the parent knows which item each worker is making,
so a worker that dies costs that one item, reported with the reason; the items
it had not started go to another worker, and a new worker takes its place.
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
INTERRUPTS = {signal.SIGINT, signal.SIGTERM}
# Units of its task sent to a worker ahead of the one it is making, so that it
# does not wait for the parent (writing the last file) between two of them.
# Units not sent yet can still go to another worker.
SENT_AHEAD = 1
# A worker that dies before it starts the unit it was sent has that unit given
# to another; after this many such deaths in one run the unit is failed, so that
# a set-up that always fails ends the run.
DEATHS_BEFORE_A_START = 3


@dataclass(frozen=True)
class Lost:
    """Why an item was not made: its worker died (`died`), or its work raised."""

    reason: str
    died: bool


class _SameContext:
    """Sent instead of the run's context once a worker has it."""


class _Started:
    """A worker's word that it has begun the next unit."""


@dataclass(frozen=True)
class _Raised:
    """In place of the result of an item whose work raised."""

    reason: str


def _unit_results(work: Callable[[tuple, object], Iterable], unit: tuple, context: object) -> Iterator:
    """One result per item of `unit`: `work`'s, then, if it raised, _Raised for the rest."""
    made = 0
    try:
        for result in work(unit, context):
            made += 1
            yield result
    except Exception as error:  # noqa: BLE001 - reported as the item's failure; the worker goes on
        for _ in unit[made:]:
            yield _Raised(f"{type(error).__name__}: {error}")


def _serve(tasks: Connection, results: Connection, inherited: list[Connection], setup: Callable[[], None],
           work: Callable[[tuple, object], Iterable]) -> None:
    """A worker's life: set up, then for each unit received, send word that
    it has started, then one result per item as soon as it is made. It ends
    when the parent closes its pipe or goes. The parent's ends of the other
    workers' pipes, inherited through fork, are closed first: otherwise a
    worker would not see its parent go. The parent alone handles interrupts:
    a worker ignores Ctrl-C, and SIGTERM (the pool stopping it) ends it."""
    for connection in inherited:
        connection.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)  # blocked by the parent as it forked
    setup()
    context = None
    while True:
        try:
            unit, new_context = tasks.recv()
        except EOFError:
            return
        if not isinstance(new_context, _SameContext):
            context = new_context
        try:
            results.send(_Started())
            for result in _unit_results(work, unit, context):
                results.send(result)
        except OSError:  # the parent has gone: nobody wants the results
            return


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    tasks: Connection    # this process's end of each pipe (one-way pipes: no sockets)
    results: Connection
    sent: collections.deque = field(default_factory=collections.deque)    # units sent, each a list of items not yet reported
    queued: collections.deque = field(default_factory=collections.deque)  # the rest of its task's units, not sent yet
    started: bool = False      # it has begun the first unit in `sent`
    has_context: bool = False  # the run's context has been sent to it

    def died(self) -> str:
        """Why the process ended, for the lost item's message."""
        self.process.join()
        code = self.process.exitcode
        if code == -signal.SIGKILL:
            return "was killed (SIGKILL: the system does this when it runs out of memory)"
        if code is not None and code < 0:
            try:
                return f"stopped with signal {signal.Signals(-code).name}"
            except ValueError:  # a real-time signal has no name
                return f"stopped with signal {-code}"
        return f"exited with status {code}"


class ProcessPool:
    """`size` processes forked from this one. Each runs `setup()` once, then
    `work(unit, context)` for every unit it is given, which must yield one
    result per item of the unit, in order. Whatever the parent holds when a
    worker is forked (imported modules, loaded data) the worker has without
    copying; only units and results cross the pipes.

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
        self._run: object | None = None  # the run in progress
        self._deaths_before_a_start = 0

    def start(self) -> None:
        """Fork workers until there are `size`."""
        while len(self._workers) < self.size:
            self._fork()

    def _fork(self) -> None:
        tasks_in, tasks_out = _FORK.Pipe(duplex=False)
        results_in, results_out = _FORK.Pipe(duplex=False)
        inherited = [end for worker in self._workers for end in (worker.tasks, worker.results) if not end.closed]
        process = _FORK.Process(target=_serve, args=(tasks_in, results_out, [tasks_out, results_in, *inherited],
                                                     self._setup, self._work), daemon=True)
        # Objects made so far are frozen first: the worker's garbage collector
        # never walks the modules and data it inherits, so its collections stay
        # short and the memory pages it shares with this process stay shared
        # (4% of a build's time). They are thawed here once the fork is made
        # (which would thaw a freeze of someone else's too: there is none).
        #
        # Interrupts are held until the worker has set its own handlers (a
        # Ctrl-C in between would print a traceback from it), and here until
        # the worker is in the pool's list, so that the pool stops it.
        gc.freeze()
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
        try:
            try:
                process.start()
            except BaseException:
                tasks_out.close()
                results_in.close()
                raise
            finally:
                gc.unfreeze()
                tasks_in.close()
                results_out.close()
            self._workers.append(_Worker(process, tasks_out, results_in))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def run(self, tasks: Iterable[tuple[tuple, ...]], context: object,
            lost: Callable[[object, Lost], object]) -> Iterator:
        """The results of every item of `tasks`, as they are made. Tasks are
        started in the order given (longest first balances best). An item
        whose worker died making it, or whose work raised, gives
        `lost(item, Lost)` instead. A run begun while an earlier one is still
        open ends the earlier one."""
        pending = collections.deque(tasks)
        if not all(task and all(task) for task in pending):
            raise ValueError("a task or unit with nothing in it")
        if self._run is not None:  # left part way, not closed: its workers' results are not this run's
            self._stop_busy()
        run = self._run = object()
        self._deaths_before_a_start = 0
        for worker in self._workers:
            worker.has_context = False
        try:
            while self._run is run and (pending or any(worker.sent for worker in self._workers)):
                for worker in [worker for worker in self._workers if not worker.sent]:
                    if not worker.process.is_alive():  # died while idle: it had nothing of this run
                        self._remove(worker)
                if pending or any(worker.queued for worker in self._workers):
                    self._start_some()
                for worker in self._workers:
                    self._feed(worker, pending, context)
                busy = [worker for worker in self._workers if worker.sent]
                ready = set(wait([worker.results for worker in busy] + [worker.process.sentinel for worker in busy]))
                for worker in [worker for worker in busy if ready & {worker.results, worker.process.sentinel}]:
                    yield from self._take_results(worker, pending, context, lost, run)
        finally:
            # Stopped part way (an interrupt, a file that could not be written):
            # what the busy workers are making would reach the next run as its
            # results. They are stopped; the next run starts new ones.
            if self._run is run:
                self._stop_busy()
                self._run = None

    def _start_some(self) -> None:
        """Workers in place of those that died; with none left at all, the
        error of forking one (out of memory, too many processes)."""
        try:
            self.start()
        except OSError:
            if not self._workers:
                raise

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
            message = (unit, _SameContext() if worker.has_context else context)
            worker.sent.append(list(unit))
            worker.has_context = True
            try:
                worker.tasks.send(message)
            except OSError:
                return  # it has just died: its sentinel says so

    def _take_results(self, worker: _Worker, pending: collections.deque, context: object, lost, run) -> Iterator:
        ended = False
        try:
            # Results it sent before it died are read before its death is.
            while self._run is run and worker.sent and worker.results.poll():
                message = worker.results.recv()
                if isinstance(message, _Started):
                    worker.started = True
                    continue
                unit = worker.sent[0]
                item = unit.pop(0)
                if not unit:
                    worker.sent.popleft()
                    worker.started = False
                    self._feed(worker, pending, context)  # before the result is written: it goes on meanwhile
                yield lost(item, Lost(message.reason, died=False)) if isinstance(message, _Raised) else message
        except (EOFError, OSError):
            ended = True  # its end of the pipe is closed: it has died, or is dying
        if self._run is run and worker.sent and (ended or not worker.process.is_alive()):
            yield from self._worker_died(worker, pending, lost)

    def _worker_died(self, worker: _Worker, pending: collections.deque, lost) -> Iterator:
        """The item it was making is lost; the rest of what it was given,
        not started, goes to another worker."""
        reason = worker.died()
        units = [tuple(unit) for unit in worker.sent] + list(worker.queued)
        blamed = worker.started or self._deaths_before_a_start >= DEATHS_BEFORE_A_START
        if not worker.started:
            self._deaths_before_a_start += 1
        self._remove(worker)
        if blamed:
            item, units[0] = units[0][0], units[0][1:]
        rest = tuple(unit for unit in units if unit)
        if rest:
            pending.appendleft(rest)
        if blamed:
            yield lost(item, Lost(reason, died=True))

    def _stop_busy(self) -> None:
        for worker in [worker for worker in self._workers if worker.sent]:
            self._remove(worker)
        for worker in self._workers:
            worker.queued.clear()

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
        self._run = None
