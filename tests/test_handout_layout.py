"""The handouts' page make-up, measured on the laid-out pages (WeasyPrint's
boxes, as the pipeline writes them to the PDF): no heading ends a page, the
flowchart is on one page with its heading, no page is left less than 40%
full (but the last before a part that starts a page), the running head names
the chapter the page opens in, the contents' page numbers end on one edge, one
bullet and one indent for every list, no list item bold throughout, and the
cover's subtitle in one style.

Every edition of every venue in English, and the hotels' editions in Welsh,
Urdu (right to left) and the long pseudo-locale. Each document is laid out
once; what the tests read from it is kept, not its boxes."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pytest
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from conftest import LAYOUTS_DIR, normalise, shipped_source
from materials.jobs import Job
from materials.render import Renderer

EDITIONS = ["participant", "trainer"]
DOCUMENTS = ([pytest.param(venue.id, edition, None, id=f"{venue.id}-{edition}")
              for venue in shipped_source().venues for edition in EDITIONS]
             + [pytest.param("hotels", edition, lang, id=f"hotels-{edition}-{lang}")
                for lang in ("cy", "ur", "en-XA") for edition in EDITIONS])
ENGLISH = [param for param in DOCUMENTS if param.values[2] is None]

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6", "caption"}
FORCED_BREAKS = {"page", "left", "right", "recto", "verso"}
MIN_FILL = 0.40
PT = 96 / 72  # WeasyPrint lays out in CSS px


# --- reading laid-out pages ------------------------------------------------------

def _unwrap(box):
    """An absolutely positioned box sits in the tree behind a placeholder."""
    return getattr(box, "_box", box)


def _walk(box, ancestors=()):
    """(box, its ancestors) for the box and every box in it but the page's
    margins (running heads), placeholders unwrapped."""
    box = _unwrap(box)
    yield box, ancestors
    for child in getattr(box, "children", ()):
        if not isinstance(child, boxes.MarginBox):
            yield from _walk(child, (*ancestors, box))


def _elements(box, ancestors) -> list:
    return [each.element for each in (*ancestors, box) if getattr(each, "element", None) is not None]


def _out_of_flow(box, ancestors) -> bool:
    return any(each.style["position"] in ("absolute", "fixed") for each in (*ancestors, box))


def _text(box) -> str:
    return "".join(each.text for each, _ in _walk(box) if isinstance(each, boxes.TextBox))


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split())


@dataclass
class Thing:
    """A line of text, or a block with no lines (ruled lines to write on), on a page."""
    top: float
    bottom: float
    text: str
    elements: list  # the HTML elements it is in, outermost first


def _things(page) -> list[Thing]:
    """What a page prints in the flow of its text, top to bottom: not running
    heads, nor anything positioned out of the flow (bullets, leaders)."""
    found = []
    for box, ancestors in _walk(page._page_box):
        if _out_of_flow(box, ancestors):
            continue
        if isinstance(box, boxes.LineBox) and _text(box).strip():
            found.append(Thing(box.position_y, box.position_y + box.height, _text(box).strip(),
                               _elements(box, ancestors)))
        elif (isinstance(box, boxes.BlockLevelBox) and box.height
              and not any(isinstance(child, (boxes.BlockLevelBox, boxes.LineBox)) for child in box.children)):
            found.append(Thing(box.border_box_y(), box.border_box_y() + box.border_height(), "",
                               _elements(box, ancestors)))
    return sorted(found, key=lambda thing: (thing.bottom, thing.top))


def _block_chain(page, last: bool) -> list:
    """The chain of first (or last) block boxes from the page's root down."""
    chain, box = [], page._page_box.children[0]
    while box is not None:
        chain.append(box)
        blocks = [child for child in getattr(box, "children", ()) if isinstance(child, boxes.BlockLevelBox)]
        box = (blocks[-1] if last else blocks[0]) if blocks else None
    return chain


def _forced_break_after(pages, number: int, elements_on: list[set]) -> bool:
    """Whether the page after page `number` (0-based) must start a page
    whatever the fill (a part that starts a page, or the cover's and contents'
    own pages), or there is none."""
    if number + 1 == len(pages):
        return True
    here, there = elements_on[number], elements_on[number + 1]
    starts = any(box.style["break_before"] in FORCED_BREAKS and id(box.element) not in here
                 for box in _block_chain(pages[number + 1], last=False))
    ends = any(box.style["break_after"] in FORCED_BREAKS and id(box.element) not in there
               for box in _block_chain(pages[number], last=True))
    return starts or ends


def _running_heads(page) -> list[str]:
    return [normalise(_text(box)) for box in page._page_box.children
            if isinstance(box, boxes.MarginBox) and box.at_keyword.startswith("@top")]


def _chapter(elements):
    return next((element for element in elements if element.tag == "section" and "chapter" in _classes(element)), None)


def _colour(colour) -> tuple:
    return colour.space, tuple(round(value, 3) for value in colour.coordinates), colour.alpha


def _style(box) -> tuple:
    return round(box.style["font_size"], 1), box.style["font_weight"], _colour(box.style["color"])


def _list_markers(page, rtl: bool):
    """For each list item on the page: (list element, marker, indent), the
    indent only for the first item of each list (the others of a list in
    columns start in their column)."""
    lists = set()
    for box, ancestors in _walk(page._page_box):
        if not (box.element_tag == "li" and isinstance(box, boxes.BlockBox) and ancestors):
            continue
        parent = ancestors[-1]  # the list's box
        if parent.element_tag not in ("ul", "ol"):
            continue
        marker = None
        for child in map(_unwrap, box.children):
            if child.element_tag == "li::marker":
                marker = ("figure" if parent.element_tag == "ol" else "text", _text(child).strip(), _style(child))
            elif child.element_tag == "li::before" and child.style["background_color"].alpha > 0:
                end = child.border_box_x() + child.border_width()
                gap = (child.border_box_x() - (box.content_box_x() + box.width)) if rtl else box.content_box_x() - end
                marker = ("square", round(child.border_width() / PT, 1), round(child.border_height() / PT, 1),
                          _colour(child.style["background_color"]), round(gap / PT, 1))
        if marker is None:
            continue
        # Where the item's text starts, from the list's own edge.
        indent = (parent.border_box_x() + parent.border_width() - box.content_box_x() - box.width if rtl
                  else box.content_box_x() - parent.border_box_x())
        yield parent.element, marker, None if id(parent) in lists else round(indent / PT, 1)
        lists.add(id(parent))


@dataclass
class Layout:
    """What the tests read from one laid-out handout."""
    pages: int = 0
    fills: list[float] = field(default_factory=list)
    exempt: list[bool] = field(default_factory=list)             # the last page before a forced page break
    page_ends: list[tuple[str, str]] = field(default_factory=list)  # (element, text) of each page's last thing
    heads: list[list[str]] = field(default_factory=list)            # each page's running heads
    top_chapters: list[str | None] = field(default_factory=list)    # the chapter each page opens in
    flowchart_pages: set[int] = field(default_factory=set)
    flowchart_heading_pages: set[int] = field(default_factory=set)
    contents_number_edges: list[float] = field(default_factory=list)  # pt, the figures' right edges
    bullets: set = field(default_factory=set)
    figures: set = field(default_factory=set)
    indents: dict = field(default_factory=dict)    # indent (pt) -> the lists' classes
    bold_items: list[str] = field(default_factory=list)
    subtitle_styles: set = field(default_factory=set)


def measure(document, rtl: bool = False) -> Layout:
    layout = Layout(pages=len(document.pages))
    pages = document.pages
    elements_on = [{id(element) for box, ancestors in _walk(page._page_box)
                    for element in _elements(box, ancestors)[-1:]} for page in pages]
    item_runs: dict[int, tuple[str, list[bool]]] = {}  # each list item's text, and which of its runs are bold
    for number, page in enumerate(pages):
        page_box = page._page_box
        top, height = page_box.content_box_y(), page_box.height
        things = _things(page)
        layout.fills.append((things[-1].bottom - top) / height if things else 0.0)
        layout.exempt.append(_forced_break_after(pages, number, elements_on))
        last = things[-1] if things else None
        heading = next((element for element in reversed(last.elements if last else []) if element.tag in HEADINGS),
                       None)
        layout.page_ends.append((heading.tag if heading is not None else "", last.text if last else ""))
        layout.heads.append(_running_heads(page))
        first = min(things, key=lambda thing: thing.top) if things else None
        chapter = _chapter(first.elements) if first else None
        layout.top_chapters.append(normalise("".join(chapter.find("h2").itertext())) if chapter is not None else None)
        for box, ancestors in _walk(page_box):
            elements = _elements(box, ancestors)
            in_flowchart = any(element.tag == "figure" and "flowchart" in _classes(element) for element in elements)
            if in_flowchart and isinstance(box, (boxes.LineBox, boxes.BlockLevelBox)):
                layout.flowchart_pages.add(number)
                if any(element.tag == "h3" for element in elements):
                    layout.flowchart_heading_pages.add(number)
            if isinstance(box, boxes.TextBox) and box.text.strip():
                if any(each.element_tag == "a::after" for each in ancestors) and \
                        any(element.tag == "nav" for element in elements):
                    layout.contents_number_edges.append((box.position_x + box.width) / PT)
                items = [element for element in elements if element.tag == "li"]
                marker = any(each.element_tag in ("li::marker", "li::before") for each in ancestors)
                if items and not marker:
                    text, bold = item_runs.setdefault(id(items[-1]), (normalise("".join(items[-1].itertext())), []))
                    bold.append(box.style["font_weight"] >= 600)
            # The cover's subtitle, and the venue it ends with.
            if number == 0 and isinstance(box, boxes.TextBox) and box.text.strip() and \
                    any(_classes(element) & {"cover-subtitle", "cover-venue"} for element in elements):
                layout.subtitle_styles.add(_style(box))
        for element, marker, indent in _list_markers(page, rtl):
            (layout.figures if marker[0] == "figure" else layout.bullets).add(marker)
            if indent is not None:
                layout.indents.setdefault(indent, set()).add(element.get("class") or element.tag)
    layout.bold_items = [text for text, bold in item_runs.values() if all(bold)]
    return layout


@functools.cache
def _renderer() -> Renderer:
    return Renderer(shipped_source(), LAYOUTS_DIR)


@functools.cache
def handout(venue_id: str, edition: str, lang: str | None) -> Layout:
    renderer = _renderer()
    rendered = renderer.render(Job(venue_id, f"handout-{edition}", lang=lang))
    return measure(rendered.document, rtl=rendered.html_root.get("dir") == "rtl")


# --- the handouts ------------------------------------------------------------------

@pytest.mark.parametrize("venue_id, edition, lang", DOCUMENTS)
def test_no_page_ends_with_a_heading(venue_id, edition, lang):
    layout = handout(venue_id, edition, lang)
    assert [(number, tag, text) for number, (tag, text) in enumerate(layout.page_ends, 1) if tag] == []


@pytest.mark.parametrize("venue_id, edition, lang", DOCUMENTS)
def test_the_flowchart_is_on_one_page_with_its_heading(venue_id, edition, lang):
    layout = handout(venue_id, edition, lang)
    assert len(layout.flowchart_pages) == 1
    assert layout.flowchart_heading_pages == layout.flowchart_pages


@pytest.mark.parametrize("venue_id, edition, lang", DOCUMENTS)
def test_no_page_is_less_than_40_percent_full_but_before_a_part_that_starts_a_page(venue_id, edition, lang):
    """A chapter runs on from the one before, and what must not be split
    (the flowchart, a list of signs, a scenario) is short enough that pushed
    whole to the next page it leaves the page before well filled. Only the
    page before a part that starts a page (scenarios, quiz, answers, notes,
    references) may end where its chapter ends."""
    layout = handout(venue_id, edition, lang)
    low = [(number, f"{fill:.0%}") for number, (fill, exempt) in enumerate(zip(layout.fills, layout.exempt), 1)
           if fill < MIN_FILL and not exempt]
    assert low == []


@pytest.mark.parametrize("venue_id, edition, lang", ENGLISH)
def test_the_running_head_names_the_chapter_the_page_opens_in(venue_id, edition, lang):
    """Not the first chapter to start on the page: a page that opens with the
    last of the signs is headed "The warning signs"."""
    layout = handout(venue_id, edition, lang)
    wrong = [(number, chapter, head) for number, (chapter, head) in enumerate(zip(layout.top_chapters, layout.heads), 1)
             if chapter and chapter not in head]
    assert wrong == []
    assert sum(chapter is not None for chapter in layout.top_chapters) >= layout.pages - 2  # but cover and contents


@pytest.mark.parametrize("venue_id, edition, lang", DOCUMENTS)
def test_the_contents_page_numbers_end_on_one_edge(venue_id, edition, lang):
    edges = handout(venue_id, edition, lang).contents_number_edges
    assert len(edges) >= 12
    assert max(edges) - min(edges) <= 0.5, [round(edge, 2) for edge in edges]


@pytest.mark.parametrize("venue_id, edition, lang", DOCUMENTS)
def test_one_bullet_one_number_style_and_one_indent_for_every_list(venue_id, edition, lang):
    layout = handout(venue_id, edition, lang)
    assert len(layout.bullets) == 1, layout.bullets
    assert len({style for _, _, style in layout.figures}) == 1, layout.figures
    assert len(layout.indents) == 1, layout.indents


@pytest.mark.parametrize("venue_id, edition, lang", DOCUMENTS)
def test_no_list_item_is_bold_throughout(venue_id, edition, lang):
    """Bold in a list item is a label ("True or false?", "Answer: True.")
    followed by plain text, or a phone number: an item all in bold says it
    matters more, and nothing says why."""
    assert handout(venue_id, edition, lang).bold_items == []


@pytest.mark.parametrize("venue_id, edition, lang", DOCUMENTS)
def test_the_covers_subtitle_and_the_venue_it_names_are_one_style(venue_id, edition, lang):
    assert len(handout(venue_id, edition, lang).subtitle_styles) == 1


# --- the measures themselves --------------------------------------------------------

PAGE_CSS = "@page { size: 100mm 100mm; margin: 10mm } body { margin: 0; font-size: 12pt; line-height: 1.25 }"


def _render(body: str, css: str = ""):
    return HTML(string=f'<html lang="en"><style>{PAGE_CSS} {css}</style><body>{body}</body></html>').render()


def _lines(count: int) -> str:
    return "<br>".join(map(str, range(count)))


def test_the_measures_see_a_stranded_heading_a_split_flowchart_and_an_empty_page():
    """A heading left at the foot of a page a third full, above the block
    that would not fit under it; a flowchart whose heading is on one page and
    its boxes on the next."""
    document = _render(
        f'<div style="height: 20mm"></div><h3>Heading</h3><p style="break-inside: avoid">{_lines(13)}</p>'
        '<section class="chapter" style="break-before: page"><h2>Next</h2>'
        f'<figure class="flowchart"><h3>What to do</h3><p>{_lines(20)}</p></figure></section>',
        "h2, h3 { break-after: auto; margin: 0 } p, figure { margin: 0 }")
    layout = measure(document)
    assert layout.pages == 4
    assert layout.page_ends[0] == ("h3", "Heading")
    assert layout.fills[0] < MIN_FILL and not layout.exempt[0]
    assert layout.exempt[1] and layout.exempt[3]   # before a forced page break, and the last page
    assert layout.flowchart_pages == {2, 3} and layout.flowchart_heading_pages == {2}


def test_the_measures_see_two_bullets_two_indents_a_bold_item_and_ragged_numbers():
    document = _render(
        '<ul style="padding-left: 5mm"><li>disc</li><li><strong>all bold</strong></li>'
        "<li><strong>Label:</strong> text</li></ul>"
        '<ul class="squares" style="padding: 0; list-style: none">'
        '<li style="position: relative; padding-left: 7mm">square</li></ul>'
        '<nav><ol style="list-style: none"><li><a href="#a">A</a></li><li><a href="#b">B</a></li></ol></nav>'
        '<p id="a">a</p><p id="b">b</p>',
        ".squares li::before { content: ''; position: absolute; left: 0; top: 0.3em; width: 2mm; height: 2mm;"
        " background: black }"
        ' nav a::after { content: " " target-counter(attr(href), page) }'
        ' nav li:first-child a::after { content: " 1 0" }')
    layout = measure(document)
    assert len(layout.bullets) == 2 and len(layout.indents) == 2
    assert layout.bold_items == ["all bold"]
    edges = layout.contents_number_edges
    assert len(edges) == 2 and max(edges) - min(edges) > 0.5


def test_the_measures_see_a_running_head_of_another_chapter_and_a_subtitle_in_two_styles():
    document = _render(
        '<div class="cover-band" style="break-after: page">'
        '<p class="cover-subtitle">A subtitle for staff in</p><p class="cover-venue" style="font-size: 20pt">Hotels</p>'
        '</div>'
        '<section class="chapter"><h2>First</h2><div style="height: 68mm"></div><p>the end of the first</p></section>'
        '<section class="chapter"><h2>Second</h2><p>text</p></section>',
        "@page { @top-right { content: string(head) } } .chapter > h2 { string-set: head content(); margin: 0 }")
    layout = measure(document)
    assert layout.pages == 3
    assert layout.top_chapters[2] == "First" and layout.heads[2] == ["Second"]
    assert len(layout.subtitle_styles) == 2
