"""Configuration from the environment (prefix HEARTH_), checked when it is read."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database() -> Path:
    """The embedded default: hearth.db in the user's data folder."""
    return Path(user_data_dir("hearth", appauthor=False)) / "hearth.db"


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line naming it and what it expects."""


class Settings(BaseSettings):
    """Everything an operator can set. Environment variables: HEARTH_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="HEARTH_", extra="ignore")

    database: Path = Field(default_factory=default_database)
    synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL"
    locale: str = "en"
    flow: str = "sample"
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
