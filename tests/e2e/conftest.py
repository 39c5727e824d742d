"""Fixtures for the end-to-end tests: browsers on the clinician's web workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bot.service import DialogueService
from bot.web.app import WebConfig, create_app

Browser = Callable[[], httpx.AsyncClient]


@pytest.fixture
async def browser(service: DialogueService) -> AsyncIterator[Browser]:
    """Opens browsers (own cookies) on one app over the service; all closed after the test."""
    clients: list[httpx.AsyncClient] = []
    app = create_app(service, WebConfig(rate_per_minute=10_000, link_rate_per_minute=10_000))

    def open_browser() -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app, client=("127.0.0.1", 50000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        clients.append(client)
        return client

    yield open_browser
    for client in clients:
        await client.aclose()
