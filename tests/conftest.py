"""Shared fixtures and helpers for the make-materials test suite.

- One full build of the shipped source per test session (`full_build`), shared
  by every test that only reads PDFs.
- `run_cli` runs the click command in-process and fails the test on any
  traceback, whatever the exit code.
- `normalise` / `printed` are the single way the suite compares expected text
  with text extracted from a PDF.
"""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from make_materials import cli
from materials.jobs import PRODUCT_FORMATS
from materials.model import Source, load_source

PROJECT_DIR = Path(__file__).resolve().parents[1]
SOURCE_DIR = PROJECT_DIR / "source"
LAYOUTS_DIR = PROJECT_DIR / "layouts"

PT_TO_MM = 25.4 / 72


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
def _page_texts(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    return tuple(page.extract_text() or "" for page in PdfReader(path).pages)


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
    """Every file below `folder`, as '/'-separated paths relative to it."""
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


def read_manifest(out_dir: Path) -> list[dict]:
    return json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))["files"]


# --- fixtures ----------------------------------------------------------------------------

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
