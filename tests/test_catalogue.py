"""The catalogue (issue 7): output/index.html lists every file a build made,
with a thumbnail of its first page, and works opened straight from disk in a
real browser (headless Chromium), with the keyboard, with nothing from the
network."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import SOURCE_DIR, page_texts, read_manifest, run_cli, shipped_source
from devtools import Browser
from materials.catalogue import (CATALOGUE, THUMBNAILS, group_entries, shared_headings, thumbnail_path,
                                write_catalogue)
from materials.jobs import PRODUCT_FORMATS
from test_failures import card_front_override, write_override
from test_workshop import write_roster

AREA = "example-borough"
TITLES = {fmt.filename: fmt.title for fmt in PRODUCT_FORMATS}
CARDS = ("--product", "wallet-card", "--variant", "office")  # the card and its sheet


class Page(HTMLParser):
    """The parts of index.html a test looks at."""

    def __init__(self, html: str):
        super().__init__()
        self.links: list[str] = []
        self.images: list[dict] = []
        self.headings: list[tuple[int, str]] = []
        self._heading: list | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(unquote(attrs["href"]))
        elif tag == "img":
            self.images.append({**attrs, "src": unquote(attrs["src"])})
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading = [int(tag[1]), ""]

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data

    def handle_endtag(self, tag):
        if self._heading is not None and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())))
            self._heading = None

    @property
    def pdf_links(self) -> list[str]:
        return [link for link in self.links if link.endswith(".pdf")]


def catalogue(out: Path) -> Page:
    return Page((out / CATALOGUE).read_text(encoding="utf-8"))


def build(*args):
    result = run_cli("build", *args)
    assert result.exit_code == 0, result.stderr
    return result


def thumbnails(out: Path) -> dict[str, tuple[int, int]]:
    """Each thumbnail file: (inode, modification time), to tell a kept file from a new one."""
    return {path.relative_to(out).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in (out / THUMBNAILS).rglob("*") if path.is_file()}


# Two venues' every product, and one venue's card and card sheet for an area.
SMALL_BUILD_FILES = 2 * len(PRODUCT_FORMATS) + 2


@pytest.fixture(scope="module")
def small_build(tmp_path_factory, two_venues_build) -> Path:
    """Two venues, every product; then one venue's cards for an area, into the same folder."""
    out = tmp_path_factory.mktemp("catalogue") / "out"
    shutil.copytree(two_venues_build, out)
    build("--source", SOURCE_DIR, "--out", out, "--venue", "hotels", *CARDS, "--area", AREA)
    return out


# --- the page, read as HTML ---------------------------------------------------------------

def test_every_file_in_the_manifest_is_listed_with_its_thumbnail(small_build):
    entries = read_manifest(small_build)
    assert len(entries) == SMALL_BUILD_FILES
    page = catalogue(small_build)
    assert sorted(page.pdf_links) == sorted(entry["file"] for entry in entries)
    assert [image["src"] for image in page.images] == [
        str(thumbnail_path(next(entry for entry in entries if entry["file"] == link))) for link in page.pdf_links]
    for image in page.images:
        assert (small_build / image["src"]).is_file(), image["src"]
        assert image["alt"].startswith("First page of "), image
    assert {name for name in thumbnails(small_build)} == {image["src"] for image in page.images}


def test_each_file_shows_its_product_size_pages_and_preflight(small_build):
    html = (small_build / CATALOGUE).read_text(encoding="utf-8").replace("\u00a0", " ")
    for filename, title in TITLES.items():
        assert f'{filename}">{title}</a>' in html, title
    assert "<dt>Size</dt><dd>420 × 594 mm, 3 mm bleed</dd>" in html  # the A2 press poster
    assert "<dt>Size</dt><dd>85.6 × 53.98 mm</dd>" in html            # the wallet card
    handouts = list(small_build.rglob("handout-participant.pdf"))
    assert handouts
    for handout in handouts:                                          # as many pages as the PDF has
        assert f"<dt>Pages</dt><dd>{len(page_texts(handout))}</dd>" in html
    assert "<dt>Print on</dt><dd>Print shop</dd>" in html and "<dt>Print on</dt><dd>Office printer</dd>" in html
    assert re.search(r"<dt>File</dt><dd>PDF/X-4, \d+ kB</dd>", html)
    assert "<dt>Smallest text</dt><dd>7 pt (min. 7)</dd>" in html
    assert re.search(r"<dt>Contrast</dt><dd>\d+\.\d:1 \(min. 7:1\)</dd>", html)
    assert "<dt>Fit</dt><dd>no text shrunk</dd>" in html


def test_fit_scales_and_warnings_are_shown_and_escaped(small_build, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small_build, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    card = next(entry for entry in manifest["files"] if entry["file"] == "hotels/wallet-card.pdf")
    card["fit_scales"] = {"card-signs": 0.8125}
    card["warnings"] = ['fit: region "card-signs" shrunk to 81% of its size to fit <em>now</em>']
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    write_catalogue(out)
    html = (out / CATALOGUE).read_text(encoding="utf-8")
    assert "<dt>Fit</dt><dd>card-signs shrunk to 81%</dd>" in html
    assert "passed, 1 warning" in html
    assert "<li>fit: region &#34;card-signs&#34; shrunk to 81% of its size to fit &lt;em&gt;now&lt;/em&gt;</li>" in html


def test_files_are_grouped_by_area_then_venue(small_build):
    headings = catalogue(small_build).headings
    assert headings[0] == (1, "Materials catalogue")
    groups = [heading for heading in headings if heading[0] in (2, 3) and heading[1] != "Contents"]
    assert groups[:4] == [(2, "National contacts only (local number written in by hand)"), (3, "Hotels"),
                          (3, "Parks"), (2, f"Area: {shipped_source().area(AREA).council}")]
    assert groups[4:] == [(3, "Hotels")]
    # the files of each venue are headed one level below it, in the order products are listed
    assert [text for level, text in headings if level == 4][:len(PRODUCT_FORMATS)] == [fmt.title for fmt in PRODUCT_FORMATS]


def test_grouping_follows_whichever_fields_the_manifest_has():
    def entry(file, venue, **more):
        return {"file": file, "venue": venue, "venue_name": venue.title(), **more}

    def outline(groups):
        return [(group.heading, group.level, group.anchor, group.files or outline(group.groups)) for group in groups]

    plain = [entry("parks/poster-a3.pdf", "parks"), entry("hotels/poster-a3.pdf", "hotels")]
    files = {item["file"]: item["file"] for item in plain}
    assert outline(group_entries(plain, files)) == [
        ("Hotels", 2, "hotels", ["hotels/poster-a3.pdf"]), ("Parks", 2, "parks", ["parks/poster-a3.pdf"])]
    assert shared_headings(plain) == []

    # a language field (which the manifest may gain) is a level of its own, named when it has a name;
    # a translation's file is ordered as the product it is
    translated = [entry("hotels/poster-a3-cy.pdf", "hotels", lang="cy", lang_name="Cymraeg"),
                  entry("hotels/wallet-card.pdf", "hotels", lang="en"),
                  entry("hotels/poster-a4.pdf", "hotels", lang="en"),
                  entry("hotels/poster-a3-press-cy.pdf", "hotels", lang="cy", lang_name="Cymraeg"),
                  entry("hotels/poster-a3.pdf", "hotels", lang="en")]
    files = {item["file"]: item["file"] for item in translated}
    assert outline(group_entries(translated, files)) == [
        ("Language: Cymraeg", 2, "cy", [
            ("Hotels", 3, "cy--hotels", ["hotels/poster-a3-cy.pdf", "hotels/poster-a3-press-cy.pdf"])]),
        ("Language: en", 2, "en", [
            ("Hotels", 3, "en--hotels", ["hotels/poster-a3.pdf", "hotels/poster-a4.pdf", "hotels/wallet-card.pdf"])])]

    # a field every file shares (one language, one area) is said once at the top, not as a level
    english = [item for item in translated if item["lang"] == "en"]
    for item in english:
        item["area"] = AREA
    assert [group.heading for group in group_entries(english, files)] == ["Hotels"]
    assert shared_headings(english) == [f"Area: {AREA}", "Language: en"]


def test_text_from_the_source_is_escaped(source_copy, tmp_path):
    venue = source_copy / "venues" / "hotels.yaml"
    venue.write_text(venue.read_text(encoding="utf-8").replace(
        "name: Hotels\n", "name: 'Hotels <script>alert(1)</script> & <b>bars</b>'\n", 1), encoding="utf-8")
    out = tmp_path / "out"
    build("--source", "source", "--out", out, "--venue", "hotels", *CARDS)
    html = (out / CATALOGUE).read_text(encoding="utf-8")
    assert "Hotels &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bars&lt;/b&gt;" in html
    assert "<script" not in html and "<b>" not in html


# --- thumbnails are made once --------------------------------------------------------------

def test_thumbnails_are_rendered_only_for_changed_files(source_copy, tmp_path):
    out = tmp_path / "out"
    two_venues = ("--source", "source", "--out", out, "--venue", "hotels", "--venue", "parks", *CARDS)
    build(*two_venues)
    first = thumbnails(out)
    assert len(first) == 4

    build(*two_venues)  # nothing changed: no thumbnail is rendered again
    assert thumbnails(out) == first

    venue = source_copy / "venues" / "parks.yaml"
    # the staff line is not on the card: parks' cards are made again, byte for byte the same
    venue.write_text(venue.read_text(encoding="utf-8").replace("Park rangers", "Park wardens"), encoding="utf-8")
    assert "2 unchanged" in build(*two_venues).stderr
    assert thumbnails(out) == first

    # the venue's name is on the card: new PDFs, new thumbnails, and the old ones are gone
    venue.write_text(venue.read_text(encoding="utf-8").replace("name: Parks\n", "name: Parks and gardens\n"),
                     encoding="utf-8")
    build(*two_venues)
    after = thumbnails(out)
    kept = {name for name in first if name.startswith(f"{THUMBNAILS}/hotels/")}
    assert {name: after[name] for name in kept} == {name: first[name] for name in kept}
    assert len(after) == 4 and set(after) - kept == {image["src"] for image in catalogue(out).images} - kept
    assert not (set(first) - kept) & set(after)


def test_a_build_that_changed_nothing_leaves_the_page_alone(tmp_path):
    out = tmp_path / "out"
    cards = ("--source", SOURCE_DIR, "--out", out, "--venue", "hotels", *CARDS)
    build(*cards)
    page = out / CATALOGUE
    written = (page.stat().st_ino, page.stat().st_mtime_ns)
    build(*cards)
    assert (page.stat().st_ino, page.stat().st_mtime_ns) == written
    # a file gone from disk is gone from the page at the next build
    (out / "hotels" / "wallet-cards-sheet-a4.pdf").unlink()
    # nothing to make: a handout has no press variant
    build("--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--product", "handout", "--variant", "press")
    assert catalogue(out).pdf_links == ["hotels/wallet-card.pdf"]


def test_stale_thumbnails_are_removed_and_damaged_ones_made_again(tmp_path):
    out = tmp_path / "out"
    build("--source", SOURCE_DIR, "--out", out, "--venue", "hotels", *CARDS)
    stale = out / THUMBNAILS / "gone" / "poster-a3.0123456789abcdef.400px.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"the thumbnail of a file no longer listed")
    damaged = out / catalogue(out).images[0]["src"]
    damaged.write_bytes(b"not a PNG")
    build("--source", SOURCE_DIR, "--out", out, "--venue", "hotels", *CARDS)
    assert not stale.parent.exists()
    assert len(thumbnails(out)) == 2
    assert damaged.read_bytes().startswith(b"\x89PNG")


# --- what is not listed ----------------------------------------------------------------------

def test_roster_files_are_never_listed(tmp_path):
    out = tmp_path / "out"
    roster = write_roster(tmp_path / "session.csv", ['"Zoë Smith",Grand Hotel'])
    result = run_cli("certificates", "--source", SOURCE_DIR, "--roster", roster, "--venue", "hotels",
                     "--date", "2026-11-25", "--trainer", "Sam Trainer", "--duration", "60", "--out", out)
    assert result.exit_code == 0, result.stderr
    build("--source", SOURCE_DIR, "--out", out, "--venue", "hotels", *CARDS)
    html = (out / CATALOGUE).read_text(encoding="utf-8")
    assert (out / "certificates-hotels-2026-11-25.pdf").is_file()
    assert "certificates" not in html and "Zoë" not in html and "Sam Trainer" not in html
    assert sorted(catalogue(out).pdf_links) == ["hotels/wallet-card.pdf", "hotels/wallet-cards-sheet-a4.pdf"]


def test_after_a_failed_job_the_catalogue_lists_the_files_that_exist(tmp_path, layouts_copy):
    out = tmp_path / "out"
    cards = ("--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--venue", "parks", *CARDS)
    build(*cards)
    before = catalogue(out)
    # hotels' card no longer fits: it fails, and its earlier copy stays, listed as it was
    write_override(layouts_copy, "wallet-card", "hotels", card_front_override("<p>long text</p>" * 40))
    result = run_cli("build", *cards, "--layouts", layouts_copy, "--force")
    assert result.exit_code == 1 and "FAILED hotels/wallet-card.pdf" in result.stderr
    assert sorted(catalogue(out).pdf_links) == sorted(before.pdf_links)
    assert all((out / image["src"]).is_file() for image in catalogue(out).images)

    fresh = tmp_path / "fresh"  # a first build: the failed file never existed, so it is not listed
    result = run_cli("build", *cards[:2], "--out", fresh, *cards[4:], "--layouts", layouts_copy)
    assert result.exit_code == 1
    assert sorted(catalogue(fresh).pdf_links) == ["parks/wallet-card.pdf", "parks/wallet-cards-sheet-a4.pdf"]


# --- in a real browser -------------------------------------------------------------------------

def open_catalogue(out: Path, profile: Path):
    with Browser(profile) as browser:
        return browser.open((out / CATALOGUE).as_uri())


def page_problems(report, out: Path) -> list[str]:
    """Everything a person would see go wrong: a broken picture, a dead link, a
    console error, or a request that leaves the disk."""
    facts = report.facts
    problems = [f"image did not load: {image['src']}" for image in facts["images"]
                if not image["complete"] or image["width"] == 0]
    for link in facts["links"]:
        if link["raw"].startswith("#"):
            if not link["target_found"]:
                problems.append(f"no element for in-page link {link['raw']}")
        elif urlsplit(link["href"]).scheme != "file" or not Path(unquote(urlsplit(link["href"]).path)).is_file():
            problems.append(f"link to a missing file: {link['href']}")
    problems += [f"console: {message}" for message in report.console_errors]
    problems += [f"failed to load: {error}" for error in report.failed_loads]
    problems += [f"request off the disk: {url}" for url in report.requests if not url.startswith("file://")]
    return problems


def test_the_catalogue_works_in_a_browser_from_disk(small_build, tmp_path):
    report = open_catalogue(small_build, tmp_path / "profile")
    assert page_problems(report, small_build) == []
    facts = report.facts
    assert facts["lang"] == "en" and facts["title"] == "Materials catalogue"
    assert len(facts["images"]) == SMALL_BUILD_FILES and all(image["alt"] for image in facts["images"])
    assert len([link for link in facts["links"] if link["href"].endswith(".pdf")]) == SMALL_BUILD_FILES
    assert report.requests[0] == (small_build / CATALOGUE).as_uri()
    assert len(report.requests) == SMALL_BUILD_FILES + 1  # the page and its thumbnails: no style sheet, script or font


def test_the_browser_check_sees_a_missing_thumbnail_and_a_dead_link(small_build, tmp_path):
    broken = tmp_path / "out"
    shutil.copytree(small_build, broken)
    image = catalogue(broken).images[0]["src"]
    (broken / image).unlink()
    (broken / "parks" / "poster-a4.pdf").unlink()
    problems = page_problems(open_catalogue(broken, tmp_path / "profile"), broken)
    assert f"image did not load: {(broken / image).as_uri()}" in problems
    assert f"link to a missing file: {(broken / 'parks' / 'poster-a4.pdf').as_uri()}" in problems
    assert "failed to load: net::ERR_FILE_NOT_FOUND" in problems
    assert any(problem.startswith("console: Failed to load resource") for problem in problems)


def test_every_file_can_be_reached_with_the_keyboard_and_focus_shows(small_build, tmp_path):
    with Browser(tmp_path / "profile") as browser:
        facts = browser.open((small_build / CATALOGUE).as_uri()).facts
        focused = []
        for _ in range(len(facts["links"]) + 1):
            element = browser.press_tab()
            if element["tag"] != "A":
                break
            focused.append(element)
    assert [element["href"] for element in focused] == [link["raw"] for link in facts["links"]]
    assert focused[0]["href"] == "#files"  # first, a link past the page's header to the files
    assert [element["href"] for element in focused if not element["visible"]] == []
