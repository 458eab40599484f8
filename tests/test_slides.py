"""The workshop slides, read back from the real PDFs: a 16:9 deck for each
venue with its text at 24 pt at least, every sign, scenario and quiz question
of the venue and no quiz answer; the trainer handout's session plan names the
slides each step uses by the numbers they have in the deck as built; and the
deck is made in a translated edition and for a council area."""

from __future__ import annotations

import re
import zipfile

import pytest

from conftest import (SOURCE_DIR, Build, normalise, page_size_mm, page_texts, pdf_reader, pdf_text, printed,
                      read_manifest, run_cli, shipped_source)
from materials.catalogue import CATALOGUE
from materials.deck import deck
from materials.preflight import pdf_ua_failures
from materials.translate import edition

VENUE_IDS = [venue.id for venue in shipped_source().venues]
# The venues whose trainer handouts are read against their decks when the
# session does not build everything anyway: the longest deck and another.
PLAN_VENUES = ["hotels", "taxi-ranks"]
WIDESCREEN_MM = (338.67, 190.5)  # 13.333 x 7.5 in, the presentation programs' 16:9
SIZE_TOLERANCE_MM = 0.2
MIN_BODY_PT = 24
# The page's margins (layouts/slides/slides.css): the running foot, with the
# slide number, and a notice at the head are pagination, not the slide's text.
FOOT_MM, HEAD_MM = 20, 10
PT_TO_MM = 25.4 / 72
TRANSLATED, AREA = "cy", "example-borough"
# The editions' venue: the one whose flowchart's steps are the longest.
EDITION_VENUE = "gyms"
LONGER = "en-XA"  # the pseudo-locale 40% longer than English
RIGHT_TO_LEFT = "ur"


@pytest.fixture(scope="module")
def deck_build(request, tmp_path_factory) -> Build:
    """Every venue's slides, and trainer handouts to read their session plans
    in: the full build's when the session makes one anyway, else the slides of
    every venue and the handouts of PLAN_VENUES."""
    if any("full_build" in item.fixturenames for item in request.session.items):
        return request.getfixturevalue("full_build")
    out = tmp_path_factory.mktemp("slides-build") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--product", "slides")
    assert result.exit_code == 0, result.stderr
    venues = [argument for venue_id in PLAN_VENUES for argument in ("--venue", venue_id)]
    handouts = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--product", "handout", *venues)
    assert handouts.exit_code == 0, handouts.stderr
    return Build(out, result)


@pytest.fixture(scope="module")
def edition_build(tmp_path_factory) -> Build:
    """A venue's deck for a council area in English, in a translation, in a
    language written right to left and in a language 40% longer than English."""
    out = tmp_path_factory.mktemp("slides-edition") / "out"
    languages = [option for tag in ("en", TRANSLATED, RIGHT_TO_LEFT, LONGER) for option in ("--lang", tag)]
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--product", "slides", "--venue", EDITION_VENUE,
                     *languages, "--area", AREA)
    assert result.exit_code == 0, result.stderr
    return Build(out, result)


def on_slides(words: str, text: str) -> bool:
    """Whether `words` are printed in `text`, a line broken after a word's
    hyphen ("24-hour" set as "24-" and "hour") read as the word."""
    def joined(found: str) -> str:
        return re.sub(r"-\s+", "-", normalise(found))
    return joined(words) in joined(text)


def body_text_sizes(path) -> list[tuple[int, float, str]]:
    """(page number, size in pt, text) of every run of text on the slides
    themselves, not in the page's margins: the size the text is drawn at,
    its font size through the text and graphics matrices."""
    height_pt = WIDESCREEN_MM[1] / PT_TO_MM
    found = []
    for number, page in enumerate(pdf_reader(path).pages, 1):
        def visit(text, cm, tm, font, font_size, number=number):
            if not text.strip():
                return
            a, b, c, d, e, f = tm
            m_a, m_b, m_c, m_d, m_e, m_f = cm
            scale_y = ((c * m_a + d * m_c) ** 2 + (c * m_b + d * m_d) ** 2) ** 0.5
            baseline = e * m_b + f * m_d + m_f
            if FOOT_MM / PT_TO_MM < baseline < height_pt - HEAD_MM / PT_TO_MM:
                found.append((number, font_size * scale_y, text))
        page.extract_text(visitor_text=visit)
    return found


def slide_number_x(path) -> float:
    """Where, from the page's left edge in pt, the first slide's number ("1 / 40") starts."""
    found = []

    def visit(text, cm, tm, font, font_size):
        if re.search(r"\d+ / \d+", text):
            found.append(tm[4] * cm[0] + tm[5] * cm[2] + cm[4])
    pdf_reader(path).pages[0].extract_text(visitor_text=visit)
    assert len(found) == 1, found
    return found[0]


def expand(numbers: str) -> list[int]:
    """"4–7, 9" as [4, 5, 6, 7, 9]."""
    pages = []
    for part in numbers.split(","):
        first, _, last = part.strip().partition("–")
        pages += range(int(first), int(last or first) + 1)
    return pages


def section_titles(source, venue) -> dict[str, set[str]]:
    """The titles a slide of each workshop section may have, from the source:
    what a trainer expects on the screen at that step of the plan."""
    headings, labels = source.content.headings, source.workshop.labels
    return {
        "welcome": {headings.handout_title, labels.objectives},
        "what-is-cse": {headings.what_is_cse, headings.who_it_affects, headings.where_it_happens,
                        headings.what_is_offered, headings.how_it_happens},
        "signs": {headings.possible_signs, headings.venue_signs},
        "report": {headings.venue_actions, labels.flowchart, headings.trafficking, headings.how_to_report},
        "scenarios": {scenario.title for scenario in venue.scenarios},
        "myths": {labels.quiz},
        "quiz": {labels.quiz},
        "close": {headings.worried},
    }


def title_of(page_text: str, titles: set[str]) -> str | None:
    """The title of `titles` a slide's text opens with, after the line above
    it (a kicker: "Spot the signs", "Case scenarios", "In your workplace:
    Hotels") and a scenario's number, if any."""
    source = shipped_source()
    kickers = [source.content.headings.spot_the_signs.upper(), source.workshop.labels.scenarios,
               *(f"{source.content.headings.venue_section} {venue.name}" for venue in source.venues)]
    opening = normalise(page_text)
    for kicker in kickers:
        opening = opening.removeprefix(f"{normalise(kicker)} ")
    opening = re.sub(r"^\d+\. ", "", opening)
    return next((title for title in sorted(titles, key=len, reverse=True)
                 if opening.startswith(normalise(title))), None)


def plan_slides(trainer_text: str, source) -> dict[tuple[int, str], list[int]]:
    """Each step of each session plan, by (the plan's minutes, its section),
    and the slide numbers the trainer handout prints for it."""
    workshop, labels = source.workshop, source.workshop.labels
    text = normalise(trainer_text)
    found = {}
    for plan in workshop.plans:
        start = 0
        for step in plan.steps:
            title = next(section.title for section in workshop.sections if section.id == step.section)
            row = re.search(re.escape(f"{start}–{start + step.minutes} {normalise(title)} ")
                            + rf"(?:{re.escape(labels.slides)}|{re.escape(labels.slide)}) ([0-9–, ]+?) "
                            + re.escape(f"{step.minutes} {labels.minutes}"), text)
            assert row, f"the {plan.minutes}-minute plan's step {title!r} names no slides"
            found[(plan.minutes, step.section)] = expand(re.sub(r"–\s+", "–", row.group(1)))
            start += step.minutes
    return found


# --- the deck --------------------------------------------------------------------------

@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_every_slide_is_16_9_widescreen_with_its_number(deck_build, source, venue_id):
    path = deck_build.pdf(venue_id, "slides")
    texts = page_texts(path)
    assert len(texts) >= 20
    for number, page in enumerate(pdf_reader(path).pages, 1):
        width, height = page_size_mm(page)
        assert width == pytest.approx(WIDESCREEN_MM[0], abs=SIZE_TOLERANCE_MM), number
        assert height == pytest.approx(WIDESCREEN_MM[1], abs=SIZE_TOLERANCE_MM), number
        assert width / height == pytest.approx(16 / 9, abs=0.001)
        assert printed(f"{source.workshop.labels.slide} {number} / {len(texts)}", texts[number - 1]), number


@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_slide_text_is_24_pt_at_least(deck_build, venue_id):
    sizes = body_text_sizes(deck_build.pdf(venue_id, "slides"))
    assert len({page for page, _, _ in sizes}) == len(page_texts(deck_build.pdf(venue_id, "slides")))
    small = [(page, round(size, 2), text) for page, size, text in sizes if size < MIN_BODY_PT - 0.01]
    assert not small
    entry = next(entry for entry in read_manifest(deck_build.out) if entry["file"] == f"{venue_id}/slides.pdf")
    assert entry["smallest_text_pt"] >= MIN_BODY_PT


@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_every_sign_scenario_and_quiz_question_of_the_venue_is_on_a_slide(deck_build, source, venue_id):
    venue = source.venue(venue_id)
    text = pdf_text(deck_build.pdf(venue_id, "slides"))
    missing = [sign.text for sign in [*source.content.signs, *venue.signs] if not on_slides(sign.text, text)]
    for scenario in venue.scenarios:
        missing += [words for words in (scenario.title, scenario.story, *scenario.questions)
                    if not on_slides(words, text)]
    quiz = [*source.workshop.quiz, *venue.quiz]
    assert len(quiz) == 10
    for question in quiz:
        missing += [words for words in (question.question, *question.options) if not on_slides(words, text)]
    assert not missing


@pytest.mark.parametrize("venue_id", VENUE_IDS)
def test_the_deck_gives_no_quiz_answer(deck_build, source, venue_id):
    """Shown to the room before the answers are given: no explanation, no
    "Answer", no debrief; a true-or-false statement shows both, none picked
    out (the test above finds every multiple-choice option)."""
    venue = source.venue(venue_id)
    labels = source.workshop.labels
    texts = page_texts(deck_build.pdf(venue_id, "slides"))
    whole = normalise("\n".join(texts))
    for question in [*source.workshop.quiz, *venue.quiz]:
        assert not printed(question.explanation, whole), question.id
        page = next(page for page in texts if title_of(page, {labels.quiz}) and on_slides(question.question, page))
        if question.kind == "true-false":
            assert printed(labels.option_true, page) and printed(labels.option_false, page)
    # A debrief point may repeat a venue's action, which the deck shows: the
    # debrief itself is the trainer's, under its own heading in the handout.
    assert not re.search(rf"\b{re.escape(labels.answer)}\b", whole)
    assert labels.answers not in whole and labels.debrief not in whole and labels.scenario_signs not in whole


def test_a_slide_of_each_kind_in_order(deck_build, source):
    """The deck runs as a trainer gives the session: title, objectives, what
    CSE is, where, the signs, the venue's own, what to do, the law, reporting,
    the scenarios, the quiz, the contacts last."""
    headings, labels = source.content.headings, source.workshop.labels
    texts = page_texts(deck_build.pdf("hotels", "slides"))
    order = [headings.handout_title, labels.objectives, headings.what_is_cse, headings.where_it_happens,
             headings.possible_signs, headings.venue_signs, labels.flowchart, headings.trafficking,
             headings.how_to_report, source.venue("hotels").scenarios[0].title, labels.quiz, headings.worried]
    firsts = [next(number for number, page in enumerate(texts, 1) if title_of(page, {title}))
              for title in order]
    assert firsts == sorted(firsts)
    assert printed(source.content.definition.text, "\n".join(texts))
    closing = texts[-1]
    assert printed(source.organisation.phone, closing) and printed("999", closing) and printed("101", closing)


def test_the_deck_is_pdf_ua_1(deck_build):
    entry = next(entry for entry in read_manifest(deck_build.out) if entry["file"] == "hotels/slides.pdf")
    assert entry["pdf_standard"] == "PDF/UA-1"
    assert pdf_ua_failures(deck_build.pdf("hotels", "slides").read_bytes()) == []


# --- the session plan and the deck ---------------------------------------------------------

@pytest.mark.parametrize("venue_id", PLAN_VENUES)
def test_the_session_plans_name_the_slides_each_step_shows(deck_build, source, venue_id):
    """Every number a plan's step names is a page of the deck whose title
    belongs to that step's part of the session, and no page of that part is
    left out; the longer plan shows every slide."""
    venue = source.venue(venue_id)
    texts = page_texts(deck_build.pdf(venue_id, "slides"))
    titles = section_titles(source, venue)
    every_title = set().union(*titles.values())
    steps = plan_slides(pdf_text(deck_build.pdf(venue_id, "handout-trainer")), source)
    true_or_false = source.workshop.labels.true_false
    for (minutes, section), numbers in steps.items():
        assert numbers and max(numbers) <= len(texts), (minutes, section, numbers)
        for number in numbers:
            assert title_of(texts[number - 1], titles[section]), (minutes, section, number, texts[number - 1][:80])
        wanted = [number for number, page in enumerate(texts, 1)
                  if title_of(page, every_title) in titles[section]
                  and (section != "myths" or printed(true_or_false, page))]
        assert numbers == wanted, (minutes, section)
    longest = max(source.workshop.plans, key=lambda plan: plan.minutes)
    shown = {number for (minutes, _), numbers in steps.items() if minutes == longest.minutes for number in numbers}
    assert shown == set(range(1, len(texts) + 1))


@pytest.mark.parametrize("venue_id", PLAN_VENUES)
def test_the_trainer_notes_name_their_slides_as_the_plan_does(deck_build, source, venue_id):
    text = normalise(pdf_text(deck_build.pdf(venue_id, "handout-trainer")))
    labels = source.workshop.labels
    steps = plan_slides(text, source)
    for section in source.workshop.sections:
        numbers = next((numbers for (_, step), numbers in steps.items() if step == section.id), None)
        if numbers is None:
            continue
        note = re.search(re.escape(normalise(section.title)) + r" \((?:" + re.escape(labels.slides) + "|"
                         + re.escape(labels.slide) + r") ([0-9–, ]+)\)", text)
        assert note, section.title
        assert expand(re.sub(r"–\s+", "–", note.group(1))) == numbers


# --- editions ------------------------------------------------------------------------------

def test_a_translated_deck_for_an_area_builds(edition_build, source):
    welsh = edition(source, TRANSLATED).source
    area = source.area(AREA)
    path = edition_build.out / AREA / EDITION_VENUE / f"slides-{TRANSLATED}.pdf"
    english = edition_build.out / AREA / EDITION_VENUE / "slides.pdf"
    texts = page_texts(path)
    assert len(texts) == len(page_texts(english))
    assert all(page_size_mm(page) == pytest.approx(WIDESCREEN_MM, abs=SIZE_TOLERANCE_MM)
               for page in pdf_reader(path).pages)
    assert not [size for _, size, _ in body_text_sizes(path) if size < MIN_BODY_PT - 0.01]
    whole = "\n".join(texts)
    assert printed(welsh.content.headings.what_is_cse, whole)
    assert printed(welsh.content.signs[0].text, whole)
    # Not for distribution: a draft translation, a fictional area; on every slide.
    assert all(printed(source.content.headings.fictional_area, page) for page in texts)
    for deck in (path, english):
        text = pdf_text(deck)
        assert printed(area.children_services.number, text)
        assert not printed(source.content.headings.write_in, text)
    manifest = {entry["file"]: entry for entry in read_manifest(edition_build.out)}
    assert manifest[f"{AREA}/{EDITION_VENUE}/slides-{TRANSLATED}.pdf"]["pdf_standard"] == "PDF/UA-1"
    assert pdf_ua_failures(path.read_bytes()) == []


def test_every_slide_fits_in_a_language_40_percent_longer_at_24_pt(edition_build, source):
    """The area's deck (its QR code on the reporting slide) of the venue with
    the longest flowchart steps, in the pseudo-locale: the build passed
    preflight (a file with text overset fails the build), and no text was
    shrunk below 24 pt."""
    path = edition_build.out / AREA / EDITION_VENUE / f"slides-{LONGER}.pdf"
    longer = edition(source, LONGER).source
    assert len(page_texts(path)) == len(deck(longer.content, longer.workshop, longer.venue(EDITION_VENUE)))
    assert not [size for _, size, _ in body_text_sizes(path) if size < MIN_BODY_PT - 0.01]
    built = {entry["file"] for entry in read_manifest(edition_build.out)}
    assert f"{AREA}/{EDITION_VENUE}/slides-{LONGER}.pdf" in built


def test_the_slide_number_is_where_the_reader_ends_the_slide(edition_build):
    """At the bottom right of a slide in English, at the bottom left of one
    in a language written right to left."""
    folder = edition_build.out / AREA / EDITION_VENUE
    middle = WIDESCREEN_MM[0] / PT_TO_MM / 2
    assert slide_number_x(folder / "slides.pdf") > middle
    assert slide_number_x(folder / f"slides-{RIGHT_TO_LEFT}.pdf") < middle


def test_the_national_deck_leaves_the_local_number_to_write_in(deck_build, source):
    text = pdf_text(deck_build.pdf("hotels", "slides"))
    assert printed(source.content.headings.write_in, text)
    assert printed(source.organisation.local_contact.name, text)


def test_the_catalogue_and_the_pack_say_the_slides_are_shown_not_printed(edition_build):
    page = (edition_build.out / CATALOGUE).read_text(encoding="utf-8")
    assert "<dt>Show on</dt><dd>Projector or screen</dd>" in page and "<dt>Print on</dt>" not in page
    packed = run_cli("pack", "--out", edition_build.out)
    assert packed.exit_code == 0, packed.stderr
    with zipfile.ZipFile(edition_build.out / "packs" / f"{AREA}.zip") as pack:
        note = pack.read(f"{AREA}/README.txt").decode("utf-8")
    shown = note.index("On a projector or screen")
    assert "Print at 100%" not in note
    assert note.index(f"{EDITION_VENUE}/slides.pdf") > shown
    assert note.index(f"{EDITION_VENUE}/slides-{TRANSLATED}.pdf") > shown


# --- what does not fit, and what the slides need from the source ----------------------------

def test_a_story_too_long_for_its_slide_is_named_at_its_line(source_copy):
    """A slide is one page: a scenario that does not fit at 24 pt fails the
    deck, naming the story to shorten, and nothing is carried onto a page of
    its own (which would renumber the slides the session plan names)."""
    hotels = source_copy / "venues" / "hotels.yaml"
    story = shipped_source().venue("hotels").scenarios[0].story
    text = hotels.read_text(encoding="utf-8")
    opening = " ".join(story.split()[:5])  # on the first line of the story as folded in the YAML
    assert opening in text
    hotels.write_text(text.replace(opening, f"{story} {story} {opening}", 1), encoding="utf-8")
    result = run_cli("check", "--source", source_copy, "--venue", "hotels", "--product", "slides")
    assert result.exit_code == 1
    assert re.search(r"error: hotels/slides\.pdf: overset: source/venues/hotels\.yaml:\d+:\d+: "
                     r"scenarios\[0\]\.story \(\d+ characters\): shorten by about \d+ characters", result.stderr), \
        result.stderr


def test_the_source_keeps_the_sections_the_slides_belong_to(source_copy):
    workshop = source_copy / "workshop.yaml"
    text = workshop.read_text(encoding="utf-8")
    assert "  - id: myths\n" in text
    workshop.write_text(text.replace("  - id: myths\n", "  - id: myth-busting\n"), encoding="utf-8")
    result = run_cli("check", "--no-render", "--source", source_copy)
    assert result.exit_code == 1
    assert ('has no section with the id "myths", which the slides and the session plan\'s slide numbers use. '
            "Keep that id when you reword the section") in result.stderr, result.stderr
