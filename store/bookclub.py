"""Book-club storage (migration 0005): schedules, the claimed-weeks log, private reflections."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from store.repos.base import Session

#: Bytes of randomness in a reflection link's token (72 bits, 12 URL-safe characters).
TOKEN_BYTES = 9

#: Delivery statuses that mean "this week is taken": it is never claimed again.
SENT_OR_TAKEN = ("sending", "sent", "retry", "failed", "unconfirmed")


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass
class ClubRecord:
    """One chat's schedule as stored: the fields of `flows.schedule.Schedule` and who/where."""

    channel: str
    chat_id: str
    kind: str  # 'group' | 'private'
    series_key: str
    weekday: int
    local_time: str  # 'HH:MM'
    timezone: str
    start: date
    status: str
    active_since: datetime | None
    skip_week: int | None
    locale: str
    person_id: int | None
    stopped_reason: str | None = None


@dataclass(frozen=True)
class WeekDelivery:
    """One row of the claimed-weeks log."""

    id: int
    channel: str
    chat_id: str
    series_key: str
    week: int
    status: str
    token: str
    claimed_at: datetime
    attempts: int
    sent_at: datetime | None
    message_id: int | None
    retry_at: datetime | None
    error: str | None


_CLUB_COLUMNS = (
    "channel, chat_id, kind, series_key, weekday, local_time, timezone, start_date, status, "
    "active_since, skip_week, locale, person_id, stopped_reason"
)
_DELIVERY_COLUMNS = (
    "id, channel, chat_id, series_key, week, status, token, claimed_at, attempts, sent_at, "
    "message_id, retry_at, error"
)


def _club(row: tuple[Any, ...]) -> ClubRecord:
    return ClubRecord(
        channel=str(row[0]),
        chat_id=str(row[1]),
        kind=str(row[2]),
        series_key=str(row[3]),
        weekday=int(row[4]),
        local_time=str(row[5]),
        timezone=str(row[6]),
        start=date.fromisoformat(str(row[7])),
        status=str(row[8]),
        active_since=_dt(row[9]),
        skip_week=None if row[10] is None else int(row[10]),
        locale=str(row[11]),
        person_id=None if row[12] is None else int(row[12]),
        stopped_reason=None if row[13] is None else str(row[13]),
    )


def _delivery(row: tuple[Any, ...]) -> WeekDelivery:
    claimed = _dt(row[7])
    assert claimed is not None
    return WeekDelivery(
        id=int(row[0]),
        channel=str(row[1]),
        chat_id=str(row[2]),
        series_key=str(row[3]),
        week=int(row[4]),
        status=str(row[5]),
        token=str(row[6]),
        claimed_at=claimed,
        attempts=int(row[8]),
        sent_at=_dt(row[9]),
        message_id=None if row[10] is None else int(row[10]),
        retry_at=_dt(row[11]),
        error=None if row[12] is None else str(row[12]),
    )


class Reflections:
    """A person's private side of the book club: the check-in they opened, and what they
    wrote (sealed like answers). Never shown to a group."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn = session.conn

    def set_pending(self, person_id: int, series_key: str, week: int, *, now: datetime) -> None:
        """Remember which check-in a person opened; their next typed message answers it."""
        self.conn.execute(
            "INSERT INTO bookclub_pending (person_id, series_key, week, asked_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET "
            "series_key = excluded.series_key, week = excluded.week, asked_at = excluded.asked_at",
            (person_id, series_key, week, _ts(now)),
        )

    def pending(self, person_id: int) -> tuple[str, int, datetime] | None:
        """The check-in a person opened and has not answered: (series, week, asked at)."""
        row = self.conn.execute(
            "SELECT series_key, week, asked_at FROM bookclub_pending WHERE person_id = ?",
            (person_id,),
        ).fetchone()
        if row is None:
            return None
        return str(row[0]), int(row[1]), datetime.fromisoformat(str(row[2]))

    def clear_pending(self, person_id: int) -> None:
        """Forget an opened check-in."""
        self.conn.execute("DELETE FROM bookclub_pending WHERE person_id = ?", (person_id,))

    def add_reflection(
        self, person_id: int, series_key: str, week: int, text: str, *, now: datetime
    ) -> None:
        """Keep what a person wrote back, sealed like an answer."""
        self.conn.execute(
            "INSERT INTO bookclub_reflections (person_id, series_key, week, text, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (person_id, series_key, week, self.session.seal(text), _ts(now)),
        )

    def reflections(self, person_id: int) -> list[tuple[str, int, str, datetime]]:
        """A person's own reflections, oldest first: (series, week, text, written at)."""
        rows = self.conn.execute(
            "SELECT series_key, week, text, created_at FROM bookclub_reflections "
            "WHERE person_id = ? ORDER BY id",
            (person_id,),
        ).fetchall()
        return [
            (str(s), int(w), self.session.open(str(t)), datetime.fromisoformat(str(c)))
            for s, w, t, c in rows
        ]

    def erase_reflections(self, person_id: int) -> None:
        """Remove a person's reflections and an opened check-in."""
        self.conn.execute("DELETE FROM bookclub_reflections WHERE person_id = ?", (person_id,))
        self.conn.execute("DELETE FROM bookclub_pending WHERE person_id = ?", (person_id,))


class BookClubRepository(Reflections):
    """Book-club reads and writes: schedules, claimed weeks, private reflections.

    One repository of the unit of work like the others (store/unit_of_work.py): it shares
    the session's connection and cipher, so a step that uses it and the intake is still
    one transaction.
    """

    # -- schedules --------------------------------------------------------------------------

    def club(self, channel: str, chat_id: str) -> ClubRecord | None:
        """The schedule of a chat (stopped ones too), or None."""
        row = self.conn.execute(
            f"SELECT {_CLUB_COLUMNS} FROM bookclub_schedules WHERE channel = ? AND chat_id = ?",
            (channel, chat_id),
        ).fetchone()
        return None if row is None else _club(tuple(row))

    def running_clubs(self, channel: str) -> list[ClubRecord]:
        """Every schedule not stopped (active or paused: a paused one may have a skip)."""
        rows = self.conn.execute(
            f"SELECT {_CLUB_COLUMNS} FROM bookclub_schedules "
            "WHERE channel = ? AND status != 'stopped' ORDER BY chat_id",
            (channel,),
        ).fetchall()
        return [_club(tuple(r)) for r in rows]

    def save_club(self, club: ClubRecord, *, now: datetime) -> None:
        """Insert or replace a chat's schedule."""
        values = (
            club.channel,
            club.chat_id,
            club.kind,
            club.series_key,
            club.weekday,
            club.local_time,
            club.timezone,
            club.start.isoformat(),
            club.status,
            _ts(club.active_since) if club.active_since else None,
            club.skip_week,
            club.locale,
            club.person_id,
            club.stopped_reason,
        )
        self.conn.execute(
            f"INSERT INTO bookclub_schedules ({_CLUB_COLUMNS}, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (channel, chat_id) DO UPDATE SET kind = excluded.kind, "
            "series_key = excluded.series_key, weekday = excluded.weekday, "
            "local_time = excluded.local_time, timezone = excluded.timezone, "
            "start_date = excluded.start_date, status = excluded.status, "
            "active_since = excluded.active_since, skip_week = excluded.skip_week, "
            "locale = excluded.locale, person_id = excluded.person_id, "
            "stopped_reason = excluded.stopped_reason, updated_at = excluded.updated_at",
            (*values, _ts(now), _ts(now)),
        )

    def stop_club(self, channel: str, chat_id: str, reason: str, *, now: datetime) -> bool:
        """Stop a chat's schedule for good (removed from a group, blocked); False if none ran."""
        cur = self.conn.execute(
            "UPDATE bookclub_schedules SET status = 'stopped', skip_week = NULL, "
            "stopped_reason = ?, updated_at = ? "
            "WHERE channel = ? AND chat_id = ? AND status != 'stopped'",
            (reason, _ts(now), channel, chat_id),
        )
        return cur.rowcount > 0

    def move_chat(self, channel: str, old_chat: str, new_chat: str) -> None:
        """A group became a supergroup and changed its id: its schedule and log follow it."""
        if self.club(channel, new_chat) is not None:
            return  # already moved (the migration is announced in both chats)
        self.conn.execute(
            "UPDATE bookclub_schedules SET chat_id = ? WHERE channel = ? AND chat_id = ?",
            (new_chat, channel, old_chat),
        )
        self.conn.execute(
            "UPDATE bookclub_deliveries SET chat_id = ? WHERE channel = ? AND chat_id = ?",
            (new_chat, channel, old_chat),
        )

    # -- the claimed-weeks log ----------------------------------------------------------------

    def weeks_taken(self, channel: str, chat_id: str, series_key: str) -> dict[int, datetime]:
        """{week: claimed at} for every week of the series already taken in this chat."""
        rows = self.conn.execute(
            "SELECT week, claimed_at FROM bookclub_deliveries "
            "WHERE channel = ? AND chat_id = ? AND series_key = ?",
            (channel, chat_id, series_key),
        ).fetchall()
        return {int(week): datetime.fromisoformat(str(at)) for week, at in rows}

    def deliveries(self, channel: str, chat_id: str, series_key: str) -> list[WeekDelivery]:
        """The log of one chat's series, week by week."""
        rows = self.conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM bookclub_deliveries "
            "WHERE channel = ? AND chat_id = ? AND series_key = ? ORDER BY week",
            (channel, chat_id, series_key),
        ).fetchall()
        return [_delivery(tuple(r)) for r in rows]

    def claim_week(
        self,
        channel: str,
        chat_id: str,
        series_key: str,
        week: int,
        *,
        now: datetime,
        worker: str,
    ) -> WeekDelivery | None:
        """Take a week for sending; None if it was taken already (by anyone, ever)."""
        cur = self.conn.execute(
            "INSERT INTO bookclub_deliveries (channel, chat_id, series_key, week, status, "
            "token, claimed_at, claimed_by) VALUES (?, ?, ?, ?, 'sending', ?, ?, ?) "
            "ON CONFLICT (channel, chat_id, series_key, week) DO NOTHING",
            (channel, chat_id, series_key, week, secrets.token_urlsafe(TOKEN_BYTES),
             _ts(now), worker),
        )
        if cur.rowcount == 0:
            return None
        return self.delivery_of(channel, chat_id, series_key, week)

    def delivery_of(
        self, channel: str, chat_id: str, series_key: str, week: int
    ) -> WeekDelivery | None:
        """One week's row of the log."""
        row = self.conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM bookclub_deliveries "
            "WHERE channel = ? AND chat_id = ? AND series_key = ? AND week = ?",
            (channel, chat_id, series_key, week),
        ).fetchone()
        return None if row is None else _delivery(tuple(row))

    def delivery_by_token(self, token: str) -> WeekDelivery | None:
        """The week a "Reflect privately" link points at."""
        row = self.conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM bookclub_deliveries WHERE token = ?", (token,)
        ).fetchone()
        return None if row is None else _delivery(tuple(row))

    def retries_due(self, channel: str, now: datetime) -> list[WeekDelivery]:
        """Weeks Telegram refused with "too many requests" whose wait is over."""
        rows = self.conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM bookclub_deliveries "
            "WHERE channel = ? AND status = 'retry' AND retry_at <= ? ORDER BY retry_at",
            (channel, _ts(now)),
        ).fetchall()
        return [_delivery(tuple(r)) for r in rows]

    def next_retry_at(self, channel: str) -> datetime | None:
        """When the earliest waiting retry is due."""
        row = self.conn.execute(
            "SELECT min(retry_at) FROM bookclub_deliveries WHERE channel = ? AND status = 'retry'",
            (channel,),
        ).fetchone()
        return _dt(row[0]) if row else None

    def reclaim_retry(self, delivery_id: int, *, now: datetime, worker: str) -> bool:
        """Take a waiting retry for sending; False if another worker took it first."""
        cur = self.conn.execute(
            "UPDATE bookclub_deliveries SET status = 'sending', attempts = attempts + 1, "
            "claimed_by = ?, retry_at = NULL WHERE id = ? AND status = 'retry' AND retry_at <= ?",
            (worker, delivery_id, _ts(now)),
        )
        return cur.rowcount > 0

    def mark_sent(self, delivery_id: int, *, message_id: int | None, now: datetime) -> None:
        """Telegram showed the week: keep its message id."""
        self.conn.execute(
            "UPDATE bookclub_deliveries SET status = 'sent', sent_at = ?, message_id = ?, "
            "error = NULL WHERE id = ?",
            (_ts(now), message_id, delivery_id),
        )

    def mark_retry(self, delivery_id: int, *, retry_at: datetime, error: str) -> None:
        """Telegram refused for now: send again at `retry_at` (the week stays taken)."""
        self.conn.execute(
            "UPDATE bookclub_deliveries SET status = 'retry', retry_at = ?, error = ? WHERE id = ?",
            (_ts(retry_at), error[:200], delivery_id),
        )

    def mark_failed(self, delivery_id: int, *, status: str, error: str) -> None:
        """Refused for good ('failed') or no answer ('unconfirmed'): never sent again."""
        self.conn.execute(
            "UPDATE bookclub_deliveries SET status = ?, error = ? WHERE id = ?",
            (status, error[:200], delivery_id),
        )

    # -- erasure ------------------------------------------------------------------------------

    def erase_person(self, person_id: int) -> None:
        """Remove a person's book-club traces: reflections, an opened check-in, and their
        private subscription with its log (it names their chat). A group they set up keeps
        running for the others, no longer naming them.
        """
        self.erase_reflections(person_id)
        private = self.conn.execute(
            "SELECT channel, chat_id FROM bookclub_schedules WHERE person_id = ? "
            "AND kind = 'private'",
            (person_id,),
        ).fetchall()
        for channel, chat_id in private:
            self.conn.execute(
                "DELETE FROM bookclub_deliveries WHERE channel = ? AND chat_id = ?",
                (channel, chat_id),
            )
            self.conn.execute(
                "DELETE FROM bookclub_schedules WHERE channel = ? AND chat_id = ?",
                (channel, chat_id),
            )
        self.conn.execute(
            "UPDATE bookclub_schedules SET person_id = NULL WHERE person_id = ?", (person_id,)
        )
