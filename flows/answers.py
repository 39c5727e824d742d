"""Turn what a person typed or tapped into a typed answer value, or say what was expected."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flows.engine import AgeValue, Value
from flows.schema import Item, ItemType, Option

#: Longest free-text answer kept when an item sets no `max_length`.
DEFAULT_MAX_TEXT = 2000
#: Ages are asked for children and young people: up to 18 years (216 months) plus slack.
MAX_AGE_MONTHS = 25 * 12


@dataclass(frozen=True)
class Invalid:
    """Why an answer was not accepted: a code from the message catalogue and its values."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


# -- words per locale (data, not code) -------------------------------------------------

NUMBER_WORDS: dict[str, dict[str, float]] = {
    "en": {
        "zero": 0,
        "a": 1,
        "an": 1,
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
        "ten": 10,
        "eleven": 11,
        "twelve": 12,
        "thirteen": 13,
        "fourteen": 14,
        "fifteen": 15,
        "sixteen": 16,
        "seventeen": 17,
        "eighteen": 18,
        "half": 0.5,
    },
    "es": {
        "cero": 0,
        "un": 1,
        "uno": 1,
        "una": 1,
        "dos": 2,
        "tres": 3,
        "cuatro": 4,
        "cinco": 5,
        "seis": 6,
        "siete": 7,
        "ocho": 8,
        "nueve": 9,
        "diez": 10,
        "once": 11,
        "doce": 12,
        "trece": 13,
        "catorce": 14,
        "quince": 15,
        "dieciséis": 16,
        "diecisiete": 17,
        "dieciocho": 18,
        "medio": 0.5,
    },
}
YEAR_UNITS = {"y", "yr", "yrs", "year", "years", "yo", "a", "año", "años", "ano", "anos"}
MONTH_UNITS = {"m", "mo", "mos", "mth", "mths", "month", "months", "mes", "meses"}
WEEK_UNITS = {"w", "wk", "wks", "week", "weeks", "semana", "semanas"}
HEDGES = {
    "about",
    "around",
    "roughly",
    "approximately",
    "approx",
    "maybe",
    "almost",
    "nearly",
    "~",
    "circa",
    "ca",
    "like",
    "probably",
    "unos",
    "unas",
    "casi",
    "aproximadamente",
    "alrededor",
    "de",
    "más",
    "mas",
    "o",
    "menos",
    "cerca",
}
#: Plain-language ages, stored as a range of months with the words kept.
AGE_PHRASES: dict[str, tuple[int, int]] = {
    "newborn": (0, 1),
    "recién nacido": (0, 1),
    "recien nacido": (0, 1),
    "baby": (0, 12),
    "infant": (0, 12),
    "bebé": (0, 12),
    "bebe": (0, 12),
    "toddler": (12, 36),
    "before school": (0, 59),
    "preschool": (36, 59),
    "antes de la escuela": (0, 59),
    "teen": (156, 227),
    "teenager": (156, 227),
    "adolescente": (144, 227),
    "a few months": (2, 6),
    "unos meses": (2, 6),
}
YES_WORDS = {"yes", "y", "yeah", "yep", "si", "sí", "s"}
NO_WORDS = {"no", "n", "nope"}
UNKNOWN_WORDS = {
    "dk",
    "don't know",
    "dont know",
    "not sure",
    "unknown",
    "?",
    "idk",
    "no sé",
    "no se",
    "no lo sé",
    "no lo se",
    "ns",
}

# Bidirectional overrides and isolates (U+202A-202E, U+2066-2069) go too: right-to-left
# letters stay as typed, but these invisible marks can make a saved answer read backwards
# in a clinician's report.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def clean_text(text: str) -> str:
    """Normalise typed text: NFC, control characters removed, outer space trimmed."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def parse_answer(item: Item, text: str, options: list[Option], locale: str) -> Value | Invalid:
    """Parse a typed answer for `item`; `options` are the ones enabled now, in shown order."""
    text = clean_text(text)
    if not text:
        return Invalid("empty")
    if item.type is ItemType.TEXT:
        limit = item.max_length or DEFAULT_MAX_TEXT
        if len(text) > limit:
            return Invalid("too_long", {"limit": limit, "length": len(text)})
        return text
    if len(text) > 200:
        return Invalid("too_long", {"limit": 200, "length": len(text)})
    if item.type in (ItemType.SINGLE_CHOICE, ItemType.YES_NO_UNKNOWN):
        return _parse_single(item, text, options, locale)
    if item.type is ItemType.MULTI_CHOICE:
        return _parse_multi(text, options, locale)
    if item.type is ItemType.SCALE:
        return _parse_scale(item, text, locale)
    if item.type is ItemType.NUMBER:
        return _parse_number_answer(item, text, locale)
    return parse_age(text, locale, item)


def choice_value(item: Item, value: str, options: list[Option]) -> Value | Invalid:
    """Check a tapped option value (single choice or yes/no) against the enabled options."""
    if value in {o.value for o in options}:
        return value
    return Invalid("unknown_choice", {"count": len(options)})


def _match_option(text: str, options: list[Option], locale: str) -> Option | None:
    folded = text.casefold().strip(" .!")
    if folded.isdigit():
        index = int(folded)
        return options[index - 1] if 1 <= index <= len(options) else None
    for option in options:
        label = option.label.get(locale) or next(iter(option.label.values()))
        if folded in (label.casefold(), option.value):
            return option
    return None


def _parse_single(item: Item, text: str, options: list[Option], locale: str) -> Value | Invalid:
    option = _match_option(text, options, locale)
    if option is None and item.type is ItemType.YES_NO_UNKNOWN:
        folded = text.casefold().strip(" .!")
        for value, words in (("yes", YES_WORDS), ("no", NO_WORDS), ("unknown", UNKNOWN_WORDS)):
            if folded in words and value in {o.value for o in options}:
                return value
    if option is None:
        return Invalid("choose_one", {"count": len(options)})
    return option.value


def _parse_multi(text: str, options: list[Option], locale: str) -> Value | Invalid:
    parts = [
        p
        for p in re.split(r"[,;\s]+" if re.fullmatch(r"[\d,;\s]+", text) else r"[,;]+", text)
        if p.strip()
    ]
    chosen: list[str] = []
    for part in parts:
        option = _match_option(part, options, locale)
        if option is None:
            return Invalid("choose_some", {"count": len(options), "bad": part.strip()[:40]})
        if option.value not in chosen:
            chosen.append(option.value)
    if not chosen:
        return Invalid("choose_some", {"count": len(options), "bad": ""})
    return checked_selection(chosen, options, locale)


def checked_selection(chosen: list[str], options: list[Option], locale: str) -> Value | Invalid:
    """Validate a multiple-choice selection: known values, an exclusive one stands alone."""
    by_value = {o.value: o for o in options}
    if not chosen:
        return Invalid("choose_some", {"count": len(options), "bad": ""})
    if any(v not in by_value for v in chosen):
        return Invalid("unknown_choice", {"count": len(options)})
    exclusive = [by_value[v] for v in chosen if by_value[v].exclusive]
    if exclusive and len(chosen) > 1:
        label = exclusive[0].label.get(locale) or next(iter(exclusive[0].label.values()))
        return Invalid("exclusive_choice", {"option": label})
    order = [o.value for o in options]
    return sorted(chosen, key=order.index)


def _parse_scale(item: Item, text: str, locale: str) -> Value | Invalid:
    low, high = int(item.min or 0), int(item.max or 0)
    for point, label in item.anchors.items():
        if text.casefold() == (label.get(locale) or "").casefold():
            return point
    number = parse_number(text, locale)
    if number is None or number != int(number) or not low <= number <= high:
        return Invalid("scale_out_of_range", {"min": low, "max": high})
    return int(number)


def _parse_number_answer(item: Item, text: str, locale: str) -> Value | Invalid:
    number = parse_number(text, locale)
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


def parse_number(text: str, locale: str) -> float | None:
    """Read a number written by a person: "3", "1,5", "1,000", "12 kg", "three"."""
    folded = text.casefold().strip()
    words = NUMBER_WORDS.get(locale, {}) | NUMBER_WORDS["en"]
    if folded in words:
        return float(words[folded])
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


def parse_age(text: str, locale: str, item: Item | None = None) -> Value | Invalid:
    """Read an age: "3", "3 years", "2y 6m", "18 months", "two and a half", "about 3".

    Exact ages come back as a one-month range; fuzzy ones as a wider range with the words.
    """
    raw = clean_text(text)
    folded = raw.casefold().replace("½", ".5").replace("’", "'")
    folded = re.sub(r"\band a half\b|\by medio\b", ".5", folded)
    folded = re.sub(r"\s+\.5", ".5", folded)
    phrase = folded.strip(" .!?")
    if phrase in AGE_PHRASES:
        low, high = AGE_PHRASES[phrase]
        return _bounded(AgeValue(low, high, raw), item)
    tokens = re.findall(r"\d+(?:[.,]\d+)?|[^\W\d_]+(?:\.5)?|~|\.5", folded)
    words = NUMBER_WORDS.get(locale, {}) | NUMBER_WORDS["en"]
    hedged = False
    total = 0.0
    pending: float | None = None
    saw_unit = False
    for token in tokens:
        if token == "y" and pending is None:
            continue  # Spanish "and" ("2 años y 6 meses"); after a number it means years
        if token in HEDGES or token in {"and", "old", "of", "age", "edad", "tiene", "is"}:
            hedged = hedged or token in HEDGES
            continue
        number = _token_number(token, words, locale)
        if number is not None:
            if pending is not None:
                return Invalid("not_an_age")
            pending = number
            continue
        unit = token.rstrip(".")
        if pending is None:
            if unit in YEAR_UNITS | MONTH_UNITS | WEEK_UNITS:
                pending = 1.0  # "a year", "month"
            else:
                return Invalid("not_an_age")
        if unit in YEAR_UNITS:
            total += pending * 12
        elif unit in MONTH_UNITS:
            total += pending
        elif unit in WEEK_UNITS:
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


def _token_number(token: str, words: dict[str, float], locale: str) -> float | None:
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
    return value


def decode_value(data: Any) -> Value:
    """Undo `encode_value`."""
    if isinstance(data, dict) and "age" in data:
        low, high = data["age"]
        return AgeValue(int(low), int(high), data.get("raw"))
    if isinstance(data, list):
        return [str(v) for v in data]
    if isinstance(data, str | int | float):
        return data
    raise ValueError(f"not a stored answer value: {data!r}")
