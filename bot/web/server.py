"""Serve the web app with uvicorn: on its own (`hearth web`) or beside the Telegram bot."""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn

from bot.service import DialogueService
from bot.settings import Settings
from bot.web.app import WebConfig, create_app
from bot.web.inbox_jobs import run_until


def server(service: DialogueService, settings: Settings, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the web app; `serve()` it as a task in the running loop."""
    config = uvicorn.Config(
        create_app(service, WebConfig.from_settings(settings)),
        host=host,
        port=port,
        # Our own access log (bot/web/middleware.py) redacts invitation codes; uvicorn's
        # would print every path as it came. X-Forwarded-For is read only from the
        # proxies in HEARTH_TRUSTED_PROXIES (bot/web/security.py), not by uvicorn.
        access_log=False,
        proxy_headers=False,
        server_header=False,
        lifespan="off",
        log_config=None,
    )
    return uvicorn.Server(config)


async def serve_web(
    service: DialogueService, settings: Settings, host: str, port: int,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until `stop` is set (or the server is told to exit); in-flight requests finish.

    The web families' scheduler (bot/web/inbox_jobs.py) runs beside it, here only: in
    `hearth run --web` too it runs once, the Telegram job sending to Telegram's families.
    """
    web = server(service, settings, host, port)
    ended = asyncio.Event()
    jobs = asyncio.create_task(run_until(service, ended, settings.web_plan_check_seconds))
    try:
        if stop is None:
            await web.serve()
            return
        task = asyncio.create_task(web.serve())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        web.should_exit = True
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        stop.set()  # the server ended on its own (a signal it caught): the bot stops too
    finally:
        ended.set()
        with contextlib.suppress(asyncio.CancelledError):
            await jobs
