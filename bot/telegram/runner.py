"""Serve the bot until stopped: long polling by default, or a webhook behind HTTPS."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import signal
from collections.abc import Iterator

from telegram.error import Conflict, InvalidToken, NetworkError
from telegram.ext import Application
from telegram.request import BaseRequest

from bot.service import DialogueService
from bot.settings import Settings
from bot.telegram.application import ALLOWED_UPDATES, build_application, publish_commands
from bot.telegram.polling import Poller
from bot.telegram.webhook import Webhook
from bot.usage import told

log = logging.getLogger(__name__)


class ServeError(Exception):
    """The bot could not start; the message is one line saying why and what to do."""


def webhooks_available() -> bool:
    """python-telegram-bot serves webhooks with tornado, an optional extra."""
    return importlib.util.find_spec("tornado") is not None


async def serve(
    service: DialogueService,
    settings: Settings,
    webhook: Webhook | None = None,
    stop: asyncio.Event | None = None,
    request: BaseRequest | None = None,
) -> None:
    """Run until `stop` is set, or SIGINT/SIGTERM; in-flight updates finish first."""
    if webhook is not None and not webhooks_available():
        raise ServeError(told("webhook_needs_tornado"))
    stop = stop or asyncio.Event()
    application = build_application(service, settings, request=request)
    with _stopping_on_signals(stop):
        await _serve(application, settings, webhook, stop)


@contextlib.contextmanager
def _stopping_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (a graceful end) while the bot runs."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not everywhere
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _serve(
    application: Application,  # type: ignore[type-arg]
    settings: Settings,
    webhook: Webhook | None,
    stop: asyncio.Event,
) -> None:
    """Initialize, publish the menu, receive updates until `stop`, then wind down in order."""
    updater = application.updater
    assert updater is not None
    try:
        await application.initialize()
    except InvalidToken:
        raise ServeError(told("token_refused")) from None
    except NetworkError as exc:
        raise ServeError(told("api_unreachable", url=settings.telegram_base_url,
                              reason=exc.message)) from None
    try:
        await publish_commands(application.bot)
        if webhook is None:
            # Updates that arrived while the bot was down are processed, not dropped:
            # each is applied once (delivery ids), so a redelivery is harmless.
            await application.bot.delete_webhook(drop_pending_updates=False)
            await application.start()
            log.info("@%s is running (long polling)", application.bot.username)
            try:
                await Poller(application, ALLOWED_UPDATES).run(stop)
            except Conflict:
                raise ServeError(told("updates_taken")) from None
            except InvalidToken:
                raise ServeError(told("token_revoked")) from None
            return
        # Our own listener, not PTB's: Telegram's post is answered only after the update
        # was handled, and a --listen-only worker never calls setWebhook (workers.py).
        from bot.telegram.workers import serve_webhook  # tornado: only when serving one

        await serve_webhook(application, webhook, ALLOWED_UPDATES, stop)
    finally:
        # Stop fetching first, then let the updates in hand finish, then close.
        if updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
