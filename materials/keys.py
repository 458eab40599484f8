"""Job keys: a hash of exactly what one output file depends on.

A file is rebuilt only when its key changes: the shared source files, its
venue's (and area's, and translation's) file, the layout files its product reads
(the common folder, the base layout and its product's folder), the font
packages and the pipeline's own code. Editing one venue re-renders that venue's files;
editing the poster stylesheet re-renders the posters.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .jobs import Job

SHARED_SOURCE = ("content.yaml", "organisation.yaml", "workshop.yaml")
# Engine modules whose changes cannot change a PDF's bytes.
NOT_IN_THE_PDF = {"catalogue.py"}
PACKAGES = ("weasyprint", "fontpkg-atkinson-hyperlegible", "fontpkg-noto-sans", "fontpkg-noto-sans-arabic")


def _digest(paths) -> str:
    hasher = hashlib.sha256()
    for path in sorted(paths):
        hasher.update(str(path).encode() + b"\0")
        hasher.update(path.read_bytes() if path.is_file() else b"(missing)")
    return hasher.hexdigest()


@lru_cache(maxsize=1)
def _pipeline_code() -> str:
    """The engine's own code: a fix in a stage (or a pseudo-locale) re-renders what it made."""
    hasher = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name in NOT_IN_THE_PDF:
            continue
        hasher.update(path.name.encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()


@lru_cache(maxsize=1)
def _packages() -> str:
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} missing")
    return ";".join(versions)


class JobKeys:
    """The keys of one build's jobs; each file is read once per build."""

    def __init__(self, source_dir: Path, layouts_dir: Path, generator: str):
        self.source_dir, self.layouts_dir, self.generator = source_dir, layouts_dir, generator
        self._digests: dict[tuple, str] = {}

    def _cached(self, *paths: Path) -> str:
        if paths not in self._digests:
            self._digests[paths] = _digest(paths)
        return self._digests[paths]

    def _folder(self, folder: Path) -> str:
        if (folder,) not in self._digests:
            self._digests[(folder,)] = _digest(path for path in folder.rglob("*") if path.is_file())
        return self._digests[(folder,)]

    def key(self, job: Job) -> str:
        source, layouts = self.source_dir, self.layouts_dir
        parts = [
            self.generator, _pipeline_code(), _packages(), job.format_key, job.venue_id, job.area_id or "",
            job.lang or "",
            self._cached(source / "translations" / f"{job.lang}.yaml") if job.lang else "",
            self._cached(*(source / name for name in SHARED_SOURCE)),
            self._cached(source / "venues" / f"{job.venue_id}.yaml"),
            self._cached(source / "areas" / f"{job.area_id}.yaml") if job.area_id else "",
            self._folder(layouts / "common"), self._cached(layouts / "base.html"),
            self._folder(layouts / Path(job.product.template).parent),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()
