"""Facts to check again before a print run: data in the source, not memory.

A law, a reporting route, a reference, a venue's note or an area's contact
may carry `check_before_print:` (why, and against which source) and a
`reviewed:` date; `content.yaml` and each area have a `reviewed:` date of
their own. Loading the source lists each of those (`Review`), at its file,
line and column; `due` says which need a person's check on a given day: every
item marked `check_before_print`, and every `reviewed:` date more than 12
months old. `make-materials check` lists them and `build --strict` fails on
them. A fictional area (never printed for distribution) is not listed,
but its dates are checked as any other's.

A `Review` is plain values, so that a build with nothing to do can list them
again from its build record without loading the source (pipeline.py): this
module imports the model (pydantic) and the loader only to make them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import SourceProblem

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .load import FieldPath, LoadedFile
    from .model import Area, Content, Venue

REVIEW_MONTHS = 12


@dataclass(frozen=True)
class Review:
    """One item's mark (`why`) or its `reviewed:` date, where it is written."""
    file: str
    line: int | None
    column: int | None
    field: str          # the item, "routes[2]"; "" for the file's own date
    what: str           # "NSPCC Helpline"
    why: str | None = None
    reviewed: dt.date | None = None

    def where(self) -> str:
        return ":".join(str(part) for part in (self.file, self.line, self.column) if part is not None)

    def subject(self) -> str:
        return f"{self.field} ({self.what})" if self.field else self.what

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "reviewed": self.reviewed.isoformat() if self.reviewed else None}

    @classmethod
    def from_json(cls, data: dict) -> Review:
        reviewed = data.get("reviewed")
        return cls(**{**data, "reviewed": dt.date.fromisoformat(reviewed) if reviewed else None})


def one_year_after(day: dt.date) -> dt.date:
    """The same day 12 months on; a 29 February's is the 28th."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def due(reviews: list[Review], today: dt.date | None = None) -> list[str]:
    """Each item to check before printing on `today` (default: the real one),
    one line each: where (its mark, else its date), what, and why."""
    today = today or dt.date.today()
    lines = []
    for _, entries in itertools.groupby(reviews, key=lambda review: (review.file, review.field)):
        entries = list(entries)
        marked = next((review for review in entries if review.why), None)
        stale = next((review for review in entries if review.reviewed and today > one_year_after(review.reviewed)),
                     None)
        if not (marked or stale):
            continue
        reasons = [f"reviewed {stale.reviewed.isoformat()}, more than {REVIEW_MONTHS} months ago"] if stale else []
        reasons += [f"check before printing: {marked.why}"] if marked else \
            ["check it against its source, then update reviewed:"]
        first = marked or stale
        lines.append(f"{first.where()}: {first.subject()}: {'; '.join(reasons)}")
    return lines


def _checked_items(model: BaseModel, path: FieldPath):
    """Every `Checked` item inside `model`, with its path."""
    from pydantic import BaseModel

    from .model import Checked

    for name in type(model).model_fields:
        value = getattr(model, name)
        for index, item in enumerate(value) if isinstance(value, list) else ((None, value),):
            item_path = path + ((name,) if index is None else (name, index))
            if isinstance(item, Checked):
                yield item_path, item
            if isinstance(item, BaseModel):
                yield from _checked_items(item, item_path)


def _reviews_in(loaded: LoadedFile, model: BaseModel, what: str | None = None) -> list[Review]:
    """Each checked item's mark and date in one file, and with `what` (what
    it dates) the file's own `reviewed:` date."""
    from .load import format_field

    def review(path: FieldPath, name: str, label: str, **value) -> Review:
        return Review(loaded.display_path, *(loaded.locate(path + (name,)) or (None, None)), format_field(path),
                      label, **value)

    found = [review((), "reviewed", what, reviewed=model.reviewed)] if what else []
    for path, item in _checked_items(model, ()):
        if item.check_before_print:
            found.append(review(path, "check_before_print", item.label, why=item.check_before_print))
        if item.reviewed:
            found.append(review(path, "reviewed", item.label, reviewed=item.reviewed))
    return found


def source_reviews(content: tuple[LoadedFile, Content] | None, venues: list[tuple[LoadedFile, Venue]],
                   areas: list[tuple[LoadedFile, Area]]) -> list[Review]:
    """Every mark and `reviewed:` date in the valid files of the source, a
    fictional area's too (`for_print` leaves them out)."""
    found = _reviews_in(*content, "the content’s review date, printed on every product") if content else []
    for loaded, venue in venues:
        found += _reviews_in(loaded, venue)  # a venue file has no date of its own
    for loaded, area in areas:
        found += _reviews_in(loaded, area, area.council)
    return found


def for_print(reviews: list[Review], areas: list[tuple[LoadedFile, Area]]) -> list[Review]:
    """The reviews a print run needs: not a fictional area's, never printed for distribution."""
    fictional = {loaded.display_path for loaded, area in areas if area.fictional}
    return [review for review in reviews if review.file not in fictional]


def future_dates(reviews: list[Review], today: dt.date | None = None) -> list[SourceProblem]:
    """A `reviewed:` date after `today` is a mistake: it would hide the item from
    the check for a year too long."""
    today = today or dt.date.today()
    return [SourceProblem(review.file, review.line, review.column, f"{review.field}.reviewed".lstrip("."),
                          f"{review.reviewed.isoformat()} is after today's date",
                          "Write the date the item was last checked, as YYYY-MM-DD")
            for review in reviews if review.reviewed and review.reviewed > today]
