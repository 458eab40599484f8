"""Area profiles: a council's own reporting contacts on every product (issue 6, in part)."""

from __future__ import annotations

import pytest

from conftest import SOURCE_DIR, files_under, pdf_text, printed, read_manifest, run_cli, shipped_source
from materials.jobs import PRODUCT_FORMATS

AREA = "example-borough"


@pytest.fixture(scope="module")
def area_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("area") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--area", AREA, "--venue", "hotels")
    assert result.exit_code == 0, result.stderr
    return out


def test_an_area_build_goes_into_its_own_folder(area_build):
    assert files_under(area_build) == {f"{AREA}/hotels/{fmt.filename}" for fmt in PRODUCT_FORMATS} | {"manifest.json"}
    assert {entry["area"] for entry in read_manifest(area_build)} == {AREA}


@pytest.mark.parametrize("fmt", PRODUCT_FORMATS, ids=lambda fmt: fmt.key)
def test_the_area_numbers_are_on_every_product(area_build, fmt):
    area = shipped_source().area(AREA)
    write_in = shipped_source().content.headings.write_in
    text = pdf_text(area_build / AREA / "hotels" / fmt.filename)
    assert printed(area.children_services.number, text)
    assert printed(area.out_of_hours.number, text)
    assert not printed(write_in, text)


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


def test_a_bad_area_number_names_its_line(source_copy):
    path = source_copy / "areas" / f"{AREA}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "number:" in line)
    lines[index] = '  number: "call the council"\n'
    path.write_text("".join(lines))
    result = run_cli("check", "--no-render", "--source", "source")
    assert result.exit_code == 1
    assert (f"source/areas/{AREA}.yaml:{index + 1}:11: children_services.number: is not a phone number"
            in result.stderr)
