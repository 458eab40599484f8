"""Stage 2, its cross-checks: what the schema alone cannot say. Ids are
unique and every id referred to exists (a layout never meets a dangling id),
venue colours give white text 7:1 contrast, the quiz adds up to ten questions
and each tests an item that exists, a session plan's steps add up to its length.
"""

from __future__ import annotations

from .colour import contrast_ratio, hex_to_rgb
from .deck import DECK_SECTIONS
from .errors import SourceProblem
from .load import FieldPath, LoadedFile
from .model import QUIZ_LENGTH, SHARED_FLOWCHART_STEPS, Content, QuizQuestion, Venue, Workshop
from .pictograms import pictogram_path, similar_pictograms
from .text import plural


def _duplicates(items, loaded: LoadedFile, field: str, what: str) -> list[SourceProblem]:
    seen: set[str] = set()
    problems = []
    for index, item in enumerate(items):
        if item.id in seen:
            path = (field, index, "id")
            problems.append(loaded.problem(path, f'the {what} id "{item.id}" is used twice',
                                           "Give each one its own id"))
        seen.add(item.id)
    return problems


def _clashes(items, core_ids: set[str], loaded: LoadedFile, field: str, what: str, hint: str) -> list[SourceProblem]:
    """A venue's own item whose id is already a core item's."""
    return [loaded.problem((field, index, "id"), f'"{item.id}" is already {what}', hint)
            for index, item in enumerate(items) if item.id in core_ids]


def _pictogram_problems(loaded: LoadedFile, named: list[tuple[FieldPath, str]]) -> list[SourceProblem]:
    """Each pictogram name (at its path) that the icon set does not have."""
    problems = []
    for path, name in named:
        if pictogram_path(name) is None:
            similar = similar_pictograms(name)
            hint = (f"Did you mean {' or '.join(similar)}? " if similar else "") + \
                "Choose an icon of the Material Design Icons set by its name (see README, \"Pictograms\")"
            problems.append(loaded.problem(path, f'"{name}" is not a pictogram in the icon set', hint))
    return problems


# Printed wording is set with typographic quotes and apostrophes: a straight
# one beside curly ones reads as a mistake on a poster.
STRAIGHT_QUOTES = ('"', "'")


def straight_quote_problem(loaded: LoadedFile, path: FieldPath, text: str,
                           field: str | None = None) -> SourceProblem | None:
    """A problem when printed wording holds a straight quote or apostrophe."""
    found = next((mark for mark in STRAIGHT_QUOTES if mark in text), None)
    if found is None:
        return None
    return loaded.problem(path, f"has a straight quote ({found}): printed wording uses typographic quotes",
                          "Write “ and ” round a quotation, ‘ and ’ round a quotation inside it, and ’ for an "
                          "apostrophe (children’s)", field)


def check_quotes(wording, loaded_by_section: dict[tuple[str, ...], LoadedFile]) -> list[SourceProblem]:
    """Every straight quote in the English source's printed wording (`wording`:
    translate.source_wording), at its file and line."""
    problems = []
    for found in wording.values():
        loaded = loaded_by_section.get(found.section)
        problem = loaded and straight_quote_problem(loaded, found.model_path, found.english)
        if problem:
            problems.append(problem)
    return problems


def _reference_problem(loaded: LoadedFile, path: FieldPath, value: str, what: str, known) -> SourceProblem:
    choices = sorted(known)
    choices = ", ".join(choices[:40]) + (", ..." if len(choices) > 40 else "")
    return loaded.problem(path, f'refers to {what} "{value}", which does not exist', f"Use one of: {choices}")


# Items the layouts print by id. Renaming one must be reported here, at its
# place in content.yaml, not later as a layout error in every file.
LAYOUT_ITEMS = {
    "actions": ("tell-your-manager", "call-101", "write-it-down"),
    "routes": ("emergency", "police-non-emergency", "nspcc-helpline", "crimestoppers", "childline"),
}


def check_content(content: Content, loaded: LoadedFile) -> list[SourceProblem]:
    problems = []
    for field, required in LAYOUT_ITEMS.items():
        items = {item.id: item for item in getattr(content, field)}
        for item_id in required:
            if item_id not in items:
                problems.append(loaded.problem((field,), f'has no item with the id "{item_id}", which the layouts '
                                               "print", "Keep that id when you reword the item"))
            elif field == "routes" and not items[item_id].number:
                path = (field, [item.id for item in getattr(content, field)].index(item_id), "number")
                problems.append(loaded.problem(path, "is missing: the products print this number",
                                               "Add the number"))
    problems += _pictogram_problems(loaded, [(("signs", index, "icon"), sign.icon)
                                             for index, sign in enumerate(content.signs)])
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
            problems.append(loaded.problem(path, "has neither a number nor a web address",
                                           "Add number: or web:"))
    return problems


# Layouts print white text on the venue colour; WCAG AAA asks 7:1 for body text.
MIN_ACCENT_CONTRAST = 7.0


def check_venue(venue: Venue, loaded: LoadedFile, content: Content, venue_ids: set[str]) -> list[SourceProblem]:
    problems = _duplicates(venue.signs, loaded, "signs", "sign") + _duplicates(venue.actions, loaded, "actions", "action")
    ratio = contrast_ratio(hex_to_rgb(venue.accent), (1.0, 1.0, 1.0))
    if ratio < MIN_ACCENT_CONTRAST:
        problems.append(loaded.problem(("accent",), f"{venue.accent} gives only {ratio:.1f}:1 contrast with white text, "
                                       f"below {MIN_ACCENT_CONTRAST:g}:1", "Choose a darker colour"))
    problems += _pictogram_problems(loaded, [(("icon",), venue.icon), *((("signs", index, "icon"), sign.icon)
                                                                      for index, sign in enumerate(venue.signs))])
    core_signs = {sign.id for sign in content.signs}
    own_signs = {sign.id for sign in venue.signs}
    references = {ref.id for ref in content.references}

    problems += _clashes(venue.signs, core_signs, loaded, "signs", "the id of a core sign in content.yaml",
                         "Give the venue's own sign another id, or list the core sign under poster/card")
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
        if question.kind == "true-false":
            if question.options or not isinstance(question.answer, bool):
                problems.append(loaded.problem(path,
                                               "a true-false question has no options and an answer of true or false",
                                               "Write answer: true or answer: false, and remove options"))
        elif isinstance(question.answer, bool) or not 1 <= question.answer <= len(question.options) \
                or len(question.options) < 2:
            problems.append(loaded.problem(path + ("answer",),
                                           "must be the number of the right option (1 for the first)",
                                           "List at least two options and give the right one's number"))
        if question.tests not in known:
            problems.append(_reference_problem(loaded, path + ("tests",), question.tests, "the content item", known))
    return problems


def check_workshop(workshop: Workshop, loaded: LoadedFile, content: Content) -> list[SourceProblem]:
    problems = _duplicates(workshop.objectives, loaded, "objectives", "objective")
    problems += _duplicates(workshop.sections, loaded, "sections", "section")
    problems += _check_quiz(workshop.quiz, loaded, "quiz", content_ids(content))
    sections = {section.id for section in workshop.sections}
    for section_id in DECK_SECTIONS:
        if section_id not in sections:
            problems.append(loaded.problem(("sections",), f'has no section with the id "{section_id}", which the '
                                           "slides and the session plan's slide numbers use",
                                           "Keep that id when you reword the section"))
    for index, topic in enumerate(workshop.certificate_topics):
        if topic not in sections:
            problems.append(_reference_problem(loaded, ("certificate_topics", index), topic,
                                               "the workshop section", sections))
    for plan_index, plan in enumerate(workshop.plans):
        total = sum(step.minutes for step in plan.steps)
        if total != plan.minutes:
            path = ("plans", plan_index, "minutes")
            problems.append(loaded.problem(path, f"the steps add up to {plural(total, 'minute')}, not {plan.minutes}",
                                           "Change the steps' minutes or the plan's length"))
        for step_index, step in enumerate(plan.steps):
            if step.section not in sections:
                problems.append(_reference_problem(loaded, ("plans", plan_index, "steps", step_index, "section"),
                                                   step.section, "the workshop section", sections))
    return problems


def check_venue_workshop(venue: Venue, loaded: LoadedFile, content: Content, workshop: Workshop) -> list[SourceProblem]:
    problems = _duplicates(venue.scenarios, loaded, "scenarios", "scenario")
    signs = {sign.id for sign in (*content.signs, *venue.signs)}
    for index, scenario in enumerate(venue.scenarios):
        for sign_index, sign_id in enumerate(scenario.signs):
            if sign_id not in signs:
                problems.append(_reference_problem(loaded, ("scenarios", index, "signs", sign_index), sign_id,
                                                   "the sign", signs))
    problems += _check_quiz(venue.quiz, loaded, "quiz", content_ids(content, venue))
    problems += _clashes(venue.quiz, {question.id for question in workshop.quiz}, loaded, "quiz",
                         "a core quiz question id", "Give the venue's question its own id")
    if len(workshop.quiz) + len(venue.quiz) != QUIZ_LENGTH:
        problems.append(loaded.problem(("quiz",), f"has {plural(len(venue.quiz), 'question')}; with the "
                                       f"{plural(len(workshop.quiz), 'core question')} the quiz must have "
                                       f"{QUIZ_LENGTH}",
                                       f"Give this venue {plural(QUIZ_LENGTH - len(workshop.quiz), 'question')}"))
    actions = {action.id for action in venue.actions}
    for index, step in enumerate(venue.flowchart.steps):
        if step not in actions:
            problems.append(_reference_problem(loaded, ("flowchart", "steps", index), step, "the venue action", actions))
    for index, step in enumerate(venue.flowchart.instead_of):
        if step not in SHARED_FLOWCHART_STEPS:
            problems.append(_reference_problem(loaded, ("flowchart", "instead_of", index), step,
                                               "the shared flowchart step", SHARED_FLOWCHART_STEPS))
    return problems
