"""The workshop slides, in order: one list that both the deck's layout
(layouts/slides/slides.html) prints, one slide a page, and the trainer
handout's session plan names by number ("Slides 4–7"). The plan and the deck
are made from this same list, so they cannot drift apart.

Each slide belongs to one section of the workshop (source/workshop.yaml
`sections`): the slides a plan's step uses are the slides of its section.
Only the order, the grouping and the section are decided here; every word on
a slide comes from the source, every size from the layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Content, Venue, Workshop

# How many items one slide shows, at the deck's text size (24 pt at least)
# with room for a translation a third longer: a few signs, each with its
# pictogram; two ways it happens; three reporting lines.
SIGNS_PER_SLIDE = 4
SIGN_CHARACTERS_PER_SLIDE = 200  # four signs of two lines; fewer when one is long
WAYS_PER_SLIDE = 2
ACTIONS_PER_SLIDE = 4
ROUTES_PER_SLIDE = 3
# The steps of the flowchart's "no immediate danger" branch one slide holds,
# beside the decision and the "yes" branch; the rest follow on a slide of
# their own, under the decision again.
FLOWCHART_STEPS_PER_SLIDE = 3
FLOWCHART_CHARACTERS_PER_SLIDE = 180  # three short steps; two when they are long
# The routes of the first slide of reporting lines: the police, in an
# emergency and not. The helplines follow.
POLICE_ROUTES = ("emergency", "police-non-emergency")
# The workshop sections the slides belong to: the source must have each
# (checks.check_workshop), for a plan's step to name its slides.
DECK_SECTIONS = ("welcome", "what-is-cse", "signs", "report", "scenarios", "myths", "quiz", "close")


@dataclass(frozen=True)
class Slide:
    """One slide: what it shows (`kind`, the layout's part for it), its title
    as printed, the workshop section it belongs to, and its items."""

    kind: str
    title: str
    section: str
    items: tuple = ()
    first_number: int = 1  # the number of its first item where they are numbered (quiz questions, scenarios)


def chunks(items: list, most: int, characters: int | None = None) -> list[list]:
    """`items` in as few slides as hold at most `most` each (and, given
    `characters`, about that many characters of their text each), as evenly
    filled as they can be (13 signs, 4 a slide: 4, 3, 3, 3, not 4, 4, 4, 1)."""
    if not items:
        return []
    count = -(-len(items) // most)
    if characters:
        count = min(len(items), max(count, -(-sum(len(item.text) for item in items) // characters)))
    size, extra = divmod(len(items), count)
    groups, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        groups.append(items[start:end])
        start = end
    return groups


def flowchart_steps(content: Content, venue: Venue) -> list:
    """The actions of the flowchart's branch for no immediate danger, in
    order: the venue's own, the shared ones it does not replace, then the
    report to the police on 101."""
    actions = {action.id: action for action in content.actions}
    return [*(venue.action(step) for step in venue.flowchart.steps),
            *(actions[step] for step in venue.flowchart.shared_steps), actions["call-101"]]


def _numbered(groups: list[list]) -> list[tuple[list, int]]:
    """Each group with the number of its first item, counting on from the group before."""
    numbered, first = [], 1
    for group in groups:
        numbered.append((group, first))
        first += len(group)
    return numbered


def deck(content: Content, workshop: Workshop, venue: Venue) -> list[Slide]:
    """Every slide of a venue's deck, in the order it is shown."""
    headings, labels = content.headings, workshop.labels
    quiz = [*workshop.quiz, *venue.quiz]
    slides = [
        Slide("title", headings.handout_title, "welcome"),
        Slide("objectives", labels.objectives, "welcome", tuple(workshop.objectives)),
        Slide("definition", headings.what_is_cse, "what-is-cse", (content.definition,)),
        Slide("points", headings.what_is_cse, "what-is-cse", tuple(content.definition.points)),
        Slide("who", headings.who_it_affects, "what-is-cse", tuple(content.who_it_affects)),
        # What "where" means, then the places, this venue's marked: both on
        # one slide do not fit at 24 pt in a language 40% longer than English.
        Slide("places-intro", headings.where_it_happens, "what-is-cse"),
        Slide("places", headings.where_it_happens, "what-is-cse", tuple(content.places)),
        Slide("offers", headings.what_is_offered, "what-is-cse", tuple(content.offers)),
        *(Slide("ways", headings.how_it_happens, "what-is-cse", tuple(group))
          for group in chunks(content.ways, WAYS_PER_SLIDE)),
        *(Slide("signs", headings.possible_signs, "signs", tuple(group))
          for group in chunks(content.signs, SIGNS_PER_SLIDE, SIGN_CHARACTERS_PER_SLIDE)),
        *(Slide("venue-signs", headings.venue_signs, "signs", tuple(group))
          for group in chunks(venue.signs, SIGNS_PER_SLIDE, SIGN_CHARACTERS_PER_SLIDE)),
        *(Slide("venue-actions", headings.venue_actions, "report", tuple(group))
          for group in chunks(venue.actions, ACTIONS_PER_SLIDE)),
        *(Slide("flowchart", labels.flowchart, "report", tuple(group), first)
          for group, first in _numbered(chunks(flowchart_steps(content, venue), FLOWCHART_STEPS_PER_SLIDE,
                                                   FLOWCHART_CHARACTERS_PER_SLIDE))),
        Slide("trafficking", headings.trafficking, "report", tuple(content.trafficking)),
        Slide("laws", headings.trafficking, "report", tuple(content.laws)),
        # The local children's services first, with an area's own numbers
        # (and its web address's QR code) or a space to write the number in.
        Slide("report", headings.how_to_report, "report"),
        *(Slide("routes", headings.how_to_report, "report", tuple(group))
          for group in [[route for route in content.routes if route.id in POLICE_ROUTES],
                        *chunks([route for route in content.routes if route.id not in POLICE_ROUTES],
                                ROUTES_PER_SLIDE)] if group),
    ]
    for number, scenario in enumerate(venue.scenarios, 1):
        slides.append(Slide("scenario", scenario.title, "scenarios", (scenario,), number))
    # One question a slide: the room votes on each, and a true-or-false
    # statement is a myth to bust (the myths section uses those slides).
    for number, question in enumerate(quiz, 1):
        section = "myths" if question.kind == "true-false" else "quiz"
        slides.append(Slide("question", labels.quiz, section, (question,), number))
    slides.append(Slide("close", headings.worried, "close"))
    return slides


def section_slides(slides: list[Slide], section: str) -> list[int]:
    """The numbers (1 = the first slide) of the slides a section uses.
    The quiz also uses the myths' slides: its questions are all of them."""
    wanted = {"quiz", "myths"} if section == "quiz" else {section}
    return [number for number, slide in enumerate(slides, 1) if slide.section in wanted]


def number_ranges(numbers: list[int]) -> str:
    """`[4, 5, 6, 7, 9]` as "4–7, 9": runs of consecutive numbers joined by an en dash."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)
