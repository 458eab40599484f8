"""The poster's signs in two balanced columns that end level, read down the first, then the
second: measured on the printed PDFs (pypdfium2 character boxes), and the
pipeline's balancing rule on lists of known heights."""

from __future__ import annotations

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from weasyprint import HTML

from conftest import PT_TO_MM, shipped_source
from materials.jobs import PRODUCT_FORMATS
from materials.preflight import column_splits

POSTERS = [pytest.param(venue.id, fmt.key, id=f"{venue.id}-{fmt.key}")
           for venue in shipped_source().venues for fmt in PRODUCT_FORMATS
           if fmt.kind == "poster" and fmt.key in ("poster-a3", "poster-a4", "poster-a2-press")]
# Of the signs' text size: how far a round letter's ink rises above a flat one's.
INK_TOLERANCE = 0.06
LINE_HEIGHT = 1.22  # poster.css: html { line-height }


def sign_boxes(path, signs: list[str]) -> tuple[list[tuple[float, float, float]], float]:
    """Each sign's (left, top, bottom) on page 1, in mm from the page's top-left,
    found by its letters in order (whatever the line breaks), and the size of
    the signs' text in mm."""
    document = pdfium.PdfDocument(str(path))
    try:
        page = document[0]
        height = page.get_height()
        text_page = page.get_textpage()
        letters, boxes, sizes = [], [], []
        for index in range(text_page.count_chars()):
            character = text_page.get_text_range(index, 1)
            if character.strip():
                letters.append(character)
                boxes.append(text_page.get_charbox(index))
                sizes.append(pdfium_c.FPDFText_GetFontSize(text_page, index))
    finally:
        document.close()
    printed = "".join(letters)
    found = []
    for sign in signs:
        wanted = "".join(sign.split())
        start = printed.find(wanted)
        assert start >= 0, f"{sign!r} is not printed on {path.name}"
        chars = boxes[start:start + len(wanted)]
        found.append((chars[0][0] * PT_TO_MM, (height - max(box[3] for box in chars)) * PT_TO_MM,
                      (height - min(box[1] for box in chars)) * PT_TO_MM))
    return found, sizes[printed.find("".join(signs[0].split()))] * PT_TO_MM


@pytest.mark.parametrize("venue_id, format_key", POSTERS)
def test_signs_read_down_two_balanced_columns(full_build, source, venue_id, format_key):
    venue = source.venue(venue_id)
    signs = [venue.sign(sign_id, source.content).text for sign_id in venue.poster.signs]
    boxes, text_mm = sign_boxes(full_build.pdf(venue_id, format_key), signs)
    # A letter's box starts where its ink does: a column's signs start within
    # a millimetre or so of each other, the columns a page's half apart.
    lefts = [left for left, _, _ in boxes]
    middle = (min(lefts) + max(lefts)) / 2
    assert max(lefts) - min(lefts) > 50, f"signs start at {lefts} mm: not two columns"
    in_first = [left < middle for left in lefts]
    # Reading order: the first signs down the first column, the rest down the second.
    assert in_first == sorted(in_first, reverse=True), f"signs are not read column by column: {in_first}"
    first, second = boxes[:in_first.count(True)], boxes[in_first.count(True):]
    for column in (first, second):
        assert all(upper[2] < lower[1] for upper, lower in zip(column, column[1:])), "a column is out of order"
    # Ink, not boxes: a round letter (C, O) rises a little above a flat one (Y, T).
    assert abs(first[0][1] - second[0][1]) < INK_TOLERANCE * text_mm, "the columns do not start level"
    # The columns end within one line of each other (a descender's depth, in fact).
    assert abs(first[-1][2] - second[-1][2]) < text_mm * LINE_HEIGHT, (
        f"the columns end at {first[-1][2]:.1f} and {second[-1][2]:.1f} mm: more than a line apart")


def balanced_split(heights_px: list[list[int]]) -> int:
    """The split column_splits finds for a list laid out in the given columns."""
    columns = "".join('<div class="column">' + "".join(f'<div style="height: {height}px"></div>' for height in column)
                      + "</div>" for column in heights_px)
    html = f'<div data-balance="items" style="display: flex">{columns}</div>'
    splits = column_splits(HTML(string=html).render())
    assert splits["items"].laid_out == len(heights_px[0])
    return splits["items"].balanced


@pytest.mark.parametrize("columns, expected", [
    ([[30, 10], [10, 10, 40]], 3),       # 50 | 50: the only split whose taller column is 50
    ([[10, 20, 10], []], 2),             # 30 | 10 or 10 | 30: a tie goes to the first column
    ([[10], [10, 10, 10, 10, 10]], 3),   # laid out unbalanced: the balanced split is still found
    ([[100], [1, 1, 1]], 1),             # one tall item alone
])
def test_the_balanced_split_keeps_the_taller_column_shortest(columns, expected):
    assert balanced_split(columns) == expected
