"""What flows needs of a language's typed words; the words themselves are locale data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Vocabulary(Protocol):
    """The words a person may type in one language, folded (messages/words.py loads them).

    A protocol, so that flows/ stays free of messages/: the bot passes
    `messages.words.typed_words(locale)`, which has these fields.
    """

    @property
    def yes(self) -> frozenset[str]: ...
    @property
    def no(self) -> frozenset[str]: ...
    @property
    def unknown(self) -> frozenset[str]: ...
    @property
    def none(self) -> frozenset[str]: ...
    @property
    def ignore(self) -> frozenset[str]: ...
    @property
    def joiners(self) -> frozenset[str]: ...
    @property
    def numbers(self) -> Mapping[str, float]: ...
    @property
    def ordinals(self) -> Mapping[str, int]: ...
    @property
    def hedges(self) -> frozenset[str]: ...
    @property
    def years(self) -> frozenset[str]: ...
    @property
    def months(self) -> frozenset[str]: ...
    @property
    def weeks(self) -> frozenset[str]: ...
    @property
    def filler(self) -> frozenset[str]: ...
    @property
    def age_phrases(self) -> Mapping[str, tuple[int, int]]: ...
    @property
    def school_years(self) -> Mapping[str, tuple[int, int]]: ...
    @property
    def ago(self) -> Mapping[str, tuple[int, int]]: ...
    @property
    def ago_words(self) -> frozenset[str]: ...
    @property
    def whole_life(self) -> frozenset[str]: ...
    @property
    def since(self) -> frozenset[str]: ...


def bundled_vocabulary(locale: str) -> Vocabulary:
    """The bundled words of `locale` (and of every other language), for a caller passing none.

    The one place flows reaches into messages/: an import inside the function, so that
    loading flows never loads messages. Callers in bot/ pass `words=` themselves; once
    they all do, this fallback can go.
    """
    from messages.words import typed_words

    return typed_words(locale)
