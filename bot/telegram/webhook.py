"""Where Telegram posts updates and where this process listens: checked when built."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.usage import told


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates and where this process listens for them."""

    url: str
    listen: str = "127.0.0.1"
    port: int = 8443
    secret_token: str | None = None
    #: False for the extra workers behind one proxy: they listen, the primary registers.
    register: bool = True

    def __post_init__(self) -> None:
        if not self.url.startswith("https://"):
            raise ValueError(told("webhook_https", got=self.url))
        if not self.register and not self.secret_token:
            # A worker that only listens must refuse posts that did not come from Telegram.
            raise ValueError(told("listen_only_needs_secret"))

    @property
    def path(self) -> str:
        """The local path to serve: the URL's own path, so a reverse proxy can pass it on."""
        return urlsplit(self.url).path.lstrip("/")
