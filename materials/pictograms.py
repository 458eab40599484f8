"""Pictograms: the Material Design Icons set (Pictogrammers, Apache License
2.0), installed as a package the way the fonts are, drawn as inline vector SVG.

The source names a pictogram by its id in the set (`taxi`, `clock-outline`):
content chooses what it means, the layout how it looks. Each icon is one path
on a 24 x 24 grid; the layout gives its colour, because WeasyPrint does not
resolve currentColor inside SVG and a press file must draw it in CMYK.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

import material_design_icons_pack
from markupsafe import Markup, escape

_PATH = re.compile(r'<path d="([^"]+)"\s*/>')


@lru_cache(maxsize=None)
def pictogram_path(name: str) -> str | None:
    """The outline of the pictogram `name` (SVG path data), or None when the set has no such icon."""
    # By its constant, not get_icon(): that warns about each deprecated icon.
    icon = getattr(material_design_icons_pack, name.upper().replace("-", "_"), None)
    if not isinstance(icon, material_design_icons_pack.Icon) or icon.slug != name or icon.deprecated:
        return None
    paths = _PATH.findall(icon.svg)
    return paths[0] if len(paths) == 1 else None


@lru_cache(maxsize=1)
def _names() -> tuple[str, ...]:
    slugs = (name.lower().replace("_", "-") for name in dir(material_design_icons_pack) if name.isupper())
    return tuple(slug for slug in slugs if pictogram_path(slug))


def similar_pictograms(name: str) -> list[str]:
    """Names in the set close to a misspelt one, for an error message."""
    return difflib.get_close_matches(name, _names(), n=3, cutoff=0.6)


@lru_cache(maxsize=256)
def pictogram_svg(name: str, colour: str, label: str) -> Markup:
    """The pictogram `name` filled with `colour`, filling its box (the layout
    sizes it). It illustrates text printed beside it, so screen readers skip
    it in the HTML (aria-hidden); WeasyPrint tags it as a figure, whose alt
    text in the PDF is its <title>, `label`: what it stands for."""
    path = pictogram_path(name)
    if path is None:  # the source's check names the file and line first
        raise ValueError(f"no pictogram named {name!r}")
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="pictogram" viewBox="0 0 24 24" aria-hidden="true" '
        f'data-pictogram="{escape(name)}"><title>{escape(label)}</title>'
        f'<path fill="{escape(colour)}" d="{path}"/></svg>')
