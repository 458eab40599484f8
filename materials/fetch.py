"""The only door through which WeasyPrint may read a file.

WeasyPrint's own `allowed_protocols=['file']` still lets `../../etc/passwd` and
absolute paths through, and any http URL would reach the network. This fetcher
serves two things and refuses everything else:
- `file:` URLs whose real path (after `..` and symlinks are resolved) is inside
  the layouts folder;
- `fontpkg:<family>/<file>` URLs naming a font file inside an installed
  `fontpkg-<family>` pip package, or inside one of the few other font
  packages named below (for the scripts no fontpkg- package covers).
"""

from __future__ import annotations

import importlib
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

FONT_SCHEME = "fontpkg"


class RefusedURL(PermissionError):
    pass


# Font packages of other publishers, by the name a `fontpkg:` URL gives them:
# their module and the folder of font files inside it. Roster names in the
# scripts no fontpkg- package covers (Hebrew, Indic, Thai, CJK) print in them.
OTHER_FONT_PACKAGES = {
    "manimgx-fonts": ("manimgx_fonts", "."),
    "justmytype-intl-cjk": ("justmytype_intl_cjk", "fonts/ofl"),
}


def font_package_folder(family: str) -> Path:
    """The folder of font files in the pip package `fontpkg-<family>` (or one
    of OTHER_FONT_PACKAGES)."""
    if family in OTHER_FONT_PACKAGES:
        name, folder = OTHER_FONT_PACKAGES[family]
        return Path(importlib.import_module(name).__file__).parent / folder
    module = importlib.import_module("fontpkg_" + family.replace("-", "_"))
    return Path(module.ROOT) / "files"


# `logo:<name>`: a logo file the source names, read (and checked) with the source.
LOGO_SCHEME = "logo"


class ProjectFetcher(URLFetcher):
    def __init__(self, layouts_dir: Path, logos: dict[str, bytes] | None = None):
        super().__init__(allowed_protocols=["file", FONT_SCHEME, LOGO_SCHEME])
        self.layouts_dir = layouts_dir.resolve()
        self.logos = logos or {}
        self.refused: list[str] = []   # what a layout tried to load and was refused
        self.loaded: set[Path] = set()  # every file served: preflight reads the fonts among them

    def resolve(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise RefusedURL(f"{url}: not a local file")
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if not path.is_relative_to(self.layouts_dir):
                raise RefusedURL(f"{url}: outside the layouts folder")
            return path
        if parts.scheme == FONT_SCHEME:
            family, _, name = unquote(parts.path).partition("/")
            try:
                folder = font_package_folder(family).resolve()
            except ImportError:
                raise RefusedURL(f"{url}: the font package fontpkg-{family} is not installed") from None
            path = (folder / name).resolve()
            if not name or not path.is_relative_to(folder):
                raise RefusedURL(f"{url}: outside the font package")
            return path
        raise RefusedURL(f"{url}: only layout files and font packages may be loaded")

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == LOGO_SCHEME:
            name = unquote(parts.path)
            if name not in self.logos:
                self.refused.append(f"{url}: not a logo the source names")
                raise RefusedURL(url)
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, self.logos[name], {"Content-Type": content_type})
        try:
            path = self.resolve(url)
            body = path.read_bytes()
        except (RefusedURL, OSError) as error:
            self.refused.append(str(error))
            raise
        self.loaded.add(path)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body, {"Content-Type": content_type})
