"""Stage 2: the typed model of the source: one schema for every file in `source/`.

Unknown keys are refused: a misspelt key would otherwise be silently ignored
and its text would never be printed. Reading the files into it is source.py's
work; pydantic's errors in plain English are validate.py's; the checks of ids
between files, checks.py's.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_serializer
from pydantic_core import PydanticCustomError

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=80)]


class Translatable:
    """Marks the printed wording a translation may replace (see translate.py)."""


TRANSLATABLE = Translatable()
_TEXT = StringConstraints(strip_whitespace=True, min_length=1, max_length=1500)
# Every printed string: a sign three paragraphs long is a mistake, not content.
Text = Annotated[str, _TEXT, TRANSLATABLE]
# Printed as written in every language: web and email addresses, and names a
# caller must quote exactly (a police operation's name).
Verbatim = Annotated[str, _TEXT]
# A UK number as dialled: one beginning 0 has 10 or 11 digits (a few freephone
# numbers are shorter: Childline's 0800 1111); short numbers are 999, three
# digits beginning 1 (101, 111) and 116 and three digits (116 123). A digit
# dropped or doubled in a reporting number must not reach print.
UK_NUMBER = r"0\d{9,10}|0800\d{4}|999|1\d\d|116\d{3}"
NATIONAL_NUMBER = r"0\d{9,10}"


def _digits_matching(pattern: str, error: str):
    def check(number: str) -> str:
        if not re.fullmatch(pattern, number.replace(" ", "")):
            raise PydanticCustomError(error, "wrong length")
        return number
    return AfterValidator(check)


DIGITS_AND_SPACES = StringConstraints(strip_whitespace=True, pattern=r"^[0-9][0-9 ]{1,15}[0-9]$")
PhoneNumber = Annotated[str, DIGITS_AND_SPACES, _digits_matching(UK_NUMBER, "uk_phone_number")]
# A line people call from the card or poster, the organisation's or a council's:
# never a short number. (A digit dropped from an 11-digit number can still
# leave 10: only the number's source can catch that.)
NationalNumber = Annotated[str, DIGITS_AND_SPACES, _digits_matching(NATIONAL_NUMBER, "uk_national_number")]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(Strict):
    id: Id
    text: Text


def _not_blank(value):
    # `check_before_print:` with nothing after it is a mark without a reason,
    # not "no mark": a coordinator could not tell what to check.
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PydanticCustomError("why_to_check", "is empty")
    return value


# Why an item must be checked before printing, and against which source. Never
# printed: it is a note to the coordinator, in any wording.
WhyToCheck = Annotated[str, BeforeValidator(_not_blank), StringConstraints(strip_whitespace=True, max_length=1500)]


class Checked(Strict):
    """An item whose facts a person re-checks before a print run (reviews.py):
    marked `check_before_print` (why, and against which source), and the date
    it was last `reviewed`. Both may be left out; neither may be empty."""
    # Not Optional: a key written with no value is refused, not read as absent.
    check_before_print: WhyToCheck = None
    reviewed: dt.date = None

    @model_serializer(mode="wrap")
    def _leave_out_absent(self, handler):
        # A translation re-validates the source from its dump (translate.py):
        # an absent mark or date must stay absent, not become an empty one.
        data = handler(self)
        for name in ("check_before_print", "reviewed"):
            if data.get(name) is None:
                data.pop(name, None)
        return data

    @property
    def label(self) -> str:
        """What the item is, in the list of items to check."""
        return self.id


# A pictogram's name in the Material Design Icons set (pictograms.py): the
# source chooses what it shows, the layouts how it looks.
Pictogram = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=80)]


class Sign(Item):
    short: Text | None = Field(None, description="Shorter wording for the wallet card.")
    icon: Pictogram

    @property
    def card_text(self) -> str:
        return self.short or self.text


class Way(Item):
    title: Text


class Law(Item, Checked):
    name: Text
    source: Id

    @property
    def label(self) -> str:
        return self.name


class Note(Item, Checked):
    source: Id | None = None


class Route(Checked):
    id: Id
    name: Text
    short: Text
    number: PhoneNumber | None = None
    web: Verbatim | None = None
    note: Text | None = None

    @property
    def label(self) -> str:
        return self.short


class Reference(Checked):
    id: Id
    title: Text
    where: Verbatim | None = None


class Definition(Item):
    points: list[Item]
    source: Id


class Headings(Strict):
    spot_the_signs: Text
    possible_signs: Text
    venue_signs: Text
    what_is_offered: Text
    what_to_do: Text
    danger_now: Text
    worried: Text
    write_in: Text
    contents: Text
    page: Text
    what_is_cse: Text
    where_it_happens: Text
    who_it_affects: Text
    how_it_happens: Text
    all_signs: Text
    venue_section: Text
    venue_actions: Text
    venue_notes: Text
    trafficking: Text
    how_to_report: Text
    references: Text
    reviewed: Text
    for_staff: Text
    adapted: Text
    advice_from: Text
    quote: Text
    handout_title: Text
    handout_subtitle: Text
    from_organisation: Text
    draft_translation: Text
    fictional_area: Text
    report_online: Text


class Content(Strict):
    reviewed: dt.date
    jurisdiction: Text
    headings: Headings
    definition: Definition
    offers_intro: Text
    offers: list[Item] = Field(min_length=1)
    places_intro: Text
    places: list[Item] = Field(min_length=1)
    who_it_affects: list[Item] = Field(min_length=1)
    signs_intro: Text
    signs: list[Sign] = Field(min_length=1)
    signs_caveat: Text
    ways_intro: Text
    ways: list[Way] = Field(min_length=1)
    trafficking: list[Item]
    laws: list[Law] = Field(min_length=1)
    law_history: Text
    actions: list[Item] = Field(min_length=1)
    report_intro: Text
    mash_explained: Text
    routes: list[Route] = Field(min_length=1)
    sources: list[Id] = Field(min_length=1)
    references: list[Reference] = Field(min_length=1)


# --- the workshop pack ---------------------------------------------------------

QUIZ_LENGTH = 10  # core questions plus each venue's own


class QuizQuestion(Strict):
    id: Id
    kind: Literal["true-false", "multiple-choice"]
    question: Text
    options: list[Text] = Field([], max_length=5)
    # true-false: true or false; multiple-choice: the number of the right option (1 = first).
    answer: bool | int
    explanation: Text
    tests: Id = Field(description="The id of the content item the question tests.")


class Scenario(Strict):
    id: Id
    title: Text
    story: Text
    signs: list[Id] = Field(min_length=1)  # the signs the story shows
    questions: list[Text] = Field(min_length=1)
    debrief: list[Text] = Field(min_length=1)


# The steps every venue's flowchart shows after its own when no child is in
# immediate danger (content.yaml actions), before reporting on 101.
SHARED_FLOWCHART_STEPS = ("write-it-down", "tell-your-manager")


class Flowchart(Strict):
    """The venue's own steps, shown before reporting when no child is in immediate danger."""
    steps: list[Id] = Field(min_length=1, max_length=3)
    # Shared steps that the venue's own say already (its own record of details,
    # its own safeguarding lead): a trainer walking through it reads each once.
    instead_of: list[Id] = []

    @property
    def shared_steps(self) -> list[str]:
        return [step for step in SHARED_FLOWCHART_STEPS if step not in self.instead_of]


class SessionStep(Strict):
    section: Id
    minutes: int = Field(ge=1, le=90)


class SessionPlan(Strict):
    minutes: int = Field(ge=30, le=180)
    steps: list[SessionStep] = Field(min_length=1)


class WorkshopSection(Strict):
    id: Id
    title: Text
    facilitator: list[Text] = Field(min_length=1)


class WorkshopLabels(Strict):
    participant_edition: Text
    trainer_edition: Text
    objectives: Text
    objectives_intro: Text
    session_plan: Text
    minutes: Text
    slide: Text   # before one slide's number: "Slide 5"
    slides: Text  # before several: "Slides 4–7"
    facilitator_notes: Text
    scenarios: Text
    scenario_signs: Text
    discussion: Text
    debrief: Text
    quiz: Text
    quiz_intro: Text
    true_false: Text
    option_true: Text
    option_false: Text
    answer: Text
    answers: Text
    notes: Text
    flowchart: Text
    spot: Text
    danger_question: Text
    yes: Text
    no: Text
    call_emergency: Text
    then_report: Text
    certificate_title: Text
    certificate_statement: Text
    certificate_venue: Text
    certificate_date: Text
    certificate_trainer: Text
    certificate_topics: Text
    certificate_duration: Text
    certificate_minutes: Text
    certificate_signature: Text
    sign_in_title: Text
    sign_in_name: Text
    sign_in_organisation: Text
    sign_in_signature: Text
    sign_in_venue: Text
    sign_in_date: Text
    sign_in_trainer: Text


class Workshop(Strict):
    labels: WorkshopLabels
    objectives: list[Item] = Field(min_length=1)
    sections: list[WorkshopSection] = Field(min_length=1)
    certificate_topics: list[Id] = Field(min_length=1)
    plans: list[SessionPlan] = Field(min_length=1)
    quiz: list[QuizQuestion] = Field(min_length=1, max_length=QUIZ_LENGTH)


class LocalContact(Strict):
    name: Text
    number: NationalNumber | None = None


# A logo: a file in source/logos/, SVG or PNG, named in lowercase.
LogoFile = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*\.(?:svg|png)$", max_length=80)]


class Organisation(Strict):
    name: Text
    phone: NationalNumber
    offer: Text
    police_codeword: Verbatim | None = None
    local_contact: LocalContact
    logo: LogoFile | None = None  # printed small beside the sender's name


# An address a QR code points to: https only, no spaces.
WebAddress = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^https://[^\s/]+\.[^\s]+$",
                                              max_length=200)]


class AreaContact(Checked):
    name: Text
    number: NationalNumber
    hours: Text | None = None

    @property
    def label(self) -> str:
        return self.name


class Area(Strict):
    """A council area's own reporting contacts (source/areas/<id>.yaml)."""
    id: Id
    council: Text
    children_services: AreaContact
    out_of_hours: AreaContact | None = None
    web: WebAddress | None = None
    reviewed: dt.date
    source: Text
    # An example with made-up numbers: every page says it is not for distribution.
    fictional: bool = False
    logo: LogoFile | None = None  # the council's, beside the organisation's


class Adapted(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_venue: Id = Field(alias="from")
    note: Text


class PosterChoice(Strict):
    # The signs the poster prints, most important first: the venue's own or core
    # ones. Seven is what an A3 poster holds at 20 pt with room for a translation
    # 40% longer; the handout lists every sign.
    signs: list[Id] = Field(min_length=3, max_length=7)


class CardChoice(Strict):
    # Six short lines is what an ID-1 card front holds at a legible size.
    signs: list[Id] = Field(min_length=1, max_length=6)
    action: Id


class Venue(Strict):
    id: Id
    name: Text
    staff: Text
    headline: Text
    accent: Colour
    icon: Pictogram
    adapted: Adapted | None = None
    signs: list[Sign] = Field(min_length=1, max_length=12)
    actions: list[Item] = Field(min_length=1)
    notes: list[Note] = []
    poster: PosterChoice
    card: CardChoice
    sources: list[Id] = Field(min_length=1)
    scenarios: list[Scenario] = Field(min_length=2)
    quiz: list[QuizQuestion] = Field(min_length=1)
    flowchart: Flowchart

    def sign(self, sign_id: str, core: Content) -> Sign:
        """A sign by id: the venue's own, or a core one."""
        for sign in self.signs:
            if sign.id == sign_id:
                return sign
        return next(sign for sign in core.signs if sign.id == sign_id)

    def action(self, action_id: str) -> Item:
        return next(action for action in self.actions if action.id == action_id)


class Source:
    """Everything in `source/`, validated: what every job renders from."""

    def __init__(self, content: Content, organisation: Organisation, workshop: Workshop, venues: list[Venue],
                 areas: list[Area] | None = None):
        self.content = content
        self.organisation = organisation
        self.workshop = workshop
        self.areas = areas or []
        self.venues = venues
        self.translations: dict = {}     # language tag -> translate.Translation
        self.pseudo_editions: dict = {}  # made when first asked for
        self.logos: dict[str, bytes] = {}  # the logo files the source names, by name
        self.reviews: list = []  # reviews.Review: what a person re-checks before a print run
        # Where each printed text is written (translate.WrittenAt), by its key:
        # preflight names the text that does not fit by its file and line.
        self.written_at: dict = {}

    def venue(self, venue_id: str) -> Venue:
        return next(venue for venue in self.venues if venue.id == venue_id)

    def area(self, area_id: str) -> Area:
        return next(area for area in self.areas if area.id == area_id)
