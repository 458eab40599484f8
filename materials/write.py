"""Stage 6: put finished files in the output folder, whole or not at all.

Every file is written to a temporary name beside its target, flushed to disk and
renamed over the target: a reader (or a crash) sees the old file or the new one,
never half of one. The manifest is rewritten the same way, after the files.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import MaterialsError

if TYPE_CHECKING:
    from .jobs import Job
    from .model import Source
    from .preflight import PreflightReport

MANIFEST = "manifest.json"
# The inputs digests of the last complete builds, each with its jobs and their
# keys: what lets a build with nothing to do say so without loading the source.
BUILD_RECORDS = ".last-builds.json"
KEPT_RECORDS = 8  # one per selection (all venues, one venue, one language ...) recently built


class OutputBusy(MaterialsError):
    """Another build is writing to the same output folder."""


# The open folders this process holds locked: a process forked while one is
# held (a worker the pool starts again after one died) closes its copy, or
# the lock would outlive the build.
_held_locks: set[int] = set()


def close_inherited_locks() -> None:
    for folder in _held_locks:
        os.close(folder)
    _held_locks.clear()


@contextlib.contextmanager
def output_lock(out_dir: Path):
    """Hold the output folder for one build at a time: a second build into it
    stops at once, before it writes anything, instead of interleaving its files
    and manifest with the first. The lock is the kernel's (flock), so a build
    that is killed releases it. It is taken on the folder itself, so it
    leaves no file behind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = os.open(out_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputBusy(f"another build is writing to {out_dir}/: wait for it to finish, "
                             "or build into another folder with --out") from None
        _held_locks.add(folder)
        yield
    finally:
        _held_locks.discard(folder)
        os.close(folder)  # closing releases the lock


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_manifest(out_dir: Path) -> dict[str, dict]:
    """Entries of an earlier build by file path; an unreadable manifest only
    means the earlier entries are forgotten (their files are listed again when
    rebuilt)."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return {entry["file"]: entry for entry in data["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_manifest(out_dir: Path, entries: dict[str, dict], generator: str) -> None:
    """Write the manifest, keeping only entries whose file is still on disk."""
    files = [entries[name] for name in sorted(entries) if (out_dir / name).is_file()]
    manifest = {"generator": generator, "files": files}
    atomic_write(out_dir / MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def read_build_record(out_dir: Path, inputs: str) -> tuple[list[dict], list[dict]] | None:
    """The jobs (each a dict of plain values, with its key) of the last complete
    build from the inputs `inputs`, and the source's reviews (reviews.Review as
    plain values), if one is recorded; an unreadable record is no record."""
    try:
        record = json.loads((out_dir / BUILD_RECORDS).read_text(encoding="utf-8"))[inputs]
        jobs, reviews = record["jobs"], record["reviews"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(isinstance(part, list) and all(isinstance(each, dict) for each in part) for part in (jobs, reviews)):
        return None
    return jobs, reviews


def write_build_record(out_dir: Path, inputs: str, jobs: list[dict], reviews: list[dict]) -> None:
    """Record a complete build's jobs and its source's reviews under its inputs
    digest, keeping the latest few records."""
    try:
        records = json.loads((out_dir / BUILD_RECORDS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        records = {}
    if not isinstance(records, dict):
        records = {}
    records = {digest: record for digest, record in records.items() if digest != inputs and isinstance(record, dict)}
    records[inputs] = {"jobs": jobs, "reviews": reviews}
    kept = dict(list(records.items())[-KEPT_RECORDS:])
    atomic_write(out_dir / BUILD_RECORDS, (json.dumps(kept, indent=1) + "\n").encode("utf-8"))


def manifest_entry(job: Job, report: PreflightReport, pdf: bytes, source: Source) -> dict:
    """A written file's entry in manifest.json: what it is, and what preflight found."""
    from .translate import edition

    language = edition(source, job.lang).language
    return {
        "file": job.output_path,
        "venue": job.venue_id,
        "venue_name": source.venue(job.venue_id).name,
        "area": job.area_id,
        "area_name": source.area(job.area_id).council if job.area_id else None,
        "area_fictional": source.area(job.area_id).fictional if job.area_id else False,
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
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "bytes": len(pdf),
    }


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
