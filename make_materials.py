"""make-materials: print-ready CSE awareness materials from one YAML source.

Every product (posters, wallet cards, trainer handouts) for every venue type is
rendered from `source/` through the layouts in `layouts/`. Progress and errors go
to stderr. Exit codes: 0 ok, 1 a content or render problem, 2 a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from materials.errors import RenderError, SourceError
from materials.jobs import PRODUCT_FORMATS, PRODUCT_KINDS, VARIANTS
from materials.model import load_source
from materials.pipeline import JobResult, build as run_build

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
    return command


def require_known_venues(source_dir: Path, venue_ids: tuple[str, ...]) -> None:
    known = sorted(path.stem for path in (source_dir / "venues").glob("*.yaml"))
    unknown = [venue for venue in venue_ids if venue not in known]
    if unknown and known:  # with no venues at all, the build reports the source problem
        raise click.BadParameter(f"unknown venue {', '.join(unknown)}; choose from: {', '.join(known)}",
                                 param_hint="--venue")


def say(message: str = "") -> None:
    click.echo(message, err=True)


def fail_on_source_error(error: SourceError) -> None:
    count = len(error.problems)
    for problem in error.problems:
        say(f"error: {problem}")
    raise click.ClickException(f"the source has {count} problem{'s' if count != 1 else ''}; nothing was written")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Turn the CSE awareness content in source/ into print-ready PDFs:
    posters, staff wallet cards and trainer handouts for every venue type.

    \b
    Typical use:
      make-materials check            validate the source, write nothing
      make-materials build            make every PDF into output/
      make-materials build --venue hotels --product poster
    """


@cli.command()
@source_option
@layouts_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("output"),
              show_default=True, help="Folder the PDFs and manifest.json are written to.")
@selection_options
def build(source_dir: Path, layouts_dir: Path, out_dir: Path, venue_ids: tuple[str, ...],
          kinds: tuple[str, ...], variants: tuple[str, ...]) -> None:
    """Render the PDFs into --out, with a manifest.json listing each file.

    Each file is checked (page size, page count, text size, fonts) before it is
    written, and written whole or not at all. When a file fails, the others are
    still built, the earlier copy of the failed file stays in place, and the
    command exits with status 1.
    """
    require_known_venues(source_dir, venue_ids)

    def progress(number: int, total: int, result: JobResult) -> None:
        if result.error:
            say(f"[{number}/{total}] FAILED {result.job.output_path}")
        else:
            pages = result.report.pages
            say(f"[{number}/{total}] {result.job.output_path}  {pages} page{'s' if pages != 1 else ''}"
                f"  {result.seconds:.2f} s")
        report_problems(result)

    try:
        outcome = run_build(source_dir, layouts_dir, out_dir, venue_ids, kinds, variants, progress)
    except SourceError as error:
        fail_on_source_error(error)
    except RenderError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot write to {error.filename or out_dir}: {error.strerror}") from None
    built = len(outcome.results) - len(outcome.failed)
    say(f"Built {built} file{'s' if built != 1 else ''} ({outcome.pages} pages) in {outcome.seconds:.1f} s "
        f"into {out_dir}/")
    if outcome.failed:
        say("Failed:")
        for result in outcome.failed:
            say(f"  {result.job.output_path}")
        raise click.ClickException(f"{len(outcome.failed)} file(s) failed; earlier copies of them were kept")


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
@click.option("--render/--no-render", default=True, show_default=True,
              help="Also render every file in memory and preflight it (slower).")
def check(source_dir: Path, layouts_dir: Path, venue_ids: tuple[str, ...], kinds: tuple[str, ...],
          variants: tuple[str, ...], render: bool) -> None:
    """Validate the source and preflight every file in memory, writing nothing.

    Preflight checks each file as it would be printed: page size and count,
    text that does not fit its box (overset), text size, contrast, characters
    missing from the fonts, heading order and fonts. Problems are listed under
    the file they belong to; the exit status is 1 if any file would fail.
    """
    require_known_venues(source_dir, venue_ids)
    try:
        if not render:
            source = load_source(source_dir)
            say(f"The source is valid: {len(source.venues)} venues.")
            return
        outcome = run_build(source_dir, layouts_dir, None, venue_ids, kinds, variants)
    except SourceError as error:
        fail_on_source_error(error)
    except RenderError as error:
        raise click.ClickException(str(error)) from None
    for result in outcome.results:
        if result.problems or result.warnings:
            say(result.job.output_path)
            report_problems(result)
    if outcome.failed:
        raise click.ClickException(f"{len(outcome.failed)} of {len(outcome.results)} files would fail")
    say(f"All {len(outcome.results)} files pass preflight. Nothing was written.")


@cli.command(name="list")
@source_option
def list_(source_dir: Path) -> None:
    """List the venues and the products made for each (to stdout)."""
    try:
        source = load_source(source_dir)
    except SourceError as error:
        fail_on_source_error(error)
    click.echo("Venues:")
    for venue in source.venues:
        click.echo(f"  {venue.id:<18} {venue.name}")
    click.echo("Products (one file each per venue):")
    for fmt in PRODUCT_FORMATS:
        click.echo(f"  {fmt.kind:<12} {fmt.variant:<7} {fmt.filename:<27} {fmt.title}, "
                   f"{fmt.width_mm:g} x {fmt.height_mm:g} mm")


def main() -> None:
    cli(prog_name="make-materials")


if __name__ == "__main__":
    sys.exit(main())
