"""Imposition: one product's pages placed, as they are, onto another's sheets.

The card sheet is ten copies of the wallet card on A4. Laying the card out
twenty times over (ten fronts, ten backs) cost ten times the card; instead the
card is laid out once and its two pages are drawn into the sheet's slots, the
way a print shop imposes a file. The sheet's layout is only the frame: it
marks each slot with the page of the card it takes (`data-impose="1"`) and
draws the cut marks, so where the cards go stays a layout decision. A slot is
the card's trim plus the bleed the sheet keeps, the same on every side: the
card is laid out with more bleed than that (its print-shop file keeps 3 mm),
and what lies past the slot is clipped off.

In the PDF each card page becomes a form XObject, drawn once per slot: the
sheet is the card's own vector pages, not a picture of them. Tagged, each
sheet page reads as one copy of its card side (tagging.tag_imposed_sheet).
"""

from __future__ import annotations

from dataclasses import dataclass

import pydyf

from .errors import RenderError
from .preflight import PX_TO_MM, PX_TO_PT, marked_boxes

SLOT_TOLERANCE_MM = 0.2


@dataclass(frozen=True)
class Slot:
    """Where one page of the imposed product goes: a sheet page, and the box
    its page's trim goes into, in CSS px from the sheet page's top-left
    corner, with the bleed kept round it."""

    sheet_page: int    # 0-based
    product_page: int  # 0-based page of the imposed product
    left: float
    top: float
    width: float
    height: float
    bleed: float = 0.0


def slots(frame_document, product_pages) -> list[Slot]:
    """The slots the frame's layout marks, each checked against the page it
    takes: its trim plus the same bleed on every side, no more than the page
    has. A card placed in a slot of another size would be cut wrong."""
    found = []
    for number, page in enumerate(frame_document.pages):
        for element, box in marked_boxes(page, "data-impose"):
            wanted = int(element.get("data-impose")) - 1
            if not 0 <= wanted < len(product_pages):
                raise RenderError(f"layout error: a slot takes page {wanted + 1} of a product of "
                                  f"{len(product_pages)} pages")
            target = product_pages[wanted]
            bleeds = [(box.border_width() - target.width) / 2, (box.border_height() - target.height) / 2]
            where = f"a slot on sheet page {number + 1} ({box.border_width() * PX_TO_MM:.2f} x " \
                    f"{box.border_height() * PX_TO_MM:.2f} mm)"
            if abs(bleeds[0] - bleeds[1]) * PX_TO_MM > SLOT_TOLERANCE_MM:
                raise RenderError(f"layout error: {where} is not its card page ({target.width * PX_TO_MM:.2f} x "
                                  f"{target.height * PX_TO_MM:.2f} mm) with the same bleed on every side")
            bleed = max(0.0, sum(bleeds) / 2)
            if bleeds[0] * PX_TO_MM < -SLOT_TOLERANCE_MM or bleed > min(target.bleed.values()) + 0.01:
                raise RenderError(f"layout error: {where} keeps {bleed * PX_TO_MM:.2f} mm of bleed round its "
                                  f"card page, which has {min(target.bleed.values()) * PX_TO_MM:.2f} mm")
            found.append(Slot(number, wanted, box.border_box_x() + bleed, box.border_box_y() + bleed,
                              target.width, target.height, bleed))
    if not found:
        raise RenderError("layout error: the sheet's layout marks no slot (data-impose)")
    return found


def form_name(product_page: int) -> str:
    """The resource name of the form that draws a product's page (0-based)."""
    return f"ImposedPage{product_page + 1}"


def page_text(page) -> str:
    """The text a laid-out page prints, in layout order, one space between runs."""
    runs = []

    def walk(box):
        if isinstance(getattr(box, "text", None), str):
            runs.append(box.text)
        for child in getattr(box, "children", ()):
            walk(child)
    walk(page._page_box)
    return " ".join(" ".join(runs).split())


def _object(pdf: pydyf.PDF, reference: bytes):
    return pdf.objects[int(reference.split()[0])]


def impose(pdf: pydyf.PDF, frame_pages: int, placed: list[Slot], page_heights_px: list[float]) -> None:
    """A WeasyPrint finisher's work on a PDF written from the frame's pages
    followed by the imposed product's: each product page becomes a form
    XObject drawn into its slots, and is then taken out of the page tree."""
    kids = pdf.pages["Kids"]
    page_refs = [f"{number} 0 R".encode() for number in kids[::3]]
    frame_refs, product_refs = page_refs[:frame_pages], page_refs[frame_pages:]
    resources = None
    forms = []
    for index, reference in enumerate(product_refs):
        page = _object(pdf, reference)
        resources = page["Resources"]
        # WeasyPrint draws a page in one content stream whose first operation
        # flips the y axis for its page's height: as a form, it draws the page
        # from the form's origin, which is the slot's bottom-left corner.
        form = _object(pdf, page["Contents"])
        form.extra.update({"Type": "/XObject", "Subtype": "/Form", "BBox": page["MediaBox"],
                           "Resources": resources})
        forms.append((form_name(index), form))
        page.clear()  # unreferenced once out of the page tree: an empty dictionary
    shared = _object(pdf, resources)  # every WeasyPrint page shares one resource dictionary
    for name, form in forms:
        shared["XObject"][name] = form.reference
    for number, reference in enumerate(frame_refs):
        stream = _object(pdf, _object(pdf, reference)["Contents"])
        # The frame's own drawing keeps its transformation to itself; the
        # cards are placed in PDF points from the page's bottom-left corner.
        stream.stream.insert(0, b"q")
        stream.stream.append(b"Q")
        height = page_heights_px[number]
        for slot in (slot for slot in placed if slot.sheet_page == number):
            # The card's trim from its bottom-left corner, its bleed clipped
            # to the slot's.
            x, y = slot.left * PX_TO_PT, (height - slot.top - slot.height) * PX_TO_PT
            bleed, width, tall = slot.bleed * PX_TO_PT, slot.width * PX_TO_PT, slot.height * PX_TO_PT
            stream.stream.append(f"q 1 0 0 1 {x:.4f} {y:.4f} cm {-bleed:.4f} {-bleed:.4f} {width + 2 * bleed:.4f} "
                                 f"{tall + 2 * bleed:.4f} re W n /{forms[slot.product_page][0]} Do Q".encode())
    del kids[frame_pages * 3:]
    pdf.pages["Count"] = frame_pages
    # The imposed pages' headings would be bookmarks to pages that are gone.
    pdf.catalog.pop("Outlines", None)
    pdf.catalog.pop("PageMode", None)
