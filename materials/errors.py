"""Errors a user can make, reported in plain English with where they are.

Every problem in the source is a `SourceProblem` that reads like a compiler
message: `source/venues/hotels.yaml:12:5: signs[2].text: <what> (<what to do>)`.
They are collected, not raised one by one, so a user sees every mistake at once.
"""

from __future__ import annotations

from dataclasses import dataclass


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


class SourceError(Exception):
    """The source has one or more problems; nothing may be rendered from it."""

    def __init__(self, problems: list[SourceProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class RenderError(Exception):
    """One output file could not be made (a layout, font or preflight problem)."""
