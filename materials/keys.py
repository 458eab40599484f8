"""Job keys: a hash of exactly what one output file depends on.

A file is rebuilt only when its key changes: the shared source files, its
venue's (and area's, and translation's) file, the layout files its product reads
(the common folder, the base layout and its product's folder), the font
packages and the pipeline's own code. Editing one venue re-renders that venue's files;
editing the poster stylesheet re-renders the posters.

A build's inputs digest covers everything any of its jobs could depend on, so a
build whose digest matches an earlier complete one has nothing to do, and
knows it without loading the source.
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
    """The keys of one build's jobs, and its inputs digest.

    Every file in the source and layouts folders is read once, when the build
    starts: the source is loaded from the very bytes hashed here
    (`source_files`), and the build checks at its end that nothing has changed
    since (see pipeline.build)."""

    def __init__(self, source_dir: Path, layouts_dir: Path, generator: str):
        self.source_dir, self.layouts_dir, self.generator = source_dir, layouts_dir, generator
        self.source_files: dict[Path, bytes] = {}
        self._files: dict[Path, str] = {}
        for folder in (source_dir, layouts_dir):
            for path in sorted(folder.rglob("*")):
                try:
                    data = path.read_bytes() if path.is_file() else None
                except FileNotFoundError:  # an editor's temporary file, gone as it was listed
                    data = None
                if data is None:
                    continue
                self._files[path] = hashlib.sha256(data).hexdigest()
                if folder == source_dir:
                    self.source_files[path] = data
        self._digests: dict[tuple, str] = {}

    def _cached(self, *paths: Path) -> str:
        if paths not in self._digests:
            self._digests[paths] = self._digest(paths)
        return self._digests[paths]

    def _digest(self, paths) -> str:
        hasher = hashlib.sha256()
        for path in sorted(paths):
            hasher.update(f"{self._name(path)}\0{self._files.get(path, '(missing)')}\n".encode())
        return hasher.hexdigest()

    def _name(self, path: Path) -> str:
        """A file by its place in the source or layouts folder, not on the
        disk: a project moved, or a copy of its source built into a copy of its
        output, keeps its files current."""
        label, folder = ("source", self.source_dir) if path.is_relative_to(self.source_dir) else (
            "layouts", self.layouts_dir)
        return f"{label}/{path.relative_to(folder).as_posix()}"

    def folder(self, folder: Path) -> str:
        """One hash of every file under `folder`, as read."""
        if (folder,) not in self._digests:
            self._digests[(folder,)] = self._digest(path for path in self._files if folder in path.parents)
        return self._digests[(folder,)]

    def inputs(self, selection: str) -> str:
        """One hash of every file in the source and layouts folders, the
        engine's code, the packages and what the build was asked for
        (`selection`): equal digests mean the same jobs with the same keys. A
        stray file (an editor's backup) changes it, which only costs the check
        of every job's key."""
        parts = [self.generator, _pipeline_code(), _packages(), selection, self._digest(self._files)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def key(self, job: Job) -> str:
        source, layouts = self.source_dir, self.layouts_dir
        parts = [
            self.generator, _pipeline_code(), _packages(), job.format_key, job.venue_id, job.area_id or "",
            job.lang or "",
            self._cached(source / "translations" / f"{job.lang}.yaml") if job.lang else "",
            self._cached(*(source / name for name in SHARED_SOURCE)),
            self._cached(source / "venues" / f"{job.venue_id}.yaml"),
            self._cached(source / "areas" / f"{job.area_id}.yaml") if job.area_id else "",
            self.folder(layouts / "common"), self._cached(layouts / "base.html"),
            self.folder(layouts / Path(job.product.template).parent),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()
