"""Stage 4, while WeasyPrint writes: the text layer under the glyphs.

A PDF shows glyphs; copying, searching and screen readers need the text they
stand for. WeasyPrint 70 maps each glyph of a font to one text, the first it
is met with, and in Arabic script that is wrong: Noto Sans Arabic draws a
letter as a dotless body and its dots, glyphs shared by several letters, and a
cluster of several glyphs maps some of them to nothing. Two patches, installed
once per process (WeasyPrint is pinned to 70.0), put it right:

- `marked_text`: each text run's marked content holds its language (/Lang,
  from the HTML `lang` it inherits) and, in right-to-left script, its text
  (/ActualText);
- `mapped_glyphs`: no glyph maps to an empty text (a malformed ToUnicode
  entry, PDF/UA-1 7.21.7).
"""

from __future__ import annotations

import contextlib
import io
import unicodedata


# --- while WeasyPrint draws: the text of each run ---------------------------------------

def _needs_actual_text(text: str) -> bool:
    """Right-to-left script is shaped into contextual forms and ligatures, whose
    glyphs WeasyPrint maps to text one per font and once (the first cluster a
    glyph is met in wins; a cluster of several glyphs maps some of them to
    nothing): the run carries its text instead."""
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


def marked_text(original):
    """WeasyPrint's Stream.marked, with each text run's property list also
    holding its language (/Lang, from the HTML `lang` it inherits) and, where
    its glyphs cannot be mapped back to it, its text (/ActualText). Languages
    equal to the document's are dropped again by `make_accessible`."""

    @contextlib.contextmanager
    def marked(stream, box, tag):
        with original(stream, box, tag):
            if stream._tags is not None and box in stream._tags:
                properties = stream.stream[-2]  # begin_marked_content appended /Tag, properties, BDC
                if box.style["lang"]:
                    properties["Lang"] = _pdf_string(box.style["lang"])
                text = getattr(box, "text", None)
                if text and _needs_actual_text(text):
                    properties["ActualText"] = _pdf_string(text)
            yield
    marked.patched_by_materials = True
    return marked


def _pdf_string(text: str):
    import pydyf

    return pydyf.String(text)


def install_text_mapping() -> None:
    """Patch WeasyPrint (pinned to 70.0) once per process: `marked_text` and
    `mapped_glyphs`."""
    import weasyprint.pdf
    from weasyprint.pdf.stream import Stream

    if not hasattr(Stream.marked, "patched_by_materials"):
        Stream.marked = marked_text(Stream.marked)
    if not hasattr(weasyprint.pdf.build_fonts_dictionary, "patched_by_materials"):
        weasyprint.pdf.build_fonts_dictionary = mapped_glyphs(weasyprint.pdf.build_fonts_dictionary)


# --- while WeasyPrint writes its fonts: a text for every glyph ----------------------------

_GLYPH_TEXT: dict[bytes, dict[int, str]] = {}


def _glyph_texts(font_data: bytes) -> dict[int, str]:
    """Each glyph of a font file -> the character it is a form of, from its
    name (`uni066E.medi.wide` -> U+066E) or the font's own character map."""
    from fontTools.ttLib import TTFont

    key = font_data[:4096] + len(font_data).to_bytes(8, "big")
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
    """WeasyPrint's build_fonts_dictionary, with every glyph it maps to no text
    (the second glyph of a cluster, such as an Arabic letter's dots drawn apart
    from its dotless body) mapped to the character it is a form of: a ToUnicode
    entry with no text is malformed (PDF/UA-1, 7.21.7). The true text of such
    runs is their /ActualText (see `marked_text`)."""

    def build_fonts_dictionary(pdf, fonts, *args, **kwargs):
        for font in fonts.values():
            empty = [glyph for glyph, text in font.to_unicode.items() if not text]
            if empty:
                texts = _glyph_texts(font.file_content)
                for glyph in empty:
                    font.to_unicode[glyph] = texts.get(glyph, "\N{DOTTED CIRCLE}")
        return original(pdf, fonts, *args, **kwargs)
    build_fonts_dictionary.patched_by_materials = True
    return build_fonts_dictionary
