"""Stage 2: the typed model of the source, and its validation.

One schema for every file in `source/`. Unknown keys are refused (a misspelt key
would otherwise be silently ignored and its text would never be printed), and
every cross-reference by id is checked, so a layout never meets a dangling id.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import PydanticCustomError

from .colour import contrast_ratio, hex_to_rgb
from .errors import SourceError, SourceProblem
from .load import FieldPath, LoadedFile, format_field, load_yaml

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


_DIGITS_AND_SPACES = StringConstraints(strip_whitespace=True, pattern=r"^[0-9][0-9 ]{1,15}[0-9]$")
PhoneNumber = Annotated[str, _DIGITS_AND_SPACES, _digits_matching(UK_NUMBER, "uk_phone_number")]
# A line people call from the card or poster, the organisation's or a council's:
# never a short number. (A digit dropped from an 11-digit number can still
# leave 10: only the number's source can catch that.)
NationalNumber = Annotated[str, _DIGITS_AND_SPACES, _digits_matching(NATIONAL_NUMBER, "uk_national_number")]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(Strict):
    id: Id
    text: Text


class Sign(Item):
    short: Text | None = Field(None, description="Shorter wording for the wallet card.")

    @property
    def card_text(self) -> str:
        return self.short or self.text


class Way(Item):
    title: Text


class Law(Item):
    name: Text
    source: Id


class Note(Item):
    source: Id | None = None


class Route(Strict):
    id: Id
    name: Text
    short: Text
    number: PhoneNumber | None = None
    web: Verbatim | None = None
    note: Text | None = None


class Reference(Strict):
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


class Organisation(Strict):
    name: Text
    phone: NationalNumber
    offer: Text
    police_codeword: Verbatim | None = None
    local_contact: LocalContact


# An address a QR code points to: https only, no spaces.
WebAddress = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^https://[^\s/]+\.[^\s]+$",
                                              max_length=200)]


class AreaContact(Strict):
    name: Text
    number: NationalNumber
    hours: Text | None = None


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

    def venue(self, venue_id: str) -> Venue:
        return next(venue for venue in self.venues if venue.id == venue_id)

    def area(self, area_id: str) -> Area:
        return next(area for area in self.areas if area.id == area_id)



# --- turning pydantic's errors into plain English --------------------------------

_MESSAGES = {
    "missing": ("is missing", "Add it"),
    "extra_forbidden": ("is not a known key", "Check its spelling, or remove it"),
    "string_type": ("should be text", 'Put the value in quotes, e.g. "999"'),
    "string_too_short": ("is empty", "Write the text, or remove the entry"),
    "string_too_long": ("is too long", "Shorten it: printed materials have limited space"),
    "list_type": ("should be a list", 'Start each entry on its own line with "- "'),
    "dict_type": ("should be a group of keys", "Indent the keys below it"),
    "model_type": ("should be a group of keys", "Indent the keys below it"),
    "model_attributes_type": ("should be a group of keys", "Indent the keys below it"),
    "too_short": ("has too few entries", "Add at least one"),
    "too_long": ("has too many entries", "Remove some: they must fit on the printed product"),
    "date_from_datetime_parsing": ("should be a date", "Write it as YYYY-MM-DD"),
    "date_parsing": ("should be a date", "Write it as YYYY-MM-DD"),
    "date_type": ("should be a date", "Write it as YYYY-MM-DD"),
    "uk_phone_number": ("is not a UK phone number of the right length",
                        'A number beginning 0 has 10 or 11 digits, e.g. "01632 960123"; short ones are numbers such as'
                        ' 999, 101 and 116 123: check for a digit missing or typed twice'),
    "uk_national_number": ("is not a full phone number",
                           'Write all 10 or 11 digits, area code first, e.g. "01632 960123": check for a digit missing '
                           "or typed twice"),
}

_PATTERN_HINTS = {
    ID_PATTERN: ("is not a valid id", "Use lowercase letters, digits and single hyphens, e.g. unexplained-money-or-gifts"),
    _DIGITS_AND_SPACES.pattern: ("is not a phone number", 'Write digits and spaces only, in quotes, e.g. "0808 800 5000"'),
    Colour.__metadata__[0].pattern: ("is not a colour", 'Write it as "#" and six hex digits, in quotes, e.g. "#1B3A5C"'),
    WebAddress.__metadata__[0].pattern: ("is not a web address", "Write it in full, starting https://"),
}


def describe_error(detail) -> tuple[str, str]:
    """What one of pydantic's errors means, and what to do, in plain English."""
    message, hint = _MESSAGES.get(detail["type"], (detail["msg"][0].lower() + detail["msg"][1:], ""))
    if detail["type"] == "string_pattern_mismatch":
        pattern = detail.get("ctx", {}).get("pattern")
        message, hint = _PATTERN_HINTS.get(pattern, ("has the wrong form", ""))
    if detail["type"] in ("too_short", "too_long", "string_too_long") and "ctx" in detail:
        limit = detail["ctx"].get("min_length" if detail["type"] == "too_short" else "max_length")
        hint = f"{hint} (limit: {limit})"
    if detail["type"] == "extra_forbidden":
        message = f'"{detail["loc"][-1]}" {message}'
    return message, hint


def problems_from_validation(error: ValidationError, loaded: LoadedFile,
                             prefix: FieldPath = ()) -> list[SourceProblem]:
    problems = []
    for detail in error.errors():
        path = tuple(part for part in detail["loc"])
        message, hint = describe_error(detail)
        # An unknown key is pointed at by its name, anything else by its value.
        line_col = loaded.key_positions.get(prefix + path) if detail["type"] == "extra_forbidden" else None
        line_col = line_col or loaded.locate(prefix + path)
        problems.append(SourceProblem(loaded.display_path, *(line_col or (None, None)),
                                      format_field(path), message, hint))
    return problems


def _validate(model: type[BaseModel], loaded: LoadedFile, extra: dict | None = None):
    data = loaded.data
    if not isinstance(data, dict):
        return None, [SourceProblem(loaded.display_path, 1, 1, "", "should be a group of keys, not a single value",
                                    "Start the file with keys such as name:")]
    if extra:
        data = {**extra, **data}
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, problems_from_validation(error, loaded)


def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the current folder if inside it."""
    # abspath, not resolve: a symlink is named by its own path, not its target's.
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _duplicates(items, loaded: LoadedFile, field: str, what: str) -> list[SourceProblem]:
    seen: set[str] = set()
    problems = []
    for index, item in enumerate(items):
        if item.id in seen:
            path = (field, index, "id")
            problems.append(SourceProblem(loaded.display_path, *(loaded.locate(path) or (None, None)),
                                          format_field(path), f'the {what} id "{item.id}" is used twice',
                                          "Give each one its own id"))
        seen.add(item.id)
    return problems


def _reference_problem(loaded: LoadedFile, path: FieldPath, value: str, what: str, known) -> SourceProblem:
    choices = sorted(known)
    choices = ", ".join(choices[:40]) + (", ..." if len(choices) > 40 else "")
    return SourceProblem(loaded.display_path, *(loaded.locate(path) or (None, None)), format_field(path),
                         f'refers to {what} "{value}", which does not exist', f"Use one of: {choices}")


def load_source(source_dir: Path, files: dict[Path, bytes] | None = None) -> Source:
    """Load and validate everything in `source_dir`; raise SourceError with every
    problem. `files` are the bytes of its files as a build has read them
    already (to hash them): the source is made of those, not of a later read."""
    problems: list[SourceProblem] = []

    def read(path: Path) -> LoadedFile | None:
        display = display_path(path)
        loaded, found = load_yaml(path, display, (files or {}).get(path))
        problems.extend(found)
        return loaded

    def require(path: Path) -> LoadedFile | None:
        if not path.is_file():
            problems.append(SourceProblem(display_path(path), None, None, "", "is missing",
                                          f"Every source folder needs {path.name}"))
            return None
        return read(path)

    if not source_dir.is_dir():
        raise SourceError([SourceProblem(display_path(source_dir), None, None, "", "is not a folder",
                                         "Give --source the folder that holds content.yaml")])

    content_file = require(source_dir / "content.yaml")
    organisation_file = require(source_dir / "organisation.yaml")
    workshop_file = require(source_dir / "workshop.yaml")
    venue_paths = sorted((source_dir / "venues").glob("*.yaml"))
    for folder in ("venues", "areas", "translations"):
        # Only *.yaml is read: a venue saved as libraries.yml would otherwise
        # be left out of every build without a word.
        for path in sorted((source_dir / folder).glob("*")):
            if path.suffix != ".yaml" and path.suffix.lower() in (".yaml", ".yml"):
                problems.append(SourceProblem(display_path(path), None, None, "",
                                              "is not read: only files ending in .yaml are",
                                              f"Rename it {path.stem}.yaml"))
    if not venue_paths:
        problems.append(SourceProblem(display_path(source_dir / "venues"), None, None, "", "holds no venue files",
                                      "Add one YAML file per venue type, e.g. venues/hotels.yaml"))

    content = organisation = workshop = None
    if workshop_file:
        workshop, found = _validate(Workshop, workshop_file)
        problems.extend(found)
    if content_file:
        content, found = _validate(Content, content_file)
        problems.extend(found)
    if organisation_file:
        organisation, found = _validate(Organisation, organisation_file)
        problems.extend(found)

    venue_files: list[tuple[LoadedFile, Venue]] = []
    for path in venue_paths:
        if path.is_symlink() and not path.resolve().is_relative_to(source_dir.resolve()):
            problems.append(SourceProblem(display_path(path), None, None, "", "links to a file outside the source folder",
                                          "Copy the file into source/venues/ instead of linking to it"))
            continue
        loaded = read(path)
        if loaded is None:
            continue
        if not re.match(ID_PATTERN, path.stem):
            problems.append(SourceProblem(loaded.display_path, None, None, "", f'"{path.stem}" is not a valid venue id',
                                          "Name the file with lowercase letters, digits and hyphens, e.g. taxi-ranks.yaml"))
            continue
        if isinstance(loaded.data, dict) and "id" in loaded.data:
            problems.append(SourceProblem(loaded.display_path, *loaded.locate(("id",)), "id",
                                          '"id" is not a known key', "The venue id is the file name: remove this line"))
            continue
        venue, found = _validate(Venue, loaded, extra={"id": path.stem})
        problems.extend(found)
        if venue:
            venue_files.append((loaded, venue))

    areas: list[Area] = []
    for path in sorted((source_dir / "areas").glob("*.yaml")):
        loaded = read(path)
        if loaded is None:
            continue
        if not re.match(ID_PATTERN, path.stem):
            problems.append(SourceProblem(loaded.display_path, None, None, "", f'"{path.stem}" is not a valid area id',
                                          "Name the file with lowercase letters, digits and hyphens"))
            continue
        area, found = _validate(Area, loaded, extra={"id": path.stem})
        problems.extend(found)
        if area:
            areas.append(area)

    if content and content_file:
        problems.extend(_check_content(content, content_file))
        if workshop and workshop_file:
            problems.extend(_check_workshop(workshop, workshop_file, content))
        for loaded, venue in venue_files:
            # Every venue file counts, valid or not: a mistake in hotels.yaml must
            # not also be reported as hostels.yaml adapting a missing venue.
            problems.extend(_check_venue(venue, loaded, content, {path.stem for path in venue_paths}))
            if workshop:
                problems.extend(_check_venue_workshop(venue, loaded, content, workshop))

    if problems:
        raise SourceError(problems)

    # Venues in the order the client lists its places; any others after, by name.
    place_order = {place.id: index for index, place in enumerate(content.places)}
    venues = sorted((venue for _, venue in venue_files),
                    key=lambda venue: (place_order.get(venue.id, len(place_order)), venue.id))
    source = Source(content, organisation, workshop, venues, areas)
    # Translations are checked against the valid English source they translate.
    from .translate import load_translations
    source.translations, found = load_translations(source_dir, source, read)
    if problems or found:
        raise SourceError(problems + found)
    return source


# Items the layouts print by id. Renaming one must be reported here, at its
# place in content.yaml, not later as a layout error in every file.
LAYOUT_ITEMS = {
    "actions": ("tell-your-manager", "call-101", "write-it-down"),
    "routes": ("emergency", "nspcc-helpline", "crimestoppers", "childline"),
}


def _check_content(content: Content, loaded: LoadedFile) -> list[SourceProblem]:
    problems = []
    for field, required in LAYOUT_ITEMS.items():
        items = {item.id: item for item in getattr(content, field)}
        for item_id in required:
            if item_id not in items:
                problems.append(SourceProblem(loaded.display_path, *(loaded.locate((field,)) or (None, None)), field,
                                              f'has no item with the id "{item_id}", which the layouts print',
                                              "Keep that id when you reword the item"))
            elif field == "routes" and not items[item_id].number:
                path = (field, [item.id for item in getattr(content, field)].index(item_id), "number")
                problems.append(SourceProblem(loaded.display_path, *(loaded.locate(path) or (None, None)),
                                              format_field(path), "is missing: the products print this number",
                                              "Add the number"))
    for field in ("offers", "places", "who_it_affects", "signs", "ways", "trafficking", "laws",
                  "actions", "routes", "references"):
        problems += _duplicates(getattr(content, field), loaded, field, field.rstrip("s").replace("_", " "))
    references = {ref.id for ref in content.references}
    if content.definition.source not in references:
        problems.append(_reference_problem(loaded, ("definition", "source"), content.definition.source,
                                           "the reference", references))
    for index, source in enumerate(content.sources):
        if source not in references:
            problems.append(_reference_problem(loaded, ("sources", index), source, "the reference", references))
    for index, law in enumerate(content.laws):
        if law.source not in references:
            problems.append(_reference_problem(loaded, ("laws", index, "source"), law.source, "the reference", references))
    for index, route in enumerate(content.routes):
        if not route.number and not route.web:
            path = ("routes", index)
            problems.append(SourceProblem(loaded.display_path, *(loaded.locate(path) or (None, None)),
                                          format_field(path), "has neither a number nor a web address",
                                          "Add number: or web:"))
    return problems


# Layouts print white text on the venue colour; WCAG AAA asks 7:1 for body text.
MIN_ACCENT_CONTRAST = 7.0


def _check_venue(venue: Venue, loaded: LoadedFile, content: Content, venue_ids: set[str]) -> list[SourceProblem]:
    problems = _duplicates(venue.signs, loaded, "signs", "sign") + _duplicates(venue.actions, loaded, "actions", "action")
    ratio = contrast_ratio(hex_to_rgb(venue.accent), (1.0, 1.0, 1.0))
    if ratio < MIN_ACCENT_CONTRAST:
        problems.append(SourceProblem(loaded.display_path, *(loaded.locate(("accent",)) or (None, None)), "accent",
                                      f"{venue.accent} gives only {ratio:.1f}:1 contrast with white text, "
                                      f"below {MIN_ACCENT_CONTRAST:g}:1", "Choose a darker colour"))
    core_signs = {sign.id for sign in content.signs}
    own_signs = {sign.id for sign in venue.signs}
    references = {ref.id for ref in content.references}

    for index, sign in enumerate(venue.signs):
        if sign.id in core_signs:
            path = ("signs", index, "id")
            problems.append(SourceProblem(loaded.display_path, *(loaded.locate(path) or (None, None)), format_field(path),
                                          f'"{sign.id}" is already the id of a core sign in content.yaml',
                                          "Give the venue's own sign another id, or list the core sign under poster/card"))
    for field_path, chosen in ((("poster", "signs"), venue.poster.signs), (("card", "signs"), venue.card.signs)):
        for index, sign_id in enumerate(chosen):
            if sign_id not in core_signs | own_signs:
                problems.append(_reference_problem(loaded, (*field_path, index), sign_id, "the sign",
                                                   core_signs | own_signs))
    if venue.card.action not in {action.id for action in venue.actions}:
        problems.append(_reference_problem(loaded, ("card", "action"), venue.card.action, "the venue action",
                                           {action.id for action in venue.actions}))
    for index, source in enumerate(venue.sources):
        if source not in references:
            problems.append(_reference_problem(loaded, ("sources", index), source, "the reference", references))
    for index, note in enumerate(venue.notes):
        if note.source and note.source not in references:
            problems.append(_reference_problem(loaded, ("notes", index, "source"), note.source, "the reference", references))
    if venue.adapted and venue.adapted.from_venue not in venue_ids - {venue.id}:
        problems.append(_reference_problem(loaded, ("adapted", "from"), venue.adapted.from_venue, "the venue",
                                           venue_ids - {venue.id}))
    return problems


def content_ids(content: Content, venue: Venue | None = None) -> set[str]:
    """Every id a quiz answer may test: the core content's items, and the venue's."""
    ids = {content.definition.id, *(point.id for point in content.definition.points)}
    for field in ("offers", "places", "who_it_affects", "signs", "ways", "trafficking", "laws", "actions", "routes"):
        ids |= {item.id for item in getattr(content, field)}
    if venue:
        ids |= {item.id for item in (*venue.signs, *venue.actions, *venue.notes)}
    return ids


def _check_quiz(questions: list[QuizQuestion], loaded: LoadedFile, field: str, known: set[str]) -> list[SourceProblem]:
    problems = _duplicates(questions, loaded, field, "quiz question")
    for index, question in enumerate(questions):
        path = (field, index)
        where = loaded.locate(path) or (None, None)
        if question.kind == "true-false":
            if question.options or not isinstance(question.answer, bool):
                problems.append(SourceProblem(loaded.display_path, *where, format_field(path),
                                              "a true-false question has no options and an answer of true or false",
                                              "Write answer: true or answer: false, and remove options"))
        elif isinstance(question.answer, bool) or not 1 <= question.answer <= len(question.options) \
                or len(question.options) < 2:
            problems.append(SourceProblem(loaded.display_path, *where, format_field(path + ("answer",)),
                                          "must be the number of the right option (1 for the first)",
                                          "List at least two options and give the right one's number"))
        if question.tests not in known:
            problems.append(_reference_problem(loaded, path + ("tests",), question.tests, "the content item", known))
    return problems


def _check_workshop(workshop: Workshop, loaded: LoadedFile, content: Content) -> list[SourceProblem]:
    problems = _duplicates(workshop.objectives, loaded, "objectives", "objective")
    problems += _duplicates(workshop.sections, loaded, "sections", "section")
    problems += _check_quiz(workshop.quiz, loaded, "quiz", content_ids(content))
    sections = {section.id for section in workshop.sections}
    for index, topic in enumerate(workshop.certificate_topics):
        if topic not in sections:
            problems.append(_reference_problem(loaded, ("certificate_topics", index), topic,
                                               "the workshop section", sections))
    for plan_index, plan in enumerate(workshop.plans):
        total = sum(step.minutes for step in plan.steps)
        if total != plan.minutes:
            path = ("plans", plan_index, "minutes")
            problems.append(SourceProblem(loaded.display_path, *(loaded.locate(path) or (None, None)),
                                          format_field(path), f"the steps add up to {total} minutes, not {plan.minutes}",
                                          "Change the steps' minutes or the plan's length"))
        for step_index, step in enumerate(plan.steps):
            if step.section not in sections:
                problems.append(_reference_problem(loaded, ("plans", plan_index, "steps", step_index, "section"),
                                                   step.section, "the workshop section", sections))
    return problems


def _check_venue_workshop(venue: Venue, loaded: LoadedFile, content: Content, workshop: Workshop) -> list[SourceProblem]:
    problems = _duplicates(venue.scenarios, loaded, "scenarios", "scenario")
    signs = {sign.id for sign in (*content.signs, *venue.signs)}
    for index, scenario in enumerate(venue.scenarios):
        for sign_index, sign_id in enumerate(scenario.signs):
            if sign_id not in signs:
                problems.append(_reference_problem(loaded, ("scenarios", index, "signs", sign_index), sign_id,
                                                   "the sign", signs))
    problems += _check_quiz(venue.quiz, loaded, "quiz", content_ids(content, venue))
    core_ids = {question.id for question in workshop.quiz}
    for index, question in enumerate(venue.quiz):
        if question.id in core_ids:
            path = ("quiz", index, "id")
            problems.append(SourceProblem(loaded.display_path, *(loaded.locate(path) or (None, None)),
                                          format_field(path), f'"{question.id}" is already a core quiz question id',
                                          "Give the venue's question its own id"))
    if len(workshop.quiz) + len(venue.quiz) != QUIZ_LENGTH:
        problems.append(SourceProblem(loaded.display_path, *(loaded.locate(("quiz",)) or (None, None)), "quiz",
                                      f"has {len(venue.quiz)} questions; with the {len(workshop.quiz)} core questions "
                                      f"the quiz must have {QUIZ_LENGTH}",
                                      f"Give this venue {QUIZ_LENGTH - len(workshop.quiz)} questions"))
    actions = {action.id for action in venue.actions}
    for index, step in enumerate(venue.flowchart.steps):
        if step not in actions:
            problems.append(_reference_problem(loaded, ("flowchart", "steps", index), step, "the venue action", actions))
    for index, step in enumerate(venue.flowchart.instead_of):
        if step not in SHARED_FLOWCHART_STEPS:
            problems.append(_reference_problem(loaded, ("flowchart", "instead_of", index), step,
                                               "the shared flowchart step", SHARED_FLOWCHART_STEPS))
    return problems
