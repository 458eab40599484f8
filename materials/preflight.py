"""Stage 5: check every rendered file against its product before it is written.

Checks run on what WeasyPrint laid out and on the PDF it wrote, never on the CSS:
a fixed-size product that gained a page has overflowed, whatever the stylesheet says.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from fontTools.ttLib import TTFont
from pypdf import PdfReader
from weasyprint.formatting_structure import boxes

from .jobs import ProductFormat

PX_TO_MM = 25.4 / 96
PX_TO_PT = 72 / 96
SIZE_TOLERANCE_MM = 0.2


@dataclass
class PreflightReport:
    pages: int
    width_mm: float
    height_mm: float
    smallest_text_pt: float | None
    fonts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _text_boxes(box):
    if isinstance(box, boxes.TextBox):
        yield box
    for child in getattr(box, "children", ()):
        yield from _text_boxes(child)


def _body_text_sizes(page) -> list[float]:
    """Font sizes (pt) of text in the page body; running heads and page numbers
    in the page margins are not body text."""
    sizes = []
    for child in page._page_box.children:
        if isinstance(child, boxes.MarginBox):
            continue
        sizes += [text.style["font_size"] * PX_TO_PT for text in _text_boxes(child) if text.text.strip()]
    return sizes


def check_layout(document, product: ProductFormat) -> PreflightReport:
    """Page count, page size and text size of a laid-out document."""
    pages = document.pages
    problems = []
    if not product.min_pages <= len(pages) <= product.max_pages:
        expected = (str(product.min_pages) if product.min_pages == product.max_pages
                    else f"{product.min_pages} to {product.max_pages}")
        problems.append(f"has {len(pages)} pages, must have {expected}: the content does not fit the layout")
    width = pages[0].width * PX_TO_MM
    height = pages[0].height * PX_TO_MM
    for number, page in enumerate(pages, 1):
        page_w, page_h = page.width * PX_TO_MM, page.height * PX_TO_MM
        if abs(page_w - product.width_mm) > SIZE_TOLERANCE_MM or abs(page_h - product.height_mm) > SIZE_TOLERANCE_MM:
            problems.append(f"page {number} measures {page_w:.2f} x {page_h:.2f} mm, "
                            f"must be {product.width_mm} x {product.height_mm} mm")
    sizes = [size for page in pages for size in _body_text_sizes(page)]
    smallest = round(min(sizes), 2) if sizes else None
    if smallest is not None and smallest < product.min_text_pt - 0.01:
        problems.append(f"has text at {smallest} pt, below the {product.min_text_pt} pt minimum for {product.title}")
    return PreflightReport(len(pages), round(width, 2), round(height, 2), smallest, problems=problems)


_family_names: dict[Path, str] = {}


def family_name(font_file: Path) -> str:
    """The family a font file belongs to, as Pango names it (typographic family
    first, then the legacy one)."""
    if font_file not in _family_names:
        with TTFont(font_file, lazy=True) as font:
            names = font["name"]
            _family_names[font_file] = names.getDebugName(16) or names.getDebugName(1)
    return _family_names[font_file]


def check_fonts(pdf: bytes, allowed_font_files: set[Path], report: PreflightReport) -> None:
    """Every font in the PDF is embedded, and is one the layouts loaded from a
    font package: nothing depends on fonts this machine happens to have."""
    # WeasyPrint names each PDF font after its Pango description, e.g.
    # "ABCDEF+Atkinson-Hyperlegible-Bold": the family, then the style.
    allowed = tuple(family_name(path).replace(" ", "-") for path in allowed_font_files)
    found: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font_ref in fonts.values():
            font = font_ref.get_object()
            name = str(font.get("/BaseFont", "?")).lstrip("/")
            name = name.split("+", 1)[-1]  # drop the subset tag, e.g. ABCDEF+
            descriptor = font.get("/FontDescriptor")
            for descendant in font.get("/DescendantFonts", []) or []:
                descriptor = descriptor or descendant.get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if name in found:
                continue
            found.add(name)
            if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                report.problems.append(f"font {name} is not embedded")
            if not name.startswith(allowed):
                report.problems.append(f"uses the machine's font {name} instead of the layout's fonts "
                                       "(a character is missing from them, or a font-family is misspelt)")
    report.fonts = sorted(found)
