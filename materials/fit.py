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


def _overset_problem(name: str, region, at: str = "") -> str:
    if region.lost_characters:
        return (f"overset: region \"{name}\" loses {region.lost_characters} characters past the edge of "
                f"the page{at}: shorten the text")
    return (f"overset: region \"{name}\" needs {region.needed_mm:.1f} mm, has {region.has_mm:.1f} mm{at}: "
            f"shorten the text by about {_shortfall(region)}")


def fit(renderer: Renderer, job: Job) -> tuple[Rendered, dict[str, float], list[str]]:
    """Lay out a job so that every fit region's content fits its box.

    A region that is overset is shrunk by bisection on its scale, down to the
    larger of the layout's `data-fit-min` and the scale that would take its
    smallest text to the product's minimum size. Regions that may not shrink
    (`data-fit-min="1"`) are only checked, once the others have been fitted.
    A job fitted before in this process (a card, then its sheet) is laid out
    once with the fit found, and has the same problems. Returns the final
    layout, the scales applied and, for each region that cannot fit, a problem
    naming how much room it needs."""
    from .preflight import fit_regions, measure_regions
    from .render import fit_declarations

    if job in renderer.fits:
        scales, problems = renderer.fits[job]
        return renderer.render(job, scales), scales, list(problems)
    rendered = renderer.render(job)
    measured = measure_regions(rendered.document)
    if all(region.fits for region in measured.values()):
        renderer.fits[job] = ({}, [])
        return rendered, {}, []
    minimums = fit_regions(rendered.html_root)
    scales: dict[str, float] = {}
    problems = []
    reported = set()
    kept = rendered  # the layout at the current region's `low`: often the final one
    for name, region in measured.items():
        if region.fits or minimums.get(name, 1.0) >= 1.0:
            continue
        floor = minimums[name]
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
        low, high = floor, 1.0  # low fits, high does not
        for _ in range(FIT_STEPS):
            middle = (low + high) / 2
            candidate = renderer.render(job, {**scales, name: middle})
            if measure_regions(candidate.document)[name].fits:
                low, kept = middle, candidate
            else:
                high = middle
        scales[name] = round(low, 4)
    # The same fit stylesheet gives the same layout: when the layout kept was
    # made with the final scales (as written to 4 places, as the stylesheet
    # has them), it is not rendered again.
    rendered = kept if kept.fit_css == fit_declarations(scales) else renderer.render(job, scales)
    problems += [_overset_problem(name, region) for name, region in measure_regions(rendered.document).items()
                 if not region.fits and name not in reported]
    renderer.fits[job] = (scales, problems)
    return rendered, scales, list(problems)


def _shortfall(region) -> str:
    return f"{(1 - region.has_mm / region.needed_mm) * 100:.0f}%"
