"""The poster as a passer-by meets it, measured on the real PDFs: no band of
it left empty, in every language; pictograms drawn for the venue and beside
every sign (and the venue's on the wallet card); a two-line headline; no
word alone on a last line; a write-in field big enough for a handwritten
number; the sender's logo."""

from __future__ import annotations

import ctypes
import re

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from pypdf import PdfReader

from conftest import (LAYOUTS_DIR, PROJECT_DIR, PT_TO_MM, box_mm, colour_mask, render_page, run_cli,
                      shipped_source)
from materials.jobs import PRODUCT_FORMATS

POSTER_FORMATS = [fmt.key for fmt in PRODUCT_FORMATS if fmt.kind == "poster"]
VENUES = [venue.id for venue in shipped_source().venues]
EDITIONS = ("cy", "ur", "en-XA", "ar-XB")
# The measure: no horizontal band of empty background, between
# content blocks, taller than this share of the trim height.
MOST_EMPTY_BAND = 0.06
BAND_DPI = 18  # 1.4 mm a pixel: a band is tens of millimetres


# In other languages, the office A4: every size is the same design (every
# length in rem) at another scale, all measured in English; A4 is the
# smallest, where a long translation is tightest. Every size in four more
# languages would take longer than the rest of the suite.
EDITION_FORMATS = ("poster-a4",)


@pytest.fixture(scope="module")
def edition_posters(tmp_path_factory) -> dict:
    """The A4 poster of every venue in Welsh, Urdu and both pseudo-locales,
    made in two processes as a build makes them: each passes preflight. Its
    path, and the warnings preflight gave."""
    from materials.jobs import Job
    from materials.workers import render_all

    out = tmp_path_factory.mktemp("edition-posters")
    jobs = [Job(venue, fmt, lang=tag) for venue in VENUES for tag in EDITIONS for fmt in EDITION_FORMATS]
    made = {}
    for result in render_all(jobs, shipped_source(), LAYOUTS_DIR, workers=2, thumbnails=False):
        assert not result.problems, f"{result.job}: {result.problems}"
        path = out / result.job.output_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(result.pdf)
        made[path] = result.warnings
    return made


def empty_bands(path) -> tuple[float, float]:
    """The tallest run of empty rows between the first and last rows with
    content, and the trim's height, in mm. A row is empty when the middle 80%
    of its width, inside the trim, is one colour: blank paper, or a blank
    stretch of a coloured panel."""
    pixels, mediabox = render_page(path, 0, BAND_DPI)
    reader = PdfReader(path)
    page = reader.pages[0]
    left, bottom, right, top = box_mm(page, "/TrimBox" if "/TrimBox" in page else "/MediaBox")
    scale = BAND_DPI / 25.4
    page_top_mm = mediabox[3] * PT_TO_MM
    rows = slice(round((page_top_mm - top) * scale), round((page_top_mm - bottom) * scale))
    width = right - left
    columns = slice(round((left - mediabox[0] * PT_TO_MM + 0.1 * width) * scale),
                    round((left - mediabox[0] * PT_TO_MM + 0.9 * width) * scale))
    trimmed = pixels[:, rows, columns].astype(int)
    spread = (trimmed.max(axis=2) - trimmed.min(axis=2)).max(axis=0)  # per row, over the channels
    content = np.flatnonzero(spread > 8)
    gaps = np.diff(content) - 1 if len(content) > 1 else np.array([0])
    return float(gaps.max()) / scale, top - bottom


def _band_problems(paths) -> list[str]:
    problems = []
    for path in paths:
        band, height = empty_bands(path)
        if band > MOST_EMPTY_BAND * height:
            problems.append(f"{path.parent.name}/{path.name}: {band:.0f} mm empty ({band / height:.0%} of the trim)")
    return problems


def test_no_empty_band_on_any_english_poster(full_build):
    paths = [full_build.pdf(venue, fmt) for venue in VENUES for fmt in POSTER_FORMATS]
    assert _band_problems(paths) == []


@pytest.mark.parametrize("tag", EDITIONS)
def test_no_empty_band_on_any_poster_in_another_language(edition_posters, tag):
    assert _band_problems([path for path in edition_posters if path.name.endswith(f"-{tag}.pdf")]) == []


def test_the_band_measure_finds_an_empty_band(tmp_path):
    """The measure itself: a page with two blocks 100 mm apart has a 100 mm band."""
    from weasyprint import HTML

    path = tmp_path / "bands.pdf"
    HTML(string='<style>@page { size: 210mm 297mm; margin: 0 } div { height: 40mm; width: 50%; background: #000 }'
                '</style><div></div><div style="margin-top: 100mm"></div>').write_pdf(path)
    band, height = empty_bands(path)
    assert abs(band - 100) < 3 and height == pytest.approx(297, abs=0.5)


# --- pictograms ---------------------------------------------------------------------------

def _figure_alts(reader: PdfReader) -> list[str]:
    """The alt text of every Figure in the tagged PDF's structure tree."""
    found = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not hasattr(node, "get"):
            return
        if node.get("/S") == "/Figure":
            found.append(str(node.get("/Alt", "")))
        if "/K" in node:
            walk(node["/K"])
    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


@pytest.mark.parametrize("fmt", POSTER_FORMATS)
def test_every_poster_tags_a_pictogram_for_its_venue_and_each_sign(full_build, source, fmt):
    for venue in source.venues:
        alts = _figure_alts(PdfReader(full_build.pdf(venue.id, fmt)))
        signs = [venue.sign(sign_id, source.content).text for sign_id in venue.poster.signs]
        assert alts == [venue.name, *signs], venue.id


def test_the_card_front_carries_the_venue_pictogram(full_build, source):
    """At the start of the card's header: tagged with the venue's name, and
    drawn in white on the venue colour before the name, which it pushes in."""
    for venue in source.venues:
        path = full_build.pdf(venue.id, "wallet-card")
        assert _figure_alts(PdfReader(path)) == [venue.name], venue.id
        [(left, top, size)] = _sign_starts(path, [venue.name])
        assert left * PT_TO_MM > 9, f"{venue.id}: the name starts {left * PT_TO_MM:.1f} mm in, with no room for it"
        dpi = 300
        pixels, _ = render_page(path, 0, dpi)
        scale = dpi / 72
        # from 1 mm in to 1 mm before the name, across the name's lines: white ink on the accent
        before_name = pixels[:, : round((top + 2 * size) * scale), round(2.8 * scale): round((left - 2.8) * scale)]
        assert colour_mask(before_name, "#FFFFFF", 10).mean() > 0.05, venue.id  # none without it
        assert colour_mask(before_name, venue.accent, 30).mean() > 0.3, venue.id


def _sign_starts(path, signs: list[str]) -> list[tuple[float, float, float]]:
    """(left, top, size) of each sign's first letter on page 1, in points from
    the page's top-left."""
    document = pdfium.PdfDocument(str(path))
    try:
        page = document[0]
        height = page.get_height()
        text_page = page.get_textpage()
        letters, boxes = [], []
        for index in range(text_page.count_chars()):
            character = text_page.get_text_range(index, 1)
            if character.strip():
                letters.append(character)
                boxes.append(text_page.get_charbox(index))
    finally:
        document.close()
    printed = "".join(letters)
    starts = []
    for sign in signs:
        box = boxes[printed.index("".join(sign.split()))]
        starts.append((box[0], height - box[3], box[3] - box[1]))
    return starts


@pytest.mark.parametrize("venue_id", VENUES)
def test_a_pictogram_is_drawn_in_the_venue_colour_before_each_sign(full_build, source, venue_id):
    venue = source.venue(venue_id)
    path = full_build.pdf(venue_id, "poster-a3")
    signs = [venue.sign(sign_id, source.content).text for sign_id in venue.poster.signs]
    dpi = 72
    pixels, _ = render_page(path, 0, dpi)
    accent = colour_mask(pixels, venue.accent, 40)
    for sign, (left, top, size) in zip(signs, _sign_starts(path, signs)):
        # The square before the sign's first letter, as tall as a capital and a half.
        square = accent[round(top - 0.3 * size):round(top + 1.2 * size), round(left - 2.0 * size):round(left - 0.3 * size)]
        assert square.mean() > 0.12, f"{venue_id}: no pictogram before {sign!r} ({square.mean():.0%} venue colour)"


# --- the headline, runts, the write-in field -----------------------------------------------

def _baselines(path, text: str) -> set[int]:
    """The baselines (in whole points) of the letters of `text` where it is
    printed on page 1."""
    document = pdfium.PdfDocument(str(path))
    try:
        text_page = document[0].get_textpage()
        indices = [index for index in range(text_page.count_chars()) if text_page.get_text_range(index, 1).strip()]
        letters = "".join(text_page.get_text_range(index, 1) for index in indices)
        start = letters.index("".join(text.split()))
        baselines = set()
        for index in indices[start:start + len("".join(text.split()))]:
            x, y = ctypes.c_double(), ctypes.c_double()
            pdfium_c.FPDFText_GetCharOrigin(text_page, index, ctypes.byref(x), ctypes.byref(y))
            baselines.add(round(y.value))
    finally:
        document.close()
    return baselines


@pytest.mark.parametrize("fmt", POSTER_FORMATS)
def test_the_english_headline_is_two_lines_at_full_size(full_build, source, fmt):
    from conftest import read_manifest

    entries = {entry["file"]: entry for entry in read_manifest(full_build.out)}
    for venue in source.venues:
        assert "headline" not in entries[f"{venue.id}/{fmt}.pdf"]["fit_scales"], f"{venue.id}: headline shrunk to fit"
        lines = _baselines(full_build.pdf(venue.id, fmt), venue.headline)
        assert len(lines) <= 2, f"{venue.id}: the headline takes {len(lines)} lines"


def _number_sizes(path, number: str) -> list[float]:
    """The type size (pt) of each place `number` is printed on page 1."""
    document = pdfium.PdfDocument(str(path))
    try:
        text_page = document[0].get_textpage()
        text = "".join(text_page.get_text_range(index, 1) for index in range(text_page.count_chars()))
        return [round(pdfium_c.FPDFText_GetFontSize(text_page, match.start()), 1)
                for match in re.finditer(rf"(?<!\d){number}(?!\d)", text)]
    finally:
        document.close()


@pytest.mark.parametrize("fmt", POSTER_FORMATS)
def test_the_everyday_route_is_as_big_as_999(full_build, source, fmt):
    """101 (with the codeword) weighs as much as 999: the same size, the biggest on the poster."""
    for venue in source.venues:
        path = full_build.pdf(venue.id, fmt)
        emergency, everyday = _number_sizes(path, "999"), _number_sizes(path, "101")
        assert emergency and everyday and max(emergency) == max(everyday), (venue.id, emergency, everyday)


def test_a_word_alone_on_a_last_line_is_reported(layouts_copy, source_copy, tmp_path):
    """Without the no-widow filter the 999 panel's heading leaves "now?" alone:
    a warning for the designer, on stderr and in the manifest."""
    layout = layouts_copy / "poster" / "poster.html"
    layout.write_text(layout.read_text().replace("{{ headings.danger_now | no_widow }}", "{{ headings.danger_now }}"))
    result = run_cli("build", "--source", "source", "--layouts", layouts_copy, "--out", tmp_path / "out",
                     "--venue", "taxi-ranks", "--product", "poster", "--variant", "office")
    assert result.exit_code == 0, result.stderr
    runt = 'runt: h2 "Child in danger now?" ends with "now?" alone on its last line'
    assert f"warning: taxi-ranks/poster-a3.pdf: {runt}" in result.stderr
    from conftest import read_manifest
    assert all(any(runt in warning for warning in entry["warnings"]) for entry in read_manifest(tmp_path / "out"))


def test_no_poster_in_any_language_has_a_runt(full_build, edition_posters):
    from conftest import read_manifest
    warnings = [f"{entry['file']}: {warning}" for entry in read_manifest(full_build.out)
                for warning in entry["warnings"] if "runt:" in warning]
    warnings += [f"{path.name}: {warning}" for path, found in edition_posters.items()
                 for warning in found if "runt:" in warning]
    assert warnings == []


def test_the_write_in_field_is_tall_enough_to_write_a_number_in(source):
    """Without an area, a boxed white field: at least 10 mm tall on A4."""
    from conftest import LAYOUTS_DIR
    from materials.fit import fit
    from materials.jobs import Job
    from materials.preflight import PX_TO_MM
    from materials.render import Renderer
    from weasyprint.formatting_structure import boxes

    renderer = Renderer(source, LAYOUTS_DIR)
    for fmt in ("poster-a4", "poster-a4-press"):
        rendered = fit(renderer, Job("hotels", fmt)).rendered
        fields = [box for box in _boxes(rendered.document.pages[0]._page_box) if isinstance(box, boxes.BlockBox)
                  and box.element is not None and box.element.get("class") == "write-in"]
        assert fields, "no write-in field"
        assert min(box.border_height() for box in fields) * PX_TO_MM >= 10


def _boxes(box):
    for child in getattr(box, "children", ()):
        yield child
        yield from _boxes(child)


# --- the sender -----------------------------------------------------------------------------

def test_the_senders_logo_is_printed_small_on_office_posters(source_copy, tmp_path):
    """A fictional logo made for these tests, named in organisation.yaml: on
    the office posters beside the sender's name (a tagged figure with the
    organisation's name as its alt text); not on press files, which are CMYK
    only while a logo's colours are its own."""
    logos = source_copy / "logos"
    logos.mkdir()
    (logos / "example-safeguarding-team.svg").write_bytes(
        (PROJECT_DIR / "tests" / "testdata" / "logos" / "example-safeguarding-team.svg").read_bytes())
    organisation = source_copy / "organisation.yaml"
    organisation.write_text(organisation.read_text() + "\nlogo: example-safeguarding-team.svg\n")
    out = tmp_path / "out"
    result = run_cli("build", "--source", "source", "--out", out, "--venue", "hotels", "--product", "poster")
    assert result.exit_code == 0, result.stderr
    name = shipped_source().organisation.name
    for fmt in POSTER_FORMATS:
        alts = _figure_alts(PdfReader(out / "hotels" / f"{fmt}.pdf"))
        assert (name in alts) == (not fmt.endswith("-press")), fmt
    pixels, _ = render_page(out / "hotels" / "poster-a4.pdf", 0, 72)
    # the logo's shield, in its own blue, in the colophon's bottom tenth
    assert colour_mask(pixels[:, -pixels.shape[1] // 10:, :], "#1B3A5C", 30).sum() > 20
