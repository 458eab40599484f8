"""Mistakes in source/: each is reported as `file:line:col: field: message. hint`,
with exit status 1, no traceback, and nothing written.

Every test edits a copy of the shipped source (the `source_copy` fixture also
makes tmp_path the current folder, so messages name `source/...`), and works out
the expected line number from the edit it made.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import pytest

from conftest import PROJECT_DIR, run_cli

HOTELS = "source/venues/hotels.yaml"


# --- helpers ----------------------------------------------------------------------------

def read_lines(path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return text.splitlines(keepends=True)


def write_lines(path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def line_index(lines: list[str], startswith: str, after: int = -1) -> int:
    """The 0-based index of the first line starting with `startswith` (after index `after`)."""
    return next(i for i, line in enumerate(lines) if i > after and line.startswith(startswith))


def first_key_line(lines: list[str]) -> int:
    """The 1-based line where a file's top-level mapping starts (its first key)."""
    return next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")) + 1


def build(tmp_path):
    """A small build from the copied source into tmp_path/out (which must not appear)."""
    result = run_cli("build", "--source", "source", "--out", "out", "--product", "wallet-card")
    assert result.exit_code == 1, result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "out").exists(), "something was written despite a source error"
    assert re.search(r"the source has \d+ problems?; nothing was written", result.stderr)
    return result


def problem(stderr: str, file: str, line: int | None = None, field: str | None = None) -> str:
    """The text after `error: file[:line[:col]]: [field: ]` on the one stderr line reporting it."""
    where = re.escape(file) + (rf":{line}(?::\d+)?" if line is not None else "")
    pattern = rf"^error: {where}: " + (rf"{re.escape(field)}: " if field else "") + r"(?P<rest>.+)$"
    matches = [match["rest"] for match in re.finditer(pattern, stderr, re.MULTILINE)]
    assert len(matches) == 1, f"expected one problem at {file}:{line} {field or ''}, got:\n{stderr}"
    return matches[0]


def message_and_hint(rest: str) -> tuple[str, str]:
    """`message. hint` -> (message, hint); the hint must be there."""
    message, separator, hint = rest.partition(". ")
    assert separator and message and hint.strip(), f"no hint in {rest!r}"
    return message, hint


# --- one test per kind of mistake ---------------------------------------------------------

def test_invalid_yaml_bad_indentation(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path)
    index = line_index(lines, "headline:")
    lines[index] = "  " + lines[index]  # continues the previous line's value: invalid
    write_lines(path, lines)
    message, hint = message_and_hint(problem(build(tmp_path).stderr, HOTELS, index + 1))
    assert "is not valid YAML" in message
    assert "indentation" in hint


def test_tab_used_for_indentation(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path)
    index = line_index(lines, "    text: ")
    lines[index] = "\t" + lines[index][4:]
    write_lines(path, lines)
    message, hint = message_and_hint(problem(build(tmp_path).stderr, HOTELS, index + 1))
    assert "is not valid YAML" in message
    assert hint


def test_tab_hint_says_to_use_spaces(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path)
    index = line_index(lines, "    text: ")
    lines[index] = "\t" + lines[index][4:]
    write_lines(path, lines)
    _, hint = message_and_hint(problem(build(tmp_path).stderr, HOTELS, index + 1))
    assert re.search(r"\btabs?\b", hint, re.IGNORECASE), hint


def test_duplicate_key(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path) + ["name: Hotels again\n"]
    write_lines(path, lines)
    message, hint = message_and_hint(problem(build(tmp_path).stderr, HOTELS, len(lines), "name"))
    assert '"name" appears twice' in message
    assert hint


def test_unknown_key(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path)
    index = line_index(lines, "headline:")
    lines[index] = lines[index].replace("headline:", "headlin:", 1)
    write_lines(path, lines)
    stderr = build(tmp_path).stderr
    message, hint = message_and_hint(problem(stderr, HOTELS, index + 1, "headlin"))
    assert '"headlin" is not a known key' in message
    assert "spelling" in hint
    # the real key is then missing, and that is reported too (where the file's mapping starts)
    assert problem(stderr, HOTELS, first_key_line(lines), "headline") == "is missing. Add it"


def test_wrong_type_number_instead_of_text(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path)
    index = line_index(lines, "    text: ")  # the first sign's text
    lines[index] = "    text: 999\n"
    write_lines(path, lines)
    rest = problem(build(tmp_path).stderr, HOTELS, index + 1, "signs[0].text")
    message, hint = message_and_hint(rest)
    assert "should be text" in message
    assert "quotes" in hint


def test_poster_sign_that_does_not_exist(source_copy, source, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path)
    index = line_index(lines, "poster:") + 1
    first = source.venue("hotels").poster.signs[0]
    lines[index] = lines[index].replace(f"[{first}", "[no-such-sign", 1)
    write_lines(path, lines)
    message, hint = message_and_hint(problem(build(tmp_path).stderr, HOTELS, index + 1, "poster.signs[0]"))
    assert '"no-such-sign", which does not exist' in message
    assert "Use one of" in hint and first in hint


def test_card_sign_that_does_not_exist(source_copy, source, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path)
    card = line_index(lines, "card:")
    index = line_index(lines, "  signs: [", after=card)
    first = source.venue("hotels").card.signs[0]
    lines[index] = lines[index].replace(f"[{first}", "[no-such-sign", 1)
    write_lines(path, lines)
    message, hint = message_and_hint(problem(build(tmp_path).stderr, HOTELS, index + 1, "card.signs[0]"))
    assert '"no-such-sign", which does not exist' in message
    assert "Use one of" in hint


def test_duplicate_sign_ids_in_a_venue(source_copy, source, tmp_path):
    venue = source.venue("hotels")
    # the second sign takes the first sign's id; pick a second sign no card or poster refers to
    assert venue.signs[1].id not in venue.card.signs
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path)
    index = line_index(lines, f"  - id: {venue.signs[1].id}")
    lines[index] = f"  - id: {venue.signs[0].id}\n"
    write_lines(path, lines)
    message, hint = message_and_hint(problem(build(tmp_path).stderr, HOTELS, index + 1, "signs[1].id"))
    assert f'"{venue.signs[0].id}" is used twice' in message
    assert hint


@pytest.mark.parametrize("folder, name", [("venues", "libraries.yml"), ("venues", "libraries.YAML"),
                                          ("areas", "north-borough.yml"), ("translations", "pl.yml")])
def test_a_yaml_file_with_another_ending_is_named_not_skipped(source_copy, tmp_path, folder, name):
    # Copied from a file that loads, so only its name can be at fault.
    example = {"venues": "venues/hotels.yaml", "areas": "areas/example-borough.yaml",
               "translations": "translations/cy.yaml"}[folder]
    shutil.copy(source_copy / example, source_copy / folder / name)
    stem = name.rsplit(".", 1)[0]
    message, hint = message_and_hint(problem(build(tmp_path).stderr, f"source/{folder}/{name}"))
    assert "is not read" in message
    assert f"Rename it {stem}.yaml" in hint


def test_venue_file_name_that_is_not_an_id(source_copy, tmp_path):
    shutil.copy(source_copy / "venues" / "hotels.yaml", source_copy / "venues" / "Hotels_2.yaml")
    message, hint = message_and_hint(problem(build(tmp_path).stderr, "source/venues/Hotels_2.yaml"))
    assert '"Hotels_2" is not a valid venue id' in message
    assert "lowercase" in hint


@pytest.mark.parametrize("content, says", [
    ("", "is empty"),
    ("  \n\n", "is empty"),
    ("# only a comment\n", "holds no values"),
], ids=["empty", "blank-lines", "only-comments"])
def test_empty_file(source_copy, tmp_path, content, says):
    (source_copy / "venues" / "gyms.yaml").write_text(content, encoding="utf-8")
    message, hint = message_and_hint(problem(build(tmp_path).stderr, "source/venues/gyms.yaml"))
    assert message == says
    assert hint


def test_not_utf8(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = path.read_bytes().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(b"staff:"))
    lines[index] = b"staff: Caf\xe9 staff\n"  # Latin-1, not UTF-8
    path.write_bytes(b"".join(lines))
    message, hint = message_and_hint(problem(build(tmp_path).stderr, HOTELS, index + 1))
    assert "is not UTF-8 text" in message
    assert "UTF-8" in hint


def test_alias_bomb_is_refused_quickly(source_copy, tmp_path):
    """Billion laughs: 9 levels of 9 aliases would expand to 9**10 values."""
    levels = ["&l0 [" + ", ".join(["lol"] * 9) + "]"]
    levels += [f"&l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 10)]
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path) + ["lol: [" + ", ".join(levels) + "]\n"]
    write_lines(path, lines)
    started = time.monotonic()
    # A separate process, so that a regression hangs or eats memory there, not in pytest.
    completed = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "make_materials.py"), "build", "--source", "source", "--out", "out",
         "--product", "wallet-card"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 10, "the alias bomb was expanded far too long before being refused"
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
    assert not (tmp_path / "out").exists()
    rest = problem(completed.stderr, HOTELS, len(lines), None)
    assert rest.startswith("lol")
    message, hint = message_and_hint(rest)
    assert "expands to more than" in message
    assert "aliases" in hint


def test_missing_required_key(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path)
    del lines[line_index(lines, "headline:")]
    write_lines(path, lines)
    # a missing key is reported where its mapping (the whole file) starts
    message, hint = message_and_hint(problem(build(tmp_path).stderr, HOTELS, first_key_line(lines), "headline"))
    assert message == "is missing"
    assert hint


def test_several_errors_in_different_files_are_reported_at_once(source_copy, tmp_path):
    parks = source_copy / "venues" / "parks.yaml"
    parks_lines = read_lines(parks)
    parks_index = line_index(parks_lines, "headline:")
    parks_lines[parks_index] = parks_lines[parks_index].replace("headline:", "headlin:", 1)
    write_lines(parks, parks_lines)
    gyms = source_copy / "venues" / "gyms.yaml"
    gyms_lines = read_lines(gyms)
    gyms_index = line_index(gyms_lines, "    text: ")
    gyms_lines[gyms_index] = "    text: 999\n"
    write_lines(gyms, gyms_lines)

    stderr = build(tmp_path).stderr
    assert "is not a known key" in problem(stderr, "source/venues/parks.yaml", parks_index + 1, "headlin")
    assert "is missing" in problem(stderr, "source/venues/parks.yaml", first_key_line(parks_lines), "headline")
    assert "should be text" in problem(stderr, "source/venues/gyms.yaml", gyms_index + 1, "signs[0].text")
    assert "the source has 3 problems" in stderr


def test_other_source_files_are_checked_too(source_copy, tmp_path):
    """organisation.yaml and content.yaml get the same file:line: field reporting."""
    organisation = source_copy / "organisation.yaml"
    org_lines = read_lines(organisation)
    org_index = line_index(org_lines, "phone:")
    org_lines[org_index] = 'phone: "call us"\n'
    write_lines(organisation, org_lines)
    content = source_copy / "content.yaml"
    content_lines = read_lines(content)
    content_index = line_index(content_lines, "reviewed:")
    content_lines[content_index] = "reviewed: last Tuesday\n"
    write_lines(content, content_lines)

    stderr = build(tmp_path).stderr
    assert "is not a phone number" in problem(stderr, "source/organisation.yaml", org_index + 1, "phone")
    assert "should be a date" in problem(stderr, "source/content.yaml", content_index + 1, "reviewed")


def test_a_byte_order_mark_is_accepted(source_copy):
    path = source_copy / "venues" / "hotels.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = run_cli("check", "--source", "source", "--no-render")
    assert result.exit_code == 0, result.stderr


def _link_venue_outside(source_copy, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    shutil.copy(source_copy / "venues" / "hotels.yaml", outside)
    (source_copy / "venues" / "linked.yaml").symlink_to(outside)


def test_a_venue_file_linking_outside_the_source_is_refused(source_copy, tmp_path):
    _link_venue_outside(source_copy, tmp_path)
    stderr = build(tmp_path).stderr
    assert "links to a file outside the source folder" in stderr
    assert "the source has 1 problem;" in stderr


def test_a_venue_file_linking_outside_the_source_is_named_by_its_link(source_copy, tmp_path):
    _link_venue_outside(source_copy, tmp_path)
    message, hint = message_and_hint(problem(build(tmp_path).stderr, "source/venues/linked.yaml"))
    assert "outside the source folder" in message
    assert hint


def test_a_mistake_in_one_venue_is_not_blamed_on_another(source_copy, tmp_path):
    path = source_copy / "venues" / "hotels.yaml"
    lines = read_lines(path)
    index = line_index(lines, "    text: ")
    lines[index] = "    text: 999\n"
    write_lines(path, lines)
    stderr = build(tmp_path).stderr
    problem(stderr, HOTELS, index + 1, "signs[0].text")
    assert "hostels.yaml" not in stderr
    assert "the source has 1 problem;" in stderr
