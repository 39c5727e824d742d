"""Webhook workers that only listen: the primary `hearth run --webhook` registers the URL once."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from telegram.ext import Application

if TYPE_CHECKING:
    from bot.telegram.runner import Webhook

log = logging.getLogger(__name__)


async def listen_only(
    application: Application,  # type: ignore[type-arg]
    webhook: Webhook,
    stop: asyncio.Event,
) -> None:
    """Serve the webhook path on this worker's port without calling setWebhook.

    Several workers sit behind one reverse proxy; the primary registered the public URL
    and the secret. A listening worker never touches Telegram's webhook settings, so
    starting, restarting or stopping it cannot redirect or drop the others' updates. Each
    request is checked against the shared secret (403 otherwise) by PTB's own handler,
    the same code `Updater.start_webhook` uses.
    """
    # PTB's webhook server without its bootstrap (which always calls setWebhook). The
    # module is internal to python-telegram-bot, pinned <23 in pyproject; the e2e test
    # tests/e2e/test_webhook_workers.py fails loudly if it moves.
    from telegram.ext._utils.webhookhandler import WebhookAppClass, WebhookServer

    app = WebhookAppClass(
        "/" + webhook.path, application.bot, application.update_queue, webhook.secret_token
    )
    server = WebhookServer(webhook.listen, webhook.port, app, None)
    ready = asyncio.Event()
    serving = asyncio.create_task(server.serve_forever(ready=ready))
    try:
        await ready.wait()
        await application.start()
        log.info(
            "@%s is listening on %s:%s/%s (webhook worker; another process sets the webhook)",
            application.bot.username, webhook.listen, webhook.port, webhook.path,
        )
        await stop.wait()
    finally:
        # Stop taking requests first; the runner then lets updates in hand finish.
        await server.shutdown()
        await serving
