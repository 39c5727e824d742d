"""Server-side web sessions in the store: which browser is which web person."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from bot.service import Clock
from bot.web.security import new_secret, token_hash
from store.backend import Backend
from store.contract import UnitOfWork
from store.records import WebSession

#: A session's last use is written at most this often (a GET would otherwise be a write).
SEEN_EVERY = timedelta(minutes=5)
#: Expired sessions are swept about this often, when a new one is opened.
SWEEP_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class Browser:
    """One request's session: the cookie (never stored) and its stored row."""

    cookie: str
    row: WebSession

    @property
    def user_id(self) -> str:
        return self.row.user_id


class Sessions:
    """Opens, creates and marks sessions; expired ones (idle or too old) are not opened."""

    def __init__(self, store: Backend, clock: Clock, idle: timedelta, lifetime: timedelta) -> None:
        self.store = store
        self.clock = clock
        self.idle = idle
        self.lifetime = lifetime
        self._next_sweep: datetime | None = None

    async def open(self, cookie: str | None) -> Browser | None:
        """The live session of this cookie, or None (no cookie, unknown, expired)."""
        if not cookie or len(cookie) > 100:
            return None
        row = await self.store.read(lambda uow: uow.web_sessions.get(token_hash(cookie)))
        if row is None or self.expired(row):
            return None
        return Browser(cookie, row)

    def expired(self, row: WebSession) -> bool:
        now = self.clock()
        return now - row.seen_at > self.idle or now - row.created_at > self.lifetime

    async def create(self, *, user_id: str | None = None,
                     replacing: str | None = None) -> Browser:
        """A new browser: a new cookie and a new web person (their opaque id); with
        `user_id`, a new session of that web person (a family's link back), ending the
        session it `replacing` (its token hash) in the same transaction."""
        cookie = new_secret()
        user_id = user_id or "w-" + secrets.token_urlsafe(12)
        now = self.clock()
        sweep = self._next_sweep is None or now >= self._next_sweep
        if sweep:
            self._next_sweep = now + SWEEP_EVERY
        row = await self.store.run(partial(self._add, cookie=cookie, user_id=user_id,
                                           now=now, sweep=sweep, replacing=replacing))
        return Browser(cookie, row)

    def _add(self, uow: UnitOfWork, cookie: str, user_id: str, now: datetime,
             sweep: bool, replacing: str | None = None) -> WebSession:
        if sweep:
            uow.web_sessions.prune(idle_before=now - self.idle,
                                   created_before=now - self.lifetime)
        if replacing is not None:
            uow.web_sessions.end(replacing)
        uow.web_sessions.add(token_hash(cookie), user_id, now=now)
        return WebSession(token_hash(cookie), user_id, now, now)

    async def seen(self, browser: Browser) -> None:
        """Mark the session used: at most every few minutes, so a page view is rarely a write."""
        now = self.clock()
        if now - browser.row.seen_at < SEEN_EVERY:
            return
        await self.store.run(lambda uow: uow.web_sessions.seen(browser.row.token_hash, now=now))


class LastForms:
    """The last form each session posted (its delivery id), in memory, per process.

    The next page shows that step's replies, read from its stored outcome (sealed,
    blanked by an erasure, pruned with the deliveries), so nothing of an answer is kept
    here. Kept in memory, not in the store, so a step costs one commit, not two; after a
    restart (or on another worker) the page shows where the person stands, without the
    last confirmation.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._last: OrderedDict[str, str] = OrderedDict()

    def remember(self, session: str, delivery: str) -> None:
        self._last.pop(session, None)
        self._last[session] = delivery
        while len(self._last) > self.capacity:
            self._last.popitem(last=False)

    def last(self, session: str) -> str | None:
        return self._last.get(session)
