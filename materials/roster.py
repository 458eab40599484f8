"""Training rosters: the attendees of one session, from a spreadsheet saved as
CSV (comma-, semicolon- or tab-separated), and the fonts their names need.

A roster is personal data. Its names go into the certificates and sign-in
sheet in the roster's own output folder, and nowhere else: not into the
build's manifest, not into progress messages. Messages name a row by its
number (as the spreadsheet shows it, the header being row 1) and, when a
character cannot be printed, by that character: never by its text.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError, SourceProblem

# Column -> the headings a spreadsheet may give it (compared in lower case,
# with "_" and "-" read as spaces). A name is one column, or First name and
# Surname.
HEADINGS = {
    "name": ("name", "full name", "attendee", "attendee name"),
    "first name": ("first name", "firstname", "first names", "forename", "forenames", "given name", "given names"),
    "surname": ("surname", "last name", "lastname", "family name"),
    "organisation": ("organisation", "organization", "company", "employer"),
    "date": ("date", "date attended"),
}
EXPECTED = "name (or First name and Surname), organisation, date"
DELIMITERS = (",", ";", "\t")
MAX_NAME_LENGTH = 120
# Larger than any session's roster: a file past these is not a roster (an
# export of a whole database, the wrong file), refused before it is read.
MAX_ROWS = 100_000
MAX_BYTES = 20_000_000


@dataclass(frozen=True)
class Attendee:
    name: str
    organisation: str
    date: dt.date | None  # a row's own date, when the roster has a date column
    row: int = 0          # its row in the roster (the header is row 1); 0 when not from a file
    # The script fonts (SCRIPT_FONTS keys) its name and organisation need.
    fonts: tuple[str, ...] = ()


# --- dates ------------------------------------------------------------------------

MONTHS = {name.lower(): number for number, name in enumerate(
    ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"), 1)}
MONTHS.update({name[:3]: number for name, number in list(MONTHS.items())})
MONTHS["sept"] = 9
DATE_FORMS = "1/12/2026, 01/12/2026, 1 December 2026 or 2026-12-01"


def parse_date(text: str) -> dt.date:
    """A date as a UK user writes it: 1/12/2026 and 01/12/2026 (day first,
    also with . or -), 1 December 2026 (or 1 Dec 2026, 1st December 2026),
    and 2026-12-01. Raises ValueError saying what is wrong."""
    text = " ".join(text.split())
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        year, month, day = (int(part) for part in match.groups())
    elif match := re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})", text):
        day, month, year = int(match[1]), int(match[3]), match[4]
        if len(year) == 2:
            raise ValueError(f'"{text}" has a two-figure year: write the year in full, e.g. 1/12/2026')
        year = int(year)
    elif match := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)? ([A-Za-z]+)\.?,? (\d{4})", text, re.IGNORECASE):
        day, month_name, year = int(match[1]), match[2].lower(), int(match[3])
        if month_name not in MONTHS:
            raise ValueError(f'"{text}" is not a date: "{match[2]}" is not the name of a month')
        month = MONTHS[month_name]
    else:
        raise ValueError(f'"{text}" is not a date written as {DATE_FORMS}')
    if not 1 <= month <= 12:
        raise ValueError(f'"{text}" is not a date: there is no month {month} (the day comes first: '
                         '1/12/2026 is 1 December 2026)')
    try:
        return dt.date(year, month, day)
    except ValueError:
        days = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day if year >= 1 else 0
        raise ValueError(f'"{text}" is not a day of the calendar: {dt.date(max(year, 1), month, 1):%B} {year} '
                         f'has {days} days') from None


# --- reading ------------------------------------------------------------------------

def _heading(cell: str) -> str | None:
    """The column a header cell names, or None."""
    words = " ".join(cell.replace("_", " ").replace("-", " ").strip().strip(":").lower().split())
    return next((column for column, headings in HEADINGS.items() if words in headings), None)


def _delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most known columns (the
    most cells on a tie): spreadsheets save CSV with commas, semicolons (in
    locales whose decimal mark is a comma) or tabs."""
    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        return sum(_heading(cell) is not None for cell in cells), len(cells)
    return max(DELIMITERS, key=score)


def read_roster(path: Path) -> list[Attendee]:
    """The attendees, in roster order. Raises SourceError listing every problem,
    each with its row number as a spreadsheet shows it (the header is row 1).
    No message quotes a cell, except the header row when it is not understood
    (what the trainer typed as column headings): a roster holds personal data."""
    display = str(path)
    problems: list[SourceProblem] = []

    def problem(row: int | None, field: str, message: str, hint: str = "") -> None:
        problems.append(SourceProblem(display, row, None, field, message, hint))

    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SourceError([SourceProblem(
                display, None, None, "", f"is {size / 1e6:.1f} MB, more than a roster can be (at most "
                f"{MAX_BYTES / 1e6:.0f} MB)", "Is it the right file? A roster lists one session's attendees")])
        raw = path.read_bytes()
    except OSError as error:
        raise SourceError([SourceProblem(display, None, None, "", f"cannot be read ({error.strerror})")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = raw[: error.start].count(b"\n") + 1
        raise SourceError([SourceProblem(display, row, None, "", "is not UTF-8 text",
                                         'Save it from your spreadsheet as "CSV UTF-8"')]) from None

    delimiter = _delimiter(text.split("\n", 1)[0])
    rows = sum(1 for line in io.StringIO(text) if line.strip())
    if rows - 1 > MAX_ROWS:  # the header is not an attendee
        raise SourceError([SourceProblem(display, None, None, "", f"has {rows - 1:,} rows below the header, more "
                                         f"than a roster can have (at most {MAX_ROWS:,})",
                                         "Split it into several rosters")])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _read_rows(reader, problems, problem, delimiter)
    except csv.Error as error:
        raise SourceError([SourceProblem(display, reader.line_num, None, "", f"is not a readable CSV file ({error})",
                                         'Save it from your spreadsheet as "CSV UTF-8"')]) from None


def _header_columns(header: list[str], problem, delimiter: str) -> list[str | None]:
    """The column each header cell names (None for an empty one); reports a
    header it does not understand, shown back with the columns expected."""
    columns = [_heading(cell) if cell.strip() else None for cell in header]
    if not any(columns):
        # Nothing names a column: the first row may be an attendee (no header
        # row), so it is not shown back.
        problem(1, "", "names none of the columns (is the header row missing?)",
                f"The first row must name the columns: {EXPECTED}")
        return columns
    shown = (delimiter if delimiter != "\t" else " [tab] ").join(cell.strip() for cell in header)
    for index, (cell, column) in enumerate(zip(header, columns)):
        if cell.strip() and column is None:
            problem(1, f"column {index + 1}", f'"{cell.strip()}" is not a column of a roster (the header row '
                    f'reads "{shown}")', f"The columns are: {EXPECTED}")
        elif column and columns.index(column) != index:
            problem(1, f"column {index + 1}", f'"{cell.strip()}" names the {column} column again', "Keep one of them")
    if "name" in columns and ("first name" in columns or "surname" in columns):
        problem(1, "", f'has both a name column and a {"first name" if "first name" in columns else "surname"} column',
                "Keep either name, or First name and Surname")
    elif not {"name", "first name", "surname"} & set(columns):
        problem(1, "", f'has no column for the name (the header row reads "{shown}")',
                f"Add a column headed name, or First name and Surname. The columns are: {EXPECTED}")
    return columns


def _read_rows(reader, problems: list[SourceProblem], problem, delimiter: str) -> list[Attendee]:
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        problem(1, "", "has no header row", f"The first row must name the columns: {EXPECTED}")
        raise SourceError(problems)
    columns = _header_columns(header, problem, delimiter)
    if problems:
        raise SourceError(problems)

    def cell(values: dict, column: str) -> str:
        return unicodedata.normalize("NFC", " ".join(values.get(column, "").split()))

    name_field = "name" if "name" in columns else "/".join(
        heading for column, heading in (("first name", "First name"), ("surname", "Surname")) if column in columns)
    attendees: list[Attendee] = []
    seen: dict[tuple[str, str], int] = {}
    for row_number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets leave blank rows at the end
        if len(cells) > len(columns) and any(extra.strip() for extra in cells[len(columns):]):
            problem(row_number, "", f"has {len(cells)} cells but the header names {len(columns)} columns",
                    f"Put any {'comma' if delimiter == ',' else 'semicolon' if delimiter == ';' else 'tab'} "
                    "inside a name in double quotes")
            continue
        values = {column: value for column, value in zip(columns, cells) if column}
        name = cell(values, "name") or " ".join(part for part in (cell(values, "first name"), cell(values, "surname"))
                                                if part)
        organisation = cell(values, "organisation")
        if not name:
            problem(row_number, name_field, "is empty", "Fill in the attendee's name, or delete the row")
            continue
        if len(name) > MAX_NAME_LENGTH:
            problem(row_number, name_field, f"is longer than {MAX_NAME_LENGTH} characters", "Shorten it")
            continue
        row_date = None
        if values.get("date", "").strip():
            try:
                row_date = parse_date(values["date"])
            except ValueError as error:
                problem(row_number, "date", str(error), f"Write it as {DATE_FORMS}")
                continue
        key = (name.casefold(), organisation.casefold())
        if key in seen:
            problem(row_number, "", f"repeats row {seen[key]}", "Delete one of the two rows")
            continue
        seen[key] = row_number
        attendees.append(Attendee(name, organisation, row_date, row_number))
    if not attendees and not problems:
        problem(None, "", "lists nobody", "Add one row per attendee below the header")
    if problems:
        raise SourceError(problems)
    return attendees


# --- fonts ------------------------------------------------------------------------------

# The fonts a roster's names may need beyond the layouts' own (layouts/common/
# fonts.css: Latin, Greek, Cyrillic, Arabic), each declared in
# layouts/common/scripts/<key>.css and loaded only by a file whose text needs
# it, in the order of the roster layouts' font stack: a character is printed
# in the first font that has it. CJK fonts are large (10 to 18 MB each, and
# subset to the characters printed): a roster with no such name never loads them.
SCRIPT_FONTS = ("hebrew", "devanagari", "bengali", "gurmukhi", "gujarati", "tamil", "thai",
                "chinese-simplified", "chinese-traditional", "japanese", "korean")
FONT_URL = re.compile(r"""url\(\s*["']?(fontpkg:[^"')]+)["']?\s*\)""")


@functools.cache
def _font_files(stylesheet: Path) -> tuple[Path, ...]:
    """The font files a stylesheet's @font-face rules load (through the
    layouts' own fetcher: the same files WeasyPrint is given)."""
    from urllib.parse import unquote

    from .fetch import ProjectFetcher

    fetcher = ProjectFetcher(stylesheet.parent)
    return tuple(fetcher.resolve(unquote(url)) for url in FONT_URL.findall(stylesheet.read_text(encoding="utf-8")))


@functools.cache
def _characters(font_file: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font_file, lazy=True) as font:
        return frozenset(font.getBestCmap())


@dataclass(frozen=True)
class Unprintable:
    """A text no font of the roster layouts has every character of."""

    field: str
    character: str

    def __str__(self) -> str:
        return f"'{self.character}' (U+{ord(self.character):04X})"


class RosterFonts:
    """Which script fonts a text needs, and which of its characters no font has."""

    def __init__(self, layouts_dir: Path):
        self.common = layouts_dir / "common"
        self.base = frozenset().union(*map(_characters, _font_files(self.common / "fonts.css")))

    def sheet(self, key: str) -> Path:
        return self.common / "scripts" / f"{key}.css"

    def _covering(self, character: int) -> str | None:
        for key in SCRIPT_FONTS:
            if any(character in _characters(path) for path in _font_files(self.sheet(key))):
                return key
        return None

    def needs(self, text: str) -> tuple[tuple[str, ...], str | None]:
        """The script fonts `text` needs (in stack order), and its first
        character that none has (None when every one prints)."""
        needed: set[str] = set()
        for character in dict.fromkeys(text):
            if character.isspace() or ord(character) in self.base:
                continue
            key = self._covering(ord(character))
            if key is None:
                return (), character
            needed.add(key)
        return tuple(key for key in SCRIPT_FONTS if key in needed), None

    def check(self, attendees: list[Attendee]) -> tuple[list[Attendee], list[tuple[Attendee, Unprintable]]]:
        """The attendees whose name and organisation print, each with the fonts
        it needs; and those that cannot, with the first character that cannot."""
        printable, unprintable = [], []
        for attendee in attendees:
            fonts: set[str] = set()
            for field, text in (("name", attendee.name), ("organisation", attendee.organisation)):
                needed, missing = self.needs(text)
                if missing:
                    unprintable.append((attendee, Unprintable(field, missing)))
                    break
                fonts.update(needed)
            else:
                printable.append(_with_fonts(attendee, fonts))
        return printable, unprintable


def _with_fonts(attendee: Attendee, fonts: set[str]) -> Attendee:
    from dataclasses import replace

    return replace(attendee, fonts=tuple(key for key in SCRIPT_FONTS if key in fonts))
