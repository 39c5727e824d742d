"""When something happened, in a parent's words: a range of months of the child's age."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flows.engine import AgeValue
from flows.match import normal_set, normalise
from flows.schema import Option
from flows.vocabulary import Vocabulary

#: Reads an age from text, or None (flows.answers.parse_age with its locale bound).
AgeParser = Callable[[str], AgeValue | None]


@dataclass(frozen=True)
class Timing:
    """A time in the child's life: months of age [min, max], the words, and its kind.

    `span` is True when the words mean a stretch of time ("since he was a baby",
    "always") rather than a moment that is only known roughly ("about 1").
    """

    when: AgeValue
    span: bool = False


_NUMBER = re.compile(r"^\d+$")
_ORDINAL_SUFFIX = re.compile(r"^(\d+)(?:st|nd|rd|th|o|a|º|°)$")


def _phrase_in(
    text: str, phrases: dict[str, tuple[int, int]]
) -> tuple[str, tuple[int, int]] | None:
    """The longest listed phrase found in the text on word boundaries."""
    padded = f" {text} "
    found = [(p, r) for p, r in phrases.items() if p and f" {p} " in padded]
    return max(found, key=lambda pair: len(pair[0])) if found else None


def _has(text: str, phrases: frozenset[str]) -> str | None:
    padded = f" {text} "
    found = [p for p in phrases if p and f" {p} " in padded]
    return max(found, key=len) if found else None


def _normal_ranges(ranges: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    return {normalise(k): v for k, v in ranges.items()}


def _number(token: str, words: Vocabulary) -> int | None:
    if _NUMBER.match(token):
        return int(token)
    suffixed = _ORDINAL_SUFFIX.match(token)
    if suffixed:
        return int(suffixed.group(1))
    ordinals = {normalise(k): v for k, v in words.ordinals.items()}
    numbers = {normalise(k): v for k, v in words.numbers.items()}
    if token in ordinals:
        return ordinals[token]
    value = numbers.get(token)
    return int(value) if value is not None and value == int(value) and value > 0 else None


def _school_year(text: str, words: Vocabulary) -> tuple[int, int] | None:
    """ "in year 2", "grade 3", "second grade", "2º de primaria" -> months of age."""
    tokens = text.split()
    systems = _normal_ranges(words.school_years)
    for i, token in enumerate(tokens):
        if token not in systems:
            continue
        low, high = systems[token]
        neighbours = [tokens[j] for j in (i + 1, i - 1, i - 2) if 0 <= j < len(tokens)]
        for neighbour in neighbours:
            number = _number(neighbour, words)
            if number is not None and 1 <= number <= 13:
                return low + 12 * (number - 1), high + 12 * (number - 1)
    return None


def parse_timing(
    text: str,
    words: Vocabulary,
    child_age_months: float | None,
    age_parser: AgeParser,
) -> Timing | None:
    """Read when something happened; None when the words say no time we know.

    Times counted back from now ("last summer", "2 years ago") and stretches up to now
    ("since he was a baby", "always") need the child's age; without it they read as None.
    """
    raw = text.strip()
    typed = normalise(raw)
    if not typed:
        return None
    age = int(child_age_months) if child_age_months is not None else None

    if _has(typed, _normal_set(words.whole_life)):
        return None if age is None else Timing(AgeValue(0, age, raw), span=True)

    since = _has(typed, _normal_set(words.since))
    if since and typed.startswith(since + " "):
        start = parse_timing(typed[len(since) :], words, age, age_parser)
        if start is None or age is None:
            return None
        return Timing(AgeValue(start.when.min_months, age, raw), span=True)

    ago_phrase = _phrase_in(typed, _normal_ranges(words.ago))
    if ago_phrase is not None:
        if age is None:
            return None
        back_low, back_high = ago_phrase[1]
        return _before_now(age, back_low, back_high, raw)

    ago_word = _has(typed, _normal_set(words.ago_words))
    if ago_word is not None:
        rest = " ".join(w for w in typed.split() if w != ago_word)
        back = age_parser(rest)
        if back is None or age is None:
            return None
        # "a year ago" is seldom to the month: give it a few months either side.
        slack = 0 if not back.exact else (3 if back.min_months >= 12 else 1)
        return _before_now(age, back.min_months - slack, back.max_months + slack, raw)

    school = _school_year(typed, words)
    if school is not None:
        return Timing(AgeValue(school[0], school[1], raw))

    phrase = _phrase_in(typed, _normal_ranges(words.age_phrases))
    if phrase is not None:
        return Timing(AgeValue(phrase[1][0], phrase[1][1], raw))

    filler = _normal_set(words.filler)
    rest = " ".join(w for w in typed.split() if w not in filler)
    when = age_parser(rest) if rest else None
    if when is None:
        return None
    low, high = when.min_months, when.max_months
    units = _normal_set(words.months | words.weeks)
    if when.exact and not any(w in units for w in rest.split()):
        high = low + 11  # "at 3" is any time while they were three
    return Timing(AgeValue(low, high, raw))


def _before_now(age: int, back_low: int, back_high: int, raw: str) -> Timing | None:
    low, high = age - max(back_low, back_high), age - min(back_low, back_high)
    if high < 0:
        return None
    return Timing(AgeValue(max(0, low), high, raw))


def _normal_set(phrases: frozenset[str]) -> frozenset[str]:
    return normal_set(phrases)


def periods_for(
    timing: Timing, options: list[Option], child_age_months: float | None
) -> list[Option]:
    """The period options a time falls in, in shown order (clipped to the child's age)."""
    low, high = timing.when.min_months, timing.when.max_months
    if child_age_months is not None:
        high = min(high, int(child_age_months))
    if low > high:
        return []
    return [
        option
        for option in options
        if option.months is not None and low < option.months[1] and high >= option.months[0]
    ]
