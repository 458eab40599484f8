"""Preflight: every file is checked as it will be printed, before it is written.

Each bad fixture below is a small, deliberate mistake in a copy of the source or
the layouts, and each must produce its own precise message.
"""

from __future__ import annotations

import re

import pydyf
import pytest
from pypdf import PdfReader

from conftest import LAYOUTS_DIR, font_problems, pdf_text, printed, read_manifest, run_cli
from materials.jobs import PRODUCT_FORMATS, Job
from materials.preflight import PdfFont, PreflightReport, check_fonts, pdf_fonts
from materials.render import Renderer
from materials.translate import edition

CARD = "hotels/wallet-card.pdf"
SHEET = "hotels/wallet-cards-sheet-a4.pdf"
CARD_BUILD = ("--venue", "hotels", "--product", "wallet-card")
CARD_CY = "hotels/wallet-card-cy.pdf"

# Words for one wallet-card sign, longer and longer: the card's "card-signs"
# region holds the shipped signs at 9 pt and may shrink to 7 pt.
LONG_SIGN_WORDS = (
    "The name on the booking differs from the guest who arrives and the booking was made by someone else "
    "on the phone and paid in cash by a third person who never appears and the guest cannot say who booked it "
    "or why and refuses to show any ID at the desk and asks for a room far away from other guests and from the lifts"
).split()


def set_card_sign(source_dir, text: str, was: str = "Booking name differs from the guest") -> int:
    """Give hotels' booking-name sign this card wording (in place of `was`,
    the shipped wording); return the line it is on."""
    path = source_dir / "venues" / "hotels.yaml"
    old = f"    short: {was}\n"
    content = path.read_text(encoding="utf-8")
    assert content.count(old) == 1
    path.write_text(content.replace(old, f"    short: {text}\n"), encoding="utf-8")
    return content[:content.index(old)].count("\n") + 1


def set_welsh_card_sign(source_dir, text: str) -> int:
    """Give the Welsh edition's hotels booking-name sign this card wording; return its line in cy.yaml."""
    path = source_dir / "translations" / "cy.yaml"
    shipped = "        short: \"Enw’r archeb yn wahanol i’r gwestai\"\n"
    content = path.read_text(encoding="utf-8")
    assert content.count(shipped) == 1
    path.write_text(content.replace(shipped, f"        short: \"{text}\"\n"), encoding="utf-8")
    return content[:content.index(shipped)].count("\n") + 1


def cut_by(text: str, characters: int) -> str:
    """`text` shortened by `characters`, then back to the end of a word, as a person would cut it."""
    kept = text[:len(text) - characters]
    return kept if text[len(kept)] == " " else kept.rsplit(" ", 1)[0]


def build_card(tmp_path, *extra, out_name: str = "out"):
    out = tmp_path / out_name
    return out, run_cli("build", "--source", "source", "--out", out, *CARD_BUILD, *extra)


def entry(out, name):
    return next(item for item in read_manifest(out) if item["file"] == name)


def lines_about(stderr: str, name: str) -> list[str]:
    """The error and warning lines `build` prints under one file."""
    return [line.strip() for line in stderr.splitlines()
            if line.strip().startswith((f"error: {name}:", f"warning: {name}:"))]


# --- overset and auto-fit, said in the source's terms ---------------------------------

def test_a_sign_three_times_too_long_is_fitted_by_shrinking_its_region(source_copy, tmp_path):
    text = " ".join(LONG_SIGN_WORDS[:40])  # more than three times the shipped wording
    line = set_card_sign(source_copy, text)
    out, result = build_card(tmp_path)
    assert result.exit_code == 0, result.stderr
    card = entry(out, CARD)
    scale = card["fit_scales"]["card-signs"]
    assert 7 / 9 <= scale < 1
    assert card["smallest_text_pt"] >= 7
    assert printed(text, pdf_text(out / CARD))
    assert entry(out, SHEET)["fit_scales"]["card-signs"] == scale  # the sheet's cards are the card
    # Shrunk by less than 15%, and still said: any text below its design size is.
    assert scale > 0.85
    assert lines_about(result.stderr, CARD) == [
        f'warning: {CARD}: fit: text shrunk to 91% of its size to fit region "card-signs"; to print it at full '
        f"size: source/venues/hotels.yaml:{line}:12: signs[3].short (201 characters): shorten by about 104 "
        "characters"]


def test_text_shrunk_to_fit_is_a_warning_naming_its_source_line_and_scale_and_fails_strict(source_copy, tmp_path):
    """The warning names the text by its file, line and field, with the scale
    and about how much to cut for full size; it is a file's warning like any
    other: in the manifest, and a failure of `build --strict` (exit 1)."""
    text = " ".join(LONG_SIGN_WORDS)
    line = set_card_sign(source_copy, text)
    out, result = build_card(tmp_path, "--variant", "office")
    assert result.exit_code == 0, result.stderr
    warning = (f'fit: text shrunk to 82% of its size to fit region "card-signs"; to print it at full size: '
               f"source/venues/hotels.yaml:{line}:12: signs[3].short (316 characters): shorten by about 215 "
               "characters")
    assert lines_about(result.stderr, CARD) == [f"warning: {CARD}: {warning}"]
    assert lines_about(result.stderr, SHEET) == [f"warning: {SHEET}: {warning}"]
    assert f"{entry(out, CARD)['fit_scales']['card-signs']:.0%}" == "82%"  # the scale said
    assert entry(out, CARD)["warnings"] == [warning]

    strict_out, strict = build_card(tmp_path, "--variant", "office", "--strict", out_name="strict")
    assert strict.exit_code == 1
    assert lines_about(strict.stderr, CARD) == [f"warning: {CARD}: {warning}"]
    assert re.fullmatch(r"Error: --strict: \d+ items to check before printing and 2 warnings about the files; "
                        r"not ready to print, though the files were written", strict.stderr.splitlines()[-1])
    assert (strict_out / CARD).is_file()  # --strict changes nothing written

    # Cut as the warning says, the sign prints at full size.
    set_card_sign(source_copy, cut_by(text, 215), was=text)
    _, cut = build_card(tmp_path, "--variant", "office", out_name="cut")
    assert cut.exit_code == 0, cut.stderr
    assert lines_about(cut.stderr, CARD) == []


@pytest.mark.parametrize("jobs", ["1", "2"], ids=["one-process", "two-processes"])
def test_a_sign_that_cannot_fit_even_at_the_minimum_names_its_source_line(source_copy, tmp_path, jobs):
    """The card names the text to shorten by its file, line and field, with
    about how many characters to cut, then how much room its region needs;
    so does its sheet, word for word, whether it was made in the process
    that fitted the card or in another."""
    line = set_card_sign(source_copy, " ".join(LONG_SIGN_WORDS + LONG_SIGN_WORDS[:24]))
    out, result = build_card(tmp_path, "--jobs", jobs)
    assert result.exit_code == 1
    problem = (f"overset: source/venues/hotels.yaml:{line}:12: signs[3].short (438 characters): shorten by about "
               '120 characters (region "card-signs" needs 31.9 mm, has 27.7 mm even with its text at 7.0 pt)')
    assert lines_about(result.stderr, CARD) == [f"error: {CARD}: {problem}"]
    assert lines_about(result.stderr, SHEET) == [f"error: {SHEET}: {problem}"]
    assert not (out / CARD).exists() and not (out / SHEET).exists()


def test_cutting_what_an_overset_says_makes_the_text_fit(source_copy, tmp_path):
    text = " ".join(LONG_SIGN_WORDS + LONG_SIGN_WORDS[:24])
    set_card_sign(source_copy, cut_by(text, 120))
    out, result = build_card(tmp_path, "--variant", "office")
    assert result.exit_code == 0, result.stderr
    assert entry(out, CARD)["fit_scales"]["card-signs"] < 1  # it fits, shrunk (and says so)


def test_an_overset_in_a_translation_names_the_translation_files_line(source_copy, tmp_path):
    """A translated edition's text is named at its own line in the
    translation file, by its key there."""
    line = set_welsh_card_sign(source_copy, " ".join(
        ["Enw’r archeb yn wahanol i’r gwestai sy’n cyrraedd, a rhywun arall wedi archebu dros y ffôn"] * 4))
    out, result = build_card(tmp_path, "--lang", "cy", "--variant", "office")
    assert result.exit_code == 1
    assert lines_about(result.stderr, CARD_CY) == [
        f"error: {CARD_CY}: overset: source/translations/cy.yaml:{line}:16: "
        "venues.hotels.signs.booking-name-differs.short (363 characters): shorten by about 165 characters "
        '(region "card-signs" needs 31.9 mm, has 25.0 mm even with its text at 7.0 pt)']
    assert not (out / CARD_CY).exists()


def test_every_text_the_layouts_mark_is_found_in_the_source(source):
    """Each element the card and poster layouts mark with the source text it
    prints (data-source) names a text of the source, in English and in each
    translation: a layout that named a key wrongly would leave that text
    unnamed when it does not fit."""
    renderer = Renderer(source, LAYOUTS_DIR)
    for lang in (None, "cy", "ur", "en-XA"):
        for fmt in ("poster-a3", "wallet-card"):
            job = Job("hotels", fmt, lang=lang)
            root = renderer.render(job).html_root
            keys = [element.get("data-source") for element in root.iter() if element.get("data-source") is not None]
            assert len(keys) > 5 and all(keys), (job, keys)
            unknown = [key for key in keys if edition(source, lang).where(key) is None]
            assert not unknown, (job, unknown)


def test_the_shipped_source_fits_without_shrinking(full_build):
    """Every shipped file passes, and no text is set below its design size
    (that would be a warning): a poster's signs grow into the room they
    leave, which is no shrinking."""
    entries = read_manifest(full_build.out)
    assert all(entry["warnings"] == [] for entry in entries)
    shrunk = [entry["file"] for entry in entries if any(scale < 1 for scale in entry["fit_scales"].values())]
    assert shrunk == []


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
    heading = next(number for number, line in enumerate(lines) if re.fullmatch(rf"\[\d/\d\] FAILED {CARD}", line))
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
