"""The Telegram adapter: python-telegram-bot Application in front of the dialogue service."""

from bot.telegram.application import (
    ALLOWED_UPDATES,
    MENU,
    TokenMissing,
    build_application,
    menu,
    publish_commands,
)
from bot.telegram.handlers import CHANNEL
from bot.telegram.sending import RetryPolicy

__all__ = [
    "ALLOWED_UPDATES",
    "CHANNEL",
    "MENU",
    "RetryPolicy",
    "TokenMissing",
    "build_application",
    "menu",
    "publish_commands",
]
