"""make-materials: print-ready CSE awareness materials from one YAML source.

Every product (posters, wallet cards, trainer handouts) for every venue type is
rendered from `source/` through the layouts in `layouts/`. Progress and errors go
to stderr. Exit codes: 0 ok, 1 a content or render problem, 2 a usage error.

The model and translations (pydantic) are imported by the commands that load
the source: a build with nothing to do answers before it would need them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from pathlib import Path

import click

from materials.errors import MaterialsError, SourceError, display_path
from materials.jobs import ALL_AREAS, NATIONAL, PRODUCT_FORMATS, PRODUCT_KINDS, VARIANTS, Job, Selection, Session
from materials.pipeline import BuildResult, build as run_build, make_roster_file
from materials.reviews import due
from materials.workers import JobResult, RenderPool
from materials.roster import DATE_FORMS, MAX_BYTES, MAX_ROWS, Attendee, RosterFonts, parse_date, read_roster
from materials.text import plural
from materials.write import read_manifest

PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_LAYOUTS = PROJECT_DIR / "layouts"

source_option = click.option(
    "--source", "source_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("source"),
    show_default=True, help="Folder holding content.yaml, organisation.yaml and venues/.")
layouts_option = click.option(
    "--layouts", "layouts_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=DEFAULT_LAYOUTS, show_default="the project's layouts/",
    help="Folder of Jinja2 layouts and stylesheets.")


def selection_options(command):
    """--venue, --product and --variant: which files a command makes or checks."""
    command = click.option(
        "--variant", "variants", multiple=True, type=click.Choice(VARIANTS),
        help="Only office files (for desktop printers) or press files (for a print shop: "
             "bleed, crop marks, PDF/X-4). Repeatable.")(command)
    command = click.option("--product", "kinds", multiple=True, type=click.Choice(PRODUCT_KINDS),
                           help="Only this product. Repeatable.")(command)
    command = click.option("--venue", "venue_ids", multiple=True, metavar="ID",
                           help="Only this venue (see `make-materials list`). Repeatable.")(command)
    command = click.option(
        "--lang", "langs", multiple=True, metavar="TAG",
        help="Only this language: en (English), a translation in source/translations/ (e.g. cy, ur), or a "
             "pseudo-locale for testing layouts (en-XA: 40% longer, ar-XB: right to left). Repeatable. "
             "Default: English and every reviewed translation; a draft translation is made only when named, "
             "and prints \"Draft translation: not for distribution\" on every page.")(command)
    return command


def require_known_venues(source_dir: Path, venue_ids: tuple[str, ...]) -> None:
    known = sorted(path.stem for path in (source_dir / "venues").glob("*.yaml"))
    unknown = [venue for venue in venue_ids if venue not in known]
    if unknown and known:  # with no venues at all, the build reports the source problem
        raise click.BadParameter(f"unknown venue {', '.join(unknown)}; choose from: {', '.join(known)}",
                                 param_hint="--venue")


def require_known_selection(source_dir: Path, venue_ids: tuple[str, ...], langs: tuple[str, ...],
                            area_ids: tuple[str, ...]) -> tuple[str | None, ...]:
    """Unknown --venue, --lang or --area values are usage errors (exit 2).
    Returns the areas asked for (None: the national edition)."""
    require_known_venues(source_dir, venue_ids)
    require_known_languages(source_dir, langs)
    return known_areas(source_dir, area_ids)


def require_known_languages(source_dir: Path, langs: tuple[str, ...]) -> None:
    if not langs:
        return
    from materials.translate import PSEUDO_LOCALES

    known = ["en", *sorted(path.stem for path in (source_dir / "translations").glob("*.yaml")), *PSEUDO_LOCALES]
    unknown = [tag for tag in langs if tag not in known]
    if unknown:
        raise click.BadParameter(f"unknown language {', '.join(unknown)}; choose from: {', '.join(known)}",
                                 param_hint="--lang")


def say(message: str = "") -> None:
    click.echo(message, err=True)


@contextlib.contextmanager
def user_errors(out_dir: Path | None = None):
    """A user's mistake (in the source, a layout, or where to write) ends the
    command with a clear message and status 1, never a traceback."""
    try:
        yield
    except SourceError as error:
        fail_on_source_error(error)
    except MaterialsError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        doing = "cannot write to" if out_dir else "cannot read"
        raise click.ClickException(f"{doing} {error.filename or out_dir}: {error.strerror}") from None


def fail_on_source_error(error: SourceError, what: str = "the source") -> None:
    count = len(error.problems)
    for problem in error.problems:
        say(f"error: {problem}")
    raise click.ClickException(f"{what} has {count} problem{'s' if count != 1 else ''}; nothing was written")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Turn the CSE awareness content in source/ into print-ready PDFs:
    posters, staff wallet cards and trainer handouts for every venue type.

    \b
    Typical use:
      make-materials check            validate the source, write nothing
      make-materials build            make every PDF into output/
      make-materials build --venue hotels --product poster
      make-materials watch --venue hotels   build again on every edit
    """


out_option = click.option(
    "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("output"), show_default=True,
    help="Folder the PDFs, manifest.json and the catalogue (index.html) are written to.")
jobs_option = click.option(
    "--jobs", "workers", type=click.IntRange(1, 64), default=os.cpu_count() or 1,
    show_default="the number of cores", help="Render in this many processes at once.")
area_option = click.option(
    "--area", "area_ids", metavar="ID", multiple=True,
    help="Print this council area's reporting contacts (source/areas/ID.yaml) instead of the write-in space; "
         "files go to OUT/ID/<venue>/. Repeatable: `--area all` is every area in source/areas, `--area national` "
         "the national edition (no area, files in OUT/<venue>/), which is the default without --area.")


strict_option = click.option(
    "--strict", is_flag=True,
    help="For a print run: treat every warning as a failure (exit status 1). Warnings are the items to check "
         "before printing (an item marked check_before_print, a reviewed: date more than 12 months old; "
         "`make-materials check --no-render` lists them) and a file's preflight warnings (any text set "
         "smaller than its design size to fit, a poster line ending in one short word), also those recorded for "
         "files kept unchanged. What is written is the same as without it.")

FACTS_README = 'README, "Where the facts come from"'


def report_reviews(items: list[str], listed: bool) -> None:
    """The items to check before printing: one line each when `listed`, else a
    line that counts them and says where the list is."""
    if listed:
        for item in items:
            say(f"warning: {item}")
    if items and listed:
        say(f"{plural(len(items), 'item')} to check before printing: see {FACTS_README}.")
    elif items:
        them = "them" if len(items) != 1 else "it"
        say(f"warning: {plural(len(items), 'item')} to check before printing: `make-materials check --no-render` "
            f"lists {them}, and `build --strict` fails on {them}.")


def build_options(command):
    """The options `build` and `watch` share, so that watch builds exactly what
    build would: from where, what, into where, in how many processes."""
    for option in reversed((source_option, layouts_option, out_option, selection_options, jobs_option, area_option)):
        command = option(command)
    return command


def known_areas(source_dir: Path, area_ids: tuple[str, ...]) -> tuple[str | None, ...]:
    """The areas `--area` names, in order, each once: `all` for every profile
    in source/areas, `national` (None) for the edition without one."""
    profiles = sorted(path.stem for path in (source_dir / "areas").glob("*.yaml"))
    unknown = [area for area in area_ids if area not in (*profiles, ALL_AREAS, NATIONAL)]
    if unknown:
        raise click.BadParameter(f"unknown area {', '.join(unknown)}; choose from: "
                                 f"{', '.join([*profiles, ALL_AREAS, NATIONAL])}", param_hint="--area")
    chosen = [area for given in area_ids
              for area in (profiles if given == ALL_AREAS else [None] if given == NATIONAL else [given])]
    return tuple(dict.fromkeys(chosen))


def selection_of(venue_ids: tuple[str, ...], kinds: tuple[str, ...], variants: tuple[str, ...],
                 langs: tuple[str, ...], areas: tuple[str | None, ...]) -> Selection:
    """The files the selection options ask for; `areas` as known_areas gives them."""
    return Selection(venues=venue_ids, products=kinds, variants=variants, languages=langs,
                     areas=() if areas in ((), (None,)) else areas)


def progress_lines(list_unchanged: bool):
    """The progress of a build or check: a line per file as it is done, with
    its problems and warnings under it; a file kept as it was only when
    `list_unchanged`."""

    def progress(number: int, total: int, result: JobResult) -> None:
        if result.skipped:
            if list_unchanged:
                say(f"[{number}/{total}] {result.job.output_path}  unchanged")
            return
        if result.error:
            say(f"[{number}/{total}] FAILED {result.job.output_path}")
        else:
            say(f"[{number}/{total}] {result.job.output_path}  {plural(result.report.pages, 'page')}"
                f"  {result.seconds:.2f} s")
        report_problems(result)

    return progress


def build_and_report(selection: Selection, *, source_dir: Path, layouts_dir: Path, out_dir: Path, workers: int,
                     force: bool = False, list_unchanged: bool = False, list_reviews: bool = False,
                     pool: RenderPool | None = None, scheduler: str | None = None) -> BuildResult:
    """Build into `out_dir`, a line per file made as it is done (files kept as
    they were only when `list_unchanged`), the files removed because the
    source no longer makes them, then a summary (one line when nothing had to
    be made), the files that failed and the items to check before printing
    (counted, or with `list_reviews` one line each)."""
    with user_errors(out_dir):
        outcome = run_build(selection, source_dir=source_dir, layouts_dir=layouts_dir, out_dir=out_dir,
                            progress=progress_lines(list_unchanged), workers=workers, force=force, pool=pool,
                            scheduler=scheduler)
    for each in outcome.removed:
        if each.deleted:
            say(f"Removed {each.file}: {each.why}")
        else:
            say(f"Kept {each.file}, no longer listed ({each.why}): it was changed after it was built; "
                "delete it yourself if it is not needed")
    built = len(outcome.results) - len(outcome.failed) - len(outcome.skipped)
    if outcome.results and len(outcome.skipped) == len(outcome.results):
        say(f"Nothing to build: all {plural(len(outcome.skipped), 'file')} in {out_dir}/ are up to date "
            f"({outcome.seconds:.1f} s; --verbose lists them).")
    else:
        unchanged = f", {len(outcome.skipped)} unchanged" if outcome.skipped else ""
        say(f"Built {plural(built, 'file')} ({plural(outcome.pages, 'page')}){unchanged} in "
            f"{outcome.seconds:.1f} s into {out_dir}/")
    if outcome.inputs_changed:
        say(f"Note: {display_path(source_dir)}/ or {display_path(layouts_dir)}/ changed while this build ran: "
            "the files it made will be made again by the next build.")
    if outcome.failed:
        say("Failed:")
        for result in outcome.failed:
            say(f"  {result.job.output_path}")
    report_reviews(due(outcome.reviews), listed=list_reviews)
    return outcome


@cli.command()
@build_options
@click.option("--force", is_flag=True,
              help="Rebuild every file, even those whose inputs have not changed since the last build.")
@strict_option
@click.option("--verbose", "-v", is_flag=True, help="Also list each file kept unchanged, one line each.")
@click.option("--scheduler", metavar="tcp://HOST:8786", envvar="MAKE_MATERIALS_SCHEDULER", show_envvar=True,
              help="Render on the workers of this Dask scheduler (`dask scheduler`) instead of --jobs processes "
                   "here; the files are written here as usual. Each worker needs make-materials installed at the "
                   "same version (a mismatch is refused); the source and layouts are sent to the workers with "
                   "the jobs. Needs the cluster extra: pip install -e '.[cluster]'. See README, \"Building on a "
                   "Dask cluster\".")
def build(source_dir: Path, layouts_dir: Path, out_dir: Path, venue_ids: tuple[str, ...],
          kinds: tuple[str, ...], variants: tuple[str, ...], langs: tuple[str, ...], workers: int, force: bool,
          area_ids: tuple[str, ...], strict: bool, verbose: bool, scheduler: str | None) -> None:
    """Render the PDFs into --out, with a manifest.json listing each file and
    a catalogue, index.html, showing them all.

    Each file is checked (page size, page count, text size, fonts) before it is
    written, and written whole or not at all. A file whose inputs have not
    changed since the last build into --out is kept as it is (see --force). When a file fails, the others are
    still built, the earlier copy of the failed file stays in place, and the
    command exits with status 1.

    A build of everything (no --venue, --product, --variant, --lang or
    --area) also removes the files of venues, areas and languages no longer
    in the source, naming each; a file a build did not write is never
    removed.

    The build ends by counting the facts to check before printing (see
    `make-materials check`). For a print run, build with --strict: each of
    them, and each warning about a file, is listed and the exit status is 1.

    With --scheduler (or MAKE_MATERIALS_SCHEDULER), the files render on a
    Dask cluster's workers and --jobs is not used; progress, the summary and
    what is written are the same.
    """
    areas = require_known_selection(source_dir, venue_ids, langs, area_ids)
    outcome = build_and_report(selection_of(venue_ids, kinds, variants, langs, areas), source_dir=source_dir,
                               layouts_dir=layouts_dir, out_dir=out_dir, workers=workers, force=force,
                               list_unchanged=verbose, list_reviews=strict, scheduler=scheduler or None)
    if outcome.failed:
        raise click.ClickException(f"{len(outcome.failed)} file(s) failed; earlier copies of them were kept")
    if strict:
        fail_on_warnings(len(due(outcome.reviews)), file_warnings(outcome, out_dir), "not ready to print, though "
                         "the files were written")


@cli.command()
@out_option
def pack(out_dir: Path) -> None:
    """Make a pack per council from the build in --out: OUT/packs/<area>.zip.

    Each zip holds one folder, named for the area: its PDFs as built, a
    catalogue page of them (index.html) and README.txt on printing them
    (which go to an office printer, which to a print shop, how to print the
    card sheet double-sided). The national edition's files, when built, make
    national.zip. Build first (e.g. `make-materials build --area all`); the
    same build always gives byte-identical packs. The catalogue then links
    each area's pack; packs of areas no longer built are removed.
    """
    from materials.pack import make_packs

    with user_errors(out_dir):
        packs = make_packs(out_dir)
    for made in packs:
        say(f"Wrote {out_dir}/{made.path} ({plural(made.files, 'file')}, {made.size / 1_000_000:.1f} MB)")
    say(f"{plural(len(packs), 'pack')} in {out_dir}/packs/")


def file_warnings(outcome: BuildResult, out_dir: Path | None) -> int:
    """The warnings of the files made, as reported; and, with `out_dir`, those
    its manifest recorded for the files kept unchanged, listed here (a build
    without --strict reported them when it made the files)."""
    count = sum(len(result.warnings) for result in outcome.results)
    recorded = read_manifest(out_dir) if out_dir and outcome.skipped else {}
    kept = [(result.job.output_path, warning) for result in outcome.skipped
            for warning in recorded.get(result.job.output_path, {}).get("warnings", [])]
    if kept:
        say("Warnings recorded for files kept unchanged:")
        for path, warning in kept:
            say(f"  warning: {path}: {warning}")
    return count + len(kept)


def fail_on_warnings(items: int, warnings: int, outcome: str) -> None:
    """--strict: any warning is a failure (exit status 1)."""
    counted = [plural(items, "item") + " to check before printing"] if items else []
    counted += [plural(warnings, "warning") + " about the files"] if warnings else []
    if counted:
        raise click.ClickException(f"--strict: {' and '.join(counted)}; {outcome}")


@cli.command()
@build_options
def watch(source_dir: Path, layouts_dir: Path, out_dir: Path, venue_ids: tuple[str, ...], kinds: tuple[str, ...],
          variants: tuple[str, ...], langs: tuple[str, ...], workers: int, area_ids: tuple[str, ...]) -> None:
    """Build, then build again whenever a file in --source or --layouts changes.

    Each build makes only the files whose inputs changed (as `build` does) and
    names them as they are written, with the catalogue (index.html) brought up
    to date. The rendering processes stay up between builds, with WeasyPrint
    set up, so a rebuild takes about as long as its own files. A mistake in
    the source or a file that fails is reported, and the command goes on
    waiting for the next change. Press Ctrl-C to stop (exit status 0).
    """
    import watchfiles  # here: a build does not need it

    from materials.watch import SourceChanges, changed_files

    areas = require_known_selection(source_dir, venue_ids, langs, area_ids)
    if not source_dir.is_dir():
        raise click.ClickException(f"cannot watch {source_dir}/: it is not a folder")

    def rebuild() -> None:
        try:
            build_and_report(selection_of(venue_ids, kinds, variants, langs, areas), source_dir=source_dir,
                             layouts_dir=layouts_dir, out_dir=out_dir, workers=workers, pool=pool)
        except click.ClickException as error:  # a mistake in the source: fixed by the next change
            error.show()

    # The rendering processes stay up between builds, their WeasyPrint set up:
    # a rebuild after an edit pays for its own files only. They are forked
    # before the watcher starts its thread; one forked later, in place of a
    # worker that died, copies that thread's memory but never calls into it.
    pool = RenderPool(workers)
    try:
        with user_errors():
            pool.start()
        # The watcher starts before the first build, so an edit made while it
        # runs is not missed. With yield_on_timeout it hands back an empty set
        # every half second with nothing changed: the first one says it is up.
        changes = watchfiles.watch(source_dir, layouts_dir, watch_filter=SourceChanges(out_dir),
                                   yield_on_timeout=True, rust_timeout=500)
        next(changes)
        rebuild()
        say(f"Watching {display_path(source_dir)}/ and {display_path(layouts_dir)}/ for changes. Press Ctrl-C to stop.")
        for batch in changes:
            changed = changed_files(batch)
            if changed:
                say(f"Changed: {', '.join(changed)}")
                rebuild()
                say("Waiting for the next change.")
    except KeyboardInterrupt:
        say("Stopped watching.")
    finally:
        pool.close()


def report_problems(result: JobResult) -> None:
    """One line per problem, under the file it belongs to."""
    for problem in result.problems:
        say(f"  error: {result.job.output_path}: {problem}")
    for warning in result.warnings:
        say(f"  warning: {result.job.output_path}: {warning}")


@cli.command()
@source_option
@layouts_option
@selection_options
@area_option
@jobs_option
@click.option("--render/--no-render", default=True, show_default=True,
              help="Also render every file in memory and preflight it, in --jobs processes (slower).")
@strict_option
def check(source_dir: Path, layouts_dir: Path, venue_ids: tuple[str, ...], kinds: tuple[str, ...],
          variants: tuple[str, ...], langs: tuple[str, ...], area_ids: tuple[str, ...], workers: int, render: bool,
          strict: bool) -> None:
    """Validate the source and preflight every file in memory, writing nothing.

    Lists every item to check before printing, one warning each, with its file,
    line and why: an item marked check_before_print, and a reviewed: date more
    than 12 months old (see README, "Where the facts come from").

    Preflight checks each file as it would be printed: page size and count,
    text that does not fit its box (overset), text size, contrast, characters
    missing from the fonts, heading order and fonts. Files render on --jobs
    processes, a line each as it is done, with its problems and warnings
    under it; the exit status is 1 if any file would fail, or, with
    --strict, if anything was warned about.

    With --lang, the wording a translation leaves in English is listed (to
    stdout) by its key, e.g. venues.hotels.signs.no-luggage-or-id.text.
    """
    from materials.source import load_source

    areas = require_known_selection(source_dir, venue_ids, langs, area_ids)
    with user_errors():
        source = load_source(source_dir)
        items = due(source.reviews)
        report_reviews(items, listed=True)
        for tag in langs:
            list_untranslated(source, tag)
        if not render:
            say(f"The source is valid: {len(source.venues)} venues, {len(source.translations)} translations.")
            if strict:
                fail_on_warnings(len(items), 0, "not ready to print")
            return
        outcome = run_build(selection_of(venue_ids, kinds, variants, langs, areas), source_dir=source_dir,
                            layouts_dir=layouts_dir, out_dir=None, progress=progress_lines(False), workers=workers)
    if outcome.failed:
        raise click.ClickException(f"{len(outcome.failed)} of {len(outcome.results)} files would fail")
    say(f"All {len(outcome.results)} files pass preflight. Nothing was written.")
    if strict:
        fail_on_warnings(len(items), file_warnings(outcome, None), "not ready to print")


def list_untranslated(source, tag: str) -> None:
    from materials.translate import PSEUDO_LOCALES, edition, format_key

    if tag == "en" or tag in PSEUDO_LOCALES:
        return
    translation = edition(source, tag)
    language = translation.language
    state = "draft" if language.draft else f"reviewed by {language.reviewed_by} on {language.reviewed}"
    say(f"{translation.file}: {language.english_name} ({state}): {len(translation.missing)} "
        f"string{'s' if len(translation.missing) != 1 else ''} still in English")
    for key in translation.missing:
        click.echo(f"{tag}\t{format_key(key)}")


@cli.command(name="list")
@source_option
def list_(source_dir: Path) -> None:
    """List the venues, areas, languages and the products made for each (to stdout)."""
    from materials.source import load_source
    from materials.translate import edition, language_tags

    with user_errors():
        source = load_source(source_dir)
    click.echo("Venues:")
    for venue in source.venues:
        click.echo(f"  {venue.id:<18} {venue.name}")
    click.echo("Areas (--area):")
    width = max([18, *(len(area.id) + 1 for area in source.areas)])
    for area in source.areas:
        click.echo(f"  {area.id:<{width}} {area.council}")
    click.echo("Languages (--lang):")
    click.echo(f"  {'en':<18} English")
    for tag in language_tags(source):
        language = edition(source, tag).language
        state = "" if language.pseudo else (
            " (draft: not for distribution)" if language.draft else f" (reviewed {language.reviewed})")
        click.echo(f"  {tag:<18} {language.english_name}{state}")
    click.echo("Products (one file each per venue):")
    for fmt in PRODUCT_FORMATS:
        click.echo(f"  {fmt.kind:<12} {fmt.variant:<7} {fmt.filename:<27} {fmt.title}, "
                   f"{fmt.width_mm:g} x {fmt.height_mm:g} mm")


def session_date(context, parameter, value: str | None):
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as error:
        raise click.BadParameter(f"{error}. Write it as {DATE_FORMS}") from None


def roster_options(command):
    """The options the roster commands share."""
    for option in reversed([
        click.option("--venue", "venue_id", required=True, metavar="ID",
                     help="The venue type the session trained staff for (see `make-materials list`)."),
        click.option("--date", "date", required=True, metavar="DATE", callback=session_date,
                     help=f"The date of the session: {DATE_FORMS}. Printed in words (1 December 2026)."),
        click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
                     help="Folder for the PDF. Default: output/roster-<roster file name>/, or output/sign-in/ for "
                          "a sign-in sheet made without a roster. It holds attendees' names: keep it private."),
        jobs_option,
    ]):
        command = option(command)
    return command


ROSTER_HELP = ("CSV file saved from a spreadsheet (UTF-8; commas, semicolons or tabs between the columns) with a "
               "header row: name, or First name and Surname (required); organisation; date (when attendees came on "
               f"different days). At most {MAX_ROWS:,} rows and {MAX_BYTES // 1_000_000} MB.")


def _roster_out(out_dir: Path | None, roster: Path | None) -> Path:
    if out_dir:
        return out_dir
    return Path("output") / (f"roster-{roster.stem}" if roster else "sign-in")


def _printable_trainer(layouts_dir: Path, trainer: str | None) -> tuple[str, ...]:
    """The script fonts the trainer's name needs; a character no font has is a usage error."""
    if not trainer:
        return ()
    fonts, missing = RosterFonts(layouts_dir).needs(trainer)
    if missing:
        raise click.BadParameter(f"'{missing}' (U+{ord(missing):04X}) is in none of the fonts certificates and "
                                 "sign-in sheets are printed in", param_hint="--trainer")
    return fonts


def _read_roster(roster: Path, layouts_dir: Path, kind: str) -> tuple[tuple[Attendee, ...], list[str]]:
    """The roster's attendees that can be printed, each with the fonts it
    needs, and a line for each row that cannot (its number and character)."""
    try:
        attendees = read_roster(roster)
    except SourceError as error:
        fail_on_source_error(error, "the roster")
    printable, unprintable = RosterFonts(layouts_dir).check(attendees)
    lines = []
    for attendee, missing in unprintable:
        outcome = ("its certificate was not made" if kind == "certificate"
                   else "its row is left blank, to fill in by hand")
        lines.append(f"{roster}:{attendee.row}: {missing.field}: {missing} is in none of the fonts "
                     f"{'certificates are' if kind == 'certificate' else 'the sign-in sheet is'} printed in: {outcome}")
    if kind == "sign-in" and unprintable:  # every attendee keeps their row, and its number
        kept = {attendee.row: attendee for attendee in printable}
        printable = [kept.get(attendee.row, Attendee("", "", None, attendee.row)) for attendee in attendees]
    return tuple(printable), lines


def _make_roster_file(source_dir: Path, layouts_dir: Path, job: Job, out_dir: Path, workers: int,
                      unprintable: list[str], split: bool = False) -> None:
    """Make the file (or files) and report: progress for a roster made in
    several pieces, the rows not made, and exit status 1 when any was not."""
    def progress(number: int, total: int, piece, result: JobResult) -> None:
        if total == 1 and not piece.path:
            return
        where = f"{job.output_path.removesuffix('.pdf')}/ {piece.label}" if piece.path else \
            f"{job.output_path} {piece.label}"
        if result.error:
            say(f"[{number}/{total}] FAILED {where}")
        else:
            pages = result.report.pages
            say(f"[{number}/{total}] {where}  {pages} page{'s' if pages != 1 else ''}  {result.seconds:.2f} s")

    for line in unprintable:
        say(f"error: {line}")
    with user_errors(out_dir):
        outcome, written = make_roster_file(source_dir, layouts_dir, job, out_dir, workers=workers, split=split,
                                            progress=progress)
    for piece, problems in outcome.failed:
        for problem in problems:
            say(f"  error: {job.output_path} ({piece.label}): {problem}")
    if outcome.written:
        files = (f"{len(outcome.written)} file{'s' if len(outcome.written) != 1 else ''} into "
                 if split else "")
        where = f"{out_dir / written}/" if written.endswith("/") else str(out_dir / written)
        say(f"Wrote {files}{where} ({plural(outcome.pages, 'page')}) in {outcome.seconds:.1f} s")
    if outcome.failed or not outcome.written:
        raise click.ClickException(f"{job.product.title} could not be made; nothing was written" if not outcome.written
                                   else f"{plural(len(outcome.failed_rows), 'certificate')} could not be made (listed "
                                        "above); every other one was written")
    if unprintable and job.product.kind == "certificate":
        raise click.ClickException(f"{len(unprintable)} of the roster's certificates could not be made (listed "
                                   "above); every other one was written")
    if unprintable:
        raise click.ClickException(f"{plural(len(unprintable), 'name')} of the roster could not be printed (listed "
                                   "above): left blank to fill in by hand, on the sheet written")


def duration_choice(source_dir: Path, minutes: int) -> int:
    """--duration must be the length of one of the session plans in the source."""
    from materials.source import load_source

    with user_errors():
        plans = sorted({plan.minutes for plan in load_source(source_dir).workshop.plans})
    if minutes not in plans:
        raise click.BadParameter(f"{minutes} is not the length of a session plan; choose from "
                                 f"{', '.join(map(str, plans))} (source/workshop.yaml, plans)",
                                 param_hint="--duration")
    return minutes


@cli.command()
@source_option
@layouts_option
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True,
              help=ROSTER_HELP)
@roster_options
@click.option("--trainer", required=True, help="The trainer's name, printed on every certificate above the line "
                                               "they sign on.")
@click.option("--duration", "minutes", type=int, required=True, metavar="MINUTES",
              help="The session's length in minutes, as one of the session plans: 60 or 90 (source/workshop.yaml).")
@click.option("--split", is_flag=True,
              help="Write one PDF per attendee (to email each their own), named by roster row and name "
                   "(0007-Zoë-Smith.pdf), into a folder named for the session, instead of one file.")
def certificates(source_dir: Path, layouts_dir: Path, roster: Path, venue_id: str, date, out_dir: Path | None,
                 workers: int, trainer: str, minutes: int, split: bool) -> None:
    """Make certificates of attendance: one A4 landscape page per attendee.

    Each certificate shows the attendee's name (in any script a UK roster
    holds: Latin, Greek, Cyrillic, Arabic, Hebrew, Chinese, Japanese, Korean,
    Devanagari, Bengali, Gurmukhi, Gujarati, Tamil, Thai), their organisation,
    the venue type, the date, the session's length, the trainer with a line to
    sign on, and the topics covered.

    Roster problems are listed with their row numbers, and nothing is written
    until they are fixed. A row whose name has a character no font has is
    named by its row and that character: every other certificate is made, and
    the exit status is 1. A long roster is made in pieces on --jobs processes,
    with progress; a file over the limits is refused before anything is made.
    """
    require_known_venues(source_dir, (venue_id,))
    minutes = duration_choice(source_dir, minutes)
    trainer = " ".join(trainer.split())
    trainer_fonts = _printable_trainer(layouts_dir, trainer)
    attendees, unprintable = _read_roster(roster, layouts_dir, "certificate")
    session = Session(date, trainer, attendees, minutes=minutes, trainer_fonts=trainer_fonts)
    out_dir = _roster_out(out_dir, roster)
    if not attendees:
        for line in unprintable:
            say(f"error: {line}")
        raise click.ClickException("no certificate could be made; nothing was written")
    _make_roster_file(source_dir, layouts_dir, Job(venue_id, "certificates", session), out_dir, workers,
                      unprintable, split)


@cli.command(name="sign-in")
@source_option
@layouts_option
@roster_options
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help=f"{ROSTER_HELP} Its names are printed on the sheet, one row each.")
@click.option("--rows", type=click.IntRange(1, 200), default=20, show_default=True,
              help="Rows on the sheet at least; with --roster, blank rows are added after the names up to this "
                   "number. A sheet longer than a page has its last page filled with blank rows.")
@click.option("--trainer", default=None, help="The trainer's name (a blank to fill in when left out).")
def sign_in(source_dir: Path, layouts_dir: Path, venue_id: str, date, out_dir: Path | None, workers: int,
            roster: Path | None, rows: int, trainer: str | None) -> None:
    """Make an A4 attendance sheet for a session: name, organisation, signature.

    Names print in any script (as on certificates). A sheet that runs past
    its first page ends on a full page (blank rows fill it): never one row
    alone on a page. A row whose name cannot be printed is left blank to fill
    in by hand, and named by its row and character (exit status 1).
    """
    require_known_venues(source_dir, (venue_id,))
    trainer = " ".join(trainer.split()) if trainer else None
    trainer_fonts = _printable_trainer(layouts_dir, trainer)
    attendees, unprintable = _read_roster(roster, layouts_dir, "sign-in") if roster else ((), [])
    session = Session(date, trainer, attendees, max(rows - len(attendees), 0), trainer_fonts=trainer_fonts)
    _make_roster_file(source_dir, layouts_dir, Job(venue_id, "sign-in", session), _roster_out(out_dir, roster),
                      workers, unprintable)


def stop_on_sigterm(signum, frame) -> None:
    """SIGTERM (a CI time-out, `kill`) stops like Ctrl-C: temporary files are
    removed on the way out, and what is on disk stays consistent."""
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    # Ctrl-C stops a build even when the shell started it with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        cli(prog_name="make-materials")
    finally:
        # Python's last garbage collection, as it exits, walks every object
        # pydantic and WeasyPrint made (70 ms, most of a build with nothing to
        # do). Nothing left needs collecting: the output lock, the worker pool
        # and every temporary folder have been released explicitly by now.
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
