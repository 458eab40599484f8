"""Mistakes in source/: each is reported as `file:line:col: field: message. hint`,
with exit status 1, no traceback, and nothing written.

Most mistakes are data, one folder each under tests/testdata/source_errors/<case>/:

- `edit.yaml` says what the mistake is (`mistake:`), which file under source/ it
  is made in (`file:`) and how, with one of:
  `replace: {old: ..., new: ...}` (the old text must be found exactly once),
  `replace_line: {starts: ..., new: ...}` or `delete_line: ...` (the one line
  that starts with this text, indentation included), `append: ...`,
  `content: ...` (the file's whole new text) or `copy_of: <file under source/>`;
  `encoding: latin-1` writes the edited file in that encoding instead of UTF-8.
- `expected-stderr.txt` is the whole stderr of `make-materials check --no-render`
  on a fresh copy of the shipped source with that edit made (run from the
  copy's parent folder, so messages name `source/...`); the exit status must be
  1 and stdout empty.

An edit whose old text is no longer in the shipped source fails its case, so a
stale case is caught instead of silently passing. When the shipped source
changes and only line numbers move, rewrite the expected files from the actual
output and review the diff with git:

    .venv/bin/python -m pytest tests/test_source_errors.py --refresh-expected
    git diff tests/testdata/source_errors/

The Python tests below are what data cannot say: `build` and `check` with
mistakes in several files at once (whole stderr), a usage error (exit 2), a
runaway alias expansion in its own process, a byte order mark that is accepted
and a venue file linking outside the source folder.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT_DIR, run_cli

CASES_DIR = Path(__file__).resolve().parent / "testdata" / "source_errors"
EXPECTED = "expected-stderr.txt"
ACTIONS = ("replace", "replace_line", "delete_line", "append", "content", "copy_of")


# --- making one mistake in a copy of the source -------------------------------------------

def make_mistake(source_dir: Path, edit: dict, where: str = "the edit") -> int:
    """Make the mistake `edit` describes (see the module docstring) in `source_dir`.
    Returns the 1-based line where the edit starts (1 for a whole file)."""
    unknown = sorted(set(edit) - {"mistake", "file", "encoding", *ACTIONS})
    actions = [key for key in ACTIONS if key in edit]
    if unknown or len(actions) != 1 or "file" not in edit:
        pytest.fail(f"{where}: needs `file:` and one of {', '.join(ACTIONS)}; "
                    f"unknown keys: {unknown or 'none'}, actions: {actions or 'none'}")
    action, value = actions[0], edit[actions[0]]
    path = source_dir / edit["file"]
    line = 1
    if action == "content":
        text = value
    elif action == "copy_of":
        if path.exists():
            pytest.fail(f"{where}: source/{edit['file']} exists already in the shipped source")
        text = (source_dir / value).read_text(encoding="utf-8")
    else:
        if not path.is_file():
            pytest.fail(f"{where}: source/{edit['file']} is not in the shipped source")
        text = path.read_text(encoding="utf-8")
        if action == "replace":
            count = text.count(value["old"])
            if count != 1:
                pytest.fail(f"{where}: the old text is found {count} times in source/{edit['file']}, not once: "
                            f"update the edit to the shipped source\n{value['old']!r}")
            line = text[:text.index(value["old"])].count("\n") + 1
            text = text.replace(value["old"], value["new"])
        elif action in ("replace_line", "delete_line"):
            starts = value["starts"] if action == "replace_line" else value
            lines = text.splitlines(keepends=True)
            found = [index for index, each in enumerate(lines) if each.startswith(starts)]
            if len(found) != 1:
                pytest.fail(f"{where}: {len(found)} lines of source/{edit['file']} start with the text, not one: "
                            f"update the edit to the shipped source\n{starts!r}")
            line = found[0] + 1
            lines[found[0]:found[0] + 1] = [value["new"] + "\n"] if action == "replace_line" else []
            text = "".join(lines)
        else:  # append
            line = text.count("\n") + 1
            text += value
    path.write_bytes(text.encode(edit.get("encoding", "utf-8")))
    return line


def cases() -> list:
    return [pytest.param(folder, id=folder.name) for folder in sorted(CASES_DIR.iterdir()) if folder.is_dir()]


@pytest.mark.parametrize("case", cases())
def test_source_error_case(case, source_copy, refresh_expected):
    edit = yaml.safe_load((case / "edit.yaml").read_text(encoding="utf-8"))
    assert edit.get("mistake"), f"{case.name}/edit.yaml: say what the mistake is in `mistake:`"
    make_mistake(source_copy, edit, f"{case.name}/edit.yaml")
    result = run_cli("check", "--source", "source", "--no-render")
    assert result.exit_code == 1, f"{edit['mistake']}: not refused\n{result.stderr}"
    assert result.stdout == ""
    expected = case / EXPECTED
    if refresh_expected:
        expected.write_text(result.stderr, encoding="utf-8")
        return
    assert expected.is_file(), f"{case.name} has no {EXPECTED}: run with --refresh-expected and review it"
    assert result.stderr == expected.read_text(encoding="utf-8"), (
        f"{case.name} ({edit['mistake']}): stderr differs from {EXPECTED}; if the shipped source changed and "
        f"only line numbers moved, run with --refresh-expected and review the diff")


# Cases whose message README's "Changing the content" quotes in full.
README_CASES = ("unquoted-colour", "unknown-key", "poster-too-few-signs", "venue-quiz-one-question")


def test_the_readme_quotes_these_messages_as_check_prints_them():
    """After --refresh-expected moves a line number, the README says so too."""
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    for case in README_CASES:
        message = (CASES_DIR / case / EXPECTED).read_text(encoding="utf-8").splitlines()[0].removeprefix("error: ")
        assert f"`{message}`" in readme, f"README does not quote {case}'s message as it is: {message}"


def test_an_edit_that_no_longer_matches_the_source_fails(source_copy):
    edit = {"mistake": "stale", "file": "venues/hotels.yaml", "replace": {"old": "no such text", "new": ""}}
    with pytest.raises(pytest.fail.Exception, match="found 0 times in source/venues/hotels.yaml"):
        make_mistake(source_copy, edit)
    edit["replace"]["old"] = "  - id: "  # every sign, action and note
    with pytest.raises(pytest.fail.Exception, match=r"found \d+ times"):
        make_mistake(source_copy, edit)


# --- the whole stderr of the commands -----------------------------------------------------

def test_build_reports_every_problem_in_every_file_and_writes_nothing(source_copy, tmp_path):
    gyms = make_mistake(source_copy, {"file": "venues/gyms.yaml",
                                      "replace_line": {"starts": "name:", "new": "name: 999"}})
    parks = make_mistake(source_copy, {"file": "venues/parks.yaml", "replace": {"old": "headline:", "new": "headlin:"}})
    result = run_cli("build", "--source", "source", "--out", "out", "--product", "wallet-card")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert not (tmp_path / "out").exists(), "something was written despite a source error"
    # The misspelt key is one problem: its real key, missing, goes with it.
    assert result.stderr.splitlines() == [
        f'error: source/venues/gyms.yaml:{gyms}:7: name: should be text. Put the value in quotes, e.g. "999"',
        f'error: source/venues/parks.yaml:{parks}:1: headlin: "headlin" is not a known key. '
        f"Did you mean headline? (headline is missing)",
        "Error: the source has 2 problems; nothing was written",
    ]


def test_check_reports_mistakes_in_content_and_organisation(source_copy):
    """`check` (rendering too, the default) stops at the source's problems, in every file."""
    content = make_mistake(source_copy, {"file": "content.yaml",
                                         "replace_line": {"starts": "reviewed:", "new": "reviewed: last Tuesday"}})
    organisation = make_mistake(source_copy, {"file": "organisation.yaml",
                                              "replace_line": {"starts": "phone:", "new": 'phone: "call us"'}})
    result = run_cli("check", "--source", "source")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: source/content.yaml:{content}:11: reviewed: should be a date. Write it as YYYY-MM-DD",
        f"error: source/organisation.yaml:{organisation}:8: phone: is not a phone number. "
        f'Write digits and spaces only, in quotes, e.g. "01632 960123"',
        "Error: the source has 2 problems; nothing was written",
    ]


def test_an_unknown_venue_is_a_usage_error(source_copy):
    result = run_cli("check", "--source", "source", "--no-render", "--venue", "nonsense")
    assert result.exit_code == 2
    assert result.stdout == ""
    venues = ", ".join(sorted(path.stem for path in (source_copy / "venues").glob("*.yaml")))
    assert result.stderr.splitlines() == [
        "Usage: make-materials check [OPTIONS]",
        "Try 'make-materials check --help' for help.",
        "",
        f"Error: Invalid value for --venue: unknown venue nonsense; choose from: {venues}",
    ]


# --- what data cannot say ------------------------------------------------------------------

def test_alias_bomb_is_refused_quickly(source_copy, tmp_path):
    """Billion laughs: 9 levels of 9 aliases would expand to 9**10 values."""
    levels = ["&l0 [" + ", ".join(["lol"] * 9) + "]"]
    levels += [f"&l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 10)]
    line = make_mistake(source_copy, {"file": "venues/hotels.yaml", "append": "lol: [" + ", ".join(levels) + "]\n"})
    started = time.monotonic()
    # A separate process, so that a regression hangs or eats memory there, not in pytest.
    completed = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "make_materials.py"), "build", "--source", "source", "--out", "out",
         "--product", "wallet-card"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 10, "the alias bomb was expanded far too long before being refused"
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout == ""
    assert not (tmp_path / "out").exists()
    # where expanding stops (the column, the item, the limit) is the loader's business
    problem, summary = completed.stderr.splitlines()
    assert re.fullmatch(rf"error: source/venues/hotels\.yaml:{line}:\d+: lol(\[\d+\])*: the file expands to "
                        r"more than \d+ values\. Remove YAML anchors and aliases \(& and \*\): write each value "
                        r"out in full", problem), problem
    assert summary == "Error: the source has 1 problem; nothing was written"


def test_a_byte_order_mark_is_accepted(source_copy):
    path = source_copy / "venues" / "hotels.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = run_cli("check", "--source", "source", "--no-render")
    assert result.exit_code == 0, result.stderr


def test_a_venue_file_linking_outside_the_source_is_refused_by_its_name(source_copy, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    shutil.copy(source_copy / "venues" / "hotels.yaml", outside)
    (source_copy / "venues" / "linked.yaml").symlink_to(outside)
    result = run_cli("build", "--source", "source", "--out", "out", "--product", "wallet-card")
    assert result.exit_code == 1
    assert not (tmp_path / "out").exists()
    assert result.stderr.splitlines() == [
        "error: source/venues/linked.yaml: links to a file outside the source folder. "
        "Copy the file into source/venues/ instead of linking to it",
        "Error: the source has 1 problem; nothing was written",
    ]
