"""Stage 2: every file in `source/` read (load.py), validated against the
schema (model.py, validate.py) and checked across files (checks.py), into one
`Source`, or a SourceError with every problem at once.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .checks import check_content, check_quotes, check_venue, check_venue_workshop, check_workshop
from .errors import SourceError, SourceProblem, display_path
from .jobs import RESERVED_AREA_IDS
from .load import LoadedFile, load_yaml
from .model import ID_PATTERN, Area, Content, Organisation, Source, Venue, Workshop
from .reviews import for_print, future_dates, source_reviews
from .translate import load_translations, source_wording, written_at
from .validate import validate


def load_source(source_dir: Path, files: dict[Path, bytes] | None = None, today: dt.date | None = None) -> Source:
    """Load and validate everything in `source_dir`; raise SourceError with every
    problem. `files` are the bytes of its files as a build has read them
    already (to hash them): the source is made of those, not of a later read.
    A `reviewed:` date after `today` (default: the real one) is a problem."""
    problems: list[SourceProblem] = []

    def read(path: Path) -> LoadedFile | None:
        display = display_path(path)
        loaded, found = load_yaml(path, display, (files or {}).get(path))
        problems.extend(found)
        return loaded

    def require(path: Path) -> LoadedFile | None:
        if not path.is_file():
            problems.append(SourceProblem(display_path(path), None, None, "", "is missing",
                                          f"Every source folder needs {path.name}"))
            return None
        return read(path)

    def read_named(folder: str, model: type[Venue] | type[Area], example: str) -> list:
        """The venue or area files in `folder`, each valid one with its model.
        An item's id is its file's name."""
        what = folder.rstrip("s")
        valid = []
        for path in sorted((source_dir / folder).glob("*.yaml")):
            if path.is_symlink() and not path.resolve().is_relative_to(source_dir.resolve()):
                problems.append(SourceProblem(display_path(path), None, None, "",
                                              "links to a file outside the source folder",
                                              f"Copy the file into source/{folder}/ instead of linking to it"))
                continue
            loaded = read(path)
            if loaded is None:
                continue
            item, found = _validate_named(model, loaded, path, what, example)
            problems.extend(found)
            if item:
                valid.append((loaded, item))
        return valid

    if not source_dir.is_dir():
        raise SourceError([SourceProblem(display_path(source_dir), None, None, "", "is not a folder",
                                         "Give --source the folder that holds content.yaml")])

    content_file = require(source_dir / "content.yaml")
    organisation_file = require(source_dir / "organisation.yaml")
    workshop_file = require(source_dir / "workshop.yaml")
    venue_paths = sorted((source_dir / "venues").glob("*.yaml"))
    for folder in ("venues", "areas", "translations"):
        # Only *.yaml is read: a venue saved as libraries.yml would otherwise
        # be left out of every build without a word.
        for path in sorted((source_dir / folder).glob("*")):
            if path.suffix != ".yaml" and path.suffix.lower() in (".yaml", ".yml"):
                problems.append(SourceProblem(display_path(path), None, None, "",
                                              "is not read: only files ending in .yaml are",
                                              f"Rename it {path.stem}.yaml"))
    if not venue_paths:
        problems.append(SourceProblem(display_path(source_dir / "venues"), None, None, "", "holds no venue files",
                                      "Add one YAML file per venue type, e.g. venues/hotels.yaml"))

    content = organisation = workshop = None
    if workshop_file:
        workshop, found = validate(Workshop, workshop_file)
        problems.extend(found)
    if content_file:
        content, found = validate(Content, content_file)
        problems.extend(found)
    if organisation_file:
        organisation, found = validate(Organisation, organisation_file)
        problems.extend(found)

    venue_files: list[tuple[LoadedFile, Venue]] = read_named("venues", Venue, "taxi-ranks.yaml")
    area_files: list[tuple[LoadedFile, Area]] = read_named("areas", Area, "blackburn-with-darwen.yaml")
    areas = [area for _, area in area_files]
    problems.extend(SourceProblem(loaded.display_path, None, None, "",
                                  f"is named {area.id!r}, a word `--area` keeps for itself",
                                  f"Rename the file, e.g. after its council; {', '.join(RESERVED_AREA_IDS)} are taken")
                    for loaded, area in area_files if area.id in RESERVED_AREA_IDS)

    if content and content_file:
        problems.extend(check_content(content, content_file))
        if workshop and workshop_file:
            problems.extend(check_workshop(workshop, workshop_file, content))
        for loaded, venue in venue_files:
            # Every venue file counts, valid or not: a mistake in hotels.yaml must
            # not also be reported as hostels.yaml adapting a missing venue.
            problems.extend(check_venue(venue, loaded, content, {path.stem for path in venue_paths}))
            if workshop:
                problems.extend(check_venue_workshop(venue, loaded, content, workshop))

    reviews = source_reviews((content_file, content) if content and content_file else None, venue_files, area_files)
    problems.extend(future_dates(reviews, today))
    if problems:
        raise SourceError(problems)

    # Venues in the order the client lists its places; any others after, by name.
    place_order = {place.id: index for index, place in enumerate(content.places)}
    venues = sorted((venue for _, venue in venue_files),
                    key=lambda venue: (place_order.get(venue.id, len(place_order)), venue.id))
    source = Source(content, organisation, workshop, venues, areas)
    source.reviews = for_print(reviews, area_files)
    loaded_by_section = {("content",): content_file, ("organisation",): organisation_file,
                         ("workshop",): workshop_file,
                         **{("venues", venue.id): loaded for loaded, venue in venue_files},
                         **{("areas", area.id): loaded for loaded, area in area_files}}
    wording = source_wording(source)
    source.written_at = written_at(wording, loaded_by_section)
    problems = check_quotes(wording, loaded_by_section)
    named = [(organisation_file, ("logo",), organisation.logo),
             *((loaded, ("logo",), area.logo) for loaded, area in area_files)]
    for loaded, path, name in named:
        if name:
            logo, problem = _read_logo(source_dir, name, loaded, path, files)
            if problem:
                problems.append(problem)
            else:
                source.logos[name] = logo
    # Translations are checked against the valid English source they translate.
    source.translations, found = load_translations(source_dir, source, wording, read)
    if problems or found:
        raise SourceError(problems + found)
    return source


def _validate_named(model: type[Venue] | type[Area], loaded: LoadedFile, path: Path, what: str, example: str):
    """A venue or area file, whose id is its file's name."""
    if not re.match(ID_PATTERN, path.stem):
        return None, [SourceProblem(loaded.display_path, None, None, "", f'"{path.stem}" is not a valid {what} id',
                                    f"Name the file with lowercase letters, digits and hyphens, e.g. {example}")]
    if isinstance(loaded.data, dict) and "id" in loaded.data:
        return None, [loaded.problem(("id",), '"id" is not a known key',
                                     f"The {what} id is the file name: remove this line")]
    return validate(model, loaded, extra={"id": path.stem})


# A logo is printed a few centimetres wide: a larger file is a mistake.
MAX_LOGO_BYTES = 1_000_000


def _read_logo(source_dir: Path, name: str, loaded: LoadedFile, path, files: dict[Path, bytes] | None):
    """The bytes of source/logos/<name>, or the problem with it."""
    folder = (source_dir / "logos").resolve()
    file = source_dir / "logos" / name
    if not file.is_file() or not file.resolve().is_relative_to(folder):
        return None, loaded.problem(path, f"names {name}, which is not a file in {display_path(source_dir / 'logos')}/",
                                    "Put the logo file there, or remove the line")
    data = (files or {}).get(file) or file.read_bytes()
    if len(data) > MAX_LOGO_BYTES:
        return None, loaded.problem(path, f"{name} is {len(data) // 1000} kB, more than a logo needs",
                                    "Save it smaller (an SVG, or a PNG of about 600 pixels across)")
    return data, None
