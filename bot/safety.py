"""The safety net's matcher: which words suggest danger now, and whom to point a person to."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import yaml

from messages.render import LOCALES, messages_dir

LIBRARY = "safety.j2"

_MARKS = re.compile(r"[\u0300-\u036f]")
_NOT_WORD = re.compile(r"[^\w\s]|_")


def fold(text: str) -> str:
    """Lower case, no accents, punctuation and apostrophes as spaces ("he's" -> "he s")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join(_NOT_WORD.sub(" ", _MARKS.sub("", decomposed)).split())


def _split(text: str, separator: str) -> list[str]:
    """Split at `separator` outside parentheses, dropping empty pieces between spaces."""
    pieces, depth, current = [], 0, ""
    for char in text:
        if char == separator and depth == 0:
            pieces.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    pieces.append(current)
    return [p for p in pieces if p] if separator == " " else pieces


def _pattern(phrase: str) -> str:
    """Translate the small phrase language of safety.yaml into a regular expression.

    Every word consumes the space after it (the text is padded with one at each end), so
    optional words and nested alternatives need no special spacing.
    """
    parts: list[str] = []
    for word in _split(phrase.strip(), " "):
        optional = word.endswith("?")
        word = word.removesuffix("?")
        if word == "*":
            regex = r"\w+ "
        elif word.startswith("(") and word.endswith(")"):
            choices = _split(word[1:-1], "|")
            regex = "(?:" + "|".join(_pattern(choice) for choice in choices) + ")"
        else:
            regex = re.escape(fold(word) + " ")
        parts.append(f"(?:{regex})?" if optional else regex)
    return "".join(parts)


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str]:
    """One pattern for a list of phrases, matched on whole words of folded text."""
    body = "|".join(f"(?:{_pattern(p)})" for p in phrases)
    return re.compile(rf" (?:{body})")


@cache
def phrases_of(locale: str) -> tuple[str, ...]:
    """The phrases in messages/<locale>/safety.yaml (none if the locale has no list)."""
    path = messages_dir() / locale / "safety.yaml"
    if not path.exists():
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(str(p) for p in data.get("phrases", []))


@dataclass(frozen=True)
class SafetyNet:
    """What counts as a sign of danger now, and whom to point a person to.

    `contacts` come from the deployment (HEARTH_SAFETY_CONTACTS): a service that knows
    its country names its helplines; without them the message says only to call the
    local emergency number, because a wrong number in a crisis is worse than none.
    """

    contacts: tuple[str, ...] = ()
    locales: Sequence[str] = LOCALES
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Every locale's phrases are checked: people write in the language that comes.
        phrases = [p for locale in self.locales for p in phrases_of(locale)]
        object.__setattr__(self, "_pattern", compile_phrases(phrases))

    def in_danger(self, text: str) -> bool:
        """Whether the text matches a phrase suggesting danger now."""
        folded = fold(text)
        return bool(folded) and self._pattern.search(f" {folded} ") is not None
