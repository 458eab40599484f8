"""The stages in order: source -> model -> jobs -> render -> preflight -> write.

`make_materials.py` is only the command line around these functions.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import RenderError
from .jobs import Job, plan_jobs
from .model import Source, load_source
from .preflight import PreflightReport, check_fonts, check_layout
from .render import Renderer
from .write import atomic_write, read_manifest, write_manifest

GENERATOR = "make-materials 0.1"


def require_harfbuzz_subset() -> None:
    """WeasyPrint falls back to fontTools when libharfbuzz-subset is missing:
    ten times slower, and its output is not reproducible. Refuse instead."""
    from weasyprint.text.ffi import harfbuzz_subset

    if harfbuzz_subset is None:
        raise RenderError("the HarfBuzz subsetting library is missing: "
                          "install it with `apt-get install -y libharfbuzz-subset0`")


@dataclass
class JobResult:
    job: Job
    seconds: float
    report: PreflightReport | None = None
    pdf: bytes | None = None
    error: str | None = None


@dataclass
class BuildResult:
    results: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[JobResult]:
        return [result for result in self.results if result.error]

    @property
    def pages(self) -> int:
        return sum(result.report.pages for result in self.results if result.report and not result.error)


def make_pdf(renderer: Renderer, job: Job) -> JobResult:
    """Render and preflight one job in memory. Never raises for a job's own problem."""
    started = time.perf_counter()
    try:
        rendered = renderer.render(job)
        report = check_layout(rendered.document, job.product)
        pdf = renderer.write_pdf(rendered)
        check_fonts(pdf, renderer.font_files(), report)
    except RenderError as error:
        return JobResult(job, time.perf_counter() - started, error=str(error))
    except Exception as error:  # noqa: BLE001 - a layout that crashes WeasyPrint fails its own job only
        return JobResult(job, time.perf_counter() - started,
                         error=f"WeasyPrint could not lay out this file ({type(error).__name__}: {error})")
    seconds = time.perf_counter() - started
    if report.problems:
        return JobResult(job, seconds, report, error="; ".join(report.problems))
    return JobResult(job, seconds, report, pdf)


def manifest_entry(result: JobResult, source: Source) -> dict:
    job, report = result.job, result.report
    return {
        "file": job.output_path,
        "venue": job.venue_id,
        "venue_name": source.venue(job.venue_id).name,
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
        "fonts": report.fonts,
        "content_reviewed": source.content.reviewed.isoformat(),
        "sha256": hashlib.sha256(result.pdf).hexdigest(),
        "bytes": len(result.pdf),
    }


def build(source_dir: Path, layouts_dir: Path, out_dir: Path | None, venue_ids: tuple[str, ...] = (),
          kinds: tuple[str, ...] = (), variants: tuple[str, ...] = (),
          progress: Callable[[int, int, JobResult], None] | None = None) -> BuildResult:
    """Make every chosen file. With `out_dir` None, nothing is written (a dry run).

    Raises SourceError before anything is written when the source is invalid.
    A job that fails leaves the earlier file at its path untouched.
    """
    started = time.perf_counter()
    source = load_source(source_dir)
    require_harfbuzz_subset()
    jobs = plan_jobs(source, venue_ids, kinds, variants)
    renderer = Renderer(source, layouts_dir)
    outcome = BuildResult()
    manifest = read_manifest(out_dir) if out_dir else {}
    for number, job in enumerate(jobs, 1):
        result = make_pdf(renderer, job)
        if out_dir and not result.error:
            atomic_write(out_dir / job.output_path, result.pdf)
            manifest[job.output_path] = manifest_entry(result, source)
        result.pdf = None  # written: do not hold every PDF in memory
        outcome.results.append(result)
        if progress:
            progress(number, len(jobs), result)
    if out_dir and any(not result.error for result in outcome.results):
        write_manifest(out_dir, manifest, GENERATOR)
    outcome.seconds = time.perf_counter() - started
    return outcome
