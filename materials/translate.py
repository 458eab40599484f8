"""Translated editions: a translation replaces the English wording, by id.

A translation (`source/translations/<lang>.yaml`) mirrors the English source:
the same sections (content, organisation, workshop, venues, areas), the same
keys, and list items named by their `id` instead of their position, so
reordering or adding an English item never shifts a translation. Only wording
is translated (`model.Text`); ids, numbers, colours, dates and addresses stay
as they are in English. What a translation leaves out is printed in English and
listed by `check --lang`.

Two pseudo-locales, made from the English, test the layouts as localisation
teams do: `en-XA` (every string 40% longer, with accents) and `ar-XB` (right
to left). Every product must pass preflight in both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from .checks import straight_quote_problem
from .errors import SourceProblem
from .load import FieldPath, LoadedFile, format_field
from .model import TRANSLATABLE, Source, Strict, Text
from .text import spaced
from .validate import describe_error, problems_from_validation

# A language tag as BCP 47 writes it: cy, ur, pt-BR, sr-Latn.
LANGUAGE_TAG = r"^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-[A-Z]{2})?$"
SECTIONS = ("content", "organisation", "workshop", "venues", "areas")


@dataclass(frozen=True)
class Language:
    tag: str               # BCP 47: goes into <html lang>, the PDF and file names
    name: str              # in the language itself: "Cymraeg"
    english_name: str
    direction: str         # "ltr" or "rtl"
    reviewed_by: str | None = None
    reviewed: dt.date | None = None
    pseudo: bool = False

    @property
    def draft(self) -> bool:
        """Unreviewed safeguarding text must not be distributed: drafts say so on every page."""
        return self.reviewed_by is None

    @property
    def file_suffix(self) -> str:
        return "" if self is ENGLISH else f"-{self.tag}"


ENGLISH = Language("en-GB", "English", "English", "ltr", reviewed_by="the source's authors")


class TranslationHeader(Strict):
    """The keys of a translation file other than its wording."""
    name: Text
    english_name: Text
    direction: Literal["ltr", "rtl"] = "ltr"
    reviewed_by: Text | None = Field(None, description="Who checked the translation against the English.")
    reviewed: dt.date | None = None
    content: dict | None = None
    organisation: dict | None = None
    workshop: dict | None = None
    venues: dict | None = None
    areas: dict | None = None


# --- the wording of the English source, by translation key --------------------------

TextKey = tuple[str | int, ...]  # ("venues", "hotels", "signs", "no-luggage", "text")


@dataclass(frozen=True)
class Wording:
    """One translatable string: where it sits in the model, and its English."""
    section: tuple[str, ...]   # ("content",) or ("venues", "hotels")
    model_path: FieldPath      # inside the section's model, by list position
    english: str


@dataclass(frozen=True)
class WrittenAt:
    """Where one printed text is written, for messages about the text as
    printed (preflight's overset and fit): its file, line and column, its field
    as that file names it, and its length."""
    file: str
    line: int | None
    column: int | None
    field: str
    characters: int

    def __str__(self) -> str:
        """`source/venues/hotels.yaml:20:12: signs[3].short`, as a source problem places itself."""
        return str(SourceProblem(self.file, self.line, self.column, "", self.field))


def _is_text(annotation) -> bool:
    """Whether a field's type is (an optional) `Text`, or a list of them."""
    if typing.get_origin(annotation) is typing.Annotated:
        return TRANSLATABLE in annotation.__metadata__
    return any(_is_text(argument) for argument in typing.get_args(annotation))


def _model_wording(model: BaseModel, section: tuple[str, ...], key: TextKey, path: FieldPath,
                   found: dict[TextKey, Wording], models: dict[int, TextKey] | None = None) -> None:
    if models is not None:
        models[id(model)] = key
    for name, info in type(model).model_fields.items():
        name_in_file = info.alias or name
        value = getattr(model, name)
        translatable = TRANSLATABLE in info.metadata or _is_text(info.annotation)
        _value_wording(value, translatable, section, key + (name_in_file,), path + (name_in_file,), found, models)


def _value_wording(value, translatable: bool, section, key: TextKey, path: FieldPath,
                   found: dict[TextKey, Wording], models: dict[int, TextKey] | None = None) -> None:
    if isinstance(value, BaseModel):
        _model_wording(value, section, key, path, found, models)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            # Items with an id are named by it: a translation survives reordering.
            item_key = item.id if isinstance(item, BaseModel) and "id" in type(item).model_fields else index
            _value_wording(item, translatable, section, key + (item_key,), path + (index,), found, models)
    elif isinstance(value, str) and translatable:
        found[key] = Wording(section, path, value)


def _walk(source: Source, found: dict[TextKey, Wording], models: dict[int, TextKey] | None = None) -> None:
    for name in ("content", "organisation", "workshop"):
        _model_wording(getattr(source, name), (name,), (name,), (), found, models)
    for venue in source.venues:
        _model_wording(venue, ("venues", venue.id), ("venues", venue.id), (), found, models)
    for area in source.areas:
        _model_wording(area, ("areas", area.id), ("areas", area.id), (), found, models)


def source_wording(source: Source) -> dict[TextKey, Wording]:
    """Every translatable string of the English source, by its key in a translation file."""
    found: dict[TextKey, Wording] = {}
    _walk(source, found)
    return found


def model_keys(source: Source) -> dict[int, TextKey]:
    """The key of every model in `source` (an edition's), by the model's id():
    the layouts name the text an element prints by its key (`data-source`),
    found from the item they print (render.Renderer.source_key)."""
    models: dict[int, TextKey] = {}
    _walk(source, {}, models)
    return models


def written_at(wording: dict[TextKey, Wording],
               loaded_by_section: dict[tuple[str, ...], LoadedFile | None]) -> dict[str, WrittenAt]:
    """Where each string of the English source is written, by its key as
    `format_key` spells it (the key the layouts mark elements with)."""
    found = {}
    for key, text in wording.items():
        loaded = loaded_by_section.get(text.section)
        if loaded is not None:
            found[format_key(key)] = WrittenAt(loaded.display_path, *(loaded.locate(text.model_path) or (None, None)),
                                               format_field(text.model_path), len(spaced(text.english)))
    return found


def format_key(key: TextKey) -> str:
    """("venues", "hotels", "signs", "no-luggage", "text") -> venues.hotels.signs.no-luggage.text"""
    return ".".join(str(part) for part in key)


# --- applying a translation -------------------------------------------------------------

def _leaves(data, key: TextKey = ()):
    """The values at the ends of a translation's nested keys and lists."""
    if isinstance(data, dict):
        for name, value in data.items():
            yield from _leaves(value, key + (name,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, key + (index,))
    else:
        yield key, data


def _set(data, path: FieldPath, value) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _section_models(source: Source) -> dict[tuple[str, ...], BaseModel]:
    models: dict[tuple[str, ...], BaseModel] = {(name,): getattr(source, name)
                                                for name in ("content", "organisation", "workshop")}
    models.update({("venues", venue.id): venue for venue in source.venues})
    models.update({("areas", area.id): area for area in source.areas})
    return models


def translated_source(source: Source, wording: dict[TextKey, Wording], replacements: dict[TextKey, str],
                      loaded: LoadedFile | None = None) -> tuple[Source, list[SourceProblem]]:
    """The source with `replacements` (translation key -> wording) in place of the
    English, validated again (a translated sign may be too long or empty)."""
    models = _section_models(source)
    data = {section: model.model_dump(by_alias=True) for section, model in models.items()}
    where: dict[tuple, TextKey] = {}
    for key, text in replacements.items():
        found = wording[key]
        _set(data[found.section], found.model_path, text)
        where[found.section + found.model_path] = key
    problems: list[SourceProblem] = []
    translated: dict[tuple[str, ...], BaseModel] = {}
    for section, model in models.items():
        try:
            translated[section] = type(model).model_validate(data[section])
        except ValidationError as error:
            if loaded is None:
                raise
            for detail in error.errors():
                # Only the translation's own text changed: point at its line.
                key = where.get(section + tuple(detail["loc"]), section)
                message, hint = describe_error(detail)
                problems.append(loaded.problem(key, message, hint, field=format_key(key)))
    if problems:
        return source, problems
    edition_source = Source(translated[("content",)], translated[("organisation",)], translated[("workshop",)],
                            [translated[("venues", venue.id)] for venue in source.venues],
                            [translated[("areas", area.id)] for area in source.areas])
    # What a translation leaves out is printed in English, from the English files.
    edition_source.written_at = source.written_at
    return edition_source, []


@dataclass
class Translation:
    """A language's edition of the source, and what it leaves in English."""
    language: Language
    source: Source
    missing: list[TextKey] = field(default_factory=list)
    file: str | None = None
    # The English it prints for what it leaves untranslated, spaced as
    # text.spaced does: the layout marks it as English (render.mark_english).
    english_left: frozenset[str] = frozenset()
    # Where its own wording is written, in the translation file, by key.
    written_at: dict[str, WrittenAt] = field(default_factory=dict)

    def where(self, key: str) -> WrittenAt | None:
        """Where the text this edition prints for `key` is written: the
        translation file's line, or the English file's for what it leaves
        in English (and for a pseudo-locale, made from the English)."""
        return self.written_at.get(key) or self.source.written_at.get(key)


def load_translation(path: Path, loaded: LoadedFile, english: Source,
                     wording: dict[TextKey, Wording]) -> tuple[Translation | None, list[SourceProblem]]:
    """Read one translation file against the English source; report every problem with its line."""
    display = loaded.display_path
    tag = path.stem
    if not re.match(LANGUAGE_TAG, tag):
        return None, [SourceProblem(display, None, None, "", f'"{tag}" is not a language tag',
                                    "Name the file with the language's BCP 47 tag, e.g. cy.yaml or ur.yaml")]
    if tag.split("-")[0] == "en" or tag in PSEUDO_LOCALES:
        return None, [SourceProblem(display, None, None, "", f'"{tag}" is English, which the source itself is in',
                                    "Edit content.yaml and the venue files instead")]
    if not isinstance(loaded.data, dict):
        return None, [SourceProblem(display, 1, 1, "", "should be a group of keys, not a single value",
                                    "Start the file with name:, english_name: and direction:")]
    try:
        header = TranslationHeader.model_validate(loaded.data)
    except ValidationError as error:
        return None, problems_from_validation(error, loaded, model=TranslationHeader)
    problems: list[SourceProblem] = []
    if (header.reviewed_by is None) != (header.reviewed is None):
        problems.append(SourceProblem(display, *(loaded.locate(("reviewed_by",)) or loaded.locate(("reviewed",))
                                                 or (None, None)), "reviewed_by",
                                      "a reviewed translation names its reviewer and the date they checked it",
                                      "Give both reviewed_by: and reviewed:, or neither for a draft"))
    replacements: dict[TextKey, str] = {}
    # A translation may keep a venue or area the English source no longer has
    # (or a copy of the source that leaves some out): that part is not used.
    in_source = {found.section for found in wording.values()}
    for section in SECTIONS:
        for key, value in _leaves(loaded.data.get(section) or {}, (section,)):
            if section in ("venues", "areas") and len(key) > 1 and key[:2] not in in_source:
                continue
            # A list or group where one text belongs: report the text's own key, once.
            text_key = next((key[:end] for end in range(len(key) - 1, 1, -1) if key[:end] in wording), None)
            if text_key:
                key, value = text_key, None
                if any(problem.field == format_key(key) for problem in problems):
                    continue
            line_col = loaded.key_positions.get(key) or loaded.locate(key) or (None, None)
            if key not in wording:
                nearest = _nearest_key(key, wording)
                problems.append(SourceProblem(display, *line_col, format_key(key),
                                              "is not wording in the English source",
                                              f"Did you mean {format_key(nearest)}? Only text is translated, never "
                                              "ids, numbers or addresses" if nearest else
                                              "Check the ids and keys against the English file: only text is "
                                              "translated, never ids, numbers or addresses"))
            elif not isinstance(value, str) or not value.strip():
                problems.append(SourceProblem(display, *line_col, format_key(key), "should be text",
                                              "Write the translation, or remove the line to print the English"))
            else:
                quote = straight_quote_problem(loaded, key, value, format_key(key))
                if quote:
                    problems.append(quote)
                replacements[key] = value
    language = Language(tag, header.name, header.english_name, header.direction, header.reviewed_by,
                        header.reviewed)
    if problems:
        return None, problems
    translated, problems = translated_source(english, wording, replacements, loaded)
    if problems:
        return None, problems
    missing = [key for key in wording if key not in replacements]
    own = {format_key(key): WrittenAt(display, *(loaded.locate(key) or (None, None)), format_key(key),
                                      len(spaced(text)))
           for key, text in replacements.items()}
    return Translation(language, translated, missing, display,
                       frozenset(spaced(wording[key].english) for key in missing), own), []


def _nearest_key(key: TextKey, wording: dict[TextKey, Wording]) -> TextKey | None:
    """The wording key nearest to `key`, which is none: the same key with its
    first unknown part (a misspelt id or field) spelt as the nearest known
    one at that place, if that makes a key of the wording."""
    import difflib  # here: only a mistake needs it

    for depth, part in enumerate(key):
        known = {str(other[depth]) for other in wording if len(other) > depth and other[:depth] == key[:depth]}
        if str(part) in known:
            continue
        near = difflib.get_close_matches(str(part), sorted(known), n=1, cutoff=0.6)
        fixed = key[:depth] + (near[0],) + key[depth + 1:] if near else None
        return fixed if fixed in wording else None
    return None


# --- pseudo-locales -----------------------------------------------------------------------

# Accented forms of ASCII letters, all in the body font (Latin-1 and Latin Extended-A).
_ACCENTED = str.maketrans("AaCcEeIiNnOoSsUuYyZz", "ÅåÇçÉéÎîÑñÖöŠšÛûÝýŽž")
_PADDING = "one two three four five six seven eight nine ten".split()
# Left as written: addresses and numbers must stay usable in any language.
_VERBATIM_WORD = re.compile(r"\S+@\S+|\S*\w\.\w\S*|[\d][\d\s]*\d")


def _outside_verbatim(text: str, wording, kept) -> str:
    """`text` with `wording` applied to its words and `kept` to its numbers and addresses."""
    parts = _VERBATIM_WORD.split(text)
    verbatim = _VERBATIM_WORD.findall(text) + [""]
    return "".join(wording(part) + (kept(found) if found else "") for part, found in zip(parts, verbatim))


def _longer(text: str) -> str:
    """The en-XA form: accented, and 40% longer, in brackets so that a clipped
    end shows. Numbers and addresses stay as they are."""
    accented = _outside_verbatim(text, lambda part: part.translate(_ACCENTED), lambda found: found)
    padding: list[str] = []
    target = len(text) * 0.4
    while len(" ".join(padding)) < target:
        padding.append(_PADDING[len(padding) % len(_PADDING)].translate(_ACCENTED))
    return f"[{accented} {' '.join(padding)}]"


def _right_to_left(text: str) -> str:
    """The ar-XB form: the English, forced right to left with the Unicode
    right-to-left override, as Android's pseudo-locale does. Numbers and
    addresses are isolated left to right inside it."""
    body = _outside_verbatim(text, lambda part: part, lambda found: f"\u2066{found}\u2069")
    return f"\u202e{body}\u202c"


PSEUDO_LOCALES = {
    "en-XA": (Language("en-XA", "Pseudo-long", "Pseudo-locale: long, accented", "ltr", pseudo=True), _longer),
    "ar-XB": (Language("ar-XB", "Pseudo-RTL", "Pseudo-locale: right to left", "rtl", pseudo=True), _right_to_left),
}


def pseudo_translation(tag: str, english: Source, wording: dict[TextKey, Wording]) -> Translation:
    language, transform = PSEUDO_LOCALES[tag]
    replacements = {key: transform(found.english) for key, found in wording.items()}
    translated, _ = translated_source(english, wording, replacements)
    # Made from the English: each text is written at the English one's line,
    # as long as the pseudo-locale prints it.
    written = {name: dataclasses.replace(english.written_at[name], characters=len(spaced(replacements[key])))
               for key, name in ((key, format_key(key)) for key in replacements) if name in english.written_at}
    return Translation(language, translated, written_at=written)


def load_translations(source_dir: Path, english: Source, wording: dict[TextKey, Wording],
                      read) -> tuple[dict[str, Translation], list[SourceProblem]]:
    """Every translation in `source_dir/translations/`, checked against the
    English and its wording (`source_wording`). `read` loads a YAML file and
    records its syntax problems."""
    translations: dict[str, Translation] = {}
    problems: list[SourceProblem] = []
    for path in sorted((source_dir / "translations").glob("*.yaml")):
        loaded = read(path)
        if loaded is None:
            continue
        translation, found = load_translation(path, loaded, english, wording)
        problems.extend(found)
        if translation:
            translations[translation.language.tag] = translation
    return translations, problems


def edition(source: Source, tag: str | None) -> Translation:
    """The source in one language: English (None), a translation file's, or a pseudo-locale's."""
    if tag is None:
        return Translation(ENGLISH, source)
    if tag in source.translations:
        return source.translations[tag]
    if tag not in source.pseudo_editions:
        source.pseudo_editions[tag] = pseudo_translation(tag, source, source_wording(source))
    return source.pseudo_editions[tag]


def language_tags(source: Source) -> list[str]:
    """Every language a build may ask for, besides English."""
    return [*source.translations, *PSEUDO_LOCALES]
