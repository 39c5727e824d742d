"""The Telegram adapter's own sentences exist in every language Hearth speaks."""

from __future__ import annotations

import pytest

from bot.telegram import MENU, menu
from messages.render import LOCALES, has_macro

NOTICES = ("unsupported", "too_long", "edited", "failed")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_notice_and_command_description__in_every_locale(locale: str) -> None:
    missing = [n for n in (*NOTICES, *(f"command_{c}" for c in MENU))
               if not has_macro(locale, "telegram.j2", n)]
    assert missing == [], f"messages/{locale}/telegram.j2 lacks {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_menu__short_enough_for_telegram(locale: str) -> None:
    for command in menu(locale):
        assert command.command.islower() and 1 <= len(command.command) <= 32
        assert 1 <= len(command.description) <= 256
