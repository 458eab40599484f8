"""Every product for every venue of the shipped source, read back from the real PDFs."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject

from conftest import (box_mm, darkest, files_under, font_problems, normalise, page_size_mm, page_texts,
                      pdf_reader, pdf_text, printed, read_manifest, render_page, run_cli, shipped_source, trim_size_mm,
                      venue_format_params)
from materials.jobs import PRODUCT_FORMATS
from materials.source import load_source

# The products as specified (ISO 216 A2/A3/A4, ISO/IEC 7810 ID-1), independent of
# materials/jobs.py: (trimmed width mm, trimmed height mm, fewest pages, most
# pages, bleed mm). Press files are bigger than their trim: bleed, then a slug
# for crop marks (tests/test_press.py checks those boxes in detail).
SPEC = {
    "poster-a3": (297, 420, 1, 1, 0),
    "poster-a4": (210, 297, 1, 1, 0),
    "poster-a2-press": (420, 594, 1, 1, 3),
    "poster-a3-press": (297, 420, 1, 1, 3),
    "poster-a4-press": (210, 297, 1, 1, 3),
    "wallet-card": (85.60, 53.98, 2, 2, 0),
    "wallet-card-press": (85.60, 53.98, 2, 2, 3),
    "wallet-cards-sheet-a4": (210, 297, 2, 2, 0),
    "handout-participant": (210, 297, 3, 40, 0),
    "handout-trainer": (210, 297, 3, 40, 0),
    # The presentation programs' widescreen page, 13.333 x 7.5 in (16:9).
    "slides": (338.67, 190.5, 20, 60, 0),
}
SIZE_TOLERANCE_MM = 0.2
EMERGENCY = "999"
CURRENT_LAW = "Modern Slavery Act 2015"

VENUE_FORMATS = venue_format_params()
VENUE_IDS = [venue.id for venue in shipped_source().venues]
FORMAT_KIND = {fmt.key: fmt.kind for fmt in PRODUCT_FORMATS}


def test_every_product_format_is_specified():
    """A new or renamed product format must get a size in SPEC above."""
    assert {fmt.key for fmt in PRODUCT_FORMATS} == set(SPEC)


def test_one_file_per_venue_and_format(full_build, source):
    expected = {f"{venue.id}/{fmt.filename}" for venue in source.venues for fmt in PRODUCT_FORMATS}
    assert files_under(full_build.out) == expected | {"manifest.json"}


def test_build_reports_every_file_on_stderr(full_build, source):
    assert full_build.result.stdout == ""
    total = len(source.venues) * len(PRODUCT_FORMATS)
    assert f"Built {total} files" in full_build.result.stderr


# --- geometry ---------------------------------------------------------------------------

@pytest.mark.parametrize("venue_id, format_key", VENUE_FORMATS)
def test_page_size_and_count(full_build, venue_id, format_key):
    """Office files: the MediaBox is the product. Press files: the TrimBox is,
    and the MediaBox holds the bleed on every side and more (the crop marks)."""
    width, height, min_pages, max_pages, bleed = SPEC[format_key]
    reader = pdf_reader(full_build.pdf(venue_id, format_key))
    assert min_pages <= len(reader.pages) <= max_pages
    for number, page in enumerate(reader.pages, 1):
        if bleed:
            assert "/TrimBox" in page, f"page {number} of a press file has no TrimBox"
            page_w, page_h = trim_size_mm(page)
            media_w, media_h = page_size_mm(page)
            assert media_w > page_w + 2 * bleed and media_h > page_h + 2 * bleed, (
                f"page {number}: MediaBox {media_w:.2f} x {media_h:.2f} mm has no room for the bleed and marks")
        else:
            page_w, page_h = page_size_mm(page)
            if "/TrimBox" in page:
                assert box_mm(page, "/TrimBox") == pytest.approx(box_mm(page), abs=0.01), (
                    f"page {number} of an office file is trimmed")
        assert abs(page_w - width) <= SIZE_TOLERANCE_MM, f"page {number} is {page_w:.2f} mm wide, not {width}"
        assert abs(page_h - height) <= SIZE_TOLERANCE_MM, f"page {number} is {page_h:.2f} mm high, not {height}"


# --- fonts ------------------------------------------------------------------------------

@pytest.mark.parametrize("venue_id, format_key", VENUE_FORMATS)
def test_every_font_is_embedded_atkinson_hyperlegible(full_build, venue_id, format_key):
    names, problems = font_problems(pdf_reader(full_build.pdf(venue_id, format_key)))
    assert names, "no fonts found: the PDF prints no text?"
    assert problems == []


def test_the_font_check_itself_flags_a_system_font_that_is_not_embedded():
    writer = PdfWriter()
    page = writer.add_blank_page(width=100, height=100)
    helvetica = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                  NameObject("/Subtype"): NameObject("/Type1"),
                                  NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): helvetica})})
    buffer = io.BytesIO()
    writer.write(buffer)
    names, problems = font_problems(PdfReader(buffer))
    assert names == {"Helvetica"}
    assert len(problems) == 2 and "not embedded" in problems[1]


# --- metadata ---------------------------------------------------------------------------

@pytest.mark.parametrize("venue_id, format_key", VENUE_FORMATS)
def test_metadata(full_build, source, venue_id, format_key):
    reader = pdf_reader(full_build.pdf(venue_id, format_key))
    venue = source.venue(venue_id)
    assert venue.name in reader.metadata.title
    assert reader.metadata.author == source.organisation.name
    assert reader.trailer["/Root"].get("/Lang") == "en-GB"


# --- text -------------------------------------------------------------------------------

def _missing(needles, text) -> list[str]:
    return [needle for needle in needles if not printed(needle, text)]


@pytest.mark.parametrize("venue_id, format_key", VENUE_FORMATS)
def test_venue_name_is_printed(full_build, source, venue_id, format_key):
    assert printed(source.venue(venue_id).name, pdf_text(full_build.pdf(venue_id, format_key)))


@pytest.mark.parametrize("venue_id, format_key",
                         [param for param in VENUE_FORMATS if FORMAT_KIND[param.values[1]] == "poster"])
def test_poster_text(full_build, source, venue_id, format_key):
    venue = source.venue(venue_id)
    text = pdf_text(full_build.pdf(venue_id, format_key))
    chosen = [venue.sign(sign_id, source.content).text for sign_id in venue.poster.signs]
    routes = {route.id: route for route in source.content.routes}
    # 999, and the everyday route: 101 and the police codeword
    expected = [venue.headline, *chosen, EMERGENCY, routes["police-non-emergency"].number,
                source.organisation.police_codeword, source.organisation.name]
    if venue.adapted:
        expected.append(source.content.headings.adapted)
    assert _missing(expected, text) == []
    # A public poster is no advert: the organisation's sales line stays in the handouts.
    assert not printed(source.content.headings.advice_from, text)
    assert not printed(source.organisation.phone, text)


@pytest.mark.parametrize("venue_id, format_key",
                         [param for param in VENUE_FORMATS if FORMAT_KIND[param.values[1]] == "wallet-card"])
def test_wallet_card_text(full_build, source, venue_id, format_key):
    """The card, and the sheet of ten: page 1 the front(s), page 2 the back(s)."""
    venue = source.venue(venue_id)
    front, back = page_texts(full_build.pdf(venue_id, format_key))
    card_signs = [venue.sign(sign_id, source.content).card_text for sign_id in venue.card.signs]
    # what the signs are signs of, on the side a card is read by
    assert _missing([venue.name, source.content.headings.possible_signs, *card_signs], front) == []
    assert _missing([EMERGENCY, source.organisation.phone, venue.action(venue.card.action).text,
                     source.content.headings.danger_now], back) == []
    # each side on its own page; each says what to do in danger (999)
    assert [sign for sign in card_signs if printed(sign, back)] == []
    assert not printed(source.content.headings.what_to_do, front)
    assert printed(source.content.headings.danger_now, front) and printed(EMERGENCY, front)


def unrepealed_59a(text: str) -> list[str]:
    """Sentences naming section 59A that do not say, in the same sentence, that it was repealed."""
    sentences = re.split(r"(?<=[.!?])\s+", normalise(text))
    return [sentence for sentence in sentences if "59A" in sentence and "repealed" not in sentence]


HANDOUTS = [pytest.param(venue_id, fmt.key, id=f"{venue_id}-{fmt.key}")
            for venue_id in VENUE_IDS for fmt in PRODUCT_FORMATS if fmt.kind == "handout"]


@pytest.mark.parametrize("venue_id, format_key", HANDOUTS)
def test_handout_text(full_build, source, venue_id, format_key):
    venue = source.venue(venue_id)
    text = pdf_text(full_build.pdf(venue_id, format_key))
    expected = [*(sign.text for sign in source.content.signs), *(sign.text for sign in venue.signs),
                CURRENT_LAW, source.content.law_history, source.organisation.phone]
    assert _missing(expected, text) == []


@pytest.mark.parametrize("venue_id, format_key", HANDOUTS)
def test_the_projects_own_wording_never_reaches_the_print(full_build, venue_id, format_key):
    """Staff read these files: "the client" and "the brief" are words of the people who make them."""
    text = normalise(pdf_text(full_build.pdf(venue_id, format_key)))
    assert re.findall(r"[^.]{0,40}\b(?:client|brief)\b[^.]{0,40}", text, re.IGNORECASE) == []


@pytest.mark.parametrize("venue_id, format_key", HANDOUTS)
def test_handout_never_presents_section_59a_as_current(full_build, venue_id, format_key):
    assert unrepealed_59a(pdf_text(full_build.pdf(venue_id, format_key))) == []


@pytest.mark.parametrize("text, flagged", [
    ("Section 59A of the Act was repealed in 2015.", False),
    ("Older materials may cite section 59A of the Act. It was\nrepealed in 2015.", True),
    ("Trafficking is an offence under section 59A of the Act. Call 999.", True),
    ("Section 59A: up to 14 years. Section 2 was repealed.", True),
    ("Section 59A carries 14 years.", True),
], ids=["same-sentence", "repeal-in-next-sentence", "current-law", "unrelated-repeal", "last-sentence"])
def test_the_59a_rule_itself(text, flagged):
    assert bool(unrepealed_59a(text)) is flagged


@pytest.mark.parametrize("venue_id, format_key", VENUE_FORMATS)
def test_local_number_or_write_in_space(full_build, source, venue_id, format_key):
    text = pdf_text(full_build.pdf(venue_id, format_key))
    number = source.organisation.local_contact.number
    write_in = source.content.headings.write_in
    if number:
        assert printed(number, text) and not printed(write_in, text)
    else:
        assert printed(write_in, text)


def test_configured_local_number_replaces_write_in(source_copy, tmp_path):
    number = "01632 960123"  # UK drama range
    organisation = source_copy / "organisation.yaml"
    original = organisation.read_text(encoding="utf-8")
    edited = re.sub(r"(?m)^  number:[ \t]*$", f'  number: "{number}"', original)
    assert edited != original, "organisation.yaml no longer has an empty local_contact.number line"
    organisation.write_text(edited, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("build", "--source", source_copy, "--out", out, "--venue", "hotels")
    assert result.exit_code == 0, result.stderr
    write_in = load_source(source_copy).content.headings.write_in
    pdfs = sorted((out / "hotels").glob("*.pdf"))
    assert {pdf.stem for pdf in pdfs} == {fmt.key for fmt in PRODUCT_FORMATS}
    for pdf in pdfs:
        text = pdf_text(pdf)
        assert printed(number, text), pdf.name
        assert not printed(write_in, text), pdf.name


# --- manifest ---------------------------------------------------------------------------

def test_manifest_matches_the_files(full_build, source):
    entries = read_manifest(full_build.out)
    files = [entry["file"] for entry in entries]
    assert len(files) == len(set(files)), "a file is listed twice"
    assert set(files) == {name for name in files_under(full_build.out) if name.endswith(".pdf")}
    kinds = {fmt.key: fmt for fmt in PRODUCT_FORMATS}
    for entry in entries:
        path = full_build.out / entry["file"]
        data = path.read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), entry["file"]
        reader = pdf_reader(path)
        assert entry["pages"] == len(reader.pages), entry["file"]
        width, height = trim_size_mm(reader.pages[0])
        assert entry["width_mm"] == pytest.approx(width, abs=0.01), entry["file"]
        assert entry["height_mm"] == pytest.approx(height, abs=0.01), entry["file"]
        venue_id, filename = entry["file"].split("/")
        fmt = kinds[filename.removesuffix(".pdf")]
        assert entry["venue"] == venue_id and source.venue(venue_id)
        assert (entry["product"], entry["format"]) == (fmt.kind, fmt.format), entry["file"]


@pytest.mark.parametrize("format_key", [fmt.key for fmt in PRODUCT_FORMATS])
def test_a_rebuild_is_byte_identical(full_build, hotels_build, format_key):
    """Same source, same layouts: the same bytes (HarfBuzz subsetting, fixed dates),
    whatever else is built with it (here: one venue, one variant at a time)."""
    variant = next(fmt.variant for fmt in PRODUCT_FORMATS if fmt.key == format_key)
    again = hotels_build(variant).pdf("hotels", format_key)
    assert again.read_bytes() == full_build.pdf("hotels", format_key).read_bytes(), format_key


OFFICE_POSTERS = [pytest.param(venue_id, fmt.key, id=f"{venue_id}-{fmt.key}") for venue_id in VENUE_IDS
                  for fmt in PRODUCT_FORMATS if fmt.kind == "poster" and fmt.variant == "office"]
OFFICE_MARGIN_MM = 8


@pytest.mark.parametrize("venue_id, format_key", OFFICE_POSTERS)
def test_office_posters_print_nothing_near_the_paper_edge(full_build, venue_id, format_key):
    """Desktop printers cannot print to the edge: nothing within 8 mm of it, and
    the design does reach close to that margin (so this test can fail)."""
    pixels, _ = render_page(full_build.pdf(venue_id, format_key), 0, 72)
    ink = darkest(pixels) < 250
    margin = round(OFFICE_MARGIN_MM / 25.4 * 72)
    assert not ink[:margin].any() and not ink[-margin:].any()
    assert not ink[:, :margin].any() and not ink[:, -margin:].any()
    assert ink[:, margin:margin * 2].any(), "the design leaves more than twice the margin"
