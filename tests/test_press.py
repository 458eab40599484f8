"""Press files: the posters and the wallet card made for a print shop (variant
"press"), read back from the real PDFs of the session's full build.

What a print shop needs and these tests check: the page boxes (TrimBox the ISO
size, 3 mm bleed, a slug for crop marks), PDF/X-4 with a CMYK output intent,
no RGB or Lab colour in use, the highest ink coverage at most 300% (measured on
a CMYK rendering by Ghostscript), embedded fonts, text inside the safe zone
(5 mm on a poster, 3 mm on a card), crop marks in the slug, the poster's
masthead running into the bleed (the card's edges: tests/test_wallet_card.py);
then the manifest and the `--variant` option. Formats come from
materials/jobs.py (variant == "press"); the sizes they must have are written
here, from ISO 216, ISO/IEC 7810 and the press spec.

The PDF/X-4 items (boxes, output intent, XMP, colour, ink) are checked on every
press file of the full build and on a translated edition made for an area (the
press card in Urdu for example-borough: another script, another font, the
area's QR code), and the checks that read colour are each shown to fail on a
small PDF made here that breaks them.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from PIL.ImageCms import ImageCmsProfile
from pypdf.generic import ArrayObject, ContentStream, IndirectObject, StreamObject

from conftest import (LAYOUTS_DIR, MM_TO_PT, PT_TO_MM, SOURCE_DIR, box_mm, darkest, files_under, font_problems,
                      pdf_reader, read_manifest, render_page, run_cli, shipped_source)
from materials.jobs import PRODUCT_FORMATS, ProductFormat
from materials.press import PRESS_PROFILE, device_cmyk

PRESS_FORMATS = [fmt for fmt in PRODUCT_FORMATS if fmt.variant == "press"]
OFFICE_FORMATS = [fmt for fmt in PRODUCT_FORMATS if fmt.variant == "office"]
VENUE_IDS = [venue.id for venue in shipped_source().venues]
PRESS_FILES = [pytest.param(venue_id, fmt.key, id=f"{venue_id}-{fmt.key}")
               for venue_id in VENUE_IDS for fmt in PRESS_FORMATS]

# A translated edition for an area, of the press formats that are quickest to
# make (the cards: an Urdu poster takes seconds a size).
TRANSLATED_LANG, TRANSLATED_AREA, TRANSLATED_VENUE = "ur", "example-borough", "hotels"
TRANSLATED_PRODUCT = "wallet-card"
TRANSLATED_FORMATS = [fmt for fmt in PRESS_FORMATS if fmt.kind == TRANSLATED_PRODUCT]

# Every file the PDF/X-4 items are checked on: ("full", venue, format key) for
# the full build's, ("translated", venue, format key) for the edition above.
PDFX_FILES = ([pytest.param(("full", venue_id, fmt.key), id=f"{venue_id}-{fmt.key}")
               for venue_id in VENUE_IDS for fmt in PRESS_FORMATS]
              + [pytest.param(("translated", TRANSLATED_VENUE, fmt.key),
                              id=f"{TRANSLATED_AREA}-{TRANSLATED_VENUE}-{fmt.key}-{TRANSLATED_LANG}")
                 for fmt in TRANSLATED_FORMATS])

# The press spec, independent of materials/: trimmed sizes (mm) by format,
# ISO 216 paper and the ISO/IEC 7810 ID-1 card, the UK trade's 3 mm bleed, an
# 8 mm slug for crop marks outside it, and a safe zone inside the trim that
# text must not enter: 5 mm on a poster, 3 mm on a card.
TRIM_MM = {"a2": (420, 594), "a3": (297, 420), "a4": (210, 297), "id-1": (85.60, 53.98)}
BLEED_MM = 3.0
SLUG_MM = 8.0
SAFE_ZONE_MM = {"poster": 5.0, "wallet-card": 3.0}
BOX_TOLERANCE_MM = 0.2
PRESS_PROFILE = LAYOUTS_DIR / "common" / "FOGRA39-make-materials.icc"

# Rendering: 144 dpi shows a 0.25 pt crop mark as a clearly dark pixel.
RENDER_DPI = 144
INK = 250     # a pixel with any channel below this is printed on
DARK = 128    # ... and one with every channel below this is dark ink


def press_pdf(full_build, venue_id, format_key):
    return full_build.pdf(venue_id, format_key)


@pytest.fixture(scope="module")
def translated_press_build(tmp_path_factory) -> Path:
    """The press formats of one product, in one translation, for one area: one venue."""
    out = tmp_path_factory.mktemp("press-translated") / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, "--venue", TRANSLATED_VENUE,
                     "--product", TRANSLATED_PRODUCT, "--variant", "press", "--lang", TRANSLATED_LANG,
                     "--area", TRANSLATED_AREA)
    assert result.exit_code == 0, result.stderr
    return out


@dataclass(frozen=True)
class PressFile:
    path: Path
    fmt: ProductFormat


@pytest.fixture
def pdfx_file(request) -> PressFile:
    """One of PDFX_FILES (parametrised indirectly), built on first use."""
    build, venue_id, format_key = request.param
    if build == "full":
        path = request.getfixturevalue("full_build").pdf(venue_id, format_key)
    else:
        path = (request.getfixturevalue("translated_press_build") / TRANSLATED_AREA / venue_id
                / f"{format_key}-{TRANSLATED_LANG}.pdf")
    return PressFile(path, press_format(format_key))


def press_format(format_key: str):
    return next(fmt for fmt in PRESS_FORMATS if fmt.key == format_key)


def trim_size(format_key: str) -> tuple[float, float]:
    return TRIM_MM[press_format(format_key).format]


def test_press_formats_are_the_standard_sizes():
    """The parametrisation below is not empty, and every press format is an
    ISO 216 or ISO/IEC 7810 size with a safe zone for its kind."""
    assert PRESS_FORMATS, "no press formats in PRODUCT_FORMATS"
    for fmt in PRESS_FORMATS:
        assert fmt.format in TRIM_MM, f"{fmt.key}: no standard size known for {fmt.format!r}"
        assert (fmt.width_mm, fmt.height_mm) == TRIM_MM[fmt.format], fmt.key
        assert fmt.kind in SAFE_ZONE_MM, fmt.key


def test_every_press_file_built_is_checked(full_build, translated_press_build):
    """The press files a build writes (its manifest says which are "press") are
    the ones the PDF/X-4 tests below are given: none is left out."""
    checked = {(build, f"{venue_id}/{format_key}") for build, venue_id, format_key in
               (param.values[0] for param in PDFX_FILES)}
    built = {("full", entry["file"].removesuffix(".pdf")) for entry in read_manifest(full_build.out)
             if entry["variant"] == "press"}
    built |= {("translated", entry["file"].removeprefix(f"{TRANSLATED_AREA}/").removesuffix(f"-{TRANSLATED_LANG}.pdf"))
              for entry in read_manifest(translated_press_build) if entry["variant"] == "press"}
    assert {item for item in built if item[0] == "translated"}, "the translated build made no press file"
    assert built == checked, {"built, not checked": built - checked, "checked, not built": checked - built}


# --- page boxes ------------------------------------------------------------------------

@pytest.mark.parametrize("pdfx_file", PDFX_FILES, indirect=True)
def test_page_boxes(pdfx_file):
    width, height = trim_size(pdfx_file.fmt.key)
    reader = pdf_reader(pdfx_file.path)
    for number, page in enumerate(reader.pages, 1):
        assert "/TrimBox" in page and "/BleedBox" in page, f"page {number}: a press page needs TrimBox and BleedBox"
        trim, bleed, media = box_mm(page, "/TrimBox"), box_mm(page, "/BleedBox"), box_mm(page, "/MediaBox")
        assert trim == pytest.approx((0, 0, width, height), abs=BOX_TOLERANCE_MM), f"page {number}: TrimBox {trim}"
        left, bottom, right, top = trim
        assert bleed == pytest.approx((left - BLEED_MM, bottom - BLEED_MM, right + BLEED_MM, top + BLEED_MM),
                                      abs=BOX_TOLERANCE_MM), f"page {number}: BleedBox {bleed} is not trim + 3 mm"
        room = BLEED_MM + SLUG_MM
        assert media == pytest.approx((left - room, bottom - room, right + room, top + room),
                                      abs=BOX_TOLERANCE_MM), f"page {number}: MediaBox {media} is not bleed + slug"
        if "/CropBox" in page:  # a viewer must show the marks
            assert box_mm(page, "/CropBox") == pytest.approx(media, abs=0.01), f"page {number}: CropBox hides marks"


# --- PDF/X-4 ------------------------------------------------------------------------------

@pytest.mark.parametrize("pdfx_file", PDFX_FILES, indirect=True)
def test_output_intent_is_an_embedded_cmyk_profile(pdfx_file):
    reader = pdf_reader(pdfx_file.path)
    intents = reader.trailer["/Root"].get("/OutputIntents")
    assert intents is not None, "no /OutputIntents in the catalog"
    intents = intents.get_object()
    assert len(intents) == 1
    intent = intents[0].get_object()
    assert intent.get("/S") == "/GTS_PDFX"
    assert intent.get("/OutputConditionIdentifier"), "PDF/X needs an OutputConditionIdentifier"
    reference = intent.raw_get("/DestOutputProfile")
    assert isinstance(reference, IndirectObject), "DestOutputProfile must be an embedded (indirect) stream"
    profile = reference.get_object()
    assert isinstance(profile, StreamObject)
    assert profile.get("/N") == 4, "the output intent is not a four-colour profile"
    data = profile.get_data()
    assert data[36:40] == b"acsp", "DestOutputProfile is not an ICC profile"
    assert int.from_bytes(data[:4], "big") == len(data), "the ICC profile is truncated or padded"
    assert data[12:16] == b"prtr", "the output intent profile is not an output (printer) profile"
    assert data[16:20] == b"CMYK", f"the profile's colour space is {data[16:20]!r}, not CMYK"
    # the profile the layouts name (WeasyPrint re-serialises it: compare what it says, not its bytes)
    embedded = ImageCmsProfile(io.BytesIO(data)).profile
    shipped = ImageCmsProfile(str(PRESS_PROFILE)).profile
    assert embedded.profile_description == shipped.profile_description


def test_every_press_file_embeds_the_same_profile(full_build):
    digests = {}
    for venue_id in VENUE_IDS:
        for fmt in PRESS_FORMATS:
            intent = pdf_reader(full_build.pdf(venue_id, fmt.key)).trailer["/Root"]["/OutputIntents"][0].get_object()
            data = intent["/DestOutputProfile"].get_object().get_data()
            digests.setdefault(hashlib.sha256(data).hexdigest(), []).append(f"{venue_id}/{fmt.filename}")
    assert len(digests) == 1, {digest[:12]: files for digest, files in digests.items()}
    # ... and it is the profile we ship, byte for byte.
    assert next(iter(digests)) == hashlib.sha256(PRESS_PROFILE.read_bytes()).hexdigest()


def xmp_values(xmp: bytes, local_name: str) -> list[str]:
    """The values of an XMP property, in any namespace, written as an element or an attribute."""
    values = []
    for element in ET.fromstring(xmp).iter():
        if element.tag.rpartition("}")[2] == local_name and element.text:
            values.append(element.text.strip())
        values += [value for key, value in element.attrib.items() if key.rpartition("}")[2] == local_name]
    return values


def test_xmp_values_itself():
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:a="http://www.npes.org/pdfx/ns/id/" a:GTS_PDFXVersion="PDF/X-4"/>'
           b'<rdf:Description xmlns:b="http://ns.adobe.com/pdfx/1.3/"><b:GTS_PDFXVersion> PDF/X-3:2002 '
           b'</b:GTS_PDFXVersion></rdf:Description></rdf:RDF></x:xmpmeta>')
    assert xmp_values(xmp, "GTS_PDFXVersion") == ["PDF/X-4", "PDF/X-3:2002"]


@pytest.mark.parametrize("pdfx_file", PDFX_FILES, indirect=True)
def test_xmp_metadata_says_pdf_x_4(pdfx_file):
    reader = pdf_reader(pdfx_file.path)
    assert float(reader.pdf_header.removeprefix("%PDF-")) >= 1.6, "PDF/X-4 is based on PDF 1.6"
    metadata = reader.trailer["/Root"].get("/Metadata")
    assert metadata is not None, "no XMP metadata stream in the catalog"
    versions = xmp_values(metadata.get_object().get_data(), "GTS_PDFXVersion")
    assert versions and set(versions) == {"PDF/X-4"}, versions


# --- colour: no RGB or Lab in use -------------------------------------------------------------

RGB_FAMILIES = {"/DeviceRGB", "/CalRGB", "/RGB", "/ICCBased-3"}  # /RGB: the inline-image abbreviation
# What a press file may paint with: CMYK, and grey (PDF/X-4 prints DeviceGray
# as black ink). Anything else, RGB and Lab above all, is colour the print
# shop's RIP would have to convert.
CMYK_FAMILIES = {"/DeviceCMYK", "/ICCBased-4", "/CMYK"}  # /CMYK: the inline-image abbreviation
INK_FAMILIES = CMYK_FAMILIES | {"/DeviceGray", "/CalGray", "/ICCBased-1", "/G"}


def colour_space_family(space) -> str:
    """'/DeviceCMYK', '/DeviceRGB', '/Lab', ... for a colour space object; an
    ICCBased space is named by its number of components, e.g. '/ICCBased-4';
    an Indexed, Separation or DeviceN space by the space it stands for, a
    Pattern space with a base space by its base."""
    space = space.get_object() if hasattr(space, "get_object") else space
    if isinstance(space, ArrayObject):
        family = str(space[0])
        if family == "/ICCBased":
            stream = space[1].get_object()
            alternate = stream.get("/Alternate")
            if alternate is not None and colour_space_family(alternate) in RGB_FAMILIES:
                return "/DeviceRGB"
            return f"/ICCBased-{stream['/N']}"
        if family in ("/Indexed", "/I"):
            return colour_space_family(space[1])
        if family in ("/Separation", "/DeviceN"):
            return colour_space_family(space[2])
        if family == "/Pattern" and len(space) > 1:
            return colour_space_family(space[1])
        return family
    return str(space)


def is_cmyk(family: str) -> bool:
    return family in CMYK_FAMILIES


class ColourScan:
    """Walks a page's content streams and every resource reachable from them
    (form XObjects, images, patterns, shadings, soft masks, groups, Type 3
    glyphs) and its annotations' appearances, recording where a colour that is
    not CMYK or grey is painted with, and an RGB space wherever it is declared.
    (A Lab space declared but never selected is not use: WeasyPrint declares
    two on every page.)"""

    def __init__(self, reader):
        self.reader = reader
        self.problems: list[str] = []
        self.cmyk_uses = 0
        self.seen: set = set()

    def declared(self, space, where: str) -> str:
        family = colour_space_family(space)
        if family in RGB_FAMILIES:
            self.problems.append(f"{where}: {family} colour space")
        return family

    def used(self, space, where: str) -> str:
        family = colour_space_family(space)
        if family not in INK_FAMILIES:
            self.problems.append(f"{where}: painted in {family}, not CMYK or grey")
        elif is_cmyk(family):
            self.cmyk_uses += 1
        return family

    def resources(self, resources, where: str) -> None:
        resources = resources.get_object() if resources is not None else {}
        for name, space in (resources.get("/ColorSpace") or {}).items():
            self.declared(space, f"{where} /ColorSpace {name}")
        for name, shading in (resources.get("/Shading") or {}).items():
            self.used(shading.get_object()["/ColorSpace"], f"{where} /Shading {name}")
        for name, pattern in (resources.get("/Pattern") or {}).items():
            pattern = pattern.get_object()
            if "/Shading" in pattern:
                self.used(pattern["/Shading"].get_object()["/ColorSpace"], f"{where} /Pattern {name}")
            else:
                self.content(pattern, pattern.get("/Resources") or resources, f"{where} /Pattern {name}")
        for name, state in (resources.get("/ExtGState") or {}).items():
            mask = state.get_object().get("/SMask")
            if mask is not None and mask != "/None":
                group = mask.get_object()["/G"]
                self.content(group, group.get_object().get("/Resources") or resources, f"{where} /SMask {name}")
        for name, xobject in (resources.get("/XObject") or {}).items():
            stream = xobject.get_object()
            if stream.get("/Subtype") == "/Image":
                if "/ColorSpace" in stream:
                    self.used(stream["/ColorSpace"], f"{where} image {name}")
                elif "/JPXDecode" in str(stream.get("/Filter", "")):
                    self.problems.append(f"{where} image {name}: JPEG 2000, its colour space unknown")
            elif stream.get("/Subtype") == "/Form":
                self.content(xobject, stream.get("/Resources") or resources, f"{where} form {name}")
        for name, font in (resources.get("/Font") or {}).items():
            font = font.get_object()
            if font.get("/Subtype") == "/Type3":  # glyphs drawn by content streams of their own
                for glyph, procedure in font["/CharProcs"].items():
                    self.content(procedure, font.get("/Resources") or resources, f"{where} Type 3 font {name} {glyph}")

    def content(self, stream, resources, where: str) -> None:
        key = (stream.idnum, stream.generation) if isinstance(stream, IndirectObject) else id(stream)
        if key in self.seen:
            return
        self.seen.add(key)
        stream = stream.get_object()
        if isinstance(stream, StreamObject) and "/Group" in stream and "/CS" in stream["/Group"]:
            self.used(stream["/Group"]["/CS"], f"{where} transparency group")
        self.operators(ContentStream(stream, self.reader), resources, where)
        self.resources(resources, where)

    def operators(self, content: ContentStream, resources, where: str) -> None:
        if b"/DeviceRGB" in content.get_data():
            self.problems.append(f"{where}: /DeviceRGB in the content stream")
        spaces = (resources.get_object() if resources is not None else {}).get("/ColorSpace") or {}

        def space(name):
            return spaces[name] if name in spaces else name

        for operands, operator in content.operations:
            if operator in (b"rg", b"RG"):
                self.problems.append(f"{where}: RGB colour {operator.decode()} {[float(x) for x in operands]}")
            elif operator in (b"k", b"K"):
                self.cmyk_uses += 1
            elif operator in (b"cs", b"CS"):
                if colour_space_family(space(operands[0])) != "/Pattern":  # a pattern is walked as a resource
                    self.used(space(operands[0]), f"{where}: {operator.decode()} {operands[0]}")
            elif operator == b"INLINE IMAGE":
                settings = operands.get("settings", {})
                inline = settings.get("/CS", settings.get("/ColorSpace"))
                if inline is not None:
                    self.used(space(inline), f"{where}: an inline image")

    def page(self, page, number: int) -> None:
        contents = page.raw_get("/Contents")
        streams = contents.get_object() if isinstance(contents.get_object(), ArrayObject) else [contents]
        for index, stream in enumerate(streams):
            self.content(stream, page.get("/Resources"), f"page {number} contents[{index}]")
        if "/Group" in page and "/CS" in page["/Group"]:
            self.used(page["/Group"]["/CS"], f"page {number} transparency group")
        for index, annotation in enumerate(page.get("/Annots") or []):
            for state, appearance in (annotation.get_object().get("/AP") or {}).items():
                # an appearance is a form XObject, or a dictionary of them (one per state)
                forms = [appearance] if isinstance(appearance.get_object(), StreamObject) else \
                    list(appearance.get_object().values())
                for form in forms:
                    self.content(form, form.get_object().get("/Resources"),
                                 f"page {number} annotation {index} appearance {state}")


def colour_scan(reader) -> ColourScan:
    scan = ColourScan(reader)
    for number, page in enumerate(reader.pages, 1):
        scan.page(page, number)
    return scan


@pytest.mark.parametrize("pdfx_file", PDFX_FILES, indirect=True)
def test_colour_is_cmyk_only(pdfx_file):
    scan = colour_scan(pdf_reader(pdfx_file.path))
    assert scan.problems == []
    assert scan.cmyk_uses > 0, "no CMYK colour found: the scan missed the page's colour"


def test_the_colour_scan_itself_flags_an_office_poster(full_build):
    """The office poster of the same design is RGB: the scan must say so."""
    office = next(fmt for fmt in OFFICE_FORMATS if fmt.kind == "poster")
    scan = colour_scan(pdf_reader(full_build.pdf(VENUE_IDS[0], office.key)))
    assert any("RGB colour rg" in problem for problem in scan.problems), scan.problems[:5]


# Small PDFs, written here byte by byte, to show each check failing on what it must find.

def pdf_stream(dictionary: str, data: bytes) -> bytes:
    return f"<< {dictionary} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def tiny_pdf(content: bytes, resources: str = "", page: str = "", catalog: str = "",
             objects: tuple[bytes | str, ...] = ()) -> bytes:
    """A one-page PDF: 200 x 200 pt, the bleed 20 pt in from each edge (the
    rest is slug) and the trim 8.5 pt (3 mm) inside that. Objects 1-4 are the
    catalog, the page tree, the page and its content; `objects` are 5, 6, ..."""
    body = [f"<< /Type /Catalog /Pages 2 0 R {catalog} >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /BleedBox [20 20 180 180] "
            f"/TrimBox [28.5 28.5 171.5 171.5] /Resources << {resources} >> /Contents 4 0 R {page} >>",
            pdf_stream("", content), *objects]
    out = bytearray(b"%PDF-1.6\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, item in enumerate(body, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + (item.encode() if isinstance(item, str) else item) + b"\nendobj\n"
    start = len(out)
    out += f"xref\n0 {len(body) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(body) + 1} /Root 1 0 R >>\nstartxref\n{start}\n%%EOF\n".encode()
    return bytes(out)


LAB = "[/Lab << /WhitePoint [0.9642 1 0.8249] /Range [-128 127 -128 127] >>]"
RGB_PROFILE = pdf_stream("/N 3", b"not read: the scan goes by /N")  # an ICC RGB space, no /Alternate
FORM = "/Type /XObject /Subtype /Form /BBox [0 0 200 200]"
FILL = b"20 20 160 160 re f"

# (what is in the file, content, page resources, page entries, objects 5..., what the scan must say)
COLOUR_CASES = [
    ("RGB fill", b"1 0 0 rg " + FILL, "", "", (), "RGB colour rg"),
    ("Lab selected by cs", b"/L cs 50 20 20 sc " + FILL, f"/ColorSpace << /L {LAB} >>", "", (), "painted in /Lab"),
    ("grey selected by cs, then Lab", b"/DeviceGray cs 0.5 sc /L CS 50 0 0 SC " + FILL,
     f"/ColorSpace << /L {LAB} >>", "", (), "CS /L: painted in /Lab"),
    ("ICC RGB image inside a form", b"/F Do", "/XObject << /F 5 0 R >>", "",
     (pdf_stream(f"{FORM} /Resources << /XObject << /Im 6 0 R >> >>", b"/Im Do"),
      pdf_stream("/Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 "
                 "/ColorSpace [/ICCBased 7 0 R]", b"\x80\x80\x80"),
      RGB_PROFILE), "form /F image /Im: painted in /ICCBased-3"),
    ("Lab inline image", b"q 160 0 0 160 20 20 cm BI /W 1 /H 1 /BPC 8 /CS /L ID \x80\x80\x80 EI Q",
     f"/ColorSpace << /L {LAB} >>", "", (), "an inline image: painted in /Lab"),
    ("Lab shading in a pattern", b"/Pattern cs /P scn " + FILL, "/Pattern << /P 5 0 R >>", "",
     (f"<< /PatternType 2 /Shading << /ShadingType 2 /ColorSpace {LAB} /Coords [20 0 180 0] "
      "/Function << /FunctionType 2 /Domain [0 1] /C0 [0 0 0] /C1 [100 0 0] /N 1 >> >> >>",),
     "/Pattern /P: painted in /Lab"),
    ("RGB shading drawn with sh", b"/Sh sh", "/Shading << /Sh 5 0 R >>", "",
     ("<< /ShadingType 2 /ColorSpace /DeviceRGB /Coords [20 0 180 0] "
      "/Function << /FunctionType 2 /Domain [0 1] /C0 [0 0 0] /C1 [1 0 0] /N 1 >> >>",),
     "/Shading /Sh: painted in /DeviceRGB"),
    ("RGB transparency group", b"0 0 0 1 k " + FILL, "", "/Group << /S /Transparency /CS /DeviceRGB >>", (),
     "page 1 transparency group: painted in /DeviceRGB"),
    ("RGB in an annotation's appearance", b"0 0 0 1 k " + FILL, "", "/Annots [5 0 R]",
     ("<< /Type /Annot /Subtype /Square /Rect [20 20 180 180] /F 4 /AP << /N 6 0 R >> >>",
      pdf_stream(FORM, b"0 0 1 rg " + FILL)), "annotation 0 appearance /N: RGB colour rg"),
    ("RGB in a Type 3 glyph", b"BT /T3 12 Tf 50 50 Td (a) Tj ET", "/Font << /T3 5 0 R >>", "",
     ("<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0] "
      "/CharProcs << /a 6 0 R >> /Encoding << /Differences [97 /a] >> /FirstChar 97 /LastChar 97 /Widths [1000] >>",
      pdf_stream("", b"1000 0 d0 0 1 0 rg 0 0 1000 1000 re f")), "Type 3 font /T3 /a: RGB colour rg"),
]


@pytest.mark.parametrize("content, resources, page, objects, expected",
                         [pytest.param(*case[1:], id=case[0]) for case in COLOUR_CASES])
def test_the_colour_scan_itself_finds_rgb_and_lab_wherever_they_are(tmp_path, content, resources, page, objects,
                                                                    expected):
    path = tmp_path / "colour.pdf"
    path.write_bytes(tiny_pdf(content, resources, page, objects=objects))
    scan = colour_scan(pdf_reader(path))
    assert any(expected in problem for problem in scan.problems), scan.problems


def test_the_colour_scan_itself_passes_cmyk_grey_and_an_unused_lab_space(tmp_path):
    path = tmp_path / "colour.pdf"
    path.write_bytes(tiny_pdf(b"0.1 0.2 0.3 0.4 k 0.5 g /C cs 0.1 0.2 0.3 0.4 sc /Im Do " + FILL,
                              f"/ColorSpace << /C [/ICCBased 5 0 R] /L {LAB} >> /XObject << /Im 6 0 R >>",
                              objects=(pdf_stream("/N 4", b"not read"),
                                       pdf_stream("/Type /XObject /Subtype /Image /Width 1 /Height 1 "
                                                  "/BitsPerComponent 8 /ColorSpace /DeviceGray", b"\x80"))))
    scan = colour_scan(pdf_reader(path))
    assert scan.problems == []
    assert scan.cmyk_uses == 2


# --- ink: the highest total coverage, on a CMYK rendering --------------------------------------

# The most ink (C + M + Y + K) a press file may put down anywhere: 300%, the
# usual limit for sheet-fed offset on coated paper (FOGRA39's own is 330%).
TAC_LIMIT_PERCENT = 300
# Ghostscript renders each page as 8-bit CMYK at this resolution, without
# anti-aliasing, so that every pixel holds a colour the file itself paints
# (or a blend of its colours); one pixel is 0.35 mm, finer than any area of
# colour on a poster or card.
INK_DPI = 72


@dataclass(frozen=True)
class Ink:
    """The highest total ink on one page of a press file, within its bleed box."""
    page: int
    total: int                         # C + M + Y + K, each 0-255
    cmyk: tuple[int, int, int, int]    # the pixel's own values
    at_mm: tuple[float, float]         # from the bleed box's top-left corner: right, down

    @property
    def percent(self) -> float:
        return self.total / 255 * 100

    def __str__(self) -> str:
        cmyk = " ".join(f"{value / 255 * 100:.0f}" for value in self.cmyk)
        return (f"page {self.page}: {self.percent:.1f}% (C M Y K {cmyk}) at {self.at_mm[0]:.0f} mm right, "
                f"{self.at_mm[1]:.0f} mm down from the bleed's top-left corner")


def cmyk_rendering(path: Path, workdir: Path, dpi: float = INK_DPI) -> list[np.ndarray]:
    """Every page of a PDF rendered by Ghostscript, in full (the MediaBox), as
    8-bit CMYK: one (height, width, 4) array per page. The output intent's
    profile is the output profile (-dUsePDFX3Profile) and colour management is
    on (-dUseFastColor=false), so CMYK in the file, device or ICC-based, comes
    out as the file's own values: test_the_cmyk_rendering_keeps_the_files_own_values."""
    gs = shutil.which("gs")
    assert gs, ("Ghostscript (gs) is not installed: the press files' ink coverage cannot be measured. "
                "`bash .ci/setup` installs it (apt-get install ghostscript)")
    pattern = workdir / f"{path.stem}-%d.tif"
    done = subprocess.run([gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=tiff32nc", f"-r{dpi}",
                           "-dTextAlphaBits=1", "-dGraphicsAlphaBits=1", "-dUsePDFX3Profile", "-dUseFastColor=false",
                           "-o", str(pattern), str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), (
        f"Ghostscript could not render {path.name} (exit status {done.returncode}): {done.stdout}{done.stderr}")
    pages = []
    for number, page in enumerate(pdf_reader(path).pages, 1):
        with Image.open(str(pattern).replace("%d", str(number))) as image:
            assert image.mode == "CMYK", f"page {number}: Ghostscript rendered {image.mode}, not CMYK"
            pixels = np.asarray(image)
        left, bottom, right, top = (float(value) for value in page.mediabox)
        assert (abs(pixels.shape[1] - (right - left) * dpi / 72) <= 1
                and abs(pixels.shape[0] - (top - bottom) * dpi / 72) <= 1), (
            f"page {number}: the rendering ({pixels.shape[1]} x {pixels.shape[0]} px) is not the MediaBox")
        pages.append(pixels)
    assert not os.path.exists(str(pattern).replace("%d", str(len(pages) + 1))), "more pages rendered than the file has"
    return pages


def highest_ink(path: Path, workdir: Path, dpi: float = INK_DPI) -> list[Ink]:
    """Each page's highest total ink within its bleed box: what is printed and
    trimmed. The slug outside it holds the crop marks, in registration colour
    (400%: the marks print on every plate), and is cut off."""
    found = []
    scale = dpi / 72
    for number, (pixels, page) in enumerate(zip(cmyk_rendering(path, workdir, dpi), pdf_reader(path).pages), 1):
        media_left, _, _, media_top = (value * MM_TO_PT for value in box_mm(page, "/MediaBox"))
        left, bottom, right, top = (value * MM_TO_PT for value in box_mm(page, "/BleedBox"))
        # the pixels whose centres lie inside the bleed box
        rows = slice(int(np.ceil((media_top - top) * scale - 0.5)),
                     int(np.floor((media_top - bottom) * scale - 0.5)) + 1)
        columns = slice(int(np.ceil((left - media_left) * scale - 0.5)),
                        int(np.floor((right - media_left) * scale - 0.5)) + 1)
        printed = pixels[rows, columns]
        assert printed.size, f"page {number}: no pixels inside the bleed box"
        total = printed.astype(np.uint16).sum(axis=2)
        row, column = np.unravel_index(int(total.argmax()), total.shape)
        found.append(Ink(number, int(total[row, column]), tuple(int(value) for value in printed[row, column]),
                         ((column + 0.5) / scale * PT_TO_MM, (row + 0.5) / scale * PT_TO_MM)))
    return found


def assert_ink_within_limit(inks: list[Ink]) -> None:
    over = [str(ink) for ink in inks if ink.total > TAC_LIMIT_PERCENT * 255 // 100]
    assert not over, f"more than {TAC_LIMIT_PERCENT}% ink: {'; '.join(over)}"


@pytest.mark.parametrize("pdfx_file", PDFX_FILES, indirect=True)
def test_highest_ink_coverage_is_at_most_300_percent(pdfx_file, tmp_path):
    inks = highest_ink(pdfx_file.path, tmp_path)
    assert len(inks) == pdfx_file.fmt.max_pages
    assert all(ink.total > 0 for ink in inks), f"a page prints no ink at all: {[str(ink) for ink in inks]}"
    assert_ink_within_limit(inks)


# A small PDF/X-like file: the shipped profile as the output intent and as an
# ICC-based CMYK space, and fills of known values.
INTENT = "/OutputIntents [<< /Type /OutputIntent /S /GTS_PDFX /OutputConditionIdentifier (FOGRA39) " \
         "/DestOutputProfile 5 0 R >>]"
CMYK_SPACE = "/ColorSpace << /C [/ICCBased 5 0 R] >>"


def ink_test_pdf(content: bytes) -> bytes:
    return tiny_pdf(content, CMYK_SPACE, catalog=INTENT,
                    objects=(pdf_stream("/N 4", PRESS_PROFILE.read_bytes()),))


def test_the_cmyk_rendering_keeps_the_files_own_values(tmp_path):
    """What the file says is what is measured: DeviceCMYK and ICC-based CMYK
    (the output intent's profile) pass through the rendering unconverted."""
    path = tmp_path / "known.pdf"
    path.write_bytes(ink_test_pdf(b"0.2 0.4 0.6 0.8 k 40 40 50 50 re f "
                                  b"/C cs 0.8 0.6 0.4 0.2 sc 110 110 50 50 re f"))
    page, = cmyk_rendering(path, tmp_path)
    # PDF y up, pixel rows down: at 72 dpi one point is one pixel, the page 200 pt high
    assert page[200 - 65, 65].tolist() == [51, 102, 153, 204]   # 0.2 0.4 0.6 0.8 x 255
    assert page[200 - 135, 135].tolist() == [204, 153, 102, 51]  # 0.8 0.6 0.4 0.2 x 255
    assert page[10, 10].tolist() == [0, 0, 0, 0]                # unpainted paper: no ink


def test_the_ink_measurement_itself_fails_a_400_percent_black_and_ignores_the_slug(tmp_path):
    """A rich black of 100% each inside the bleed is measured at 400% and
    fails; the same black in the slug (a crop mark) is not measured."""
    marks = b"1 1 1 1 k 2 2 10 10 re f 188 188 10 10 re f "
    path = tmp_path / "marks-only.pdf"
    path.write_bytes(ink_test_pdf(marks + b"/C cs 0.2 0.4 0.6 0.8 sc 40 40 50 50 re f"))
    ink, = highest_ink(path, tmp_path)
    assert (ink.total, ink.cmyk) == (510, (51, 102, 153, 204))  # 200%, the fill inside the bleed
    assert ink.at_mm == pytest.approx((20 * PT_TO_MM, 90 * PT_TO_MM), abs=0.5)  # its top-left corner
    assert_ink_within_limit([ink])

    path = tmp_path / "rich-black.pdf"
    path.write_bytes(ink_test_pdf(marks + b"1 1 1 1 k 100 100 3 3 re f"))
    ink, = highest_ink(path, tmp_path)
    assert ink.percent == 400
    with pytest.raises(AssertionError, match=r"more than 300% ink: page 1: 400\.0% \(C M Y K 100 100 100 100\)"):
        assert_ink_within_limit([ink])


@pytest.mark.parametrize("venue_id, format_key", PRESS_FILES)
def test_every_font_is_embedded(full_build, venue_id, format_key):
    names, problems = font_problems(pdf_reader(press_pdf(full_build, venue_id, format_key)))
    assert names, "no fonts found: the PDF prints no text?"
    assert problems == []


# --- safe zone ------------------------------------------------------------------------------

@pytest.mark.parametrize("venue_id, format_key", PRESS_FILES)
def test_text_is_inside_the_safe_zone(full_build, venue_id, format_key):
    path = press_pdf(full_build, venue_id, format_key)
    left, bottom, right, top = (value * MM_TO_PT for value in box_mm(pdf_reader(path).pages[0], "/TrimBox"))
    safe_mm = SAFE_ZONE_MM[press_format(format_key).kind]
    safe = safe_mm * MM_TO_PT
    document = pdfium.PdfDocument(str(path))
    try:
        text = document[0].get_textpage()
        outside, printed = [], 0
        for index in range(text.count_chars()):
            char = text.get_text_range(index, 1)
            if not char.strip():
                continue
            printed += 1
            box_left, box_bottom, box_right, box_top = text.get_charbox(index)
            if (box_left < left + safe or box_right > right - safe
                    or box_bottom < bottom + safe or box_top > top - safe):
                outside.append(f"{char!r} at x {box_left * PT_TO_MM:.1f}-{box_right * PT_TO_MM:.1f} mm, "
                               f"y {box_bottom * PT_TO_MM:.1f}-{box_top * PT_TO_MM:.1f} mm")
    finally:
        document.close()
    assert printed > 100, "hardly any text found on the first page"
    assert outside == [], f"{len(outside)} characters outside the {safe_mm} mm safe zone: {outside[:10]}"


# --- what the page prints: crop marks and bleed ----------------------------------------------

class Rendered:
    """A press page rendered in full (the MediaBox), with PDF -> pixel conversion."""

    def __init__(self, path):
        self.pixels, (self.left, _, _, self.top) = render_page(path, 0, RENDER_DPI)
        self.darkest = darkest(self.pixels)
        self.brightest = np.maximum(np.maximum(self.pixels[0], self.pixels[1]), self.pixels[2])
        self.scale = RENDER_DPI / 72
        page = pdf_reader(path).pages[0]
        self.trim = tuple(value * MM_TO_PT for value in box_mm(page, "/TrimBox"))
        self.bleed = tuple(value * MM_TO_PT for value in box_mm(page, "/BleedBox"))

    def column(self, x_pt: float) -> float:
        return (x_pt - self.left) * self.scale

    def row(self, y_pt: float) -> float:
        return (self.top - y_pt) * self.scale

    def region(self, x0: float, y0: float, x1: float, y1: float, touching: bool = False) -> tuple[slice, slice]:
        """Rows and columns of the pixels lying wholly inside a PDF rectangle
        (points), or with `touching`, of every pixel that overlaps it."""
        start, stop = (np.floor, np.ceil) if touching else (np.ceil, np.floor)
        rows = slice(max(0, int(start(self.row(max(y0, y1))))), int(stop(self.row(min(y0, y1)))))
        columns = slice(max(0, int(start(self.column(min(x0, x1))))), int(stop(self.column(max(x0, x1)))))
        return rows, columns


@pytest.mark.parametrize("venue_id, format_key", PRESS_FILES)
def test_crop_marks_in_the_slug(full_build, venue_id, format_key):
    """At each trim corner, a mark on each trim line in the slug (outside the
    bleed); nothing else in the slug."""
    page = Rendered(press_pdf(full_build, venue_id, format_key))
    t_left, t_bottom, t_right, t_top = page.trim
    b_left, b_bottom, b_right, b_top = page.bleed
    near = 1 * MM_TO_PT  # a mark is centred on the trim line: look this close to it
    pixel = 1 / page.scale
    # the slug: every pixel outside the bleed box (one pixel clear of its edge,
    # which antialiasing may tint)
    slug = np.ones(page.darkest.shape, dtype=bool)
    rows, columns = page.region(b_left - pixel, b_bottom - pixel, b_right + pixel, b_top + pixel, touching=True)
    slug[rows, columns] = False
    corners = np.zeros_like(slug)
    far_x = {t_left: page.left, t_right: page.left + page.darkest.shape[1] / page.scale}
    far_y = {t_bottom: page.top - page.darkest.shape[0] / page.scale, t_top: page.top}
    for corner_x in (t_left, t_right):
        for corner_y in (t_bottom, t_top):
            side_x = -1 if corner_x == t_left else 1
            side_y = -1 if corner_y == t_bottom else 1
            bleed_x = b_left if side_x < 0 else b_right
            bleed_y = b_bottom if side_y < 0 else b_top
            where = f"{'top' if side_y > 0 else 'bottom'}-{'right' if side_x > 0 else 'left'} corner"
            # the mark on the horizontal trim line, out past the side bleed ...
            rows, columns = page.region(bleed_x + side_x * pixel, corner_y - near, far_x[corner_x], corner_y + near)
            assert (page.brightest[rows, columns] < DARK).any(), f"{where}: no mark on the horizontal trim line"
            # ... and the one on the vertical trim line, out past the top or bottom bleed
            rows, columns = page.region(corner_x - near, bleed_y + side_y * pixel, corner_x + near, far_y[corner_y])
            assert (page.brightest[rows, columns] < DARK).any(), f"{where}: no mark on the vertical trim line"
            # the corner region: from the paper's corner to just past the trim corner
            rows, columns = page.region(far_x[corner_x], far_y[corner_y],
                                        corner_x - side_x * near, corner_y - side_y * near)
            corners[rows, columns] = True
    stray = slug & ~corners & (page.darkest < INK)
    assert not stray.any(), (f"{int(stray.sum())} printed pixels in the slug away from the corners, e.g. at "
                             f"(row, column) {np.argwhere(stray)[:3].tolist()}")


@pytest.mark.parametrize("venue_id, format_key",
                         [param for param in PRESS_FILES if press_format(param.values[1]).kind == "poster"])
def test_the_masthead_runs_into_the_bleed(full_build, venue_id, format_key):
    page = Rendered(press_pdf(full_build, venue_id, format_key))
    t_left, _, t_right, t_top = page.trim
    b_left, _, b_right, b_top = page.bleed
    centre = (t_left + t_right) / 2
    row_in_bleed = int(page.row(b_top - 0.5 * MM_TO_PT))  # just inside the bleed's top edge
    row_in_trim = int(page.row(t_top - 3 * MM_TO_PT))     # a few mm inside the trim
    inside = page.pixels[:, row_in_trim, int(page.column(centre))].astype(int)
    assert (inside < INK).any(), "the top of the poster is white: no masthead?"
    bleed_row = page.pixels[:, row_in_bleed, int(np.ceil(page.column(b_left))):int(page.column(b_right))]
    differs = np.abs(bleed_row.astype(int) - inside[:, None]).max(axis=0) > 3
    assert not differs.any(), (
        f"the top bleed is not the masthead colour {inside.tolist()} across the page: "
        f"{int(differs.sum())} of {differs.size} pixels differ, e.g. {bleed_row[:, differs.argmax()].tolist()} "
        f"at {(differs.argmax() / page.scale - (t_left - b_left)) * PT_TO_MM:.1f} mm from the trim's left")
    # and at the sides: the masthead also runs into the left and right bleed
    for x in (b_left + 0.5 * MM_TO_PT, b_right - 0.5 * MM_TO_PT):
        side = page.pixels[:, row_in_trim, int(page.column(x))].astype(int)
        assert np.abs(side - inside).max() <= 3, f"the side bleed at the masthead is {side.tolist()}"


# --- the manifest -----------------------------------------------------------------------------

def test_manifest_variant_trim_bleed_and_standard(full_build):
    formats = {fmt.filename: fmt for fmt in PRODUCT_FORMATS}
    entries = read_manifest(full_build.out)
    assert {entry["variant"] for entry in entries} == {"office", "press"}
    for entry in entries:
        fmt = formats[entry["file"].split("/")[1]]
        header = (full_build.out / entry["file"]).read_bytes()[:8]
        if fmt.variant == "press":
            expected = {"variant": "press", "trim_mm": list(TRIM_MM[fmt.format]), "bleed_mm": BLEED_MM,
                        "pdf_standard": "PDF/X-4"}
        else:
            expected = {"variant": "office", "bleed_mm": 0, "pdf_standard": fmt.pdf_standard or "PDF 1.7"}
            assert header == b"%PDF-1.7", (entry["file"], header)
        assert {key: entry[key] for key in expected} == expected, entry["file"]
        assert [entry["width_mm"], entry["height_mm"]] == pytest.approx(entry["trim_mm"], abs=0.01), entry["file"]


# --- the --variant option ---------------------------------------------------------------------

def test_variant_press_builds_only_the_press_files(hotels_build):
    build = hotels_build("press")
    expected = {f"hotels/{fmt.filename}" for fmt in PRESS_FORMATS}
    assert files_under(build.out) == expected | {"manifest.json"}
    assert {entry["file"] for entry in read_manifest(build.out)} == expected
    assert f"Built {len(expected)} files" in build.result.stderr


def test_variant_office_builds_no_press_files(hotels_build):
    build = hotels_build("office")
    expected = {f"hotels/{fmt.filename}" for fmt in OFFICE_FORMATS}
    assert files_under(build.out) == expected | {"manifest.json"}
    assert {entry["variant"] for entry in read_manifest(build.out)} == {"office"}


def test_list_names_each_file_with_its_variant():
    result = run_cli("list", "--source", SOURCE_DIR)
    assert result.exit_code == 0, result.stderr
    listed = {line.split()[2]: line.split()[1] for line in result.stdout.splitlines()
              if line.startswith("  ") and line.split()[2:3] and line.split()[2].endswith(".pdf")}
    assert listed == {fmt.filename: fmt.variant for fmt in PRODUCT_FORMATS}


def test_accent_conversion_survives_forked_workers_converting_at_once():
    """Build workers are forked from one process and convert venue accents at
    the same time. The CMYK profile once shared a file offset between them,
    and about one conversion in a few hundred failed with "Could not determine
    profile size", failing a press file at random."""
    profile = (LAYOUTS_DIR / PRESS_PROFILE).resolve()
    expected = device_cmyk("#1B3A5C", profile)  # the parent converts first, as a build does
    children = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            try:
                for _ in range(50):
                    device_cmyk.cache_clear()
                    if device_cmyk("#1B3A5C", profile) != expected:
                        os._exit(1)
            except BaseException:
                os._exit(1)
            os._exit(0)
        children.append(pid)
    statuses = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    assert statuses == [0, 0, 0, 0]
