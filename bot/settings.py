"""Configuration from the environment (prefix HEARTH_), checked when it is read."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Annotated, Literal

from platformdirs import user_data_dir
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from messages.render import LOCALES
from store.cipher import check_key

_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def default_database() -> Path:
    """The embedded default: hearth.db in the user's data folder."""
    return Path(user_data_dir("hearth", appauthor=False)) / "hearth.db"


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line naming it and what it expects."""


def _contacts(value: object) -> object:
    # A JSON list, or lines separated by ";" (a phone number may contain commas).
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise ValueError('expected a JSON list like ["Helpline: 116 123"]') from None
        return [part.strip() for part in text.split(";") if part.strip()]
    return value


def _comma_separated(value: object) -> object:
    # HEARTH_ADMIN_IDS=telegram:111,222 reads as a list, not as JSON.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _admin_ids(value: list[str]) -> list[str]:
    bad = [v for v in value if len(v) > 80 or not all(c.isalnum() or c in "_-.:@" for c in v)]
    if bad:
        raise ValueError(f"expected ids like 123456789 or telegram:123456789, not {bad}")
    return value


def _networks(value: list[str]) -> list[str]:
    try:
        for network in value:
            ipaddress.ip_network(network, strict=False)
    except ValueError:
        raise ValueError(
            f"expected addresses or networks like 10.0.0.1 or 10.0.0.0/8, not {value}"
        ) from None
    return value


def _bot_username(value: str | None) -> str | None:
    name = value.strip().lstrip("@") if value else None
    if name and not (3 <= len(name) <= 64 and all(c.isalnum() or c == "_" for c in name)):
        raise ValueError("expected the bot's username, like hearth_intake_bot")
    return name or None


def _database_url(value: SecretStr | None) -> SecretStr | None:
    # The URL may hold a password: validated here, never echoed (load_settings hides it).
    url = value.get_secret_value().strip() if value is not None else ""
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError("expected a PostgreSQL URL like postgresql://hearth@127.0.0.1/hearth")
    return SecretStr(url)


class Settings(BaseSettings):
    """Everything an operator can set. Environment variables: HEARTH_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="HEARTH_", extra="ignore")

    database: Path = Field(default_factory=default_database)
    #: A PostgreSQL server instead of the SQLite file (postgresql://user:pw@host/db), for
    #: several workers sharing one database (docs/deploy.md). Unset: the SQLite file.
    database_url: Annotated[SecretStr | None, AfterValidator(_database_url)] = None
    #: PostgreSQL: connections (and threads) per process that run steps at once.
    database_pool: int = Field(default=8, ge=1, le=256)
    synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL"
    locale: str = "en"
    flow: str = "developmental_history"
    #: Operators who may run /clinician: comma-separated ids; a bare id is a Telegram user id.
    admin_ids: Annotated[
        list[str], NoDecode, BeforeValidator(_comma_separated), AfterValidator(_admin_ids)
    ] = Field(default_factory=list)
    #: The bot's username, for invitation links (https://t.me/<username>?start=<code>).
    bot_username: Annotated[str | None, AfterValidator(_bot_username)] = None
    #: How long an invitation link stays valid, in days.
    invite_days: float = Field(default=7, gt=0, le=365)
    #: The web channel's public base URL (invitation links `<url>/start/<code>`). Unset:
    #: invitations give a Telegram link only, unless a clinician asks for a web one.
    web_url: str | None = None
    telegram_token: SecretStr | None = None
    #: Seals answers at rest (Fernet key, 44 characters; `hearth keygen` makes one). Once a
    #: database was opened with a key, it refuses to start without that same key.
    data_key: SecretStr | None = None
    #: Support contacts shown at once when a message suggests someone is in danger now:
    #: a JSON list of lines, or lines separated by ";". The message always says to call
    #: the local emergency number first; these come after it.
    safety_contacts: Annotated[list[str], NoDecode, BeforeValidator(_contacts)] = Field(
        default_factory=list
    )
    #: A self-hosted Bot API server: e.g. http://localhost:8081/bot (the token is appended).
    telegram_base_url: str = "https://api.telegram.org/bot"
    #: Where files are fetched from; derived from the base URL when not set.
    telegram_base_file_url: str | None = None
    #: Updates processed at once (different people; one person's always one at a time).
    telegram_concurrency: int = Field(default=64, ge=1, le=4096)
    #: HTTP connections to the Bot API for replies (getUpdates has its own one). Needed:
    #: calls/s x round trip (Little's law): 60 calls/s at Telegram's 30 messages/s, x 0.1 s
    #: = 6. Unset: 32 with aiohttp (a larger pool costs it nothing; at 200 people and a
    #: 20 ms round trip 8 capped the replies at ~2 x 8 / 0.02 s), 8 with httpx, which scans
    #: its whole pool on every request (PTB's 256 cost ~1.7x the CPU of 8). bench_http.
    telegram_connections: int | None = Field(default=None, ge=1, le=1024)
    #: The HTTP client for Bot API calls: "aiohttp" (bot/telegram/client.py; ~0.2 ms of
    #: CPU a call) or "httpx", PTB's own (~1.7 ms a call here; bench/README.md "perf3").
    telegram_client: Literal["aiohttp", "httpx"] = "aiohttp"
    #: How often a message refused with 429 (flood wait) is retried after waiting.
    telegram_flood_retries: int = Field(default=3, ge=0, le=10)
    #: Messages per second to all chats together (Telegram's guidance is about 30);
    #: 0 switches the overall limit off, for a bot with a raised limit.
    telegram_max_rate: float = Field(default=30, ge=0)
    #: Days a processed update is remembered (exactly-once needs only Telegram's 24-hour
    #: redelivery window; the stored replies are most of the database's size).
    delivery_days: int = Field(default=7, ge=1, le=365)
    #: Remind a person once when their interview has been paused this many hours (0: never).
    reminder_hours: int = Field(default=0, ge=0, le=24 * 30)
    #: Webhook mode (`hearth run --webhook`): the public HTTPS URL Telegram posts to.
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = None
    #: The web channel (`hearth web`, `hearth run --web`; docs/web.md). HEARTH_WEB_URL
    #: (above) is its public address: an https:// one makes the session cookie Secure.
    #: Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma
    #: separated). Empty: the peer's own address is the client's, whatever the headers say.
    trusted_proxies: Annotated[
        list[str], NoDecode, BeforeValidator(_comma_separated), AfterValidator(_networks)
    ] = Field(default_factory=list)
    #: A web session ends after this many hours unused, and this many days after it began.
    web_idle_hours: float = Field(default=72, gt=0, le=24 * 90)
    web_session_days: float = Field(default=30, gt=0, le=365)
    #: Requests per minute one address may make (a token bucket in memory, per process).
    web_rate_per_minute: int = Field(default=120, ge=1, le=100_000)
    #: Seconds between the web app's looks for plans, check-ins and re-assessments due for
    #: families on the web (bot/web/inbox_jobs.py): kept in their inboxes, shown on their page.
    web_plan_check_seconds: float = Field(default=60, ge=0.1, le=3600)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        code = value.strip().lower()
        if code not in LOCALES:
            raise ValueError(f"expected one of the languages Hearth speaks: {', '.join(LOCALES)}")
        return code

    @field_validator("data_key")
    @classmethod
    def _data_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        # A malformed key is refused here, before any database is touched.
        return SecretStr(check_key(value.get_secret_value().strip()))

    @field_validator("telegram_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        # An exported but empty variable means "not set", not "an empty token".
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("telegram_base_url", "telegram_base_file_url", "telegram_webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @field_validator("web_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        value = (value or "").strip().rstrip("/")
        if not value:
            return None
        if not value.startswith(("http://", "https://")) or any(c in value for c in "?# "):
            raise ValueError("expected an http:// or https:// base URL, like https://hearth.example.org")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
        if value is not None and not _SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("expected 1-256 characters: letters, digits, _ and -")
        return value

    @property
    def telegram_file_url(self) -> str:
        """The Bot API file address: set, or the base URL's /bot replaced by /file/bot."""
        if self.telegram_base_file_url:
            return self.telegram_base_file_url
        base = self.telegram_base_url.rstrip("/")
        if base.endswith("/bot"):
            return base.removesuffix("/bot") + "/file/bot"
        return base + "/file"


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise `SettingsError` with one clear line on a bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "HEARTH_" + "_".join(str(p) for p in first["loc"]).upper()
        # Never echo a secret back into a terminal or a log.
        hide = name.endswith(("TOKEN", "SECRET", "KEY")) or name == "HEARTH_DATABASE_URL"
        shown = "hidden" if hide else repr(first.get("input"))
        raise SettingsError(f"{name}: {first['msg']} (got {shown})") from None
