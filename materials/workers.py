"""Stage 4 for every job: each file made in memory (rendered, fitted,
preflighted: `make_pdf`), in this process or in forked rendering processes
(pool.py), which `watch` keeps warm from one build to the next.

WeasyPrint is imported only when there is something to render: importing it
takes longer than a whole build with nothing to do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import pickle
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .catalogue import thumbnail_png
from .errors import RenderError
from .fit import fit
from .jobs import Job
from .pool import Lost, ProcessPool
from .write import close_inherited_locks

if TYPE_CHECKING:
    from .model import Source
    from .preflight import PreflightReport
    from .render import Renderer


def require_harfbuzz_subset() -> None:
    """WeasyPrint falls back to fontTools when libharfbuzz-subset is missing:
    ten times slower, and its output is not reproducible. Refuse instead."""
    with library_lookup_by_soname():
        from weasyprint.text.ffi import harfbuzz_subset

    if harfbuzz_subset is None:
        raise RenderError("the HarfBuzz subsetting library is missing: "
                          "install it with `apt-get install -y libharfbuzz-subset0`")


@contextlib.contextmanager
def library_lookup_by_soname():
    """While WeasyPrint is first imported on Linux, ctypes.util.find_library
    finds nothing. WeasyPrint names each C library in several platforms'
    spellings (pango-1.0, libpango-1.0-0, libpango-1.0.so.0, ...) and cffi asks
    find_library about every spelling dlopen cannot load as it is, which on
    Linux runs ldconfig, gcc and ld each time: 54 processes, 0.17 s of every
    build. Each list holds the Linux soname, which dlopen loads directly from
    the linker's cache: the same libraries load (compared in /proc/self/maps)."""
    if sys.platform != "linux" or "weasyprint.text.ffi" in sys.modules:
        yield
        return
    import ctypes.util

    find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = find_library


@dataclass
class JobResult:
    job: Job
    seconds: float
    report: PreflightReport | None = None
    pdf: bytes | None = None
    thumbnail: bytes | None = None  # the catalogue's PNG of page 1, when the file is to be written
    problems: list[str] = field(default_factory=list)
    skipped: bool = False  # unchanged since the last build

    @property
    def error(self) -> str | None:
        return "; ".join(self.problems) if self.problems else None

    @property
    def warnings(self) -> list[str]:
        return self.report.warnings if self.report else []


def make_pdf(renderer: Renderer, job: Job, thumbnail: bool = False) -> JobResult:
    """Render, fit and preflight one job in memory, and with `thumbnail` make
    the catalogue's picture of it. A product derived from another (the card
    sheet) is the other's pages, fitted and checked as themselves, imposed on
    its own layout's sheets. Never raises for a job's own problem."""
    from .preflight import check_fonts, check_glyphs, check_imposition, check_layout, check_standard

    started = time.perf_counter()
    base = job.product.base_format
    content_job = dataclasses.replace(job, format_key=base.key) if base else job
    try:
        rendered, scales, problems, shrunk = fit(renderer, content_job)
        personal = job.session is not None  # a roster's names: never quoted in messages
        report = check_layout(rendered.document, rendered.html_root, content_job.product, quote=not personal)
        report.fit_scales = scales
        report.problems[:0] = problems
        # Any text set below its design size, a warning (a failure with --strict).
        report.warnings.extend(shrunk)
        check_glyphs(rendered.document, renderer.font_files(), report, quote=not personal)
        if base:
            frame = renderer.render(job)
            report = check_imposition(frame.document, job.product, report)
            pdf = renderer.write_imposed_pdf(frame, rendered)
            fonts = frame.fonts
        else:
            pdf = renderer.write_pdf(rendered)
            fonts = rendered.fonts
        check_fonts(fonts, renderer.font_files(), report)
        check_standard(pdf, job.product, report)
    except RenderError as error:
        return JobResult(job, time.perf_counter() - started, problems=[str(error)])
    except Exception as error:  # noqa: BLE001 - a layout that crashes WeasyPrint fails its own job only
        return JobResult(job, time.perf_counter() - started,
                         problems=[f"WeasyPrint could not lay out this file ({type(error).__name__}: {error})"])
    seconds = time.perf_counter() - started
    if report.problems:
        return JobResult(job, seconds, report, problems=report.problems)
    return JobResult(job, seconds, report, pdf, thumbnail_png(pdf) if thumbnail else None)


_worker_renderer: Renderer | None = None
_worker_inputs: tuple[str, str] | None = None  # the source's and layouts' digests it renders from


def _start_worker(scratch: str, source: Source | None = None, layouts_dir: Path | None = None) -> None:
    """Each worker process sets up WeasyPrint once, with the source the parent
    loaded (a forked worker has it already: nothing is copied or loaded again),
    or, in a pool kept between builds, with the source the first unit of a
    build brings. Its temporary files go into the parent's `scratch` folder: a
    pool's worker ends without running WeasyPrint's clean-up. A worker forked
    while a build runs (in place of one that died) closes its copy of the
    output folder's lock."""
    from .render import Renderer

    close_inherited_locks()
    tempfile.tempdir = scratch
    global _worker_renderer
    if source is not None:
        _worker_renderer = Renderer(source, layouts_dir)


@dataclass(frozen=True)
class WorkerInputs:
    """What a build's jobs render from, sent to each worker of a pool kept
    between builds with its first unit of the build: its workers were forked
    before this build's source was loaded."""

    source_digest: str
    source: bytes  # the validated Source, pickled by this program's own parent process
    layouts_dir: Path
    layouts_digest: str


def _take_inputs(inputs: WorkerInputs) -> None:
    """Render from `inputs` from now on: a new source keeps the renderer's set-up
    from the layouts, changed layouts start it afresh."""
    from .render import Renderer

    global _worker_renderer, _worker_inputs
    if _worker_inputs == (inputs.source_digest, inputs.layouts_digest):
        return
    source = pickle.loads(inputs.source)
    if _worker_inputs and _worker_inputs[1] == inputs.layouts_digest:
        _worker_renderer.take_source(source)
    else:
        _worker_renderer = Renderer(source, inputs.layouts_dir)
    _worker_inputs = (inputs.source_digest, inputs.layouts_digest)


def _render_in_worker(unit: tuple[Job, ...], context: tuple[bool, WorkerInputs | None]) -> Iterator[JobResult]:
    thumbnail, inputs = context
    if inputs is not None:
        _take_inputs(inputs)
    return (make_pdf(_worker_renderer, job, thumbnail) for job in unit)


def _lost(job: Job, lost: Lost) -> JobResult:
    if lost.died:
        problem = (f"the process making this file {lost.reason} before the file was done; nothing was written "
                   "for it. Build again (with fewer --jobs if the computer is short of memory)")
    else:
        problem = (f"this file could not be made: {lost.reason}. Nothing was written for it. This is a fault in "
                   "make-materials, not in your files: please report it with this message")
    return JobResult(job, 0.0, problems=[problem])


class RenderPool:
    """Forked rendering processes, ended with their temporary files when the
    pool is closed. A build's own pool is given its source and layouts, which
    the workers inherit; `watch` keeps one from one build to the next, and
    each build sends its inputs (`WorkerInputs`) to each worker: a worker keeps
    WeasyPrint's set-up (compiled templates, parsed stylesheets, loaded fonts)
    while the layouts stay as they were, so a rebuild after an edit pays for
    its own files only. A worker that dies fails the file it was making, not
    the build (see pool.py)."""

    def __init__(self, workers: int, source: Source | None = None, layouts_dir: Path | None = None):
        self.workers = workers
        self._setup = (source, layouts_dir)
        self._pool: ProcessPool | None = None
        self._scratch: str | None = None

    def start(self) -> None:
        """Fork the workers, WeasyPrint imported first so that each inherits
        it; before any build holds the output folder's lock, which a forked
        worker would go on holding."""
        if self._pool is None:
            require_harfbuzz_subset()
            self._scratch = tempfile.mkdtemp(prefix="make-materials-")
            self._pool = ProcessPool(self.workers, functools.partial(_start_worker, self._scratch, *self._setup),
                                     _render_in_worker)
            try:
                self._pool.start()
            except BaseException:
                self.close()
                raise

    def render(self, jobs: list[Job], inputs: WorkerInputs | None, thumbnails: bool) -> Iterator[JobResult]:
        if self._pool is None:
            raise RuntimeError("RenderPool.start() comes before the first build")
        return self._pool.run(_tasks(jobs), (thumbnails, inputs), _lost)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._pool = None

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exception) -> None:
        self.close()


# Products whose files for one venue (area, language) share layout work, and
# so go to one worker as one task: the poster sizes, one after the other (the
# column split found for one is the first tried for the next; a worker with
# nothing left may take the last of them), and the wallet card with the sheet
# it is imposed on, together (the card is fitted once, for both). Each handout
# is a task of its own: they are the longest jobs, spread over the workers.
SHARED_WORK = {"poster": "one by one", "wallet-card": "together"}


def _tasks(jobs: list[Job]) -> list[tuple[tuple[Job, ...], ...]]:
    """The jobs as the pool's tasks (each a tuple of units, each a tuple of
    jobs), longest first: handouts, then a venue's posters, then its cards
    (the sheet first, so the card reuses its fit)."""
    groups: dict[tuple, list[Job]] = {}
    for job in jobs:
        groups.setdefault(job.family if job.product.kind in SHARED_WORK else (job,), []).append(job)
    tasks = []
    for group in groups.values():
        group.sort(key=lambda job: job.product.base_template is None)
        together = SHARED_WORK.get(group[0].product.kind) == "together"
        tasks.append((tuple(group),) if together else tuple((job,) for job in group))
    return sorted(tasks, key=lambda task: (task[0][0].product.kind == "handout", sum(map(len, task))), reverse=True)


def render_all(jobs: list[Job], source: Source, layouts_dir: Path, workers: int, thumbnails: bool):
    """Results of `jobs` (at least one; with thumbnails, for a build that
    writes), rendered here in job order, or in a pool of forked processes as
    they finish. The pool starts the longest jobs first, so that one long job
    is not left running alone at the end of a short build. Either way
    WeasyPrint's temporary files (its copy of each font) go into a folder
    removed when the last job is done."""
    from .render import Renderer

    if workers <= 1 or len(jobs) <= 1:
        return render_here(Renderer(source, layouts_dir), jobs, thumbnails)
    def results():
        # Forked workers inherit the imported WeasyPrint and the loaded source
        # (fork passes the set-up's arguments without pickling them). The
        # pool starts when the first result is wanted: a build stopped before
        # then leaves neither processes nor a folder behind.
        with RenderPool(min(workers, len(jobs)), source, layouts_dir) as pool:
            pool.start()
            yield from pool.render(jobs, None, thumbnails)
    return results()


@contextlib.contextmanager
def temporary_files_in(folder: str):
    """WeasyPrint's temporary files (its copy of each font), made in this
    block, go into `folder`, which the caller removes: WeasyPrint leaves them."""
    previous, tempfile.tempdir = tempfile.tempdir, folder
    try:
        yield
    finally:
        tempfile.tempdir = previous


def render_here(renderer: Renderer, jobs: list[Job], thumbnails: bool):
    scratch = tempfile.mkdtemp(prefix="make-materials-")
    gc.freeze()  # as a pool's workers are forked (pool.py): collections never walk the modules loaded so far
    try:
        for job in jobs:
            with temporary_files_in(scratch):
                result = make_pdf(renderer, job, thumbnails)
            yield result
    finally:
        gc.unfreeze()
        shutil.rmtree(scratch, ignore_errors=True)
