"""Match typed words to a question's options: labels, synonyms, "don't know", typos."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz import fuzz

from flows.schema import Option
from flows.vocabulary import Vocabulary

# The thresholds below were tuned on tests/unit/typed/tuning.yaml only; the held-out set
# (tests/unit/typed/heldout.yaml) measures them (tests/unit/test_typed_answers.py).

#: A score (0-100) at or above which the best option is taken without asking.
ACCEPT = 86.0
#: Below ACCEPT but at or above this, the person is asked "did you mean ...?".
SUGGEST = 62.0
#: The best option must lead the next one by this much to be taken without asking.
MARGIN = 8.0
#: Labels and synonyms in another language than the person's count a little less.
OTHER_LOCALE = 0.96
#: A piece of a label ("Very hard" of "Very hard, frightening or harmful") counts a little less.
PART = 0.97
#: At most this many options are offered in a "did you mean ...?".
MAX_CANDIDATES = 3

#: Option values that mean "I don't know" whatever their label says.
UNKNOWN_VALUES = frozenset({"unknown", "not_sure", "dont_know"})

_PUNCT = re.compile(r"[^\w\s?]+")
_SEPARATOR = re.compile(r"\s*(?:[,;:.!]|\s[-\u2013\u2014]\s?|\s\(|$)\s*")
_LABEL_PARTS = re.compile(r"[,;()/]|\bor\b|\bo\b")


@dataclass(frozen=True)
class Match:
    """The option(s) typed text points at: one when `sure`, else the best few to offer."""

    options: tuple[Option, ...]
    sure: bool
    #: What followed the answer ("yes, mum has depression" -> "mum has depression").
    note: str | None = None


@lru_cache(maxsize=4096)  # labels and synonyms recur on every answer; typed text evicts
def normalise(text: str) -> str:
    """Fold case and accents, drop apostrophes and punctuation: "Don't  KNOW!" -> "dont know"."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("\u2019", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("'", "")
    return " ".join(_PUNCT.sub(" ", plain).split())


@cache
def normal_set(phrases: frozenset[str]) -> frozenset[str]:
    """`normalise` over a set of phrases (cached: the word lists are loaded once)."""
    return frozenset(normalise(p) for p in phrases)


def _without(text: str, ignore: frozenset[str]) -> str:
    kept = [w for w in text.split() if w not in ignore]
    return " ".join(kept) if kept else text


def is_unknown_option(option: Option, words: Vocabulary) -> bool:
    """Whether choosing this option says "I don't know"."""
    if option.value in UNKNOWN_VALUES:
        return True
    unknown = normal_set(words.unknown)
    phrases = [*option.label.values(), *(w for ws in option.synonyms.values() for w in ws)]
    return any(normalise(p) in unknown for p in phrases)


def option_phrases(option: Option, locale: str) -> list[tuple[str, float]]:
    """Every way of naming the option, normalised, with the weight a match on it carries."""
    phrases: list[tuple[str, float]] = []
    for loc, label in option.label.items():
        weight = 1.0 if loc == locale else OTHER_LOCALE
        phrases.append((normalise(label), weight))
        parts = [normalise(p) for p in _LABEL_PARTS.split(label.casefold())]
        phrases.extend((p, weight * PART) for p in parts if p and len(parts) > 1)
    for loc, synonyms in option.synonyms.items():
        weight = 1.0 if loc == locale else OTHER_LOCALE
        phrases.extend((normalise(s), weight) for s in synonyms)
    phrases.append((normalise(option.value.replace("_", " ")), OTHER_LOCALE))
    return [(p, w) for p, w in phrases if p]


def similarity(text: str, phrase: str) -> float:
    """How well typed text names a phrase (0-100): typos, extra or missing words."""
    if text == phrase:
        return 100.0
    whole = fuzz.ratio(text, phrase)
    # token_set_ratio is 100 when one side's words are all in the other ("foster" and
    # "a foster parent"): averaged with the plain ratio, a closer length still wins.
    return max(whole, (whole + fuzz.token_set_ratio(text, phrase)) / 2)


def score_options(
    text: str, options: list[Option], locale: str, words: Vocabulary
) -> list[tuple[float, Option]]:
    """Each option's best score for the text, best first (ties keep the shown order)."""
    ignore = normal_set(words.ignore)
    typed = normalise(text)
    bare = _without(typed, ignore)
    scored: list[tuple[float, Option]] = []
    for option in options:
        best = 0.0
        for phrase, weight in option_phrases(option, locale):
            exact = 100.0 if typed == phrase else 0.0
            close = similarity(bare, _without(phrase, ignore))
            best = max(best, weight * max(exact, close))
        scored.append((best, option))
    scored.sort(key=lambda pair: -pair[0])
    return scored


def _decide(scored: list[tuple[float, Option]], note: str | None = None) -> Match | None:
    if not scored or scored[0][0] < SUGGEST:
        return None
    best = scored[0][0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if best >= ACCEPT and best - runner_up >= MARGIN:
        return Match((scored[0][1],), True, note)
    close = [option for score, option in scored if score >= max(SUGGEST, best - MARGIN)]
    return Match(tuple(close[:MAX_CANDIDATES]), False, note)


def _answer_word_option(
    typed: str, options: list[Option], words: Vocabulary
) -> tuple[Option, str] | None:
    """A yes / no / don't-know / none word starting the text, and the rest ("yes, mum ...")."""
    by_value = {o.value: o for o in options}
    unknown_option = next((o for o in options if is_unknown_option(o, words)), None)
    sets: list[tuple[frozenset[str], Option | None]] = [
        (normal_set(words.unknown), unknown_option),
        (normal_set(words.none), by_value.get("none")),
        (normal_set(words.yes), by_value.get("yes")),
        (normal_set(words.no), by_value.get("no")),
    ]
    found: tuple[int, Option] | None = None
    for phrases, option in sets:
        if option is None:
            continue
        for phrase in phrases:
            starts = typed == phrase or typed.startswith(phrase + " ")
            if starts and (found is None or len(phrase) > found[0]):
                found = (len(phrase), option)
    if found is None:
        return None
    length, option = found
    return option, typed[length:].strip()


def match_option(
    text: str, options: list[Option], locale: str, words: Vocabulary
) -> Match | None:
    """The option(s) typed text means, or None when it names none of them."""
    typed = normalise(text)
    if not typed or not options:
        return None
    for option in options:
        if any(typed == phrase for phrase, _ in option_phrases(option, locale)):
            return Match((option,), True)
    answer = _answer_word_option(typed, options, words)
    if answer is not None:
        option, rest = answer
        return Match((option,), True, _note(text, rest))
    # "Very hard, she was terrified": the part before the first comma may be the answer.
    head, sep, tail = _split_head(text)
    if sep and tail:
        match = _decide(score_options(head, options, locale, words), tail)
        if match is not None and match.sure:
            return match
    if len(typed) < 3:
        return None  # two letters are too few to guess from
    return _decide(score_options(text, options, locale, words))


def _split_head(text: str) -> tuple[str, str, str]:
    match = _SEPARATOR.search(text.strip())
    if match is None or match.start() == 0 or match.end() >= len(text.strip()):
        return text, "", ""
    stripped = text.strip()
    return stripped[: match.start()], stripped[match.start() : match.end()], stripped[match.end() :]


def _note(original: str, rest: str) -> str | None:
    """The comment after an answer word, as typed (case and accents kept)."""
    if not rest:
        return None
    words = original.split()
    count = len(rest.split())
    kept = " ".join(words[len(words) - count :]) if count <= len(words) else rest
    return kept.strip(" ,;:.-\u2013\u2014") or None
