"""Text filters the layouts (and the catalogue) print through, and the words
of messages. No WeasyPrint here: the catalogue of a build that rendered
nothing must not import it."""

from __future__ import annotations

import datetime as dt


def long_date(value: dt.date) -> str:
    """25 November 2026: the form British readers expect, unambiguous in print."""
    return f"{value.day} {value:%B %Y}"


def no_widow(text: str) -> str:
    """Join the last two words with a no-break space, so a headline never ends
    with one short word alone on its last line."""
    head, space, last = text.rpartition(" ")
    return f"{head}\u00a0{last}" if space and len(last) < 10 else text


def spaced(text: str | None) -> str:
    """`text` with each run of white space (no-break spaces too) one space:
    wording compared as it reads, however a layout broke or joined it."""
    return " ".join((text or "").split())


def plural(count: int, word: str) -> str:
    """`1 question`, `2 questions`: a message's count and what it counts."""
    return f"{count} {word}{'' if count == 1 else 's'}"
