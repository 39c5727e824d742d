"""Turn what a person typed or tapped into a typed answer value, or say what was expected."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flows.engine import AgeValue, Value
from flows.match import Match, is_unknown_option, match_option, normal_set, normalise
from flows.schema import Item, ItemType, Option
from flows.timing import parse_timing, periods_for
from flows.vocabulary import Vocabulary, bundled_vocabulary

#: Longest free-text answer kept when an item sets no `max_length`.
DEFAULT_MAX_TEXT = 2000
#: Ages are asked for children and young people: up to 18 years (216 months) plus slack.
MAX_AGE_MONTHS = 25 * 12


@dataclass(frozen=True)
class Invalid:
    """Why an answer was not accepted: a code from the message catalogue and its values."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Unsure(Invalid):
    """The words could mean one of a few options: ask "did you mean ...?" before saving.

    An `Invalid` too, so a caller that only knows `Invalid` shows the question again
    with the message (codes `did_you_mean`, `which_period` in messages/*/problems.j2).
    `candidates` are option values, best first; `when` is the time the words gave (period
    questions); `chosen` the options of a multiple choice already understood.
    """

    candidates: tuple[str, ...] = ()
    when: AgeValue | None = None
    chosen: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Accepted:
    """A typed answer understood: the value to save, and any words that followed it."""

    value: Value
    #: "yes, mum has depression" -> "mum has depression" (the value is "yes").
    note: str | None = None


class Periods(list[str]):
    """The periods of life a time in words fell in, keeping the words and their range.

    A list of option values like any multiple-choice answer (conditions, scoring and
    exports see a list); `when` adds the months of age the words meant.
    """

    def __init__(self, values: list[str], when: AgeValue) -> None:
        super().__init__(values)
        self.when = when

    def __repr__(self) -> str:
        return f"Periods({list(self)!r}, {self.when!r})"


# Bidirectional overrides and isolates (U+202A-202E, U+2066-2069) go too: right-to-left
# letters stay as typed, but these invisible marks can make a saved answer read backwards
# in a clinician's report.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def clean_text(text: str) -> str:
    """Normalise typed text: NFC, control characters removed, outer space trimmed."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def read_answer(
    item: Item,
    text: str,
    options: list[Option],
    locale: str,
    *,
    words: Vocabulary | None = None,
    child_age_months: float | None = None,
) -> Accepted | Invalid:
    """Read a typed answer for `item`; `options` are the ones enabled now, in shown order.

    Returns the value with any comment that followed it, an `Unsure` when the words fit
    a few options (ask which), or an `Invalid` saying what was expected. The child's age
    (months) lets "last summer" or "since she was a baby" be placed in a period of life.
    """
    words = words or bundled_vocabulary(locale)
    text = clean_text(text)
    if not text:
        return Invalid("empty")
    if item.type is ItemType.TEXT:
        limit = item.max_length or DEFAULT_MAX_TEXT
        if len(text) > limit:
            return Invalid("too_long", {"limit": limit, "length": len(text)})
        return Accepted(text)
    if len(text) > 200:
        return Invalid("too_long", {"limit": 200, "length": len(text)})
    if item.type in (ItemType.SINGLE_CHOICE, ItemType.YES_NO_UNKNOWN):
        return _parse_single(text, options, locale, words, child_age_months)
    if item.type is ItemType.MULTI_CHOICE:
        return _parse_multi(text, options, locale, words, child_age_months)
    value: Value | Invalid
    if item.type is ItemType.SCALE:
        value = _parse_scale(item, text, locale, words)
    elif item.type is ItemType.NUMBER:
        value = _parse_number_answer(item, text, locale, words)
    else:
        value = parse_age(text, locale, item, words=words)
    return value if isinstance(value, Invalid) else Accepted(value)


def parse_answer(
    item: Item,
    text: str,
    options: list[Option],
    locale: str,
    *,
    words: Vocabulary | None = None,
    child_age_months: float | None = None,
) -> Value | Invalid:
    """`read_answer` without the comment: the value, or why not (an `Unsure` is an `Invalid`)."""
    result = read_answer(
        item, text, options, locale, words=words, child_age_months=child_age_months
    )
    return result.value if isinstance(result, Accepted) else result


def choice_value(item: Item, value: str, options: list[Option]) -> Value | Invalid:
    """Check a tapped option value (single choice or yes/no) against the enabled options."""
    if value in {o.value for o in options}:
        return value
    return Invalid("unknown_choice", {"count": len(options)})


def confirmed(unsure: Unsure, value: str, item: Item) -> Value:
    """The answer to save once the person picked `value` from an `Unsure`'s candidates.

    A period question keeps the time in words ("about 1" -> infancy, with 10-14 months);
    a multiple choice keeps the options already understood beside the picked one.
    """
    if item.type is ItemType.SCALE:
        return int(value)  # a scale's candidates are its points, "0" to "4"
    if item.type is not ItemType.MULTI_CHOICE:
        return value
    chosen = [*unsure.chosen, *([] if value in unsure.chosen else [value])]
    return Periods(chosen, unsure.when) if unsure.when is not None else chosen


def _label(option: Option, locale: str) -> str:
    return option.label.get(locale) or next(iter(option.label.values()))


def _by_index(text: str, options: list[Option]) -> Option | bool | None:
    """A number typed for an option: the option, None if out of range, False if no number."""
    folded = text.strip(" .!)")
    if not folded.isdigit():
        return False
    index = int(folded)
    return options[index - 1] if 1 <= index <= len(options) else None


def _unsure(match: Match, locale: str, count: int, **extra: Any) -> Unsure:
    return Unsure(
        "did_you_mean",
        {"options": [_label(o, locale) for o in match.options], "count": count},
        candidates=tuple(o.value for o in match.options),
        **extra,
    )


def _parse_single(
    text: str,
    options: list[Option],
    locale: str,
    words: Vocabulary,
    child_age_months: float | None,
) -> Accepted | Invalid:
    indexed = _by_index(text, options)
    if isinstance(indexed, Option):
        return Accepted(indexed.value)
    if indexed is None:
        return Invalid("choose_one", {"count": len(options)})
    if any(o.months is not None for o in options):
        timed = _parse_periods(text, options, locale, words, child_age_months, multiple=False)
        if timed is not None:
            return timed
    match = match_option(text, options, locale, words)
    if match is None:
        return Invalid("choose_one", {"count": len(options)})
    if not match.sure:
        return _unsure(match, locale, len(options), note=match.note)
    return Accepted(match.options[0].value, match.note)


def _parse_periods(
    text: str,
    options: list[Option],
    locale: str,
    words: Vocabulary,
    child_age_months: float | None,
    *,
    multiple: bool,
) -> Accepted | Invalid | None:
    """A time in words on a question of periods of life; None if the words are no time."""
    if _exact_option(text, options, locale, words) is not None:
        return None  # a label or synonym typed as is: the ordinary matcher takes it

    def age(part: str) -> AgeValue | None:
        value = parse_age(part, locale, words=words)
        return value if isinstance(value, AgeValue) else None

    timing = parse_timing(text, words, child_age_months, age)
    if timing is None:
        return None
    periods = periods_for(timing, options, child_age_months)
    if not periods:
        return Invalid("period_not_found", {"words": text, "count": len(options)})
    values = [o.value for o in periods]
    if len(periods) == 1 or (timing.span and multiple):
        return Accepted(Periods(values, timing.when) if multiple else values[0])
    return Unsure(
        "which_period",
        {"options": [_label(o, locale) for o in periods], "words": text, "count": len(options)},
        candidates=tuple(values),
        when=timing.when,
    )


def _exact_option(
    text: str, options: list[Option], locale: str, words: Vocabulary
) -> Option | None:
    match = match_option(text, options, locale, words)
    typed = normalise(text)
    if match is None or not match.sure or match.note:
        return None
    option = match.options[0]
    if is_unknown_option(option, words) and typed in normal_set(words.unknown):
        return option
    names = {normalise(label) for label in option.label.values()}
    names |= {normalise(w) for ws in option.synonyms.values() for w in ws}
    return option if typed in names else None


def _parse_multi(
    text: str,
    options: list[Option],
    locale: str,
    words: Vocabulary,
    child_age_months: float | None,
) -> Accepted | Invalid:
    if re.fullmatch(r"[\d,;\s]+", text):
        chosen: list[str] = []
        for part in re.split(r"[,;\s]+", text):
            if not part:
                continue
            indexed = _by_index(part, options)
            if not isinstance(indexed, Option):
                return Invalid("choose_some", {"count": len(options), "bad": part[:40]})
            if indexed.value not in chosen:
                chosen.append(indexed.value)
        return _checked(chosen, options, locale)
    if any(o.months is not None for o in options):
        timed = _parse_periods(text, options, locale, words, child_age_months, multiple=True)
        if timed is not None:
            return timed
    whole = match_option(text, options, locale, words)
    parts = _split_choices(text, words)
    several = _all_sure(parts, options, locale, words)
    if whole is not None and whole.sure and not whole.note and not several:
        # One label may hold "and" ("Strong and steady"); several labels win only when
        # every part is one ("violence at home and neglect").
        return _checked([whole.options[0].value], options, locale)
    if len(parts) <= 1:
        return _whole_or_invalid(whole, text, options, locale)
    chosen = []
    for part in parts:
        indexed = _by_index(part, options)
        if indexed is None:
            return Invalid("choose_some", {"count": len(options), "bad": part[:40]})
        match = (
            Match((indexed,), True)
            if isinstance(indexed, Option)
            else match_option(part, options, locale, words)
        )
        if match is None or match.note:
            # "Yes, mum has depression" on a list: one answer with a comment after it.
            return _whole_or_invalid(whole, part, options, locale)
        if not match.sure:
            return _unsure(match, locale, len(options), chosen=tuple(chosen))
        if match.options[0].value not in chosen:
            chosen.append(match.options[0].value)
    return _checked(chosen, options, locale)


def _all_sure(parts: list[str], options: list[Option], locale: str, words: Vocabulary) -> bool:
    if len(parts) <= 1:
        return False
    for part in parts:
        match = match_option(part, options, locale, words)
        if match is None or not match.sure or match.note:
            return False
    return True


def _whole_or_invalid(
    whole: Match | None, bad: str, options: list[Option], locale: str
) -> Accepted | Invalid:
    if whole is not None and whole.sure:
        return _checked([whole.options[0].value], options, locale, whole.note)
    if whole is not None:
        return _unsure(whole, locale, len(options))
    return Invalid("choose_some", {"count": len(options), "bad": bad.strip()[:40]})


def _split_choices(text: str, words: Vocabulary) -> list[str]:
    """ "sleep, eating and moods" -> three parts; joiners are words of any locale."""
    joiners = "|".join(re.escape(j) for j in sorted(words.joiners, key=len, reverse=True))
    pattern = r"[,;]+" + (rf"|\s+(?:{joiners})\s+" if joiners else "")
    return [p.strip() for p in re.split(pattern, text, flags=re.IGNORECASE) if p.strip()]


def _checked(
    chosen: list[str], options: list[Option], locale: str, note: str | None = None
) -> Accepted | Invalid:
    value = checked_selection(chosen, options, locale)
    return value if isinstance(value, Invalid) else Accepted(value, note)


def checked_selection(chosen: list[str], options: list[Option], locale: str) -> Value | Invalid:
    """Validate a multiple-choice selection: known values, an exclusive one stands alone."""
    by_value = {o.value: o for o in options}
    if not chosen:
        return Invalid("choose_some", {"count": len(options), "bad": ""})
    if any(v not in by_value for v in chosen):
        return Invalid("unknown_choice", {"count": len(options)})
    exclusive = [by_value[v] for v in chosen if by_value[v].exclusive]
    if exclusive and len(chosen) > 1:
        return Invalid("exclusive_choice", {"option": _label(exclusive[0], locale)})
    order = [o.value for o in options]
    return sorted(chosen, key=order.index)


def _parse_scale(item: Item, text: str, locale: str, words: Vocabulary) -> Value | Invalid:
    low, high = int(item.min or 0), int(item.max or 0)
    number = parse_number(text, locale, words)
    if number is not None:
        if number != int(number) or not low <= number <= high:
            return Invalid("scale_out_of_range", {"min": low, "max": high})
        return int(number)
    # The anchors and the item's point_words, matched like options ("pretty easy" -> 3).
    points = sorted(set(item.anchors) | set(item.point_words))
    named = [
        Option(
            value=f"p{point}",
            label=item.anchors.get(point) or _first_words(item.point_words.get(point), point),
            synonyms=item.point_words.get(point, {}),
        )
        for point in points
        if low <= point <= high
    ]
    match = match_option(text, named, locale, words) if named else None
    if match is not None and match.sure:
        return int(match.options[0].value[1:])
    if match is not None:
        return Unsure(
            "did_you_mean",
            {"options": [_label(o, locale) for o in match.options], "count": high - low + 1},
            candidates=tuple(o.value[1:] for o in match.options),
        )
    return Invalid("scale_out_of_range", {"min": low, "max": high})


def _first_words(words: dict[str, list[str]] | None, point: int) -> dict[str, str]:
    """A scale point's name for "did you mean": its first point word, else the number."""
    named = {locale: spellings[0] for locale, spellings in (words or {}).items() if spellings}
    return named or {"en": str(point)}


def _parse_number_answer(item: Item, text: str, locale: str, words: Vocabulary) -> Value | Invalid:
    number = parse_number(text, locale, words)
    params = {"min": _plain(item.min), "max": _plain(item.max)}
    if number is None:
        return Invalid("not_a_number", params)
    if (item.min is not None and number < item.min) or (item.max is not None and number > item.max):
        return Invalid("number_out_of_range", params)
    if not item.decimals and number != int(number):
        return Invalid("not_a_whole_number", params)
    return int(number) if number == int(number) else number


def _plain(bound: float | None) -> int | float | None:
    if bound is None:
        return None
    return int(bound) if bound == int(bound) else bound


_NUMBER = re.compile(r"^[^\d\-+]*?([-+]?\d[\d.,\s]*\d|[-+]?\d)\s*([^\d\s]*)\s*$")


def parse_number(text: str, locale: str, words: Vocabulary | None = None) -> float | None:
    """Read a number written by a person: "3", "1,5", "1,000", "12 kg", "three", "none"."""
    folded = text.casefold().strip(" .!")
    numbers = (words or bundled_vocabulary(locale)).numbers
    for candidate in (folded, normalise(folded)):
        if candidate in numbers:
            return float(numbers[candidate])
    match = _NUMBER.match(folded)
    if not match:
        return None
    digits = match.group(1).replace(" ", "")
    digits = _normalise_separators(digits, locale)
    try:
        return float(digits)
    except ValueError:
        return None


def _normalise_separators(digits: str, locale: str) -> str:
    comma, dot = digits.count(","), digits.count(".")
    if comma and dot:
        # Whichever comes last is the decimal mark: "1,234.5" or "1.234,5".
        if digits.rfind(",") > digits.rfind("."):
            return digits.replace(".", "").replace(",", ".")
        return digits.replace(",", "")
    if comma:
        head, _, tail = digits.rpartition(",")
        if comma == 1 and len(tail) != 3:
            return f"{head}.{tail}"  # "1,5": a decimal comma
        if comma == 1 and locale == "es" and len(tail) == 3 and len(head) <= 3:
            return digits.replace(",", "")
        return digits.replace(",", "")  # "1,000": thousands
    if dot > 1 or (dot == 1 and locale == "es" and len(digits.rpartition(".")[2]) == 3):
        return digits.replace(".", "")  # "1.000" in Spanish
    return digits


# -- ages -------------------------------------------------------------------------------


def parse_age(
    text: str, locale: str, item: Item | None = None, *, words: Vocabulary | None = None
) -> Value | Invalid:
    """Read an age: "3", "3 years", "2y 6m", "18 months", "two and a half", "about 3".

    Exact ages come back as a one-month range; fuzzy ones as a wider range with the words.
    """
    words = words or bundled_vocabulary(locale)
    raw = clean_text(text)
    folded = raw.casefold().replace("½", ".5").replace("’", "'")
    folded = re.sub(r"\band a half\b|\by medio\b", ".5", folded)
    folded = re.sub(r"\s+\.5", ".5", folded)
    phrase = " ".join(folded.strip(" .!?").split())
    if phrase in words.age_phrases:
        low, high = words.age_phrases[phrase]
        return _bounded(AgeValue(low, high, raw), item)
    tokens = re.findall(r"\d+(?:[.,]\d+)?|[^\W\d_]+(?:\.5)?|~|\.5", folded)
    hedges = {token for hedge in words.hedges for token in hedge.split()}
    units = words.years | words.months | words.weeks
    hedged = False
    total = 0.0
    pending: float | None = None
    saw_unit = False
    for token in tokens:
        if token == "y" and pending is None:
            continue  # Spanish "and" ("2 años y 6 meses"); after a number it means years
        is_unit = pending is not None and token in units  # "2 y": years, not Spanish "and"
        if token in hedges or (token in words.filler and not is_unit):
            hedged = hedged or token in hedges
            continue
        number = _token_number(token, words.numbers, locale)
        if number is not None:
            if pending is not None:
                return Invalid("not_an_age")
            pending = number
            continue
        unit = token.rstrip(".")
        if pending is None:
            if unit in units:
                pending = 1.0  # "a year", "month"
            else:
                return Invalid("not_an_age")
        if unit in words.years:
            total += pending * 12
        elif unit in words.months:
            total += pending
        elif unit in words.weeks:
            total += pending * 12 / 52
        else:
            return Invalid("not_an_age")
        pending = None
        saw_unit = True
    if pending is not None:
        if saw_unit:
            total += pending  # "2 years 6": the trailing number is months
        elif pending <= 18:
            total += pending * 12  # a bare number is years: "3"
        else:
            return Invalid("age_unit_needed", {"number": _plain(pending)})
    elif not saw_unit:
        return Invalid("not_an_age")
    months = round(total)
    if months > MAX_AGE_MONTHS:
        return Invalid("age_out_of_range", {"min": 0, "max": MAX_AGE_MONTHS // 12})
    if hedged:
        spread = 6 if total >= 24 else 2
        return _bounded(AgeValue(max(0, months - spread), months + spread, raw), item)
    return _bounded(AgeValue(months, months), item)


def _token_number(token: str, words: Mapping[str, float], locale: str) -> float | None:
    if token == ".5":
        return 0.5
    if token.endswith(".5") and token[:-2] in words:
        return words[token[:-2]] + 0.5
    if token in words:
        return words[token]
    try:
        # "1,000 months" has a thousands comma, "2,5 years" a decimal one: as in numbers.
        return float(_normalise_separators(token, locale))
    except ValueError:
        return None


def _bounded(age: AgeValue, item: Item | None) -> Value | Invalid:
    if item is None:
        return age
    low = item.min if item.min is not None else 0
    high = item.max if item.max is not None else MAX_AGE_MONTHS
    if age.max_months < low or age.min_months > high:
        return Invalid("age_out_of_range", {"min": int(low) // 12, "max": int(high) // 12})
    return age


# -- storage form -----------------------------------------------------------------------


def encode_value(value: Value) -> Any:
    """The JSON form of a value, as stored."""
    if isinstance(value, AgeValue):
        return {"age": [value.min_months, value.max_months], "raw": value.raw}
    if isinstance(value, Periods):
        when = value.when
        return {"choices": list(value), "when": [when.min_months, when.max_months], "raw": when.raw}
    return value


def decode_value(data: Any) -> Value:
    """Undo `encode_value`."""
    if isinstance(data, dict) and "age" in data:
        low, high = data["age"]
        return AgeValue(int(low), int(high), data.get("raw"))
    if isinstance(data, dict) and "choices" in data:
        low, high = data["when"]
        when = AgeValue(int(low), int(high), data.get("raw"))
        return Periods([str(v) for v in data["choices"]], when)
    if isinstance(data, list):
        return [str(v) for v in data]
    if isinstance(data, str | int | float):
        return data
    raise ValueError(f"not a stored answer value: {data!r}")
