"""Training rosters: the attendees of one session, from a CSV file.

A roster is personal data. Its names go into the certificates and sign-in
sheet in the roster's own output folder, and nowhere else: not into the
build's manifest, not into progress messages, not into file names.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError, SourceProblem

COLUMNS = ("name", "organisation", "date")
MAX_NAME_LENGTH = 120


@dataclass(frozen=True)
class Attendee:
    name: str
    organisation: str
    date: dt.date | None  # a row's own date, when the roster has a date column


def parse_date(text: str) -> dt.date:
    """YYYY-MM-DD, and nothing else: 03/04/2026 means different days to different people."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f'"{text}" is not a date written as YYYY-MM-DD')
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f'"{text}" is not a day of the calendar (check the month and the day)') from None


def read_roster(path: Path) -> list[Attendee]:
    """The attendees, in roster order. Raises SourceError listing every problem,
    each with its row number as a spreadsheet shows it (the header is row 1).
    No message quotes a cell: a roster holds personal data."""
    display = str(path)
    problems: list[SourceProblem] = []

    def problem(row: int | None, field: str, message: str, hint: str = "") -> None:
        problems.append(SourceProblem(display, row, None, field, message, hint))

    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SourceError([SourceProblem(display, None, None, "", f"cannot be read ({error.strerror})")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = raw[: error.start].count(b"\n") + 1
        raise SourceError([SourceProblem(display, row, None, "", "is not UTF-8 text",
                                         'Save it from your spreadsheet as "CSV UTF-8"')]) from None

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _read_rows(reader, problems, problem)
    except csv.Error as error:
        raise SourceError([SourceProblem(display, reader.line_num, None, "", f"is not a readable CSV file ({error})",
                                         'Save it from your spreadsheet as "CSV UTF-8"')]) from None


def _read_rows(reader, problems: list[SourceProblem], problem) -> list[Attendee]:
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        problem(1, "", "has no header row", "The first row must name the columns, e.g. name,organisation")
        raise SourceError(problems)
    columns = [cell.strip().lower() for cell in header]
    for index, column in enumerate(columns):
        # A known column is named; anything else may be an attendee's name in a
        # roster without a header row, so it is referred to by its position.
        if column and column not in COLUMNS:
            problem(1, f"column {index + 1}", "is not a known column (is the header row missing?)",
                    f"Head the columns {', '.join(COLUMNS)}")
        elif column and columns.index(column) != index:
            problem(1, column, "appears twice", "Keep one of them")
    if "name" not in columns:
        problem(1, "name", "column is missing", "Add a column headed name")
    if problems:
        raise SourceError(problems)

    attendees: list[Attendee] = []
    seen: dict[tuple[str, str], int] = {}
    for row_number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets leave blank rows at the end
        values = dict(zip(columns, (cell.strip() for cell in cells)))
        name = " ".join(values.get("name", "").split())
        organisation = " ".join(values.get("organisation", "").split())
        if len(cells) > len(columns):
            problem(row_number, "", f"has {len(cells)} cells but the header names {len(columns)} columns",
                    "Put any comma inside a name in double quotes")
            continue
        if not name:
            problem(row_number, "name", "is empty", "Fill in the attendee's name, or delete the row")
            continue
        if len(name) > MAX_NAME_LENGTH:
            problem(row_number, "name", f"is longer than {MAX_NAME_LENGTH} characters", "Shorten it")
            continue
        row_date = None
        if values.get("date"):
            try:
                row_date = parse_date(values["date"])
            except ValueError as error:
                problem(row_number, "date", str(error), "Write it as YYYY-MM-DD, e.g. 2026-11-25")
                continue
        key = (name.casefold(), organisation.casefold())
        if key in seen:
            problem(row_number, "", f"repeats row {seen[key]}", "Delete one of the two rows")
            continue
        seen[key] = row_number
        attendees.append(Attendee(name, organisation, row_date))
    if not attendees and not problems:
        problem(None, "", "lists nobody", "Add one row per attendee below the header")
    if problems:
        raise SourceError(problems)
    return attendees
