"""The one jinja2 Environment every user-facing sentence is rendered with."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    select_autoescape,
)

#: Locales with a folder of templates under messages/.
LOCALES = ("en", "es")
#: What a person sees while a text has no translation yet (the parity test forbids that).
FALLBACK = "en"
#: Where a message is read: its verbs differ ("tap" a button in Telegram, "type its number"
#: in a terminal). Templates see it as the variable `channel`.
CHANNELS = ("telegram", "console", "web")
DEFAULT_CHANNEL = "telegram"


#: Render from another copy of the templates instead: only for tests/tools/wording_check.py,
#: which proves that no test depends on a sentence's wording. Read once, when the
#: Environment is built; deployments never set it.
MESSAGES_DIR_ENV = "HEARTH_MESSAGES_DIR"


def messages_dir() -> Path:
    """Where the templates live: inside the installed package, unless HEARTH_MESSAGES_DIR."""
    override = os.environ.get(MESSAGES_DIR_ENV)
    return Path(override) if override else Path(str(resources.files("messages")))


def _bytecode_cache() -> BytecodeCache | None:
    """jinja2's compiled templates kept between runs (its per-user 0700 temp folder).

    Compiling the reply templates is most of `hearth chat`'s time to its first question
    (~100 ms of ~700); a cached one loads in about a millisecond. Only template code is
    kept there (keyed by the template's checksum), never anything a person wrote. Without
    a safe folder the templates are compiled as before.
    """
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Build the Environment once: autoescape for HTML, strict about undefined values."""
    env = Environment(
        loader=FileSystemLoader(messages_dir()),
        autoescape=select_autoescape(["html", "htm", "html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates ship with the code: no file-timestamp check on every message.
        auto_reload=False,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["plural"] = _plural
    env.filters["number"] = format_number
    env.filters["date"] = format_day
    return env


def format_number(value: float, locale: str) -> str:
    """A number as written in the locale: 1.5 in English, 1,5 in Spanish."""
    from babel.numbers import format_decimal  # babel loads on first use (~10 ms at start-up)

    return str(format_decimal(value, locale=locale))


def format_day(value: date, locale: str) -> str:
    """A date written out for the locale ("25 Nov 2026", "25 nov 2026")."""
    from babel.dates import format_date

    return str(format_date(value, format="medium", locale=locale))


@lru_cache(maxsize=1)
def document_environment() -> Environment:
    """The same Environment for whole documents (reports) written without block trimming."""
    # Its own compilation (other options, same file names): never the shared cache's.
    return environment().overlay(trim_blocks=False, lstrip_blocks=False, bytecode_cache=None)


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def template(locale: str, name: str) -> Template:
    """`messages/<locale>/<name>`, or the English one while a translation is missing."""
    env = environment()
    if locale in LOCALES:
        try:
            return env.get_template(f"{locale}/{name}")
        except TemplateNotFound:
            pass
    return env.get_template(f"{FALLBACK}/{name}")


def render(locale: str, name: str, **context: Any) -> str:
    """Render `messages/<locale>/<name>` (falling back to English)."""
    return template(locale, name).render(**context).strip()


#: The channel of the replies being rendered now (set around one outcome's rendering).
_CHANNEL: ContextVar[str] = ContextVar("hearth_channel", default=DEFAULT_CHANNEL)


@contextmanager
def speaking_in(channel: str) -> Iterator[None]:
    """Render the messages inside this block with `channel`'s verbs."""
    token = _CHANNEL.set(channel if channel in CHANNELS else DEFAULT_CHANNEL)
    try:
        yield
    finally:
        _CHANNEL.reset(token)


def current_channel() -> str:
    """The channel whose verbs messages are rendered with now (see `speaking_in`)."""
    return _CHANNEL.get()


@lru_cache(maxsize=512)
def _module(locale: str, library: str, channel: str) -> Any:
    """A library's macros, built once per channel (they read `channel` for their verbs)."""
    return template(locale, library).make_module({"channel": channel})


def macro(locale: str, library: str, name: str, channel: str | None = None) -> Any:
    """A macro from a template library, e.g. `macro("en", "replies.j2", "paused")`.

    Its verbs follow `channel`, by default the one set by `speaking_in`.
    """
    channel = channel if channel in CHANNELS else _CHANNEL.get()
    module = _module(locale if locale in LOCALES else FALLBACK, library, channel)
    if not hasattr(module, name):
        module = _module(FALLBACK, library, channel)
    if not hasattr(module, name):
        raise KeyError(f"messages/{locale}/{library} has no message '{name}'")
    return getattr(module, name)


def say(locale: str, library: str, name: str, channel: str | None = None, /,
        **params: Any) -> str:
    """One message as plain text: the macro rendered with `params`, its edges trimmed.
    (Positional-only, so a message may take a parameter called `name` or `locale`.)"""
    return str(macro(locale, library, name, channel)(**params)).strip()


def has_macro(locale: str, library: str, name: str) -> bool:
    """Whether a template library defines this message."""
    env = environment()
    return hasattr(env.get_template(f"{locale}/{library}").module, name)
