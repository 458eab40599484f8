"""The sheet of ten wallet cards (wallet-cards-sheet-a4.pdf), measured on what it
prints, as someone cutting it out would find it.

- Where the cards are: each card's trim is found from where its own text lies
  on the sheet (the venue's name on a front, the back's title on a back),
  against where that text lies on the lone card, wallet-card.pdf.
- Geometry: 2 x 5 cards per page, inside the 5 mm an office printer leaves
  unprinted, at least 4 mm of gutter between neighbours, each back behind its
  front once the sheet is turned over on its long edge.
- Bleed: each card's background runs at least 1.5 mm past its trim and stops
  at least 1 mm short of its neighbour's; a cut 1 mm off its line in any
  direction shows only the card's own edge continued: no white sliver at a
  coloured edge, no colour of the next card.
- Cut marks: on every cut line, beyond the cards (in the margins, and across
  the gutters), and nowhere else; never within 5 mm of the paper's edge.

Expected values come from the product (ISO/IEC 7810 ID-1, ISO 216 A4) and
the issue's requirements, never from the layout's own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
import pytest

from conftest import MM_TO_PT, PT_TO_MM, darkest, page_size_mm, page_texts, pdf_reader, printed, render_page, \
    shipped_source

SHEET = "wallet-cards-sheet-a4"
CARD = "wallet-card"
VENUE_IDS = [venue.id for venue in shipped_source().venues]

# The product and the requirements, independent of materials/ and layouts/.
CARD_MM = (85.60, 53.98)   # ISO/IEC 7810 ID-1
PAPER_MM = (210.0, 297.0)  # ISO 216 A4, portrait
COLUMNS, ROWS = 2, 5
PRINTER_EDGE_MM = 5.0      # office printers leave this much of the paper's edge unprinted
MIN_GUTTER_MM = 4.0        # between neighbouring cards
MIN_BLEED_MM = 1.5         # each card's background runs at least this far past its trim ...
MIN_WHITE_MM = 1.0         # ... and stops at least this far short of its neighbour's
DRIFT_MM = 1.0             # a cut this far off its line must still look right
TOLERANCE_MM = 0.2

DPI = 300
PX_PER_MM = DPI / 25.4
WHITE = 250      # every channel at least this: paper
SAME = 16        # per channel: the same colour, as rendered
MARK = 160       # darkest channel below this: a cut mark's ink


@dataclass(frozen=True)
class Box:
    """A rectangle in mm from the paper's top-left corner (y grows downwards)."""
    left: float
    top: float
    right: float
    bottom: float

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.left + dx, self.top + dy, self.right + dx, self.bottom + dy)

    def grown(self, by: float) -> Box:
        return Box(self.left - by, self.top - by, self.right + by, self.bottom + by)

    def mirrored(self, paper_width: float) -> Box:
        """The same box seen from the other side of the paper, turned over on its long edge."""
        return Box(paper_width - self.right, self.top, paper_width - self.left, self.bottom)

    def distance(self, other: Box) -> float:
        return max(abs(self.left - other.left), abs(self.top - other.top),
                   abs(self.right - other.right), abs(self.bottom - other.bottom))

    def __str__(self) -> str:
        return f"[{self.left:.2f}, {self.top:.2f} - {self.right:.2f}, {self.bottom:.2f} mm]"


# --- where the cards are -----------------------------------------------------------------------

def text_corners(path, index: int, needle: str) -> list[tuple[float, float]]:
    """The top-left corner (mm from the page's top-left) of the first character
    of every occurrence of `needle` on a page."""
    document = pdfium.PdfDocument(str(path))
    try:
        page = document[index]
        left, _, _, top = page.get_mediabox()
        text = page.get_textpage()
        searcher = text.search(needle, match_case=True)
        corners = []
        while (found := searcher.get_next()) is not None:
            box_left, _, _, box_top = text.get_charbox(found[0])
            corners.append(((box_left - left) * PT_TO_MM, (top - box_top) * PT_TO_MM))
        return corners
    finally:
        document.close()


def card_trims(sheet, card, index: int, needle: str) -> list[Box]:
    """Each card's trim on a sheet page: where `needle` lies there, less where it lies on the lone card."""
    (on_card_x, on_card_y), = text_corners(card, index, needle)
    return sorted((Box(x - on_card_x, y - on_card_y, x - on_card_x + CARD_MM[0], y - on_card_y + CARD_MM[1])
                   for x, y in text_corners(sheet, index, needle)), key=lambda box: (round(box.top), box.left))


@dataclass
class Sheet:
    venue_id: str
    path: object
    card: object
    fronts: list        # ten card trims on page 1
    backs: list         # ten card trims on page 2
    pages: list = None  # the two pages rendered, (3, height, width), filled on demand

    def trims(self, page: int) -> list[Box]:
        return self.fronts if page == 0 else self.backs

    def pixels(self, page: int) -> np.ndarray:
        if self.pages is None:
            self.pages = [render_page(self.path, index, DPI)[0].astype(np.int16) for index in range(2)]
        return self.pages[page]


@pytest.fixture(scope="module", params=VENUE_IDS)
def sheet(request, cards_build, source) -> Sheet:
    """One venue's sheet, its cards located (module-scoped: tests run venue by venue)."""
    venue = source.venue(request.param)
    path, card = cards_build.pdf(venue.id, SHEET), cards_build.pdf(venue.id, CARD)
    return Sheet(venue.id, path, card, card_trims(path, card, 0, venue.name),
                 card_trims(path, card, 1, source.content.headings.what_to_do))


def grid(trims: list[Box]) -> list[list[Box]]:
    """The cards as rows, top to bottom, each left to right."""
    assert len(trims) == COLUMNS * ROWS, [str(box) for box in trims]
    rows = [sorted(trims[row * COLUMNS:(row + 1) * COLUMNS], key=lambda box: box.left) for row in range(ROWS)]
    for row in rows:
        assert max(box.top for box in row) - min(box.top for box in row) < TOLERANCE_MM, [str(box) for box in row]
    return rows


# --- pages --------------------------------------------------------------------------------------

@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_two_a4_pages_fronts_then_backs(cards_build, source, venue_id):
    path = cards_build.pdf(venue_id, SHEET)
    reader = pdf_reader(path)
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert page_size_mm(page) == pytest.approx(PAPER_MM, abs=0.2)
    front, back = page_texts(path)
    headings = source.content.headings
    assert [printed(text, front) for text in (source.venue(venue_id).name, headings.possible_signs,
                                              headings.danger_now, headings.what_to_do)] == [True, True, True, False]
    assert [printed(text, back) for text in (headings.what_to_do, headings.danger_now,
                                             headings.possible_signs)] == [True, True, False]


# --- where the cards are -----------------------------------------------------------------------

@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_ten_cards_in_two_columns_and_five_rows(sheet, page):
    rows = grid(sheet.trims(page))
    for column in range(COLUMNS):
        lefts = [row[column].left for row in rows]
        assert max(lefts) - min(lefts) < TOLERANCE_MM, f"column {column + 1} is not straight: {lefts}"


@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_every_card_lies_inside_the_printers_margin(sheet, page):
    for card in sheet.trims(page):
        assert card.left >= PRINTER_EDGE_MM and card.top >= PRINTER_EDGE_MM, str(card)
        assert card.right <= PAPER_MM[0] - PRINTER_EDGE_MM and card.bottom <= PAPER_MM[1] - PRINTER_EDGE_MM, str(card)


@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_a_gutter_of_at_least_4_mm_between_neighbours(sheet, page):
    rows = grid(sheet.trims(page))
    gutters = [right.left - left.right for row in rows for left, right in zip(row, row[1:])]
    gutters += [below.top - above.bottom for above_row, below_row in zip(rows, rows[1:])
                for above, below in zip(above_row, below_row)]
    assert len(gutters) == ROWS * (COLUMNS - 1) + (ROWS - 1) * COLUMNS
    assert min(gutters) >= MIN_GUTTER_MM - 0.01, f"gutters {sorted(set(round(g, 2) for g in gutters))} mm"


def test_each_back_lies_behind_its_front(sheet):
    """Turned over on its long edge (x -> paper width - x), every back covers a
    front, one to one, within 0.2 mm."""
    fronts = sheet.fronts
    matched = set()
    for back in (card.mirrored(PAPER_MM[0]) for card in sheet.backs):
        nearest = min(range(len(fronts)), key=lambda index: back.distance(fronts[index]))
        assert back.distance(fronts[nearest]) <= TOLERANCE_MM, (
            f"the back at {back} (seen from the front) misses the nearest front {fronts[nearest]} "
            f"by {back.distance(fronts[nearest]):.2f} mm")
        matched.add(nearest)
    assert len(matched) == len(fronts) == COLUMNS * ROWS


# --- every card is the lone card -----------------------------------------------------------------

COMPARE_DPI = 150
SAME_PRINT = 1.0  # mean difference per channel (0-255): 0 when a slot prints the card exactly; a card
                  # misplaced by 0.2 mm differs by about 9


def render_box(path, index: int, box: Box) -> np.ndarray:
    """What a page prints inside `box` (mm from the paper's top-left), with the
    box's corner at the bitmap's origin, to the sub-pixel."""
    document = pdfium.PdfDocument(str(path))
    try:
        page = document[index]
        height_pt = page.get_height()
        page.set_cropbox(box.left * MM_TO_PT, height_pt - box.bottom * MM_TO_PT,
                         box.right * MM_TO_PT, height_pt - box.top * MM_TO_PT)
        return page.render(scale=COMPARE_DPI / 72).to_numpy()[:, :, :3].astype(int)
    finally:
        document.close()


@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_every_card_on_the_sheet_prints_as_the_lone_card(sheet, page):
    card = render_box(sheet.card, page, Box(0, 0, *CARD_MM))
    for number, trim in enumerate(sheet.trims(page), 1):
        there = render_box(sheet.path, page, trim)
        assert there.shape == card.shape
        difference = np.abs(there - card).mean()
        assert difference < SAME_PRINT, f"card {number} at {trim} differs from the lone card by {difference:.1f}"


# --- bleed ---------------------------------------------------------------------------------------------

def px(mm: float) -> int:
    return int(round(mm * PX_PER_MM))


def beyond_the_edge(pixels: np.ndarray, trim: Box, box: Box) -> tuple[int, int, int]:
    """The pixels of `box` that lie outside a card's trim, each against the
    card's own edge run on (the pixel 0.25 mm inside the trim, level with it;
    in a corner, the corner's): (how many differ, of which white where the
    edge is coloured, of which some other colour)."""
    inset = px(0.25)
    y, x = np.meshgrid(np.arange(px(box.top), px(box.bottom)), np.arange(px(box.left), px(box.right)),
                       indexing="ij")
    outside = (y < px(trim.top)) | (y >= px(trim.bottom)) | (x < px(trim.left)) | (x >= px(trim.right))
    y, x = y[outside], x[outside]
    actual = pixels[:, y, x]
    edge = pixels[:, np.clip(y, px(trim.top) + inset, px(trim.bottom) - inset),
                  np.clip(x, px(trim.left) + inset, px(trim.right) - inset)]
    wrong = np.abs(actual - edge).max(axis=0) > SAME
    white = wrong & (actual.min(axis=0) >= WHITE) & (edge.min(axis=0) < WHITE)
    return int(wrong.sum()), int(white.sum()), int((wrong & ~white).sum())


DRIFTS = [(dx, dy) for dx in (-DRIFT_MM, 0, DRIFT_MM) for dy in (-DRIFT_MM, 0, DRIFT_MM) if dx or dy]


@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_a_cut_1_mm_off_shows_only_the_cards_own_edge(sheet, page):
    """Each card cut 1 mm off its lines, in each of the 8 directions: what lies
    beyond its trim is its own edge run on. A white sliver at a coloured edge,
    or a neighbour's colour, fails."""
    pixels = sheet.pixels(page)
    problems = []
    for number, trim in enumerate(sheet.trims(page), 1):
        for dx, dy in DRIFTS:
            wrong, white, other = beyond_the_edge(pixels, trim, trim.moved(dx, dy))
            if wrong:
                problems.append(f"card {number} cut {dx:+g}, {dy:+g} mm off: {white} white and {other} other "
                                f"pixels beyond its edge")
    assert problems == []


@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_each_cards_background_runs_1_5_mm_on_and_stops_1_mm_short_of_the_next(sheet, page):
    pixels = sheet.pixels(page)
    for number, trim in enumerate(sheet.trims(page), 1):
        wrong, white, other = beyond_the_edge(pixels, trim, trim.grown(MIN_BLEED_MM - 0.5 / PX_PER_MM))
        assert wrong == 0, (f"card {number}: its edge does not run on {MIN_BLEED_MM} mm: {white} white and "
                            f"{other} other pixels")
    # Between neighbours, away from the cut lines that cross the gutter: a run of
    # white at least 1 mm long across it wherever either card's edge is coloured.
    rows = grid(sheet.trims(page))
    pairs = [(left, right, "across") for row in rows for left, right in zip(row, row[1:])]
    pairs += [(above, below, "down") for above_row, below_row in zip(rows, rows[1:])
              for above, below in zip(above_row, below_row)]
    for first, second, direction in pairs:
        if direction == "across":
            band = pixels[:, px(first.top + 0.5):px(first.bottom - 0.5), px(first.right):px(second.left)]
        else:  # (3, along the gutter, across it), as above
            band = pixels[:, px(first.bottom):px(second.top), px(first.left + 0.5):px(first.right - 0.5)]
            band = band.transpose(0, 2, 1)
        white = band.min(axis=0) >= WHITE
        longest = np.array([max((stop - start for start, stop in _runs(line)), default=0) for line in white])
        coloured = ~white.all(axis=1)
        assert (longest[coloured] >= px(MIN_WHITE_MM) - 1).all(), (
            f"between {first} and {second}: only {longest[coloured].min() / PX_PER_MM:.2f} mm of white")


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate(([False], flags.astype(bool), [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


# --- cut marks ------------------------------------------------------------------------------------------

def cut_lines(trims: list[Box]) -> tuple[list[float], list[float]]:
    """Every cut line (mm): x of each vertical one, y of each horizontal one."""
    rows = grid(trims)
    xs = sorted({round(value, 2) for box in rows[0] for value in (box.left, box.right)})
    ys = sorted({round(value, 2) for row in rows for value in (row[0].top, row[0].bottom)})
    return xs, ys


def inked(pixels: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> bool:
    """Whether a cut mark's ink lies in the box (mm)."""
    return bool((darkest(pixels[:, px(y0):px(y1), px(x0):px(x1)]) < MARK).any())


@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_cut_marks_extend_every_cut_line_beyond_the_cards(sheet, page):
    """In the margins (where an office printer prints), and across every
    gutter, each cut line has a mark on it, clear of the cards' bleed."""
    pixels = sheet.pixels(page)
    trims = sheet.trims(page)
    rows = grid(trims)
    xs, ys = cut_lines(trims)
    assert (len(xs), len(ys)) == (2 * COLUMNS, 2 * ROWS)
    near = TOLERANCE_MM
    # A mark lies clear of the cards' bleed: in a margin, at least 0.5 mm past
    # the least bleed; in a gutter, in its middle, the white between bleeds.
    clear = MIN_BLEED_MM + 0.5
    middle = MIN_WHITE_MM / 2 - 0.1
    left, right = min(box.left for box in trims), max(box.right for box in trims)
    top, bottom = min(box.top for box in trims), max(box.bottom for box in trims)
    missing = []
    for y in ys:
        if not inked(pixels, PRINTER_EDGE_MM, y - near, left - clear, y + near):
            missing.append(f"y = {y}: none in the left margin")
        if not inked(pixels, right + clear, y - near, PAPER_MM[0] - PRINTER_EDGE_MM, y + near):
            missing.append(f"y = {y}: none in the right margin")
        for first, second in zip(rows[0], rows[0][1:]):
            centre = (first.right + second.left) / 2
            if not inked(pixels, centre - middle, y - near, centre + middle, y + near):
                missing.append(f"y = {y}: none across the gutter at x = {first.right:.2f}")
    for x in xs:
        for above, below in zip(rows, rows[1:]):
            centre = (above[0].bottom + below[0].top) / 2
            if not inked(pixels, x - near, centre - middle, x + near, centre + middle):
                missing.append(f"x = {x}: none across the gutter at y = {above[0].bottom:.2f}")
        # at the top and bottom of the paper, where there is room for one
        for start, stop in ((PRINTER_EDGE_MM, top - clear), (bottom + clear, PAPER_MM[1] - PRINTER_EDGE_MM)):
            if stop - start >= 2 and not inked(pixels, x - near, start, x + near, stop):
                missing.append(f"x = {x}: none in the margin between {start:.2f} and {stop:.2f} mm")
    assert missing == []


@pytest.mark.parametrize("page", [0, 1], ids=["fronts", "backs"])
def test_marks_only_on_cut_lines_and_never_near_the_paper_edge(sheet, page):
    """Outside the cards and their bleed, ink only on the cut lines' extensions,
    and none within 5 mm of the paper's edge, which office printers do not print."""
    pixels = sheet.pixels(page)
    trims = sheet.trims(page)
    rows = grid(trims)
    # a card's bleed reaches at most halfway across the gutter, less the white
    gutter = min([right.left - left.right for left, right in zip(rows[0], rows[0][1:])]
                 + [below[0].top - above[0].bottom for above, below in zip(rows, rows[1:])])
    bleed = (gutter - MIN_WHITE_MM) / 2 + 0.1
    ink = darkest(pixels) < WHITE
    for trim in trims:
        card = trim.grown(bleed)
        ink[px(card.top):px(card.bottom), px(card.left):px(card.right)] = False
    edge = px(PRINTER_EDGE_MM)
    near_edge = np.argwhere(ink[:edge]).tolist() + np.argwhere(ink[-edge:]).tolist()
    near_edge += np.argwhere(ink[:, :edge]).tolist() + np.argwhere(ink[:, -edge:]).tolist()
    assert near_edge == [], "ink within 5 mm of the paper's edge"
    xs, ys = cut_lines(trims)
    for x in xs:
        ink[:, px(x - 0.3):px(x + 0.3)] = False
    for y in ys:
        ink[px(y - 0.3):px(y + 0.3)] = False
    stray = np.argwhere(ink)
    assert stray.size == 0, (f"{len(stray)} printed pixels off the cut lines, e.g. at "
                             f"{(stray[0][::-1] / PX_PER_MM).round(2).tolist()} mm (x, y)")
