"""The words a person may type, per locale, loaded from messages/<locale>/words.yaml."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

#: libyaml's loader when PyYAML has it: the same YAML 1.1 reading, ~5x faster at start-up.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Locales with a words.yaml (the same as the template folders).
WORD_LOCALES = ("en", "es")

#: Command names a words.yaml may list (the intake's own names for them).
COMMAND_NAMES = frozenset(
    {"back", "skip", "pause", "resume", "review", "submit", "edit", "status", "language",
     "help", "quit", "code", "continue"}
)


def fold(text: str) -> str:
    """Case-folded, NFC, inner spaces collapsed, curly apostrophes straightened."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.casefold().split())


def strip_accents(text: str) -> str:
    """"atrás" -> "atras": people often type without accents on a phone."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", kept)


def _phrases(values: Any) -> frozenset[str]:
    if not isinstance(values, list):
        return frozenset()
    return frozenset(fold(str(v)) for v in values)


def _ranges(values: Any) -> dict[str, tuple[int, int]]:
    if not isinstance(values, dict):
        return {}
    return {fold(str(k)): (int(v[0]), int(v[1])) for k, v in values.items()}


@dataclass(frozen=True)
class Words:
    """One locale's typed words, folded (see `fold`)."""

    locale: str
    commands: Mapping[str, str] = field(default_factory=dict)  # word -> command name
    done: frozenset[str] = frozenset()
    yes: frozenset[str] = frozenset()
    no: frozenset[str] = frozenset()
    unknown: frozenset[str] = frozenset()
    none: frozenset[str] = frozenset()
    agree: frozenset[str] = frozenset()
    languages: Mapping[str, str] = field(default_factory=dict)  # name -> locale code
    numbers: Mapping[str, float] = field(default_factory=dict)
    ordinals: Mapping[str, int] = field(default_factory=dict)
    hedges: frozenset[str] = frozenset()
    years: frozenset[str] = frozenset()
    months: frozenset[str] = frozenset()
    weeks: frozenset[str] = frozenset()
    filler: frozenset[str] = frozenset()
    age_phrases: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    school_years: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    ago: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    ago_words: frozenset[str] = frozenset()
    whole_life: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    joiners: frozenset[str] = frozenset()
    since: frozenset[str] = frozenset()
    send: frozenset[str] = frozenset()
    erase: frozenset[str] = frozenset()
    switch_on: frozenset[str] = frozenset()
    switch_off: frozenset[str] = frozenset()
    invite_channels: Mapping[str, str] = field(default_factory=dict)  # word -> channel

    def merged(self, other: Words) -> Words:
        """These words with `other`'s added (this locale wins where both define a phrase)."""
        merged: dict[str, Any] = {"locale": self.locale}
        for name in self.__dataclass_fields__:
            if name == "locale":
                continue
            mine, theirs = getattr(self, name), getattr(other, name)
            merged[name] = (
                mine | theirs if isinstance(mine, frozenset) else {**theirs, **mine}
            )
        return Words(**merged)


#: The sections a words.yaml may have (YAML reads a bare `yes:` key as True: not allowed).
SECTIONS = frozenset(
    {"commands", "done", "yes_words", "no_words", "unknown_words", "none_words", "agree",
     "languages", "numbers", "ordinals", "hedges", "years", "months", "weeks", "filler",
     "age_phrases", "school_years", "ago", "ago_words", "whole_life", "ignore", "joiners",
     "since", "send", "erase", "switch_on", "switch_off", "invite_channels"}
)


def parse_words(locale: str, data: Mapping[str, Any]) -> Words:
    """Build `Words` from a words.yaml mapping; raise ValueError naming a bad section."""
    unknown = sorted(str(k) for k in data if k not in SECTIONS)
    if unknown:
        raise ValueError(f"words.yaml ({locale}): unknown sections {unknown}")
    commands: dict[str, str] = {}
    for name, spellings in (data.get("commands") or {}).items():
        if name not in COMMAND_NAMES:
            raise ValueError(f"words.yaml ({locale}): unknown command '{name}'")
        for word in _phrases(spellings):
            commands[word] = name
    languages = {
        fold(str(name)): str(code)
        for code, names in (data.get("languages") or {}).items()
        for name in names
    }
    numbers = {fold(str(k)): float(v) for k, v in (data.get("numbers") or {}).items()}
    ordinals = {fold(str(k)): int(v) for k, v in (data.get("ordinals") or {}).items()}
    return Words(
        locale=locale,
        commands=commands,
        done=_phrases(data.get("done")),
        yes=_phrases(data.get("yes_words")),
        no=_phrases(data.get("no_words")),
        unknown=_phrases(data.get("unknown_words")),
        none=_phrases(data.get("none_words")),
        agree=_phrases(data.get("agree")),
        languages=languages,
        numbers=numbers,
        ordinals=ordinals,
        hedges=_phrases(data.get("hedges")),
        years=_phrases(data.get("years")),
        months=_phrases(data.get("months")),
        weeks=_phrases(data.get("weeks")),
        filler=_phrases(data.get("filler")),
        age_phrases=_ranges(data.get("age_phrases")),
        school_years=_ranges(data.get("school_years")),
        ago=_ranges(data.get("ago")),
        ago_words=_phrases(data.get("ago_words")),
        whole_life=_phrases(data.get("whole_life")),
        ignore=_phrases(data.get("ignore")),
        joiners=_phrases(data.get("joiners")),
        since=_phrases(data.get("since")),
        send=_phrases(data.get("send")),
        erase=_phrases(data.get("erase")),
        switch_on=_phrases(data.get("switch_on")),
        switch_off=_phrases(data.get("switch_off")),
        invite_channels={
            fold(str(word)): str(channel)
            for channel, spellings in (data.get("invite_channels") or {}).items()
            for word in spellings
        },
    )


@cache
def locale_words(locale: str) -> Words:
    """The words of one locale's file only (English for a locale without one)."""
    if locale not in WORD_LOCALES:
        locale = WORD_LOCALES[0]
    path = resources.files("messages") / locale / "words.yaml"
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
    return parse_words(locale, data)


@cache
def typed_words(locale: str) -> Words:
    """What a person writing in `locale` may type: that locale first, then every other one.

    Commands and "don't know" work whatever language was chosen: someone who switched to
    Spanish may still type "back", and a Spanish speaker on an English menu "no sé".
    """
    words = locale_words(locale)
    for other in WORD_LOCALES:
        if other != words.locale:
            words = words.merged(locale_words(other))
    return words


def _lookup(text: str, table: Iterable[str] | Mapping[str, Any]) -> str | None:
    folded = fold(text).strip(" .!¡¿")
    for candidate in (folded, strip_accents(folded)):
        if candidate in table:
            return candidate
    return None


def command_named(text: str, locale: str = "en") -> str | None:
    """The command a typed word stands for ("atras" -> "back"), or None."""
    words = typed_words(locale)
    key = _lookup(text, words.commands)
    return words.commands[key] if key is not None else None


def invite_channel_named(text: str, locale: str = "en") -> str | None:
    """Where an invitation is answered, from a typed word ("web", "ambos" -> "both")."""
    words = typed_words(locale)
    key = _lookup(text, words.invite_channels)
    return words.invite_channels[key] if key is not None else None


def means_done(text: str, locale: str = "en") -> bool:
    """Whether the text says "finish this multiple choice" ("done", "listo")."""
    return _lookup(text, typed_words(locale).done) is not None


def means_agree(text: str, locale: str = "en") -> bool:
    """Whether the text agrees to the consent ("yes", "I agree", "acepto")."""
    return _lookup(text, typed_words(locale).agree) is not None


def language_named(text: str) -> str | None:
    """The locale a typed language name means, in any language ("inglés" -> "en")."""
    words = typed_words(WORD_LOCALES[0])
    key = _lookup(text, words.languages)
    return words.languages[key] if key is not None else None


def means_send(text: str, locale: str = "en") -> bool:
    """Whether the text asks to send the answers, at the review ("send", "enviar")."""
    return _lookup(text, typed_words(locale).send) is not None


def means_erase(text: str, locale: str = "en") -> bool:
    """Whether the text confirms erasing everything ("yes, erase", "sí, borrar")."""
    folded = text.replace("\u201c", "").replace("\u201d", "").replace('"', "").replace(",", " ")
    return _lookup(folded, typed_words(locale).erase) is not None


def switch(text: str, locale: str = "en") -> bool | None:
    """True for "on", False for "off" (in any language), None for anything else."""
    words = typed_words(locale)
    if _lookup(text, words.switch_on) is not None:
        return True
    if _lookup(text, words.switch_off) is not None:
        return False
    return None


def means_yes(text: str, locale: str = "en") -> bool:
    """Whether the text says yes ("yes", "sí", "yep"), in any language."""
    return _lookup(text, typed_words(locale).yes) is not None
