"""Hostile and broken input, beyond the everyday mistakes of test_source_errors.py.

Each case is a deliberate mistake or attack in a copy of the source or the
layouts. Each must give a precise message, exit status 1, no traceback, and
write nothing (source problems) or not write the affected file (layout
problems). With test_source_errors.py, test_failures.py and the roster cases
in test_workshop.py this is the project's bad-input corpus.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SOURCE_DIR, pdf_text, printed, run_cli

HOTELS = "source/venues/hotels.yaml"
CARD_ONLY = ("--venue", "hotels", "--product", "wallet-card")


def replace_line(path, startswith: str, new_line: str) -> int:
    """Replace the first line starting with `startswith`; return its 1-based number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(startswith))
    lines[index] = new_line if new_line.endswith("\n") else new_line + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return index + 1


def check_source(tmp_path):
    result = run_cli("build", "--source", "source", "--out", "out", *CARD_ONLY)
    assert result.exit_code == 1, result.stderr
    assert not (tmp_path / "out").exists()
    return result.stderr


# --- the source ---------------------------------------------------------------------------

@pytest.mark.parametrize("content", ["   \n\t\n", "# only a comment\n"], ids=["whitespace", "comment"])
def test_a_file_with_nothing_in_it(source_copy, tmp_path, content):
    (source_copy / "venues" / "hotels.yaml").write_text(content)
    stderr = check_source(tmp_path)
    assert f"error: {HOTELS}: " in stderr and ("is empty" in stderr or "holds no values" in stderr)


def test_a_100_kb_string_is_refused_as_too_long(source_copy, tmp_path):
    line = replace_line(source_copy / "venues" / "hotels.yaml", "headline:", "headline: " + "x" * 100_000)
    stderr = check_source(tmp_path)
    assert f"error: {HOTELS}:{line}:11: headline: is too long (100000 characters, at most 1500). Shorten it" in stderr


def test_deep_nesting_is_refused(source_copy, tmp_path):
    replace_line(source_copy / "venues" / "hotels.yaml", "headline:", "headline: " + "[" * 5000 + "]" * 5000)
    stderr = check_source(tmp_path)
    assert f"error: {HOTELS}" in stderr and ("nested too deeply" in stderr or "should be text" in stderr)


def test_an_impossible_date(source_copy, tmp_path):
    line = replace_line(source_copy / "content.yaml", "reviewed:", "reviewed: 2026-02-30")
    stderr = check_source(tmp_path)
    assert (f"error: source/content.yaml:{line}:11: reviewed: 2026-02-30 is not a date: February 2026 has 28 days"
            in stderr)


def test_a_yaml_tag_that_builds_a_python_object_is_refused(source_copy, tmp_path):
    line = replace_line(source_copy / "venues" / "hotels.yaml", "headline:",
                        "headline: !!python/object/apply:os.system ['echo hacked']")
    stderr = check_source(tmp_path)
    assert (f"error: {HOTELS}:{line}:11: headline: uses the YAML tag tag:yaml.org,2002:python/object/apply:os.system, "
            "which is not allowed") in stderr


def test_a_merge_key_is_refused(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    path.write_text("base: &base {name: X}\n" + path.read_text().replace("name: Hotels", "<<: *base", 1))
    stderr = check_source(tmp_path)
    assert "merge keys (<<) are not supported" in stderr


def test_a_venue_id_with_dots_is_refused(source_copy, tmp_path):
    (source_copy / "venues" / "hotels.yaml").rename(source_copy / "venues" / "..hotels.yaml")
    result = run_cli("check", "--no-render", "--source", "source")
    assert result.exit_code == 1
    assert 'source/venues/..hotels.yaml: "..hotels" is not a valid venue id' in result.stderr


# Attribute values unquoted: printed wording may hold no straight quotes.
@pytest.mark.parametrize("text", [
    "<img src=file:///etc/passwd alt=x>",
    "<link rel=stylesheet href=/etc/passwd>",
    "<style>@import url(/etc/passwd); body { background: url(http://example.org/x.png) }</style>",
    "<script>alert(1)</script>",
], ids=["img-file-url", "link-absolute", "style-import-url", "script"])
def test_markup_in_a_text_field_is_printed_as_text(source_copy, tmp_path, text):
    path = source_copy / "venues" / "hotels.yaml"
    path.write_text(path.read_text().replace("    short: Booking name differs from the guest",
                                             "    short: " + yaml.safe_dump(text, default_style='"').strip(), 1))
    out = tmp_path / "out"
    result = run_cli("build", "--source", "source", "--out", out, *CARD_ONLY)
    assert result.exit_code == 0, result.stderr
    assert printed(text, pdf_text(out / "hotels" / "wallet-card.pdf"))


# --- the layouts --------------------------------------------------------------------------

def build_with_layouts(layouts, tmp_path):
    out = tmp_path / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--layouts", layouts, *CARD_ONLY)
    assert result.exit_code == 1
    assert not (out / "hotels" / "wallet-card.pdf").exists()
    return result.stderr


def test_a_font_file_that_is_not_a_font(layouts_copy, tmp_path):
    (layouts_copy / "common" / "fake.ttf").write_text("this is not a font")
    fonts = layouts_copy / "common" / "fonts.css"
    fonts.write_text(fonts.read_text().replace('url("fontpkg:atkinson-hyperlegible/AtkinsonHyperlegible-Regular.ttf")',
                                               'url("fake.ttf")', 1))
    stderr = build_with_layouts(layouts_copy, tmp_path)
    assert "error: hotels/wallet-card.pdf: Font-face 'Atkinson Hyperlegible' cannot be loaded" in stderr


def override_card_front(layouts, front: str) -> None:
    """Give hotels its own card layout, whose front is `front`."""
    override = layouts / "wallet-card" / "venues" / "hotels.html"
    override.parent.mkdir(exist_ok=True)
    override.write_text('{% extends "wallet-card/wallet-card.html" %}{% block front %}' + front + "{% endblock %}")


def test_an_image_file_that_is_not_an_image(layouts_copy, tmp_path):
    (layouts_copy / "wallet-card" / "logo.png").write_bytes(b"\x00\x01 this is not an image \xff" * 20)
    override_card_front(layouts_copy, '<section class="side front"><h1>Hotels</h1>'
                                      '<img src="logo.png" alt="Logo"></section>')
    stderr = build_with_layouts(layouts_copy, tmp_path)
    assert "error: hotels/wallet-card.pdf:" in stderr and "logo.png" in stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_image_that_fails_to_load_fails_every_file_that_uses_it(layouts_copy, tmp_path, workers):
    # WeasyPrint reports an image that fails to load once per process; the
    # card and the sheet it is imposed on are laid out in one.
    (layouts_copy / "wallet-card" / "logo.png").write_bytes(b"not an image" * 20)
    override_card_front(layouts_copy, '<section class="side front"><h1>Hotels</h1>'
                                      '<img src="logo.png" alt="Logo"></section>')
    out = tmp_path / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--layouts", layouts_copy, *CARD_ONLY,
                     "--jobs", workers)
    assert result.exit_code == 1
    for name in ("wallet-card.pdf", "wallet-cards-sheet-a4.pdf"):
        assert f"error: hotels/{name}: Failed to load image" in result.stderr
        assert not (out / "hotels" / name).exists()


@pytest.mark.parametrize("front, named", [
    ("{{ self.no_such_block() }}", "no_such_block"),
    ("{{ venue.no_such_field }}", "no_such_field"),
], ids=["missing-block", "missing-field"])
def test_a_layout_that_names_something_missing(layouts_copy, tmp_path, front, named):
    override_card_front(layouts_copy, front)
    stderr = build_with_layouts(layouts_copy, tmp_path)
    assert "error: hotels/wallet-card.pdf: layout error:" in stderr and named in stderr


# --- arbitrary text --------------------------------------------------------------------------

KNOWN_PROBLEMS = ("overset:", "legibility:", "contrast:", "glyphs:", "fonts:", "structure:", "accessibility:")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=400))
def test_any_text_builds_clean_or_fails_with_a_known_message(source_copy, text):
    """A sign in any Unicode, of any length: a clean card, or a known problem; never a traceback."""
    path = source_copy / "venues" / "hotels.yaml"
    shipped = "    short: Booking name differs from the guest\n"
    original = path.read_text()
    path.write_text(original.replace(shipped, "    short: " + yaml.safe_dump(text, default_style='"', width=1e9)))
    try:
        result = run_cli("check", "--source", "source", *CARD_ONLY)
    finally:
        path.write_text(original)
    assert result.exit_code in (0, 1), result.stderr
    for line in result.stderr.splitlines():
        line = line.strip()
        if line.startswith("error: hotels/"):
            assert line.split(": ", 2)[2].startswith(KNOWN_PROBLEMS), line
        elif line.startswith("error: "):
            assert line.startswith(f"error: {HOTELS}:"), line  # a source problem, at its place
