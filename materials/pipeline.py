"""The stages in order: source -> model -> jobs -> render -> preflight -> write.

`make_materials.py` is only the command line around these functions.

WeasyPrint (with `render` and `preflight`, which need it) is imported only when
there is something to render, and the model (pydantic) only when the source
has changed since the last build: importing them takes longer than a whole
build with nothing to do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import itertools
import pickle
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from .catalogue import thumbnail_path, thumbnail_png, write_catalogue
from .errors import RenderError
from .keys import JobKeys
from .pool import Lost, ProcessPool
from .jobs import PRODUCT_FORMATS, Job, plan_jobs
from .write import (BUILD_RECORDS, atomic_write, close_inherited_locks, output_lock, read_build_record, read_manifest,
                    write_build_record, write_manifest)

if TYPE_CHECKING:
    from .model import Source
    from .preflight import PreflightReport
    from .render import Rendered, Renderer

GENERATOR = "make-materials 0.1"


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


# A region shrunk further than this is worth a designer's look.
SHRINK_WARNING = 0.85
# Bisection steps for a region's scale: 2^-6 of its range (about 0.2 pt on an A2 headline).
FIT_STEPS = 6


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


@dataclass
class BuildResult:
    results: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0
    # The source or layouts changed while the build ran: what it made will be
    # made again by the next build.
    inputs_changed: bool = False

    @property
    def failed(self) -> list[JobResult]:
        return [result for result in self.results if result.error]

    @property
    def pages(self) -> int:
        return sum(result.report.pages for result in self.results if result.report and not result.error)

    @property
    def skipped(self) -> list[JobResult]:
        return [result for result in self.results if result.skipped]


def _overset_problem(name: str, region, at: str = "") -> str:
    if region.lost_characters:
        return (f"overset: region \"{name}\" loses {region.lost_characters} characters past the edge of "
                f"the page{at}: shorten the text")
    return (f"overset: region \"{name}\" needs {region.needed_mm:.1f} mm, has {region.has_mm:.1f} mm{at}: "
            f"shorten the text by about {_shortfall(region)}")


def fit(renderer: Renderer, job: Job) -> tuple[Rendered, dict[str, float], list[str]]:
    """Lay out a job so that every fit region's content fits its box.

    A region that is overset is shrunk by bisection on its scale, down to the
    larger of the layout's `data-fit-min` and the scale that would take its
    smallest text to the product's minimum size. Regions that may not shrink
    (`data-fit-min="1"`) are only checked, once the others have been fitted.
    A job fitted before in this process (a card, then its sheet) is laid out
    once with the fit found, and has the same problems. Returns the final
    layout, the scales applied and, for each region that cannot fit, a problem
    naming how much room it needs."""
    from .preflight import fit_regions, measure_regions
    from .render import fit_declarations

    if job in renderer.fits:
        scales, problems = renderer.fits[job]
        return renderer.render(job, scales), scales, list(problems)
    rendered = renderer.render(job)
    measured = measure_regions(rendered.document)
    if all(region.fits for region in measured.values()):
        renderer.fits[job] = ({}, [])
        return rendered, {}, []
    minimums = fit_regions(rendered.html_root)
    scales: dict[str, float] = {}
    problems = []
    reported = set()
    kept = rendered  # the layout at the current region's `low`: often the final one
    for name, region in measured.items():
        if region.fits or minimums.get(name, 1.0) >= 1.0:
            continue
        floor = minimums[name]
        if region.smallest_pt:
            floor = max(floor, job.product.min_text_pt / region.smallest_pt)
        kept = renderer.render(job, {**scales, name: floor})
        at_floor = measure_regions(kept.document)[name]
        if not at_floor.fits:
            smallest = f"{region.smallest_pt * floor:.1f} pt" if region.smallest_pt else "its smallest size"
            problems.append(_overset_problem(name, at_floor, f" even with its text at {smallest}"))
            reported.add(name)
            scales[name] = floor
            continue
        low, high = floor, 1.0  # low fits, high does not
        for _ in range(FIT_STEPS):
            middle = (low + high) / 2
            candidate = renderer.render(job, {**scales, name: middle})
            if measure_regions(candidate.document)[name].fits:
                low, kept = middle, candidate
            else:
                high = middle
        scales[name] = round(low, 4)
    # The same fit stylesheet gives the same layout: when the layout kept was
    # made with the final scales (as written to 4 places, as the stylesheet
    # has them), it is not rendered again.
    rendered = kept if kept.fit_css == fit_declarations(scales) else renderer.render(job, scales)
    problems += [_overset_problem(name, region) for name, region in measure_regions(rendered.document).items()
                 if not region.fits and name not in reported]
    renderer.fits[job] = (scales, problems)
    return rendered, scales, list(problems)


def _shortfall(region) -> str:
    return f"{(1 - region.has_mm / region.needed_mm) * 100:.0f}%"


def make_pdf(renderer: Renderer, job: Job, thumbnail: bool = False) -> JobResult:
    """Render, fit and preflight one job in memory, and with `thumbnail` make
    the catalogue's picture of it. A product derived from another (the card
    sheet) is the other's pages, fitted and checked as themselves, imposed on
    its own layout's sheets. Never raises for a job's own problem."""
    from .preflight import check_fonts, check_glyphs, check_imposition, check_layout

    started = time.perf_counter()
    base = job.product.base_format
    content_job = dataclasses.replace(job, format_key=base.key) if base else job
    try:
        rendered, scales, problems = fit(renderer, content_job)
        personal = job.session is not None  # a roster's names: never quoted in messages
        report = check_layout(rendered.document, rendered.html_root, content_job.product, quote=not personal)
        report.fit_scales = scales
        report.problems[:0] = problems
        for name, scale in scales.items():
            if scale < SHRINK_WARNING and not problems:
                report.warnings.append(f"fit: region \"{name}\" shrunk to {scale:.0%} of its size to fit")
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
    except RenderError as error:
        return JobResult(job, time.perf_counter() - started, problems=[str(error)])
    except Exception as error:  # noqa: BLE001 - a layout that crashes WeasyPrint fails its own job only
        return JobResult(job, time.perf_counter() - started,
                         problems=[f"WeasyPrint could not lay out this file ({type(error).__name__}: {error})"])
    seconds = time.perf_counter() - started
    if report.problems:
        return JobResult(job, seconds, report, problems=report.problems)
    return JobResult(job, seconds, report, pdf, thumbnail_png(pdf) if thumbnail else None)


def manifest_entry(result: JobResult, source: Source) -> dict:
    from .translate import edition

    job, report = result.job, result.report
    language = edition(source, job.lang).language
    return {
        "file": job.output_path,
        "venue": job.venue_id,
        "venue_name": source.venue(job.venue_id).name,
        "area": job.area_id,
        "area_name": source.area(job.area_id).council if job.area_id else None,
        "lang": language.tag,
        # The catalogue names a group by its <field>_name.
        "lang_name": language.english_name + (" (draft translation)" if job.lang and language.draft else ""),
        "draft_translation": job.lang is not None and language.draft,
        "product": job.product.kind,
        "format": job.product.format,
        "variant": job.product.variant,
        "trim_mm": [job.product.width_mm, job.product.height_mm],
        "bleed_mm": job.product.bleed_mm,
        "pdf_standard": job.product.pdf_standard or "PDF 1.7",
        "pages": report.pages,
        "width_mm": report.width_mm,
        "height_mm": report.height_mm,
        "smallest_text_pt": report.smallest_text_pt,
        "lowest_contrast": report.lowest_contrast,
        "fit_scales": report.fit_scales,
        "warnings": report.warnings,
        "fonts": report.fonts,
        "content_reviewed": source.content.reviewed.isoformat(),
        "sha256": hashlib.sha256(result.pdf).hexdigest(),
        "bytes": len(result.pdf),
    }


def build(source_dir: Path, layouts_dir: Path, out_dir: Path | None, venue_ids: tuple[str, ...] = (),
          kinds: tuple[str, ...] = (), variants: tuple[str, ...] = (),
          progress: Callable[[int, int, JobResult], None] | None = None, area_id: str | None = None,
          workers: int = 1, force: bool = False, langs: tuple[str, ...] = (),
          pool: RenderPool | None = None) -> BuildResult:
    """Make every chosen file. With `out_dir` None, nothing is written (a dry run).

    Raises SourceError before anything is written when the source is invalid.
    A job that fails leaves the earlier file at its path untouched. A file whose
    job key (everything it depends on) is unchanged since the last build is
    skipped, unless `force`. Jobs render in `workers` processes. `langs` are
    language tags ("en" for English); by default English and every reviewed
    translation: a draft is made only when asked for by name. With `pool`, the
    jobs render in its processes, kept warm from one build to the next.
    """
    started = time.perf_counter()
    job_keys = JobKeys(source_dir, layouts_dir, GENERATOR)  # reads the files before the source is loaded
    selection = repr((venue_ids, kinds, variants, area_id, langs))
    inputs = job_keys.inputs(selection)
    if out_dir and not force:
        outcome = _unchanged_build(out_dir, inputs, progress)
        if outcome is not None:
            outcome.seconds = time.perf_counter() - started
            return outcome
    from .model import load_source

    source = load_source(source_dir, job_keys.source_files)
    jobs = plan_jobs(source, venue_ids, kinds, variants, area_id, job_languages(source, langs))
    with output_lock(out_dir) if out_dir else contextlib.nullcontext():
        manifest = read_manifest(out_dir) if out_dir else {}
        keys = {job: job_keys.key(job) for job in jobs}
        unchanged = set() if force or not out_dir else {
            job for job in jobs if _is_current(out_dir, manifest.get(job.output_path), keys[job])}
        todo = [job for job in jobs if job not in unchanged]
        if todo:  # imports WeasyPrint, before any worker is forked
            require_harfbuzz_subset()
        skipped = (JobResult(job, 0.0, skipped=True) for job in jobs if job in unchanged)
        outcome = BuildResult()
        # Unchanged files first, then each made file as soon as it is done.
        if not todo:
            made = iter(())
        elif pool is not None:
            rendered_from = WorkerInputs(job_keys.folder(source_dir), pickle.dumps(source), layouts_dir,
                                         job_keys.folder(layouts_dir))
            made = pool.render(todo, rendered_from, thumbnails=bool(out_dir))
        else:
            made = _render_all(todo, source, layouts_dir, workers, thumbnails=bool(out_dir))
        try:
            for number, result in enumerate(itertools.chain(skipped, made), 1):
                _record(result, out_dir, manifest, source, keys[result.job])
                outcome.results.append(result)
                if progress:
                    progress(number, len(jobs), result)
        finally:
            # A build stopped part way (Ctrl-C, a file it could not write)
            # stops its rendering now, not whenever the garbage collector
            # gets to it: its workers end, or a kept pool's busy ones.
            if todo:
                made.close()
        order = {job: index for index, job in enumerate(jobs)}
        outcome.results.sort(key=lambda result: order[result.job])
        if out_dir:
            # The layouts are read as the files render: a file saved since the
            # build began may be in what it made, or not. Those files keep no
            # key, so the next build makes them again.
            if JobKeys(source_dir, layouts_dir, GENERATOR).inputs(selection) != inputs:
                outcome.inputs_changed = True
                for result in outcome.results:
                    if result.job.output_path in manifest and not (result.skipped or result.error):
                        manifest[result.job.output_path]["key"] = ""
                write_manifest(out_dir, manifest, GENERATOR)
            write_catalogue(out_dir)
            if not outcome.failed and not outcome.inputs_changed:
                write_build_record(out_dir, inputs, [
                    {"venue": job.venue_id, "format": job.format_key, "area": job.area_id, "lang": job.lang,
                     "key": keys[job]} for job in jobs])
    outcome.seconds = time.perf_counter() - started
    return outcome


def _unchanged_build(out_dir: Path, inputs: str, progress) -> BuildResult | None:
    """The build, every file unchanged, when its inputs digest is that of an
    earlier complete build and each of that build's files is still on disk as
    it was made; otherwise None, and the build loads the source and checks
    each job's key."""
    if not (out_dir / BUILD_RECORDS).is_file():  # nothing recorded: not even the folder is made here
        return None
    formats = {fmt.key for fmt in PRODUCT_FORMATS}
    with output_lock(out_dir):
        recorded = read_build_record(out_dir, inputs)
        if not recorded:
            return None
        manifest = read_manifest(out_dir)
        jobs = []
        for job in recorded:
            if job.get("format") not in formats:  # a record from another version of the products
                return None
            jobs.append(Job(job.get("venue"), job["format"], area_id=job.get("area"), lang=job.get("lang")))
            if not _is_current(out_dir, manifest.get(jobs[-1].output_path), job.get("key")):
                return None
        outcome = BuildResult([JobResult(job, 0.0, skipped=True) for job in jobs])
        for number, result in enumerate(outcome.results, 1):
            if progress:
                progress(number, len(jobs), result)
        write_catalogue(out_dir)  # mends a catalogue or thumbnail that was deleted
    return outcome


def job_languages(source: Source, langs: tuple[str, ...]) -> tuple[str | None, ...]:
    """Jobs' languages (None: English) for the tags asked for, or the default set."""
    if not langs:
        return (None, *(tag for tag, translation in source.translations.items() if not translation.language.draft))
    return tuple(None if tag == "en" else tag for tag in dict.fromkeys(langs))


def _is_current(out_dir: Path, entry: dict | None, key: str) -> bool:
    """The file on disk is the one an earlier build made from the same inputs."""
    if not entry or entry.get("key") != key:
        return False
    path = out_dir / entry["file"]
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]


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


def _render_all(jobs: list[Job], source: Source, layouts_dir: Path, workers: int, thumbnails: bool):
    """Results of `jobs` (at least one; with thumbnails, for a build that
    writes), rendered here in job order, or in a pool of forked processes as
    they finish. The pool starts the longest jobs first, so that one long job
    is not left running alone at the end of a short build. Either way
    WeasyPrint's temporary files (its copy of each font) go into a folder
    removed when the last job is done."""
    from .render import Renderer

    if workers <= 1 or len(jobs) <= 1:
        return _render_here(Renderer(source, layouts_dir), jobs, thumbnails)
    def results():
        # Forked workers inherit the imported WeasyPrint and the loaded source
        # (fork passes the set-up's arguments without pickling them). The
        # pool starts when the first result is wanted: a build stopped before
        # then leaves neither processes nor a folder behind.
        with RenderPool(min(workers, len(jobs)), source, layouts_dir) as pool:
            pool.start()
            yield from pool.render(jobs, None, thumbnails)
    return results()


def _render_here(renderer: Renderer, jobs: list[Job], thumbnails: bool):
    scratch = tempfile.mkdtemp(prefix="make-materials-")
    gc.freeze()  # as a pool's workers are forked (pool.py): collections never walk the modules loaded so far
    try:
        for job in jobs:
            previous, tempfile.tempdir = tempfile.tempdir, scratch
            try:
                result = make_pdf(renderer, job, thumbnails)
            finally:
                tempfile.tempdir = previous
            yield result
    finally:
        gc.unfreeze()
        shutil.rmtree(scratch, ignore_errors=True)


def _record(result: JobResult, out_dir: Path | None, manifest: dict, source: Source, key: str) -> None:
    """Write a finished file and its manifest entry."""
    if out_dir and not result.error and not result.skipped:
        # The file and its manifest entry change together: an interrupt
        # (Ctrl-C, SIGTERM) waits until both are on disk, so whenever the
        # build stops, the manifest describes exactly the files there.
        with signals_deferred():
            atomic_write(out_dir / result.job.output_path, result.pdf)
            entry = manifest[result.job.output_path] = {**manifest_entry(result, source), "key": key}
            picture = out_dir / thumbnail_path(entry)
            if result.thumbnail and not picture.is_file():  # same name, same PDF: the same picture
                atomic_write(picture, result.thumbnail)
            write_manifest(out_dir, manifest, GENERATOR)
    result.pdf = result.thumbnail = None  # written: do not hold every PDF in memory


@contextlib.contextmanager
def signals_deferred():
    """Hold SIGINT and SIGTERM until the block is done, then act on them.

    Python runs signal handlers between bytecodes, so the handlers are
    swapped for ones that only take note."""
    noted: list[int] = []
    interrupts = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda number, frame: noted.append(number)) for number in interrupts}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if noted:
            signal.raise_signal(noted[0])


def make_roster_file(source_dir: Path, layouts_dir: Path, job: Job, out_dir: Path) -> JobResult:
    """Make one roster product (certificates or a sign-in sheet) into `out_dir`.
    Nothing goes into a manifest: the file holds attendees' names."""
    from .model import load_source
    from .render import Renderer

    source = load_source(source_dir)
    require_harfbuzz_subset()
    [result] = _render_here(Renderer(source, layouts_dir), [job], thumbnails=False)
    attendees = len(job.session.attendees)
    if job.product.kind == "certificate" and result.report and result.report.pages != attendees:
        result.problems.append(f"overset: {result.report.pages} pages for {attendees} attendees: "
                               "a certificate does not fit its page")
    if not result.problems:
        atomic_write(out_dir / job.output_path, result.pdf)
    return result
