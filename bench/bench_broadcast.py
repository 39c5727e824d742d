"""One book-club week to 1,000 groups through the real AIORateLimiter: pacing, per-group rate.

Not a test: prints figures. The bot is the real PTB Application built by
`bot.telegram.build_application` (its AIORateLimiter: about 30 messages/s overall, 20 per
minute per group), the real scheduler (`BookClubScheduler.tick`: claim in the store, send,
record) and a temporary SQLite file; the Bot API is offline and answers after `--latency-ms`.

The default run measures the first `--seconds` of the broadcast and extrapolates the
rest; `--full` sends all of it and checks that every group got its week exactly once.
`--flood` makes Telegram answer one send with 429 "retry after 1": the whole bot waits,
then that message goes again (nothing is dropped). `--group-burst` (with --full) sends 30
messages to ONE group to show what the per-group limiter lets through in a minute.

    python -m bench.bench_broadcast                 # ~10 s
    python -m bench.bench_broadcast --full          # ~40 s
    python -m bench.bench_broadcast --full --flood --group-burst   # ~2 min
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import time
from bisect import bisect_left
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench._common import catalog, header, temp_dir
from bench._telegram import OfflineBotApi
from bot.service import DialogueService
from bot.settings import Settings
from bot.telegram import build_application
from bot.telegram.bookclub import BookClubScheduler
from store.bookclub import ClubRecord
from store.contract import UnitOfWork
from store.sqlite import Store

TOKEN = "777001:bench-offline-token"
BOT = {"id": 777001, "is_bot": True, "first_name": "Hearth", "username": "hearth_bench_bot",
       "can_join_groups": True, "can_read_all_group_messages": False,
       "supports_inline_queries": False}
NOW = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
TELEGRAM_OVERALL = 30  # messages per second, Telegram's guidance
TELEGRAM_GROUP = 20  # messages per minute in one group


class OfflineApi(OfflineBotApi):
    """Answers getMe and sendMessage after `latency`; notes when each message was accepted."""

    def __init__(self, latency: float) -> None:
        super().__init__(latency)
        self.sent: list[tuple[float, int]] = []  # (monotonic time, chat id)
        self.flood_at: int | None = None  # refuse the n-th send with a 429
        self.floods = 0
        self._sends = 0
        self._ids = 0

    async def answer(self, name: str, params: dict[str, Any]) -> tuple[int, bytes]:
        if name == "getMe":
            return 200, json.dumps({"ok": True, "result": BOT}).encode()
        if name != "sendMessage":
            return 200, b'{"ok": true, "result": true}'
        self._sends += 1
        if self.flood_at is not None and self._sends == self.flood_at:
            self.floods += 1
            body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry "
                    "after 1", "parameters": {"retry_after": 1}}
            return 429, json.dumps(body).encode()
        chat = int(params["chat_id"])
        self.sent.append((time.monotonic(), chat))
        self._ids += 1
        result = {"message_id": self._ids, "date": 1_795_000_000, "from": BOT,
                  "chat": {"id": chat, "type": "group", "title": "Book club"},
                  "text": params.get("text", "")}
        return 200, json.dumps({"ok": True, "result": result}).encode()


def club(chat_id: int) -> ClubRecord:
    # Set up a week before the slot: week 1 is due at NOW for every group.
    return ClubRecord(
        channel="telegram", chat_id=str(chat_id), kind="group", series_key="what_happened@1",
        weekday=0, local_time="19:00", timezone="Europe/Madrid", start=dt.date(2026, 11, 23),
        status="active", active_since=NOW - dt.timedelta(days=6), skip_week=None, locale="en",
        person_id=None,
    )


def most_in_window(times: list[float], window: float) -> int:
    """The most events in any sliding window of `window` seconds."""
    ordered = sorted(times)
    return max((i - bisect_left(ordered, t - window) + 1 for i, t in enumerate(ordered)),
               default=0)


async def broadcast(db: Path, args: argparse.Namespace) -> None:
    store = await Store.open(db, synchronous="NORMAL")
    service = DialogueService(store, catalog(), clock=lambda: NOW)
    api = OfflineApi(args.latency_ms / 1000)
    if args.flood:
        api.flood_at = 50
    app = build_application(service, Settings(telegram_token=TOKEN), request=api)
    await app.initialize()
    scheduler = app.bot_data["bookclub"]
    assert isinstance(scheduler, BookClubScheduler)
    groups = [-1_000_000_000_000 - n for n in range(args.groups)]

    def set_up(repo: UnitOfWork) -> None:
        clubs = repo.bookclub
        for chat in groups:
            clubs.save_club(club(chat), now=NOW)

    await store.run(set_up)
    print(f"   {args.groups} groups due at once; Bot API round trip {args.latency_ms} ms; "
          f"limits: {TELEGRAM_OVERALL}/s overall, {TELEGRAM_GROUP}/min per group")

    started = time.monotonic()
    task = asyncio.create_task(scheduler.tick(NOW))
    if args.full:
        result = await task
    else:
        await asyncio.wait({task}, timeout=args.seconds)
        task.cancel()
        result = None
        with contextlib.suppress(asyncio.CancelledError):
            await task
    elapsed = time.monotonic() - started
    times = [t - started for t, _ in api.sent]
    per_chat: dict[int, list[float]] = defaultdict(list)
    for t, chat in api.sent:
        per_chat[chat].append(t)

    sent = len(times)
    steady = [t for t in times if t >= 1.0]  # after the limiter's initial burst of 30
    span = (max(steady) - 1.0) if len(steady) > 1 else 0.0
    steady_rate = (len(steady) - 1) / span if span > 0 else float("nan")
    print(f"   sent {sent} in {elapsed:.1f} s ({'whole broadcast' if args.full else 'window'})")
    print(f"   average rate: {sent / max(times, default=1.0):.1f} msg/s; steady after the first "
          f"second: {steady_rate:.1f} msg/s = {steady_rate / TELEGRAM_OVERALL:.0%} of "
          f"{TELEGRAM_OVERALL}/s")
    print(f"   most in any 1 s window: {most_in_window(times, 1.0)} (the limiter allows a burst "
          f"of {TELEGRAM_OVERALL} on top of the rate at the very start)")
    worst = max((most_in_window(ts, 60.0) for ts in per_chat.values()), default=0)
    print(f"   most to one group in any 60 s: {worst} (limit {TELEGRAM_GROUP}); "
          f"groups reached twice: {sum(len(ts) > 1 for ts in per_chat.values())}")
    if not args.full:
        estimate = args.groups / steady_rate if steady_rate == steady_rate else float("nan")
        print(f"   extrapolated: {args.groups} groups in about {estimate:.0f} s at the steady "
              f"rate (run --full to measure)")
    else:
        assert result is not None
        rows = await store.read(lambda repo: repo.conn.execute(
            "SELECT status, count(*) FROM bookclub_deliveries GROUP BY status").fetchall())
        print(f"   outcomes: {result.outcomes}; log: {dict(rows)}; 429s answered: {api.floods}")
        missing = set(groups) - set(per_chat)
        print(f"   every group got its week exactly once: "
              f"{not missing and all(len(ts) == 1 for ts in per_chat.values())}")

    if args.group_burst and args.full:
        await group_burst(app, api)
    if app.job_queue is not None and app.job_queue.scheduler.running:
        await app.job_queue.stop(wait=False)
    await app.shutdown()
    await store.close()


async def group_burst(app: Any, api: OfflineApi) -> None:
    """30 messages to one group through the same limiter: how many land within a minute."""
    chat = -1_000_000_999_999
    api.sent.clear()
    started = time.monotonic()
    await asyncio.gather(*(app.bot.send_message(chat, f"message {n}") for n in range(30)))
    times = [t - started for t, _ in api.sent]
    print(f"   one group, 30 messages at once: {sum(t < 60 for t in times)} within the first "
          f"60 s, most in any 60 s window {most_in_window(times, 60.0)}, all 30 after "
          f"{max(times):.0f} s (AIORateLimiter is a leaky bucket: {TELEGRAM_GROUP} at once, "
          f"then one every {60 / TELEGRAM_GROUP:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=6.0,
                        help="measure this long, then extrapolate (default run)")
    parser.add_argument("--full", action="store_true", help="send the whole broadcast")
    parser.add_argument("--latency-ms", type=float, default=30.0,
                        help="simulated Bot API round trip")
    parser.add_argument("--flood", action="store_true", help="one 429 'retry after 1'")
    parser.add_argument("--group-burst", action="store_true",
                        help="with --full: 30 messages to one group (takes over a minute)")
    args = parser.parse_args()
    header("book-club broadcast through the real AIORateLimiter (offline Bot API)")
    with temp_dir() as folder:
        asyncio.run(broadcast(folder / "broadcast.db", args))


if __name__ == "__main__":
    main()
