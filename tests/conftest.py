"""Shared fixtures and helpers for the make-materials test suite.

- One full build of the shipped source per test session (`full_build`), shared
  by every test that only reads PDFs.
- `run_cli` runs the click command in-process and fails the test on any
  traceback, whatever the exit code.
- `normalise` / `printed` are the single way the suite compares expected text
  with text extracted from a PDF.
- `pdf_reader`, `box_mm`, `trim_size_mm` read PDF structure; `render_page`,
  `colour_mask` and `darkest` look at what a page prints (pypdfium2 + numpy).
- `font_problems` finds fonts that are not embedded or not the layouts' font.
- `--refresh-expected` (the `refresh_expected` fixture): tests that compare with
  expected files under tests/testdata/ rewrite them from the actual output.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from make_materials import cli
from materials.catalogue import CATALOGUE, THUMBNAILS
from materials.jobs import PRODUCT_FORMATS
from materials.model import Source
from materials.source import load_source
from materials.write import BUILD_RECORDS

PROJECT_DIR = Path(__file__).resolve().parents[1]
SOURCE_DIR = PROJECT_DIR / "source"
LAYOUTS_DIR = PROJECT_DIR / "layouts"

PT_TO_MM = 25.4 / 72
MM_TO_PT = 72 / 25.4
FONT_FAMILY = "Atkinson-Hyperlegible"


# --- the shipped source, for parametrisation at collection time ----------------

@functools.cache
def shipped_source() -> Source:
    return load_source(SOURCE_DIR)


def venue_format_params() -> list:
    """(venue_id, format_key) for every venue in the shipped source and every product format."""
    return [pytest.param(venue.id, fmt.key, id=f"{venue.id}-{fmt.key}")
            for venue in shipped_source().venues for fmt in PRODUCT_FORMATS]


# --- text comparison ---------------------------------------------------------------

def normalise(text: str) -> str:
    """Every run of whitespace (pypdf breaks lines anywhere) becomes one space."""
    return " ".join(text.split())


def printed(needle: str, haystack: str) -> bool:
    """Whether `needle` is printed in `haystack` (extracted PDF text), whitespace-normalised."""
    return normalise(needle) in normalise(haystack)


# --- reading PDFs --------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _reader(path: str, mtime_ns: int, size: int) -> PdfReader:
    return PdfReader(path)


def pdf_reader(path: Path) -> PdfReader:
    """A parsed PDF, shared by every test that reads the same unchanged file."""
    stat = path.stat()
    return _reader(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=None)
def _page_texts(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    return tuple(page.extract_text() or "" for page in _reader(path, mtime_ns, size).pages)


def page_texts(path: Path) -> tuple[str, ...]:
    """The extracted text of each page (cached while the file is unchanged)."""
    stat = path.stat()
    return _page_texts(str(path), stat.st_mtime_ns, stat.st_size)


def pdf_text(path: Path) -> str:
    """All pages' text, one string."""
    return "\n".join(page_texts(path))


def page_size_mm(page) -> tuple[float, float]:
    box = page.mediabox
    return float(box.width) * PT_TO_MM, float(box.height) * PT_TO_MM


def box_mm(page, name: str = "/MediaBox") -> tuple[float, float, float, float]:
    """A page box as written in the page dictionary (left, bottom, right, top), in mm."""
    left, bottom, right, top = (float(value) * PT_TO_MM for value in page[name])
    return min(left, right), min(bottom, top), max(left, right), max(bottom, top)


def trim_size_mm(page) -> tuple[float, float]:
    """The trimmed size: the TrimBox when the page has one, else the MediaBox."""
    left, bottom, right, top = box_mm(page, "/TrimBox" if "/TrimBox" in page else "/MediaBox")
    return right - left, top - bottom


def render_page(path: Path, index: int, dpi: float) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Page `index` rendered in full (the whole MediaBox, whatever the CropBox says)
    at `dpi`: an RGB array of shape (3, height, width), one contiguous plane per
    channel, and the MediaBox (left, bottom, right, top) in points. Pixel (row,
    column) of a PDF point (x, y) is ((top - y) * dpi / 72, (x - left) * dpi / 72)."""
    document = pdfium.PdfDocument(str(path))
    try:
        page = document[index]
        mediabox = page.get_mediabox()
        page.set_cropbox(*mediabox)  # pdfium renders the CropBox: make it the MediaBox
        bitmap = page.render(scale=dpi / 72, rev_byteorder=True)  # RGB, not pdfium's default BGR
        pixels = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3].transpose(2, 0, 1))
    finally:
        document.close()
    width_pt, height_pt = mediabox[2] - mediabox[0], mediabox[3] - mediabox[1]
    assert abs(pixels.shape[2] - width_pt * dpi / 72) <= 1 and abs(pixels.shape[1] - height_pt * dpi / 72) <= 1, (
        "the rendering does not cover the MediaBox")
    return pixels, mediabox


def colour_mask(pixels: np.ndarray, colour: str | tuple[int, int, int], tolerance: int) -> np.ndarray:
    """Pixels within `tolerance` of `colour` (#RRGGBB or an RGB tuple) on every channel."""
    if isinstance(colour, str):
        colour = tuple(int(colour[index:index + 2], 16) for index in (1, 3, 5))
    mask = np.ones(pixels.shape[1:], dtype=bool)
    for plane, value in zip(pixels, colour):
        mask &= (plane >= value - tolerance) & (plane <= value + tolerance)
    return mask


def darkest(pixels: np.ndarray) -> np.ndarray:
    """Each pixel's darkest channel: 255 only where the pixel is white."""
    return np.minimum(np.minimum(pixels[0], pixels[1]), pixels[2])


# --- fonts -----------------------------------------------------------------------------------

def _fonts(resources, seen_xobjects=None):
    """Every font dictionary in a resource dictionary, including inside form XObjects."""
    seen_xobjects = set() if seen_xobjects is None else seen_xobjects
    if resources is None:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        yield font.get_object()
    for xobject in (resources.get("/XObject") or {}).values():
        key = (xobject.idnum, xobject.generation) if hasattr(xobject, "idnum") else id(xobject)
        xobject = xobject.get_object()
        if key in seen_xobjects or xobject.get("/Subtype") != "/Form":
            continue
        seen_xobjects.add(key)
        yield from _fonts(xobject.get("/Resources"), seen_xobjects)


def _descriptors(font):
    if "/FontDescriptor" in font:
        yield font["/FontDescriptor"].get_object()
    for descendant in font.get("/DescendantFonts") or []:
        descendant = descendant.get_object()
        if "/FontDescriptor" in descendant:
            yield descendant["/FontDescriptor"].get_object()


def font_problems(reader: PdfReader) -> tuple[set[str], list[str]]:
    """The font names used on every page, and what is wrong with them."""
    names, problems = set(), []
    for number, page in enumerate(reader.pages, 1):
        for font in _fonts(page.get("/Resources")):
            base = str(font.get("/BaseFont", "")).lstrip("/")
            name = re.sub(r"^[A-Z]{6}\+", "", base)
            names.add(name)
            if not name.startswith(FONT_FAMILY):
                problems.append(f"page {number}: font {base!r} is not {FONT_FAMILY}")
            if not any(key in descriptor for descriptor in _descriptors(font)
                       for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(f"page {number}: font {base!r} is not embedded")
    return names, problems


# --- running the command line ----------------------------------------------------------

def run_cli(*args: str | Path) -> Result:
    """Invoke `make-materials` in-process. Never a traceback, never an uncaught exception."""
    result = CliRunner().invoke(cli, [str(arg) for arg in args], prog_name="make-materials")
    assert "Traceback" not in result.stdout, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception}\n{result.stderr}")
    return result


def files_under(folder: Path) -> set[str]:
    """Every file below `folder`, as '/'-separated paths relative to it, except a
    build's catalogue (index.html and its thumbnails: tests/test_catalogue.py
    checks those) and its record of complete builds (tests/test_incremental.py)."""
    return {name for name in (path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
            if name not in (CATALOGUE, BUILD_RECORDS) and not name.startswith(f"{THUMBNAILS}/")}


def read_manifest(out_dir: Path) -> list[dict]:
    return json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))["files"]


# --- fixtures ----------------------------------------------------------------------------

def pytest_addoption(parser):
    parser.addoption(
        "--refresh-expected", action="store_true", default=False,
        help="Rewrite the expected files under tests/testdata/ (e.g. the source-error cases' "
             "expected-stderr.txt) from the actual output instead of comparing; review the diff with git.")


@pytest.fixture(scope="session")
def refresh_expected(request) -> bool:
    """Whether to rewrite expected files from the actual output (--refresh-expected)."""
    return request.config.getoption("--refresh-expected")


@pytest.fixture(scope="session")
def source() -> Source:
    return shipped_source()


@dataclass
class Build:
    out: Path
    result: Result

    def pdf(self, venue_id: str, format_key: str) -> Path:
        return self.out / venue_id / f"{format_key}.pdf"


@pytest.fixture(scope="session")
def full_build(tmp_path_factory) -> Build:
    """Every product for every venue of the shipped source, built once per session."""
    out = tmp_path_factory.mktemp("full-build") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out)
    assert result.exit_code == 0, result.stderr
    return Build(out, result)


@pytest.fixture(scope="session")
def two_venues_build(tmp_path_factory) -> Path:
    """Every product of hotels and parks, built once per session on two
    workers. Read only: a test that changes files works on a copy."""
    out = tmp_path_factory.mktemp("two-venues") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--venue", "parks",
                     "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def hotels_area_build(tmp_path_factory) -> Path:
    """Every product of hotels for the fictional example area, built once per session. Read only."""
    out = tmp_path_factory.mktemp("hotels-area") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--area", "example-borough", "--venue", "hotels")
    assert result.exit_code == 0, result.stderr
    return out


# The shipped drafts (Welsh and Urdu) are built for an area: its edition
# carries more (hours, an out-of-hours line, the QR code and its address), and
# a real translation must still fit every product. The national edition's
# posters in both languages are made in test_poster_design.py.
DRAFTS_AREA = "example-borough"


@pytest.fixture(scope="session")
def drafts_build(tmp_path_factory) -> Path:
    """The shipped Welsh and Urdu drafts of hotels, every product, for the
    example area, built once per session. Read only."""
    out = tmp_path_factory.mktemp("drafts") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--lang", "cy",
                     "--lang", "ur", "--area", DRAFTS_AREA, "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    return out


# The pseudo-locales' files besides the posters (test_poster_design.py makes
# those). The card and its sheet have fixed boxes, so every venue's (the print
# shop's card is the same layout with bleed); the handouts flow onto more
# pages, and every venue's handout is the same layout, so one venue's. The
# cards in the language 40% longer are an area's, the fullest card (its hours,
# out-of-hours line, web address and QR code on the back); right to left, the
# national one.
_OFFICE_CARDS = ("--product", "wallet-card", "--variant", "office")
PSEUDO_BUILDS = {"en-XA": (("--area", DRAFTS_AREA, *_OFFICE_CARDS), ("--product", "handout", "--venue", "hotels")),
                 "ar-XB": (_OFFICE_CARDS, ("--product", "handout", "--venue", "hotels"))}
PSEUDO_CARDS_FOLDER = {"en-XA": f"{DRAFTS_AREA}/", "ar-XB": ""}


@pytest.fixture(scope="session")
def pseudo_build(tmp_path_factory):
    """PSEUDO_BUILDS into one folder, once per session: the folder and each build's result."""
    out = tmp_path_factory.mktemp("pseudo") / "out"
    results = [run_cli("build", "--source", SOURCE_DIR, "--out", out, "--jobs", "2", "--lang", tag, *options)
               for tag, builds in PSEUDO_BUILDS.items() for options in builds]
    return out, results


@pytest.fixture(scope="session")
def cards_build(request, tmp_path_factory) -> Build:
    """Every venue's wallet cards (office, press, sheet): the full build's when
    the session makes one anyway, else `build --product wallet-card` alone."""
    if any("full_build" in item.fixturenames for item in request.session.items):
        return request.getfixturevalue("full_build")
    out = tmp_path_factory.mktemp("cards-build") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--product", "wallet-card")
    assert result.exit_code == 0, result.stderr
    return Build(out, result)


@pytest.fixture(scope="session")
def hotels_build(tmp_path_factory):
    """`build --venue hotels --variant VARIANT` into a fresh folder, once per variant
    per session: `hotels_build("press")`."""
    builds: dict[str, Build] = {}

    def build(variant: str) -> Build:
        if variant not in builds:
            out = tmp_path_factory.mktemp(f"hotels-{variant}") / "out"
            result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--venue", "hotels", "--variant", variant)
            assert result.exit_code == 0, result.stderr
            builds[variant] = Build(out, result)
        return builds[variant]

    return build


@pytest.fixture
def no_hang():
    """Fails the test, instead of hanging the suite, if a build or the worker
    pool waits for ever (for a process that died, or on a full pipe)."""
    def hung(signum, frame):
        raise AssertionError("waited for ever: a build or the worker pool hung")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def source_copy(tmp_path, monkeypatch) -> Path:
    """A copy of source/ at tmp_path/source, with the current folder set to tmp_path
    (so error messages name `source/...`)."""
    copy = tmp_path / "source"
    shutil.copytree(SOURCE_DIR, copy)
    monkeypatch.chdir(tmp_path)
    return copy


@pytest.fixture
def layouts_copy(tmp_path) -> Path:
    """A copy of layouts/ at tmp_path/layouts."""
    copy = tmp_path / "layouts"
    shutil.copytree(LAYOUTS_DIR, copy)
    return copy
