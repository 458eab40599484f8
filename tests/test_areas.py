"""Area profiles: a council's own reporting contacts, and its web address as a QR code, on every product."""

from __future__ import annotations

import re

import numpy as np
import pytest
import segno
import zxingcpp

from conftest import (SOURCE_DIR, darkest, files_under, normalise, page_texts, pdf_text, printed, read_manifest,
                      render_page, run_cli, shipped_source)
from materials.jobs import PRODUCT_FORMATS

AREA = "example-borough"


def test_an_area_build_goes_into_its_own_folder(hotels_area_build):
    expected = {f"{AREA}/hotels/{fmt.filename}" for fmt in PRODUCT_FORMATS}
    assert files_under(hotels_area_build) == expected | {"manifest.json"}
    assert {entry["area"] for entry in read_manifest(hotels_area_build)} == {AREA}


@pytest.mark.parametrize("fmt", PRODUCT_FORMATS, ids=lambda fmt: fmt.key)
def test_the_area_numbers_are_on_every_product(hotels_area_build, fmt):
    area = shipped_source().area(AREA)
    write_in = shipped_source().content.headings.write_in
    text = pdf_text(hotels_area_build / AREA / "hotels" / fmt.filename)
    assert printed(area.children_services.number, text)
    assert printed(area.out_of_hours.number, text)
    assert not printed(write_in, text)


@pytest.mark.parametrize("fmt", PRODUCT_FORMATS, ids=lambda fmt: fmt.key)
def test_every_page_built_for_a_fictional_area_says_not_for_distribution(hotels_area_build, full_build, fmt):
    """The example area's numbers reach no one: its files must never pass for real ones."""
    notice = shipped_source().content.headings.fictional_area
    assert shipped_source().area(AREA).fictional
    pages = page_texts(hotels_area_build / AREA / "hotels" / fmt.filename)
    assert [number for number, text in enumerate(pages, 1) if not printed(notice, text)] == []
    assert not printed(notice, pdf_text(full_build.pdf("hotels", fmt.key)))  # national files: no notice


def test_the_catalogue_names_an_area_by_its_council(hotels_area_build):
    council = shipped_source().area(AREA).council
    assert {entry["area_name"] for entry in read_manifest(hotels_area_build)} == {council}
    assert council in (hotels_area_build / "index.html").read_text(encoding="utf-8")


def test_example_area_numbers_are_in_the_drama_range():
    """Never a real line: Ofcom's drama range 01632 960000-960999."""
    area = shipped_source().area(AREA)
    for contact in (area.children_services, area.out_of_hours):
        digits = contact.number.replace(" ", "")
        assert digits.startswith("01632960") and len(digits) == 11


def test_an_unknown_area_is_a_usage_error(tmp_path):
    result = run_cli("build", "--source", SOURCE_DIR, "--out", tmp_path / "out", "--area", "atlantis")
    assert result.exit_code == 2
    assert "unknown area atlantis" in result.stderr
    assert not (tmp_path / "out").exists()


def set_area_number(source_copy, number: str) -> int:
    """Give the area's children's services this number; the line it is on."""
    path = source_copy / "areas" / f"{AREA}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "number:" in line)
    lines[index] = f'  number: "{number}"\n'
    path.write_text("".join(lines))
    return index + 1


def test_a_bad_area_number_names_its_line(source_copy):
    line = set_area_number(source_copy, "call the council")
    result = run_cli("check", "--no-render", "--source", "source")
    assert result.exit_code == 1
    assert (f"source/areas/{AREA}.yaml:{line}:11: children_services.number: is not a phone number"
            in result.stderr)


@pytest.mark.parametrize("number", [
    "01632 9601",     # digits dropped
    "999",            # a short number is no local line
    "01632 9601000",  # a digit too many
])
def test_an_area_number_must_have_all_its_digits(source_copy, number):
    line = set_area_number(source_copy, number)
    result = run_cli("check", "--no-render", "--source", "source")
    assert result.exit_code == 1
    assert (f"source/areas/{AREA}.yaml:{line}:11: children_services.number: is not a full phone number. "
            in result.stderr)
    assert "10 or 11 digits" in result.stderr


@pytest.mark.parametrize("number, valid", [
    ("0808 800 5000", True), ("0800 1111", True), ("08000 121 700", True), ("01632 960100", True),
    ("999", True), ("101", True), ("116 123", True),
    ("0163 296", False), ("99", False), ("9999", False), ("0808 800 50000", False), ("1234567", False),
])
def test_a_contact_number_is_a_uk_number_of_its_length(number, valid):
    from pydantic import TypeAdapter, ValidationError

    from materials.model import PhoneNumber

    try:
        TypeAdapter(PhoneNumber).validate_python(number)
    except ValidationError:
        assert not valid
    else:
        assert valid


# --- QR codes of the area's web address ----------------------------------------------

QR_DPI = 150
MIN_QR_MM = {"poster": 15.0, "wallet-card": 12.0}


def read_qr_codes(path, page_index: int):
    """The QR codes printed on a page, read back at 150 dpi: (text, symbol box
    (left, top, right, bottom) in pixels, the page's darkest channel)."""
    pixels, _ = render_page(path, page_index, QR_DPI)
    image = np.ascontiguousarray(np.moveaxis(pixels, 0, -1))
    found = []
    for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        corners = [code.position.top_left, code.position.top_right, code.position.bottom_right,
                   code.position.bottom_left]
        box = (min(p.x for p in corners), min(p.y for p in corners), max(p.x for p in corners),
               max(p.y for p in corners))
        found.append((code.text, box))
    return found, darkest(pixels)


@pytest.mark.parametrize("fmt", [fmt for fmt in PRODUCT_FORMATS if fmt.kind in MIN_QR_MM], ids=lambda fmt: fmt.key)
def test_the_area_web_address_is_a_qr_code_that_scans(hotels_area_build, fmt):
    """On every poster and card of the area: it decodes to the profile's address
    at its printed size, is big enough to scan, and has its quiet zone."""
    address = shipped_source().area(AREA).web
    modules = segno.make(address, error="m", micro=False, boost_error=False).symbol_size(border=0)[0]
    path = hotels_area_build / AREA / "hotels" / fmt.filename
    page_index = 1 if fmt.kind == "wallet-card" else 0  # the card's back
    codes, ink = read_qr_codes(path, page_index)
    assert codes, f"no QR code read on {fmt.filename}"
    expected = 10 if fmt.format == "sheet-a4" else 1
    assert [text for text, _ in codes] == [address] * expected
    for _, (left, top, right, bottom) in codes:
        size_mm = (right - left) * 25.4 / QR_DPI
        assert size_mm >= MIN_QR_MM[fmt.kind], f"the QR code is {size_mm:.1f} mm"
        module = (right - left) / modules
        quiet = int(3.5 * module)  # four modules, less a pixel's rounding on each side
        around = ink[top - quiet:bottom + quiet + 1, left - quiet:right + quiet + 1].copy()
        around[quiet - 1:quiet + bottom - top + 2, quiet - 1:quiet + right - left + 2] = 255  # the symbol itself
        assert around.min() > 200, "something is printed in the QR code's quiet zone"


def test_the_address_is_printed_beside_the_code(hotels_area_build):
    """As people type it (no https://); it may break after a slash only."""
    printed_form = shipped_source().area(AREA).web.removeprefix("https://")
    for fmt in PRODUCT_FORMATS:
        if fmt.kind in MIN_QR_MM:
            text = pdf_text(hotels_area_build / AREA / "hotels" / fmt.filename)
            assert printed_form in normalise(text).replace("/ ", "/"), fmt.key


def test_without_a_web_address_there_is_no_qr_code(full_build):
    codes, _ = read_qr_codes(full_build.pdf("hotels", "poster-a3"), 0)
    assert codes == []


# --- real councils, several areas in one build (issue 19) -------------------------------------------

REAL_AREAS = ("blackburn-with-darwen", "lancashire")
FACTS = SOURCE_DIR.parent / "docs" / "brief" / "facts.md"
# Numbers printed on every edition, from content.yaml's national routes and
# the organisation's own line: not the area's.
PHONE = re.compile(r"(?<!\d)0\d{2,4}(?: ?\d{3,4}){1,3}(?!\d)")


@pytest.fixture(scope="module")
def real_areas_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("real-areas") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--variant", "office",
                     "--lang", "en", *(option for area in REAL_AREAS for option in ("--area", area)))
    assert result.exit_code == 0, result.stderr
    return out


def national_numbers() -> set[str]:
    source = shipped_source()
    numbers = {route.number for route in source.content.routes if route.number}
    return {number.replace(" ", "") for number in numbers | {source.organisation.phone}}


@pytest.mark.parametrize("area_id", REAL_AREAS)
def test_every_number_and_address_printed_for_a_real_council_is_in_the_facts_brief(real_areas_build, area_id):
    """Nothing invented: the area's numbers and web address, as printed on
    every product and as its QR code reads, are the facts brief's."""
    facts = FACTS.read_text(encoding="utf-8")
    facts_digits = re.sub(r"[ \u00a0]", "", facts)
    area = shipped_source().area(area_id)
    assert not area.fictional and area.web in facts
    for fmt in [fmt for fmt in PRODUCT_FORMATS if fmt.variant == "office"]:
        path = real_areas_build / area_id / "hotels" / fmt.filename
        text = normalise(pdf_text(path))
        local = {match.replace(" ", "") for match in PHONE.findall(text)} - national_numbers()
        assert local, fmt.key
        assert sorted(number for number in local if number not in facts_digits) == [], fmt.key
        if fmt.kind in MIN_QR_MM:
            codes, _ = read_qr_codes(path, 1 if fmt.kind == "wallet-card" else 0)
            assert {code for code, _ in codes} == {area.web}, fmt.key
            address = area.web.removeprefix("https://")
            assert address in text.replace("/ ", "/").replace("- ", "-"), fmt.key


def test_several_areas_build_in_one_go_each_in_its_folder(real_areas_build):
    expected = {f"{area}/hotels/{fmt.filename}" for area in REAL_AREAS for fmt in PRODUCT_FORMATS
                if fmt.variant == "office"}
    assert {entry["file"] for entry in read_manifest(real_areas_build)} == expected


def test_area_all_and_national_select_every_area_and_the_national_edition(tmp_path):
    result = run_cli("build", "--source", SOURCE_DIR, "--out", tmp_path / "out", "--venue", "parks",
                     "--product", "poster", "--variant", "office", "--lang", "en", "--area", "all",
                     "--area", "national")
    assert result.exit_code == 0, result.stderr
    areas = [area.id for area in shipped_source().areas]
    assert {entry["file"] for entry in read_manifest(tmp_path / "out")} == {
        f"{prefix}parks/poster-{size}.pdf" for prefix in ["", *(f"{area}/" for area in areas)] for size in ("a3", "a4")}


def test_an_area_file_may_not_take_a_word_the_command_line_keeps(source_copy):
    (source_copy / "areas" / "example-borough.yaml").rename(source_copy / "areas" / "national.yaml")
    result = run_cli("check", "--no-render")
    assert result.exit_code == 1
    assert ("error: source/areas/national.yaml: is named 'national', a word `--area` keeps for itself. Rename the "
            "file, e.g. after its council; all, national, packs are taken") in result.stderr


def test_editing_one_areas_file_rebuilds_only_that_areas_files(source_copy, tmp_path):
    out = tmp_path / "out"
    areas = ("--area", "national", *(option for area in REAL_AREAS for option in ("--area", area)))
    posters = ("--venue", "parks", "--product", "poster", "--variant", "office", "--lang", "en")
    first = run_cli("build", "--source", "source", "--out", out, *posters, *areas)
    assert first.exit_code == 0, first.stderr
    before = {entry["file"]: entry["sha256"] for entry in read_manifest(out)}
    profile = source_copy / "areas" / "lancashire.yaml"
    profile.write_text(profile.read_text(encoding="utf-8").replace("name: Out of hours", "name: Out of hours line"),
                       encoding="utf-8")
    second = run_cli("build", "--source", "source", "--out", out, *posters, *areas)
    assert second.exit_code == 0, second.stderr
    assert "Built 2 files (2 pages), 4 unchanged" in second.stderr
    after = {entry["file"]: entry["sha256"] for entry in read_manifest(out)}
    assert sorted(name for name in after if after[name] != before[name]) == [
        "lancashire/parks/poster-a3.pdf", "lancashire/parks/poster-a4.pdf"]
