"""Opens the configured store: the SQLite file by default, PostgreSQL with HEARTH_DATABASE_URL."""

from __future__ import annotations

from bot.settings import Settings
from store.backend import Backend


def data_key(settings: Settings) -> str | None:
    """The at-rest key, unwrapped only where the store is opened."""
    return settings.data_key.get_secret_value() if settings.data_key else None


def database_label(settings: Settings) -> str:
    """Where the data lives, for messages: the file, or the server without credentials."""
    if settings.database_url is None:
        return str(settings.database)
    from urllib.parse import urlsplit

    parts = urlsplit(settings.database_url.get_secret_value())
    return f"postgresql://{parts.hostname or 'localhost'}{':' if parts.port else ''}" \
        f"{parts.port or ''}{parts.path}"


async def open_store(settings: Settings) -> Backend:
    """Open, migrate and check the key of the configured database."""
    if settings.database_url is not None:
        # Imported here: psycopg is needed only by deployments that use PostgreSQL.
        from store.postgres import PostgresStore

        return await PostgresStore.open(
            settings.database_url.get_secret_value(),
            data_key=data_key(settings),
            pool_size=settings.database_pool,
        )
    from store.sqlite import Store

    return await Store.open(settings.database, settings.synchronous, data_key=data_key(settings))
