"""Stage 1: read YAML files safely, keeping the line and column of every value.

PyYAML's safe loader is used only to parse (compose) the document into nodes; we
build the Python values ourselves so that we can
- refuse duplicate keys (PyYAML silently keeps the last one),
- remember where every value came from, for error messages,
- stop alias bombs ("billion laughs") by counting the values we build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import SourceProblem

# A source file is a few hundred values; this leaves room for any real content
# while stopping an alias bomb long before it can exhaust memory.
MAX_VALUES_PER_FILE = 50_000

Location = tuple[int, int]  # 1-based line and column
FieldPath = tuple[str | int, ...]


@dataclass
class LoadedFile:
    """One YAML file: its data and the position of each value in it."""

    display_path: str
    data: object
    positions: dict[FieldPath, Location] = field(default_factory=dict)
    key_positions: dict[FieldPath, Location] = field(default_factory=dict)
    # Values left empty because what followed the colon began with # (YAML
    # reads it as a comment: `accent: #1B3A5C`), with that comment.
    comments: dict[FieldPath, str] = field(default_factory=dict)

    def locate(self, path: FieldPath) -> Location | None:
        """The position of `path`, or of its nearest parent that has one."""
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None
            path = path[:-1]

    def problem(self, path: FieldPath, message: str, hint: str = "", field: str | None = None) -> SourceProblem:
        """A problem with the value at `path`, placed at its line and column (or
        its nearest parent's) and named by its field (or by `field`)."""
        return SourceProblem(self.display_path, *(self.locate(path) or (None, None)),
                             format_field(path) if field is None else field, message, hint)


class _Problem(Exception):
    def __init__(self, node: yaml.Node | None, field_path: FieldPath, message: str, hint: str = ""):
        self.node, self.field_path, self.message, self.hint = node, field_path, message, hint


def format_field(path: FieldPath) -> str:
    """`('signs', 2, 'text')` -> `signs[2].text`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


class _Builder:
    def __init__(self, loader: yaml.SafeLoader | yaml.CSafeLoader):
        self.loader = loader
        self.positions: dict[FieldPath, Location] = {}
        self.key_positions: dict[FieldPath, Location] = {}
        self.empty: list[tuple[FieldPath, Location]] = []  # values written as nothing (0-based line and column)
        self.count = 0

    def build(self, node: yaml.Node, path: FieldPath) -> object:
        self.count += 1
        if self.count > MAX_VALUES_PER_FILE:
            raise _Problem(
                node, path,
                f"the file expands to more than {MAX_VALUES_PER_FILE} values",
                "Remove YAML anchors and aliases (& and *): write each value out in full",
            )
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
            raise _Problem(node, path, f"uses the YAML tag {node.tag}, which is not allowed",
                           "Remove the tag: the source holds plain text, lists and keys only")
        if isinstance(node, yaml.MappingNode):
            result: dict[str, object] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise _Problem(key_node, path, "merge keys (<<) are not supported",
                                   "Write the values out in full")
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Problem(key_node, path, "a key must be a plain word")
                key = str(key_node.value)
                if key in result:
                    raise _Problem(key_node, path + (key,), f'the key "{key}" appears twice',
                                   "Delete or rename one of them")
                self.key_positions[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:null" and node.value == "":
            self.empty.append((path, (node.start_mark.line, node.start_mark.column)))
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError, OverflowError) as error:
            # e.g. `reviewed: 2026-02-30`: YAML reads it as a date that does not exist.
            if node.tag == "tag:yaml.org,2002:timestamp":
                raise _Problem(node, path, f"{node.value} is not a date: {_why_not_a_date(node.value)}",
                               "Write a date that exists, as YYYY-MM-DD") from None
            raise _Problem(node, path, f"cannot be read: {error}", "Check the value, or put it in quotes") from None


def _why_not_a_date(text: str) -> str:
    """Why a value YAML reads as a date is not one, in plain words."""
    import calendar  # here: only a mistake needs it

    parts = re.match(r"(\d{4})-(\d\d?)-(\d\d?)", text)
    if not parts:
        return "it cannot be read as one"
    year, month, day = (int(part) for part in parts.groups())
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    days = calendar.monthrange(year, month)[1]
    if day < 1:
        return f"there is no day {day}"
    if day > days:
        return f"{calendar.month_name[month]} {year} has {days} days"
    return "its time cannot be read"


def load_yaml(file: Path, display_path: str, raw: bytes | None = None) -> tuple[LoadedFile | None, list[SourceProblem]]:
    """Read one YAML file (or parse `raw`, its bytes as read already). Returns
    the loaded file, or None and its problems."""

    def problem(line: int | None, column: int | None, field_path: FieldPath, message: str,
                hint: str = "") -> tuple[None, list[SourceProblem]]:
        return None, [SourceProblem(display_path, line, column, format_field(field_path), message, hint)]

    try:
        raw = file.read_bytes() if raw is None else raw
    except OSError as error:
        return problem(None, None, (), f"cannot be read ({error.strerror})")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # A byte-order mark is harmless; editors on Windows add one.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return problem(line, None, (), "is not UTF-8 text",
                       "Save the file with UTF-8 encoding in your editor")
    if not text.strip():
        return problem(None, None, (), "is empty", "Fill it in, or delete the file")

    # libyaml's parser when PyYAML has it (ten times faster: most of a build
    # that has nothing to do), else PyYAML's own; both give the same nodes.
    loader = (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return problem(None, None, (), "holds no values", "Fill it in, or delete the file")
        builder = _Builder(loader)
        data = builder.build(node, ())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or "is not valid YAML"
        hint = "Check the indentation and quoting on this line"
        # PyYAML spells a tab as the two characters \t in its message.
        if "\\t" in message or "\t" in message or "tab" in message.lower():
            hint = "Indent with spaces, not tabs"
        if "maximum nesting depth" in message:  # libyaml's limit, 1000 levels
            message, hint = "nested too deeply", "Flatten the structure"
        if mark is None:
            return problem(None, None, (), f"is not valid YAML: {message}", hint)
        return problem(mark.line + 1, mark.column + 1, (), f"is not valid YAML: {message}", hint)
    except yaml.YAMLError as error:
        return problem(None, None, (), f"is not valid YAML: {error}",
                       "Check the indentation and quoting")
    except _Problem as error:
        mark = error.node.start_mark if error.node is not None else None
        return problem(mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                       error.field_path, error.message, error.hint)
    except RecursionError:
        return problem(None, None, (), "is nested too deeply", "Flatten the structure")
    finally:
        loader.dispose()
    return LoadedFile(display_path, data, builder.positions, builder.key_positions,
                      _comments_after(text, builder.empty, builder.positions)), []


def _comments_after(text: str, empty: list[tuple[FieldPath, Location]],
                    positions: dict[FieldPath, Location]) -> dict[FieldPath, str]:
    """The empty values followed on their line by a comment, with it: what
    the writer meant as the value, if it began with # (a colour). Such a
    value is placed at its comment, where the writer wrote it."""
    if not empty:
        return {}
    lines = text.splitlines()
    found = {}
    for path, (line, column) in empty:
        comment = re.match(r"\s+(#.*)", lines[line][column:]) if line < len(lines) else None
        if comment:
            found[path] = comment.group(1).rstrip()
            positions[path] = (line + 1, column + comment.start(1) + 1)
    return found
