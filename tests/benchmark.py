"""Speed and memory benchmark for make-materials (issue 7). Run by hand, never by pytest:

    .venv/bin/python tests/benchmark.py            # the full run (about 9 minutes on 2 cores)
    .venv/bin/python tests/benchmark.py --quick    # a sanity run: 2 venues, fewer repeats
    .venv/bin/python tests/benchmark.py --profile  # also: where the pipeline's time goes (stderr)
    .venv/bin/python tests/benchmark.py --rosters  # only the roster products (about 8 minutes on 2 cores)
    .venv/bin/python tests/benchmark.py --cluster  # a nation of areas: local pool, Dask, bare WeasyPrint (about 45 minutes)
    .venv/bin/python tests/benchmark.py --cluster --areas 2  # the same with 2 areas (about 10 minutes on 2 cores)

Progress goes to stderr; one markdown table (then a few notes) goes to stdout, to
paste into the README. Each row gives the value measured, its target and PASS or
MISS.

Every ratio is measured side by side within one run: the builds it compares run
one after the other in each repeat, in alternating order, and the table reports
the median over repeats. Absolute times move with the machine's load; the ratios
much less.

What is measured, and how:

- full builds run the real command line in a subprocess (`build --force` into a
  temporary folder), so Python's start-up and imports are included; so do the
  no-op rebuild and the one-venue edit (a YAML comment appended), and the same
  edit saved while `watch` runs (its second edit: the first warms its workers);
- per-document times run in this process: the pipeline's `make_pdf` (render,
  auto-fit, preflight, PDF, press finishing) against bare WeasyPrint printing the
  pipeline's final HTML, with its final fit, with one FontConfiguration, each
  stylesheet parsed once and one image cache, the same URL fetcher and the same
  PDF options (tags, PDF/X-4 or PDF/UA-1), but no finisher and no checks;
- the bare pool runs in a subprocess of this script like the command line, with
  the same fork start method and one WeasyPrint set-up per worker;
- Chromium prints a sample (one document per product) and is extrapolated.

Not collected by pytest: the file name does not match `test_*.py`, it holds no
test functions, and nothing runs on import.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import pickle
import platform
import queue
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
SOURCE_DIR = PROJECT_DIR / "source"
LAYOUTS_DIR = PROJECT_DIR / "layouts"
CORES = os.cpu_count() or 1  # what `build --jobs` defaults to

QUICK_VENUES = ("hotels", "hostels")  # hostels' posters need auto-fit: both paths are exercised
EDITED_VENUE = "hotels"               # a typical venue (no auto-fit) for the one-venue edit

# The builds run as on a user's machine, where Python keeps the compiled
# bytecode of the project's modules (site-packages have theirs from pip): a
# PYTHONDONTWRITEBYTECODE in this shell would have every build compile them
# afresh (40 ms). The warm-up build writes them.
CHILD_ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}

TARGETS = {
    "overhead": 1.10,        # pipeline / bare WeasyPrint, all documents
    "parallel": 0.95,        # our --jobs 2 speed-up / a bare 2-process pool's
    "noop": 0.02,            # no-op rebuild / full build
    "edit": 0.15,            # one venue edited / full build
    "chromium": 5.0,         # Chromium time / ours
    "worker_mb": 400,        # peak RSS of a worker process
    "roster_mb": 600,        # peak memory of a roster command, its workers included (PSS)
    "roster_linear": 1.25,   # seconds per row for the largest roster / for the smallest
}

# The real command line, run as its console script does, reporting the peak RSS
# of its worker processes (RUSAGE_CHILDREN: the pool joins its workers before
# the command ends, so each one is counted) and of itself.
CLI_WRAPPER = """
import json, os, resource, sys
sys.argv[0] = "make-materials"
from make_materials import main
try:
    main()
finally:
    with open(os.environ["BENCHMARK_RUSAGE"], "w") as file:
        json.dump({"workers_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                   "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, file)
"""

# What any build that renders does before its first file, and then nothing:
# the floor under a rebuild from the command line, however few files it makes.
STARTUP_PROBE = """
import gc, sys
from pathlib import Path
import make_materials  # the command line
from materials.jobs import plan_jobs
from materials.keys import JobKeys
from materials.source import load_source
from materials.pipeline import GENERATOR
from materials.workers import require_harfbuzz_subset
source_dir = Path(sys.argv[1])
keys = JobKeys(source_dir, Path(sys.argv[2]), GENERATOR)
keys.inputs("")
plan_jobs(load_source(source_dir, keys.source_files))
require_harfbuzz_subset()  # imports WeasyPrint
import materials.render  # noqa: F401
gc.freeze()  # as the command line ends
"""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median(values) -> float:
    return statistics.median(values)


# --- the documents --------------------------------------------------------------


@dataclass
class Doc:
    """One output file as bare WeasyPrint (or Chromium) gets it: the pipeline's
    final HTML, its stylesheet and its final fit, and the PDF options. A sheet
    the pipeline imposes another product on (the card sheet: its frame) also
    carries that product's document: bare WeasyPrint prints both, Chromium
    the imposed one (it has no way to impose)."""

    venue: str
    format_key: str
    group: str          # the table's product row
    html: str
    base_url: str       # the layout's folder, as the pipeline gives it
    stylesheet: str     # relative to layouts/
    fit_css: str | None  # `:root { --fit-body: 0.9659; }`, as the pipeline writes it
    pdf_options: dict = field(default_factory=dict)
    imposed: Doc | None = None


def product_group(fmt) -> str:
    if fmt.kind == "poster":
        return f"poster, {fmt.variant}"
    if fmt.base_template:
        return "wallet card sheet, ten up"
    if fmt.kind == "handout":
        return f"handout, {fmt.edition}"
    return fmt.title.lower()


def fit_css(scales: dict[str, float]) -> str | None:
    """The fit stylesheet exactly as the pipeline writes it."""
    from materials.render import fit_declarations

    declarations = fit_declarations(scales)
    return f":root {{ {declarations} }}" if declarations else None


def make_docs(jobs, fit_scales: dict[str, dict], source_dir: Path = SOURCE_DIR) -> list[Doc]:
    """Each job's final HTML, as the pipeline lays it out with the fit it found
    (read from a build's manifest), its lists balanced."""
    from materials.source import load_source
    from materials.render import Renderer

    renderer = Renderer(load_source(source_dir), LAYOUTS_DIR)

    def doc(job, scales, imposed=None) -> Doc:
        product = job.product
        options = {"pdf_tags": True}
        if product.pdf_standard:
            options["pdf_variant"] = product.pdf_standard.lower()
        return Doc(job.venue_id, job.format_key, product_group(product), renderer.render(job, scales).html,
                   (LAYOUTS_DIR / product.template).parent.as_uri() + "/", product.stylesheet, fit_css(scales),
                   options, imposed)

    docs = []
    for job in jobs:
        scales = fit_scales[job.output_path]
        base = job.product.base_format
        if base:  # the frame, without fit, and the card imposed on it, with the card's fit
            docs.append(doc(job, {}, doc(dataclasses.replace(job, format_key=base.key), scales)))
        else:
            docs.append(doc(job, scales))
    return docs


class BareWeasyPrint:
    """WeasyPrint used as its documentation recommends for many documents in one
    process: one FontConfiguration, each stylesheet parsed once, one image cache.
    It prints the pipeline's final HTML once, and checks nothing."""

    def __init__(self):
        from weasyprint.text.fonts import FontConfiguration

        from materials.fetch import ProjectFetcher

        self.fetcher = ProjectFetcher(LAYOUTS_DIR)  # the same door to layouts/ and the font packages
        self.font_config = FontConfiguration()
        self.cache: dict = {}
        self.stylesheets: dict[str, tuple] = {}

    def stylesheet(self, key: str, **source):
        from weasyprint import CSS

        if key not in self.stylesheets:
            profiles: dict = {}  # @color-profile rules: the press files' output intent
            css = CSS(**source, url_fetcher=self.fetcher, font_config=self.font_config, color_profiles=profiles)
            self.stylesheets[key] = (css, profiles)
        return self.stylesheets[key]

    def pdf(self, doc: Doc) -> bytes:
        """The document's PDF (and, for a sheet, its imposed product's, which
        the pipeline lays out too: bare WeasyPrint's work is both)."""
        from weasyprint import HTML

        if doc.imposed:
            self.pdf(doc.imposed)
        css, profiles = self.stylesheet(doc.stylesheet, filename=LAYOUTS_DIR / doc.stylesheet)
        stylesheets = [css]
        if doc.fit_css:
            stylesheets.append(self.stylesheet(doc.fit_css, string=doc.fit_css)[0])
        html = HTML(string=doc.html, base_url=doc.base_url, url_fetcher=self.fetcher)
        return html.write_pdf(font_config=self.font_config, stylesheets=stylesheets, color_profiles=dict(profiles),
                              cache=self.cache, **doc.pdf_options)


# The bare pool's workers inherit the documents and the imported WeasyPrint
# through fork, as ours inherit the source and WeasyPrint; each sets up its own
# FontConfiguration and stylesheets once.
_bare_docs: list[Doc] = []
_bare_worker: BareWeasyPrint | None = None


def _start_bare_worker() -> None:
    global _bare_worker
    _bare_worker = BareWeasyPrint()


def _bare_pdf(index: int) -> bytes:
    return _bare_worker.pdf(_bare_docs[index])


def bare_build(docs_file: Path, workers: int) -> None:
    """The bare counterpart of `build --jobs N` (run in a subprocess of this
    script): every document printed in this process, or in a forked pool of N
    processes, the PDFs returned to the parent as ours are (but not written)."""
    import multiprocessing

    from materials.workers import library_lookup_by_soname

    with library_lookup_by_soname():  # WeasyPrint's libraries found as the command line finds them
        import weasyprint  # noqa: F401 - imported once, before the pool forks, as ours is
    global _bare_docs
    _bare_docs = pickle.loads(docs_file.read_bytes())
    # As ours does before it renders or forks: the garbage collector leaves
    # what is loaded by now alone, so both sides pay the same for collections.
    gc.freeze()
    if workers <= 1:
        bare = BareWeasyPrint()
        for doc in _bare_docs:
            bare.pdf(doc)
        return
    with multiprocessing.get_context("fork").Pool(workers, _start_bare_worker) as pool:
        for _ in pool.imap(_bare_pdf, range(len(_bare_docs))):
            pass


# --- running things -----------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    stderr: str = ""
    workers_mb: float = 0.0
    parent_mb: float = 0.0
    cpu_seconds: float = 0.0  # the process's and its waited-for children's (a pool's workers)


def children_cpu() -> float:
    """CPU seconds (user and system) of this process's children that have
    ended, and of their own children they waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cli(work: Path, source: Path, out: Path, venues: tuple[str, ...], workers: int, force: bool,
            extra: tuple[str, ...] = ()) -> Run:
    """`make-materials build` in a subprocess: wall time, start-up included."""
    rusage = work / "rusage.json"
    command = [sys.executable, "-c", CLI_WRAPPER, "build", "--source", str(source), "--out", str(out),
               "--jobs", str(workers), *(["--force"] if force else []), *extra]
    for venue in venues:
        command += ["--venue", venue]
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(command, cwd=work, capture_output=True, text=True,
                          env={**CHILD_ENVIRONMENT, "BENCHMARK_RUSAGE": str(rusage)})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"benchmark: the build failed (status {done.returncode}):\n{done.stderr[-3000:]}")
    usage = json.loads(rusage.read_text())
    return Run(seconds, done.stderr, usage["workers_kb"] / 1024, usage["self_kb"] / 1024, children_cpu() - cpu)


def run_startup_probe(work: Path, source: Path) -> float:
    """Seconds for STARTUP_PROBE in a subprocess, as the command line is started."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", STARTUP_PROBE, str(source), str(LAYOUTS_DIR)], cwd=work,
                          capture_output=True, text=True, env=CHILD_ENVIRONMENT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"benchmark: the start-up probe failed:\n{done.stderr[-3000:]}")
    return seconds


def run_bare(work: Path, docs_file: Path, workers: int) -> Run:
    """The bare build in a subprocess of this script, so it pays Python's start-up
    and WeasyPrint's import as the command line does."""
    command = [sys.executable, str(Path(__file__).resolve()), "--bare-build", str(docs_file), "--jobs", str(workers)]
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, env=CHILD_ENVIRONMENT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"benchmark: the bare build failed (status {done.returncode}):\n{done.stderr[-3000:]}")
    return Run(seconds, cpu_seconds=children_cpu() - cpu)


def built_count(stderr: str) -> int:
    """How many files a build made, from its summary line."""
    match = re.search(r"^Built (\d+) files?", stderr, re.MULTILINE)
    return int(match.group(1)) if match else -1


# --- the measurements -----------------------------------------------------------------


@dataclass
class Builds:
    """Per repeat: each full build's time, and the rebuilds' times."""

    ours: dict[int, list[float]] = field(default_factory=dict)   # --jobs N -> seconds per repeat
    bare: dict[int, list[float]] = field(default_factory=dict)
    noop: list[float] = field(default_factory=list)
    edit: list[float] = field(default_factory=list)
    watch_edit: list[float] = field(default_factory=list)  # the same edit, saved while `watch` runs
    startup: list[float] = field(default_factory=list)     # STARTUP_PROBE in a subprocess
    workers_mb: list[float] = field(default_factory=list)
    parent_mb: list[float] = field(default_factory=list)
    edited_venue: str = ""
    edit_rebuilt: int = 0
    noop_rebuilt: int = 0


def measure_builds(work: Path, source: Path, venues: tuple[str, ...], docs_file: Path, repeats: int,
                   edited_venue: str, expected_files: int) -> Builds:
    """Full builds (ours and bare, serial and parallel), then a no-op rebuild and
    a rebuild after editing one venue, `repeats` times. Within a repeat the full
    builds run in rotating order, so a burst of load elsewhere does not always
    land on the same one."""
    out = work / "out"
    counts = sorted({1, 2, CORES})
    builds = Builds({count: [] for count in counts}, {count: [] for count in counts}, edited_venue=edited_venue)
    venue_file = source / "venues" / f"{edited_venue}.yaml"
    for repeat in range(repeats):
        runs = [("ours", count) for count in counts] + [("bare", count) for count in counts]
        shift = repeat % len(runs)
        for kind, count in runs[shift:] + runs[:shift]:
            say(f"  repeat {repeat + 1}/{repeats}: {kind} build, {count} process{'es' if count > 1 else ''}")
            if kind == "ours":
                run = run_cli(work, source, out, venues, count, force=True)
                if built_count(run.stderr) != expected_files:
                    sys.exit(f"benchmark: expected {expected_files} files built:\n{run.stderr[-2000:]}")
                if count > 1:
                    builds.workers_mb.append(run.workers_mb)
                builds.parent_mb.append(run.parent_mb)
                builds.ours[count].append(run.seconds)
            else:
                builds.bare[count].append(run_bare(work, docs_file, count).seconds)
            say(f"    {(builds.ours if kind == 'ours' else builds.bare)[count][-1]:.2f} s")
        # The output folder is now current: a second build has nothing to do.
        run = run_cli(work, source, out, venues, CORES, force=False)
        builds.noop.append(run.seconds)
        builds.noop_rebuilt = built_count(run.stderr)
        say(f"  repeat {repeat + 1}/{repeats}: no-op rebuild {run.seconds:.2f} s ({builds.noop_rebuilt} built)")
        # A harmless edit (a YAML comment) still changes the venue's job keys.
        with venue_file.open("a", encoding="utf-8") as file:
            file.write(f"\n# benchmark edit {repeat + 1}\n")
        run = run_cli(work, source, out, venues, CORES, force=False)
        builds.edit.append(run.seconds)
        builds.edit_rebuilt = built_count(run.stderr)
        say(f"  repeat {repeat + 1}/{repeats}: rebuild after editing {edited_venue}.yaml {run.seconds:.2f} s "
            f"({builds.edit_rebuilt} built)")
        builds.watch_edit.append(watch_edit(work, source, out, venues, venue_file, repeat))
        say(f"  repeat {repeat + 1}/{repeats}: the same edit while `watch` runs {builds.watch_edit[-1]:.2f} s")
        builds.startup.append(run_startup_probe(work, source))
        say(f"  repeat {repeat + 1}/{repeats}: the start-up alone {builds.startup[-1]:.2f} s")
    return builds


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)  # the process closed its stderr: it has ended


WATCH_WRAPPER = """
import sys
sys.argv[0] = "make-materials"
from make_materials import main
main()
"""
WATCHING, WAITING = "Watching ", "Waiting for the next change."


def watch_edit(work: Path, source: Path, out: Path, venues: tuple[str, ...], venue_file: Path, repeat: int) -> float:
    """`watch` in a subprocess: the time from saving an edit to the venue's
    file to the watcher's line saying it is done, for the second edit (the
    first one warms its workers, as a designer's first save does)."""
    command = [sys.executable, "-c", WATCH_WRAPPER, "watch", "--source", str(source), "--out", str(out),
               "--jobs", str(CORES), *(arg for venue in venues for arg in ("--venue", venue))]
    process = subprocess.Popen(command, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=CHILD_ENVIRONMENT)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stderr, lines), daemon=True).start()

    def until(text: str) -> None:
        while True:
            line = lines.get(timeout=300)
            if line is None:
                sys.exit(f"benchmark: the watcher ended (status {process.wait()})")
            if text in line:
                return

    try:
        until(WATCHING)
        seconds = 0.0
        for edit in ("warm-up", "timed"):
            time.sleep(0.5)  # a quiet moment, as between a designer's saves
            started = time.perf_counter()
            with venue_file.open("a", encoding="utf-8") as file:
                file.write(f"\n# benchmark watch edit {repeat + 1} {edit}\n")
            until(WAITING)
            seconds = time.perf_counter() - started
        return seconds
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)


@dataclass
class PerDoc:
    pipeline: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (venue, format) -> seconds
    bare: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    identical: int = 0   # office documents whose bare PDF equals the pipeline's byte for byte
    compared: int = 0


def measure_per_document(jobs, docs: list[Doc], repeats: int) -> PerDoc:
    """Each document through the pipeline (make_pdf, as a serial build runs it)
    and through bare WeasyPrint, one after the other, in alternating order, in
    this one warm process."""
    from materials.source import load_source
    from materials.workers import make_pdf
    from materials.render import Renderer

    renderer = Renderer(load_source(SOURCE_DIR), LAYOUTS_DIR)
    bare = BareWeasyPrint()
    result = PerDoc()
    # Warm up both: fonts loaded, stylesheets parsed, hyphenation dictionaries read.
    # Office files have no finisher: the bare PDF must then be byte-identical,
    # which proves it printed the same thing.
    for job, doc in zip(jobs, docs):
        ours = make_pdf(renderer, job)
        if ours.error:
            sys.exit(f"benchmark: {job.output_path} failed: {ours.error}")
        theirs = bare.pdf(doc)
        if job.product.variant == "office" and not doc.imposed:
            result.compared += 1
            result.identical += ours.pdf == theirs
    say(f"  bare WeasyPrint's PDF is byte-identical to the pipeline's for {result.identical} of "
        f"{result.compared} office documents")
    for repeat in range(repeats):
        say(f"  repeat {repeat + 1}/{repeats}: {len(jobs)} documents, pipeline and bare")
        for number, (job, doc) in enumerate(zip(jobs, docs)):
            key = (job.venue_id, job.format_key)
            steps = [("pipeline", lambda: make_pdf(renderer, job)), ("bare", lambda: bare.pdf(doc))]
            if (repeat + number) % 2:
                steps.reverse()
            for name, step in steps:
                started = time.perf_counter()
                step()
                getattr(result, name).setdefault(key, []).append(time.perf_counter() - started)
    return result


def measure_chromium(work: Path, chromium: str, docs: list[Doc], repeats: int) -> dict[str, float]:
    """Seconds per document by product format, printing one sample document per
    format with a fresh headless Chromium each time. Chromium gets the same HTML,
    with the stylesheet and fit linked in the head and the `fontpkg:` fonts
    rewritten as file: URLs into the installed font packages."""
    from materials.fetch import font_package_folder

    layouts = work / "chromium-layouts"
    shutil.copytree(LAYOUTS_DIR, layouts)
    font_url = re.compile(r"""url\(\s*["']?fontpkg:([^/"')]+)/([^"')]+)["']?\s*\)""")
    for css in layouts.rglob("*.css"):
        css.write_text(font_url.sub(lambda match: f'url("{(font_package_folder(match[1]) / match[2]).as_uri()}")',
                                    css.read_text(encoding="utf-8")), encoding="utf-8")
    profile_dir = work / "chromium-profile"
    seconds: dict[str, list[float]] = {}
    for repeat in range(repeats):
        for doc in docs:
            printed = doc.imposed or doc  # a sheet: the card imposed on it, which is what is laid out
            folder = (layouts / printed.stylesheet).parent
            head = f'<link rel="stylesheet" href="{(layouts / printed.stylesheet).as_uri()}">'
            if printed.fit_css:
                head += f"<style>{printed.fit_css}</style>"
            page = folder / f"benchmark-{doc.venue}-{doc.format_key}.html"
            page.write_text(printed.html.replace("</head>", head + "</head>", 1), encoding="utf-8")
            pdf = work / "chromium.pdf"
            pdf.unlink(missing_ok=True)
            started = time.perf_counter()
            done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                                   f"--user-data-dir={profile_dir}", f"--print-to-pdf={pdf}", page.as_uri()],
                                  capture_output=True, text=True, timeout=120)
            elapsed = time.perf_counter() - started
            if done.returncode != 0 or not pdf.is_file():
                sys.exit(f"benchmark: Chromium failed on {page.name}:\n{done.stderr[-2000:]}")
            seconds.setdefault(doc.format_key, []).append(elapsed)
            say(f"  repeat {repeat + 1}/{repeats}: Chromium {doc.venue}/{doc.format_key} {elapsed:.2f} s")
    return {key: median(values) for key, values in seconds.items()}


def profile_pipeline(jobs) -> None:
    """Where our pipeline's time goes beyond one WeasyPrint render and write:
    each stage timed around the real calls (cheap, so undistorted), in ms per
    document by product, then cProfile's view of our own functions (stderr)."""
    import cProfile
    import pstats

    from materials import preflight, render, workers
    from materials.source import load_source

    renderer = render.Renderer(load_source(SOURCE_DIR), LAYOUTS_DIR)
    totals: dict[str, dict[str, float]] = {}
    current = {"group": ""}

    def add(label: str, seconds: float, count: int = 0) -> None:
        stage = totals.setdefault(current["group"], {})
        stage[label] = stage.get(label, 0.0) + seconds
        if count:
            stage["renders"] = stage.get("renders", 0) + count

    def timed(function, label: str, counts_renders: bool = False):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                add(label, time.perf_counter() - started, int(counts_renders))
        return wrapper

    def timed_template_for(job):
        template = original["template_for"](job)

        class Timed:  # Jinja's own rendering of the layout
            def render(self, context):
                return timed(template.render, "html (Jinja)")(context)
        return Timed()

    def timed_finisher(*args):
        return timed(original["press_finisher"](*args), "press finisher")

    original = {"_layout": renderer._layout, "write_pdf": renderer.write_pdf,
                "write_imposed_pdf": renderer.write_imposed_pdf, "context": renderer.context,
                "template_for": renderer.template_for, "press_finisher": render.press_finisher,
                **{name: getattr(preflight, name)
                   for name in ("measure_regions", "check_layout", "check_glyphs", "check_fonts")}}
    renderer._layout = timed(original["_layout"], "render (all)", counts_renders=True)
    renderer.write_pdf = timed(original["write_pdf"], "write_pdf")
    renderer.write_imposed_pdf = timed(original["write_imposed_pdf"], "write_pdf")
    renderer.context = timed(original["context"], "html (Jinja)")
    renderer.template_for = timed_template_for
    render.press_finisher = timed_finisher
    for name in ("measure_regions", "check_layout", "check_glyphs", "check_fonts"):
        setattr(preflight, name, timed(original[name], name))
    try:
        for job in jobs[:9]:
            workers.make_pdf(renderer, job)  # warm
        totals.clear()
        counts: dict[str, int] = {}
        for job in jobs:
            current["group"] = product_group(job.product)
            counts[current["group"]] = counts.get(current["group"], 0) + 1
            timed(workers.make_pdf, "make_pdf")(renderer, job)
    finally:
        render.press_finisher = original["press_finisher"]
        for name in ("measure_regions", "check_layout", "check_glyphs", "check_fonts"):
            setattr(preflight, name, original[name])
        for name in ("_layout", "write_pdf", "write_imposed_pdf", "context", "template_for"):
            delattr(renderer, name)  # back to the class's methods

    say("\nStage times, ms per document: 'render (all)' is every layout, auto-fit's included ('renders' "
        "per document), and includes 'html (Jinja)'; 'write_pdf' includes 'press finisher':")
    labels = ["make_pdf", "render (all)", "renders", "html (Jinja)", "write_pdf", "press finisher", "check_fonts",
              "check_layout", "check_glyphs", "measure_regions"]
    say("| product | docs | " + " | ".join(labels) + " |")
    say("|---|---|" + "---|" * len(labels))
    for group, stage in totals.items():
        cells = [f"{stage.get(label, 0) / counts[group]:.2f}" if label == "renders"
                 else f"{1000 * stage.get(label, 0) / counts[group]:.1f}" for label in labels]
        say(f"| {group} | {counts[group]} | " + " | ".join(cells) + " |")

    profiler = cProfile.Profile()
    profiler.enable()
    for job in jobs:
        workers.make_pdf(renderer, job)
    profiler.disable()
    say(f"\ncProfile, our own functions by cumulative time over {len(jobs)} documents "
        "(cProfile slows pure-Python code more than WeasyPrint's C libraries):")
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(r"materials[/\\]", 25)


# --- rosters ------------------------------------------------------------------------

ROSTER_FIRST = ("Zoë", "Siobhán", "Anna", "Nguyễn", "محمد", "Gareth", "Aisha", "Tomasz", "Olu", "Priya", "张", "Ελένη")
ROSTER_LAST = ("Smith", "O'Neill", "Nowak-Wójcik", "Văn An", "Khan", "Evans", "Adeyemi", "Patel", "伟", "Jones")


def write_roster(path: Path, rows: int) -> Path:
    """A roster of `rows` attendees, names in several scripts (a Chinese name
    in about one row in six: the CJK font is loaded), and one long name in a
    hundred (its certificate shrinks it: the fit's extra layouts)."""
    lines = ["name,organisation"]
    for row in range(rows):
        name = f"{ROSTER_FIRST[row % len(ROSTER_FIRST)]} {ROSTER_LAST[row * 7 % len(ROSTER_LAST)]} {row}"
        if row % 100 == 50:
            name = "Alexandra " + " ".join(["Montgomery-Fitzwilliam"] * 4) + f" {row}"
        lines.append(f'"{name}",Licensed Driver {row % 13}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as file:
                    parent = int(file.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    tree, stack = [], [pid]
    while stack:
        process = stack.pop()
        tree.append(process)
        stack.extend(children.get(process, []))
    return tree


def _memory_kb(pid: int) -> tuple[int, int]:
    """A process's proportional set size (its shared pages, a forked worker's
    copy-on-write pages, shared out among the processes that share them: the
    tree's sum is the memory it takes) and its resident set size."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as file:
            for line in file:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


@dataclass
class RosterRun:
    label: str
    rows: int
    seconds: float
    peak_mb: float       # the highest sum of the process tree's PSS, sampled every 0.1 s
    process_mb: float    # the highest RSS of any one process in it
    pages: int
    size_mb: float       # the file written (or the split files, in all)


def run_roster(work: Path, command: str, rows: int, *extra: str) -> RosterRun:
    """A roster command in a subprocess, its process tree's memory sampled
    every 0.1 s while it runs."""
    roster = write_roster(work / f"roster-{rows}.csv", rows)
    out = work / f"roster-out-{command}-{rows}{'-split' if extra else ''}"
    shutil.rmtree(out, ignore_errors=True)
    arguments = [command, "--source", str(SOURCE_DIR), "--venue", "taxi-ranks", "--date", "1/12/2026",
                 "--out", str(out), *extra]
    arguments += ["--roster", str(roster)] + (["--trainer", "Sam Trainer", "--duration", "90"]
                                              if command == "certificates" else ["--rows", "1"])
    log = work / "roster.log"
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen([str(Path(sys.executable).parent / "make-materials"), *arguments], cwd=work,
                                   stdout=subprocess.DEVNULL, stderr=stderr, env=CHILD_ENVIRONMENT)
        peak = largest = 0
        while process.poll() is None:
            sizes = [_memory_kb(pid) for pid in _process_tree(process.pid)]
            peak = max(peak, sum(pss for pss, _ in sizes))
            largest = max([largest, *(rss for _, rss in sizes)])
            time.sleep(0.1)
    seconds = time.perf_counter() - started
    text = log.read_text(encoding="utf-8")
    if process.returncode != 0:
        sys.exit(f"benchmark: `{command}` for {rows} rows failed (status {process.returncode}):\n{text[-3000:]}")
    pages = int(re.search(r"\((\d+) pages?\)", text.splitlines()[-1])[1])
    files = [path for path in out.rglob("*.pdf")]
    label = f"`{command}{' ' + ' '.join(extra) if extra else ''}`, {rows:,} attendees"
    return RosterRun(label, rows, seconds, peak / 1024, largest / 1024, pages,
                     sum(path.stat().st_size for path in files) / 1e6)


def measure_rosters(work: Path, sizes: tuple[int, ...]) -> list[RosterRun]:
    runs = []
    for rows in sizes:
        say(f"Certificates for {rows:,} attendees")
        runs.append(run_roster(work, "certificates", rows))
    say(f"Certificates for {sizes[0]:,} attendees, --split")
    runs.append(run_roster(work, "certificates", sizes[0], "--split"))
    say(f"A sign-in sheet for {sizes[0]:,} attendees")
    runs.append(run_roster(work, "sign-in", sizes[0]))
    return runs


def roster_table(runs: list[RosterRun]) -> list[str]:
    rows = [("measurement", "value", "target", "result"), ("---", "---", "---", "---")]
    for run in runs:
        rows.append((f"{run.label}: the CLI in a subprocess, `--jobs {CORES}`",
                     f"{run.seconds:.1f} s ({1000 * run.seconds / run.rows:.1f} s per 1,000 rows), {run.pages:,} "
                     f"pages, {run.size_mb:.1f} MB written; peak memory {run.peak_mb:.0f} MB (one process at most "
                     f"{run.process_mb:.0f} MB)", f"<= {TARGETS['roster_mb']} MB",
                     verdict(run.peak_mb <= TARGETS["roster_mb"])))
    joined = [run for run in runs if run.label.startswith("`certificates`")]
    if len(joined) >= 2:
        small, large = joined[0], joined[-1]
        ratio = (large.seconds / large.rows) / (small.seconds / small.rows)
        rows.append((f"Time per row, {large.rows:,} attendees / {small.rows:,} (linear: 1)", f"x{ratio:.2f}",
                     f"<= {TARGETS['roster_linear']:.2f}", verdict(ratio <= TARGETS["roster_linear"])))
    return ["| " + " | ".join(cell for cell in row) + " |" for row in rows]


# --- a nation of areas, on the local pool and on a Dask cluster (--cluster) --------------------

# Issue 19's national matrix: upper-tier councils in England x venue types x
# files per venue (7 office files, 4 for the print shop); the languages
# multiply it.
NATIONAL_COUNCILS, NATIONAL_VENUES, NATIONAL_FILES = 150, 10, 11
MATRIX_CORES = (2, 16, 64)
CLUSTER_WORKERS = 2
CLUSTER_AREAS_DEFAULT = 20
OFFICE_AREAS = ("--area", "all", "--variant", "office")
CLUSTER_TARGETS = {
    "dask": 0.90,   # Dask's files per second per core / the local pool's
    "noop": 0.02,   # a national build with nothing to do / the full one
}


def write_drama_areas(source: Path, count: int) -> list[str]:
    """Replace the copy's area profiles by `count` fictional councils, each
    with two numbers in Ofcom's drama range (01632 960000 to 960999, never
    given to a real line) and an example.org address. Returns their ids."""
    if not 1 <= count <= 499:
        sys.exit("benchmark: --areas must be 1 to 499 (two drama-range numbers an area, 1,000 in the range)")
    for path in (source / "areas").glob("*.yaml"):
        path.unlink()
    ids = []
    for number in range(1, count + 1):
        area_id = f"drama-borough-{number:03d}"
        (source / "areas" / f"{area_id}.yaml").write_text(
            f"council: Drama Borough {number} Council (fictional)\n"
            "children_services:\n"
            "  name: Children’s services\n"
            f'  number: "01632 960{2 * number:03d}"\n'
            "  hours: Monday to Friday, 9am to 5pm\n"
            "out_of_hours:\n"
            "  name: Out of hours\n"
            f'  number: "01632 960{2 * number + 1:03d}"\n'
            f"web: https://example.org/drama-borough-{number}\n"
            "reviewed: 2026-11-25\n"
            "source: Generated by tests/benchmark.py; numbers from the Ofcom drama range\n"
            "fictional: true\n", encoding="utf-8")
        ids.append(area_id)
    return ids


def require_dask_settings() -> None:
    """Stop unless the LocalCluster will run with the project's Dask settings
    (materials/dask.yaml, which .ci/setup puts where Dask reads it), as the
    README tells a coordinator to run a cluster."""
    import dask
    import yaml

    def leaves(tree: dict, prefix: str = ""):
        for key, value in tree.items():
            if isinstance(value, dict):
                yield from leaves(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}", value

    settings = yaml.safe_load((PROJECT_DIR / "materials" / "dask.yaml").read_text(encoding="utf-8"))
    missing = [name for name, value in leaves(settings) if dask.config.get(name) != value]
    if missing:
        sys.exit(f"benchmark: Dask runs without materials/dask.yaml's {', '.join(missing)}: run `bash .ci/setup`")


def cluster_cpu_seconds() -> float:
    """CPU seconds so far of this process (the LocalCluster's scheduler runs
    in it) and of its living descendants (the Dask nannies and workers)."""
    import psutil  # comes with distributed

    total = time.process_time()
    for process in psutil.Process().children(recursive=True):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def made_files(stderr: str) -> list[str]:
    """The files a build made, from its progress lines."""
    return re.findall(r"^\[\d+/\d+\] (\S+)  \d+ pages?", stderr, re.MULTILINE)


@dataclass
class ClusterBuilds:
    files: int = 0
    local: list[float] = field(default_factory=list)   # seconds per repeat
    dask: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    # CPU seconds per repeat, every process of the build counted: the command
    # and its pool's workers; with Dask also its workers, their nannies and the
    # scheduler (which runs in this process).
    local_cpu: list[float] = field(default_factory=list)
    dask_cpu: list[float] = field(default_factory=list)
    bare_cpu: list[float] = field(default_factory=list)
    noop: list[float] = field(default_factory=list)
    noop_made: int = 0
    edit: list[float] = field(default_factory=list)
    edit_made: list[str] = field(default_factory=list)
    edited_area: str = ""
    area_files: int = 0   # files an area has in this selection


def measure_cluster(work: Path, source: Path, area_ids: list[str], repeats: int) -> ClusterBuilds:
    """Every office file of every area, on the local pool (`--jobs` = cores),
    on a Dask LocalCluster of two single-threaded worker processes on this
    machine's cores, and as bare WeasyPrint (a forked pool, as the full run's);
    then a build with nothing to do, and one after editing one area's file."""
    from distributed import LocalCluster

    from materials.jobs import Selection, plan_jobs

    require_dask_settings()
    from materials.source import load_source

    out = work / "out"
    say(f"Warming up: one local build of {len(area_ids)} areas' office files, whose manifest gives each file's fit")
    run = run_cli(work, source, out, (), CORES, force=True, extra=OFFICE_AREAS)
    builds = ClusterBuilds(files=built_count(run.stderr), edited_area=area_ids[0])
    jobs = plan_jobs(load_source(source), Selection(variants=("office",), areas=tuple(area_ids)))
    if builds.files != len(jobs):
        sys.exit(f"benchmark: expected {len(jobs)} files built:\n{run.stderr[-2000:]}")
    builds.area_files = len(jobs) // len(area_ids)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    say(f"  {run.seconds:.1f} s; the bare documents' HTML")
    docs_file = work / "docs.pickle"
    docs_file.write_bytes(pickle.dumps(make_docs(jobs, {entry["file"]: entry["fit_scales"]
                                                        for entry in manifest["files"]}, source)))
    with LocalCluster(n_workers=CLUSTER_WORKERS, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        on_cluster = ("--scheduler", cluster.scheduler_address)
        # A cluster's workers are long-lived: they import WeasyPrint and set
        # up from the layouts once, not once a build as a forked pool does.
        say("Warming up the Dask workers: one area's wallet cards")
        run_cli(work, source, work / "out-warm-up", (), CORES, force=True,
                extra=("--area", area_ids[0], "--product", "wallet-card", "--variant", "office", *on_cluster))
        for repeat in range(repeats):
            runs = ["local", "dask", "bare"]
            shift = repeat % len(runs)
            for kind in runs[shift:] + runs[:shift]:
                say(f"  repeat {repeat + 1}/{repeats}: {kind}, {builds.files} files")
                cluster_cpu = cluster_cpu_seconds()
                if kind == "bare":
                    run = run_bare(work, docs_file, CORES)
                else:
                    extra = OFFICE_AREAS + (on_cluster if kind == "dask" else ())
                    run = run_cli(work, source, out, (), CORES, force=True, extra=extra)
                    if built_count(run.stderr) != builds.files:
                        sys.exit(f"benchmark: expected {builds.files} files built:\n{run.stderr[-2000:]}")
                cpu = run.cpu_seconds + (cluster_cpu_seconds() - cluster_cpu if kind == "dask" else 0.0)
                getattr(builds, kind).append(run.seconds)
                getattr(builds, f"{kind}_cpu").append(cpu)
                say(f"    {run.seconds:.1f} s, {cpu:.1f} CPU-s")
            run = run_cli(work, source, out, (), CORES, force=False, extra=OFFICE_AREAS)
            builds.noop.append(run.seconds)
            builds.noop_made = len(made_files(run.stderr))
            say(f"  repeat {repeat + 1}/{repeats}: nothing to do {run.seconds:.2f} s ({builds.noop_made} made)")
            with (source / "areas" / f"{builds.edited_area}.yaml").open("a", encoding="utf-8") as file:
                file.write(f"\n# benchmark edit {repeat + 1}\n")
            run = run_cli(work, source, out, (), CORES, force=False, extra=OFFICE_AREAS)
            builds.edit.append(run.seconds)
            builds.edit_made = made_files(run.stderr)
            say(f"  repeat {repeat + 1}/{repeats}: after editing {builds.edited_area}.yaml {run.seconds:.1f} s "
                f"({len(builds.edit_made)} made)")
    return builds


def cluster_table(builds: ClusterBuilds, areas: int) -> list[str]:
    """Throughput two ways: by wall time (files a second per core: what a
    machine to itself would see, if nothing else ran), and by CPU time (files
    per CPU-second, every process of the build counted), which a shared,
    loaded machine disturbs far less. The Dask target is judged on CPU time."""
    rows = [("measurement", "value", "target", "result"), ("---", "---", "---", "---")]

    def per_core(seconds: list[float]) -> float:
        return builds.files / median(seconds) / CORES

    def per_cpu_second(cpu: list[float]) -> float:
        return builds.files / median(cpu)

    for label, seconds, cpu in (
            (f"Local pool, `build --force --jobs {CORES}`", builds.local, builds.local_cpu),
            (f"Dask LocalCluster, {CLUSTER_WORKERS} worker processes x 1 thread, `build --force --scheduler`",
             builds.dask, builds.dask_cpu),
            (f"Bare WeasyPrint, a {CORES}-process fork pool, the same documents", builds.bare, builds.bare_cpu)):
        rows.append((f"{label}: {builds.files} files ({areas} areas x {builds.area_files} office files)",
                     f"{median(seconds):.1f} s wall: {per_core(seconds):.3f} files/s per core; "
                     f"{median(cpu):.1f} CPU-s: {per_cpu_second(cpu):.3f} files per CPU-second "
                     f"({median(cpu) / builds.files:.2f} CPU-s a file)", "", "info"))
    by_cpu = per_cpu_second(builds.dask_cpu) / per_cpu_second(builds.local_cpu)
    rows.append(("Dask / local pool: files per CPU-second, every process counted", f"{by_cpu:.0%}",
                 f">= {CLUSTER_TARGETS['dask']:.0%}", verdict(by_cpu >= CLUSTER_TARGETS["dask"])))
    by_wall = median([local / dask for local, dask in zip(builds.local, builds.dask)])
    rows.append(("... the same by wall time on the same 2 cores (median of each repeat's ratio; the host's other "
                 "load moves it)", f"{by_wall:.0%}", "", "info"))
    rows.append(("Local pool / bare WeasyPrint: files per CPU-second",
                 f"{per_cpu_second(builds.local_cpu) / per_cpu_second(builds.bare_cpu):.0%}", "", "info"))
    noop = median([seconds / full for seconds, full in zip(builds.noop, builds.local)])
    rows.append(("A build with nothing to do, as % of the full local build",
                 f"{noop:.2%} ({median(builds.noop):.2f} s, {builds.noop_made} files made)",
                 f"<= {CLUSTER_TARGETS['noop']:.0%}", verdict(noop <= CLUSTER_TARGETS["noop"])))
    only_area = (len(builds.edit_made) == builds.area_files
                 and all(name.startswith(builds.edited_area + "/") for name in builds.edit_made))
    edit = median([seconds / full for seconds, full in zip(builds.edit, builds.local)])
    rows.append((f"Rebuild after editing one area's file ({builds.edited_area}.yaml)",
                 f"{len(builds.edit_made)} files made, {'all' if only_area else 'not only'} that area's "
                 f"{builds.area_files}; {median(builds.edit):.1f} s, {edit:.1%} of the full build",
                 "that area's files only", verdict(only_area)))
    return ["| " + " | ".join(row) + " |" for row in rows]


def national_matrix(builds: ClusterBuilds) -> list[str]:
    """The full national matrix's wall time, on paper, from the measured cost
    per file (the local pool's and Dask's CPU-seconds a file, every process
    and the start-up included), for one language and for three (English,
    Welsh, Urdu), on cores kept busy and not shared."""
    cost = {"local pool": median(builds.local_cpu) / builds.files,
            "Dask": median(builds.dask_cpu) / builds.files}
    lines = ["| languages | files | cost a file (measured) | " + " | ".join(f"{cores} cores" for cores in MATRIX_CORES)
             + " |", "|---|---|---|" + "---|" * len(MATRIX_CORES)]
    for languages in (1, 3):
        files = NATIONAL_COUNCILS * NATIONAL_VENUES * NATIONAL_FILES * languages
        for engine, seconds in cost.items():
            walls = [files * seconds / cores for cores in MATRIX_CORES]
            lines.append(f"| {languages} | {files:,} | {seconds:.2f} CPU-s ({engine}) | "
                         + " | ".join(f"{wall / 3600:.1f} h" if wall >= 3600 else f"{wall / 60:.0f} min"
                                      for wall in walls) + " |")
    return lines


# --- the table --------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def table(builds: Builds, per_doc: PerDoc, chromium: dict[str, float] | None, chromium_note: str,
          jobs, docs: list[Doc], venues_count: int) -> list[str]:
    rows = [("measurement", "value", "target", "result"), ("---", "---", "---", "---")]
    full = {count: median(times) for count, times in builds.ours.items()}
    for count in sorted(full):
        label = " = cores (the default)" if count == CORES else ""
        rows.append((f"Full build, `--jobs {count}`{label}: the CLI in a subprocess, start-up included",
                     f"{full[count]:.1f} s ({len(jobs)} files)", "", "info"))

    # Per document, by product: medians over documents of each one's median over repeats.
    groups: dict[str, list] = {}
    for job in jobs:
        groups.setdefault(product_group(job.product), []).append((job.venue_id, job.format_key))
    for group, keys in groups.items():
        ours = {key: median(per_doc.pipeline[key]) for key in keys}
        bare = {key: median(per_doc.bare[key]) for key in keys}
        ratio = sum(ours.values()) / sum(bare.values())
        rows.append((f"Per document, median: {group} ({len(keys)} docs)",
                     f"{1000 * median(ours.values()):.0f} ms; bare WeasyPrint {1000 * median(bare.values()):.0f} ms; "
                     f"pipeline / bare x{ratio:.2f} (sum over these docs)", "", "info"))
    def overhead(keys) -> str:
        ours = sum(median(per_doc.pipeline[key]) for key in keys)
        bare = sum(median(per_doc.bare[key]) for key in keys)
        return f"x{ours / bare:.2f} ({ours:.1f} s / {bare:.1f} s, {len(keys)} docs)", ours / bare

    # The target applies to office files: there bare WeasyPrint's PDF is the
    # pipeline's, byte for byte (checked), so the ratio is all our own work.
    # Press files are not like for like: bare WeasyPrint's PDF/X-4 output
    # intent compresses the ICC profile for every file (~0.4 s), which our
    # press finisher avoids by embedding it compressed once per process.
    office = [(job.venue_id, job.format_key) for job in jobs if job.product.variant == "office"]
    fitted = {(doc.venue, doc.format_key) for doc in docs if doc.fit_css}
    office_text, office_ratio = overhead(office)
    rows.append(("Pipeline overhead: pipeline / bare WeasyPrint, one process, office files",
                 f"{office_text}; bare's PDF byte-identical to ours for {per_doc.identical} of {per_doc.compared}",
                 f"<= {TARGETS['overhead']:.2f}", verdict(office_ratio <= TARGETS["overhead"])))
    rows.append(("... the same, office files that needed no auto-fit (no extra layouts)",
                 overhead([key for key in office if key not in fitted])[0], "", "info"))
    rows.append(("... all documents, press files included (bare pays its PDF/X-4 ICC compression, we do not)",
                 overhead(list(per_doc.pipeline))[0], "", "info"))

    # Speed-up of 2 processes over 1, ours and a bare pool's, side by side per repeat.
    ours_speedups = [one / two for one, two in zip(builds.ours[1], builds.ours[2])]
    bare_speedups = [one / two for one, two in zip(builds.bare[1], builds.bare[2])]
    share = median([ours / bare for ours, bare in zip(ours_speedups, bare_speedups)])
    rows.append(("Speed-up of `--jobs 2` over `--jobs 1`: ours / a bare 2-process fork pool's",
                 f"{share:.0%} (ours x{median(ours_speedups):.2f}, bare x{median(bare_speedups):.2f}; "
                 f"bare builds {median(builds.bare[1]):.1f} s / {median(builds.bare[2]):.1f} s)",
                 f">= {TARGETS['parallel']:.0%}", verdict(share >= TARGETS["parallel"])))

    default = builds.ours[CORES]
    noop = median([seconds / full_seconds for seconds, full_seconds in zip(builds.noop, default)])
    rows.append(("No-op rebuild (nothing changed), CLI, as % of the full default build",
                 f"{noop:.1%} ({median(builds.noop):.2f} s, {builds.noop_rebuilt} files built)",
                 f"<= {TARGETS['noop']:.0%}", verdict(noop <= TARGETS["noop"])))
    edit = median([seconds / full_seconds for seconds, full_seconds in zip(builds.edit, default)])
    rows.append((f"Rebuild after editing one venue's YAML ({builds.edited_venue}), CLI, as % of the full default "
                 "build", f"{edit:.1%} ({median(builds.edit):.2f} s, {builds.edit_rebuilt} files built)",
                 f"<= {TARGETS['edit']:.0%}", verdict(edit <= TARGETS["edit"])))
    startup = median([seconds / full_seconds for seconds, full_seconds in zip(builds.startup, default)])
    rows.append(("... the start-up alone that any build which renders pays before its first file (Python, the "
                 "command line, the input hashes, pydantic and the source, WeasyPrint), as % of the full default "
                 "build", f"{startup:.1%} ({median(builds.startup):.2f} s)", "", "info"))
    watched = median([seconds / full_seconds for seconds, full_seconds in zip(builds.watch_edit, default)])
    rows.append(("... the same edit saved while `watch` runs (its workers warm), from the save to the watcher "
                 "done, as % of the full default build",
                 f"{watched:.1%} ({median(builds.watch_edit):.2f} s)", f"<= {TARGETS['edit']:.0%}",
                 verdict(watched <= TARGETS["edit"])))

    if chromium is None:
        rows.append(("Whole default build vs headless Chromium, one launch per document", f"skipped: {chromium_note}",
                     f">= {TARGETS['chromium']:g}x faster", "skipped"))
    else:
        estimate = sum(chromium[key] * venues_count for key in chromium)
        factor = estimate / full[CORES]
        rows.append(("Whole default build vs headless Chromium, one launch per document (one sample per product, "
                     "extrapolated)",
                     f"ours {factor:.1f}x faster (Chromium ~{estimate:.0f} s for {len(jobs)} documents, "
                     f"{min(chromium.values()):.2f}-{max(chromium.values()):.2f} s each; ours {full[CORES]:.1f} s)",
                     f">= {TARGETS['chromium']:g}x faster", verdict(factor >= TARGETS["chromium"])))

    worker_mb = max(builds.workers_mb)
    rows.append((f"Peak memory per worker (RSS high-water mark, `--jobs {max(CORES, 2)}`)",
                 f"{worker_mb:.0f} MB (the parent process: {max(builds.parent_mb):.0f} MB)",
                 f"<= {TARGETS['worker_mb']} MB", verdict(worker_mb <= TARGETS["worker_mb"])))
    return ["| " + " | ".join(cell for cell in row) + " |" for row in rows]


# --- main ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"a sanity run: only {', '.join(QUICK_VENUES)}, one repeat of each measurement")
    parser.add_argument("--repeats", type=int, default=None, help="repeats of each measurement (default 3, quick 1)")
    parser.add_argument("--profile", action="store_true",
                        help="also time the pipeline's stages and print a cProfile summary (stderr)")
    parser.add_argument("--no-chromium", action="store_true", help="skip the Chromium comparison")
    parser.add_argument("--save", type=Path, metavar="FILE.json", help="also save every raw timing to FILE.json")
    parser.add_argument("--rosters", action="store_true",
                        help="measure only the roster products: certificates for 1,000 and 10,000 attendees (with "
                             "--quick 200 and 1,000), --split and a sign-in sheet for the smaller number")
    parser.add_argument("--cluster", action="store_true",
                        help="measure only a nation of generated areas (office files): the local pool, a Dask "
                             "LocalCluster of 2 workers and bare WeasyPrint, a build with nothing to do, one area "
                             "edited; and the national matrix's wall time on paper (1 repeat unless --repeats)")
    parser.add_argument("--areas", type=int, default=CLUSTER_AREAS_DEFAULT,
                        help=f"with --cluster: how many generated areas (default {CLUSTER_AREAS_DEFAULT})")
    parser.add_argument("--bare-build", type=Path, help=argparse.SUPPRESS)  # internal: the bare build's subprocess
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_build:
        bare_build(args.bare_build, args.jobs)
        return
    if args.cluster:
        started = time.perf_counter()
        load_before = os.getloadavg()
        repeats = args.repeats or 1
        with tempfile.TemporaryDirectory(prefix="make-materials-benchmark-") as temporary:
            work = Path(temporary)
            (work / "tmp").mkdir()
            CHILD_ENVIRONMENT["TMPDIR"] = str(work / "tmp")
            tempfile.tempdir = str(work / "tmp")
            source = work / "source"
            shutil.copytree(SOURCE_DIR, source)
            area_ids = write_drama_areas(source, args.areas)
            builds = measure_cluster(work, source, area_ids, repeats)
        print("\n".join(cluster_table(builds, len(area_ids))))
        print()
        print("\n".join(national_matrix(builds)))
        print()
        print(f"Machine: {platform.machine()}, {CORES} cores (`nproc` {len(os.sched_getaffinity(0))}), Python "
              f"{platform.python_version()}; load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} "
              f"after; {len(area_ids)} generated areas, {repeats} repeat(s), medians; "
              f"{time.perf_counter() - started:.0f} s in all.")
        if args.save:
            args.save.write_text(json.dumps(dataclasses.asdict(builds), indent=1) + "\n", encoding="utf-8")
        return
    if args.rosters:
        started = time.perf_counter()
        load_before = os.getloadavg()
        with tempfile.TemporaryDirectory(prefix="make-materials-benchmark-") as temporary:
            runs = measure_rosters(Path(temporary), (200, 1000) if args.quick else (1000, 10_000))
        print("\n".join(roster_table(runs)))
        print()
        print(f"Machine: {platform.machine()}, {CORES} cores, Python {platform.python_version()}; load average "
              f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after; {time.perf_counter() - started:.0f} s "
              "in all. Peak memory: the highest sum, sampled every 0.1 s, of the proportional set sizes of the "
              "command and its worker processes (pages they share counted once).")
        if args.save:
            args.save.write_text(json.dumps([dataclasses.asdict(run) for run in runs], indent=1) + "\n",
                                 encoding="utf-8")
        return

    from materials.jobs import Selection, plan_jobs
    from materials.source import load_source

    repeats = args.repeats or (1 if args.quick else 3)
    venues = QUICK_VENUES if args.quick else ()
    jobs = plan_jobs(load_source(SOURCE_DIR), Selection(venues=venues))
    venues_count = len({job.venue_id for job in jobs})
    load_before = os.getloadavg()
    started = time.perf_counter()
    say(f"benchmark: {len(jobs)} documents, {venues_count} venues, {repeats} repeat(s), {CORES} cores, "
        f"load average {load_before[0]:.2f}")

    with tempfile.TemporaryDirectory(prefix="make-materials-benchmark-") as temporary:
        work = Path(temporary)
        # Bare WeasyPrint's pool workers (and Chromium) leave temporary files
        # behind: everything this run makes goes under `work`, removed at the end.
        (work / "tmp").mkdir()
        CHILD_ENVIRONMENT["TMPDIR"] = str(work / "tmp")
        tempfile.tempdir = str(work / "tmp")
        # The builds read a copy of source/, so one venue can be edited; job keys
        # include the source's path, so every build here uses the copy.
        source = work / "source"
        shutil.copytree(SOURCE_DIR, source)

        say("Warming up: one build (disk cache, bytecode), whose manifest gives each file's fit")
        run_cli(work, source, work / "out", venues, CORES, force=True)
        manifest = json.loads((work / "out" / "manifest.json").read_text(encoding="utf-8"))
        docs = make_docs(jobs, {entry["file"]: entry["fit_scales"] for entry in manifest["files"]})
        docs_file = work / "docs.pickle"
        docs_file.write_bytes(pickle.dumps(docs))

        say("Full builds, ours and bare, then a no-op rebuild and a one-venue edit")
        edited = EDITED_VENUE if any(job.venue_id == EDITED_VENUE for job in jobs) else jobs[0].venue_id
        builds = measure_builds(work, source, venues, docs_file, repeats, edited, len(jobs))

        say("Per document: the pipeline against bare WeasyPrint, in one process")
        per_doc = measure_per_document(jobs, docs, repeats)

        chromium_path = None if args.no_chromium else (
            shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome"))
        chromium, chromium_note = None, "--no-chromium" if args.no_chromium else (
            "chromium is not installed (`apt-get install -y chromium`)")
        if chromium_path:
            say(f"Chromium ({chromium_path}): one sample document per product")
            sample_venue = EDITED_VENUE if any(doc.venue == EDITED_VENUE for doc in docs) else docs[0].venue
            chromium = measure_chromium(work, chromium_path, [doc for doc in docs if doc.venue == sample_venue],
                                        repeats)

        if args.profile:
            say("Profiling the pipeline")
            profile_pipeline(jobs)

    load_after = os.getloadavg()
    if args.save:
        raw = {"builds": dataclasses.asdict(builds),
               "per_document": {name: {"/".join(key): times for key, times in getattr(per_doc, name).items()}
                                for name in ("pipeline", "bare")},
               "chromium": chromium, "cores": CORES, "load_average": [load_before, load_after]}
        args.save.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    lines = table(builds, per_doc, chromium, chromium_note, jobs, docs, venues_count)
    print("\n".join(lines))
    print()
    import weasyprint

    print(f"Machine: {platform.machine()}, {CORES} cores (`nproc` {len(os.sched_getaffinity(0))}), "
          f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; "
          f"{'quick run (' + ', '.join(QUICK_VENUES) + ')' if args.quick else 'full run'}, "
          f"{repeats} repeat(s), medians; {time.perf_counter() - started:.0f} s in all.")
    if chromium is not None:
        print("Chromium printed the same HTML with the fonts as file: URLs; it ignores bleed, crop marks, CMYK "
              "and PDF/X, so its job is the easier one.")


if __name__ == "__main__":
    main()
