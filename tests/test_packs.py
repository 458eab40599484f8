"""A nation in one build (issue 19): a catalogue of areas, and a pack per council."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import SOURCE_DIR, read_manifest, run_cli, shipped_source
from devtools import Browser
from materials.catalogue import CATALOGUE, NATIONAL_PAGE, areas_page, entries_by_area, area_pages
from test_catalogue import Page, page_problems

AREAS = ("blackburn-with-darwen", "lancashire")
# Each area's office posters, and the national edition's.
POSTERS = ("--venue", "parks", "--product", "poster", "--variant", "office", "--lang", "en")


@pytest.fixture(scope="module")
def nation(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nation") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, *POSTERS, "--area", "national",
                     *(option for area in AREAS for option in ("--area", area)))
    assert result.exit_code == 0, result.stderr
    packed = run_cli("pack", "--out", out)
    assert packed.exit_code == 0, packed.stderr
    return out


def council(area: str) -> str:
    return shipped_source().area(area).council


def test_a_pack_per_area_holds_its_files_its_catalogue_and_how_to_print(nation):
    for area in AREAS:
        with zipfile.ZipFile(nation / "packs" / f"{area}.zip") as pack:
            names = sorted(pack.namelist())
            assert names == [f"{area}/README.txt", f"{area}/index.html", f"{area}/parks/poster-a3.pdf",
                             f"{area}/parks/poster-a4.pdf"]
            for name in names[2:]:
                assert pack.read(name) == (nation / name).read_bytes()
            note = pack.read(f"{area}/README.txt").decode("utf-8")
            assert note.startswith(f"{council(area)}: CSE awareness materials\n")
            assert "Print at 100%" in note and "parks/poster-a3.pdf" in note
            page = Page(pack.read(f"{area}/index.html").decode("utf-8"))
            assert sorted(page.pdf_links) == ["parks/poster-a3.pdf", "parks/poster-a4.pdf"]
            assert page.images == []
    with zipfile.ZipFile(nation / "packs" / "national.zip") as pack:
        assert "national/parks/poster-a3.pdf" in pack.namelist()


def test_packs_are_byte_for_byte_reproducible(nation, tmp_path):
    again = tmp_path / "again"
    shutil.copytree(nation, again)
    shutil.rmtree(again / "packs")
    assert run_cli("pack", "--out", again).exit_code == 0
    for pack in (nation / "packs").glob("*.zip"):
        assert hashlib.sha256((again / "packs" / pack.name).read_bytes()).digest() == \
            hashlib.sha256(pack.read_bytes()).digest(), pack.name


def test_a_file_changed_since_the_build_is_not_packed(nation, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(nation, changed)
    with (changed / "lancashire" / "parks" / "poster-a4.pdf").open("ab") as pdf:
        pdf.write(b"%")
    result = run_cli("pack", "--out", changed)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: lancashire/parks/poster-a4.pdf changed since the build wrote it: build again, then pack")


def test_pack_without_a_build_says_to_build_first(tmp_path):
    result = run_cli("pack", "--out", tmp_path / "empty")
    assert result.exit_code == 1
    assert f"{tmp_path / 'empty'}/ holds no build to pack" in result.stderr
    assert not (tmp_path / "empty").exists()


def test_with_several_areas_the_catalogue_lists_the_areas_and_each_has_its_page(nation):
    top = Page((nation / CATALOGUE).read_text(encoding="utf-8"))
    assert top.images == [] and top.pdf_links == []
    assert [link for link in top.links if not link.startswith("#")] == [
        NATIONAL_PAGE, "packs/national.zip",
        *(link for area in AREAS for link in (f"{area}/{CATALOGUE}", f"packs/{area}.zip"))]
    for area in AREAS:
        page = Page((nation / area / CATALOGUE).read_text(encoding="utf-8"))
        assert sorted(page.pdf_links) == ["parks/poster-a3.pdf", "parks/poster-a4.pdf"]
        assert len(page.images) == 2
        assert page.headings[0] == (1, f"{council(area)}: materials")


def test_both_levels_work_in_a_browser_from_disk(nation, tmp_path):
    with Browser(tmp_path / "profile") as browser:
        for page in (CATALOGUE, NATIONAL_PAGE, f"{AREAS[1]}/{CATALOGUE}"):
            report = browser.open((nation / page).as_uri())
            assert page_problems(report, nation) == [], page
    assert len(report.facts["images"]) == 2


def test_the_list_of_areas_stays_small_for_a_nation():
    """150 councils of 45 files each: the top page loads no pictures and stays under 200 KB."""
    entries = [{"file": f"area-{number:03}/{venue}/poster-a3.pdf", "area": f"area-{number:03}",
                "area_name": f"Council number {number} Metropolitan Borough Council", "lang": "en-GB",
                "lang_name": "English", "pages": 2, "warnings": [], "content_reviewed": "2026-12-04"}
               for number in range(150) for venue in range(45)]
    by_area = entries_by_area(entries)
    page = areas_page(by_area, area_pages(by_area), {}, "0" * 64)
    assert len(page.encode("utf-8")) < 200_000
    assert "<img" not in page and page.count("<tr>") == 151


def test_one_area_beside_the_national_edition_keeps_one_page(tmp_path):
    """Not a list of one area: the page groups the files by area, as before."""
    out = tmp_path / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, *POSTERS, "--area", "national",
                     "--area", AREAS[0])
    assert result.exit_code == 0, result.stderr
    assert len(Page((out / CATALOGUE).read_text(encoding="utf-8")).images) == 4
    assert not (out / NATIONAL_PAGE).exists() and not (out / AREAS[0] / CATALOGUE).exists()
