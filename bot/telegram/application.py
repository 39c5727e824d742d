"""Build the python-telegram-bot Application: handlers, rate limiter, per-person ordering."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    Job,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.service import DialogueService
from bot.settings import Settings
from bot.telegram import bookclub, plan_jobs, reminders
from bot.telegram.client import AiohttpRequest
from bot.telegram.handlers import (
    Hearth,
    on_button,
    on_command,
    on_edited,
    on_error,
    on_text,
    on_unsupported,
)
from bot.telegram.ordering import PerPersonUpdateProcessor
from bot.telegram.sending import RetryPolicy, Sender
from messages.render import LOCALES, say

log = logging.getLogger(__name__)

#: The command menu, in the order Telegram shows it. Other /commands still reach the
#: service (the clinician's, for instance); this is only what the menu offers.
MENU = (
    "start", "back", "skip", "pause", "code", "continue", "review", "edit", "status", "submit",
    "language", "bookclub", "forget", "help",
)
#: In groups only the book club is at home (intake never runs there).
GROUP_MENU = ("bookclub", "help")

#: Only these updates are asked for; anything else Telegram would send is noise here.
#: MY_CHAT_MEMBER says the bot was added to or removed from a group (book clubs).
ALLOWED_UPDATES = [
    Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER
]

#: Seconds a Bot API call may wait for a free connection (PTB's default is 1).
POOL_WAIT = 5.0

_NEW = filters.UpdateType.MESSAGE
_PRIVATE = filters.ChatType.PRIVATE


class TokenMissing(ValueError):
    """No bot token in the settings."""


class HearthApplication(Application):  # type: ignore[type-arg]
    """The PTB Application, minus one set per person that would only ever grow.

    PTB notes the chat and user id of every update for its persistence, and only a
    persistence's flush empties those sets. This bot has none (the store holds all
    state), so they would gain an entry for every person who ever wrote, forever.

    `updates_request` is the getUpdates client: the Poller reads raw JSON through it.
    """

    updates_request: BaseRequest | None = None

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Job | None = None  # type: ignore[type-arg]
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


def build_application(
    service: DialogueService,
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    retry: RetryPolicy | None = None,
) -> Application:  # type: ignore[type-arg]
    """Compose the bot: the token and Bot API address from settings, plain handlers, the
    rate limiter, no persistence (the store holds every interview's state).

    `request` replaces the HTTP client for both ordinary calls and getUpdates (tests pass
    an offline one); `retry` tunes how transient send failures are retried.
    """
    if settings.telegram_token is None:
        raise TokenMissing("HEARTH_TELEGRAM_TOKEN is not set")
    builder = (
        Application.builder()
        .application_class(HearthApplication)
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_file_url)
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=settings.telegram_max_rate,
                max_retries=settings.telegram_flood_retries,
            )
        )
        .concurrent_updates(PerPersonUpdateProcessor(settings.telegram_concurrency))
    )
    # A call waits up to POOL_WAIT for one of the few connections rather than failing.
    calls = request or client(settings, connections(settings), POOL_WAIT)
    updates = request or client(settings, 1, None)
    builder = builder.request(calls).get_updates_request(updates)
    application = builder.build()
    assert isinstance(application, HearthApplication)
    application.updates_request = updates
    application.bot_data["hearth"] = Hearth(service, Sender(application.bot, retry))
    add_handlers(application)
    # Book clubs: group commands and membership changes come first (bot/telegram/bookclub.py).
    bookclub.install(application, service)
    reminders.install(application, settings.reminder_hours)
    plan_jobs.install(application)
    return application


def connections(settings: Settings) -> int:
    """Connections for replies: as set, else what serves the chosen client (settings)."""
    if settings.telegram_connections is not None:
        return settings.telegram_connections
    return 8 if settings.telegram_client == "httpx" else 32


def client(settings: Settings, connections: int, pool_wait: float | None) -> BaseRequest:
    """The Bot API's HTTP client that `settings` name, with `connections` connections."""
    if settings.telegram_client == "httpx":
        if pool_wait is None:
            return HTTPXRequest(connection_pool_size=connections)
        return HTTPXRequest(connection_pool_size=connections, pool_timeout=pool_wait)
    if pool_wait is None:
        return AiohttpRequest(connections)
    return AiohttpRequest(connections, pool_timeout=pool_wait)


def add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    """Register the handlers; the first that matches an update takes it."""
    application.add_handlers(
        [
            CallbackQueryHandler(on_button),
            # Groups reach the service only through commands, which it refuses politely;
            # ordinary group talk is none of our business.
            MessageHandler(_NEW & filters.COMMAND, on_command),
            MessageHandler(_NEW & _PRIVATE & filters.TEXT, on_text),
            MessageHandler(_NEW & _PRIVATE & ~filters.StatusUpdate.ALL, on_unsupported),
            MessageHandler(filters.UpdateType.EDITED_MESSAGE & _PRIVATE, on_edited),
        ]
    )
    application.add_error_handler(on_error)


def menu(locale: str = "en", names: tuple[str, ...] = MENU) -> list[BotCommand]:
    """The command menu with its descriptions from messages/<locale>/telegram.j2."""
    return [
        BotCommand(name, say(locale, "telegram.j2", f"command_{name}"))
        for name in names
    ]


async def publish_commands(bot: Bot) -> bool:
    """Set the menu Telegram shows beside the text box, in every language Hearth speaks
    (Telegram picks by the person's app language; English is the default for the rest).
    A failure is logged, not fatal: the commands work without a menu.
    """
    try:
        for locale in LOCALES:
            code = None if locale == "en" else locale
            await bot.set_my_commands(menu(locale), language_code=code)
            await bot.set_my_commands(
                menu(locale, GROUP_MENU), scope=BotCommandScopeAllGroupChats(), language_code=code
            )
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", exc.message)
        return False
    return True
