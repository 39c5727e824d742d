"""The two comparison bots of bench_http, each run as its own process with PTB's polling.

    python -m bench._bots bare --base-url http://127.0.0.1:PORT/bot --token T
    python -m bench._bots peer --base-url ... --token T --database peer.db
"""

from __future__ import annotations

import argparse
import logging
import warnings
from pathlib import Path

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bench._peer import peer_application


def bare(base_url: str, token: str, pool: int,
         client: str = "httpx") -> Application:  # type: ignore[type-arg]
    """PTB's bare reply: every update answered with one sendMessage, updates concurrent.

    `client` "aiohttp": Hearth's HTTP client (bot/telegram/client.py) instead of PTB's
    httpx, so Hearth can be compared with a bare bot on the same client.
    """
    builder = Application.builder().token(token).base_url(base_url).concurrent_updates(True)
    if client == "aiohttp":
        from bot.telegram.client import AiohttpRequest

        builder = builder.request(AiohttpRequest(pool)).get_updates_request(AiohttpRequest(1))
    else:
        builder = builder.connection_pool_size(pool)
    app = builder.build()

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            if update.callback_query is not None:
                await update.callback_query.answer()
            await context.bot.send_message(update.effective_chat.id, "ok")

    app.add_handler(TypeHandler(Update, reply))
    return app


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", message=".*per_message.*")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["bare", "peer"])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--database", type=Path, default=Path("peer.db"))
    parser.add_argument("--pool", type=int, default=256, help="bare: HTTP connections "
                        "(PTB's default is 256)")
    parser.add_argument("--client", choices=["httpx", "aiohttp"], default="httpx",
                        help="bare: the HTTP client (PTB's httpx, or Hearth's aiohttp one)")
    args = parser.parse_args()
    if args.kind == "bare":
        app = bare(args.base_url, args.token, args.pool, args.client)
    else:
        app = peer_application(args.database, token=args.token, base_url=args.base_url)
    app.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY], timeout=10)


if __name__ == "__main__":
    main()
