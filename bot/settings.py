"""Configuration from the environment (prefix HEARTH_), checked when it is read."""

from __future__ import annotations

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


def default_database() -> Path:
    """The embedded default: hearth.db in the user's data folder."""
    return Path(user_data_dir("hearth", appauthor=False)) / "hearth.db"


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line naming it and what it expects."""


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


def _bot_username(value: str | None) -> str | None:
    name = value.strip().lstrip("@") if value else None
    if name and not (3 <= len(name) <= 64 and all(c.isalnum() or c == "_" for c in name)):
        raise ValueError("expected the bot's username, like hearth_intake_bot")
    return name or None


class Settings(BaseSettings):
    """Everything an operator can set. Environment variables: HEARTH_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="HEARTH_", extra="ignore")

    database: Path = Field(default_factory=default_database)
    synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL"
    locale: str = "en"
    flow: str = "sample"
    #: Operators who may run /clinician: comma-separated ids; a bare id is a Telegram user id.
    admin_ids: Annotated[
        list[str], NoDecode, BeforeValidator(_comma_separated), AfterValidator(_admin_ids)
    ] = Field(default_factory=list)
    #: The bot's username, for invitation links (https://t.me/<username>?start=<code>).
    bot_username: Annotated[str | None, AfterValidator(_bot_username)] = None
    #: How long an invitation link stays valid, in days.
    invite_days: float = Field(default=7, gt=0, le=365)
    telegram_token: SecretStr | None = None

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if not value.isalpha() or len(value) != 2:
            raise ValueError("expected a two-letter language code such as 'en'")
        return value.lower()


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise `SettingsError` with one clear line on a bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "HEARTH_" + "_".join(str(p) for p in first["loc"]).upper()
        raise SettingsError(f"{name}: {first['msg']} (got {first.get('input')!r})") from None
