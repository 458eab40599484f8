"""The text under the glyphs (issue 17, item 2): what a reader gets back from
the Urdu and Welsh editions, read from real PDFs by pdftotext (poppler-utils,
default mode), and the mechanism materials/text_layer.py adds to WeasyPrint
70.0 for it (each glyph its cluster's text: codes of their own, a
CIDToGIDMap, ActualText spans for clusters of several glyphs).

The files are made once for the module, in this process (the jobs' HTML is
at hand: "the words a product prints" are the words of the translation's
YAML that its HTML holds)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pikepdf
import pytest
import weasyprint
import yaml
from fontTools.ttLib import TTFont

from conftest import LAYOUTS_DIR, SOURCE_DIR, shipped_source
from materials.fit import fit
from materials.preflight import pdf_ua_failures
from materials.jobs import Job
from materials.render import Renderer
from materials.workers import render_here

VENUE = "hotels"
JOBS = [Job(VENUE, key, lang="ur") for key in ("handout-participant", "handout-trainer", "wallet-card", "poster-a4")] + [
    Job(VENUE, key, lang="cy") for key in ("handout-participant", "wallet-card")]
INTACT = 0.99  # the share of a product's words pdftotext must give back whole


def pdftotext(path: Path) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: run `bash .ci/setup` (it installs Debian's poppler-utils package)"
    return subprocess.run([tool, str(path), "-"], check=True, capture_output=True, text=True).stdout


def words(text: str) -> set[str]:
    """The words of a text, case folded (layouts set some headings in capitals):
    runs of letters and combining marks (a vowel sign is part of its word;
    the Arabic comma, which pdftotext sets apart as a left-to-right run, is not)."""
    found, word = set(), []
    for char in text + " ":
        if unicodedata.category(char)[0] in "LM" or char in "\N{ZERO WIDTH NON-JOINER}\N{ZERO WIDTH JOINER}":
            word.append(char)
        elif word:
            found.add("".join(word).casefold())
            word = []
    return found


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def translation_words(lang: str) -> set[str]:
    """Every word of source/translations/<lang>.yaml; in Urdu, the Arabic-script ones."""
    found = set()
    for text in _strings(yaml.safe_load((SOURCE_DIR / "translations" / f"{lang}.yaml").read_text(encoding="utf-8"))):
        found |= words(text)
    if lang == "ur":
        found = {word for word in found if any(unicodedata.bidirectional(char) in ("R", "AL") for char in word)}
    return found


def html_text(root) -> str:
    """The text of a laid-out job's HTML body (what it prints), styles and scripts left out."""
    body = next(element for element in root.iter() if element.tag == "body")
    return " ".join(part for element in body.iter() if element.tag not in ("style", "script")
                    for part in (element.text, element.tail) if part)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[Job, tuple[Path, str]]:
    """Each job's PDF (as the build makes it, preflight included) and the text its HTML prints."""
    renderer = Renderer(shipped_source(), LAYOUTS_DIR)
    out = tmp_path_factory.mktemp("text-layer")
    made = {}
    for result in render_here(renderer, JOBS, thumbnails=False):
        assert not result.problems, f"{result.job}: {result.problems}"
        path = out / result.job.output_path.replace("/", "-")
        path.write_bytes(result.pdf)
        rendered = fit(renderer, result.job).rendered  # the layout just made (the renderer keeps it)
        made[result.job] = (path, html_text(rendered.html_root))
    return made


# --- what pdftotext gives back ----------------------------------------------------------

@pytest.mark.parametrize("job", JOBS, ids=str)
def test_the_words_a_product_prints_extract_intact(made, job):
    """At least 99% of the distinct words of the translation that the file
    prints come out of pdftotext whole. Before text_layer gave each glyph its
    cluster's text, 2% of the Urdu handouts' words did (the dotless letter
    bodies Noto Sans Arabic shares between letters, and the dots, mapped to
    nothing or to another letter)."""
    path, printed_text = made[job]
    printed = translation_words(job.lang) & words(printed_text)
    assert len(printed) > (50 if job.product.kind == "handout" else 20), f"{job} prints few words of {job.lang}.yaml"
    extracted = words(pdftotext(path))
    intact = printed & extracted
    assert len(intact) >= INTACT * len(printed), (
        f"{job}: {len(intact)} of {len(printed)} words intact ({len(intact) / len(printed):.1%}); "
        f"broken: {sorted(printed - extracted)[:20]}")


def test_welsh_letters_with_circumflexes_extract_intact(made):
    """ŵ and ŷ (and â ê î ô û) are letters Atkinson Hyperlegible lacks
    (Noto Sans draws them): every word with one comes out whole."""
    path, printed_text = made[Job(VENUE, "handout-participant", lang="cy")]
    accented = {word for word in translation_words("cy") & words(printed_text) if re.search("[ŵŷâêîôû]", word)}
    assert {"ŵ", "ŷ"} <= set("".join(accented)), sorted(accented)
    assert accented <= words(pdftotext(path)), sorted(accented - words(pdftotext(path)))


def test_the_urdu_title_extracts_as_written(made):
    """The issue's example: "بچوں کا جنسی استحصال" came out as
    "ج چ وں کا ج ن سی اس ق صال" (WeasyPrint's text for a glyph is the first
    it met it with, and a dot drawn apart from its letter had none)."""
    path, _ = made[Job(VENUE, "handout-participant", lang="ur")]
    assert "بچوں کا جنسی استحصال" in " ".join(pdftotext(path).split())


# --- languages --------------------------------------------------------------------------

def _to_unicode(font) -> dict[int, str]:
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    return {int(code, 16): bytes.fromhex(text).decode("utf-16-be")
            for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S)
            for code, text in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block)}


def text_by_language(path: Path) -> dict[str | None, str]:
    """The text drawn in each language's marked content (by the innermost
    /Lang; None where no marked content says one, "artifact" in artifacts),
    decoded through the fonts' ToUnicode maps."""
    found: dict[str | None, list[str]] = {}
    with pikepdf.open(path) as pdf:
        for pdf_page in pdf.pages:
            maps = {str(name): _to_unicode(font) for name, font in pdf_page.Resources.Font.items()}
            stack: list[str | None] = []
            codes: dict[int, str] = {}
            for operands, operator in pikepdf.parse_content_stream(pdf_page):
                operator = str(operator)
                if operator in ("BDC", "BMC"):
                    inherited = stack[-1] if stack else None
                    properties = operands[1] if operator == "BDC" and isinstance(operands[1], pikepdf.Dictionary) else {}
                    if operands[0] == pikepdf.Name.Artifact:
                        stack.append("artifact")
                    else:
                        stack.append(str(properties["/Lang"]) if "/Lang" in properties else inherited)
                elif operator == "EMC":
                    stack.pop()
                elif operator == "Tf":
                    codes = maps[str(operands[0])]
                elif operator in ("TJ", "Tj"):
                    strings = operands[0] if operator == "TJ" else [operands[0]]
                    data = b"".join(bytes(item) for item in strings if isinstance(item, pikepdf.String))
                    text = "".join(codes.get(int.from_bytes(data[at:at + 2], "big"), "") for at in range(0, len(data), 2))
                    found.setdefault(stack[-1] if stack else None, []).append(text)
    return {lang: " ".join(" ".join(texts).split()) for lang, texts in found.items()}


@pytest.mark.parametrize("key", ["handout-participant", "wallet-card", "poster-a4"])
def test_english_in_the_urdu_edition_says_it_is_english(made, key):
    """A draft's notice prints its English line ("Draft translation: not for
    distribution") beside the Urdu: that text's marked content carries /Lang
    en-GB, so a screen reader reads it in English; the Urdu text carries none
    of its own (it is the document's, /Lang ur)."""
    path, _ = made[Job(VENUE, key, lang="ur")]
    with pikepdf.open(path) as pdf:
        assert str(pdf.Root.Lang) == "ur"
    by_language = text_by_language(path)
    english = shipped_source().content.headings.draft_translation
    assert english in by_language.get("en-GB", ""), by_language.keys()
    assert "distribution" not in by_language.get(None, "")
    assert any(unicodedata.bidirectional(char) == "AL" for char in by_language.get(None, "")), "no Urdu text"


# --- the mechanism, guarded ---------------------------------------------------------------

def test_weasyprint_is_the_version_text_layer_patches():
    """text_layer.py patches WeasyPrint 70.0's draw_first_line, Stream.marked
    and build_fonts_dictionary: another version needs them checked (and this
    module's tests run) before the pin in pyproject.toml moves."""
    assert weasyprint.__version__ == "70.0"


def _font_programs(path: Path):
    """Each composite font of the file: its name, ToUnicode map, widths by
    code, code -> glyph map (None for /Identity) and embedded font program."""
    with pikepdf.open(path) as pdf:
        seen = set()
        for pdf_page in pdf.pages:
            for font in pdf_page.Resources.Font.values():
                if font.objgen in seen:
                    continue
                seen.add(font.objgen)
                cid_font = font.DescendantFonts[0]
                widths, entries = {}, list(cid_font.get("/W", []))
                for at in range(0, len(entries), 2):
                    widths.update({int(entries[at]) + offset: float(width) for offset, width in enumerate(entries[at + 1])})
                mapping = cid_font.CIDToGIDMap
                data = mapping.read_bytes() if isinstance(mapping, pikepdf.Stream) else None
                code_to_glyph = None if data is None else {
                    code: int.from_bytes(data[2 * code:2 * code + 2], "big") for code in range(len(data) // 2)}
                program = TTFont(io.BytesIO(cid_font.FontDescriptor.FontFile2.read_bytes()))
                yield str(font.BaseFont), _to_unicode(font), widths, code_to_glyph, program


def test_a_glyph_drawn_for_two_texts_has_two_codes(made):
    """In the Urdu handout a glyph stands for several letters (ی and ى end in
    one glyph; ب ت ث ن ی پ begin with one body): each text has a code of its
    own, which the font's CIDToGIDMap maps to the glyph; every code has a
    text, and the width of the glyph it draws (PDF/UA-1 7.21.5)."""
    path, _ = made[Job(VENUE, "handout-trainer", lang="ur")]
    split = 0
    for name, to_unicode, widths, code_to_glyph, program in _font_programs(path):
        assert all(to_unicode.get(code) for code in widths), f"{name}: a code with no text"
        if code_to_glyph is None:
            continue
        texts_by_glyph: dict[int, set[str]] = {}
        for code in widths:
            texts_by_glyph.setdefault(code_to_glyph[code], set()).add(to_unicode[code])
        split += sum(len(texts) > 1 for texts in texts_by_glyph.values())
        scale = 1000 / program["head"].unitsPerEm
        order = program.getGlyphOrder()
        for code, width in widths.items():
            advance = program["hmtx"][order[code_to_glyph[code]]][0] * scale
            assert abs(width - advance) <= 1, f"{name}: code {code} is {width} wide, its glyph {advance}"
    assert split >= 5, "no glyph of the Urdu handout has codes of its own for its texts"


def test_a_cluster_of_several_glyphs_carries_its_text(made):
    """A letter drawn as a body and dots is one /Span with the letter as its
    ActualText; text runs carry no ActualText of their own (a run's text in
    logical order over glyphs in visual order read backwards in pdftotext)."""
    path, _ = made[Job(VENUE, "handout-participant", lang="ur")]
    spans = []
    with pikepdf.open(path) as pdf:
        for pdf_page in pdf.pages:
            for operands, operator in pikepdf.parse_content_stream(pdf_page):
                if str(operator) == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and "/ActualText" in operands[1]:
                    assert operands[0] == pikepdf.Name.Span and "/MCID" not in operands[1]
                    spans.append(str(operands[1].ActualText))
    assert len(spans) > 100
    assert "ب" in spans and "چ" in spans
    assert not [text for text in spans if " " in text or len(text) > 3], "an ActualText longer than a cluster"


def test_writing_a_layout_again_gives_the_same_bytes():
    """Codes are given while WeasyPrint draws, and Pango's glyph string gets
    its glyph IDs back after: a layout written twice (the card is written for
    its own file and again onto its sheet) is the same file twice."""
    renderer = Renderer(shipped_source(), LAYOUTS_DIR)
    rendered = renderer.render(Job(VENUE, "wallet-card", lang="ur"))
    assert renderer.write_pdf(rendered) == renderer.write_pdf(rendered)


@pytest.mark.parametrize("job", [job for job in JOBS if job.product.kind == "handout"], ids=str)
def test_the_handouts_stay_pdf_ua_1(made, job):
    """The text layer's codes, widths, CIDToGIDMap and spans keep the
    handouts passing page-validation's PDF/UA-1 profile with no failure."""
    path, _ = made[job]
    # In a forked child, as the build runs it: the validator's threads would
    # hang every build this test process forks after it.
    failures = pdf_ua_failures(path.read_bytes())
    assert not failures, failures[:10]
