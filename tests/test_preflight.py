"""Preflight: every file is checked as it will be printed, before it is written.

Each bad fixture below is a small, deliberate mistake in a copy of the source or
the layouts, and each must produce its own precise message.
"""

from __future__ import annotations

import re

import pydyf
import pytest
from pypdf import PdfReader

from conftest import font_problems, pdf_text, printed, read_manifest, run_cli
from materials.jobs import PRODUCT_FORMATS
from materials.preflight import PdfFont, PreflightReport, check_fonts, pdf_fonts

CARD = "hotels/wallet-card.pdf"
SHEET = "hotels/wallet-cards-sheet-a4.pdf"
CARD_BUILD = ("--venue", "hotels", "--product", "wallet-card")

# Words for one wallet-card sign, longer and longer: the card's "card-signs"
# region holds the shipped signs at 9 pt and may shrink to 7 pt.
LONG_SIGN_WORDS = (
    "The name on the booking differs from the guest who arrives and the booking was made by someone else "
    "on the phone and paid in cash by a third person who never appears and the guest cannot say who booked it "
    "or why and refuses to show any ID at the desk and asks for a room far away from other guests and from the lifts"
).split()


def set_card_sign(source_dir, text: str) -> None:
    """Give hotels' booking-name sign this card wording."""
    path = source_dir / "venues" / "hotels.yaml"
    shipped = "    short: Booking name differs from the guest\n"
    content = path.read_text(encoding="utf-8")
    assert shipped in content
    path.write_text(content.replace(shipped, f"    short: {text}\n"), encoding="utf-8")


def build_card(tmp_path, *extra):
    out = tmp_path / "out"
    return out, run_cli("build", "--source", "source", "--out", out, *CARD_BUILD, *extra)


def entry(out, name):
    return next(item for item in read_manifest(out) if item["file"] == name)


# --- overset and auto-fit --------------------------------------------------------------

def test_a_sign_three_times_too_long_is_fitted_by_shrinking_its_region(source_copy, tmp_path):
    text = " ".join(LONG_SIGN_WORDS[:40])  # more than three times the shipped wording
    set_card_sign(source_copy, text)
    out, result = build_card(tmp_path)
    assert result.exit_code == 0, result.stderr
    card = entry(out, CARD)
    scale = card["fit_scales"]["card-signs"]
    assert 7 / 9 <= scale < 1
    assert card["smallest_text_pt"] >= 7
    assert printed(text, pdf_text(out / CARD))
    assert entry(out, SHEET)["fit_scales"]["card-signs"] == scale  # the sheet's cards are the card


def test_a_region_shrunk_more_than_15_percent_is_a_warning(source_copy, tmp_path):
    set_card_sign(source_copy, " ".join(LONG_SIGN_WORDS))
    out, result = build_card(tmp_path)
    assert result.exit_code == 0, result.stderr
    card = entry(out, CARD)
    assert card["fit_scales"]["card-signs"] < 0.85
    assert card["warnings"] and "card-signs" in card["warnings"][0]
    assert f"warning: {CARD}: fit: region \"card-signs\" shrunk to" in result.stderr


@pytest.mark.parametrize("jobs", ["1", "2"], ids=["one-process", "two-processes"])
def test_a_sign_that_cannot_fit_even_at_the_minimum_fails_with_its_shortfall(source_copy, tmp_path, jobs):
    """The card says how much room it needs; so does its sheet, word for word,
    whether it was made in the process that fitted the card or in another."""
    set_card_sign(source_copy, " ".join(LONG_SIGN_WORDS + LONG_SIGN_WORDS[:24]))
    out, result = build_card(tmp_path, "--jobs", jobs)
    assert result.exit_code == 1
    problem = (r'overset: region "card-signs" needs ([\d.]+) mm, has ([\d.]+) mm '
               r"even with its text at 7\.0 pt: shorten the text by about (\d+)%")
    match = re.search(rf"error: {CARD}: {problem}", result.stderr)
    assert match, result.stderr
    needed, has, percent = float(match[1]), float(match[2]), int(match[3])
    assert needed > has > 20
    assert percent == round((1 - has / needed) * 100)
    assert f"error: {SHEET}: {match[0].split(': ', 2)[2]}" in result.stderr, result.stderr
    assert not (out / CARD).exists() and not (out / SHEET).exists()


def test_the_shipped_source_fits_without_shrinking_most_regions(full_build):
    """Every shipped file passes; a region shrunk at all is the exception (a
    poster's signs grow into the room they leave: that is no shrinking)."""
    entries = read_manifest(full_build.out)
    assert all(entry["warnings"] == [] for entry in entries)
    shrunk = [entry["file"] for entry in entries if any(scale < 1 for scale in entry["fit_scales"].values())]
    assert len(shrunk) < len(entries) // 4, shrunk


# --- legibility, contrast, glyphs, structure ---------------------------------------------

def test_text_below_the_product_minimum_fails(layouts_copy, source_copy, tmp_path):
    stylesheet = layouts_copy / "wallet-card" / "wallet-card.css"
    stylesheet.write_text(stylesheet.read_text() + "\n.caveat { font-size: 5pt; }\n")
    _, result = build_card(tmp_path, "--layouts", layouts_copy)
    assert result.exit_code == 1
    assert re.search(rf'error: {CARD}: legibility: p\.caveat "These are possible signs.*" is 5\.0 pt, '
                     r"below the 7 pt minimum for Wallet card", result.stderr), result.stderr


def test_low_contrast_text_fails_naming_element_and_colours(layouts_copy, source_copy, tmp_path):
    tokens = layouts_copy / "common" / "tokens.css"
    tokens.write_text(tokens.read_text().replace("--muted: #444444;", "--muted: #AAAAAA;"))
    _, result = build_card(tmp_path, "--layouts", layouts_copy)
    assert result.exit_code == 1
    assert re.search(rf'error: {CARD}: contrast: p\.caveat "These are possible signs.*" is 2\.3:1 '
                     r"\(#AAAAAA on #FFFFFF\), needs 7:1", result.stderr), result.stderr


def test_a_low_contrast_accent_colour_is_refused_in_the_source(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = path.read_text().splitlines(keepends=True)
    index = next(number for number, line in enumerate(lines) if line.startswith("accent:"))
    lines[index] = 'accent: "#FFB000"\n'
    path.write_text("".join(lines))
    out, result = build_card(tmp_path)
    assert result.exit_code == 1
    assert (f"source/venues/hotels.yaml:{index + 1}:9: accent: #FFB000 gives only 1.8:1 contrast with white "
            "text, below 7:1. Choose a darker colour") in result.stderr
    assert not out.exists()


def test_a_character_missing_from_the_fonts_fails(source_copy, tmp_path):
    set_card_sign(source_copy, "No luggage ⚠ or ID")
    _, result = build_card(tmp_path)
    assert result.exit_code == 1
    assert (f"error: {CARD}: glyphs: '⚠' (U+26A0) in \"No luggage ⚠ or ID\" is not in the layout's fonts "
            "(Atkinson Hyperlegible, Noto Sans, Noto Sans Arabic)") in result.stderr


def test_a_layout_that_reaches_a_machine_font_fails(layouts_copy, source_copy, tmp_path):
    """A font-family the layouts do not load falls back to whatever the
    machine has: another machine would print something else."""
    stylesheet = layouts_copy / "wallet-card" / "wallet-card.css"
    stylesheet.write_text(stylesheet.read_text() + "\n.caveat { font-family: serif; }\n")
    _, result = build_card(tmp_path, "--layouts", layouts_copy)
    assert result.exit_code == 1
    assert re.search(rf"error: {CARD}: fonts: uses the machine's font \S+ instead of the layout's fonts",
                     result.stderr), result.stderr


def test_the_font_check_flags_a_font_without_its_file():
    """A font dictionary with no embedded file (a standard-14 Helvetica) is
    both not embedded and not the layout's: two problems."""
    pdf = pydyf.PDF()
    pdf.add_object(pydyf.Dictionary({"Type": "/Font", "Subtype": "/Type1", "BaseFont": "/Helvetica"}))
    fonts = pdf_fonts(pdf)
    assert fonts == [PdfFont("Helvetica", embedded=False)]
    report = PreflightReport(1, 85.6, 53.98)
    check_fonts(fonts, set(), report)
    assert report.fonts == ["Helvetica"]
    assert report.problems[0] == "fonts: Helvetica is not embedded"
    assert report.problems[1].startswith("fonts: uses the machine's font Helvetica instead of the layout's fonts")
    assert len(report.problems) == 2


def test_the_fonts_preflight_read_are_the_fonts_in_the_written_files(full_build, source):
    """Preflight reads the fonts from the PDF's objects as WeasyPrint writes
    them; pypdf, reading the files back, must find the same ones."""
    entries = read_manifest(full_build.out)
    assert len(entries) == len(source.venues) * len(PRODUCT_FORMATS)
    for entry in entries:
        names, _ = font_problems(PdfReader(full_build.out / entry["file"]))
        assert set(entry["fonts"]) == names, entry["file"]


def test_a_heading_that_skips_a_level_fails(layouts_copy, source_copy, tmp_path):
    override = layouts_copy / "wallet-card" / "venues" / "hotels.html"
    override.parent.mkdir(exist_ok=True)
    override.write_text('{% extends "wallet-card/wallet-card.html" %}'
                        '{% block back %}<section class="side back"><h4>Skipped</h4></section>{% endblock %}')
    _, result = build_card(tmp_path, "--layouts", layouts_copy)
    assert result.exit_code == 1
    assert (f'error: {CARD}: structure: heading <h4> "Skipped" follows <h2>: headings must not skip a level'
            in result.stderr)


# --- check: in memory, grouped by file -----------------------------------------------------

def test_check_lists_problems_under_their_file_and_writes_nothing(source_copy, tmp_path):
    set_card_sign(source_copy, "No luggage ⚠ or ID")
    before = set(tmp_path.rglob("*"))
    result = run_cli("check", "--source", "source", *CARD_BUILD)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    heading = lines.index(CARD)
    assert lines[heading + 1].startswith(f"  error: {CARD}: glyphs:")
    assert "files would fail" in result.stderr
    assert set(tmp_path.rglob("*")) == before


# --- the record, and accessible PDFs --------------------------------------------------------

@pytest.mark.parametrize("fmt", PRODUCT_FORMATS, ids=lambda fmt: fmt.key)
def test_the_manifest_records_the_preflight(full_build, fmt):
    entries = [entry for entry in read_manifest(full_build.out) if entry["file"].endswith(f"/{fmt.filename}")]
    assert entries
    for item in entries:
        assert item["smallest_text_pt"] >= fmt.min_text_pt
        assert item["lowest_contrast"] >= 7
        assert isinstance(item["fit_scales"], dict)
        # Shrunk no further than the smallest text allows; grown no further
        # than the poster's signs may (layouts/poster/poster.html: data-fit-max).
        assert all(6.5 / 8.5 <= scale <= 1.6 and scale != 1 for scale in item["fit_scales"].values())
        assert item["pdf_standard"] == (fmt.pdf_standard or "PDF 1.7")


@pytest.mark.parametrize("edition", ["handout-participant", "handout-trainer"])
def test_handouts_are_pdf_ua_1(full_build, source, edition):
    for venue in source.venues:
        reader = PdfReader(full_build.pdf(venue.id, edition))
        root = reader.trailer["/Root"]
        assert bool(root["/MarkInfo"]["/Marked"])
        assert root["/Lang"] == "en-GB"
        assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
        assert "/StructTreeRoot" in root
        xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
        assert re.search(r'pdfuaid:part(="1"|>1<)', xmp), xmp
        assert reader.metadata.title and venue.name in reader.metadata.title


def _structure_types(node, found):
    node = node.get_object()
    if hasattr(node, "get"):
        if node.get("/S"):
            found.add(str(node["/S"]))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            if hasattr(kid, "get_object"):
                _structure_types(kid, found)
    return found


@pytest.mark.parametrize("format_key", ["poster-a3", "wallet-card", "handout-trainer"])
def test_products_are_tagged_with_headings(full_build, format_key):
    root = PdfReader(full_build.pdf("hotels", format_key)).trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    types = _structure_types(root["/StructTreeRoot"], set())
    assert {"/H1", "/H2"} <= types
