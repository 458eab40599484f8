"""Stage 4, while WeasyPrint writes: the text layer under the glyphs.

A PDF shows glyphs; copying, searching and screen readers need the text they
stand for, which a reader finds through each font's ToUnicode map (one text
per glyph code) and, where that cannot say it, an /ActualText span.

WeasyPrint 70 writes a glyph's ID as its code, and maps each ID to one text,
the first it meets it with. In Arabic script that is wrong three ways: Noto
Sans Arabic draws a letter as a dotless body and separate dots (the body
`uni066E.init` stands for the initial forms of ب ت ث ن ی پ), one glyph stands
for two letters (ی and ى end in the same `uni0649.fina`), and of a cluster of
several glyphs WeasyPrint gives some no text at all. pdftotext read about 2%
of an Urdu handout's words intact.

Three patches, installed once per process by `install_text_mapping`. They
reach into WeasyPrint's internals, which is why pyproject.toml pins WeasyPrint
to 70.0; tests/test_text_layer.py fails when they stop working:

- `marked_text` (Stream.marked): each text run's marked content holds its
  language (/Lang, from the HTML `lang` it inherits); `tagging.py` drops it
  again where it equals the document's.
- `drawn_clusters` (draw.text.draw_first_line): before WeasyPrint draws a
  line, each glyph gets the text of its cluster, as cairo does: a glyph met
  with another text than before is given a code of its own (the font's code
  space goes past its glyph count; see `mapped_glyphs`). A cluster of several
  glyphs (a letter and its dots, a letter and its vowel mark) gives its text
  to its widest glyph and an invisible COMBINING GRAPHEME JOINER to the
  others, and is wrapped in a /Span with the cluster's /ActualText: no
  Unicode character stands for a dot, and readers that honour ActualText
  (Acrobat, screen readers, poppler) then read the letter once, in its
  place. pdftotext takes an ActualText's position from the first and last
  glyph it covers, and a raised dot would put the letter on a line of its
  own: so the span starts (or ends) with the font's own empty, zero-width
  grapheme-joiner glyph, on the baseline at the cluster's edge. Nothing
  drawn moves (a page renders as before, to within a shade of
  anti-aliasing where a text array is split).
- `mapped_glyphs` (pdf.build_fonts_dictionary): the fonts are subset by the
  glyphs behind those codes, each code keeps its own width and text, a
  CIDToGIDMap stream maps codes to glyphs where a code is not its glyph's ID,
  and no code maps to an empty text (a malformed ToUnicode entry, PDF/UA-1
  7.21.7).

Text runs get no ActualText of their own: a run's text in logical order over
glyphs in visual order made pdftotext read Urdu backwards; with each glyph
mapped, readers order right-to-left text as they do in any PDF.
"""

from __future__ import annotations

import contextlib
import io
import re

# The text of a glyph that only helps draw a cluster (a letter's dots): an
# invisible character that joins no letters and breaks no word.
FILLER = "\N{COMBINING GRAPHEME JOINER}"


# --- while WeasyPrint draws: each run's language ------------------------------------------

def marked_text(original):
    """WeasyPrint's Stream.marked, with each text run's property list also
    holding its language (/Lang, from the HTML `lang` it inherits). Languages
    equal to the document's are dropped again by `make_accessible`."""

    @contextlib.contextmanager
    def marked(stream, box, tag):
        with original(stream, box, tag):
            if stream._tags is not None and box in stream._tags and box.style["lang"]:
                properties = stream.stream[-2]  # begin_marked_content appended /Tag, properties, BDC
                properties["Lang"] = _pdf_string(box.style["lang"])
            yield
    marked.patched_by_materials = True
    return marked


def _pdf_string(text: str):
    import pydyf

    return pydyf.String(text)


# --- while WeasyPrint draws a line: each glyph's code and each cluster's text ---------------

class _Drawn:
    """One glyph WeasyPrint will write, in drawing order, and what goes
    around it: a span's ActualText starting here, an invisible glyph's code
    before or after it, the span ending after it."""

    __slots__ = ("x_offset", "y_offset", "actual_text", "lead", "trail", "ends_span")

    def __init__(self, x_offset: int, y_offset: int):
        self.x_offset = x_offset
        self.y_offset = y_offset
        self.actual_text: str | None = None
        self.lead: int | None = None
        self.trail: int | None = None
        self.ends_span = False


def _code(stream, font, glyph: int, text: str, pango_font, font_size: float) -> int:
    """The code that draws `glyph` standing for `text`: the glyph's own ID the
    first time, or when its text is the same; else a code of its own, past the
    font's glyphs (see `mapped_glyphs`). Its width is the glyph's, measured as
    draw_first_line measures it."""
    from weasyprint.text.ffi import FROM_UNITS, pango

    known = font.to_unicode.get(glyph)
    if known is None:
        font.to_unicode[glyph] = text
        code = glyph
    elif known == text:
        code = glyph
    else:
        codes = font.__dict__.setdefault("materials_codes", {})  # (glyph, text) -> code
        if (glyph, text) not in codes:
            # Font.get_unused_glyph_id numbers the glyphs a font lacks from
            # glyph_count + len(missing) on: taking the next number and moving
            # glyph_count past it keeps the two from ever meeting.
            codes[glyph, text] = font.glyph_count + len(font.missing)
            font.glyph_count += 1
            font.__dict__.setdefault("materials_glyphs", {})[codes[glyph, text]] = glyph
            font.to_unicode[codes[glyph, text]] = text
        code = codes[glyph, text]
    if code not in font.widths:
        pango.pango_font_get_glyph_extents(pango_font, glyph, stream.ink_rect, stream.logical_rect)
        font.widths[code] = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)
    return code


_INVISIBLE_GLYPH: dict[bytes, int | None] = {}


def _invisible_glyph(font) -> int | None:
    """The ID of an empty, zero-width glyph of the font (its combining
    grapheme joiner, else a zero-width space), or None."""
    from fontTools.ttLib import TTFont

    if "materials_invisible" in font.__dict__:
        return font.materials_invisible
    key = _font_key(font.file_content)
    if key not in _INVISIBLE_GLYPH:
        found = None
        ttfont = TTFont(io.BytesIO(font.file_content), lazy=True, fontNumber=font.index)
        cmap = ttfont.getBestCmap() or {}
        for codepoint in (0x034F, 0x200B, 0x2060):
            name = cmap.get(codepoint)
            if name and ttfont["hmtx"][name][0] == 0 and (
                    "glyf" not in ttfont or ttfont["glyf"][name].numberOfContours == 0):
                found = ttfont.getGlyphID(name)
                break
        _INVISIBLE_GLYPH[key] = found
    font.materials_invisible = _INVISIBLE_GLYPH[key]
    return font.materials_invisible


def _font_key(font_data: bytes) -> bytes:
    return font_data[:4096] + len(font_data).to_bytes(8, "big")


def _map_line(stream, textbox, line) -> tuple[list[_Drawn], list] | None:
    """Give each glyph of the line about to be drawn its code (in Pango's
    glyph string, which WeasyPrint writes from), and say which clusters get a
    span. Returns the glyphs WeasyPrint will write, in order, and each
    changed glyph's slot with its own ID (to put back after drawing); None
    when the line has a font whose glyphs are drawn as pictures."""
    from weasyprint.text.ffi import ffi, pango

    empty, unknown = pango.PANGO_GLYPH_EMPTY, pango.PANGO_GLYPH_UNKNOWN_FLAG
    utf8 = textbox.pango_layout.text.encode()
    drawn: list[_Drawn] = []
    changed: list = []
    run = line.runs[0]
    while run != ffi.NULL:
        glyph_item = run.data
        run = run.next
        item, glyphs = glyph_item.item, glyph_item.glyphs
        pango_font = item.analysis.font
        font, font_size = stream.add_font(pango_font)
        if font.bitmap or font.png or font.svg or font.colr:
            return None  # emoji and bitmap fonts: drawn as WeasyPrint draws them
        if pango.pango_version() < 14802:  # as draw_first_line does
            font_size = textbox.style["font_size"]
        count = glyphs.num_glyphs
        infos = glyphs.glyphs[0:count]
        clusters = list(glyphs.log_clusters[0:count])
        ends = sorted(set(clusters)) + [item.length]
        end_of = dict(zip(ends, ends[1:]))
        to_unicode, widths = font.to_unicode, font.widths
        i = 0
        while i < count:
            cluster = clusters[i]
            j = i + 1
            while j < count and clusters[j] == cluster:
                j += 1
            text = utf8[item.offset + cluster:item.offset + end_of[cluster]].decode()
            if j == i + 1:  # one glyph, the usual case
                info = infos[i]
                glyph = info.glyph
                i = j
                if glyph == empty:
                    continue
                if not glyph & unknown:
                    if to_unicode.get(glyph) != text or glyph not in widths:
                        code = _code(stream, font, glyph, text, pango_font, font_size)
                        if code != glyph:
                            changed.append((info, glyph))
                            info.glyph = code
                geometry = info.geometry
                drawn.append(_Drawn(geometry.x_offset, geometry.y_offset))
                continue
            members = [k for k in range(i, j) if infos[k].glyph != empty]
            i = j
            if not members:
                continue
            primary = max(members, key=lambda k: infos[k].geometry.width)
            for k in members:
                info = infos[k]
                glyph = info.glyph
                if not glyph & unknown:  # a missing glyph keeps WeasyPrint's own code
                    code = _code(stream, font, glyph, text if k == primary else FILLER, pango_font, font_size)
                    if code != glyph:
                        changed.append((info, glyph))
                        info.glyph = code
                geometry = info.geometry
                drawn.append(_Drawn(geometry.x_offset, geometry.y_offset))
            if len(members) > 1:
                first, last = drawn[-len(members)], drawn[-1]
                first.actual_text = text
                last.ends_span = True
                invisible = _invisible_glyph(font)
                if invisible is not None:  # the span's edges: first and last glyph are never both the widest
                    invisible = _code(stream, font, invisible, FILLER, pango_font, font_size)
                    if widths[invisible] == 0:
                        first.lead = invisible if members[0] != primary else None
                        last.trail = invisible if members[-1] != primary else None
    return drawn, changed


_TJ_PART = re.compile(rb"<[0-9a-fA-F]*>|[^<]+")


def _wrap_clusters(stream, start: int, drawn: list[_Drawn]) -> None:
    """Rewrite the text operators WeasyPrint appended to `stream` from
    `start`: each cluster of several glyphs in a /Span with its ActualText,
    beginning (or ending) with the invisible glyph where its first (or last)
    glyph is not its widest.

    WeasyPrint writes a line as `[...] TJ` arrays of 4-digit glyph codes and
    position adjustments, a glyph's own x offset just before it, its
    correction after it, and a raised glyph (a dot) in an array of its own
    after an `n Ts`. Splitting an array between two entries changes nothing
    drawn, so a span and the invisible glyph go at a glyph's edge: before its
    own offset and rise, which is where the previous glyph's advance ends."""
    import pydyf

    # The stream as a flat list: ("op", item), ("adjust", bytes), ("code", index, bytes), ("break",)
    parts: list[tuple] = []
    index = 0
    for item in stream.stream[start:]:
        if not (isinstance(item, bytes) and item.startswith(b"[") and item.endswith(b"] TJ")):
            parts.append(("op", item))
            continue
        parts.append(("break",))
        for token in _TJ_PART.findall(item[1:-4]):
            if token.startswith(b"<") and len(token) > 2:
                for at in range(1, len(token) - 1, 4):
                    parts.append(("code", index, token[at:at + 4]))
                    index += 1
            else:
                parts.append(("adjust", token))
        parts.append(("break",))
    if index != len(drawn):
        raise RuntimeError(f"text_layer: WeasyPrint wrote {index} glyphs for a line of {len(drawn)}: "
                           "materials/text_layer.py no longer matches WeasyPrint's draw_first_line")

    # Where each glyph's edge is: before its own offset, or before the text rise set for it.
    def is_rise(part) -> bool:
        return part[0] == "op" and isinstance(part[1], bytes) and part[1].endswith(b" Ts")
    where: dict[int, int] = {}   # glyph -> its code's place in parts
    edges: dict[int, int] = {}   # glyph -> its edge's
    for at, part in enumerate(parts):
        if part[0] != "code":
            continue
        glyph = drawn[part[1]]
        where[part[1]] = edge = at
        if glyph.y_offset:
            while edge > 0 and not is_rise(parts[edge - 1]):
                edge -= 1
            if edge == 0:
                raise RuntimeError("text_layer: a raised glyph without its text rise: "
                                   "materials/text_layer.py no longer matches WeasyPrint's draw_first_line")
            edge -= 1
        elif glyph.x_offset and parts[at - 1][0] == "adjust" and parts[at - 1][1] != b"<>":
            edge = at - 1
        edges[part[1]] = edge

    def end_edge(number: int) -> int:
        """Past the glyph's correction (and its rise's reset), before anything else."""
        at = where[number] + 1
        reset = not drawn[number].y_offset
        while at < len(parts) and parts[at][0] != "code":
            if parts[at][0] == "op":
                if reset or not is_rise(parts[at]):
                    break
                reset = True
            at += 1
        return min(at, edges.get(number + 1, len(parts)))
    before: dict[int, list] = {}
    for number, glyph in enumerate(drawn):
        if glyph.actual_text is not None:
            before.setdefault(edges[number], []).append(("begin", glyph.actual_text, glyph.lead))
        if glyph.ends_span:
            before.setdefault(end_edge(number), []).insert(0, ("end", glyph.trail))

    out: list = []
    array: list[bytes] = []

    def show():
        if array:
            out.append(b"[" + b"".join(array) + b"] TJ")
            array.clear()
    for at in range(len(parts) + 1):
        for event in before.get(at, ()):
            if event[0] == "end":
                if event[1] is not None:
                    array.append(b"<%04x>" % event[1])
                show()
                out.append(b"EMC")
            else:
                show()
                out += ["/Span", pydyf.Dictionary({"ActualText": pydyf.String(event[1])}), b"BDC"]
                if event[2] is not None:
                    array.append(b"<%04x>" % event[2])
        if at == len(parts):
            break
        part = parts[at]
        if part[0] == "op":
            show()
            out.append(part[1])
        elif part[0] == "break":
            show()
        elif part[0] == "adjust":
            array.append(part[1])
        else:
            array.append(b"<" + part[2] + b">")
    show()
    stream.stream[start:] = out


def drawn_clusters(original):
    """WeasyPrint's draw_first_line, with each glyph of the line given the
    text of its cluster, and each cluster of several glyphs in a span with its
    ActualText (see the module's docstring). The line is the one
    draw_first_line gets from the layout's get_first_line (after any
    ellipsis), so the hook sits there, for this call only."""

    def draw_first_line(stream, textbox, *args, **kwargs):
        layout = textbox.pango_layout
        mapped = {}

        def get_first_line():
            line, index = type(layout).get_first_line(layout)
            mapped["line"] = _map_line(stream, textbox, line)
            return line, index
        start = len(stream.stream)
        layout.get_first_line = get_first_line
        try:
            result = original(stream, textbox, *args, **kwargs)
        finally:
            del layout.get_first_line
            for info, glyph in (mapped.get("line") or ((), ()))[1]:
                info.glyph = glyph  # Pango's glyph string as it was
        if mapped.get("line") and any(glyph.actual_text is not None for glyph in mapped["line"][0]):
            _wrap_clusters(stream, start, mapped["line"][0])
        return result
    draw_first_line.patched_by_materials = True
    return draw_first_line


def install_text_mapping() -> None:
    """Patch WeasyPrint (pinned to 70.0) once per process: `marked_text`,
    `drawn_clusters` and `mapped_glyphs`."""
    import weasyprint.draw.text
    import weasyprint.pdf
    from weasyprint.pdf.stream import Stream

    if not hasattr(Stream.marked, "patched_by_materials"):
        Stream.marked = marked_text(Stream.marked)
    if not hasattr(weasyprint.draw.text.draw_first_line, "patched_by_materials"):
        weasyprint.draw.text.draw_first_line = drawn_clusters(weasyprint.draw.text.draw_first_line)
    if not hasattr(weasyprint.pdf.build_fonts_dictionary, "patched_by_materials"):
        weasyprint.pdf.build_fonts_dictionary = mapped_glyphs(weasyprint.pdf.build_fonts_dictionary)


# --- while WeasyPrint writes its fonts: codes to glyphs, a text for every code -------------

_GLYPH_TEXT: dict[bytes, dict[int, str]] = {}


def _glyph_texts(font_data: bytes) -> dict[int, str]:
    """Each glyph of a font file -> the character it is a form of, from its
    name (`uni066E.medi.wide` -> U+066E) or the font's own character map."""
    from fontTools.ttLib import TTFont

    key = _font_key(font_data)
    if key not in _GLYPH_TEXT:
        font = TTFont(io.BytesIO(font_data), lazy=True)
        texts = {}
        for glyph_id, name in enumerate(font.getGlyphOrder()):
            base = name.split(".")[0]
            if base.startswith("uni") and len(base) == 7:
                with contextlib.suppress(ValueError):
                    texts[glyph_id] = chr(int(base[3:], 16))
        by_name = {name: chr(code) for code, name in sorted(font.getBestCmap().items(), reverse=True)}
        for glyph_id, name in enumerate(font.getGlyphOrder()):
            if glyph_id not in texts and name.split(".")[0] in by_name:
                texts[glyph_id] = by_name[name.split(".")[0]]
        _GLYPH_TEXT[key] = texts
    return _GLYPH_TEXT[key]


def mapped_glyphs(original):
    """WeasyPrint's build_fonts_dictionary, for fonts where `drawn_clusters`
    gave a glyph a code of its own: the font is subset by the glyphs behind
    the codes, and its CIDFont gets a CIDToGIDMap stream (code -> glyph)
    instead of /Identity; each code keeps its own width (/W) and text
    (ToUnicode), as WeasyPrint writes them from the codes.

    And every code WeasyPrint maps to no text (the second glyph of a cluster
    drawn other than by `drawn_clusters`) is mapped to the character its glyph
    is a form of: a ToUnicode entry with no text is malformed (PDF/UA-1,
    7.21.7)."""
    import pydyf

    def build_fonts_dictionary(pdf, fonts, compress, subset, options):
        for font in fonts.values():
            empty = [glyph for glyph, text in font.to_unicode.items() if not text]
            if empty:
                texts = _glyph_texts(font.file_content)
                for glyph in empty:
                    font.to_unicode[glyph] = texts.get(glyph, "\N{DOTTED CIRCLE}")
        split = [font for font in fonts.values() if font.__dict__.get("materials_glyphs")]
        for font in split:
            if not subset or font.used_in_forms:
                raise RuntimeError("text_layer: glyphs with codes of their own need subset fonts "
                                   f"({font.family}): WeasyPrint writes a full font's widths and text by glyph ID")
            font.clean = _clean_by_glyph(font)
        try:
            pdf_fonts = original(pdf, fonts, compress, subset, options)
        finally:
            for font in split:
                del font.clean
        for font in split:
            glyphs = font.materials_glyphs
            font_dictionary = pdf.objects[int(pdf_fonts[font.hash].split()[0])]
            cid_font = pdf.objects[int(font_dictionary["DescendantFonts"][0].split()[0])]
            last = max(max(font.widths), max(glyphs))
            cid_to_gid = pydyf.Stream(
                [b"".join(glyphs.get(code, code).to_bytes(2, "big") for code in range(last + 1))], compress=compress)
            pdf.add_object(cid_to_gid)
            cid_font["CIDToGIDMap"] = cid_to_gid.reference
        return pdf_fonts
    build_fonts_dictionary.patched_by_materials = True
    return build_fonts_dictionary


def _clean_by_glyph(font):
    """Font.clean for `font`, subsetting by the glyphs behind its codes."""
    clean = type(font).clean
    glyphs = font.materials_glyphs

    def by_glyph(to_unicode, hinting):
        return clean(font, {glyphs.get(code, code): text for code, text in to_unicode.items()}, hinting)
    return by_glyph
