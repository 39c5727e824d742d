"""Thin ASGI wrappers around every response: security headers and our own access log."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.security import SECURITY_HEADERS

#: Uvicorn's own access log is off: it would print invitation codes (/start/<code>).
access_log = logging.getLogger("hearth.web.access")
_SECRET_PATHS = re.compile(r"^/(start|back|clinic/signin)/[^/]*")


def redacted(path: str) -> str:
    """A path as logged: an invitation code or a sign-in link never reaches a log."""
    return _SECRET_PATHS.sub(lambda m: f"/{m.group(1)}/[code]", path)


class Guard:
    """Adds the security headers to every response and logs it without secrets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in names)
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_guarded)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s %.1fms", scope["method"], redacted(scope["path"]),
                    status["code"], (time.perf_counter() - started) * 1000,
                )
