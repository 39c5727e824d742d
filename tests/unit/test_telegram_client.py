"""The Bot API's HTTP client (bot/telegram/client.py) against a Bot API on loopback.

What PTB and the Sender rely on: the call reaches the server with its fields (form-encoded,
or multipart with the file's name for uploads), PTB reads the answer, a slow server is a
TimedOut and an unreachable one a NetworkError (the Sender retries both), and the client
is the one a default `build_application` uses.
"""

from __future__ import annotations

import asyncio
import json
import random
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from bot.settings import load_settings
from bot.telegram.client import AiohttpRequest, form_encoded

TOKEN = "123:test-token"
TEXT = "¿Cómo está? 1+1=2 & 50% ~ 👶 a/b"
ME = {"id": 123, "is_bot": True, "first_name": "Hearth", "username": "hearth_test_bot"}


class Api:
    """A Bot API on 127.0.0.1 that keeps what each call carried."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        fields: dict[str, Any] = {}
        if request.content_type.startswith("multipart/"):
            async for part in await request.multipart():
                data = await part.read()  # type: ignore[union-attr]
                fields[part.name or ""] = (  # type: ignore[union-attr]
                    (part.filename, data) if part.filename else data.decode()  # type: ignore[union-attr]
                )
        else:
            fields = dict(await request.post())
        self.calls.append((method, fields))
        await asyncio.sleep(self.delay)
        result: Any = True
        if method == "getMe":
            result = ME
        elif method in ("sendMessage", "sendDocument"):
            result = {"message_id": 7, "date": 0, "chat": {"id": 5, "type": "private"},
                      "text": fields.get("text", "")}
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, str]]:
    server = Api()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield server, f"http://127.0.0.1:{port}/bot"
    finally:
        await runner.cleanup()


async def test_client__a_message_with_buttons__arrives_with_its_fields(
    api: tuple[Api, str],
) -> None:
    server, base = api
    bot = Bot(TOKEN, base_url=base, request=AiohttpRequest(2))
    async with bot:
        buttons = {"inline_keyboard": [[{"text": "Yes", "callback_data": "1:abc:3:q:o1"}]]}
        sent = await bot._post("sendMessage", {"chat_id": 5, "text": TEXT,
                                                "reply_markup": buttons})
    method, fields = server.calls[-1]
    assert method == "sendMessage" and sent["message_id"] == 7  # type: ignore[index]
    assert fields["chat_id"] == "5" and fields["text"] == TEXT
    assert json.loads(fields["reply_markup"]) == buttons


def test_form_encoded__the_bytes_urlencode_makes__for_any_text() -> None:
    rng = random.Random()
    alphabet = [chr(c) for c in (*range(0, 0x300), *range(0x2000, 0x2100), 0x1F476, 0xFFFD)]
    for _ in range(300):
        fields = {"".join(rng.choices(alphabet, k=rng.randint(0, 8))):
                  "".join(rng.choices(alphabet, k=rng.randint(0, 80))) for _ in range(3)}
        assert form_encoded(fields) == urllib.parse.urlencode(fields).encode()


async def test_client__an_upload__arrives_as_multipart_with_its_name(
    api: tuple[Api, str],
) -> None:
    server, base = api
    bot = Bot(TOKEN, base_url=base, request=AiohttpRequest(2))
    async with bot:
        await bot.send_document(5, InputFile(b"%PDF-1.7 report", filename="report.pdf"),
                                caption="Mia")
    method, fields = server.calls[-1]
    assert method == "sendDocument" and fields["caption"] == "Mia"
    assert fields["document"] == ("report.pdf", b"%PDF-1.7 report")


async def test_client__server_slower_than_the_read_timeout__timed_out(
    api: tuple[Api, str],
) -> None:
    server, base = api
    server.delay = 1.0
    bot = Bot(TOKEN, base_url=base, request=AiohttpRequest(2, read_timeout=0.1))
    request = bot.request
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await bot._post("sendMessage", {"chat_id": 5, "text": "hi"})
    finally:
        await request.shutdown()


async def test_client__nobody_listening__network_error() -> None:
    request = AiohttpRequest(1, connect_timeout=1.0)
    bot = Bot(TOKEN, base_url="http://127.0.0.1:9/bot", request=request)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await bot._post("sendMessage", {"chat_id": 5, "text": "hi"})
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


def test_build_application__default_client__aiohttp_and_httpx_on_request() -> None:
    from bot.telegram.application import client, connections

    assert connections(load_settings(telegram_token=TOKEN)) == 32
    assert connections(load_settings(telegram_token=TOKEN, telegram_client="httpx")) == 8
    assert connections(load_settings(telegram_token=TOKEN, telegram_connections=5)) == 5

    settings = load_settings(telegram_token=TOKEN)
    assert isinstance(client(settings, 8, 5.0), AiohttpRequest)
    chosen = load_settings(telegram_token=TOKEN, telegram_client="httpx")
    assert type(client(chosen, 8, 5.0)).__name__ == "HTTPXRequest"


def test_client__proxy_from_the_environment__used_unless_the_host_is_excluded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "bot-api.internal")
    request = AiohttpRequest(1)
    assert request.proxy("https://api.telegram.org/bot1/getMe") == "http://proxy.internal:3128"
    assert request.proxy("https://bot-api.internal/bot1/getMe") is None
    assert AiohttpRequest(1).proxy("http://127.0.0.1:8081/bot1/getMe") in (None, "")
