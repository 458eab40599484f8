"""Stage 4, auto-fit: a job laid out so that the text of each of its fit
regions fits its box, shrinking it no further than its layout and the
product's smallest text size allow (see README, "Preflight").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .jobs import Job
    from .render import Rendered, Renderer

# Bisection steps for a region's scale: 2^-6 of its range (about 0.2 pt on an A2 headline).
FIT_STEPS = 6
# Growing a region takes at most this many tries: a sign list a few per cent
# smaller than it could be leaves no band of the poster empty.
GROW_STEPS = 3
# A region whose content fills this share of its box is full: it does not grow.
GROW_FULL = 0.97


def _overset_problem(name: str, region, at: str = "") -> str:
    if region.lost_characters:
        return (f"overset: region \"{name}\" loses {region.lost_characters} characters past the edge of "
                f"the page{at}: shorten the text")
    return (f"overset: region \"{name}\" needs {region.needed_mm:.1f} mm, has {region.has_mm:.1f} mm{at}: "
            f"shorten the text by about {_shortfall(region)}")


def fit(renderer: Renderer, job: Job) -> tuple[Rendered, dict[str, float], list[str]]:
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
    once with the fit found, and has the same problems. Returns the final
    layout, the scales applied and, for each region that cannot fit, a problem
    naming how much room it needs."""
    from .preflight import fit_regions, measure_regions
    from .render import fit_declarations

    if job in renderer.fits:
        scales, problems = renderer.fits[job]
        return renderer.level_columns(renderer.render(job, scales)), scales, list(problems)
    rendered = renderer.render(job)
    measured = measure_regions(rendered.document)
    limits = fit_regions(rendered.html_root)
    scales: dict[str, float] = {}
    problems = []
    reported = set()
    kept = rendered  # the layout at the current region's `low`: often the final one
    for name, region in measured.items():
        if region.fits or limits[name].smallest >= 1.0:
            continue
        floor = limits[name].smallest
        if region.smallest_pt:
            floor = max(floor, job.product.min_text_pt / region.smallest_pt)
        kept = renderer.render(job, {**scales, name: floor})
        at_floor = measure_regions(kept.document)[name]
        if not at_floor.fits:
            smallest = f"{region.smallest_pt * floor:.1f} pt" if region.smallest_pt else "its smallest size"
            problems.append(_overset_problem(name, at_floor, f" even with its text at {smallest}"))
            reported.add(name)
            scales[name] = floor
            continue
        low, kept = _largest_fitting(renderer, job, scales, name, floor, 1.0, kept, FIT_STEPS)
        scales[name] = round(low, 4)
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
    problems += [_overset_problem(name, region) for name, region in measure_regions(rendered.document).items()
                 if not region.fits and name not in reported]
    rendered = renderer.level_columns(rendered)
    renderer.fits[job] = (scales, problems)
    return rendered, scales, list(problems)


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


def _largest_fitting(renderer: Renderer, job: Job, scales: dict[str, float], name: str, low: float, high: float,
                     kept: Rendered, steps: int) -> tuple[float, Rendered]:
    """The largest scale of region `name` between `low` (which fits, laid out
    as `kept`) and `high` (which does not), by bisection, and its layout."""
    from .preflight import measure_regions

    for _ in range(steps):
        middle = (low + high) / 2
        candidate = renderer.render(job, {**scales, name: round(middle, 4)})
        if measure_regions(candidate.document)[name].fits:
            low, kept = middle, candidate
        else:
            high = middle
    return low, kept


def _shortfall(region) -> str:
    return f"{(1 - region.has_mm / region.needed_mm) * 100:.0f}%"
