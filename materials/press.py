"""What a print shop needs beyond the office files: CMYK colour and crop marks.

WeasyPrint does not convert RGB to CMYK, and draws its own crop marks in RGB
inside the bleed. Press layouts therefore use `device-cmyk()` colours only; the
venue accent (written in the source as #RRGGBB) is converted here through the
same ICC profile the PDF/X output intent names, and crop marks are drawn here,
in CMYK registration colour, in a slug outside the bleed.
"""

from __future__ import annotations

import io
import re
import uuid
import zlib
from functools import lru_cache
from pathlib import Path

import pydyf
from PIL import Image, ImageCms

MM_TO_PT = 72 / 25.4

# Relative to layouts/: the CMYK profile of the press output intent
# (see layouts/common/press.css, which declares it for WeasyPrint).
PRESS_PROFILE = "common/FOGRA39-make-materials.icc"

# Crop marks: a gap after the bleed edge, then the mark; the slug holds both.
MARK_GAP_MM = 2.0
MARK_LENGTH_MM = 5.0
MARK_WIDTH_PT = 0.25
SLUG_MM = MARK_GAP_MM + MARK_LENGTH_MM + 1.0


@lru_cache(maxsize=4)
def _transform(profile: Path) -> ImageCms.ImageCmsTransform:
    # Opened from memory: LittleCMS reads a profile opened from a file lazily,
    # and forked workers share that file's offset, so their reads interleave
    # ("Could not determine profile size" in one job in a few hundred).
    cmyk = ImageCms.ImageCmsProfile(io.BytesIO(profile.read_bytes()))
    return ImageCms.buildTransform(ImageCms.createProfile("sRGB"), cmyk,
                                   "RGB", "CMYK", renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)


@lru_cache(maxsize=64)
def device_cmyk(colour: str, profile: Path) -> str:
    """`#1B3A5C` -> `device-cmyk(0.93 0.6 0.13 0.45)`, through the press profile."""
    rgb = tuple(int(colour[index:index + 2], 16) for index in (1, 3, 5))
    pixel, converted = Image.new("RGB", (1, 1), rgb), Image.new("CMYK", (1, 1))
    # The core transform, not ImageCms.applyTransform: that also serialises the
    # whole profile into the result's metadata, for one pixel.
    _transform(profile).transform.apply(pixel.getim(), converted.getim())
    cyan, magenta, yellow, black = converted.getpixel((0, 0))
    return "device-cmyk({})".format(" ".join(f"{value / 255:.3f}".rstrip("0").rstrip(".") or "0"
                                             for value in (cyan, magenta, yellow, black)))


@lru_cache(maxsize=4)
def _compressed(profile: Path) -> bytes:
    return zlib.compress(profile.read_bytes())


def forget_profiles() -> None:
    """Read the press profile afresh: these caches know it by its path, and a
    renderer kept between builds (`watch`) may see the file change."""
    for cached in (_transform, device_cmyk, _compressed):
        cached.cache_clear()


def embed_profile_as_shipped(document, pdf: pydyf.PDF, profile: Path) -> None:
    """Embed the output-intent ICC profile as the file we ship, compressed once
    per process. WeasyPrint re-serialises it through LittleCMS (2.4 times
    larger) and compresses it at level 9 for every file: 0.4 s a poster."""
    for color_profile in document.color_profiles.values():
        if color_profile.pdf_reference is None:
            continue
        number = int(color_profile.pdf_reference.split()[0])
        stream = pdf.objects[number]
        stream.stream = [_compressed(profile)]
        stream.compress = False
        stream.extra["Filter"] = "/FlateDecode"


def stable_document_id(document, pdf: pydyf.PDF) -> None:
    """WeasyPrint gives a PDF/X file a random XMP DocumentID (and so a random
    /ID, a hash of the file): the same inputs would never give the same bytes.
    Derive it from what the document is instead."""
    reference = pdf.catalog.get("Metadata")
    if not reference:
        return
    stream = pdf.objects[int(reference.split()[0])]
    xmp = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in stream.stream)
    name = f"make-materials:{document.metadata.title}:{document.metadata.modified}"
    stable = f"xmp.did:{uuid.uuid5(uuid.NAMESPACE_URL, name)}".encode()
    stream.stream = [re.sub(rb"xmp\.did:[0-9a-f-]{36}", stable, xmp)]


def press_finisher(bleed_mm: float, profile: Path):
    """A WeasyPrint finisher for press files: the profile as shipped, a stable
    document id, and a slug with crop marks round every page."""
    def finish(document, pdf: pydyf.PDF) -> None:
        embed_profile_as_shipped(document, pdf, profile)
        stable_document_id(document, pdf)
        crop_marks(pdf, bleed_mm)
    return finish


def crop_to_bleed(pdf: pydyf.PDF, bleed_mm: float) -> None:
    """Cut every page's MediaBox and BleedBox down to the trim plus `bleed_mm`.
    A layout may draw more bleed than a product's file keeps: the wallet card
    is laid out with 3 mm, for the print shop's card and the sheet of ten, and
    the office card is cropped at the trim."""
    bleed = bleed_mm * MM_TO_PT
    for page in [obj for obj in pdf.objects if isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/Page"]:
        left, bottom, right, top = (float(value) for value in page["TrimBox"])
        box = pydyf.Array([left - bleed, bottom - bleed, right + bleed, top + bleed])
        media = [float(value) for value in page["MediaBox"]]
        if media[2] - media[0] > box[2] - box[0] + 0.01:
            page["MediaBox"] = page["BleedBox"] = box


def crop_marks(pdf: pydyf.PDF, bleed_mm: float) -> None:
    """Widen every page's MediaBox by a slug and draw crop marks at the trim
    corners, outside the bleed, in CMYK registration colour. TrimBox and
    BleedBox (trim + bleed) stay as WeasyPrint wrote them."""
    bleed, gap, length = bleed_mm * MM_TO_PT, MARK_GAP_MM * MM_TO_PT, MARK_LENGTH_MM * MM_TO_PT
    slug = (bleed_mm + SLUG_MM) * MM_TO_PT
    for page in [obj for obj in pdf.objects if isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/Page"]:
        left, bottom, right, top = (float(value) for value in page["TrimBox"])
        page["MediaBox"] = pydyf.Array([left - slug, bottom - slug, right + slug, top + slug])
        marks = pydyf.Stream()
        # Marks are not content: tagged PDF readers must skip them.
        marks.stream.append(b"/Artifact BMC")
        marks.push_state()
        marks.set_line_width(MARK_WIDTH_PT)
        marks.stream.append(b"1 1 1 1 K")  # registration: on every separation
        start = bleed + gap
        for x, y, out_x, out_y in ((left, bottom, -1, -1), (right, bottom, 1, -1),
                                   (left, top, -1, 1), (right, top, 1, 1)):
            marks.move_to(x + out_x * start, y)          # horizontal mark, level with the trim
            marks.line_to(x + out_x * (start + length), y)
            marks.move_to(x, y + out_y * start)          # vertical mark
            marks.line_to(x, y + out_y * (start + length))
        marks.stroke()
        marks.pop_state()
        marks.stream.append(b"EMC")
        pdf.add_object(marks)
        # First, so WeasyPrint's content (which leaves its page transform
        # in place) cannot move the marks.
        page["Contents"] = pydyf.Array([marks.reference, page["Contents"]])
