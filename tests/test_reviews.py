"""Facts to check before a print run (issue 22): `check_before_print:` and
`reviewed:` in the source, listed by `check` at their file and line, counted
by `build`, and failures of `build --strict` and `check --strict`, as are the
files' own preflight warnings.

The dates in these tests are relative to the real today, as the command line's
are; `materials.reviews.due` and `load_source` take `today` for the tests of
the boundaries.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from conftest import run_cli
from materials.errors import SourceError
from materials.reviews import Review, due
from materials.source import load_source
from test_preflight import LONG_SIGN_WORDS, set_card_sign

CARD_BUILD = ("--venue", "hotels", "--product", "wallet-card", "--variant", "office")
LAW_REVIEWED = "    source: modern-slavery-act-2015\n    reviewed: 2026-12-04\n"


def months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, min(day.day, 28))


def marked_lines(source_dir: Path) -> list[str]:
    """`file:line` of every `check_before_print:` in the source, as the command line names them."""
    found = []
    for path in sorted(source_dir.rglob("*.yaml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("check_before_print:"):
                found.append(f"source/{path.relative_to(source_dir).as_posix()}:{number}:")
    return found


def unmark(source_dir: Path) -> None:
    """Every item checked: each `check_before_print:` (and its folded lines) removed."""
    for path in source_dir.rglob("*.yaml"):
        kept, dropping = [], None
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            indent = len(line) - len(line.lstrip())
            if dropping is not None and line.strip() and indent > dropping:
                continue
            dropping = indent if line.lstrip().startswith("check_before_print:") else None
            if dropping is None:
                kept.append(line)
        path.write_text("".join(kept), encoding="utf-8")


def age_the_law(source_dir: Path, reviewed: dt.date) -> int:
    """Give the trafficking law this `reviewed:` date; return that line's number."""
    path = source_dir / "content.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(LAW_REVIEWED) == 1
    path.write_text(text.replace(LAW_REVIEWED, LAW_REVIEWED.replace("2026-12-04", reviewed.isoformat())),
                    encoding="utf-8")
    return text[:text.index(LAW_REVIEWED)].count("\n") + 2


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


# --- which items are due, on a given day --------------------------------------------------

def review(reviewed: dt.date | None = None, why: str | None = None, field: str = "laws[0]") -> Review:
    return Review("source/content.yaml", 12, 5, field, "Modern Slavery Act 2015", why, reviewed)


@pytest.mark.parametrize("reviewed, today, is_due", [
    (dt.date(2025, 12, 4), dt.date(2026, 12, 4), False),   # 12 months to the day
    (dt.date(2025, 12, 4), dt.date(2026, 12, 5), True),    # a day more
    (dt.date(2025, 11, 4), dt.date(2026, 12, 4), True),    # 13 months
    (dt.date(2024, 2, 29), dt.date(2025, 2, 28), False),   # a leap day's anniversary is the 28th
    (dt.date(2024, 2, 29), dt.date(2025, 3, 1), True),
], ids=["12-months", "12-months-and-a-day", "13-months", "leap-day", "leap-day-and-a-day"])
def test_a_reviewed_date_is_due_when_more_than_12_months_old(reviewed, today, is_due):
    assert due([review(reviewed)], today) == ([
        f"source/content.yaml:12:5: laws[0] (Modern Slavery Act 2015): reviewed {reviewed.isoformat()}, more than "
        "12 months ago; check it against its source, then update reviewed:"] if is_due else [])


def test_a_marked_item_is_due_whatever_its_date_and_is_one_line():
    today = dt.date(2026, 12, 4)
    mark = review(why="Not confirmed: check the Act")
    assert due([mark, review(today)], today) == [
        "source/content.yaml:12:5: laws[0] (Modern Slavery Act 2015): check before printing: Not confirmed: check the Act"]
    assert due([mark, review(dt.date(2020, 1, 1))], today) == [
        "source/content.yaml:12:5: laws[0] (Modern Slavery Act 2015): reviewed 2020-01-01, more than 12 months ago; "
        "check before printing: Not confirmed: check the Act"]


def test_a_reviewed_date_after_today_is_a_source_error(source_copy):
    reviewed = load_source(Path("source")).content.reviewed
    load_source(Path("source"), today=reviewed)  # the day itself is fine
    with pytest.raises(SourceError) as raised:
        load_source(Path("source"), today=reviewed - dt.timedelta(days=1))
    line = (source_copy / "content.yaml").read_text(encoding="utf-8").splitlines().index(
        f"reviewed: {reviewed.isoformat()}") + 1
    problems = [str(problem) for problem in raised.value.problems]
    assert problems[0] == (f"source/content.yaml:{line}:11: reviewed: {reviewed.isoformat()} is after today's date. "
                           "Write the date the item was last checked, as YYYY-MM-DD")
    # and each item reviewed that day, at its own line
    assert len(problems) == sum(text.count(f"reviewed: {reviewed.isoformat()}")
                                for text in (path.read_text(encoding="utf-8") for path in source_copy.rglob("*.yaml")))


# --- what the shipped source holds --------------------------------------------------------

def test_the_facts_not_confirmed_are_marked_check_before_print(source):
    """facts.md section 5's "Not confirmed as of 2026-12-04" that the materials
    print: the duty to report's start, and the helplines' opening hours."""
    routes = {route.id: route for route in source.content.routes}
    for route_id in ("nspcc-helpline", "childline", "crimestoppers", "modern-slavery-helpline"):
        assert "opening hours" in (routes[route_id].check_before_print or "").lower()
    duty = next(ref for ref in source.content.references if ref.id == "duty-to-report-2026")
    assert "not confirmed" in duty.check_before_print
    # every law and route was reviewed on the day the facts brief was checked
    for item in (*source.content.laws, *source.content.routes):
        assert item.reviewed == dt.date(2026, 12, 4), item.id


def test_check_lists_every_marked_item_at_its_file_and_line(source_copy):
    result = run_cli("check", "--source", "source", "--no-render")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    listed = warnings(result.stderr)
    expected = marked_lines(source_copy)
    assert len(expected) >= 5
    assert [re.match(r"warning: (.*?:\d+:)", line)[1] for line in listed] == expected
    nspcc = next(line for line in listed if "routes[2] (NSPCC Helpline): check before printing: " in line)
    assert "Opening hours not confirmed" in nspcc
    assert f"{len(expected)} items to check before printing: see README" in result.stderr

    strict = run_cli("check", "--source", "source", "--no-render", "--strict")
    assert strict.exit_code == 1
    assert warnings(strict.stderr) == listed
    assert strict.stderr.splitlines()[-1] == f"Error: --strict: {len(expected)} items to check before printing; " \
                                             "not ready to print"


# --- build: counted; with --strict, listed and a failure ----------------------------------

def test_build_strict_fails_on_a_reviewed_date_13_months_old(source_copy, tmp_path):
    unmark(source_copy)
    assert run_cli("check", "--source", "source", "--no-render", "--strict").exit_code == 0
    reviewed = months_before(dt.date.today(), 13)
    line = age_the_law(source_copy, reviewed)
    stale = (f"warning: source/content.yaml:{line}:15: laws[0] (Modern Slavery Act 2015, section 2 (human "
             f"trafficking)): reviewed {reviewed.isoformat()}, more than 12 months ago; check it against its source, "
             "then update reviewed:")
    out = tmp_path / "out"

    strict = run_cli("build", "--source", "source", "--out", out, *CARD_BUILD, "--strict")
    assert strict.exit_code == 1
    assert warnings(strict.stderr) == [stale]
    assert strict.stderr.splitlines()[-1] == ("Error: --strict: 1 item to check before printing; not ready to print, "
                                              "though the files were written")
    assert (out / "hotels" / "wallet-card.pdf").is_file()

    # Without --strict: built (here: nothing changed), one line counting it.
    plain = run_cli("build", "--source", "source", "--out", out, *CARD_BUILD)
    assert plain.exit_code == 0, plain.stderr
    assert "Nothing to build: all 2 files" in plain.stderr
    assert warnings(plain.stderr) == ["warning: 1 item to check before printing: `make-materials check --no-render` "
                                      "lists it, and `build --strict` fails on it."]
    # A build with nothing to do lists it from its record of the last build, as it was.
    again = run_cli("build", "--source", "source", "--out", out, *CARD_BUILD, "--strict")
    assert again.exit_code == 1
    assert "Nothing to build: all 2 files" in again.stderr
    assert warnings(again.stderr) == [stale]

    checked = run_cli("check", "--source", "source", "--no-render")
    assert checked.exit_code == 0
    assert warnings(checked.stderr) == [stale]


def test_build_strict_fails_on_a_files_warning_also_when_the_file_is_unchanged(source_copy, tmp_path):
    """--strict makes every warning a failure: a card whose signs had to shrink
    (a preflight warning) fails it, built now or before."""
    unmark(source_copy)
    set_card_sign(source_copy, " ".join(LONG_SIGN_WORDS))
    out = tmp_path / "out"
    plain = run_cli("build", "--source", "source", "--out", out, *CARD_BUILD)
    assert plain.exit_code == 0, plain.stderr
    shrunk = [line for line in plain.stderr.splitlines() if "warning: hotels/wallet-card.pdf: fit:" in line]
    assert shrunk

    strict = run_cli("build", "--source", "source", "--out", out, *CARD_BUILD, "--strict")
    assert strict.exit_code == 1
    assert "Warnings recorded for files kept unchanged:" in strict.stderr
    assert all(line in strict.stderr.splitlines() for line in shrunk)
    assert re.search(r"^Error: --strict: \d+ warnings? about the files; not ready to print", strict.stderr, re.M)

    checked = run_cli("check", "--source", "source", *CARD_BUILD, "--strict")
    assert checked.exit_code == 1
    assert re.search(r"^Error: --strict: \d+ warnings? about the files; not ready to print$", checked.stderr, re.M)
