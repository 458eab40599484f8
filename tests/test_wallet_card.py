"""The wallet card itself (wallet-card.pdf, and wallet-card-press.pdf for a print
shop), read back from the real PDFs: its text with pdfium (every character's
box, size and colour), what it prints by rendering it.

- The front says what to do: 999 in danger, and the everyday route, 101 with
  the police codeword.
- The back: the 999 bar on the text grid (its label where every line starts,
  999 where every number ends); the venue's own action on lines of its own,
  flagged in the venue colour; every number on a line of its own, its name at
  the start and the number at the end, in figures of one width.
- Legibility: no text below 7 pt, none below 7:1 against what it is printed on,
  all of it at least 3 mm inside the trim (the card trade's safe zone).
- The office card is the trimmed card; the print shop's card runs its edges
  on into 3 mm of bleed (its boxes, PDF/X-4 and CMYK: tests/test_press.py).
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from conftest import SOURCE_DIR, PT_TO_MM, box_mm, normalise, pdf_reader, render_page, run_cli, shipped_source
from test_card_sheet import Box, beyond_the_edge

CARD = "wallet-card"
PRESS = "wallet-card-press"
VENUE_IDS = [venue.id for venue in shipped_source().venues]
AREA = "example-borough"  # its hours, out-of-hours line and QR code fill the back

# The product and the requirements, independent of materials/ and layouts/.
CARD_MM = (85.60, 53.98)  # ISO/IEC 7810 ID-1
MIN_TEXT_PT = 7.0
MIN_CONTRAST = 7.0        # WCAG AAA
SAFE_MM = 3.0             # text at least this far inside the trim
BLEED_MM = 3.0            # the print shop's card
ALIGNED_MM = 0.15         # two edges on one grid line
DPI = 300


@dataclass(frozen=True)
class Char:
    text: str
    left: float    # the glyph's box, mm from the trim's top-left corner
    top: float
    right: float
    bottom: float
    start: float    # its advance, from the origin: where the text grid sees it
    end: float
    baseline: float
    size_pt: float
    colour: tuple   # fill, 0-255 RGB


def characters(path, index: int) -> list[list[Char]]:
    """A page's characters as pdfium reads them, line by line."""
    document = pdfium.PdfDocument(str(path))
    try:
        page = document[index]
        trim_left, _, _, trim_top = (value / PT_TO_MM for value in box_mm(pdf_reader(path).pages[index],
                                                                           "/TrimBox"))
        text = page.get_textpage()
        lines, line = [], []
        for number in range(text.count_chars()):
            character = text.get_text_range(number, 1)
            if character == "\n":
                lines.append(line)
                line = []
                continue
            if not character.strip():
                if line and line[-1].text != " ":
                    line.append(Char(" ", 0, 0, 0, 0, 0, 0, 0, 0, (0, 0, 0)))
                continue
            left, bottom, right, top = text.get_charbox(number)
            loose_left, _, loose_right, _ = text.get_charbox(number, loose=True)
            matrix = pdfium_c.FS_MATRIX()
            pdfium_c.FPDFText_GetMatrix(text, number, matrix)
            size = pdfium_c.FPDFText_GetFontSize(text, number) * math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c))
            rgba = [ctypes.c_uint() for _ in range(4)]
            pdfium_c.FPDFText_GetFillColor(text, number, *rgba)
            origin = [ctypes.c_double() for _ in range(2)]
            pdfium_c.FPDFText_GetCharOrigin(text, number, *origin)
            line.append(Char(character, (left - trim_left) * PT_TO_MM, (trim_top - top) * PT_TO_MM,
                             (right - trim_left) * PT_TO_MM, (trim_top - bottom) * PT_TO_MM,
                             (loose_left - trim_left) * PT_TO_MM, (loose_right - trim_left) * PT_TO_MM,
                             (trim_top - origin[1].value) * PT_TO_MM, size, tuple(value.value for value in rgba[:3])))
        lines.append(line)
        return [line for line in lines if line]
    finally:
        document.close()


def line_text(line: list[Char]) -> str:
    return "".join(char.text for char in line).strip()


def line_starting(lines: list[list[Char]], text: str) -> int:
    starts = [number for number, line in enumerate(lines) if normalise(line_text(line)).startswith(normalise(text))]
    assert len(starts) == 1, f"{len(starts)} lines start with {text!r}: {[line_text(line) for line in lines]}"
    return starts[0]


def glyphs(line: list[Char]) -> list[Char]:
    return [char for char in line if char.text != " "]


@pytest.fixture(scope="module", params=VENUE_IDS)
def card(request, cards_build, source):
    """One venue's office card: its path, venue, and each side's lines."""
    path = cards_build.pdf(request.param, CARD)
    return path, source.venue(request.param), characters(path, 0), characters(path, 1)


# --- the front --------------------------------------------------------------------------------

def test_the_front_says_999_in_danger_and_101_with_the_codeword(card, source):
    _, _, front, _ = card
    text = normalise(" ".join(line_text(line) for line in front))
    routes = {route.id: route for route in source.content.routes}
    for needle in (source.content.headings.danger_now, routes["emergency"].number, routes["police-non-emergency"].number,
                   f"“{source.organisation.police_codeword}”"):
        assert normalise(needle) in text, f"{needle!r} is not on the front: {text}"


# --- the back ---------------------------------------------------------------------------------

def test_the_venues_own_action_stands_on_lines_of_its_own_flagged(card, source):
    path, venue, _, back = card
    flag, action = source.content.headings.venue_section, venue.action(venue.card.action).text
    first = line_starting(back, flag)
    wanted = normalise(f"{flag} {action}")
    joined = ""
    for line in back[first:]:
        joined = normalise(f"{joined} {line_text(line)}")
        if len(joined) >= len(wanted):
            break
    assert joined == wanted, f"the action shares its lines: {joined!r}"
    # the flag is printed on the venue colour
    pixels, _ = render_page(path, 1, DPI)
    label = glyphs(back[first])[:len(flag.replace(" ", ""))]
    top, bottom = min(char.top for char in label), max(char.bottom for char in label)
    left, right = label[0].left, label[-1].right
    scale = DPI / 25.4
    patch = pixels[:, int(top * scale):int(bottom * scale), int(left * scale):int(right * scale)].reshape(3, -1)
    accent = np.array([int(venue.accent[index:index + 2], 16) for index in (1, 3, 5)])
    on_accent = (np.abs(patch - accent[:, None]).max(axis=0) <= 12).mean()
    assert on_accent > 0.3, f"the flag {flag!r} is not on the venue colour {venue.accent} ({on_accent:.0%} of it)"


def number_lines(back, source) -> dict[str, list[Char]]:
    """The back's lines that give a number: each helpline, the police and the organisation."""
    routes = {route.id: route for route in source.content.routes}
    names = {routes[route].short: routes[route].number for route in ("nspcc-helpline", "crimestoppers", "childline")}
    names[source.organisation.name] = source.organisation.phone
    found = {}
    for name, number in names.items():
        line = back[line_starting(back, name)]
        assert normalise(line_text(line)) == normalise(f"{name} {number}"), (
            f"{name} {number} shares its line: {line_text(line)!r}")
        found[number] = line
    police = back[line_starting(back, routes["police-non-emergency"].short)]
    assert line_text(police).endswith(routes["police-non-emergency"].number)
    found[routes["police-non-emergency"].number] = police
    return found


def grid_start(back, source) -> float:
    """Where the back's text lines start: its first paragraph's first glyph."""
    return glyphs(back[line_starting(back, source.content.headings.worried)])[0].start


def test_every_number_has_a_line_of_its_own_name_at_the_start_number_at_the_end(card, source):
    _, _, _, back = card
    lines = number_lines(back, source)
    start = grid_start(back, source)
    ends = {number: glyphs(line)[-1].end for number, line in lines.items()}
    for number, line in lines.items():
        assert glyphs(line)[0].start == pytest.approx(start, abs=ALIGNED_MM), f"{line_text(line)!r} starts off the grid"
    assert max(ends.values()) - min(ends.values()) <= ALIGNED_MM, f"the numbers end at {ends} mm"
    tops = sorted(glyphs(line)[0].top for line in lines.values())
    assert min(np.diff(tops)) > 2, "two numbers share a line"


def test_the_numbers_are_set_in_figures_of_one_width(card, source):
    _, _, _, back = card
    widths = {}
    for number, line in number_lines(back, source).items():
        digits = [char for char in line if char.text.isdigit()][-len(number.replace(" ", "")):]
        for char in digits:
            widths.setdefault(round(char.size_pt, 1), set()).add(round(char.end - char.start, 2))
    assert widths and all(len(advances) == 1 for advances in widths.values()), (
        f"digit advances (mm) by size (pt): {widths}: the figures are proportional")


def test_the_999_bar_is_on_the_text_grid_and_runs_across_the_card(card, source):
    path, _, _, back = card
    danger = back[line_starting(back, source.content.headings.danger_now)]
    emergency = next(route.number for route in source.content.routes if route.id == "emergency")
    assert line_text(danger).endswith(emergency)
    assert glyphs(danger)[0].start == pytest.approx(grid_start(back, source), abs=ALIGNED_MM), (
        "the bar's label does not start where the text does")
    ends = [glyphs(line)[-1].end for line in number_lines(back, source).values()]
    assert glyphs(danger)[-1].end == pytest.approx(max(ends), abs=ALIGNED_MM), (
        f"999 ends at {glyphs(danger)[-1].end:.2f} mm, the numbers at {max(ends):.2f} mm")
    # the bar's colour, behind its label, runs from one edge of the card to the other
    pixels, _ = render_page(path, 1, DPI)
    scale = DPI / 25.4
    row = int((glyphs(danger)[0].top + glyphs(danger)[0].bottom) / 2 * scale)
    bar = pixels[:, row, int((glyphs(danger)[0].left - 1) * scale)].astype(int)
    assert bar.min() < 200, "no coloured bar behind the label"
    for x in (1, pixels.shape[2] - 2):
        assert np.abs(pixels[:, row, x].astype(int) - bar).max() <= 12, "the 999 bar stops short of the card's edge"


# --- legibility: size, contrast, safe zone ---------------------------------------------------------

def luminance(rgb) -> float:
    channels = [value / 255 for value in rgb]
    linear = [value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4 for value in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one, other) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def background(pixels: np.ndarray, char: Char) -> tuple:
    """What a character is printed on: the commonest colour just round its box."""
    scale = DPI / 25.4
    top, bottom = int(char.top * scale) - 2, int(char.bottom * scale) + 2
    left, right = int(char.left * scale) - 2, int(char.right * scale) + 2
    ring = np.concatenate([pixels[:, top, left:right], pixels[:, bottom, left:right],
                           pixels[:, top:bottom, left], pixels[:, top:bottom, right]], axis=1)
    colours, counts = np.unique(ring.T, axis=0, return_counts=True)
    return tuple(int(value) for value in colours[counts.argmax()])


@pytest.mark.parametrize("format_key", [CARD, PRESS])
@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_no_text_below_7_pt(cards_build, venue_id, format_key):
    path = cards_build.pdf(venue_id, format_key)
    sizes = {line_text(line): min(char.size_pt for char in glyphs(line)) for side in (0, 1)
             for line in characters(path, side)}
    assert min(sizes.values()) > 0, "no text size read"
    assert {text: size for text, size in sizes.items() if size < MIN_TEXT_PT - 0.01} == {}


@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_no_text_below_7_to_1_contrast(cards_build, venue_id):
    path = cards_build.pdf(venue_id, CARD)
    low = []
    for side in (0, 1):
        pixels, _ = render_page(path, side, DPI)
        for line in characters(path, side):
            for char in glyphs(line):
                ratio = contrast(char.colour, background(pixels, char))
                if ratio < MIN_CONTRAST:
                    low.append(f"{char.text!r} in {line_text(line)!r}: {ratio:.1f}:1")
    assert low == []


@pytest.mark.parametrize("format_key", [CARD, PRESS])
@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_text_keeps_3_mm_inside_the_trim(cards_build, venue_id, format_key):
    path = cards_build.pdf(venue_id, format_key)
    outside = [f"{char.text!r} in {line_text(line)!r}" for side in (0, 1) for line in characters(path, side)
               for char in glyphs(line)
               if char.left < SAFE_MM - 0.01 or char.top < SAFE_MM - 0.01
               or char.right > CARD_MM[0] - SAFE_MM + 0.01 or char.bottom > CARD_MM[1] - SAFE_MM + 0.01]
    assert outside == []


def overlapping(path) -> list[str]:
    """Characters set over other lines: two glyphs side by side (their advances
    overlapping) whose baselines are apart, but by less than 0.9 of the
    smaller one's size. For Latin script: Arabic script's shaped letters sit
    off their baseline."""
    found = []
    for side in (0, 1):
        chars = [char for line in characters(path, side) for char in glyphs(line)]
        start, end = np.array([char.start for char in chars]), np.array([char.end for char in chars])
        baseline = np.array([char.baseline for char in chars])
        size_mm = np.array([char.size_pt for char in chars]) * PT_TO_MM
        beside = (np.minimum(end[:, None], end[None, :]) - np.maximum(start[:, None], start[None, :])) > 0.05
        apart = np.abs(baseline[:, None] - baseline[None, :])
        crowded = beside & (apart > 0.3) & (apart < 0.9 * np.minimum(size_mm[:, None], size_mm[None, :]))
        for first, second in zip(*np.nonzero(np.triu(crowded, k=1))):
            found.append(f"side {side + 1}: {chars[first].text!r} and {chars[second].text!r}, baselines "
                         f"{apart[first, second]:.2f} mm apart, at {chars[first].start:.1f} mm across")
    return found


@pytest.fixture(scope="module")
def area_cards(tmp_path_factory):
    """The office cards of an area's edition: the fullest backs."""
    out = tmp_path_factory.mktemp("area-cards") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--area", AREA, "--product", "wallet-card",
                     "--variant", "office")
    assert result.exit_code == 0, result.stderr
    return out / AREA


@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_no_text_is_printed_over_other_text(cards_build, area_cards, venue_id):
    """Preflight measures each fit region's text against its box; this reads the
    printed characters back, so that text set over text fails whatever the
    layout did."""
    for path in (cards_build.pdf(venue_id, CARD), area_cards / venue_id / f"{CARD}.pdf"):
        assert overlapping(path) == [], path


# --- the print shop's card runs into the bleed ---------------------------------------------------

@pytest.mark.parametrize("venue_id", VENUE_IDS)
@pytest.mark.parametrize("side", [0, 1], ids=["front", "back"])
def test_the_print_shops_card_runs_its_edges_on_into_3_mm_of_bleed(cards_build, venue_id, side):
    """Round the trim, to the BleedBox, the press card prints its own edge run on:
    the front's venue band and call strip, the back's 999 bar, white elsewhere."""
    path = cards_build.pdf(venue_id, PRESS)
    page = pdf_reader(path).pages[side]
    media_left, _, _, media_top = box_mm(page)
    trim_left, trim_bottom, trim_right, trim_top = box_mm(page, "/TrimBox")
    assert (trim_right - trim_left, trim_top - trim_bottom) == pytest.approx(CARD_MM, abs=0.01)
    pixels, _ = render_page(path, side, DPI)
    trim = Box(trim_left - media_left, media_top - trim_top, trim_right - media_left, media_top - trim_bottom)
    wrong, white, other = beyond_the_edge(pixels.astype(np.int16), trim, trim.grown(BLEED_MM - 0.2))
    assert wrong == 0, f"{white} white and {other} other pixels in the bleed do not continue the card's edge"
    # ... and the bleed is not all white paper: some of the card's edge is coloured
    scale = DPI / 25.4
    bleed = trim.grown(BLEED_MM - 0.2)
    coloured = pixels[:, int(bleed.top * scale):int(bleed.bottom * scale),
                      int(bleed.left * scale):int(bleed.right * scale)].min(axis=0) < 200
    inner = trim.moved(-bleed.left, -bleed.top)
    coloured[int(inner.top * scale):int(inner.bottom * scale), int(inner.left * scale):int(inner.right * scale)] = False
    assert coloured.any(), "nothing runs into the bleed"
