"""The workshop pack: handout editions, quiz, flowchart, certificates and sign-in sheets."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from conftest import SOURCE_DIR, files_under, page_texts, pdf_text, printed, run_cli, shipped_source
from materials.model import SHARED_FLOWCHART_STEPS

NAMES = ["Zoë Smith", "Siobhán O'Neill", "Anna Nowak-Wójcik", "Nguyễn Văn An", "محمد"]
VENUE_IDS = [venue.id for venue in shipped_source().venues]


def certificates(roster, out, venue="hotels", date="2026-11-25", trainer="Sam"):
    """Run `make-materials certificates` for a roster."""
    return run_cli("certificates", "--source", SOURCE_DIR, "--roster", roster, "--venue", venue,
                   "--date", date, "--trainer", trainer, "--duration", "60", "--out", out)


def write_roster(path, rows, header="name,organisation"):
    path.write_text(header + "\n" + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def answer_text(question, labels) -> str:
    if question.kind == "true-false":
        return labels.option_true if question.answer else labels.option_false
    return question.options[question.answer - 1]


# --- handout editions -------------------------------------------------------------------

@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_trainer_edition_has_answers_and_session_plan_participant_edition_has_neither(full_build, source, venue_id):
    venue = source.venue(venue_id)
    workshop = source.workshop
    labels = workshop.labels
    quiz = [*workshop.quiz, *venue.quiz]
    assert len(quiz) == 10
    trainer = pdf_text(full_build.pdf(venue_id, "handout-trainer"))
    participant = pdf_text(full_build.pdf(venue_id, "handout-participant"))

    for question in quiz:
        assert printed(question.question, trainer) and printed(question.question, participant)
        assert printed(f"{labels.answer}: {answer_text(question, labels)}. {question.explanation}", trainer)
        assert not printed(question.explanation, participant)
    plan_sections = {step.section for plan in workshop.plans for step in plan.steps}
    for section in workshop.sections:
        if section.id in plan_sections:
            assert printed(section.title, trainer)
        for note in section.facilitator:
            assert printed(note, trainer) and not printed(note, participant)
    for marker in (labels.session_plan, labels.answers, labels.facilitator_notes, labels.debrief):
        assert printed(marker, trainer) and not printed(marker, participant)
    for plan in workshop.plans:
        assert printed(f"{plan.minutes} {labels.minutes}", trainer)


@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_both_editions_carry_objectives_scenarios_flowchart_and_notes(full_build, source, venue_id):
    venue = source.venue(venue_id)
    labels = source.workshop.labels
    for edition in ("handout-participant", "handout-trainer"):
        text = pdf_text(full_build.pdf(venue_id, edition))
        assert all(printed(objective.text, text) for objective in source.workshop.objectives)
        for scenario in venue.scenarios:
            assert printed(scenario.story, text)
            assert all(printed(question, text) for question in scenario.questions)
        assert printed(labels.danger_question, text)
        for step in venue.flowchart.steps:
            assert printed(venue.action(step).text, text)
        assert printed(labels.notes, text)
        reader = PdfReader(full_build.pdf(venue_id, edition))
        edition_label = labels.trainer_edition if edition.endswith("trainer") else labels.participant_edition
        assert printed(edition_label, reader.pages[0].extract_text())


def test_trainer_debrief_names_every_scenario_sign(full_build, source):
    for venue in source.venues:
        text = pdf_text(full_build.pdf(venue.id, "handout-trainer"))
        for scenario in venue.scenarios:
            assert all(printed(point, text) for point in scenario.debrief)
            assert all(printed(venue.sign(sign_id, source.content).text, text) for sign_id in scenario.signs)


def test_flowcharts_differ_by_venue(full_build, source):
    """The taxi flowchart says to refuse the fare; the hotel one to ask for ID."""
    taxi, hotel = source.venue("taxi-ranks"), source.venue("hotels")
    taxi_steps = [taxi.action(step).text for step in taxi.flowchart.steps]
    hotel_steps = [hotel.action(step).text for step in hotel.flowchart.steps]
    assert any("fare" in step for step in taxi_steps) and any("ID" in step for step in hotel_steps)
    taxi_text = pdf_text(full_build.pdf("taxi-ranks", "handout-participant"))
    hotel_text = pdf_text(full_build.pdf("hotels", "handout-participant"))
    assert all(printed(step, taxi_text) for step in taxi_steps)
    assert not any(printed(step, hotel_text) for step in taxi_steps if step not in hotel_steps)


@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_a_flowchart_says_each_step_once(full_build, source, venue_id):
    """A shared step that the venue's own steps already say is left out of its flowchart."""
    venue = source.venue(venue_id)
    actions = {action.id: action.text for action in source.content.actions}
    title = source.workshop.labels.flowchart
    pages = [text for text in page_texts(full_build.pdf(venue_id, "handout-participant")) if printed(title, text)]
    flowchart = pages[-1]  # the contents page names it too
    for step in SHARED_FLOWCHART_STEPS:
        assert printed(actions[step], flowchart) == (step not in venue.flowchart.instead_of), step
    assert all(printed(venue.action(step).text, flowchart) for step in venue.flowchart.steps)
    texts = [venue.action(step).text for step in venue.flowchart.steps]
    texts += [actions[step] for step in venue.flowchart.shared_steps]
    assert len(set(texts)) == len(texts)


def test_the_shipped_flowcharts_leave_out_what_their_venue_says():
    instead_of = {venue.id: venue.flowchart.instead_of for venue in shipped_source().venues}
    assert instead_of["gyms"] == ["tell-your-manager"] and instead_of["taxi-ranks"] == ["write-it-down"]


def test_a_flowchart_can_only_leave_out_a_shared_step(source_copy):
    path = source_copy / "venues" / "gyms.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(number for number, line in enumerate(lines) if line.startswith("  instead_of:"))
    lines[index] = "  instead_of: [call-999]\n"
    path.write_text("".join(lines), encoding="utf-8")
    result = run_cli("check", "--source", source_copy)
    assert result.exit_code == 1
    assert (f"source/venues/gyms.yaml:{index + 1}:16: flowchart.instead_of[0]: refers to the shared flowchart step "
            '"call-999", which does not exist. Use one of: tell-your-manager, write-it-down') in result.stderr


# --- the quiz is checked against the content ----------------------------------------------

def contents_entries(path) -> list[tuple[int, int]]:
    """Each contents entry of a handout, from page 2's links: (the page number
    printed at the line's end, the page the link goes to)."""
    reader = PdfReader(path)
    destinations = {name: reader.get_destination_page_number(dest) + 1
                    for name, dest in reader.named_destinations.items()}
    document = pdfium.PdfDocument(str(path))
    try:
        text_page = document[1].get_textpage()
        characters = [(text_page.get_charbox(index), text_page.get_text_range(index, 1))
                      for index in range(text_page.count_chars())]
        bands: dict[str, tuple[float, float]] = {}  # an entry's link may be in several parts
        for annotation in reader.pages[1].get("/Annots") or []:
            link = annotation.get_object()
            if link.get("/Subtype") == "/Link":
                _, y1, _, y2 = (float(value) for value in link["/Rect"])
                lowest, highest = bands.get(str(link["/Dest"]), (min(y1, y2), max(y1, y2)))
                bands[str(link["/Dest"])] = (min(lowest, y1, y2), max(highest, y1, y2))
        entries = []
        for destination, (bottom, top) in bands.items():
            line = [character for (left, lower, right, upper), character in sorted(characters)
                    if bottom <= (lower + upper) / 2 <= top]
            # The figures after the title's last letter, left to right: the page
            # number (the leader's dots, some drawn under it, are not figures).
            last_letter = max(index for index, character in enumerate(line) if character.isalpha())
            number = "".join(character for character in line[last_letter:] if character.isdigit())
            assert number, f"no page number at the end of the contents line {''.join(line)!r}"
            entries.append((int(number), destinations[destination]))
    finally:
        document.close()
    return entries


@pytest.mark.parametrize("venue_id", ["hotels", "hostels"])
@pytest.mark.parametrize("edition", ["handout-participant", "handout-trainer"])
def test_contents_page_numbers_are_where_each_section_starts(full_build, venue_id, edition):
    entries = contents_entries(full_build.pdf(venue_id, edition))
    assert len(entries) >= 12
    assert [(printed, linked) for printed, linked in entries if printed != linked] == []
    assert [printed for printed, _ in entries] == sorted(printed for printed, _ in entries)


def test_a_content_change_that_breaks_a_quiz_answer_is_caught(source_copy):
    content = source_copy / "content.yaml"
    content.write_text(content.read_text().replace("id: unexplained-money-or-gifts", "id: unexplained-gifts"))
    workshop_lines = (source_copy / "workshop.yaml").read_text().splitlines()
    line = next(number for number, text in enumerate(workshop_lines, 1) if "tests: unexplained-money-or-gifts" in text)
    result = run_cli("check", "--no-render", "--source", "source")
    assert result.exit_code == 1
    assert (f'source/workshop.yaml:{line}:12: quiz[3].tests: refers to the content item '
            f'"unexplained-money-or-gifts", which does not exist') in result.stderr


def test_a_venue_quiz_must_make_ten_questions(source_copy):
    path = source_copy / "venues" / "hotels.yaml"
    text = path.read_text()
    start = text.index("  - id: hotel-ask-for-id")
    end = text.index("\nflowchart:")
    path.write_text(text[:start] + text[end + 1:])
    result = run_cli("check", "--no-render", "--source", "source")
    assert result.exit_code == 1
    assert "quiz: has 2 questions; with the 7 core questions the quiz must have 10" in result.stderr


def test_a_multiple_choice_answer_must_name_an_option(source_copy):
    path = source_copy / "workshop.yaml"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip() == "answer: 1")
    lines[index] = lines[index].replace("answer: 1", "answer: 7")
    path.write_text("".join(lines))
    result = run_cli("check", "--no-render", "--source", "source")
    assert result.exit_code == 1
    assert "answer: must be the number of the right option (1 for the first)" in result.stderr


# --- certificates ------------------------------------------------------------------------

def test_one_certificate_per_attendee_with_their_name(tmp_path):
    roster = write_roster(tmp_path / "session.csv", [f'"{name}",Test Venue Ltd' for name in NAMES])
    out = tmp_path / "roster-out"
    result = certificates(roster, out, venue="taxi-ranks", trainer="Sam Trainer")
    assert result.exit_code == 0, result.stderr
    pdf = "certificates-taxi-ranks-2026-11-25.pdf"  # named for the session, never a person
    assert files_under(out) == {pdf}
    reader = PdfReader(out / pdf)
    assert len(reader.pages) == len(NAMES)
    for page, name in zip(page_texts(out / pdf), NAMES):
        assert printed(name, page), (name, page)
        assert printed("Taxi ranks and taxis", page) and printed("25 November 2026", page)
        assert printed("Sam Trainer", page)
    width, height = (float(value) * 25.4 / 72 for value in reader.pages[0].mediabox[2:])
    assert abs(width - 297) < 0.2 and abs(height - 210) < 0.2
    # Personal data stays in the roster's folder: not in messages, not in file names.
    for name in NAMES:
        assert name not in result.stderr + result.stdout
    assert not (tmp_path / "output").exists()


def test_names_never_reach_the_build_manifest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    roster = write_roster(tmp_path / "people.csv", ['"Zoë Smith",'])
    result = run_cli("certificates", "--source", SOURCE_DIR, "--roster", roster, "--venue", "hotels",
                     "--date", "2026-11-25", "--trainer", "Sam", "--duration", "90")
    assert result.exit_code == 0, result.stderr
    assert files_under(tmp_path / "output") == {"roster-people/certificates-hotels-2026-11-25.pdf"}
    assert not (tmp_path / "output" / "manifest.json").exists()


# --- sign-in sheets ------------------------------------------------------------------------

def test_sign_in_sheet_prefilled_from_a_roster(tmp_path):
    roster = write_roster(tmp_path / "session.csv", [f'"{name}",' for name in NAMES])
    out = tmp_path / "out"
    result = run_cli("sign-in", "--source", SOURCE_DIR, "--venue", "gyms", "--date", "2026-12-01",
                     "--roster", roster, "--rows", "12", "--out", out)
    assert result.exit_code == 0, result.stderr
    text = pdf_text(out / "sign-in-gyms-2026-12-01.pdf")
    assert all(printed(name, text) for name in NAMES)
    assert printed("1 December 2026", text) and printed("Gyms", text)
    assert printed("12", text) and not printed(" 13 ", text.replace("\n", " "))


def test_blank_sign_in_sheet_has_the_rows_asked_for(tmp_path):
    """As many rows as asked, when they fit the first page (a sheet past it
    fills its last page: tests/test_rosters.py)."""
    out = tmp_path / "out"
    result = run_cli("sign-in", "--source", SOURCE_DIR, "--venue", "parks", "--date", "2026-12-01",
                     "--rows", "15", "--out", out)
    assert result.exit_code == 0, result.stderr
    numbers = {word for word in pdf_text(out / "sign-in-parks-2026-12-01.pdf").split() if word.isdigit()}
    assert {str(row) for row in range(1, 16)} <= numbers
    assert "16" not in numbers


# --- roster errors -------------------------------------------------------------------------

COLUMNS = "The columns are: name (or First name and Surname), organisation, date"


@pytest.mark.parametrize("content, expected", [
    ("organisation\nGrand Hotel\n", 'session.csv:1: has no column for the name (the header row reads '
     f'"organisation"). Add a column headed name, or First name and Surname. {COLUMNS}'),
    ("name,organisation\nZoë Smith,Hotel\n,Hotel\n", "session.csv:3: name: is empty"),
    ("name,organisation\nZoë Smith,Hotel\nAl Jones,\nzoë smith,hotel\n", "session.csv:4: repeats row 2"),
    ("name,organisation,date\nZoë Smith,Hotel,25/13/2026\n",
     'session.csv:2: date: "25/13/2026" is not a date: there is no month 13'),
    ("name,organisaton\nZoë Smith,Hotel\n", 'session.csv:1: column 2: "organisaton" is not a column of a roster'),
    ("Zoë Smith,Grand Hotel\nAl Jones,City Taxis\n", "session.csv:1: names none of the columns "
     "(is the header row missing?)"),
    ("", "session.csv:1: has no header row. The first row must name the columns"),
    (" , \nZoë Smith,Hotel\n", "session.csv:1: has no header row. The first row must name the columns"),
], ids=["missing-column", "empty-name", "duplicate-row", "bad-date", "unknown-column", "no-header", "empty-file",
        "blank-header"])
def test_roster_errors_name_their_row(tmp_path, content, expected, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "session.csv").write_text(content, encoding="utf-8")
    result = certificates("session.csv", "out")
    assert result.exit_code == 1
    assert expected in result.stderr
    assert "nothing was written" in result.stderr
    assert "Zoë" not in result.stderr and "Al Jones" not in result.stderr  # personal data
    assert not (tmp_path / "out").exists()


def test_a_roster_that_is_not_utf8_names_its_row(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "session.csv").write_bytes("name\nAl Jones\nZo\u00eb Smith\n".encode("latin-1"))
    result = certificates("session.csv", "out")
    assert result.exit_code == 1
    assert 'session.csv:3: is not UTF-8 text. Save it from your spreadsheet as "CSV UTF-8"' in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("date, says", [
    ("11/25/2026", '"11/25/2026" is not a date: there is no month 25'),
    ("2026-13-01", '"2026-13-01" is not a date: there is no month 13'),
    ("2026-02-30", '"2026-02-30" is not a day of the calendar: February 2026 has 28 days'),
])
def test_a_bad_session_date_is_a_usage_error(tmp_path, date, says):
    roster = write_roster(tmp_path / "session.csv", ["Al Jones,"])
    result = certificates(roster, tmp_path / "out", date=date)
    assert result.exit_code == 2
    assert says in result.stderr


def test_one_long_name_shrinks_only_its_own_certificate(tmp_path):
    long_name = "Alexandra " + " ".join(["Montgomery-Fitzwilliam"] * 4)
    roster = write_roster(tmp_path / "session.csv", ["Ann Lee,", f'"{long_name}",'])
    out = tmp_path / "out"
    result = certificates(roster, out)
    assert result.exit_code == 0, result.stderr
    document = pdfium.PdfDocument(str(out / "certificates-hotels-2026-11-25.pdf"))

    def name_size(page_index: int, name: str) -> float:
        text = document[page_index].get_textpage()
        start = text.get_text_range().index(name[:3])
        return text.get_charbox(start)[3] - text.get_charbox(start)[1]

    assert name_size(1, long_name) < 0.95 * name_size(0, "Ann Lee")


def test_roster_commands_reject_an_unknown_venue_as_a_usage_error(tmp_path):
    roster = write_roster(tmp_path / "session.csv", ["Al Jones,"])
    result = certificates(roster, tmp_path / "out", venue="nowhere")
    assert result.exit_code == 2
    assert "unknown venue nowhere" in result.stderr
