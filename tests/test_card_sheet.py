"""The sheet of ten wallet cards (wallet-cards-sheet-a4.pdf), measured on what it
prints: both pages rendered at 300 dpi and located by colour.

- Fronts (page 1): each card's header strip in the venue accent spans the card;
  the strips form a 2 x 5 grid of ID-1 cards with shared cut lines, centred on A4.
- Backs (page 2): each back's red "Child in danger now? 999" strip, placed on its
  card with the offset measured on the single wallet-card.pdf, lands, once the
  sheet is turned over on its long edge, on a front's card.
- Cut guides: on every cut line, in the margins only, never within 5 mm of the
  paper's edge (office printers cannot print there) nor touching a card.

Expected positions come from the measured grid and the product sizes (ISO/IEC
7810 ID-1, ISO 216 A4), never from fixed pixel numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
import pytest

from conftest import (LAYOUTS_DIR, MM_TO_PT, box_mm, colour_mask, darkest, page_size_mm, pdf_reader, page_texts,
                      printed, render_page, shipped_source)

SHEET = "wallet-cards-sheet-a4"
CARD = "wallet-card"
VENUE_IDS = [venue.id for venue in shipped_source().venues]

# The product, independent of materials/ and layouts/.
CARD_MM = (85.60, 53.98)   # ISO/IEC 7810 ID-1
PAPER_MM = (210.0, 297.0)  # ISO 216 A4, portrait
COLUMNS, ROWS = 2, 5
PRINTER_EDGE_MM = 5.0      # office printers leave this much of the paper's edge unprinted
GUIDE_START_MM = 6.5       # cut guides start this far in from the paper's edge ...
GUIDE_GAP_MM = 1.5         # ... and stop this far short of the cards
WHITE_GAP_MM = 1.0         # at least this much white between a guide and a card
TOLERANCE_MM = 0.3


def design_token(name: str) -> str:
    """A colour from the shared design tokens (the layouts' own source of truth)."""
    tokens = (LAYOUTS_DIR / "common" / "tokens.css").read_text(encoding="utf-8")
    match = re.search(rf"--{name}:\s*(#[0-9A-Fa-f]{{6}})\s*;", tokens)
    assert match, f"no --{name} colour in tokens.css"
    return match.group(1)


DANGER = design_token("danger")        # the back's "Child in danger now? 999" strip
HIGHLIGHT = design_token("highlight")  # the front's "spot the signs" label
COLOUR_TOLERANCE = 12                   # per channel, 0-255

DPI = 300
PX_PER_MM = DPI / 25.4
WHITE = 255
PRINTED = 250  # darkest channel below this: something is printed there
GUIDE_INK = 128  # darkness summed across a line: at least half a pixel of black (a 0.3 pt guide
                 # is 1.25 px wide at 300 dpi, antialiased over two or three pixels)


# --- finding things by colour -------------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    """A rectangle in mm from the paper's top-left corner (y grows downwards)."""
    left: float
    top: float
    right: float
    bottom: float

    @classmethod
    def from_pixels(cls, left: int, top: int, right: int, bottom: int) -> "Box":
        return cls(left / PX_PER_MM, top / PX_PER_MM, right / PX_PER_MM, bottom / PX_PER_MM)

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def moved(self, dx: float, dy: float) -> "Box":
        return Box(self.left + dx, self.top + dy, self.right + dx, self.bottom + dy)

    def card_at(self, offset: "Box") -> "Box":
        """The card this box is on, given where the same box lies on a lone card."""
        left, top = self.left - offset.left, self.top - offset.top
        return Box(left, top, left + CARD_MM[0], top + CARD_MM[1])

    def mirrored(self, paper_width: float) -> "Box":
        """The same box seen from the other side of the paper, turned over on its long edge."""
        return Box(paper_width - self.right, self.top, paper_width - self.left, self.bottom)

    def distance(self, other: "Box") -> float:
        return max(abs(self.left - other.left), abs(self.top - other.top),
                   abs(self.right - other.right), abs(self.bottom - other.bottom))

    def __str__(self) -> str:
        return f"[{self.left:.2f}, {self.top:.2f} - {self.right:.2f}, {self.bottom:.2f} mm]"


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in a 1-D array."""
    padded = np.concatenate(([False], flags.astype(bool), [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def bands(mask: np.ndarray, min_width_mm: float) -> list[tuple[int, int]]:
    """Runs of pixel rows with at least `min_width_mm` of the colour in them."""
    return runs(mask.sum(axis=1) >= min_width_mm * PX_PER_MM)


def solid_box(mask: np.ndarray, top: int, bottom: int, left: int, right: int) -> Box:
    """The coloured rectangle in mask[top:bottom, left:right]: the rows at least half
    covered (text may sit on the colour), then the columns between them that are."""
    window = mask[top:bottom, left:right]
    rows = max(runs(window.mean(axis=1) >= 0.5), key=lambda run: run[1] - run[0])
    columns = np.flatnonzero(window[rows[0]:rows[1]].mean(axis=0) >= 0.3)
    assert columns.size, "no coloured columns"
    return Box.from_pixels(left + columns[0], top + rows[0], left + columns[-1] + 1, top + rows[1])


def strip_boxes_in_band(mask: np.ndarray, top: int, bottom: int) -> list[Box]:
    """Each separate coloured strip in a band of rows, left to right."""
    covered = mask[top:bottom].mean(axis=0) >= 0.3
    return [solid_box(mask, top, bottom, left, right) for left, right in runs(covered)]


# --- measuring the card and the sheet ------------------------------------------------------------

@dataclass
class Card:
    """Where the strips lie on the lone card (its page is the card)."""
    front_strip: Box
    kicker: Box
    danger_strip: Box


def measure_card(path, accent: str) -> Card:
    front, _ = render_page(path, 0, DPI)
    back, _ = render_page(path, 1, DPI)
    accent_mask = colour_mask(front, accent, COLOUR_TOLERANCE)
    (top, bottom), = bands(accent_mask, CARD_MM[0] / 2)
    front_strip, = strip_boxes_in_band(accent_mask, top, bottom)
    highlight = colour_mask(front, HIGHLIGHT, COLOUR_TOLERANCE)[top:bottom]
    (left, right), = runs(highlight.any(axis=0))  # found as on the sheet: see measure_front_strips
    (first, last), = runs(highlight.any(axis=1))
    kicker = Box.from_pixels(left, top + first, right, top + last)
    danger_mask = colour_mask(back, DANGER, COLOUR_TOLERANCE)
    (top, bottom), = bands(danger_mask, CARD_MM[0] / 3)
    danger_strip, = strip_boxes_in_band(danger_mask, top, bottom)
    return Card(front_strip, kicker, danger_strip)


def measure_front_strips(pixels: np.ndarray, accent: str, card: Card) -> list[list[Box]]:
    """The header strip of each card on page 1, as rows of boxes, left to right.

    Side by side, two cards' strips touch at the shared cut line and read as one
    band of colour; each card's left edge is found from its "spot the signs"
    label instead (the label sits on the card as on the lone card), and the band
    is split there."""
    accent_mask = colour_mask(pixels, accent, COLOUR_TOLERANCE)
    highlight = colour_mask(pixels, HIGHLIGHT, COLOUR_TOLERANCE)
    width = accent_mask.shape[1]
    rows = []
    for top, bottom in bands(accent_mask, COLUMNS * CARD_MM[0] / 2):
        kickers = runs(highlight[top:bottom].any(axis=0))
        card_lefts = [round((left / PX_PER_MM - card.kicker.left) * PX_PER_MM) for left, _ in kickers]
        edges = [0, *card_lefts[1:], width]
        covered = accent_mask[top:bottom].mean(axis=0) >= 0.3
        strips = []
        for left, right in zip(edges, edges[1:]):
            inside = np.flatnonzero(covered[left:right])
            if inside.size:  # the strip: the unbroken colour from its first column on
                first = left + inside[0]
                strips.append(solid_box(accent_mask, top, bottom, first, first + runs(covered[first:right])[0][1]))
        rows.append(strips)
    return rows


def measure_back_strips(pixels: np.ndarray, card: Card) -> list[list[Box]]:
    danger_mask = colour_mask(pixels, DANGER, COLOUR_TOLERANCE)
    return [strip_boxes_in_band(danger_mask, top, bottom)
            for top, bottom in bands(danger_mask, COLUMNS * card.danger_strip.width / 2)]


@dataclass
class Sheet:
    venue_id: str
    path: object
    pages: list        # two (3, height, width) RGB arrays
    card: Card
    fronts: list       # rows of header-strip boxes on page 1
    backs: list        # rows of danger-strip boxes on page 2
    paper: tuple       # (width, height) in mm, as rendered

    def front_cards(self) -> list[Box]:
        return [strip.card_at(self.card.front_strip) for row in self.fronts for strip in row]

    def grid(self) -> Box:
        cards = self.front_cards()
        return Box(min(card.left for card in cards), min(card.top for card in cards),
                   max(card.right for card in cards), max(card.bottom for card in cards))


@pytest.fixture(scope="module", params=VENUE_IDS)
def sheet(request, full_build, source) -> Sheet:
    """One venue's sheet, rendered and measured (module-scoped: tests run venue by venue)."""
    venue_id = request.param
    accent = source.venue(venue_id).accent
    card = measure_card(full_build.pdf(venue_id, CARD), accent)
    path = full_build.pdf(venue_id, SHEET)
    pages = [render_page(path, index, DPI)[0] for index in range(2)]
    paper = (pages[0].shape[2] / PX_PER_MM, pages[0].shape[1] / PX_PER_MM)
    return Sheet(venue_id, path, pages, card, measure_front_strips(pages[0], accent, card),
                 measure_back_strips(pages[1], card), paper)


# --- the lone card, as measured ----------------------------------------------------------------

def test_the_lone_card_is_measured_where_expected(sheet):
    """The references the sheet is measured against: the header strip spans the
    top of the card, the danger strip lies inside the card."""
    card = sheet.card
    assert card.front_strip.left == pytest.approx(0, abs=TOLERANCE_MM)
    assert card.front_strip.top == pytest.approx(0, abs=TOLERANCE_MM)
    assert card.front_strip.width == pytest.approx(CARD_MM[0], abs=TOLERANCE_MM)
    assert card.kicker.top > card.front_strip.top and card.kicker.bottom < card.front_strip.bottom
    strip = card.danger_strip
    assert 0 < strip.left < strip.right < CARD_MM[0] and 0 < strip.top < strip.bottom < CARD_MM[1], str(strip)


# --- pages ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_two_a4_pages_fronts_then_backs(full_build, source, venue_id):
    path = full_build.pdf(venue_id, SHEET)
    reader = pdf_reader(path)
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert page_size_mm(page) == pytest.approx(PAPER_MM, abs=0.2)
        assert box_mm(page) == pytest.approx((0, 0, *PAPER_MM), abs=0.2)
    front, back = (text.casefold() for text in page_texts(path))  # headings may be set in capitals

    def on(text: str, *needles: str) -> list[bool]:
        return [printed(needle.casefold(), text) for needle in needles]

    headings = source.content.headings
    venue = source.venue(venue_id)
    assert on(front, headings.spot_the_signs, venue.name, headings.what_to_do, headings.danger_now) == [
        True, True, False, False]
    assert on(back, headings.what_to_do, headings.danger_now, headings.spot_the_signs) == [True, True, False]


# --- fronts: the card grid ---------------------------------------------------------------------------

def test_ten_front_strips_each_spanning_its_card(sheet):
    fronts = sheet.fronts
    assert [len(row) for row in fronts] == [COLUMNS] * ROWS, [[str(box) for box in row] for row in fronts]
    for number, strip in enumerate((strip for row in fronts for strip in row), 1):
        assert strip.width == pytest.approx(CARD_MM[0], abs=TOLERANCE_MM), f"card {number}: strip {strip}"
        assert strip.height == pytest.approx(sheet.card.front_strip.height, abs=TOLERANCE_MM), (
            f"card {number}: strip {strip} is not the lone card's strip ({sheet.card.front_strip})")


def test_front_strips_sit_on_the_card_pitch(sheet):
    fronts = sheet.fronts
    assert [len(row) for row in fronts] == [COLUMNS] * ROWS
    for column in range(COLUMNS):
        tops = [row[column].top for row in fronts]
        pitches = np.diff(tops)
        assert pitches == pytest.approx([CARD_MM[1]] * (ROWS - 1), abs=TOLERANCE_MM), (
            f"column {column + 1}: rows {np.round(pitches, 2).tolist()} mm apart, not {CARD_MM[1]}")
    for number, row in enumerate(fronts, 1):
        lefts = [strip.left for strip in row]
        assert np.diff(lefts) == pytest.approx([CARD_MM[0]] * (COLUMNS - 1), abs=TOLERANCE_MM), (
            f"row {number}: columns {np.round(np.diff(lefts), 2).tolist()} mm apart, not {CARD_MM[0]}")


def test_the_card_grid_is_centred_on_the_paper(sheet):
    assert sheet.paper == pytest.approx(PAPER_MM, abs=0.2)
    grid = sheet.grid()
    margin_x = (PAPER_MM[0] - COLUMNS * CARD_MM[0]) / 2
    margin_y = (PAPER_MM[1] - ROWS * CARD_MM[1]) / 2
    assert (grid.left, grid.top) == pytest.approx((margin_x, margin_y), abs=TOLERANCE_MM), str(grid)
    assert (PAPER_MM[0] - grid.right, PAPER_MM[1] - grid.bottom) == pytest.approx((margin_x, margin_y),
                                                                                  abs=TOLERANCE_MM), str(grid)


# --- backs: behind their fronts ----------------------------------------------------------------------

def test_ten_back_strips(sheet):
    backs = sheet.backs
    assert [len(row) for row in backs] == [COLUMNS] * ROWS, [[str(box) for box in row] for row in backs]
    lone = sheet.card.danger_strip
    for number, strip in enumerate((strip for row in backs for strip in row), 1):
        assert (strip.width, strip.height) == pytest.approx((lone.width, lone.height), abs=TOLERANCE_MM), (
            f"back {number}: strip {strip} is not the lone card's strip {lone}")


def test_each_back_lies_behind_a_front(sheet):
    """Turned over on its long edge (x -> paper width - x), every back's card
    covers a front's card, one to one, within 0.3 mm."""
    fronts = sheet.front_cards()
    backs = [strip.card_at(sheet.card.danger_strip).mirrored(sheet.paper[0])
             for row in sheet.backs for strip in row]
    assert len(fronts) == len(backs) == COLUMNS * ROWS
    matched = set()
    for back in backs:
        nearest = min(range(len(fronts)), key=lambda index: back.distance(fronts[index]))
        assert back.distance(fronts[nearest]) <= TOLERANCE_MM, (
            f"the back card at {back} (seen from the front) misses the nearest front card {fronts[nearest]} "
            f"by {back.distance(fronts[nearest]):.2f} mm")
        matched.add(nearest)
    assert len(matched) == len(fronts), "two backs lie behind the same front"


# --- every card is the lone card ------------------------------------------------------------------

def render_box(path, index: int, box: Box) -> np.ndarray:
    """What a page prints inside `box` (mm from the paper's top-left), rendered
    with the box's corner at the bitmap's origin, to the sub-pixel: a card's
    slot at the lone card's own pixel grid."""
    document = pdfium.PdfDocument(str(path))
    try:
        page = document[index]
        height_pt = page.get_height()
        page.set_cropbox(box.left * MM_TO_PT, height_pt - box.bottom * MM_TO_PT,
                         box.right * MM_TO_PT, height_pt - box.top * MM_TO_PT)
        return page.render(scale=COMPARE_DPI / 72).to_numpy()[:, :, :3].astype(int)
    finally:
        document.close()


COMPARE_DPI = 150
SAME_PRINT = 1.0  # mean difference per channel (0-255): 0 when the slot prints the card exactly; a card
                  # misplaced by 0.2 mm differs by about 9


@pytest.mark.parametrize("venue_id", VENUE_IDS)
@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_every_card_on_the_sheet_prints_as_the_lone_card(full_build, venue_id, page):
    """Each of the ten slots of a page, where the specification puts it (centred,
    shared cut lines, backs mirrored), prints what the lone card's page prints."""
    lone = full_build.pdf(venue_id, CARD)
    whole_card = Box(0, 0, *CARD_MM)
    card = render_box(lone, page, whole_card)
    margin_x, margin_y = (PAPER_MM[0] - COLUMNS * CARD_MM[0]) / 2, (PAPER_MM[1] - ROWS * CARD_MM[1]) / 2
    for row in range(ROWS):
        for column in range(COLUMNS):
            placed = column if page == 0 else COLUMNS - 1 - column
            slot = whole_card.moved(margin_x + placed * CARD_MM[0], margin_y + row * CARD_MM[1])
            printed_there = render_box(full_build.pdf(venue_id, SHEET), page, slot)
            assert printed_there.shape == card.shape
            difference = np.abs(printed_there - card).mean()
            assert difference < SAME_PRINT, f"row {row + 1}, column {column + 1}: differs from the card by {difference:.1f}"


# --- cut guides ----------------------------------------------------------------------------------------

def page_grid(sheet: Sheet, page: int) -> Box:
    """The card grid on a page: page 2 is page 1 turned over."""
    grid = sheet.grid()
    return grid if page == 0 else grid.mirrored(sheet.paper[0])


def distance_outside(grid: Box, shape) -> np.ndarray:
    """Each pixel's distance (mm) outside the grid box (0 inside it), Chebyshev."""
    ys = (np.arange(shape[0]) + 0.5) / PX_PER_MM
    xs = (np.arange(shape[1]) + 0.5) / PX_PER_MM
    dy = np.maximum(np.maximum(grid.top - ys, ys - grid.bottom), 0)
    dx = np.maximum(np.maximum(grid.left - xs, xs - grid.right), 0)
    return np.maximum(dy[:, None], dx[None, :])


@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_nothing_is_printed_near_the_paper_edge(sheet, page):
    ink = darkest(sheet.pages[page])
    edge = round(PRINTER_EDGE_MM * PX_PER_MM)
    for name, strip in {"top": ink[:edge], "bottom": ink[-edge:], "left": ink[:, :edge],
                        "right": ink[:, -edge:]}.items():
        printed_at = np.argwhere(strip < WHITE)
        assert printed_at.size == 0, (f"printed within {PRINTER_EDGE_MM} mm of the {name} edge, e.g. at pixel "
                                      f"(row, column) {printed_at[0].tolist()}")


@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_a_cut_guide_on_every_cut_line(sheet, page):
    darkness = WHITE - darkest(sheet.pages[page]).astype(np.int32)
    grid = page_grid(sheet, page)
    paper_w, paper_h = sheet.paper
    near = round(TOLERANCE_MM * PX_PER_MM)
    missing = []

    def guide(along: np.ndarray, where: str, expected_start: float, expected_stop: float) -> None:
        """`along`: the darkness summed across a narrow strip about the cut line, from
        the paper's edge inwards; the guide must run from expected_start to expected_stop (mm)."""
        dark = runs(along >= GUIDE_INK)
        if not dark:
            missing.append(f"{where}: no guide")
            return
        start, stop = dark[0][0] / PX_PER_MM, dark[-1][1] / PX_PER_MM
        if len(dark) > 1 or abs(start - expected_start) > TOLERANCE_MM or abs(stop - expected_stop) > TOLERANCE_MM:
            missing.append(f"{where}: guide from {start:.2f} to {stop:.2f} mm in ({len(dark)} piece(s)), "
                           f"expected {expected_start:.2f} to {expected_stop:.2f}")

    for k in range(COLUMNS + 1):
        x = round((grid.left + k * CARD_MM[0]) * PX_PER_MM)
        across = darkness[:, x - near:x + near + 1].sum(axis=1)
        guide(across[:round(grid.top * PX_PER_MM)], f"top, x = {x / PX_PER_MM:.2f} mm",
              GUIDE_START_MM, grid.top - GUIDE_GAP_MM)
        guide(across[round(grid.bottom * PX_PER_MM):][::-1], f"bottom, x = {x / PX_PER_MM:.2f} mm",
              GUIDE_START_MM, paper_h - grid.bottom - GUIDE_GAP_MM)
    for k in range(ROWS + 1):
        y = round((grid.top + k * CARD_MM[1]) * PX_PER_MM)
        across = darkness[y - near:y + near + 1].sum(axis=0)
        guide(across[:round(grid.left * PX_PER_MM)], f"left, y = {y / PX_PER_MM:.2f} mm",
              GUIDE_START_MM, grid.left - GUIDE_GAP_MM)
        guide(across[round(grid.right * PX_PER_MM):][::-1], f"right, y = {y / PX_PER_MM:.2f} mm",
              GUIDE_START_MM, paper_w - grid.right - GUIDE_GAP_MM)
    assert missing == []


@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_guides_only_on_cut_lines_and_clear_of_the_cards(sheet, page):
    """Outside the card grid, ink only on the cut lines' extensions, and at
    least 1 mm of white paper all round the grid."""
    ink = darkest(sheet.pages[page])
    grid = page_grid(sheet, page)
    outside = distance_outside(grid, ink.shape)
    on_cut_line = np.zeros(ink.shape, dtype=bool)
    near = round(TOLERANCE_MM * PX_PER_MM)
    for k in range(COLUMNS + 1):
        x = round((grid.left + k * CARD_MM[0]) * PX_PER_MM)
        on_cut_line[:, x - near:x + near + 1] = True
    for k in range(ROWS + 1):
        y = round((grid.top + k * CARD_MM[1]) * PX_PER_MM)
        on_cut_line[y - near:y + near + 1] = True
    # the grid's edge is measured to a pixel, and the card's own edge is antialiased
    margins = outside > 2 / PX_PER_MM
    stray = np.argwhere(margins & ~on_cut_line & (ink < PRINTED))
    assert stray.size == 0, (f"{len(stray)} printed pixels in the margins off the cut lines, e.g. at "
                             f"{(stray[0][::-1] / PX_PER_MM).round(2).tolist()} mm (x, y)")
    gap = margins & (outside <= WHITE_GAP_MM)
    touching = np.argwhere(gap & (ink < WHITE))
    assert touching.size == 0, (f"less than {WHITE_GAP_MM} mm of white between the cards and a guide, e.g. at "
                                f"{(touching[0][::-1] / PX_PER_MM).round(2).tolist()} mm (x, y)")
