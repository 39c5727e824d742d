"""Book clubs in the service: schedule controls, claiming due weeks, private reflections."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache, partial
from typing import Any
from zoneinfo import available_timezones

from bot.replies import Say
from flows.schedule import (
    WEEKDAYS,
    Schedule,
    ScheduleStateError,
    ScheduleStatus,
    due_week,
    is_finished,
    next_due_at,
    parse_time,
    parse_weekday,
)
from flows.schedule import pause as pause_schedule
from flows.schedule import resume as resume_schedule
from flows.schedule import skip as skip_schedule
from flows.schedule import stop as stop_schedule
from flows.series import Series, load_bundled_series
from messages.render import macro
from store.backend import Backend
from store.bookclub import ClubRecord, WeekDelivery
from store.contract import BookClubRepo, UnitOfWork

log = logging.getLogger(__name__)

LIBRARY = "bookclub.j2"
COMMAND = "bookclub"
#: The button of a parent's one-tap subscription (answered by the book-club feature).
SUBSCRIBE = "bc:subscribe"
#: A "Reflect privately" deep link: /start r_<token>.
LINK_PREFIX = "r_"
#: How long after opening a check-in the next typed message counts as the reflection.
REFLECTION_WINDOW = dt.timedelta(minutes=60)
#: What a bare `/bookclub setup` chooses; the reply says so and how to change it.
DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_TIME = dt.time(19, 0)
DEFAULT_TIMEZONE = "UTC"
#: Verbs that change a group's schedule: only its admins may use them.
ADMIN_VERBS = frozenset({"setup", "pause", "resume", "skip", "stop"})
VERBS = ("setup", "status", "pause", "resume", "skip", "stop", "reflections", "help")

#: Weekday words people type besides flows.schedule's English ones (Spanish speakers).
_WEEKDAY_WORDS = {
    "lunes": 0, "martes": 1, "miércoles": 2, "miercoles": 2, "jueves": 3, "viernes": 4,
    "sábado": 5, "sabado": 5, "domingo": 6,
}
_TIME_LIKE = re.compile(r"^\d{1,2}([:.h]\d{0,2})?(am|pm)?$", re.IGNORECASE)


@cache
def bundle() -> dict[str, Series]:
    """The bundled prompt series by `id@version`, loaded once."""
    return load_bundled_series()


def latest_series(series_id: str) -> Series | None:
    """The newest version of a series id, what a new club starts on."""
    versions = [s for s in bundle().values() if s.id == series_id]
    return max(versions, key=lambda s: s.version) if versions else None


def default_series() -> Series:
    """The series a setup without one gets: the first bundled id."""
    found = latest_series(sorted({s.id for s in bundle().values()})[0])
    assert found is not None
    return found


def needs_admin(args: str) -> bool:
    """Whether `/bookclub <args>` changes a group's schedule (the adapter checks admins)."""
    return verb_of(args)[0] in ADMIN_VERBS


def verb_of(args: str) -> tuple[str, str]:
    """`setup what_happened monday` -> ("setup", "what_happened monday"); bare -> "status"."""
    word, _, rest = args.strip().partition(" ")
    return (word.casefold() or "status"), rest.strip()


def say(message: str, **params: Any) -> Say:
    """A reply from messages/<locale>/bookclub.j2."""
    return Say(message=message, params=params, library=LIBRARY)


def schedule_of(club: ClubRecord) -> Schedule:
    """The pure `Schedule` value of a stored club."""
    return Schedule(
        club.series_key,
        club.weekday,
        parse_time(club.local_time),
        club.timezone,
        club.start,
        ScheduleStatus(club.status),
        club.active_since,
        club.skip_week,
    )


def with_schedule(club: ClubRecord, schedule: Schedule) -> ClubRecord:
    """A stored club carrying a schedule's new state."""
    return replace(
        club,
        status=schedule.status.value,
        active_since=schedule.active_since,
        skip_week=schedule.skip_week,
    )


# -- parsing /bookclub setup ----------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What a setup asks for, and which parts were left to the defaults."""

    series: Series
    weekday: int
    time: dt.time
    timezone: str
    defaulted: tuple[str, ...]


@cache
def _zones() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def zone_named(word: str) -> str | None:
    """An IANA zone name as typed in any case ("europe/madrid" -> "Europe/Madrid")."""
    return _zones().get(word.casefold())


def parse_setup(args: str) -> Setup | list[dict[str, str]]:
    """Read `[series] [weekday] [HH:MM] [zone]` in any order; problems name what was expected."""
    series: Series | None = None
    weekday: int | None = None
    time: dt.time | None = None
    zone: str | None = None
    problems: list[dict[str, str]] = []
    for word in args.split():
        found = latest_series(word.casefold())
        if found is not None and series is None:
            series = found
            continue
        if _TIME_LIKE.match(word):
            try:
                time = parse_time(word)
            except ValueError:
                problems.append({"code": "bad_time", "word": word})
            continue
        zone_name = zone_named(word)
        if zone_name is not None:
            zone = zone_name
            continue
        if "/" in word:
            problems.append({"code": "bad_zone", "word": word})
            continue
        if word.casefold() in _WEEKDAY_WORDS:
            weekday = _WEEKDAY_WORDS[word.casefold()]
            continue
        try:
            weekday = parse_weekday(word)
        except ValueError:
            problems.append({"code": "unknown_word", "word": word})
    if problems:
        return problems
    defaulted = tuple(
        name
        for name, value in (("series", series), ("weekday", weekday), ("time", time),
                            ("timezone", zone))
        if value is None
    )
    return Setup(
        series or default_series(),
        DEFAULT_WEEKDAY if weekday is None else weekday,
        time or DEFAULT_TIME,
        zone or DEFAULT_TIMEZONE,
        defaulted,
    )


# -- the controls: one call per command, inside the step's transaction -----------------------


@dataclass(frozen=True)
class Where:
    """The chat a command came from and who sent it."""

    channel: str
    chat_id: str
    kind: str  # 'group' | 'private'
    person_id: int
    locale: str


def control(
    repo: UnitOfWork, where: Where, args: str, now: dt.datetime, admin: bool | None
) -> list[Say]:
    """Run `/bookclub <args>` for a chat; `admin` is whether the sender may change it."""
    verb, rest = verb_of(args)
    clubs = repo.bookclub
    if verb == "help":
        return [help_reply(where)]
    if verb == "reflections":
        if where.kind == "group":
            # A group never sees anyone's reflections, not even their author's.
            return [say("reflections_in_private")]
        return [reflections_reply(clubs, where.person_id, where.locale)]
    if verb not in VERBS:
        return [say("unknown_verb", verb=verb[:30], verbs=list(VERBS)), help_reply(where)]
    if verb in ADMIN_VERBS and where.kind == "group" and not admin:
        return [say("admin_unknown" if admin is None else "not_admin", verb=verb)]
    club = clubs.club(where.channel, where.chat_id)
    if verb == "setup":
        return setup(repo, where, club, rest, now)
    if club is None and where.kind == "private" and verb == "status" and not rest:
        return [subscribe_offer(where)]
    if club is None:
        return [say("status_none", group=where.kind == "group")]
    if verb == "status":
        return [status_reply(clubs, club, now)]
    return change(repo, club, verb, now)


def subscribe_offer(where: Where) -> Say:
    """A parent's bare `/bookclub`: one tap subscribes them to the default series."""
    series = default_series()
    return Say(
        message="subscribe_offer",
        library=LIBRARY,
        params={
            "title": series.text(series.title, where.locale),
            "weeks": series.total_weeks,
            "weekday": WEEKDAYS[DEFAULT_WEEKDAY],
            "time": f"{DEFAULT_TIME:%H:%M}",
            "timezone": DEFAULT_TIMEZONE,
        },
        choices=[("subscribe_button", SUBSCRIBE)],
    )


def help_reply(where: Where) -> Say:
    series = [
        {"id": s.id, "title": s.text(s.title, where.locale), "weeks": s.total_weeks}
        for s in sorted(bundle().values(), key=lambda s: s.key)
    ]
    return say(
        "help",
        group=where.kind == "group",
        series=series,
        weekday=WEEKDAYS[DEFAULT_WEEKDAY],
        time=f"{DEFAULT_TIME:%H:%M}",
        timezone=DEFAULT_TIMEZONE,
    )


def setup(
    repo: UnitOfWork,
    where: Where,
    club: ClubRecord | None,
    args: str,
    now: dt.datetime,
) -> list[Say]:
    parsed = parse_setup(args)
    if isinstance(parsed, list):
        return [say("setup_problem", problems=parsed, example=_example())]
    series = parsed.series
    locale = where.locale if where.locale in series.locales else series.locales[0]
    start = now.astimezone(dt.UTC).date()
    record = ClubRecord(
        channel=where.channel,
        chat_id=where.chat_id,
        kind=where.kind,
        series_key=series.key,
        weekday=parsed.weekday,
        local_time=f"{parsed.time:%H:%M}",
        timezone=parsed.timezone,
        start=start,
        status=ScheduleStatus.ACTIVE.value,
        # The first week waits for the first slot after the setup, never "at once": a
        # facilitator setting up at 20:00 for "Monday 19:00" expects Monday. /bookclub skip
        # sends it now for those who want that.
        active_since=now,
        skip_week=None,
        locale=locale,
        person_id=where.person_id,
    )
    schedule = schedule_of(record)
    clubs = repo.bookclub
    taken = clubs.weeks_taken(where.channel, where.chat_id, series.key)
    clubs.save_club(record, now=now)
    repo.audit.add("bookclub_setup", interview_id=None, person_id=where.person_id,
                         now=now, detail=series.key)
    if is_finished(taken, series.total_weeks):
        return [say("finished", title=series.text(series.title, locale))]
    when = next_due_at(schedule, taken, series.total_weeks, now)
    return [
        say(
            "setup_done",
            replaced=club is not None and club.status != ScheduleStatus.STOPPED.value,
            group=where.kind == "group",
            title=series.text(series.title, locale),
            weeks=series.total_weeks,
            week=max(taken, default=0) + 1,
            defaulted=list(parsed.defaulted),
            example=_example(),
            **_slot_words(schedule, when),
        )
    ]


def _example() -> str:
    return f"{default_series().id} monday 19:00 Europe/Madrid"


def _slot_words(schedule: Schedule, when: dt.datetime | None) -> dict[str, Any]:
    local = when.astimezone(schedule.zone) if when is not None else None
    return {
        "weekday": WEEKDAYS[schedule.weekday],
        "time": f"{schedule.time:%H:%M}",
        "timezone": schedule.timezone,
        "when_day": local.date() if local else None,
        "when_weekday": WEEKDAYS[local.weekday()] if local else None,
        "when_time": f"{local:%H:%M}" if local else None,
    }


def status_reply(clubs: BookClubRepo, club: ClubRecord, now: dt.datetime) -> Say:
    series = bundle().get(club.series_key)
    schedule = schedule_of(club)
    taken = clubs.weeks_taken(club.channel, club.chat_id, club.series_key)
    total = series.total_weeks if series else max(taken, default=1)
    when = None if series is None else next_due_at(schedule, taken, total, now)
    log_rows = clubs.deliveries(club.channel, club.chat_id, club.series_key)
    return say(
        "status",
        unconfirmed=[d.week for d in log_rows if d.status in ("unconfirmed", "failed")],
        waiting=[d.week for d in log_rows if d.status == "retry"],
        title=series.text(series.title, club.locale) if series else club.series_key,
        status=club.status,
        reason=club.stopped_reason,
        sent=len(taken),
        total=total,
        finished=is_finished(taken, total),
        skip_week=club.skip_week,
        **_slot_words(schedule, when),
    )


def change(repo: UnitOfWork, club: ClubRecord, verb: str, now: dt.datetime) -> list[Say]:
    """pause / resume / skip / stop, through the pure transitions of flows.schedule."""
    clubs = repo.bookclub
    series = bundle().get(club.series_key)
    schedule = schedule_of(club)
    taken = clubs.weeks_taken(club.channel, club.chat_id, club.series_key)
    total = series.total_weeks if series else max(taken, default=1)
    transitions: dict[str, Callable[[], Schedule]] = {
        "pause": lambda: pause_schedule(schedule),
        "resume": lambda: resume_schedule(schedule, now),
        "skip": lambda: skip_schedule(schedule, taken, total),
        "stop": lambda: stop_schedule(schedule),
    }
    try:
        changed = transitions[verb]()
    except ScheduleStateError:
        finished = is_finished(taken, total)
        return [say("cannot", verb=verb, status=club.status, finished=finished)]
    updated = with_schedule(club, changed)
    if verb == "stop":
        updated.stopped_reason = "stopped"
    clubs.save_club(updated, now=now)
    repo.audit.add(f"bookclub_{verb}", interview_id=None, person_id=None, now=now,
                         detail=club.series_key)
    when = next_due_at(changed, taken, total, now)
    return [
        say(
            f"done_{verb}",
            week=max(taken, default=0) + 1,
            total=total,
            **_slot_words(changed, when),
        )
    ]


def reflections_reply(clubs: BookClubRepo, person_id: int, locale: str) -> Say:
    rows = []
    for series_key, week, text, at in clubs.reflections(person_id):
        series = bundle().get(series_key)
        theme = series.text(series.week(week).theme, locale) if series else series_key
        rows.append({"week": week, "theme": theme, "text": text, "day": at.date()})
    return say("reflections", rows=rows)


def stop_chat(
    repo: UnitOfWork, channel: str, chat_id: str, reason: str, now: dt.datetime
) -> bool:
    """The bot left a group or was blocked: stop its schedule and record why."""
    stopped = repo.bookclub.stop_club(channel, chat_id, reason, now=now)
    if stopped:
        repo.audit.add("bookclub_stop", interview_id=None, person_id=None, now=now, detail=reason)
    return stopped


# -- the scheduler's transactions ----------------------------------------------------------


@dataclass(frozen=True)
class ClaimedWeek:
    """A week this worker took for sending: everything needed to send it."""

    delivery_id: int
    channel: str
    chat_id: str
    kind: str
    series_key: str
    week: int
    token: str
    locale: str


def due_chats(repo: UnitOfWork, channel: str, now: dt.datetime) -> list[str]:
    """Chats with a week due at `now` (a read: the claim checks again in its transaction)."""
    clubs = repo.bookclub
    due = []
    for club in clubs.running_clubs(channel):
        series = bundle().get(club.series_key)
        if series is None:
            continue  # a series no longer bundled: reported by status, never sent
        taken = clubs.weeks_taken(channel, club.chat_id, club.series_key)
        if due_week(schedule_of(club), taken, series.total_weeks, now) is not None:
            due.append(club.chat_id)
    return due


def claim_due_week(
    repo: UnitOfWork, channel: str, chat_id: str, now: dt.datetime, worker: str
) -> ClaimedWeek | None:
    """Take the chat's due week in this transaction, or None if nothing is due (any more)."""
    clubs = repo.bookclub
    club = clubs.club(channel, chat_id)
    series = bundle().get(club.series_key) if club is not None else None
    if club is None or series is None:
        return None
    taken = clubs.weeks_taken(channel, chat_id, club.series_key)
    week = due_week(schedule_of(club), taken, series.total_weeks, now)
    if week is None:
        return None
    delivery = clubs.claim_week(channel, chat_id, club.series_key, week, now=now, worker=worker)
    if delivery is None:
        return None
    if club.skip_week is not None and club.skip_week <= week:
        club.skip_week = None  # the skip is used up
        clubs.save_club(club, now=now)
    return _claimed(delivery, club)


def reclaim(
    repo: UnitOfWork, delivery: WeekDelivery, now: dt.datetime, worker: str
) -> ClaimedWeek | None:
    """Take back a week Telegram refused for a while, unless another worker did."""
    clubs = repo.bookclub
    club = clubs.club(delivery.channel, delivery.chat_id)
    if club is None or club.status == ScheduleStatus.STOPPED.value:
        clubs.mark_failed(delivery.id, status="failed", error="schedule stopped before retry")
        return None
    if not clubs.reclaim_retry(delivery.id, now=now, worker=worker):
        return None
    return _claimed(delivery, club)


def _claimed(delivery: WeekDelivery, club: ClubRecord) -> ClaimedWeek:
    return ClaimedWeek(
        delivery.id,
        delivery.channel,
        club.chat_id,
        club.kind,
        delivery.series_key,
        delivery.week,
        delivery.token,
        club.locale,
    )


def next_wake(repo: UnitOfWork, channel: str, now: dt.datetime) -> dt.datetime | None:
    """The earliest instant something becomes due: a week at its slot, or a retry."""
    clubs = repo.bookclub
    times = []
    for club in clubs.running_clubs(channel):
        series = bundle().get(club.series_key)
        if series is None:
            continue
        taken = clubs.weeks_taken(channel, club.chat_id, club.series_key)
        at = next_due_at(schedule_of(club), taken, series.total_weeks, now)
        if at is not None:
            times.append(at.astimezone(dt.UTC))
    retry = clubs.next_retry_at(channel)
    if retry is not None:
        times.append(retry)
    return min(times, default=None)


# -- the week's message ----------------------------------------------------------------------


@dataclass(frozen=True)
class WeekMessage:
    """One week as the chat shows it: the text and the label of the reflection button."""

    text: str
    button: str


def render_week(series: Series, number: int, locale: str) -> WeekMessage:
    """messages/<locale>/bookclub.j2 `week`, filled from the series data."""
    week = series.week(number)
    text = macro(locale, LIBRARY, "week")(
        title=series.text(series.title, locale),
        number=number,
        total=series.total_weeks,
        theme=series.text(week.theme, locale),
        prompts=[series.text(p, locale) for p in week.prompts],
        fact=series.text(week.brain_fact.text, locale),
        source=week.brain_fact.source,
        try_at_home=series.text(week.try_at_home, locale),
        check_in=series.text(week.check_in, locale),
    )
    button = macro(locale, LIBRARY, "reflect_button")()
    return WeekMessage(str(text).strip(), str(button).strip())


# -- what a send came to, and what it means (transport-agnostic) -----------------------------


class Sent(StrEnum):
    """How a channel answered one week's message."""

    DELIVERED = "sent"  # shown
    LATER = "retry"  # certainly not shown; the channel asked to wait (or the chat moved)
    REFUSED = "failed"  # refused for good (removed, blocked, no such chat)
    NO_ANSWER = "unconfirmed"  # no answer: it may have been shown, so it is never repeated


@dataclass(frozen=True)
class SendReport:
    """What an adapter learnt from sending a claimed week."""

    outcome: Sent
    error: str = ""
    message_id: int | None = None
    retry_at: dt.datetime | None = None
    #: The chat became another one (a group turned supergroup): follow it.
    moved_to: str | None = None
    #: With REFUSED: the chat is gone for the bot (blocked, removed), so its schedule stops.
    gone: bool = False


def record_send(repo: UnitOfWork, claim: ClaimedWeek, report: SendReport, now: dt.datetime) -> None:
    """Write down what a send came to, in the claimed week's row (one transaction)."""
    clubs = repo.bookclub
    if report.outcome is Sent.DELIVERED:
        clubs.mark_sent(claim.delivery_id, message_id=report.message_id, now=now)
    elif report.outcome is Sent.LATER:
        if report.moved_to is not None:
            clubs.move_chat(claim.channel, claim.chat_id, report.moved_to)
        clubs.mark_retry(claim.delivery_id, retry_at=report.retry_at or now, error=report.error)
    elif report.outcome is Sent.REFUSED:
        clubs.mark_failed(claim.delivery_id, status="failed", error=report.error)
        if report.gone:
            reason = "blocked" if claim.kind == "private" else "removed"
            stop_chat(repo, claim.channel, claim.chat_id, reason, now)
    else:
        clubs.mark_failed(claim.delivery_id, status="unconfirmed", error=report.error)


class BookClubDesk:
    """The book club's scheduled work, for adapters: what is due, claims, and send results.

    Adapters never reach the store themselves: they ask the desk, send, and report back.
    Every claim and every result is its own committed transaction.
    """

    def __init__(self, store: Backend, clock: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.clock = clock

    async def next_wake(self, channel: str, now: dt.datetime) -> dt.datetime | None:
        return await self.store.read(partial(next_wake, channel=channel, now=now))

    async def due_chats(self, channel: str, now: dt.datetime) -> list[str]:
        return await self.store.read(partial(due_chats, channel=channel, now=now))

    async def retries_due(self, channel: str, now: dt.datetime) -> list[WeekDelivery]:
        return await self.store.read(lambda repo: repo.bookclub.retries_due(channel, now))

    async def claim(
        self, channel: str, chat_id: str, now: dt.datetime, worker: str
    ) -> ClaimedWeek | None:
        return await self.store.run(
            partial(claim_due_week, channel=channel, chat_id=chat_id, now=now, worker=worker)
        )

    async def reclaim(
        self, delivery: WeekDelivery, now: dt.datetime, worker: str
    ) -> ClaimedWeek | None:
        return await self.store.run(partial(reclaim, delivery=delivery, now=now, worker=worker))

    async def record(self, claim: ClaimedWeek, report: SendReport) -> None:
        now = self.clock()
        await self.store.run(partial(record_send, claim=claim, report=report, now=now))

    async def chat_gone(self, channel: str, chat_id: str, reason: str) -> bool:
        now = self.clock()
        return await self.store.run(
            partial(stop_chat, channel=channel, chat_id=chat_id, reason=reason, now=now)
        )

    async def chat_moved(self, channel: str, old: str, new: str) -> None:
        await self.store.run(lambda repo: repo.bookclub.move_chat(channel, old, new))
