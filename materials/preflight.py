"""Stage 5: check every rendered file against its product before it is written.

Like a DTP preflight, the checks run on what WeasyPrint laid out (the box tree)
and on the PDF it wrote, never on the CSS: a card whose signs run past their box
is overset, whatever the stylesheet says.

- overset: the page count, and every fit region's content against its box;
- legibility: the smallest text in the page body against the product's minimum;
- contrast: every text run against the background it is drawn on (WCAG AAA, 7:1);
- glyphs: every character is in the layout's fonts (no missing-glyph boxes);
- structure: headings in order, alt text on every image;
- fonts: every font in the PDF embedded, and one of the layout's own (read
  from the PDF's objects as they are written, not parsed back from the bytes:
  a tenth of a handout's time).
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pydyf
from fontTools.ttLib import TTFont
from weasyprint.formatting_structure import boxes

from .colour import MIN_CONTRAST, contrast_ratio
from .errors import RenderError
from .jobs import ProductFormat
from .text import plural

PX_TO_MM = 25.4 / 96
PX_TO_PT = 72 / 96
SIZE_TOLERANCE_MM = 0.2
OVERSET_TOLERANCE_MM = 0.05  # sub-pixel rounding in the layout


@dataclass
class RegionFit:
    """How one fit region's content measures against its box."""

    name: str
    needed_mm: float
    has_mm: float
    smallest_pt: float | None  # smallest text inside the region
    # Characters of the region's text that were not laid out at all: WeasyPrint
    # drops lines that fall past the edge of the paper.
    lost_characters: int = 0
    box: object = field(default=None, compare=False, repr=False)  # the region's box (of its worst copy)

    @property
    def fits(self) -> bool:
        return self.needed_mm <= self.has_mm + OVERSET_TOLERANCE_MM and not self.lost_characters

    @property
    def sources(self) -> list[str]:
        """The keys of the source's texts the region prints, in reading order,
        each once: the elements inside it the layout marks `data-source`."""
        if self.box is None:
            return []
        return list(dict.fromkeys(element.get("data-source") for element in self.box.element.iter()
                                  if hasattr(element, "get") and element.get("data-source")))

    def text_lines(self) -> dict[str, TextLines]:
        """How each source text inside the region is laid out, by its key: a
        line belongs to the text that has most of its characters (a heading
        run into a paragraph, say), each character to the innermost marked
        element that holds it."""
        if self.box is None:
            return {}
        region = self.box.element
        parents = {child: parent for parent in region.iter() for child in parent}

        def key_of(element) -> str | None:
            while element is not None:
                if element.get("data-source"):
                    return element.get("data-source")
                element = None if element is region else parents.get(element)
            return None

        found: dict[str, TextLines] = {}
        for line in _descendants(self.box):
            if not isinstance(line, boxes.LineBox):
                continue
            counts: dict[str, int] = {}
            for text in _line_text_boxes(line):
                key = key_of(text.element)
                if key:
                    counts[key] = counts.get(key, 0) + len(text.text)
            if counts:
                key = max(counts, key=counts.get)
                lines = found.setdefault(key, TextLines([], []))
                lines.characters.append(counts[key])
                lines.heights.append(line.height * PX_TO_MM)
        return found


@dataclass
class TextLines:
    """One source text as laid out in a fit region: the characters on each of
    its lines, and each line's height in mm."""

    characters: list[int]
    heights: list[float]


def _line_text_boxes(box):
    """The text boxes of one line box, not those of lines nested in it (an inline block's)."""
    for child in getattr(_unwrap(box), "children", ()):
        child = _unwrap(child)
        if isinstance(child, boxes.TextBox):
            yield child
        elif not isinstance(child, boxes.LineBox):
            yield from _line_text_boxes(child)


@dataclass
class PreflightReport:
    pages: int
    width_mm: float
    height_mm: float
    smallest_text_pt: float | None = None
    lowest_contrast: float | None = None
    fonts: list[str] = field(default_factory=list)
    fit_scales: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --- walking the box tree -------------------------------------------------------

def _describe(element) -> str:
    """`p.caveat`: how a designer finds the element in the layout."""
    if element is None:
        return "text"
    classes = element.get("class", "").split()
    return element.tag + "".join(f".{name}" for name in classes[:2])


def _rgb(colour) -> tuple[float, float, float, float]:
    """A tinycss2 colour as sRGB components and alpha, each 0-1. CMYK is
    converted naively, which is close enough to judge contrast."""
    if colour.space == "device-cmyk":
        cyan, magenta, yellow, black = colour.coordinates
        return ((1 - cyan) * (1 - black), (1 - magenta) * (1 - black), (1 - yellow) * (1 - black), colour.alpha)
    red, green, blue = colour.to("srgb").coordinates
    return red, green, blue, colour.alpha


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(min(max(channel, 0), 1) * 255):02X}" for channel in rgb[:3])


@dataclass
class _TextRun:
    box: boxes.TextBox
    element: object       # the HTML element that holds the text
    background: tuple     # sRGB of what is painted behind it
    in_margin: bool       # running heads and page numbers, not body text


def _unwrap(box):
    """An absolutely positioned box sits in the tree behind a placeholder."""
    return getattr(box, "_box", box)


def _text_runs(box, background, element=None, in_margin=False):
    box = _unwrap(box)
    style_background = box.style["background_color"]
    if style_background.alpha > 0.5:  # converted only when painted: most boxes have none
        background = _rgb(style_background)
    # Not `or`: an element without children is falsy in ElementTree.
    if getattr(box, "element", None) is not None:
        element = box.element
    if isinstance(box, boxes.TextBox):
        if box.text.strip():
            yield _TextRun(box, element, background, in_margin)
        return
    for child in getattr(box, "children", ()):
        yield from _text_runs(child, background, element, in_margin or isinstance(box, boxes.MarginBox))


def _page_runs(page) -> list[_TextRun]:
    paper = (1.0, 1.0, 1.0, 1.0)
    return list(_text_runs(page._page_box, paper))


def _descendants(box):
    for child in getattr(_unwrap(box), "children", ()):
        child = _unwrap(child)
        yield child
        yield from _descendants(child)


def marked_boxes(page, attribute: str):
    """(element, box) for every block box of an element the layout marks with
    `attribute` (`data-fit`, `data-balance`, `data-impose`) on a laid-out page."""
    for box in _descendants(page._page_box):
        element = getattr(box, "element", None)
        if element is not None and element.get(attribute) and isinstance(box, boxes.BlockLevelBox):
            yield element, box


def _region_boxes(page):
    """Every box of an element marked `data-fit` in the layout."""
    for element, box in marked_boxes(page, "data-fit"):
        yield element.get("data-fit"), box


def _content_bottom(box, inset: float = 0.0) -> float:
    """The lowest line of text in `box`, plus the bottom padding and border of
    the boxes that hold it: where the content ends, whatever height its boxes
    were stretched to (grid and table cells fill their row)."""
    bottom = 0.0
    for child in getattr(box, "children", ()):
        child = _unwrap(child)
        if isinstance(child, boxes.LineBox):
            bottom = max(bottom, child.position_y + child.height + inset)
        elif isinstance(child, boxes.ParentBox) and not isinstance(child, boxes.InlineBox):
            below = inset + (child.padding_bottom + child.border_bottom_width if isinstance(child, boxes.BlockLevelBox)
                             else 0)
            bottom = max(bottom, _content_bottom(child, below))
    return bottom


SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"


def _printed_text(element) -> str:
    """The text inside an element that prints: not the titles of its SVG
    pictures (their alt text)."""
    text = element.text or ""
    for child in element:
        if not (isinstance(child.tag, str) and child.tag.startswith(SVG_NAMESPACE)):
            text += _printed_text(child)
        text += child.tail or ""
    return text


def measure_regions(document) -> dict[str, RegionFit]:
    """How each named fit region's content measures against its box; a region
    laid out many times (on every card of a sheet) reports its worst copy."""
    worst: dict[str, RegionFit] = {}
    for page in document.pages:
        for name, box in _region_boxes(page):
            top = box.content_box_y()
            needed = max(_content_bottom(box) - top, 0.0)
            runs = list(_text_runs(box, (1, 1, 1, 1)))
            sizes = [run.box.style["font_size"] * PX_TO_PT for run in runs]
            # Laid-out text includes generated content (bullets, separators),
            # so it can only be shorter than the source text if some was lost.
            laid_out = sum(len("".join(run.box.text.split())) for run in runs)
            written = len("".join(_printed_text(box.element).split()))
            fit = RegionFit(name, round(needed * PX_TO_MM, 2), round(box.height * PX_TO_MM, 2),
                            round(min(sizes), 2) if sizes else None, max(written - laid_out, 0), box)
            if name not in worst or fit.needed_mm - fit.has_mm > worst[name].needed_mm - worst[name].has_mm:
                worst[name] = fit
    return worst


@dataclass(frozen=True)
class ColumnSplit:
    """How many items of a list set in columns went in the first column, and
    how many should, for the columns to balance; and, split so, the space to
    add between each two items of each column (CSS px) for both to end level
    at the foot of the fit region that holds them (their spread)."""

    laid_out: int
    balanced: int
    spreads: tuple[float, float] = (0.0, 0.0)


def column_splits(document) -> dict[str, ColumnSplit]:
    """Each list the layout sets in two columns side by side (`data-balance`):
    its balanced split puts as many items in the first column as keeps the
    taller column shortest (the first column taking a tie), as CSS balances
    columns. An item measures the same in either column (both are as wide),
    so any one layout of the list gives every split's heights; and the room
    below the columns, in the fit region that holds them, gives the spreads."""
    splits: dict[str, ColumnSplit] = {}
    for page in document.pages:
        regions = [box for _, box in _region_boxes(page)]
        for element, box in marked_boxes(page, "data-balance"):
            columns = [[item.margin_height() for item in column.children if isinstance(item, boxes.BlockLevelBox)]
                       for column in box.children if isinstance(column, boxes.ParentBox)]
            heights = [height for column in columns for height in column]
            if len(heights) < 2:
                continue
            firsts = itertools.accumulate(heights[:-1])  # the first column's height with 1, 2, ... items
            taller = [max(first, sum(heights) - first) for first in firsts]
            # 0.5 px: rounding, not a real difference.
            balanced = max(count for count, height in enumerate(taller, 1) if height <= min(taller) + 0.5)
            column_heights = (sum(heights[:balanced]), sum(heights[balanced:]))
            target = max(column_heights) + _room_below(box, regions)
            counts = (balanced, len(heights) - balanced)
            spreads = tuple((target - height) / (count - 1) if count > 1 else 0.0
                            for height, count in zip(column_heights, counts))
            splits[element.get("data-balance")] = ColumnSplit(len(columns[0]), balanced, spreads)
    return splits


def _room_below(box, regions) -> float:
    """The height left below `box` in the innermost fit region that holds it (0 if none)."""
    top = box.position_y
    holding = [region for region in regions
               if region.content_box_y() <= top < region.content_box_y() + region.height]
    if not holding:
        return 0.0
    region = min(holding, key=lambda region: region.height)
    return max(region.content_box_y() + region.height - (top + box.margin_height()), 0.0)


@dataclass(frozen=True)
class FitLimits:
    """How far a fit region's text may be scaled: down to `smallest` of its
    base size when it does not fit (`data-fit-min`, default 0.8), up to
    `largest` to take the room it leaves (`data-fit-max`, default 1: never);
    and whether it is a page of its own, of a fixed size (`data-fit-page`: a
    slide, a certificate's name), so that its scale moves no other region."""

    smallest: float = 0.8
    largest: float = 1.0
    own_page: bool = False


def fit_regions(html_root) -> dict[str, FitLimits]:
    """The fit regions the layout declares, with their limits."""
    regions = {}
    for element in html_root.iter():
        name = element.get("data-fit") if hasattr(element, "get") else None
        if name:
            regions[name] = FitLimits(float(element.get("data-fit-min", "0.8")),
                                      float(element.get("data-fit-max", "1")),
                                      element.get("data-fit-page") is not None)
    return regions


# --- the checks -------------------------------------------------------------------

def _page_report(document, product: ProductFormat) -> PreflightReport:
    """The page count and every page's size, against the product."""
    pages = document.pages
    report = PreflightReport(len(pages), round(pages[0].width * PX_TO_MM, 2), round(pages[0].height * PX_TO_MM, 2))
    if not product.min_pages <= len(pages) <= product.max_pages:
        expected = (str(product.min_pages) if product.min_pages == product.max_pages
                    else f"{product.min_pages} to {product.max_pages}")
        report.problems.append(f"overset: has {len(pages)} pages, must have {expected}: "
                               "the content does not fit the layout")
    for number, page in enumerate(pages, 1):
        page_w, page_h = page.width * PX_TO_MM, page.height * PX_TO_MM
        if abs(page_w - product.width_mm) > SIZE_TOLERANCE_MM or abs(page_h - product.height_mm) > SIZE_TOLERANCE_MM:
            report.problems.append(f"page {number} measures {page_w:.2f} x {page_h:.2f} mm, "
                                   f"must be {product.width_mm} x {product.height_mm} mm")
    return report


def check_imposition(frame_document, product: ProductFormat, imposed: PreflightReport) -> PreflightReport:
    """A sheet's report: its own pages against its product, and everything
    found on the pages imposed on it (the card's text, fit and contrast)."""
    report = _page_report(frame_document, product)
    report.smallest_text_pt, report.lowest_contrast = imposed.smallest_text_pt, imposed.lowest_contrast
    report.fit_scales, report.warnings = imposed.fit_scales, imposed.warnings
    report.problems[:0] = imposed.problems
    return report


def check_layout(document, html_root, product: ProductFormat, quote: bool = True) -> PreflightReport:
    """Every check that reads the laid-out document. With `quote` False (a
    roster's products: personal data), messages do not quote the text."""
    report = _page_report(document, product)
    problems = report.problems
    pages = document.pages
    # A deck is one slide a page (`data-slide`): a slide carried over onto a
    # page of its own would renumber every slide after it, and the session
    # plan names slides by number.
    slides = sum(1 for element in html_root.iter() if isinstance(element.tag, str) and element.get("data-slide"))
    if slides and len(pages) != slides:
        problems.append(f"overset: {plural(slides, 'slide')} laid out on {plural(len(pages), 'page')}: "
                        "a slide's content runs onto a page of its own")
    runs = [run for page in pages for run in _page_runs(page)]
    body = [run for run in runs if not run.in_margin]
    if body:
        smallest = min(body, key=lambda run: run.box.style["font_size"])
        report.smallest_text_pt = round(smallest.box.style["font_size"] * PX_TO_PT, 2)
        if report.smallest_text_pt < product.min_text_pt - 0.01:
            problems.append(f"legibility: {_describe(smallest.element)}{_quoted(smallest.box.text, quote)} is "
                            f"{report.smallest_text_pt} pt, below the {product.min_text_pt:g} pt minimum "
                            f"for {product.title}")

    failed_contrast = set()
    for run in runs:
        colour = _rgb(run.box.style["color"])
        ratio = contrast_ratio(colour, run.background)
        if report.lowest_contrast is None or ratio < report.lowest_contrast:
            report.lowest_contrast = round(ratio, 2)
        key = (_describe(run.element), _hex(colour), _hex(run.background))
        if ratio < MIN_CONTRAST - 0.005 and key not in failed_contrast:
            failed_contrast.add(key)
            problems.append(f"contrast: {key[0]}{_quoted(run.box.text, quote)} is {ratio:.1f}:1 "
                            f"({key[1]} on {key[2]}), needs {MIN_CONTRAST:g}:1")

    problems.extend(_structure_problems(html_root))
    if product.kind in RUNT_CHECKED:
        # A warning, not a failure: the layouts keep last words together, so
        # a runt is a layout that forgot to, or wording it cannot help (an
        # address broken at its slash), for a designer to look at.
        report.warnings.extend(f"runt: {_describe(element)}{_quoted(text, quote)} ends with \"{word}\" alone on "
                               "its last line: keep the last two words together (the layouts' no_widow filter)"
                               for element, text, word in _runts(pages))
    return report


# Products read at a distance, where a short word alone on a last line reads
# as a line of its own: posters. (A handout's paragraphs may end so.)
RUNT_CHECKED = {"poster"}
# A last line of one word this short is a runt; a longer word holds the line.
RUNT_LETTERS = 9


def _line_text(line) -> str:
    return "".join(box.text for box in _descendants(line) if isinstance(box, boxes.TextBox))


def _runts(pages):
    """(element, its text, the word) for each paragraph, heading or list item
    set in two lines or more whose last line is one short word."""
    for page in pages:
        for box in _descendants(page._page_box):
            lines = [child for child in getattr(box, "children", ()) if isinstance(child, boxes.LineBox)]
            if len(lines) < 2:
                continue
            words = _line_text(lines[-1]).split()
            if len(words) == 1 and len(words[0]) <= RUNT_LETTERS:
                text = " ".join(_line_text(line) for line in lines)
                yield box.element, text, words[0]


def _snippet(text: str, length: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _quoted(text: str, quote: bool) -> str:
    """` "the text"` for a message, or nothing when the text may be personal data."""
    return f' "{_snippet(text)}"' if quote else ""


def _structure_problems(html_root) -> list[str]:
    """Headings in order (no h1 -> h3), and a text alternative on every image."""
    problems = []
    previous = 0
    for element in html_root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            level = int(tag[1])
            if level > previous + 1:
                problems.append(f"structure: heading <{tag}> \"{_snippet(''.join(element.itertext()))}\" follows "
                                f"{'<h%d>' % previous if previous else 'no heading'}: headings must not skip a level")
            previous = level
        if tag in ("img", "svg") and not (element.get("alt") or element.get("aria-label")
                                          or element.get("aria-hidden") == "true"):
            problems.append(f"structure: <{tag}> has no alt text")
    return problems


# --- glyphs and fonts -----------------------------------------------------------

_font_facts: dict[Path, tuple[str, frozenset[int]]] = {}


def _font_facts_of(font_file: Path) -> tuple[str, frozenset[int]]:
    """A font file's family (as Pango names it) and the characters it covers."""
    if font_file not in _font_facts:
        with TTFont(font_file, lazy=True) as font:
            names = font["name"]
            family = names.getDebugName(16) or names.getDebugName(1)
            _font_facts[font_file] = (family, frozenset(font.getBestCmap()))
    return _font_facts[font_file]


def check_glyphs(document, font_files: set[Path], report: PreflightReport, quote: bool = True) -> None:
    """Every character printed is in the layout's fonts: a missing one would be
    drawn from a system font, or as an empty box."""
    covered = frozenset().union(*(_font_facts_of(path)[1] for path in font_files)) if font_files else frozenset()
    families = ", ".join(sorted({_font_facts_of(path)[0] for path in font_files}))
    missing: dict[str, str] = {}
    for page in document.pages:
        for run in _page_runs(page):
            for character in run.box.text:
                if not character.isspace() and ord(character) not in covered and character not in missing:
                    missing[character] = _snippet(run.box.text)
    for character, text in missing.items():
        where = f' in "{text}"' if quote else ""
        report.problems.append(f"glyphs: '{character}' (U+{ord(character):04X}){where} is not in the "
                               f"layout's fonts ({families})")


@dataclass(frozen=True)
class PdfFont:
    name: str       # as in the PDF, without the subset tag: "Atkinson-Hyperlegible-Bold"
    embedded: bool


def pdf_fonts(pdf: pydyf.PDF) -> list[PdfFont]:
    """The fonts of a PDF about to be written (a WeasyPrint finisher's view).
    A composite font's own dictionary names no file: its descendant, which
    has the font descriptor, stands for it."""
    fonts = []
    for obj in pdf.objects:
        if not (isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/Font") or obj.get("Subtype") == "/Type0":
            continue
        descriptor = pdf.objects[int(obj["FontDescriptor"].split()[0])] if "FontDescriptor" in obj else {}
        base = obj.get("BaseFont", b"?")
        base = base.decode("latin-1") if isinstance(base, bytes) else str(base)
        name = base.lstrip("/").split("+", 1)[-1]  # drop the subset tag, e.g. ABCDEF+
        fonts.append(PdfFont(name, any(key in descriptor for key in ("FontFile", "FontFile2", "FontFile3"))))
    return fonts


def pdf_ua_failures(pdf: bytes) -> list[str]:
    """The rules of PDF/UA-1 a PDF fails, by page-validation (the veraPDF
    rules, in Rust), each as "rule id: message". The validator runs in a
    forked child process: it starts threads, and a process that has them
    cannot safely fork again, as a build's rendering processes, `watch` and
    the tests do (the forked process waits for ever on a lock its parent's
    threads held)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's exit status says what happened
        status = 1
        try:
            os.close(read)
            import page

            found = page.validate_pdf_bytes(pdf, profile="ua1")
            with os.fdopen(write, "w", encoding="utf-8") as pipe:
                json.dump([f"{failure.rule_id}: {failure.message}" for failure in found.failures], pipe)
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as pipe:
        answer = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status or not answer:
        raise RenderError("the PDF/UA-1 validator (page-validation) stopped without an answer")
    return json.loads(answer)


def check_standard(pdf: bytes, product: ProductFormat, report: PreflightReport) -> None:
    """A file is said to be PDF/UA-1 (its XMP, the manifest, the catalogue)
    only if an independent validator passes it: page-validation, which runs
    the veraPDF rules for PDF/UA-1. Our own code writing the metadata proves
    nothing."""
    if product.pdf_standard != "PDF/UA-1":
        return
    failures = pdf_ua_failures(pdf)
    if failures:
        report.problems.append(f"accessibility: not PDF/UA-1 by page-validation's checks ({'; '.join(failures)})")


def check_fonts(fonts: list[PdfFont], font_files: set[Path], report: PreflightReport) -> None:
    """Every font in the PDF is embedded, and is one the layouts loaded from a
    font package: nothing depends on fonts this machine happens to have."""
    # WeasyPrint names each PDF font after its Pango description, e.g.
    # "ABCDEF+Atkinson-Hyperlegible-Bold": the family, then the style.
    allowed = tuple(_font_facts_of(path)[0].replace(" ", "-") for path in font_files)
    report.fonts = sorted({font.name for font in fonts})
    for name in report.fonts:
        if not all(font.embedded for font in fonts if font.name == name):
            report.problems.append(f"fonts: {name} is not embedded")
        if not name.startswith(allowed):
            report.problems.append(f"fonts: uses the machine's font {name} instead of the layout's fonts "
                                   "(a character is missing from them, or a font-family is misspelt)")
