"""A pack per council: `<out>/packs/<area>.zip` from a build already made.

Each zip holds one folder, named for the area: its PDFs as the build wrote
them, a catalogue page of those files alone (index.html, without pictures, to
keep the zip to its PDFs), and README.txt on how to print them. The same build
always gives the same bytes: names in order, one fixed date and mode for every
member, so a coordinator can tell by its checksum whether a pack changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .catalogue import (SHOWN_KINDS, _environment, _listable, area_name, entries_by_area, files_page, pack_path,
                        write_catalogue)
from .errors import MaterialsError
from .jobs import NATIONAL, PACKS_FOLDER
from .text import long_date
from .write import MANIFEST, atomic_write, output_lock, read_manifest

# Zip dates have no time zone and start in 1980: every member gets this one,
# so the bytes do not depend on when, or where, the pack was made.
MEMBER_DATE = (1980, 1, 1, 0, 0, 0)


class PackError(MaterialsError):
    """The output folder holds no build to pack, or a file changed since it was built."""


@dataclass(frozen=True)
class Pack:
    path: PurePosixPath  # relative to the output folder
    area: str | None
    files: int
    size: int            # bytes


def make_packs(out_dir: Path) -> list[Pack]:
    """Write a pack for every area the build in `out_dir` holds (the national
    edition too, when built), remove packs of areas no longer built, and
    bring the catalogue up to date so that it links each pack."""
    if not (out_dir / MANIFEST).is_file():  # before the lock, which would make the folder
        raise PackError(f"{out_dir}/ holds no build to pack: run `make-materials build --out {out_dir}` first")
    with output_lock(out_dir):
        manifest = read_manifest(out_dir)
        entries = [entry for entry in manifest.values() if _listable(out_dir, entry)]
        if not entries:
            raise PackError(f"{out_dir}/ holds no build to pack: run `make-materials build --out {out_dir}` first")
        changed = [entry["file"] for entry in entries
                   if hashlib.sha256((out_dir / entry["file"]).read_bytes()).hexdigest() != entry.get("sha256")]
        if changed:
            raise PackError(f"{', '.join(changed)} changed since the build wrote "
                            f"{'it' if len(changed) == 1 else 'them'}: build again, then pack")
        packs = []
        by_area = entries_by_area(entries)
        for area, members in by_area.items():
            data = pack_bytes(out_dir, area, members)
            atomic_write(out_dir / pack_path(area), data)
            packs.append(Pack(pack_path(area), area, len(members), len(data)))
        wanted = {out_dir / pack_path(area) for area in by_area}
        for stale in (out_dir / PACKS_FOLDER).glob("*.zip"):
            if stale not in wanted:
                stale.unlink()
        write_catalogue(out_dir)
    return packs


def pack_bytes(out_dir: Path, area: str | None, entries: list[dict]) -> bytes:
    """The zip of one area's files, with its catalogue page and printing note."""
    folder = area or NATIONAL
    base = area or "."  # where the area's files are, in the output folder
    members: dict[str, bytes] = {}
    for entry in entries:
        members[str(PurePosixPath(folder, PurePosixPath(entry["file"]).relative_to(base)))] = \
            (out_dir / entry["file"]).read_bytes()
    made_from = hashlib.sha256(b"".join(hashlib.sha256(data).digest() for _, data in sorted(members.items())))
    members[f"{folder}/index.html"] = files_page(
        entries, {}, base, made_from.hexdigest(), title=f"{area_name(entries[0])}: materials").encode("utf-8")
    members[f"{folder}/README.txt"] = _printing_note(area, entries, base).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, MEMBER_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name], compresslevel=6)
    return buffer.getvalue()


def _printing_note(area: str | None, entries: list[dict], base: str) -> str:
    def listed(which) -> list[str]:
        return sorted(str(PurePosixPath(entry["file"]).relative_to(base)) for entry in entries if which(entry))

    reviewed = max((entry.get("content_reviewed") or "" for entry in entries), default="")
    return _environment().get_template("pack-readme.txt").render(
        name=area_name(entries[0]),
        files=entries,
        reviewed=long_date(dt.date.fromisoformat(reviewed)) if reviewed else "an unknown date",
        fictional=any(entry.get("area_fictional") for entry in entries),
        office=listed(lambda entry: entry.get("variant") == "office" and entry.get("format") != "sheet-a4"
                      and entry.get("product") not in SHOWN_KINDS),
        shown=listed(lambda entry: entry.get("product") in SHOWN_KINDS),
        press=listed(lambda entry: entry.get("variant") == "press"),
        sheets=listed(lambda entry: entry.get("format") == "sheet-a4"),
    ) + "\n"
