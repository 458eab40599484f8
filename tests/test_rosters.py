"""Rosters as trainers have them (issue 18, item 6): names in any script,
spreadsheets' own CSV dialects and headings, UK dates, certificates with the
session's length and a line to sign, sign-in sheets whose last page is never
one row alone, and rosters of any size made in pieces (one file, or one per
attendee with --split), refused past the limits before anything is made.

Every command's message and exit status are asserted as a trainer sees them;
no message quotes a name (personal data), only row numbers and characters."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
from pypdf import PdfReader

from conftest import LAYOUTS_DIR, SOURCE_DIR, files_under, page_texts, pdf_text, printed, run_cli
from materials import roster_files
from materials.jobs import Job, Session
from materials.preflight import pdf_ua_failures
from materials.roster import DATE_FORMS, RosterFonts, parse_date

EXPECTED = "name (or First name and Surname), organisation, date"
CERTIFICATES = "certificates-hotels-2026-11-25.pdf"

# A name in each script a UK roster may hold, with the font its letters print in.
SCRIPTS = {
    "Chinese": ("张伟", "Noto-Sans-SC"),
    "Chinese, traditional": ("陳大文", "Noto-Sans-SC"),
    "Japanese": ("さくら 髙橋", "Noto-Sans-SC"),
    "Korean": ("김민준", "Noto-Sans-KR"),
    "Hebrew": ("דוד כהן", "Noto-Sans-Hebrew"),
    "Greek": ("Ελένη Παπαδοπούλου", "Noto-Sans"),
    "Cyrillic": ("Иван Петров", "Noto-Sans"),
    "Devanagari": ("राहुल शर्मा", "Noto-Sans"),  # Noto Sans has Devanagari
    "Gujarati": ("ગીતા પટેલ", "Noto-Sans-Gujarati"),
    "Gurmukhi": ("ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", "Noto-Sans-Gurmukhi"),
    "Bengali": ("রাহুল আহমেদ", "Noto-Sans-Bengali"),
    "Tamil": ("முருகன்", "Noto-Sans-Tamil"),
    "Thai": ("สมชาย ใจดี", "Noto-Sans-Thai"),
    "Arabic": ("محمد علي", "Noto-Sans-Arabic"),
}


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def certificates(roster, out, *extra, date="2026-11-25", duration="60"):
    return run_cli("certificates", "--source", SOURCE_DIR, "--roster", roster, "--venue", "hotels", "--date", date,
                   "--trainer", "Sam Trainer", "--duration", duration, "--out", out, *extra)


def sign_in(out, *extra, date="2026-11-25"):
    return run_cli("sign-in", "--source", SOURCE_DIR, "--venue", "hotels", "--date", date, "--out", out, *extra)


def document_fonts(path) -> set[str]:
    """The font families a PDF embeds (subset tags and styles dropped: Noto-Sans-SC-Bold is Noto-Sans-SC)."""
    families = set()
    for page in PdfReader(path).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            base = str(font.get_object()["/BaseFont"]).lstrip("/").split("+", 1)[-1]
            families.add(base.removesuffix("-Bold").removesuffix("-Regular"))
    return families


def pdftotext(path, page: int | None = None, layout: bool = False) -> str:
    """A PDF's text as poppler reads it (with `layout`, each line as printed)."""
    options = (["-f", str(page), "-l", str(page)] if page else []) + (["-layout"] if layout else [])
    return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True).stdout


def no_names_in(result, names) -> None:
    for name in names:
        assert name not in result.stderr + result.stdout, "a message quotes a name"


# --- any script ---------------------------------------------------------------------------

def test_a_name_in_any_script_prints_in_its_own_font(tmp_path):
    roster = write(tmp_path / "session.csv", "name\n" + "".join(f"{name}\n" for name, _ in SCRIPTS.values()))
    result = certificates(roster, tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    pdf = tmp_path / "out" / CERTIFICATES
    assert len(PdfReader(pdf).pages) == len(SCRIPTS)
    fonts = document_fonts(pdf)
    for script, (name, family) in SCRIPTS.items():
        assert family in fonts, (script, sorted(fonts))
    for number, (name, _) in enumerate(SCRIPTS.values(), 1):
        if not any(0x0900 <= ord(character) <= 0x0E7F for character in name):  # Indic and Thai extract reordered
            assert printed(name, pdftotext(pdf, number)), name
    assert pdf_ua_failures(pdf.read_bytes()) == []
    no_names_in(result, [name for name, _ in SCRIPTS.values()])


def test_a_certificate_with_a_chinese_name_stays_small(tmp_path):
    """The CJK fonts are 10 to 18 MB: a certificate embeds the few glyphs it prints."""
    roster = write(tmp_path / "session.csv", "name,organisation\n张伟,北京饭店\n")
    assert certificates(roster, tmp_path / "out").exit_code == 0
    assert (tmp_path / "out" / CERTIFICATES).stat().st_size < 40_000


def test_script_fonts_are_loaded_only_by_a_file_whose_text_needs_them(source):
    from materials.render import Renderer

    fonts = RosterFonts(LAYOUTS_DIR)
    latin, _ = fonts.check(roster_attendees(["Zoë Smith", "Иван Петров"]))
    chinese, _ = fonts.check(roster_attendees(["张伟"]))
    assert [attendee.fonts for attendee in latin + chinese] == [(), (), ("chinese-simplified",)]
    renderer = Renderer(source, LAYOUTS_DIR)
    renderer.render(Job("hotels", "certificates", Session(dt.date(2026, 11, 25), "Sam", tuple(latin), minutes=60)))
    assert not [path.name for path in renderer.font_files() if "CJK" in path.name or "SC" in path.name]
    renderer.render(Job("hotels", "certificates", Session(dt.date(2026, 11, 25), "Sam", tuple(chinese), minutes=60)))
    assert [path.name for path in renderer.font_files() if path.name.startswith("NotoSansSC")] == [
        "NotoSansSC[wght].ttf"]


def roster_attendees(names):
    from materials.roster import Attendee

    return [Attendee(name, "", None, row) for row, name in enumerate(names, 2)]


def test_the_roster_font_stack_follows_the_script_fonts_order():
    """roster.css lists the script fonts in SCRIPT_FONTS order: the order
    RosterFonts decides a character's font by is the one the layout prints in."""
    from materials.roster import SCRIPT_FONTS

    stack = (LAYOUTS_DIR / "common" / "roster.css").read_text(encoding="utf-8")
    listed = re.findall(r'"([^"]+)"', stack.split("--font-roster:", 1)[1].split(";", 1)[0])
    families = [re.search(r'font-family: "([^"]+)"', (LAYOUTS_DIR / "common" / "scripts" / f"{key}.css")
                          .read_text(encoding="utf-8"))[1] for key in SCRIPT_FONTS]
    assert listed == ["Atkinson Hyperlegible", "Noto Sans", "Noto Sans Arabic", *families]


# --- a row that cannot be printed ------------------------------------------------------------

def test_a_row_that_cannot_be_printed_is_named_and_every_other_certificate_made(tmp_path):
    roster = write(tmp_path / "session.csv", "name,organisation\nZoë Smith,Hotel\nAnkh 𓋹 Ra,Hotel\n张伟,Hotel\n"
                                             "Al Jones,Bar ☙\n")
    result = certificates(roster, tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {roster}:3: name: '𓋹' (U+132F9) is in none of the fonts certificates are printed in: its "
        "certificate was not made",
        f"error: {roster}:5: organisation: '☙' (U+2619) is in none of the fonts certificates are printed in: its "
        "certificate was not made",
        f"Wrote {tmp_path / 'out' / CERTIFICATES} (2 pages) in " + result.stderr.split(" in ")[-1].split("\n")[0],
        "Error: 2 of the roster's certificates could not be made (listed above); every other one was written",
    ]
    texts = page_texts(tmp_path / "out" / CERTIFICATES)
    assert printed("Zoë Smith", texts[0]) and printed("张伟", texts[1])
    no_names_in(result, ["Zoë", "Ankh", "Ra,", "张伟", "Al Jones"])


def test_a_roster_nobody_of_which_can_be_printed_writes_nothing(tmp_path):
    roster = write(tmp_path / "session.csv", "name\n𓋹\n")
    result = certificates(roster, tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "Error: no certificate could be made; nothing was written"
    assert not (tmp_path / "out").exists()


def test_a_sign_in_row_that_cannot_be_printed_is_left_blank_to_fill_in(tmp_path):
    roster = write(tmp_path / "session.csv", "name\nZoë Smith\n𓋹 Ra\nAl Jones\n")
    result = sign_in(tmp_path / "out", "--roster", roster, "--rows", "5")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"error: {roster}:3: name: '𓋹' (U+132F9) is in none of the fonts the sign-in sheet is printed in: its row "
        "is left blank, to fill in by hand")
    assert result.stderr.splitlines()[-1] == (
        "Error: 1 name of the roster could not be printed (listed above): left blank to fill in by hand, on the sheet "
        "written")
    lines = [" ".join(line.split()) for line in pdftotext(tmp_path / "out" / "sign-in-hotels-2026-11-25.pdf",
                                                          layout=True).splitlines()]
    assert "1 Zoë Smith" in lines and "2" in lines and "3 Al Jones" in lines and "Ra" not in " ".join(lines)


def test_a_trainer_name_that_cannot_be_printed_is_a_usage_error(tmp_path):
    roster = write(tmp_path / "session.csv", "name\nZoë Smith\n")
    result = run_cli("certificates", "--source", SOURCE_DIR, "--roster", roster, "--venue", "hotels", "--date",
                     "2026-11-25", "--trainer", "Sam 𓋹", "--duration", "60", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert ("Invalid value for --trainer: '𓋹' (U+132F9) is in none of the fonts certificates and sign-in sheets "
            "are printed in") in " ".join(result.stderr.split())


# --- spreadsheets' CSV ------------------------------------------------------------------------

@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_semicolon_tab_and_comma_separated_rosters_are_read(tmp_path, delimiter):
    rows = [["First name", "Surname", "Organisation"], ["Zoë", "Smith", "Grand Hotel, Leeds"],
            ["Siobhán", "O'Neill", "City Taxis"]]
    text = "\n".join(delimiter.join(f'"{cell}"' if delimiter in cell else cell for cell in row) for row in rows)
    roster = write(tmp_path / "session.csv", text + "\n")
    result = certificates(roster, tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    texts = page_texts(tmp_path / "out" / CERTIFICATES)
    assert printed("Zoë Smith", texts[0]) and printed("Grand Hotel, Leeds", texts[0])
    assert printed("Siobhán O'Neill", texts[1]) and printed("City Taxis", texts[1])


@pytest.mark.parametrize("content, expected", [
    ("name;organisaton\nZoë Smith;Hotel\n",
     'session.csv:1: column 2: "organisaton" is not a column of a roster (the header row reads "name;organisaton"). '
     f"The columns are: {EXPECTED}"),
    ("Nom\tSociété\tDate\nZoë Smith\tHotel\t2026-11-25\n",
     'session.csv:1: column 1: "Nom" is not a column of a roster (the header row reads "Nom [tab] Société [tab] '
     f'Date"). The columns are: {EXPECTED}'),
    ("Organisation,Date\nHotel,2026-11-25\n",
     'session.csv:1: has no column for the name (the header row reads "Organisation,Date"). Add a column headed '
     f"name, or First name and Surname. The columns are: {EXPECTED}"),
    ("Name,Surname\nZoë,Smith\n",
     "session.csv:1: has both a name column and a surname column. Keep either name, or First name and Surname"),
    ("Zoë Smith,Grand Hotel\nAl Jones,City Taxis\n",
     f"session.csv:1: names none of the columns (is the header row missing?). The first row must name the columns: "
     f"{EXPECTED}"),
    ("First name,Surname,Organisation\nZoë,,Hotel\n ,,Hotel\n", "session.csv:3: First name/Surname: is empty. Fill "
     "in the attendee's name, or delete the row"),
], ids=["misspelt", "foreign", "no-name", "name-and-surname", "no-header", "empty-first-and-surname"])
def test_a_header_not_understood_is_shown_back_with_the_columns_expected(tmp_path, monkeypatch, content, expected):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "session.csv", content)
    result = certificates("session.csv", "out")
    assert result.exit_code == 1
    assert f"error: {expected}" in result.stderr.splitlines()
    assert result.stderr.splitlines()[-1].endswith("; nothing was written")
    no_names_in(result, ["Zoë", "Al Jones", "Smith"])
    assert not (tmp_path / "out").exists()


def test_first_name_and_surname_make_the_name(tmp_path):
    roster = write(tmp_path / "session.csv", "Forename,Last name,Company\nZoë,Smith,Grand Hotel\nPlato,,\n")
    assert certificates(roster, tmp_path / "out").exit_code == 0
    texts = page_texts(tmp_path / "out" / CERTIFICATES)
    assert printed("Zoë Smith", texts[0]) and printed("Grand Hotel", texts[0]) and printed("Plato", texts[1])


# --- dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["1/12/2026", "01/12/2026", "1 December 2026", "1 Dec 2026", "1st December 2026",
                                  "2026-12-01", "01.12.2026", " 1  december 2026 "])
def test_dates_as_a_uk_user_writes_them(text):
    assert parse_date(text) == dt.date(2026, 12, 1)


@pytest.mark.parametrize("text, says", [
    ("12/25/2026", '"12/25/2026" is not a date: there is no month 25 (the day comes first: 1/12/2026 is '
                   "1 December 2026)"),
    ("31/11/2026", '"31/11/2026" is not a day of the calendar: November 2026 has 30 days'),
    ("29/02/2027", '"29/02/2027" is not a day of the calendar: February 2027 has 28 days'),
    ("1/12/26", '"1/12/26" has a two-figure year: write the year in full, e.g. 1/12/2026'),
    ("1 Decembre 2026", '"1 Decembre 2026" is not a date: "Decembre" is not the name of a month'),
    ("next Tuesday", f'"next Tuesday" is not a date written as {DATE_FORMS}'),
])
def test_a_date_that_is_not_one_says_why(text, says):
    with pytest.raises(ValueError) as error:
        parse_date(text)
    assert str(error.value) == says


def test_session_and_row_dates_print_in_words(tmp_path):
    roster = write(tmp_path / "session.csv", "name;date\nZoë Smith;24/11/2026\nAl Jones;\n")
    result = certificates(roster, tmp_path / "out", date="1 December 2026")
    assert result.exit_code == 0, result.stderr
    texts = page_texts(tmp_path / "out" / "certificates-hotels-2026-12-01.pdf")
    assert printed("Date: 24 November 2026", texts[0]) and printed("Date: 1 December 2026", texts[1])


def test_a_bad_date_in_a_row_names_its_row(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "session.csv", "name,date\nZoë Smith,31/11/2026\n")
    result = certificates("session.csv", "out")
    assert result.exit_code == 1
    assert (f'error: session.csv:2: date: "31/11/2026" is not a day of the calendar: November 2026 has 30 days. '
            f"Write it as {DATE_FORMS}") in result.stderr.splitlines()


def test_a_bad_session_date_is_a_usage_error_saying_how_to_write_it(tmp_path):
    roster = write(tmp_path / "session.csv", "name\nAl Jones\n")
    result = certificates(roster, tmp_path / "out", date="31/11/2026")
    assert result.exit_code == 2
    assert (f'Invalid value for \'--date\': "31/11/2026" is not a day of the calendar: November 2026 has 30 days. '
            f"Write it as {DATE_FORMS}") in " ".join(result.stderr.split())


# --- certificates: length and signature ------------------------------------------------------

def test_certificates_carry_the_session_length_and_a_line_to_sign(tmp_path):
    roster = write(tmp_path / "session.csv", "name\nZoë Smith\n")
    result = certificates(roster, tmp_path / "out", duration="90")
    assert result.exit_code == 0, result.stderr
    text = pdf_text(tmp_path / "out" / CERTIFICATES)
    assert printed("Length of session: 90 minutes", text) and printed("Signature of the trainer", text)
    assert printed("Trainer: Sam Trainer", text)


def test_a_duration_that_is_no_session_plan_is_a_usage_error(tmp_path):
    roster = write(tmp_path / "session.csv", "name\nZoë Smith\n")
    result = certificates(roster, tmp_path / "out", duration="45")
    assert result.exit_code == 2
    assert ("Invalid value for --duration: 45 is not the length of a session plan; choose from 60, 90 "
            "(source/workshop.yaml, plans)") in " ".join(result.stderr.split())


def test_certificates_need_the_duration(tmp_path):
    roster = write(tmp_path / "session.csv", "name\nZoë Smith\n")
    result = run_cli("certificates", "--source", SOURCE_DIR, "--roster", roster, "--venue", "hotels", "--date",
                     "2026-11-25", "--trainer", "Sam", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "Missing option '--duration'" in result.stderr


# --- sign-in: never one row alone --------------------------------------------------------------

def sheet_rows(source, trainer=None) -> tuple[int, int]:
    session = Session(dt.date(2026, 11, 25), trainer)
    return roster_files.measure_sign_in(source, LAYOUTS_DIR, "hotels", session)


def numbers_on(path, page: int) -> list[int]:
    """The row numbers printed in the # column of a page: each line's first word, when it is a number (the
    page number's line, "2 / 3", is not a row)."""
    lines = [line.split() for line in pdftotext(path, page, layout=True).splitlines()]
    return [int(words[0]) for words in lines if words and words[0].isdigit() and "/" not in words]


def test_a_sheet_one_row_past_its_first_page_fills_its_second(tmp_path, source):
    first, later = sheet_rows(source)
    assert 15 <= first < later <= 30
    for rows, pages, last_row in ((first, 1, first), (first + 1, 2, first + later)):
        out = tmp_path / str(rows)
        result = sign_in(out, "--rows", str(rows))
        assert result.exit_code == 0, result.stderr
        path = out / "sign-in-hotels-2026-11-25.pdf"
        assert len(PdfReader(path).pages) == pages
        assert max(numbers_on(path, pages)) == last_row
        if pages == 2:
            assert len([n for n in numbers_on(path, 2) if n > first]) == later  # a full page


def test_a_roster_one_name_past_the_first_page_fills_the_second_with_blank_rows(tmp_path, source):
    first, later = sheet_rows(source, "Sam Trainer")
    names = [f"Attendee {number}" for number in range(1, first + 2)]
    roster = write(tmp_path / "session.csv", "name\n" + "\n".join(names) + "\n")
    result = sign_in(tmp_path / "out", "--roster", roster, "--trainer", "Sam Trainer", "--rows", "1")
    assert result.exit_code == 0, result.stderr
    path = tmp_path / "out" / "sign-in-hotels-2026-11-25.pdf"
    assert len(PdfReader(path).pages) == 2
    assert f"{first + 1} Attendee {first + 1}" in [" ".join(line.split()) for line in
                                                   pdftotext(path, 2, layout=True).splitlines()]
    assert max(numbers_on(path, 2)) == first + later


def test_a_long_name_takes_two_lines_and_its_row_stays_as_tall(tmp_path, source):
    first, _ = sheet_rows(source)
    long_name = "Alexandra " + " ".join(["Montgomery-Fitzwilliam"] * 4)
    names = [long_name, "张伟 " * 30, *(f"Attendee {number}" for number in range(3, first + 1))]
    roster = write(tmp_path / "session.csv", "name\n" + "\n".join(names) + "\n")
    result = sign_in(tmp_path / "out", "--roster", roster, "--rows", "1")
    assert result.exit_code == 0, result.stderr
    assert len(PdfReader(tmp_path / "out" / "sign-in-hotels-2026-11-25.pdf").pages) == 1


# --- rosters of any size -----------------------------------------------------------------------

def test_a_long_roster_is_made_in_pieces_with_progress_and_joined_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(roster_files, "CERTIFICATES_PER_PIECE", 4)
    names = [f"Attendee {chr(65 + number)}" for number in range(10)]
    roster = write(tmp_path / "session.csv", "name\n" + "\n".join(names) + "\n")
    result = certificates(roster, tmp_path / "out", "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    progress = [re.fullmatch(rf"\[(\d)/3\] {CERTIFICATES} rows (\d+)-(\d+)  (\d) pages  \d+\.\d\d s", line)
                for line in lines[:3]]
    assert all(progress), lines
    assert sorted(match[1] for match in progress) == ["1", "2", "3"]
    assert sorted((int(match[2]), int(match[3]), int(match[4])) for match in progress) == [
        (2, 5, 4), (6, 9, 4), (10, 11, 2)]
    assert lines[3].startswith(f"Wrote {tmp_path / 'out' / CERTIFICATES} (10 pages) in ")
    path = tmp_path / "out" / CERTIFICATES
    for text, name in zip(page_texts(path), names):
        assert printed(name, text)
    assert pdf_ua_failures(path.read_bytes()) == []
    no_names_in(result, names)


def test_a_long_sign_in_sheet_numbers_its_pages_and_rows_on_across_pieces(tmp_path, monkeypatch, source):
    monkeypatch.setattr(roster_files, "SIGN_IN_PAGES_PER_PIECE", 1)
    first, later = sheet_rows(source)
    result = sign_in(tmp_path / "out", "--rows", str(first + later + 1), "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("[")]) == 3
    path = tmp_path / "out" / "sign-in-hotels-2026-11-25.pdf"
    assert len(PdfReader(path).pages) == 3
    for page in (1, 2, 3):
        assert re.search(rf"\b{page}\s*/\s*3\b", pdftotext(path, page, layout=True))
    assert numbers_on(path, 3)[-1] == first + 2 * later and min(numbers_on(path, 2)) == first + 1
    assert pdf_ua_failures(path.read_bytes()) == []


def test_split_writes_one_certificate_per_attendee_named_by_row_and_name(tmp_path):
    roster = write(tmp_path / "session.csv", "name\nZoë Smith\nSiobhán O'Neill\n../../etc/passwd\n张伟\n...\n")
    result = certificates(roster, tmp_path / "out", "--split")
    assert result.exit_code == 0, result.stderr
    folder = "certificates-hotels-2026-11-25"
    assert files_under(tmp_path / "out") == {f"{folder}/{name}" for name in (
        "2-Zoë-Smith.pdf", "3-Siobhán-O-Neill.pdf", "4-etc-passwd.pdf", "5-张伟.pdf", "6-attendee.pdf")}
    assert printed("Siobhán O'Neill", pdf_text(tmp_path / "out" / folder / "3-Siobhán-O-Neill.pdf"))
    assert result.stderr.splitlines()[-1].startswith(f"Wrote 5 files into {tmp_path / 'out' / folder}/ (5 pages) in ")
    progress = [re.fullmatch(rf"\[(\d)/5\] {folder}/ row (\d)  1 page  \d+\.\d\d s", line)
                for line in result.stderr.splitlines()[:5]]
    assert all(progress) and sorted(match[1] for match in progress) == ["1", "2", "3", "4", "5"]
    assert sorted(match[2] for match in progress) == ["2", "3", "4", "5", "6"]
    no_names_in(result, ["Zoë", "Siobhán", "张伟", "passwd"])


def test_split_file_names_sort_in_roster_order():
    from materials.roster import Attendee

    names = [roster_files.split_file_name(Attendee(name, "", None, row), 4)
             for row, name in ((2, "Zoë Smith"), (10, "A/B\\C:D*E?F\"G<H>I|J"), (999, "דוד כהן"),
                               (1000, "राहुल\u200dशर्मा"), (1001, "x" * 200))]
    assert names == ["0002-Zoë-Smith.pdf", "0010-A-B-C-D-E-F-G-H-I-J.pdf", "0999-דוד-כהן.pdf",
                     "1000-राहुल\u200dशर्मा.pdf", f"1001-{'x' * 60}.pdf"]


def too_large(path):
    with path.open("wb") as file:
        file.write(b"name\n")
        file.truncate(21_000_000)


def too_long(path):
    path.write_text("name\n" + "".join(f"A{number}\n" for number in range(100_001)), encoding="utf-8")


@pytest.mark.parametrize("make, says", [
    (too_large, "is 21.0 MB, more than a roster can be (at most 20 MB). Is it the right file? A roster lists one "
                "session's attendees"),
    (too_long, "has 100,001 rows below the header, more than a roster can have (at most 100,000). Split it into "
               "several rosters"),
], ids=["20-MB", "100,000-rows"])
def test_a_file_too_large_to_be_a_roster_is_refused_before_anything_is_made(tmp_path, make, says):
    roster = tmp_path / "export.csv"
    make(roster)
    result = certificates(roster, tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: {roster}: {says}", "Error: the roster has 1 problem; nothing was written"]
    assert not (tmp_path / "out").exists()
