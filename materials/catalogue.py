"""The catalogue: `index.html` in the output folder, a page a coordinator opens
from disk to see every file the builds made, with a picture of its first page.

With files of several areas it is two levels: index.html lists the areas
(no pictures: a nation's build holds tens of thousands of files), and each
area has its own page of files in its folder. It is made from the manifest alone, so it lists exactly the files on disk that
a build recorded: a file that failed keeps its earlier copy and entry, and
roster files (certificates, sign-in sheets: attendees' names) are never in the
manifest, so never here. The page is self-contained: relative links, inline
CSS, no scripts, nothing fetched from the network, so it works from a USB stick
or a shared drive as well as from `file://`.

Thumbnails are PNGs in `.thumbnails/` (a name no venue or area id can take),
named from the PDF's path and checksum: an unchanged PDF keeps its thumbnail,
so a build that changed nothing renders none. Nor does it write the page
again: the page carries a checksum of what it was made from (the manifest's
entries, this module and its template), and is left alone while that holds
and its thumbnails are there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .jobs import NATIONAL, PACKS_FOLDER, PRODUCT_FORMATS, ProductFormat
from .colour import MIN_CONTRAST
from .text import long_date
from .write import atomic_write, read_manifest

CATALOGUE = "index.html"
# With several areas: the national edition's own page (its files are in the
# venues' folders, beside index.html), and the name it is listed by.
NATIONAL_PAGE = "national.html"
NATIONAL_NAME = "National edition (no area)"
TEMPLATE_FILES = ("catalogue-base.html", "catalogue.html", "areas.html")
THUMBNAILS = ".thumbnails"
# The longest side of a thumbnail, in pixels: twice the 200 CSS px it is shown
# at, so it stays sharp on high-density screens.
THUMBNAIL_PX = 400
TEMPLATES = Path(__file__).resolve().parent / "templates"

VARIANT_NAMES = {"office": "Office printer", "press": "Print shop"}
# Products shown, not printed: the workshop slides go on a projector.
SHOWN_KINDS = {"slides": "Projector or screen"}


@dataclass(frozen=True)
class GroupField:
    """A manifest field that files are grouped by, outermost first. A group's
    heading is the entry's `<name>_name` field when there is one (`venue_name`),
    else the value itself."""

    name: str
    label: str        # put before the value in a heading: "Area: example-borough"; "" for none
    missing: str      # the heading of the files that do not have the field


GROUP_FIELDS = (
    GroupField("area", "Area", "National contacts only (local number written in by hand)"),
    GroupField("lang", "Language", "Language not set"),
    GroupField("venue", "", "No venue"),
)


@dataclass
class Thumbnail:
    path: PurePosixPath | str  # relative to the output folder; on a page, to the page
    width: int
    height: int


@dataclass
class CatalogueFile:
    """One PDF as the page shows it."""

    path: str  # relative to the output folder, '/'-separated
    title: str
    alt: str
    thumbnail: Thumbnail | None
    facts: list[tuple[str, str]]
    preflight: list[tuple[str, str]]
    warnings: list[str]


@dataclass
class Group:
    heading: str
    anchor: str
    level: int  # of the heading: h2 for the outermost groups
    groups: list[Group] = field(default_factory=list)
    files: list[CatalogueFile] = field(default_factory=list)


def write_catalogue(out_dir: Path) -> None:
    """Write `out_dir/index.html` from the manifest there, render the thumbnails
    it lacks and remove those no file needs any more. With files of more
    than one area, index.html lists the areas (the national edition as one)
    and each has its own page: `<area>/index.html`, `national.html`. The
    caller holds the output folder's lock."""
    entries = [entry for entry in read_manifest(out_dir).values() if _listable(out_dir, entry)]
    by_area = entries_by_area(entries)
    pages = area_pages(by_area)
    packs = {area: path for area in by_area if (out_dir / (path := pack_path(area))).is_file()}
    made_from = _made_from(entries, sorted(str(path) for path in packs.values()))
    if _is_current(out_dir, entries, made_from, pages.values()):
        return
    thumbnails = {entry["file"]: _thumbnail(out_dir, entry) for entry in entries}
    _remove_stale_thumbnails(out_dir, {thumbnail.path for thumbnail in thumbnails.values() if thumbnail})
    _remove_stale_pages(out_dir, set(pages.values()))
    if not pages:
        atomic_write(out_dir / CATALOGUE, files_page(entries, thumbnails, ".", made_from).encode("utf-8"))
        return
    for area, members in by_area.items():
        folder = str(pages[area].parent)
        page = files_page(members, thumbnails, folder, made_from, title=f"{area_name(members[0])}: materials",
                          up=posixpath.relpath(CATALOGUE, folder))
        atomic_write(out_dir / pages[area], page.encode("utf-8"))
    atomic_write(out_dir / CATALOGUE, areas_page(by_area, pages, packs, made_from).encode("utf-8"))


def areas_page(by_area: dict[str | None, list[dict]], pages: dict[str | None, PurePosixPath],
               packs: dict[str | None, PurePosixPath], made_from: str) -> str:
    """index.html for several areas: a row each, linking its page and pack."""
    entries = [entry for members in by_area.values() for entry in members]
    rows = [AreaRow(area_name(members[0]), str(pages[area]), len(members),
                    sum(entry.get("pages") or 0 for entry in members),
                    sorted({str(entry.get("lang_name") or entry.get("lang")) for entry in members}),
                    sum(len(entry.get("warnings") or []) for entry in members),
                    str(packs[area]) if area in packs else None)
            for area, members in by_area.items()]
    return _environment().get_template("areas.html").render(
        areas=rows, file_count=len(entries), page_count=sum(entry.get("pages") or 0 for entry in entries),
        reviewed=_review_dates(entries), made_from=made_from, title="Materials catalogue")


def files_page(entries: list[dict], thumbnails: dict[str, Thumbnail | None], folder: str, made_from: str, *,
               title: str = "Materials catalogue", up: str | None = None) -> str:
    """The catalogue page of `entries`, to be put in `folder` (relative to the
    output folder): its links and pictures are relative to it."""
    def relative(path) -> str:
        return posixpath.relpath(str(path), folder)

    files = {entry["file"]: _catalogue_file(entry, thumbnails.get(entry["file"]), relative) for entry in entries}
    return _environment().get_template("catalogue.html").render(
        groups=group_entries(entries, files),
        shared=shared_headings(entries),
        file_count=len(entries),
        page_count=sum(entry.get("pages") or 0 for entry in entries),
        reviewed=_review_dates(entries),
        made_from=made_from,
        title=title,
        up=up,
    )


@dataclass
class AreaRow:
    """An area as the list of areas shows it."""

    name: str
    page: str        # its catalogue page, relative to the output folder
    files: int
    pages: int
    languages: list[str]
    warnings: int
    pack: str | None  # its pack, once made

    @property
    def pack_name(self) -> str:
        return PurePosixPath(self.pack).name if self.pack else ""


def entries_by_area(entries: list[dict]) -> dict[str | None, list[dict]]:
    """The entries of each area (None: the national edition), the national
    edition first, then by council."""
    by_area: dict[str | None, list[dict]] = {}
    for entry in entries:
        by_area.setdefault(entry.get("area") or None, []).append(entry)
    return dict(sorted(by_area.items(), key=lambda item: (item[0] is not None, area_name(item[1][0]))))


def area_name(entry: dict) -> str:
    if not entry.get("area"):
        return NATIONAL_NAME
    return str(entry.get("area_name") or entry["area"])


def pack_path(area: str | None) -> PurePosixPath:
    """Where `make-materials pack` puts an area's pack, relative to the output folder."""
    return PurePosixPath(PACKS_FOLDER, f"{area or NATIONAL}.zip")


def area_pages(by_area: dict[str | None, list[dict]]) -> dict[str | None, PurePosixPath]:
    """Each area's catalogue page (and the national edition's), when more
    than one area was built; else none: one page groups the files by area."""
    if len([area for area in by_area if area]) <= 1:
        return {}
    return {area: PurePosixPath(area, CATALOGUE) if area else PurePosixPath(NATIONAL_PAGE) for area in by_area}


def _remove_stale_pages(out_dir: Path, keep: set[PurePosixPath]) -> None:
    """Area pages of areas no longer built (or of a folder that now holds one
    area, whose page is index.html itself); only pages this module wrote."""
    candidates = [out_dir / NATIONAL_PAGE, *(folder / CATALOGUE for folder in out_dir.iterdir() if folder.is_dir())]
    for page in candidates:
        if PurePosixPath(page.relative_to(out_dir).as_posix()) in keep or not page.is_file():
            continue
        try:
            ours = '<meta name="made-from"' in page.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            ours = False
        if ours:
            page.unlink()
            if page.parent != out_dir:
                with contextlib.suppress(OSError):  # not empty: the area's files are still there
                    page.parent.rmdir()


def _made_from(entries: list[dict], packs: list[str]) -> str:
    """A checksum of everything the pages are made from."""
    digest = hashlib.sha256(json.dumps([entries, packs], sort_keys=True).encode("utf-8"))
    for path in (Path(__file__), *(TEMPLATES / name for name in TEMPLATE_FILES)):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _is_current(out_dir: Path, entries: list[dict], made_from: str, pages) -> bool:
    """Every page on disk was made from the same things, and the thumbnail
    folder holds exactly its thumbnails, each a PNG (as far as its header
    tells, which is as far as the page's own check reads): otherwise the pages
    are made again, and the thumbnails mended."""
    for page in (PurePosixPath(CATALOGUE), *pages):
        try:
            text = (out_dir / page).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        if f'<meta name="made-from" content="{made_from}">' not in text:
            return False
    expected = {out_dir / thumbnail_path(entry) for entry in entries if _has_checksum(entry)}
    folder = out_dir / THUMBNAILS
    present = {path for path in folder.rglob("*") if path.is_file()} if folder.is_dir() else set()
    return present == expected and all(_starts_as_png(path) for path in expected)


def _starts_as_png(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(8) == b"\x89PNG\r\n\x1a\n"
    except OSError:
        return False


def _has_checksum(entry: dict) -> bool:
    """The entry names its PDF's checksum, which names its thumbnail."""
    return re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256"))) is not None


def _listable(out_dir: Path, entry: dict) -> bool:
    """A manifest entry for a PDF inside the output folder that is on disk.
    (The manifest is a file anyone can edit: a path out of the folder is not
    followed.)"""
    name = entry.get("file")
    if not isinstance(name, str):
        return False
    path = PurePosixPath(name)
    return (not path.is_absolute() and ".." not in path.parts and path.suffix == ".pdf"
            and (out_dir / path).is_file())


# --- thumbnails -------------------------------------------------------------------------

def thumbnail_path(entry: dict) -> PurePosixPath:
    """Where a file's thumbnail goes, relative to the output folder: beside
    where the PDF is, under .thumbnails/, with the PDF's checksum (and the
    thumbnail size) in its name, so a changed PDF gets a new one."""
    pdf = PurePosixPath(entry["file"])
    return PurePosixPath(THUMBNAILS, pdf.parent, f"{pdf.stem}.{entry['sha256'][:16]}.{THUMBNAIL_PX}px.png")


def _thumbnail(out_dir: Path, entry: dict) -> Thumbnail | None:
    """The thumbnail of a file, rendered if it is not there yet; None when the
    PDF cannot be read (the page then shows the file without a picture)."""
    if not _has_checksum(entry):
        return None
    relative = thumbnail_path(entry)
    path = out_dir / relative
    import PIL.Image  # here: a build that changed nothing needs none

    try:
        with PIL.Image.open(path) as existing:  # reads only the header
            return Thumbnail(relative, *existing.size)
    except OSError:  # not made yet, or damaged
        pass
    png = thumbnail_png(out_dir / entry["file"])
    if png is None:
        return None
    atomic_write(path, png)  # whole or not at all: a half PNG would be kept for good
    with PIL.Image.open(io.BytesIO(png)) as image:
        return Thumbnail(relative, *image.size)


def thumbnail_png(pdf: Path | bytes) -> bytes | None:
    """The first page as it will look trimmed (no bleed, no crop marks), as a
    PNG; None if the PDF cannot be read. A build makes it in the worker that
    made the PDF, so thumbnails are made in parallel; the catalogue makes any
    that are missing."""
    import pypdfium2 as pdfium  # here: a build with nothing to do needs none

    try:
        document = pdfium.PdfDocument(pdf)
        try:
            page = document[0]
            trim = page.get_trimbox()
            page.set_cropbox(*trim)
            scale = THUMBNAIL_PX / max(trim[2] - trim[0], trim[3] - trim[1])
            image = page.render(scale=scale).to_pil()
        finally:
            document.close()
    except pdfium.PdfiumError:
        return None
    png = io.BytesIO()
    # The fastest zlib level: 2.4 ms a thumbnail against 15.6 ms with optimize=True,
    # and no bigger on these pages (34 KB on average against 35 KB).
    image.save(png, "PNG", compress_level=1)
    return png.getvalue()


def _remove_stale_thumbnails(out_dir: Path, keep: set[PurePosixPath]) -> None:
    """Delete thumbnails of files that changed or went, and any temporary file
    an interrupted write left, then the folders that are left empty."""
    folder = out_dir / THUMBNAILS
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*"), reverse=True):  # a folder's contents before the folder
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif PurePosixPath(path.relative_to(out_dir).as_posix()) not in keep:
            path.unlink()


# --- the page ---------------------------------------------------------------------------

def _catalogue_file(entry: dict, thumbnail: Thumbnail | None, relative) -> CatalogueFile:
    """A file as its page shows it, with its link and picture `relative` to the page."""
    product = product_format(entry)
    title = product.title if product else entry["file"]
    where = entry.get("venue_name") or entry.get("venue")
    return CatalogueFile(
        path=relative(entry["file"]),
        title=title,
        alt=f"First page of {title}" + (f" ({where})" if where else ""),
        thumbnail=Thumbnail(relative(thumbnail.path), thumbnail.width, thumbnail.height) if thumbnail else None,
        facts=_facts(entry),
        preflight=_preflight(entry, product),
        warnings=[str(warning) for warning in entry.get("warnings") or []],
    )


def _facts(entry: dict) -> list[tuple[str, str]]:
    facts = []
    trim = entry.get("trim_mm")
    if trim:
        size = f"{trim[0]:g}\u00a0×\u00a0{trim[1]:g}\u00a0mm"  # wraps only before the bleed
        if entry.get("bleed_mm"):
            size += f", {entry['bleed_mm']:g}\u00a0mm bleed"
        facts.append(("Size", size))
    if entry.get("pages"):
        facts.append(("Pages", f"{entry['pages']}"))
    if entry.get("product") in SHOWN_KINDS:
        facts.append(("Show on", SHOWN_KINDS[entry["product"]]))
    elif entry.get("variant"):
        facts.append(("Print on", VARIANT_NAMES.get(entry["variant"], entry["variant"])))
    file = ", ".join(filter(None, [entry.get("pdf_standard"), entry.get("bytes") and _file_size(entry["bytes"])]))
    if file:
        facts.append(("File", file))
    return facts


def _preflight(entry: dict, product) -> list[tuple[str, str]]:
    """The measurements preflight recorded, each against its limit."""
    checks = []
    if entry.get("smallest_text_pt"):
        limit = f" (min.\u00a0{product.min_text_pt:g})" if product else ""
        checks.append(("Smallest text", f"{entry['smallest_text_pt']:g}\u00a0pt{limit}"))
    if entry.get("lowest_contrast"):
        checks.append(("Contrast", f"{entry['lowest_contrast']:.1f}:1 (min.\u00a0{MIN_CONTRAST:g}:1)"))
    scales = entry.get("fit_scales") or {}
    if isinstance(scales, dict):
        checks.append(("Fit", ", ".join(f"{name} shrunk to {scale:.0%}" for name, scale in sorted(scales.items()))
                       or "no text shrunk"))
    return checks


def _review_dates(entries: list[dict]) -> list[str]:
    """When the content of the listed files was reviewed: one date, unless
    some files were built before a later review."""
    dates = sorted({entry["content_reviewed"] for entry in entries if entry.get("content_reviewed")})
    try:
        return [long_date(dt.date.fromisoformat(date)) for date in dates]
    except ValueError:
        return dates


def _file_size(size: int) -> str:
    if size < 1_000_000:
        return f"{max(size // 1000, 1)} kB"
    return f"{size / 1_000_000:.1f} MB"


def group_entries(entries: list[dict], files: dict[str, CatalogueFile]) -> list[Group]:
    """The files in nested groups: a level for each of GROUP_FIELDS whose value
    differs between the files (a folder holding national and area builds gets
    an area level; one with several languages a language level) and always the
    innermost, files in product order."""
    if not entries:
        return []
    *outer, innermost = GROUP_FIELDS
    fields = [group_field for group_field in outer if len({_value(entry, group_field) for entry in entries}) > 1]
    return _groups(entries, files, [*fields, innermost], level=2, anchor_prefix="", anchors=set())


def shared_headings(entries: list[dict]) -> list[str]:
    """The outer GROUP_FIELDS that every file has, with the same value (an area
    built alone into its folder): said once, at the top, instead of as a level."""
    *outer, _ = GROUP_FIELDS
    return [_heading(group_field, entries[0]) for group_field in outer
            if entries and _value(entries[0], group_field)
            and len({_value(entry, group_field) for entry in entries}) == 1]


def _groups(entries: list[dict], files: dict[str, CatalogueFile], fields: list[GroupField], level: int,
            anchor_prefix: str, anchors: set[str]) -> list[Group]:
    group_field, inner = fields[0], fields[1:]
    by_value: dict[str | None, list[dict]] = {}
    for entry in entries:
        by_value.setdefault(_value(entry, group_field), []).append(entry)
    groups = []
    for value, members in sorted(by_value.items(), key=lambda item: (item[0] is not None,
                                                                      _heading(group_field, item[1][0]))):
        anchor = _unique(anchor_prefix + _slug(value or f"no-{group_field.name}"), anchors)
        group = Group(_heading(group_field, members[0]), anchor, level)
        if inner:
            group.groups = _groups(members, files, inner, level + 1, anchor + "--", anchors)
        else:
            group.files = [files[entry["file"]] for entry in sorted(members, key=_product_order)]
        groups.append(group)
    return groups


def _value(entry: dict, group_field: GroupField) -> str | None:
    value = entry.get(group_field.name)
    return str(value) if value else None


def _heading(group_field: GroupField, entry: dict) -> str:
    value = _value(entry, group_field)
    if not value:
        return group_field.missing
    name = str(entry.get(f"{group_field.name}_name") or value)
    return f"{group_field.label}: {name}" if group_field.label else name


def product_format(entry: dict) -> ProductFormat | None:
    """The product a file is, from its name: the format's key, or the key and a
    suffix (a translation's `poster-a3-press-cy.pdf`): the longest key that fits."""
    stem = PurePosixPath(entry["file"]).stem
    return max((fmt for fmt in PRODUCT_FORMATS if stem == fmt.key or stem.startswith(f"{fmt.key}-")),
               key=lambda fmt: len(fmt.key), default=None)


def _product_order(entry: dict) -> tuple[int, str]:
    product = product_format(entry)
    return (PRODUCT_FORMATS.index(product) if product else len(PRODUCT_FORMATS), entry["file"])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "group"


def _unique(anchor: str, anchors: set[str]) -> str:
    candidate, number = anchor, 1
    while candidate in anchors:
        number += 1
        candidate = f"{anchor}-{number}"
    anchors.add(candidate)
    return candidate


def _environment():
    import jinja2  # here: a build that changed nothing needs none

    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
