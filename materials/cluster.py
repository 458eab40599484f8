"""Stage 4 on a Dask cluster (`build --scheduler`): the same `make_pdf` as the
local pool, run by dask.distributed's workers on other machines.

Dask is an existing distributed engine: it schedules the jobs, moves data
between machines and, when a worker is lost, runs its jobs again on another.
What is ours is only what the local pool does too: the jobs (grouped as
workers.py groups them), the inputs they render from, and one `JobResult`
per file back to the build, which writes them as it writes a local build's.

Nothing from the coordinator's disk is named to a worker: the validated
source (pickled) and the bytes of every layout file travel with the build, as
one Dask task's value that each worker fetches once. A worker writes the
layouts into a temporary folder of its own, one per build's layouts, and
keeps WeasyPrint set up from it while they stay the same.

`distributed` is imported only here, and this module only when a build is
given a scheduler: a local build never imports Dask.
"""

from __future__ import annotations

import gc
import hashlib
import pickle
import platform
import re
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Iterator

from .errors import MaterialsError
from .jobs import Job
from .workers import JobResult, _tasks, make_pdf, temporary_files_in

if TYPE_CHECKING:
    from .model import Source
    from .render import Renderer

PROJECT = "make-materials"
# How long the command waits for the scheduler to answer, and for it to have
# at least one worker, before it says so.
CONNECT_SECONDS = 10
WORKERS_SECONDS = 30
CLUSTER_README = 'README, "Building on a Dask cluster"'


def installed_versions() -> dict[str, str]:
    """What a file's bytes depend on besides its inputs, on this machine: the
    project's version and its engine's code, Python, every package it
    depends on (WeasyPrint and the font packages among them) and Pango, the
    system library WeasyPrint lays text out with. Run on the coordinator and
    on each worker; two machines with the same values make the same PDFs."""
    from .keys import _pipeline_code
    from .workers import require_harfbuzz_subset

    versions = {PROJECT: metadata.version(PROJECT), f"{PROJECT} engine code": _pipeline_code()[:12],
                "Python": ".".join(platform.python_version_tuple()[:2])}
    for requirement in metadata.requires(PROJECT) or ():
        if "extra ==" in requirement:  # the test tools and Dask itself: not in a PDF
            continue
        name = re.match(r"[A-Za-z0-9._-]+", requirement)[0]
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    try:
        require_harfbuzz_subset()
    except MaterialsError:
        versions["libharfbuzz-subset0"] = "missing"
    else:
        from weasyprint.text.ffi import pango

        version = pango.pango_version()
        versions["Pango"] = f"{version // 10000}.{version // 100 % 100}.{version % 100}"
    return versions


def mismatches(here: dict[str, str], there: dict[str, str]) -> list[str]:
    """`weasyprint 70.0 here, 69.0 on the worker`, for each value that differs."""
    return [f"{name} {here.get(name, 'missing')} here, {there.get(name, 'missing')} on the worker"
            for name in sorted(here.keys() | there.keys()) if here.get(name) != there.get(name)]


@dataclass(frozen=True)
class ClusterInputs:
    """What a build's jobs render from, as content: no path of the
    coordinator's reaches a worker."""

    source_digest: str
    source: bytes                # the validated Source, pickled
    layouts_digest: str
    layouts: dict[str, bytes]    # every file of the layouts folder, by its path inside it
    versions: dict[str, str]     # the coordinator's installed_versions()

    @classmethod
    def read(cls, source: Source, layouts_dir: Path, versions: dict[str, str]) -> ClusterInputs:
        layouts = {path.relative_to(layouts_dir).as_posix(): path.read_bytes()
                   for path in sorted(layouts_dir.rglob("*")) if path.is_file()}
        hasher = hashlib.sha256()
        for name, data in layouts.items():
            hasher.update(f"{name}\0{hashlib.sha256(data).hexdigest()}\n".encode())
        pickled = pickle.dumps(source)
        return cls(hashlib.sha256(pickled).hexdigest(), pickled, hasher.hexdigest(), layouts, versions)


# --- on a worker ----------------------------------------------------------------------


class _WorkerState:
    """A worker process's set-up for the build it serves: its copy of the
    layouts, WeasyPrint's scratch folder (its copies of the fonts) and the
    renderer. A worker started
    with several threads still renders one file at a time (WeasyPrint's
    set-up and the process's temporary folder are shared)."""

    def __init__(self):
        from distributed import get_worker

        self.lock = threading.Lock()
        self.inputs: tuple[str, str] | None = None  # the source's and layouts' digests
        self.renderer: Renderer | None = None
        self.layouts: Path | None = None
        # In the worker's own folder, which Dask removes when the worker ends
        # (or, after a worker was killed, when the next one starts): a worker
        # process ends without running Python's exit handlers.
        self.folder = get_worker().local_directory
        self.scratch = tempfile.mkdtemp(prefix="make-materials-", dir=self.folder)

    def renderer_for(self, inputs: ClusterInputs) -> Renderer:
        """The renderer for `inputs`: kept while the layouts stay the same (a
        new source only replaces its source), else set up afresh from a new
        copy of the layouts, after this worker's versions are checked against
        the coordinator's (a worker that joined the cluster after the build
        began was not checked by the command)."""
        if self.inputs == (inputs.source_digest, inputs.layouts_digest):
            return self.renderer
        if self.inputs is None or self.inputs[1] != inputs.layouts_digest:
            different = mismatches(inputs.versions, installed_versions())
            if different:
                raise MaterialsError(f"this Dask worker does not have what the coordinator has "
                                     f"({'; '.join(different)}): install make-materials at the same version on it "
                                     f"({CLUSTER_README})")
        from .render import Renderer

        source = pickle.loads(inputs.source)
        if self.inputs is not None and self.inputs[1] == inputs.layouts_digest:
            self.renderer.take_source(source)
        else:
            folder = Path(tempfile.mkdtemp(prefix="make-materials-layouts-", dir=self.folder))
            for name, data in inputs.layouts.items():
                path = folder.joinpath(*PurePosixPath(name).parts)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            self.renderer = Renderer(source, folder)
            if self.layouts:
                shutil.rmtree(self.layouts, ignore_errors=True)
            self.layouts = folder
            # As a local pool's workers are forked (pool.py): collections never
            # walk the modules and set-up loaded so far.
            gc.freeze()
        self.inputs = (inputs.source_digest, inputs.layouts_digest)
        return self.renderer


_state: _WorkerState | None = None
_state_lock = threading.Lock()


def _as_given(value):
    """A Dask task whose value is its argument: the build's inputs, which the
    scheduler can make again if the worker holding them is lost."""
    return value


def render_task(task: tuple[tuple[Job, ...], ...], inputs: ClusterInputs, thumbnails: bool) -> list[JobResult]:
    """Run on a worker: one task as the local pool groups them (workers.py),
    its units one after the other in one process, so that what one works
    out serves the next (a venue's poster sizes, its card and sheet)."""
    global _state
    with _state_lock:
        if _state is None:
            _state = _WorkerState()
    with _state.lock:
        renderer = _state.renderer_for(inputs)
        results = []
        for job in (job for unit in task for job in unit):
            with temporary_files_in(_state.scratch):
                results.append(make_pdf(renderer, job, thumbnails))
        return results


# --- on the coordinator ------------------------------------------------------------------


def _distributed():
    try:
        import distributed
    except ImportError:
        raise MaterialsError("--scheduler needs Dask's distributed package: install the project with its cluster "
                             "extra (`.venv/bin/pip install -e '.[cluster]'`)") from None
    return distributed


def connect(scheduler: str):
    """A client of the scheduler at `scheduler` with at least one worker, each
    worker checked to have what this machine has (installed_versions)."""
    distributed = _distributed()
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise MaterialsError(f"cannot reach the Dask scheduler at {scheduler} ({error}): is `dask scheduler` "
                             f"running there, and its port open to this machine? ({CLUSTER_README})") from None
    try:
        try:
            client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except TimeoutError:
            raise MaterialsError(f"the Dask scheduler at {scheduler} has no workers after {WORKERS_SECONDS} s: "
                                 f"start them with `dask worker {scheduler}` ({CLUSTER_README})") from None
        refuse_mismatched_workers(client, installed_versions())
    except BaseException:
        client.close()
        raise
    return client


def refuse_mismatched_workers(client, here: dict[str, str]) -> None:
    """Refuse a cluster whose workers would not make the same files as this
    machine: another make-materials, WeasyPrint, font package or Pango."""
    problems = []
    for worker, there in sorted(client.run(installed_versions, on_error="return").items()):
        if isinstance(there, BaseException):  # the project is not installed there at all
            problems.append(f"  {worker}: cannot run make-materials ({type(there).__name__}: {there})")
        else:
            problems.extend(f"  {worker}: {difference}" for difference in mismatches(here, there))
    if problems:
        raise MaterialsError("the Dask workers do not have what this machine has, so they would not make the same "
                             "files; nothing was built:\n" + "\n".join(problems) + "\nInstall make-materials at the "
                             f"same version, with the same packages, on every worker ({CLUSTER_README}).")


def render_on_cluster(client, jobs: list[Job], source: Source, layouts_dir: Path,
                      thumbnails: bool) -> Iterator[JobResult]:
    """The results of `jobs`, made by the cluster's workers, as they finish.
    The jobs are sent as the local pool's tasks, in its order (the longest
    first), one Dask task each. The generator's end (all done, or closed
    part way) cancels what is still to do; the caller closes the client."""
    distributed = _distributed()
    inputs = ClusterInputs.read(source, layouts_dir, installed_versions())
    # Task keys unique to this build: two coordinators may share a scheduler.
    build = uuid.uuid4().hex
    given = client.submit(_as_given, inputs, key=f"make-materials-inputs-{build}", pure=False)
    tasks = _tasks(jobs)
    futures = {client.submit(render_task, task, given, thumbnails, key=f"make-materials-{build}-{number}",
                             priority=len(tasks) - number, pure=False): [job for unit in task for job in unit]
               for number, task in enumerate(tasks)}
    try:
        for future in distributed.as_completed(list(futures), loop=client.loop):
            task_jobs = futures.pop(future)
            if future.status == "finished":
                results = future.result()
            else:
                results = [_failed(job, future, distributed) for job in task_jobs]
            # Its PDFs are here now: the worker need not hold them until the build ends.
            future.release()
            yield from results
    finally:
        client.cancel([given, *futures])


def _failed(job: Job, future, distributed) -> JobResult:
    """A file of a task that did not finish, with why."""
    if future.status == "cancelled":
        problem = "the Dask scheduler cancelled this file before it was done (was it stopped?); nothing was written"
    else:
        error = future.exception()
        if isinstance(error, distributed.KilledWorker):
            problem = ("every Dask worker that began this file died before it was done; nothing was written for it. "
                       "Build again (with more memory per worker if the workers ran out)")
        else:
            problem = f"this file could not be made on the Dask cluster: {error}"
    return JobResult(job, 0.0, problems=[problem])

