"""Stage 2, its messages: one loaded file validated against the schema, and
pydantic's errors put in plain English, each at its file, line and column:
`source/venues/hotels.yaml:12:5: signs[2].text: should be text. Put the value in quotes`.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

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


def describe_error(detail) -> tuple[str, str]:
    """What one of pydantic's errors means, and what to do, in plain English."""
    message, hint = _MESSAGES.get(detail["type"], (detail["msg"][0].lower() + detail["msg"][1:], ""))
    if detail["type"] == "string_pattern_mismatch":
        pattern = detail.get("ctx", {}).get("pattern")
        message, hint = _PATTERN_HINTS.get(pattern, ("has the wrong form", ""))
    if detail["type"] in ("too_short", "too_long", "string_too_long") and "ctx" in detail:
        limit = detail["ctx"].get("min_length" if detail["type"] == "too_short" else "max_length")
        hint = f"{hint} (limit: {limit})"
    if detail["type"] == "extra_forbidden":
        message = f'"{detail["loc"][-1]}" {message}'
    return message, hint


def problems_from_validation(error: ValidationError, loaded: LoadedFile,
                             prefix: FieldPath = ()) -> list[SourceProblem]:
    problems = []
    for detail in error.errors():
        path = tuple(part for part in detail["loc"])
        message, hint = describe_error(detail)
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
        return None, problems_from_validation(error, loaded)
