"""Stage 3: the products we make, and one job per output file.

A product format says which layout and stylesheet make it and what the finished
file must measure; preflight holds every rendered file to that. A job is a plain,
picklable description of one output file: which venue, which format.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Source


@dataclass(frozen=True)
class ProductFormat:
    key: str            # unique: "poster-a3"
    kind: str           # product family: "poster", "wallet-card", "handout"
    format: str         # "a3", "a4", "id-1"
    title: str          # shown in metadata and listings
    template: str       # Jinja layout, relative to layouts/
    stylesheet: str     # thin per-format stylesheet, relative to layouts/
    width_mm: float
    height_mm: float
    min_pages: int
    max_pages: int
    min_text_pt: float  # smallest text allowed in the page body

    @property
    def filename(self) -> str:
        return f"{self.key}.pdf"


PRODUCT_FORMATS: tuple[ProductFormat, ...] = (
    ProductFormat("poster-a3", "poster", "a3", "Poster, A3", "poster/poster.html", "poster/poster-a3.css",
                  297, 420, 1, 1, 20),
    ProductFormat("poster-a4", "poster", "a4", "Poster, A4", "poster/poster.html", "poster/poster-a4.css",
                  210, 297, 1, 1, 14),
    # ISO/IEC 7810 ID-1: page 1 the front, page 2 the back.
    ProductFormat("wallet-card", "wallet-card", "id-1", "Wallet card", "wallet-card/wallet-card.html",
                  "wallet-card/wallet-card.css", 85.60, 53.98, 2, 2, 6.5),
    ProductFormat("handout", "handout", "a4", "Trainer handout", "handout/handout.html", "handout/handout.css",
                  210, 297, 3, 40, 11),
)

PRODUCT_KINDS: tuple[str, ...] = tuple(dict.fromkeys(fmt.kind for fmt in PRODUCT_FORMATS))


@dataclass(frozen=True)
class Job:
    """One output file to make."""

    venue_id: str
    format_key: str

    @property
    def product(self) -> ProductFormat:
        return next(fmt for fmt in PRODUCT_FORMATS if fmt.key == self.format_key)

    @property
    def output_path(self) -> str:
        """Where the file goes, relative to the output folder (always '/'-separated)."""
        return f"{self.venue_id}/{self.product.filename}"

    def __str__(self) -> str:
        return self.output_path


def plan_jobs(source: Source, venue_ids: tuple[str, ...] = (), kinds: tuple[str, ...] = ()) -> list[Job]:
    """Every job for the chosen venues and product kinds (all when none are chosen)."""
    venues = [venue for venue in source.venues if not venue_ids or venue.id in venue_ids]
    formats = [fmt for fmt in PRODUCT_FORMATS if not kinds or fmt.kind in kinds]
    return [Job(venue.id, fmt.key) for venue in venues for fmt in formats]
