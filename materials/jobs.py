"""Stage 3: the products we make, and one job per output file.

A product format says which layout and stylesheet make it and what the finished
file must measure; preflight holds every rendered file to that. A job is a plain,
picklable description of one output file: which venue, which format.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from .roster import SCRIPT_FONTS, Attendee

if TYPE_CHECKING:  # the model (pydantic) is imported only by the builds that load the source
    from .model import Source


VARIANTS = ("office", "press")

# Words `--area` takes besides an area's id, and the output folder of the
# council packs: no area profile may be named so.
ALL_AREAS = "all"
NATIONAL = "national"
PACKS_FOLDER = "packs"
RESERVED_AREA_IDS = (ALL_AREAS, NATIONAL, PACKS_FOLDER)

# The UK print trade's bleed: colour that reaches the trim runs 3 mm past it.
PRESS_BLEED_MM = 3.0


@dataclass(frozen=True)
class ProductFormat:
    key: str            # unique, and the file name: "poster-a3-press"
    kind: str           # product family: "poster", "wallet-card", "handout"
    format: str         # "a3", "a4", "id-1", "sheet-a4"
    title: str          # shown in metadata and listings
    template: str       # Jinja layout, relative to layouts/
    stylesheet: str     # thin per-format stylesheet, relative to layouts/
    width_mm: float     # the trimmed size
    height_mm: float
    min_pages: int
    max_pages: int
    min_text_pt: float  # smallest text allowed in the page body
    variant: str = "office"         # office: desktop printers; press: a print shop
    bleed_mm: float = 0.0
    pdf_standard: str | None = None  # e.g. "PDF/X-4"
    # A layout this one is derived from (the card sheet places the card's own
    # sides); a venue's override of it is used too.
    base_template: str | None = None
    edition: str | None = None  # handouts: "participant" or "trainer", one layout

    @property
    def filename(self) -> str:
        return f"{self.key}.pdf"

    @property
    def base_format(self) -> ProductFormat | None:
        """The product whose layout this one is derived from."""
        if not self.base_template:
            return None
        return next(fmt for fmt in PRODUCT_FORMATS
                    if fmt.template == self.base_template and fmt.variant == self.variant and not fmt.base_template)


def _press_poster(size: str, width: float, height: float, min_text_pt: float) -> ProductFormat:
    return ProductFormat(f"poster-{size}-press", "poster", size, f"Poster, {size.upper()}, for a print shop",
                         "poster/poster.html", f"poster/poster-{size}-press.css", width, height, 1, 1, min_text_pt,
                         variant="press", bleed_mm=PRESS_BLEED_MM, pdf_standard="PDF/X-4")


PRODUCT_FORMATS: tuple[ProductFormat, ...] = (
    # Office files are PDF/UA-1 (tagged, with language, title and reading order);
    # press files PDF/X-4, for a print shop's workflow.
    ProductFormat("poster-a3", "poster", "a3", "Poster, A3", "poster/poster.html", "poster/poster-a3.css",
                  297, 420, 1, 1, 20, pdf_standard="PDF/UA-1"),
    ProductFormat("poster-a4", "poster", "a4", "Poster, A4", "poster/poster.html", "poster/poster-a4.css",
                  210, 297, 1, 1, 14, pdf_standard="PDF/UA-1"),
    _press_poster("a2", 420, 594, 28),
    _press_poster("a3", 297, 420, 20),
    _press_poster("a4", 210, 297, 14),
    # ISO/IEC 7810 ID-1: page 1 the front, page 2 the back. Laid out with 3 mm
    # of bleed: the office file is cropped at the trim, the print shop's keeps it,
    # the sheet some of it.
    ProductFormat("wallet-card", "wallet-card", "id-1", "Wallet card", "wallet-card/wallet-card.html",
                  "wallet-card/wallet-card.css", 85.60, 53.98, 2, 2, 7, pdf_standard="PDF/UA-1"),
    ProductFormat("wallet-card-press", "wallet-card", "id-1", "Wallet card, for a print shop",
                  "wallet-card/wallet-card.html", "wallet-card/wallet-card-press.css", 85.60, 53.98, 2, 2, 7,
                  variant="press", bleed_mm=PRESS_BLEED_MM, pdf_standard="PDF/X-4"),
    # Ten cards to cut from A4: page 1 the fronts, page 2 the backs, for long-edge duplex.
    ProductFormat("wallet-cards-sheet-a4", "wallet-card", "sheet-a4", "Wallet cards, sheet of ten",
                  "wallet-card/wallet-cards-sheet.html", "wallet-card/wallet-cards-sheet.css",
                  210, 297, 2, 2, 7, pdf_standard="PDF/UA-1", base_template="wallet-card/wallet-card.html"),
    # Workshop handouts, one layout in two editions; accessible: tagged, with
    # language, title and headings in order (PDF/UA-1).
    ProductFormat("handout-participant", "handout", "a4", "Participant handout", "handout/handout.html",
                  "handout/handout.css", 210, 297, 3, 40, 11, pdf_standard="PDF/UA-1", edition="participant"),
    ProductFormat("handout-trainer", "handout", "a4", "Trainer handout", "handout/handout.html",
                  "handout/handout.css", 210, 297, 3, 40, 11, pdf_standard="PDF/UA-1", edition="trainer"),
    # Workshop slides for a projector: the presentation programs' widescreen
    # 16:9 page (13.333 x 7.5 in), one slide a page, text legible from the back
    # of a room. Its page count is the deck's (deck.py), checked by preflight.
    ProductFormat("slides", "slides", "16:9", "Workshop slides", "slides/slides.html", "slides/slides.css",
                  338.67, 190.5, 10, 80, 24, pdf_standard="PDF/UA-1"),
)

# Made from a training session's roster, not for every venue (see roster.py).
ROSTER_FORMATS: tuple[ProductFormat, ...] = (
    ProductFormat("certificates", "certificate", "a4-landscape", "Certificates of attendance",
                  "certificate/certificate.html", "certificate/certificate.css", 297, 210, 1, 1000, 11,
                  pdf_standard="PDF/UA-1"),
    ProductFormat("sign-in", "sign-in", "a4", "Attendance sheet", "sign-in/sign-in.html", "sign-in/sign-in.css",
                  210, 297, 1, 50, 11, pdf_standard="PDF/UA-1"),
)

PRODUCT_KINDS: tuple[str, ...] = tuple(dict.fromkeys(fmt.kind for fmt in PRODUCT_FORMATS))


def parse_output_path(path: str) -> tuple[str | None, str, str | None, str | None] | None:
    """What a venue file's path says it is: (area, venue, format key, language
    tag), the inverse of Job.output_path; None for a path no job writes."""
    parts = path.split("/")
    if len(parts) not in (2, 3) or not parts[-1].endswith(".pdf"):
        return None
    area, (venue, name) = (parts[0] if len(parts) == 3 else None), parts[-2:]
    stem = name.removesuffix(".pdf")
    # The longest key first: poster-a3-press is not poster-a3 in a language "press".
    for key in sorted((fmt.key for fmt in PRODUCT_FORMATS), key=len, reverse=True):
        if stem == key:
            return area, venue, key, None
        if stem.startswith(f"{key}-"):
            return area, venue, key, stem.removeprefix(f"{key}-")
    return None


@dataclass(frozen=True)
class Session:
    """A training session, for the roster products: who attended, when, with whom."""

    date: dt.date
    trainer: str | None
    attendees: tuple[Attendee, ...] = ()
    blank_rows: int = 0        # sign-in: empty rows to write in by hand
    minutes: int | None = None  # certificates: the session's length, one of the session plans'
    trainer_fonts: tuple[str, ...] = ()  # the script fonts the trainer's name needs (roster.SCRIPT_FONTS)
    # A long roster is made in pieces (roster_files.py): a piece's first row
    # number on the sign-in sheet, the number of its first page, the sheet's
    # pages in all (None: count them), and whether it is the first piece, which
    # the session's details head.
    first_row: int = 1
    first_page: int = 1
    total_pages: int | None = None
    heading: bool = True

    @property
    def fonts(self) -> tuple[str, ...]:
        """The script fonts (layouts/common/scripts/) this file's text needs."""
        needed = {*self.trainer_fonts, *(key for attendee in self.attendees for key in attendee.fonts)}
        return tuple(key for key in SCRIPT_FONTS if key in needed)


@dataclass(frozen=True)
class Job:
    """One output file to make."""

    venue_id: str
    format_key: str
    session: Session | None = None
    area_id: str | None = None  # a council area's own reporting contacts (source/areas/)
    lang: str | None = None     # a translated edition's language tag; None for English

    @property
    def product(self) -> ProductFormat:
        return next(fmt for fmt in PRODUCT_FORMATS + ROSTER_FORMATS if fmt.key == self.format_key)

    @property
    def output_path(self) -> str:
        """Where the file goes, relative to the output folder (always '/'-separated)."""
        if self.session:
            # In the roster's own folder, named for the session (never for a person).
            return f"{self.product.key}-{self.venue_id}-{self.session.date.isoformat()}.pdf"
        # A translation sits beside the English, named for its language: poster-a3-cy.pdf.
        name = f"{self.product.key}-{self.lang}.pdf" if self.lang else self.product.filename
        if self.area_id:
            return f"{self.area_id}/{self.venue_id}/{name}"
        return f"{self.venue_id}/{name}"

    @property
    def family(self) -> tuple:
        """The files of one product family for one venue, area and language:
        a venue's five poster sizes, or its wallet card and card sheet."""
        return self.venue_id, self.area_id, self.lang, self.product.kind

    def __str__(self) -> str:
        return self.output_path


@dataclass(frozen=True)
class Selection:
    """Which files a build makes: the venues, product kinds, variants,
    languages and council areas asked for; an empty field means all of them
    (languages: English and every reviewed translation; areas: none, the
    national edition). An area of None in `areas` is the national edition,
    made beside the areas'."""

    venues: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # tags as asked for: "en", "cy", "en-XA"
    areas: tuple[str | None, ...] = ()

    @property
    def everything(self) -> bool:
        """No filter at all: a build of every file the source makes (the
        national edition), which removes the files of what left the source."""
        return not (self.venues or self.products or self.variants or self.languages or self.areas)

    @property
    def key(self) -> str:
        """The same text for the same selection, for the record of complete builds."""
        return json.dumps(asdict(self), sort_keys=True)


def job_languages(source: Source, languages: tuple[str, ...]) -> tuple[str | None, ...]:
    """Jobs' languages (None: English) for the tags asked for, or the default set."""
    if not languages:
        return (None, *(tag for tag, translation in source.translations.items() if not translation.language.draft))
    return tuple(None if tag == "en" else tag for tag in dict.fromkeys(languages))


def plan_jobs(source: Source, selection: Selection = Selection()) -> list[Job]:
    """Every job the selection asks for, venue by venue."""
    venues = [venue for venue in source.venues if not selection.venues or venue.id in selection.venues]
    formats = [fmt for fmt in PRODUCT_FORMATS if (not selection.products or fmt.kind in selection.products)
               and (not selection.variants or fmt.variant in selection.variants)]
    languages = job_languages(source, selection.languages)
    return [Job(venue.id, fmt.key, area_id=area_id, lang=lang)
            for area_id in (selection.areas or (None,)) for venue in venues for lang in languages for fmt in formats]
