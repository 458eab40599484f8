"""Errors a user can make, reported in plain English with where they are.

Every problem in the source is a `SourceProblem` that reads like a compiler
message: `source/venues/hotels.yaml:12:5: signs[2].text: <what> (<what to do>)`.
They are collected, not raised one by one, so a user sees every mistake at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class MaterialsError(Exception):
    """A problem the user can act on: the command line prints its message and
    exits with status 1, with no traceback."""


def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the current folder if inside it."""
    # abspath, not resolve: a symlink is named by its own path, not its target's.
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class SourceProblem:
    file: str
    line: int | None
    column: int | None
    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        if self.hint:
            text += f". {self.hint}"
        return text


class SourceError(MaterialsError):
    """The source has one or more problems; nothing may be rendered from it."""

    def __init__(self, problems: list[SourceProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class RenderError(MaterialsError):
    """One output file could not be made (a layout, font or preflight problem)."""
