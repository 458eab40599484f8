"""The stages in order: source -> model -> jobs -> render -> preflight -> write.

`make_materials.py` is only the command line around this: `build` runs the
stages for a selection of files, `make_roster_file` for one roster product.
Each stage is its own module: source.py (load and validate), jobs.py, and
workers.py (render, fit and preflight each file, here or in forked
processes; cluster.py, on a Dask cluster's workers), write.py.

WeasyPrint (with `render` and `preflight`, which need it) is imported only when
there is something to render, and the model (pydantic) only when the source
has changed since the last build: importing them takes longer than a whole
build with nothing to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable

from .catalogue import thumbnail_path, write_catalogue
from .errors import display_path
from .keys import JobKeys
from .jobs import PRODUCT_FORMATS, Job, Selection, parse_output_path, plan_jobs
from .reviews import Review
from .workers import JobResult, RenderPool, WorkerInputs, render_all, require_harfbuzz_subset
from .write import (BUILD_RECORDS, atomic_write, manifest_entry, output_lock, read_build_record, read_manifest,
                    signals_deferred, write_build_record, write_manifest)

if TYPE_CHECKING:
    from .model import Source
    from .roster_files import RosterOutcome

GENERATOR = "make-materials 0.1"
# The manifest is saved at most this often while files are made, and when the
# build ends or stops: saving it after every file costs time in the number of
# files, which a national build of 13,500 files a language would spend
# rewriting it (0.4 s a save at the end). A save waits at least ten times
# as long as the last one took, so saving costs at most a tenth of the time.
# A file made since the last save whose build is killed outright (SIGKILL) is
# not listed: the next build makes it again, and no build removes a file the
# manifest does not list.
MANIFEST_SAVE_SECONDS = 2.0


@dataclass(frozen=True)
class Outdated:
    """A file an earlier build wrote that the source no longer makes."""

    file: str     # relative to the output folder
    why: str      # "venue no longer in source/venues"
    # False when the file was changed since it was built: it is someone's
    # own, left in place (only its manifest entry goes).
    deleted: bool = True


@dataclass
class BuildResult:
    results: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0
    # The source or layouts changed while the build ran: what it made will be
    # made again by the next build.
    inputs_changed: bool = False
    # What a person re-checks before a print run (reviews.py): the loaded
    # source's, or, when nothing had to be built, the last build's record of it.
    reviews: list[Review] = field(default_factory=list)
    # Files of venues, areas, languages or products no longer in the source,
    # taken out of the output folder by a build of everything (_remove_outdated).
    removed: list[Outdated] = field(default_factory=list)

    @property
    def failed(self) -> list[JobResult]:
        return [result for result in self.results if result.error]

    @property
    def pages(self) -> int:
        return sum(result.report.pages for result in self.results if result.report and not result.error)

    @property
    def skipped(self) -> list[JobResult]:
        return [result for result in self.results if result.skipped]


def build(selection: Selection, *, source_dir: Path, layouts_dir: Path, out_dir: Path | None,
          progress: Callable[[int, int, JobResult], None] | None = None, workers: int = 1, force: bool = False,
          pool: RenderPool | None = None, scheduler: str | None = None) -> BuildResult:
    """Make every chosen file. With `out_dir` None, nothing is written (a dry run).

    Raises SourceError before anything is written when the source is invalid.
    A job that fails leaves the earlier file at its path untouched. A file whose
    job key (everything it depends on) is unchanged since the last build is
    skipped, unless `force`. Jobs render in `workers` processes; with `pool`,
    in its processes, kept warm from one build to the next. A draft
    translation is made only when the selection names it. With `scheduler`
    (a Dask scheduler's address), the jobs render on that cluster's workers
    instead (cluster.py); everything else is the same.
    """
    started = time.perf_counter()
    job_keys = JobKeys(source_dir, layouts_dir, GENERATOR)  # reads the files before the source is loaded
    inputs = job_keys.inputs(selection.key)
    if out_dir and not force:
        outcome = _unchanged_build(out_dir, inputs, progress, source_dir)
        if outcome is not None:
            outcome.seconds = time.perf_counter() - started
            return outcome
    from .source import load_source

    source = load_source(source_dir, job_keys.source_files)
    jobs = plan_jobs(source, selection)
    with output_lock(out_dir) if out_dir else contextlib.nullcontext():
        manifest = read_manifest(out_dir) if out_dir else {}
        keys = {job: job_keys.key(job) for job in jobs}
        unchanged = set() if force or not out_dir else {
            job for job in jobs if _is_current(out_dir, manifest.get(job.output_path), keys[job])}
        todo = [job for job in jobs if job not in unchanged]
        if todo:  # imports WeasyPrint, before any worker is forked
            require_harfbuzz_subset()
        skipped = (JobResult(job, 0.0, skipped=True) for job in jobs if job in unchanged)
        outcome = BuildResult(reviews=source.reviews)
        # Unchanged files first, then each made file as soon as it is done.
        client = None  # of a Dask cluster, closed when the rendering ends
        if not todo:
            made = iter(())
        elif scheduler is not None:
            from .cluster import connect, render_on_cluster  # imports Dask: only for a build given a scheduler

            client = connect(scheduler)
            made = render_on_cluster(client, todo, source, layouts_dir, thumbnails=bool(out_dir))
        elif pool is not None:
            rendered_from = WorkerInputs(job_keys.folder(source_dir), pickle.dumps(source), layouts_dir,
                                         job_keys.folder(layouts_dir))
            made = pool.render(todo, rendered_from, thumbnails=bool(out_dir))
        else:
            made = render_all(todo, source, layouts_dir, workers, thumbnails=bool(out_dir))
        save_due, unsaved = time.monotonic() + MANIFEST_SAVE_SECONDS, False
        try:
            for number, result in enumerate(itertools.chain(skipped, made), 1):
                unsaved |= _record(result, out_dir, manifest, source, keys[result.job])
                if unsaved and time.monotonic() >= save_due:
                    saving = time.monotonic()
                    with signals_deferred():
                        write_manifest(out_dir, manifest, GENERATOR)
                    saved = time.monotonic()
                    save_due, unsaved = saved + max(MANIFEST_SAVE_SECONDS, 10 * (saved - saving)), False
                outcome.results.append(result)
                if progress:
                    progress(number, len(jobs), result)
        finally:
            # Ctrl-C and SIGTERM stop the loop with KeyboardInterrupt: the
            # files made so far are listed before the build stops.
            if unsaved:
                with signals_deferred():
                    write_manifest(out_dir, manifest, GENERATOR)
            # A build stopped part way (Ctrl-C, a file it could not write)
            # stops its rendering now, not whenever the garbage collector
            # gets to it: its workers end, or a kept pool's busy ones.
            if todo:
                made.close()
            if client is not None:
                client.close()
        order = {job: index for index, job in enumerate(jobs)}
        outcome.results.sort(key=lambda result: order[result.job])
        if out_dir and selection.everything:
            outcome.removed = _remove_outdated(out_dir, manifest, source, source_dir)
        if out_dir:
            # The layouts are read as the files render: a file saved since the
            # build began may be in what it made, or not. Those files keep no
            # key, so the next build makes them again.
            if JobKeys(source_dir, layouts_dir, GENERATOR).inputs(selection.key) != inputs:
                outcome.inputs_changed = True
                for result in outcome.results:
                    if result.job.output_path in manifest and not (result.skipped or result.error):
                        manifest[result.job.output_path]["key"] = ""
                write_manifest(out_dir, manifest, GENERATOR)
            write_catalogue(out_dir)
            if not outcome.failed and not outcome.inputs_changed:
                write_build_record(out_dir, inputs, [
                    {"venue": job.venue_id, "format": job.format_key, "area": job.area_id, "lang": job.lang,
                     "key": keys[job]} for job in jobs], _recorded_reviews(source.reviews, source_dir))
    outcome.seconds = time.perf_counter() - started
    return outcome


def _recorded_reviews(reviews: list[Review], source_dir: Path) -> list[dict]:
    """The reviews as plain values, each file named inside the source folder:
    a later build may name that folder otherwise (another current folder)."""
    folder = display_path(source_dir) + "/"
    return [{**review.to_json(), "file": review.file.removeprefix(folder)} for review in reviews]


def _unchanged_build(out_dir: Path, inputs: str, progress, source_dir: Path) -> BuildResult | None:
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
        recorded_jobs, recorded_reviews = recorded
        manifest = read_manifest(out_dir)
        jobs = []
        for job in recorded_jobs:
            if job.get("format") not in formats:  # a record from another version of the products
                return None
            jobs.append(Job(job.get("venue"), job["format"], area_id=job.get("area"), lang=job.get("lang")))
            if not _is_current(out_dir, manifest.get(jobs[-1].output_path), job.get("key")):
                return None
        try:
            reviews = [Review.from_json({**review, "file": display_path(source_dir / review["file"])})
                       for review in recorded_reviews]
        except (KeyError, TypeError, ValueError):  # a record from another version
            return None
        outcome = BuildResult([JobResult(job, 0.0, skipped=True) for job in jobs], reviews=reviews)
        for number, result in enumerate(outcome.results, 1):
            if progress:
                progress(number, len(jobs), result)
        write_catalogue(out_dir)  # mends a catalogue or thumbnail that was deleted
    return outcome


def _remove_outdated(out_dir: Path, manifest: dict, source: Source, source_dir: Path) -> list[Outdated]:
    """Take out of the output folder and the manifest the files of venues,
    areas, languages and products the source no longer has. Only files the
    manifest lists (a build wrote them) are deleted, and only when they are
    still as built; the catalogue drops them and their pictures next."""
    from .translate import language_tags

    where = display_path(source_dir)
    venues, areas = {venue.id for venue in source.venues}, {area.id for area in source.areas}
    languages = set(language_tags(source))
    outdated = []
    for name, entry in sorted(manifest.items()):
        parsed = parse_output_path(name)
        if parsed is None:
            why = "product no longer made"
        else:
            area, venue, _, lang = parsed
            why = (f"venue no longer in {where}/venues" if venue not in venues else
                   f"area no longer in {where}/areas" if area is not None and area not in areas else
                   f"language no longer in {where}/translations" if lang is not None and lang not in languages else
                   None)
        if why:
            path = out_dir / name
            as_built = (".." not in PurePosixPath(name).parts and path.is_file()
                        and hashlib.sha256(path.read_bytes()).hexdigest() == entry.get("sha256"))
            outdated.append(Outdated(name, why, deleted=as_built))
    if outdated:
        with signals_deferred():  # the files and the manifest change together
            for each in outdated:
                del manifest[each.file]
                if each.deleted:
                    (out_dir / each.file).unlink()
                    _remove_empty_folders(out_dir, PurePosixPath(each.file).parent)
            write_manifest(out_dir, manifest, GENERATOR)
    return outdated


def _remove_empty_folders(out_dir: Path, folder: PurePosixPath) -> None:
    """A venue's (and an area's) folder, once its last file is removed."""
    while folder.parts:
        try:
            (out_dir / folder).rmdir()
        except OSError:  # not empty (or not there): stop
            return
        folder = folder.parent


def _is_current(out_dir: Path, entry: dict | None, key: str) -> bool:
    """The file on disk is the one an earlier build made from the same inputs."""
    if not entry or entry.get("key") != key:
        return False
    path = out_dir / entry["file"]
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]


def _record(result: JobResult, out_dir: Path | None, manifest: dict, source: Source, key: str) -> bool:
    """Write a finished file and put its entry in `manifest`: True when it
    did (the manifest on disk is then behind)."""
    written = bool(out_dir and not result.error and not result.skipped)
    if written:
        # The file and its manifest entry change together: an interrupt
        # (Ctrl-C, SIGTERM) waits until both are done, and the build saves
        # the manifest as it stops, so it describes exactly the files there.
        with signals_deferred():
            atomic_write(out_dir / result.job.output_path, result.pdf)
            entry = {**manifest_entry(result.job, result.report, result.pdf, source), "key": key}
            manifest[result.job.output_path] = entry
            picture = out_dir / thumbnail_path(entry)
            if result.thumbnail and not picture.is_file():  # same name, same PDF: the same picture
                atomic_write(picture, result.thumbnail)
    result.pdf = result.thumbnail = None  # written: do not hold every PDF in memory
    return written


def make_roster_file(source_dir: Path, layouts_dir: Path, job: Job, out_dir: Path, *, workers: int = 1,
                     split: bool = False, progress=None) -> tuple[RosterOutcome, str]:
    """Make one roster product (certificates or a sign-in sheet) for `job`'s
    session into `out_dir`, in pieces on `workers` processes (roster_files.py):
    one file, or with `split` one certificate per file. Nothing goes into a
    manifest: the files hold attendees' names. Returns the outcome and what
    was written (the file, or the folder of split files) relative to `out_dir`."""
    from .roster_files import certificate_pieces, make_roster_files, measure_sign_in, sign_in_pieces
    from .source import load_source

    source = load_source(source_dir)
    require_harfbuzz_subset()
    if job.product.kind == "certificate":
        pieces = certificate_pieces(job.venue_id, job.session, split)
    else:
        first_page_rows, page_rows = measure_sign_in(source, layouts_dir, job.venue_id, job.session)
        pieces = sign_in_pieces(job.venue_id, job.session, first_page_rows, page_rows)
    outcome = make_roster_files(source, layouts_dir, pieces, out_dir, job.output_path, workers, progress)
    return outcome, job.output_path.removesuffix(".pdf") + "/" if split else job.output_path
