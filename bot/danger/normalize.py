"""From a typed message to sentences of tokens: folding, contractions, misspellings (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA
from rapidfuzz.process import extractOne

from bot.danger.context import Token

_MARKS = re.compile(r"[\u0300-\u036f]")
# "he's" -> "hes", "don't" -> "dont": the contraction table then expands the joined form,
# which is also how people type them without the apostrophe.
_APOSTROPHES = re.compile(r"['’`´‘]")
# A sentence ends at . ! ? ; : or a line break (ConText's scopes never cross one).
_SENTENCE_END = re.compile(r"[.!?;:\n\r]+")
# Words, commas (a scope terminator for some categories) and emoji (😂 reads as "lol").
_TOKEN = re.compile(r"\w+|,|[\u2600-\u27bf\U0001F300-\U0001FAFF]")
# "dieeee", "nooooo": three or more of a letter are one.
_REPEATS = re.compile(r"(\w)\1\1+")
_DOUBLES = re.compile(r"(.)\1+")
# "3yo", "18months", "2yrs": the number and its unit as two words.
_NUMBER_UNIT = re.compile(r"^(\d+)([a-z]+)$")
#: Tokens a sentence is cut into at most (scopes are windows, so a run-on message of a
#: thousand words is read as pieces of this size: the work per message stays linear).
MAX_SENTENCE = 64


def fold(text: str) -> str:
    """Lower case, no accents, no apostrophes, repeated letters collapsed."""
    folded = text.casefold()
    if not folded.isascii():  # accents and curly apostrophes; plain ASCII skips the work
        folded = _MARKS.sub("", unicodedata.normalize("NFKD", folded))
    return _REPEATS.sub(r"\1", _APOSTROPHES.sub("", folded))


def sentences(folded: str) -> list[list[str]]:
    """The folded text's sentences as lists of raw tokens, none longer than MAX_SENTENCE."""
    found = []
    for sentence in _SENTENCE_END.split(folded):
        words = _TOKEN.findall(sentence)
        if len(words) <= MAX_SENTENCE:
            if words:
                found.append(words)
            continue
        for start in range(0, len(words), MAX_SENTENCE):
            found.append(words[start : start + MAX_SENTENCE])
    return found


@dataclass
class Speller:
    """Recognises the rules' words despite typing: exact, sound-alike, then fuzzy.

    Any word of any rule is taken as typed (a set lookup). Other tokens are looked up by
    a sound-alike key among target words: doubled letters folded ("kil" = "kill") and the
    locale's spelling habits ("kiero" = "quiero" in Spanish). Only tokens of `min_length`
    or more still unknown go to rapidfuzz, and only against the words of targets that
    opt in (`fuzzy: true`: Spanish inflections and English look-alikes such as "cooking"
    and "choking" are one edit apart), with the same first letter: one edit up to 7
    letters, two from 8. Every answer is cached, so a word is looked up once per process.
    """

    words: Iterable[str]
    sound_words: Iterable[str]
    fuzzy_words: Iterable[str]
    sounds: Sequence[tuple[str, str]] = ()
    min_length: int = 5
    never: frozenset[str] = frozenset()
    _exact: frozenset[str] = field(init=False)
    _keys: dict[str, str] = field(init=False)
    _by_first: dict[str, list[str]] = field(init=False)
    _cache: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self._sounds = [(re.compile(a), b) for a, b in self.sounds]
        self._exact = frozenset(self.words)
        self._keys = {}
        for word in sorted(set(self.sound_words)):
            self._keys.setdefault(self.key(word), word)
        self._by_first = {}
        for word in sorted(set(self.fuzzy_words)):
            if len(word) >= self.min_length:
                self._by_first.setdefault(word[0], []).append(word)
        self._cache = {}

    def key(self, word: str) -> str:
        """The sound-alike key: the locale's spelling habits, then no doubled letters."""
        for pattern, replacement in self._sounds:
            word = pattern.sub(replacement, word)
        return _DOUBLES.sub(r"\1", word)

    def canon(self, token: str) -> str:
        """The rule word this token stands for (itself when none)."""
        found = self._cache.get(token)
        if found is not None:
            return found
        if len(self._cache) > 50_000:  # a flood of distinct junk must not grow memory
            self._cache.clear()
        found = self._lookup(token)
        self._cache[token] = found
        return found

    def _lookup(self, token: str) -> str:
        if token in self._exact:
            return token
        by_key = self._keys.get(self.key(token))
        if by_key is not None:
            return by_key
        if len(token) < self.min_length or token in self.never or not token.isalpha():
            return token
        edits = 1 if len(token) <= 7 else 2
        candidates = self._by_first.get(token[0], ())
        best = extractOne(token, candidates, scorer=OSA.distance, score_cutoff=edits)
        return best[0] if best else token


#: A year ("in 2019", "that was 2021"): its canonical form, so rules can say `<year>`.
YEAR = "<year>"
_YEAR = re.compile(r"^(19|20)\d\d$")


@dataclass
class Tokenizer:
    """Raw tokens to `Token`s: contractions expanded, spellings recognised.

    `joins` are word pairs typed apart that mean one word ("my self" = "myself"); a year
    is recognised as `<year>` (and is still a number).
    """

    speller: Speller
    contractions: Mapping[str, str] = field(default_factory=dict)
    joins: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._expand = {k: tuple(v.split()) for k, v in self.contractions.items()}
        self._memo: dict[str, tuple[Token, ...]] = {}
        self._joins = {tuple(k.split()): v for k, v in self.joins.items()}
        self._join_first = frozenset(k[0] for k in self._joins)

    def _joined(self, raw: Sequence[str]) -> Sequence[str]:
        if self._join_first.isdisjoint(raw):
            return raw
        out: list[str] = []
        i = 0
        while i < len(raw):
            pair = tuple(raw[i : i + 2])
            if pair in self._joins:
                out.append(self._joins[pair])
                i += 2
                continue
            out.append(raw[i])
            i += 1
        return out

    def _token(self, part: str) -> Token:
        if part[:1].isdigit() and _YEAR.match(part):
            return Token(part, YEAR)
        return Token(part, self.speller.canon(part))

    def _parts(self, word: str) -> tuple[str, ...]:
        expanded = self._expand.get(word)
        if expanded is not None:
            return expanded
        unit = _NUMBER_UNIT.match(word) if word[:1].isdigit() else None
        return unit.groups() if unit else (word,)

    def tokens(self, raw: Sequence[str]) -> list[Token]:
        out: list[Token] = []
        memo = self._memo
        for word in self._joined(raw):
            found = memo.get(word)
            if found is None:
                if len(memo) > 50_000:  # junk words must not grow memory without bound
                    memo.clear()
                found = tuple(self._token(part) for part in self._parts(word))
                memo[word] = found
            out.extend(found)
        return out
