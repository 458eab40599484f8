"""QR codes for an area's reporting web address, as inline vector SVG.

segno encodes the address (it is the well-kept QR encoder); we draw its modules
as one SVG path so that the layout sets the colour: WeasyPrint does not resolve
currentColor inside SVG, and a press file must print the code in CMYK black.
"""

from __future__ import annotations

from functools import lru_cache

import segno
from markupsafe import Markup, escape

# ISO/IEC 18004 asks for a quiet zone of four modules round the symbol.
QUIET_ZONE_MODULES = 4


@lru_cache(maxsize=64)
def qr_svg(address: str, dark: str, label: str) -> Markup:
    """The QR code of `address`, quiet zone included, filling its box (the layout
    sizes it). `label` is its alt text: in the HTML its aria-label, in the
    tagged PDF its <title>, which WeasyPrint makes the Figure's /Alt."""
    # Level M survives a scuffed or creased print (15% damage) at small versions.
    code = segno.make(address, error="m", micro=False, boost_error=False)
    size = code.symbol_size(border=QUIET_ZONE_MODULES)[0]
    runs = []
    for y, row in enumerate(code.matrix_iter(border=QUIET_ZONE_MODULES)):
        row = list(row)
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h{start - x}z")
            else:
                x += 1
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="qr-code" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{escape(label)}" data-modules="{size - 2 * QUIET_ZONE_MODULES}">'
        f'<title>{escape(label)}</title><path fill="{escape(dark)}" d="{"".join(runs)}"/></svg>')


def printed_address(address: str) -> str:
    """The address as people type it: without https://, which every browser adds."""
    return address.removeprefix("https://")


# A part of an address longer than this (a county's page name, 40 characters)
# is wider than the poster's address panel and breaks after its hyphens too.
LONGEST_PART = 24


def address_parts(address: str) -> list[str]:
    """The address cut after each slash, where a printed address breaks best;
    a part too long for a line is cut after its hyphens as well (the line then
    ends with the address's own hyphen, none is added)."""
    parts = address.split("/")
    cut = [part + "/" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    return [piece for part in cut for piece in (_after_hyphens(part) if len(part) > LONGEST_PART else [part])]


def _after_hyphens(part: str) -> list[str]:
    words = part.split("-")
    return [word + "-" for word in words[:-1]] + [words[-1]]
