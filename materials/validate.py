"""Stage 2, its messages: one loaded file validated against the schema, and
pydantic's errors put in plain English, each at its file, line and column:
`source/venues/hotels.yaml:12:5: signs[2].text: should be text. Put the value in quotes`.
"""

from __future__ import annotations

import difflib
import re
import typing

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from .errors import SourceProblem
from .load import FieldPath, LoadedFile, format_field
from .model import DIGITS_AND_SPACES, ID_PATTERN, Colour, LogoFile, WebAddress

_MESSAGES = {
    "missing": ("is missing", "Add it"),
    "extra_forbidden": ("is not a known key", "Check its spelling, or remove it"),
    "string_type": ("should be text", 'Put the value in quotes, e.g. "999"'),
    "string_too_short": ("is empty", "Write the text, or remove the entry"),
    "string_too_long": ("is too long", "Shorten it: printed materials have limited space"),
    "list_type": ("should be a list", 'Start each entry on its own line with "- "'),
    "dict_type": ("should be a group of keys", "Indent the keys below it"),
    "model_type": ("should be a group of keys", "Indent the keys below it"),
    "model_attributes_type": ("should be a group of keys", "Indent the keys below it"),
    "too_short": ("has too few entries", "Add at least one"),
    "too_long": ("has too many entries", "Remove some: they must fit on the printed product"),
    "date_from_datetime_parsing": ("should be a date", "Write it as YYYY-MM-DD"),
    "date_parsing": ("should be a date", "Write it as YYYY-MM-DD"),
    "date_type": ("should be a date", "Write it as YYYY-MM-DD"),
    "why_to_check": ("is empty", "Say why the item must be checked before printing, and against which source, "
                                 "or remove the line"),
    "uk_phone_number": ("is not a UK phone number of the right length",
                        'A number beginning 0 has 10 or 11 digits, e.g. "01632 960123"; short ones are numbers such as'
                        ' 999, 101 and 116 123: check for a digit missing or typed twice'),
    "uk_national_number": ("is not a full phone number",
                           'Write all 10 or 11 digits, area code first, e.g. "01632 960123": check for a digit missing '
                           "or typed twice"),
}

_PATTERN_HINTS = {
    ID_PATTERN: ("is not a valid id", "Use lowercase letters, digits and single hyphens, e.g. unexplained-money-or-gifts"),
    DIGITS_AND_SPACES.pattern: ("is not a phone number", 'Write digits and spaces only, in quotes, e.g. "01632 960123"'),
    Colour.__metadata__[0].pattern: ("is not a colour", 'Write it as "#" and six hex digits, in quotes, e.g. "#1B3A5C"'),
    WebAddress.__metadata__[0].pattern: ("is not a web address", "Write it in full, starting https://"),
    LogoFile.__metadata__[0].pattern: ("is not a logo file name",
                                       "Name an .svg or .png file in source/logos/, e.g. our-logo.svg"),
}


COLOUR_PATTERN = Colour.__metadata__[0].pattern


def _entries(count: int) -> str:
    return "no entries" if count == 0 else f"{count} {'entry' if count == 1 else 'entries'}"


def describe_error(detail) -> tuple[str, str]:
    """What one of pydantic's errors means, and what to do, in plain English."""
    message, hint = _MESSAGES.get(detail["type"], (detail["msg"][0].lower() + detail["msg"][1:], ""))
    context = detail.get("ctx", {})
    if detail["type"] == "string_pattern_mismatch":
        message, hint = _PATTERN_HINTS.get(context.get("pattern"), ("has the wrong form", ""))
    if detail["type"] == "too_short" and "min_length" in context:
        # How many there are, and how many more are needed: `poster.signs: has 2 entries, needs at least 3`.
        count, least = context.get("actual_length", 0), context["min_length"]
        message, hint = f"has {_entries(count)}, needs at least {least}", f"Add {least - count} more"
    if detail["type"] == "too_long" and "max_length" in context:
        count, most = context.get("actual_length", 0), context["max_length"]
        message, hint = (f"has {_entries(count)}, may have at most {most}",
                         f"Remove {count - most}: they must fit on the printed product")
    if detail["type"] == "string_too_long" and "max_length" in context:
        written = len(detail["input"]) if isinstance(detail.get("input"), str) else None
        message = f"is too long ({written} characters, at most {context['max_length']})" if written else message
        hint = "Shorten it: printed materials have limited space"
    if detail["type"] == "extra_forbidden":
        message = f'"{detail["loc"][-1]}" {message}'
    return message, hint


# --- the schema at an error's location ---------------------------------------------------

def _model_in(annotation) -> type[BaseModel] | None:
    """The model a field's type is, or holds as an option (`Adapted | None`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((found for found in map(_model_in, typing.get_args(annotation)) if found), None)


def _items_of(annotation):
    """What a list field's items are (`list[Sign]` -> Sign), or None."""
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0]
    return next((found for found in map(_items_of, typing.get_args(annotation)) if found is not None), None)


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields by their name in the file (its alias, if it has one)."""
    return {info.alias or name: info for name, info in model.model_fields.items()}


def _walk(model: type[BaseModel], path: FieldPath) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model that holds the value at `path` (a pydantic error's location
    in `model`), and the field it is; None for what the schema does not say."""
    annotation, holder, info = model, None, None
    for part in path:
        if isinstance(part, int):
            annotation = _items_of(annotation)
            continue
        holder = _model_in(annotation)
        info = _fields(holder).get(part) if holder else None
        if info is None:
            return holder, None
        annotation = info.annotation
    return holder, info


def _is_colour(info: FieldInfo | None) -> bool:
    return info is not None and any(getattr(rule, "pattern", None) == COLOUR_PATTERN for rule in info.metadata)


def _nearest_key(model: type[BaseModel], path: FieldPath) -> str | None:
    """The known key nearest to the unknown key at `path` (a misspelling), if any is near."""
    holder, _ = _walk(model, path)
    if holder is None:
        return None
    near = difflib.get_close_matches(str(path[-1]), [key for key in _fields(holder) if key != "id"], n=1,
                                     cutoff=0.6)
    return near[0] if near else None


def _empty_value(path: FieldPath, info: FieldInfo | None, loaded: LoadedFile) -> tuple[str, str] | None:
    """A required value written as nothing: said as such, and when what
    followed the colon began with # (YAML reads it as a comment), so."""
    comment = loaded.comments.get(path)
    if comment:
        key = path[-1] if isinstance(path[-1], str) else "-"
        if _is_colour(info) or re.fullmatch(r"#[0-9A-Fa-f]{6}", comment):
            return ("is empty: YAML reads # and all after it as a comment",
                    f'Put the colour in quotes: {key}: "{comment}"')
        return ("is empty: YAML reads # and all after it as a comment",
                f'Put the value in quotes: {key}: "{comment}"')
    if _is_colour(info):
        return "is empty", 'Write the colour in quotes, e.g. "#1B3A5C"'
    return None


def problems_from_validation(error: ValidationError, loaded: LoadedFile, prefix: FieldPath = (),
                             model: type[BaseModel] | None = None) -> list[SourceProblem]:
    """Each of pydantic's errors as a problem at its line and column. With
    `model` (the schema validated against), what the schema says helps: a
    misspelt key is given the nearest known key (and that key's "is missing"
    goes without saying), a colour is asked for as a colour."""
    details = [(tuple(detail["loc"]), detail) for detail in error.errors()]
    missing = {path for path, detail in details if detail["type"] == "missing"}
    suggested: dict[FieldPath, str] = {}
    if model is not None:
        for path, detail in details:
            if detail["type"] == "extra_forbidden":
                nearest = _nearest_key(model, path)
                if nearest:
                    suggested[path] = nearest
    explained = {path[:-1] + (nearest,) for path, nearest in suggested.items()} & missing
    problems = []
    for path, detail in details:
        if path in explained:  # a misspelt key's real key, missing: said with the misspelling
            continue
        message, hint = describe_error(detail)
        info = _walk(model, path)[1] if model is not None else None
        if path in suggested:
            nearest = suggested[path]
            hint = f"Did you mean {nearest}?" + (f" ({nearest} is missing)"
                                                 if path[:-1] + (nearest,) in explained else "")
        elif detail.get("input", ...) is None and detail["type"] == "string_type":
            message, hint = _empty_value(prefix + path, info, loaded) or (message, hint)
        elif _is_colour(info) and detail["type"] == "string_type":
            message, hint = _PATTERN_HINTS[COLOUR_PATTERN]
        # An unknown key is pointed at by its name, anything else by its value.
        line_col = loaded.key_positions.get(prefix + path) if detail["type"] == "extra_forbidden" else None
        line_col = line_col or loaded.locate(prefix + path)
        problems.append(SourceProblem(loaded.display_path, *(line_col or (None, None)),
                                      format_field(path), message, hint))
    return problems


def validate(model: type[BaseModel], loaded: LoadedFile, extra: dict | None = None):
    data = loaded.data
    if not isinstance(data, dict):
        return None, [SourceProblem(loaded.display_path, 1, 1, "", "should be a group of keys, not a single value",
                                    "Start the file with keys such as name:")]
    if extra:
        data = {**extra, **data}
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, problems_from_validation(error, loaded, model=model)
