"""Stage 4, auto-fit: a job laid out so that the text of each of its fit
regions fits its box, shrinking it no further than its layout and the
product's smallest text size allow (see README, "Preflight").

A region that cannot fit, or had to shrink, is said in terms of the source:
the texts it prints (the elements inside it the layout marks `data-source`),
each at its file, line and field (in the translation file for a translated
edition), the longest first, with about how many characters to cut.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

from .text import plural

if TYPE_CHECKING:
    from .jobs import Job
    from .preflight import RegionFit
    from .render import Rendered, Renderer
    from .translate import Translation, WrittenAt

# Bisection steps for a region's scale: 2^-6 of its range (about 0.2 pt on an A2 headline).
FIT_STEPS = 6
# Growing a region takes at most this many tries: a sign list a few per cent
# smaller than it could be leaves no band of the poster empty.
GROW_STEPS = 3
# A region whose content fills this share of its box is full: it does not grow.
GROW_FULL = 0.97
# When no text's lines can absorb the overflow (every text one line long),
# the characters to cut are shared among the longest texts that hold at least
# this many times as many: none is asked to lose more than about a third of
# itself while a longer one could lose it.
CUT_SHARE = 3
# Text rewrapped into fewer lines fills them a little less than its full
# lines are filled now (a line breaks between words): the characters asked
# to be cut leave this share of those lines' characters, so that cutting
# them is enough (a sign cut as a card's message said fell 6 characters
# short of full size without it).
WRAP_MARGIN = 0.95


class Fitted(NamedTuple):
    """A job's final layout, the scale applied to each fit region, and, in
    the source's terms, a problem for each region that cannot fit and a
    warning for each region shrunk below its design size."""

    rendered: Rendered
    scales: dict[str, float]
    problems: list[str]
    warnings: list[str]


def _written(region: RegionFit, translation: Translation) -> list[tuple[str, WrittenAt]]:
    """The keys of the texts the region prints and where each is written,
    the longest first (in reading order when as long)."""
    found = [(key, translation.where(key)) for key in region.sources]
    return sorted(((key, written) for key, written in found if written), key=lambda pair: -pair[1].characters)


def _cuts_by_lines(region: RegionFit, texts: list[tuple[str, WrittenAt]],
                   over_mm: float) -> tuple[list[tuple[WrittenAt, int]], float]:
    """The characters to cut from the longest texts, longest first, for the
    region to lose `over_mm` of height: whole lines, each text keeping one,
    a text's lines holding as many characters as its full lines do now; and
    the height still over when their lines cannot take it all (the texts
    left are one line each)."""
    from .preflight import OVERSET_TOLERANCE_MM as TOLERANCE_MM

    laid_out = region.text_lines()
    cuts = []
    for key, written in texts:
        lines = laid_out.get(key)
        if over_mm <= TOLERANCE_MM:
            break
        if not lines or len(lines.characters) < 2:
            continue
        count, height = len(lines.characters), sum(lines.heights) / len(lines.heights)
        if height <= 0:
            continue
        losing = min(count - 1, math.ceil((over_mm - TOLERANCE_MM) / height))
        per_line = sum(lines.characters[:-1]) / (count - 1)  # its full lines: the last may be short
        cut = math.ceil(sum(lines.characters) - (count - losing) * per_line * WRAP_MARGIN)
        cuts.append((written, max(1, min(written.characters - 1, cut))))
        over_mm -= losing * height
    return cuts, max(over_mm, 0.0)


def _cuts_by_share(texts: list[tuple[str, WrittenAt]], characters: int) -> list[tuple[WrittenAt, int]]:
    """`characters` to cut, shared among the longest of `texts` by their
    length: as many of them as hold CUT_SHARE times that (every text if they
    do not)."""
    named: list[WrittenAt] = []
    for _, written in texts:
        if named and sum(each.characters for each in named) >= CUT_SHARE * characters:
            break
        named.append(written)
    total = sum(each.characters for each in named) or 1
    return [(text, min(text.characters, max(1, math.ceil(characters * text.characters / total)))) for text in named]


def _to_shorten(region: RegionFit, texts: list[tuple[str, WrittenAt]]) -> str:
    """`source/venues/hotels.yaml:20:12: signs[3].short (62 characters): shorten by about 6 characters; ...`:
    the texts to shorten, the longest first, for the region (as measured) to
    fit. Cutting characters saves whole lines: when every text is one line
    (or the lines they can lose are not enough), the height still over is
    said, to take out a line or an item."""
    from .preflight import OVERSET_TOLERANCE_MM

    still_over = 0.0
    if region.lost_characters:
        cuts = _cuts_by_share(texts, region.lost_characters)
    else:
        cuts, still_over = _cuts_by_lines(region, texts, region.needed_mm - region.has_mm)
        if not cuts:  # every text one line long: shortening them is all the source can say
            still_over = 0.0
            cuts = _cuts_by_share(texts, math.ceil((1 - region.has_mm / region.needed_mm)
                                                   * sum(text.characters for _, text in texts)))
    said = "; ".join(f"{text} ({plural(text.characters, 'character')}): shorten by about "
                     f"{plural(cut, 'character')}" for text, cut in cuts)
    if still_over > OVERSET_TOLERANCE_MM:
        said += f"; then it is still {still_over:.1f} mm too long: take out a line or an item"
    return said


def _overset_problem(name: str, region: RegionFit, translation: Translation, at: str = "") -> str:
    """The texts to shorten for a region that does not fit, then the
    region's own measures (for a region whose texts the layout does not
    mark, a name on a certificate: its measures and the share to cut)."""
    texts = _written(region, translation)
    if region.lost_characters:
        facts = f"region \"{name}\" loses {region.lost_characters} characters past the edge of the page{at}"
        return f"overset: {_to_shorten(region, texts)} ({facts})" if texts else f"overset: {facts}: shorten the text"
    facts = f"region \"{name}\" needs {region.needed_mm:.1f} mm, has {region.has_mm:.1f} mm{at}"
    if texts:
        return f"overset: {_to_shorten(region, texts)} ({facts})"
    return f"overset: {facts}: shorten the text by about {_shortfall(region)}"


def _shrunk_warning(name: str, scale: float, at_full_size: RegionFit, translation: Translation) -> str:
    """A region set below its design size: its scale, then the texts to
    shorten for it to fit at full size (as measured at full size)."""
    texts = _written(at_full_size, translation)
    if not texts:
        return f"fit: region \"{name}\" shrunk to {scale:.0%} of its size to fit"
    return (f"fit: text shrunk to {scale:.0%} of its size to fit region \"{name}\"; to print it at full size: "
            f"{_to_shorten(at_full_size, texts)}")


def fit(renderer: Renderer, job: Job) -> Fitted:
    """Lay out a job so that every fit region's content fits its box, and a
    region that may grow fills it.

    A region that is overset is shrunk by bisection on its scale, down to the
    larger of the layout's `data-fit-min` and the scale that would take its
    smallest text to the product's minimum size. Regions that may not shrink
    (`data-fit-min="1"`) are only checked, once the others have been fitted.
    Then a region that fits with room to spare and may grow (`data-fit-max`)
    is enlarged to about the largest scale that still fits (see `_grow`): a
    short list of signs is set larger instead of leaving a band of the poster
    empty. The final layout has its lists set in columns spaced to end level.
    A job fitted before in this process (a card, then its sheet) is laid out
    once with the fit found, and has the same problems and warnings. Returns
    the final layout, the scales applied, for each region that cannot fit a
    problem naming the texts to shorten and how much room it needs, and for
    each region shrunk below its design size a warning naming its texts and
    its scale."""
    from .preflight import fit_regions, measure_regions
    from .render import fit_declarations
    from .translate import edition

    if job in renderer.fits:
        scales, problems, warnings = renderer.fits[job]
        return Fitted(renderer.level_columns(renderer.render(job, scales)), scales, list(problems), list(warnings))
    translation = edition(renderer.source, job.lang)
    rendered = renderer.render(job)
    measured = measure_regions(rendered.document)
    limits = fit_regions(rendered.html_root)
    scales: dict[str, float] = {}
    problems = []
    reported = set()
    kept = rendered  # the layout at the current region's `low`: often the final one
    overset = [name for name, region in measured.items() if not region.fits and limits[name].smallest < 1.0]
    # Regions that are pages of their own (a deck's slides) are fitted as one
    # group: each layout tries a scale for every one of them, as no scale of
    # one moves another. A deck in a long translation takes a fifth of the
    # layouts it would one region at a time. Any other region is a group of its own.
    own_pages = [name for name in overset if limits[name].own_page]
    groups = [own_pages] if own_pages else []
    groups += [[name] for name in overset if name not in own_pages]
    for group in groups:
        floors = {name: _floor(job, limits[name], measured[name]) for name in group}
        kept = renderer.render(job, {**scales, **floors})
        at_floor = measure_regions(kept.document)
        for name in group:
            if not at_floor[name].fits:
                problems.append(_overset_problem(name, at_floor[name], translation,
                                                 _at_smallest(measured[name], floors[name])))
                reported.add(name)
                scales[name] = floors.pop(name)
        lows, kept = _largest_fitting(renderer, job, scales, floors, kept, FIT_STEPS)
        scales.update({name: round(low, 4) for name, low in lows.items()})
    for name, region in measure_regions(kept.document).items():
        if name in scales or limits[name].largest <= 1.0 or region.needed_mm >= region.has_mm * GROW_FULL:
            continue
        grown, kept = _grow(renderer, job, scales, name, limits[name].largest, region, kept)
        if grown > 1.0:
            scales[name] = round(grown, 4)
    # The same fit stylesheet gives the same layout: when the layout kept was
    # made with the final scales (as written to 4 places, as the stylesheet
    # has them), it is not rendered again.
    rendered = kept if kept.fit_css == fit_declarations(scales) else renderer.render(job, scales)
    problems += [_overset_problem(name, region, translation)
                 for name, region in measure_regions(rendered.document).items()
                 if not region.fits and name not in reported]
    # Any text set below its design size is said, with the texts to shorten
    # for it to print at full size (measured at full size).
    warnings = [] if problems else [_shrunk_warning(name, scale, measured[name], translation)
                                    for name, scale in scales.items() if scale < 1.0]
    rendered = renderer.level_columns(rendered)
    renderer.fits[job] = (scales, problems, warnings)
    return Fitted(rendered, scales, list(problems), list(warnings))


def _floor(job: Job, limits, region: RegionFit) -> float:
    """The smallest scale of a region: its layout's limit, or the scale that
    takes its smallest text to the product's minimum size, whichever is larger."""
    if region.smallest_pt:
        return max(limits.smallest, job.product.min_text_pt / region.smallest_pt)
    return limits.smallest


def _at_smallest(region: RegionFit, floor: float) -> str:
    """How small a region's text was set when it still did not fit, for its problem."""
    smallest = f"{region.smallest_pt * floor:.1f} pt" if region.smallest_pt else "its smallest size"
    return f" even with its text at {smallest}"


def _grow(renderer: Renderer, job: Job, scales: dict[str, float], name: str, largest: float, region,
          kept: Rendered) -> tuple[float, Rendered]:
    """The largest scale of region `name` (which fits at 1, laid out as
    `kept`) up to `largest` at which it still fits, and its layout. Text that
    wraps grows in height about as the square of its scale: each try is the
    scale that law says fills the box, from the largest fitting try so far,
    kept below any try that did not fit."""
    from .preflight import measure_regions

    low, high = 1.0, largest + 0.0001  # low fits; high is above any scale known to fit
    for _ in range(GROW_STEPS):
        guess = round(min(low * (region.has_mm * GROW_FULL / max(region.needed_mm, 0.1)) ** 0.5, largest), 4)
        if guess >= high:  # that law overshot before: halve the distance instead
            guess = round((low + high) / 2, 4)
        if guess <= low * 1.005:
            break
        candidate = renderer.render(job, {**scales, name: guess})
        measured = measure_regions(candidate.document)[name]
        if measured.fits:
            low, kept, region = guess, candidate, measured
            if measured.needed_mm >= measured.has_mm * GROW_FULL:
                break
        else:
            high = guess
    return low, kept


def _largest_fitting(renderer: Renderer, job: Job, scales: dict[str, float], floors: dict[str, float],
                     kept: Rendered, steps: int) -> tuple[dict[str, float], Rendered]:
    """The largest scale of each region of `floors` (one region, or regions
    that are pages of their own; each fits at its floor, laid out so in
    `kept`, and not at 1) by bisection, all in the same layouts, and the
    layout of them all at those scales when one was made."""
    from .preflight import measure_regions

    lows, highs = dict(floors), {name: 1.0 for name in floors}
    for _ in range(steps if floors else 0):
        middles = {name: (lows[name] + highs[name]) / 2 for name in floors}
        candidate = renderer.render(job, {**scales, **{name: round(middle, 4) for name, middle in middles.items()}})
        measured = measure_regions(candidate.document)
        for name, middle in middles.items():
            if measured[name].fits:
                lows[name] = middle
            else:
                highs[name] = middle
        if all(measured[name].fits for name in middles):
            kept = candidate
    return lows, kept


def _shortfall(region) -> str:
    return f"{(1 - region.has_mm / region.needed_mm) * 100:.0f}%"
