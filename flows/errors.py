"""The catalogue of problems a flow file can have, each located and with its fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemCode(StrEnum):
    """Stable names for flow problems: tests assert these, not retyped sentences."""

    YAML_SYNTAX = "yaml_syntax"
    INVALID_FIELD = "invalid_field"
    UNKNOWN_TYPE = "unknown_type"
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_REFERENCE = "unknown_reference"
    FORWARD_REFERENCE = "forward_reference"
    UNKNOWN_OPTION_VALUE = "unknown_option_value"
    DUPLICATE_OPTION = "duplicate_option"
    MISSING_TRANSLATION = "missing_translation"
    MISSING_OPTIONS = "missing_options"
    UNEXPECTED_OPTIONS = "unexpected_options"
    BAD_BOUNDS = "bad_bounds"
    UNKNOWN_OPTION_SET = "unknown_option_set"
    BAD_REPEAT = "bad_repeat"
    LONG_PROMPT = "long_prompt"
    WRONG_PROMPT_COUNT = "wrong_prompt_count"
    WEEK_NUMBERING = "week_numbering"
    AMBIGUOUS_SYNONYM = "ambiguous_synonym"
    UNKNOWN_LOCALE = "unknown_locale"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow file, where it is, and how to fix it."""

    code: ProblemCode
    file: str
    line: int | None
    item_id: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        item = f" item '{self.item_id}':" if self.item_id else ""
        return f"{where}:{item} {self.message}. Fix: {self.fix}"


class FlowError(Exception):
    """A flow file failed to load; `problems` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def codes(self) -> list[ProblemCode]:
        """The problem codes, in order (handy in tests)."""
        return [p.code for p in self.problems]
