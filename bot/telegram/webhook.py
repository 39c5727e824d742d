"""Where Telegram posts updates and where this process listens: checked when built."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


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
            raise ValueError(f"the webhook URL must start with https:// (got {self.url!r})")
        if not self.register and not self.secret_token:
            # A worker that only listens must refuse posts that did not come from Telegram.
            raise ValueError(
                "a listen-only webhook worker needs the secret token the primary registered "
                "(--secret-token or HEARTH_TELEGRAM_WEBHOOK_SECRET)"
            )

    @property
    def path(self) -> str:
        """The local path to serve: the URL's own path, so a reverse proxy can pass it on."""
        return urlsplit(self.url).path.lstrip("/")
