"""Webhook serving for one or several workers: Telegram's post is answered only once handled."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApp
from tornado.web import RequestHandler

from bot.telegram.webhook import Webhook

log = logging.getLogger(__name__)

#: Seconds a stopping worker waits for the updates it is handling before it closes.
DRAIN_SECONDS = 30.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookListener:
    """Serves the webhook path and answers each post after its update was handled.

    PTB's webhook server answers 200 as soon as an update is queued, so a worker killed
    with updates in hand loses them. Here the 200 goes back only after the handlers
    returned (through the Application's update processor, so one person's updates keep
    their order): a worker that dies mid-way leaves Telegram without an answer, Telegram
    posts the update again (through the proxy, to a live worker), and the store's
    delivery record makes the repeat change nothing. A post without the right secret
    gets 403, a body that is not an update 400.
    """

    def __init__(self, application: Application, webhook: Webhook) -> None:  # type: ignore[type-arg]
        self.application = application
        self.webhook = webhook
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._server: HTTPServer | None = None

    async def start(self) -> None:
        """Listen on the worker's address and port (serving the URL's path)."""
        app = TornadoApp(
            [("/" + self.webhook.path, _PostHandler, {"listener": self})],
            log_function=_access_log,
        )
        self._server = HTTPServer(app, xheaders=True)
        self._server.listen(self.webhook.port, self.webhook.listen)

    async def stop(self) -> None:
        """Take no new posts, let the ones in hand finish (bounded), then close."""
        if self._server is None:
            return
        self._server.stop()
        try:
            await asyncio.wait_for(self._idle.wait(), DRAIN_SECONDS)
        except TimeoutError:
            log.warning("stopping with %d updates still in hand (Telegram will resend them)",
                        self.in_flight)
        await self._server.close_all_connections()
        self._server = None

    def authorised(self, header: str | None) -> bool:
        secret = self.webhook.secret_token
        if secret is None:
            return True
        return header is not None and hmac.compare_digest(header.encode(), secret.encode())

    async def handle(self, update: Update) -> None:
        self.in_flight += 1
        self._idle.clear()
        try:
            application = self.application
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()


class _PostHandler(RequestHandler):
    """One Telegram post: check the secret, parse, handle, then answer."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, listener: WebhookListener) -> None:
        self.listener = listener

    async def post(self) -> None:
        listener = self.listener
        if not listener.authorised(self.request.headers.get(SECRET_HEADER)):
            log.warning("refused a webhook post without the right secret token")
            self.send_error(403)
            return
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, listener.application.bot) if isinstance(
                data, dict) else None
        except (ValueError, TypeError, KeyError, AttributeError):
            update = None
        if update is None:
            self.send_error(400)
            return
        try:
            await listener.handle(update)
        except Exception:  # not handled: no 200, so Telegram sends it again
            log.exception("update %s not handled", update.update_id)
            self.send_error(500)
            return
        self.set_status(200)
        self.finish()

    def log_exception(self, *args: Any) -> None:
        # Errors are logged above, once, without the request body (it holds a message).
        pass


def _access_log(handler: RequestHandler) -> None:
    # One line per refused post; accepted ones only at debug (one per message otherwise).
    status = handler.get_status()
    level = logging.WARNING if status >= 400 else logging.DEBUG
    log.log(level, "%d %s %s", status, handler.request.method, handler.request.path)


async def serve_webhook(
    application: Application,  # type: ignore[type-arg]
    webhook: Webhook,
    allowed_updates: Sequence[str],
    stop: asyncio.Event,
) -> None:
    """Listen; the primary (register=True) also tells Telegram the URL and the secret.

    A `--listen-only` worker never calls setWebhook, so starting, restarting or stopping
    it cannot redirect or drop the others' updates.
    """
    listener = WebhookListener(application, webhook)
    await listener.start()
    try:
        if webhook.register:
            await application.bot.set_webhook(
                url=webhook.url,
                secret_token=webhook.secret_token,
                allowed_updates=list(allowed_updates),
            )
        await application.start()
        log.info(
            "@%s is running (webhook%s) on %s:%s/%s", application.bot.username,
            "" if webhook.register else ", listen-only worker", webhook.listen, webhook.port,
            webhook.path,
        )
        await stop.wait()
    finally:
        await listener.stop()
