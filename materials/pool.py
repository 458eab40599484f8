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
    try:
        while True:
            message = tasks.recv()
            for result in work(*message):
                results.send(result)
    except (EOFError, BrokenPipeError):  # the parent has gone: nobody wants the results
        pass


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    tasks: Connection    # this process's end of each pipe (one-way pipes: no sockets)
    results: Connection
    items: collections.deque = field(default_factory=collections.deque)  # its task's items not yet reported

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
    `work(task, context)` for every task it is given: an iterable of one result
    per item of the task, in the task's order. Whatever the parent holds when a
    worker is forked (imported modules, loaded data) the worker has without
    copying; only tasks and results cross the pipes."""

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

    def run(self, tasks: Iterable[tuple], context: object, lost: Callable[[object, str], object]) -> Iterator:
        """The results of every item of `tasks`, as they are done. A task goes
        whole to one worker, longest first if `tasks` is in that order. The
        item a worker was on when it died gives `lost(item, reason)` instead."""
        pending = collections.deque(tasks)
        busy: list[_Worker] = []
        try:
            while pending or busy:
                for worker in [worker for worker in self._workers if worker not in busy]:
                    if not worker.process.is_alive():  # died while idle: it had nothing of this run
                        self._remove(worker)
                self.start()  # in place of any that died
                for worker in [worker for worker in self._workers if worker not in busy][:len(pending)]:
                    task = pending.popleft()
                    worker.items.extend(task)
                    busy.append(worker)
                    try:
                        worker.tasks.send((task, context))
                    except OSError:
                        pass  # it has just died: its sentinel says so below
                ready = set(wait([worker.results for worker in busy] + [worker.process.sentinel for worker in busy]))
                for worker in [worker for worker in busy if ready & {worker.results, worker.process.sentinel}]:
                    yield from self._take_results(worker, busy, pending, lost)
        finally:
            # Stopped part way (an interrupt, a file that could not be written):
            # what the busy workers are making would reach the next run as its
            # results. They are stopped; the next run starts new ones.
            for worker in busy:
                self._remove(worker)

    def _take_results(self, worker: _Worker, busy: list[_Worker], pending: collections.deque, lost) -> Iterator:
        ended = False
        try:
            # Results it sent before it died are read before its death is.
            while worker.items and worker.results.poll():
                result = worker.results.recv()
                worker.items.popleft()
                yield result
        except (EOFError, OSError):
            ended = True  # its end of the pipe is closed: it has died, or is dying
        if not worker.items:
            busy.remove(worker)
        elif ended or not worker.process.is_alive():
            busy.remove(worker)
            reason = worker.died()
            item, not_started = worker.items.popleft(), tuple(worker.items)
            self._remove(worker)
            yield lost(item, reason)
            if not_started:  # another worker makes them
                pending.appendleft(not_started)

    def _remove(self, worker: _Worker) -> None:
        """Stop a worker (if it still runs) and forget it."""
        self._stop([worker])
        self._workers.remove(worker)

    @staticmethod
    def _stop(workers: list[_Worker]) -> None:
        for worker in workers:
            worker.items.clear()
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
