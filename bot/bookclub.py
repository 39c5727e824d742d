"""Book clubs in the service: schedule controls, claiming due weeks, private reflections."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache, partial
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

from bot.model import Inbound, Kind, Outbound
from bot.replies import OUTCOME, Outcome, Say
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
from messages.render import LOCALES, macro
from store.bookclub import BookClubRepository, ClubRecord, WeekDelivery
from store.repository import Repository

if TYPE_CHECKING:
    from bot.service import DialogueService
    from bot.steps import Step

log = logging.getLogger(__name__)

LIBRARY = "bookclub.j2"
COMMAND = "bookclub"
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
    repo: Repository, where: Where, args: str, now: dt.datetime, admin: bool | None
) -> list[Say]:
    """Run `/bookclub <args>` for a chat; `admin` is whether the sender may change it."""
    verb, rest = verb_of(args)
    clubs = BookClubRepository(repo)
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
        return setup(clubs, where, club, rest, now)
    if club is None:
        return [say("status_none", group=where.kind == "group")]
    if verb == "status":
        return [status_reply(clubs, club, now)]
    return change(clubs, club, verb, now)


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
    clubs: BookClubRepository,
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
    taken = clubs.weeks_taken(where.channel, where.chat_id, series.key)
    clubs.save_club(record, now=now)
    clubs.repo.add_event("bookclub_setup", interview_id=None, person_id=where.person_id,
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


def status_reply(clubs: BookClubRepository, club: ClubRecord, now: dt.datetime) -> Say:
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


def change(clubs: BookClubRepository, club: ClubRecord, verb: str, now: dt.datetime) -> list[Say]:
    """pause / resume / skip / stop, through the pure transitions of flows.schedule."""
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
    clubs.repo.add_event(f"bookclub_{verb}", interview_id=None, person_id=None, now=now,
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


def reflections_reply(clubs: BookClubRepository, person_id: int, locale: str) -> Say:
    rows = []
    for series_key, week, text, at in clubs.reflections(person_id):
        series = bundle().get(series_key)
        theme = series.text(series.week(week).theme, locale) if series else series_key
        rows.append({"week": week, "theme": theme, "text": text, "day": at.date()})
    return say("reflections", rows=rows)


# -- group commands: their own exactly-once step (groups never reach the intake) --------------


def group_step(
    repo: Repository, inbound: Inbound, now: dt.datetime, admin: bool | None
) -> Outcome:
    """`/bookclub` in a group, once per delivery id (a redelivery repeats the reply)."""
    stored = repo.delivery_outcome(inbound.channel, inbound.delivery_id)
    if stored is not None:
        return OUTCOME.validate_json(stored)
    locale = _locale(inbound.locale_hint)
    person = repo.person(inbound.channel, inbound.user_id, now=now, locale=locale)
    where = Where(inbound.channel, inbound.chat_id, "group", person.id, locale)
    outcome = Outcome(locale=locale, replies=control(repo, where, inbound.args, now, admin))
    repo.record_delivery(inbound.channel, inbound.delivery_id, outcome.model_dump_json(), now)
    return outcome


async def handle_group(
    service: DialogueService, inbound: Inbound, admin: bool | None
) -> list[Outbound]:
    """Run a group's `/bookclub` and render the replies; a store failure is an apology."""
    try:
        outcome = await service.store.run(
            partial(group_step, inbound=inbound, now=service.clock(), admin=admin)
        )
    except sqlite3.Error as exc:
        log.error("bookclub command not saved (%s): %s", inbound.delivery_id, exc)
        text = str(macro(_locale(inbound.locale_hint), "safety.j2", "store_failed")()).strip()
        return [Outbound(text)]
    return service.renderer.render(outcome)


def _locale(hint: str | None) -> str:
    code = (hint or "").split("-")[0].lower()
    return code if code in LOCALES else "en"


def stop_chat(
    repo: Repository, channel: str, chat_id: str, reason: str, now: dt.datetime
) -> bool:
    """The bot left a group or was blocked: stop its schedule and record why."""
    stopped = BookClubRepository(repo).stop_club(channel, chat_id, reason, now=now)
    if stopped:
        repo.add_event("bookclub_stop", interview_id=None, person_id=None, now=now, detail=reason)
    return stopped


# -- private chats: inside the intake's step (bot/steps.py calls `dispatch`) -------------------


def dispatch(step: Step) -> bool:
    """Take a private `/bookclub`, a "Reflect privately" link, or the reflection typed after
    it; False: not the book club's (the intake goes on as usual)."""
    inbound = step.inbound
    if not inbound.private:
        return False
    clubs = BookClubRepository(step.repo)
    if inbound.kind is Kind.COMMAND and inbound.payload == COMMAND:
        _took_over(step)
        where = Where(inbound.channel, inbound.chat_id, "private", step.person.id,
                      step.person.locale)
        step.replies.extend(control(step.repo, where, inbound.args, step.now, admin=True))
        return True
    if (
        inbound.kind is Kind.COMMAND
        and inbound.payload == "start"
        and inbound.args.strip().startswith(LINK_PREFIX)
    ):
        _took_over(step)
        open_check_in(step, clubs, inbound.args.strip().removeprefix(LINK_PREFIX))
        return True
    pending = clubs.pending(step.person.id)
    if pending is None:
        return False
    clubs.clear_pending(step.person.id)
    series_key, week, asked_at = pending
    if inbound.kind is not Kind.TEXT or step.now - asked_at > REFLECTION_WINDOW:
        return False  # a command, a button, or much later: the check-in lapses quietly
    _took_over(step)
    clubs.add_reflection(step.person.id, series_key, week, inbound.payload.strip(), now=step.now)
    # The audit trail says that a reflection was written, never its words, and ties it to
    # no interview.
    step.repo.add_event("bookclub_reflection", interview_id=None, person_id=step.person.id,
                        now=step.now, detail=series_key)
    step.replies.append(say("reflection_saved", week=week))
    return True


def _took_over(step: Step) -> None:
    # The erasure rule: anything else sent between /forget and "yes, erase" lets it lapse.
    step.repo.cancel_erasure(step.person.id)


def open_check_in(step: Step, clubs: BookClubRepository, token: str) -> None:
    delivery = clubs.delivery_by_token(token) if token.isascii() and len(token) < 40 else None
    series = bundle().get(delivery.series_key) if delivery is not None else None
    if delivery is None or series is None:
        step.replies.append(say("link_unknown"))
        return
    week = series.week(delivery.week)
    clubs.set_pending(step.person.id, series.key, delivery.week, now=step.now)
    locale = step.person.locale
    step.replies.append(
        say(
            "check_in",
            title=series.text(series.title, locale),
            week=delivery.week,
            theme=series.text(week.theme, locale),
            question=series.text(week.check_in, locale),
            minutes=int(REFLECTION_WINDOW.total_seconds() // 60),
        )
    )


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


def due_chats(repo: Repository, channel: str, now: dt.datetime) -> list[str]:
    """Chats with a week due at `now` (a read: the claim checks again in its transaction)."""
    clubs = BookClubRepository(repo)
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
    repo: Repository, channel: str, chat_id: str, now: dt.datetime, worker: str
) -> ClaimedWeek | None:
    """Take the chat's due week in this transaction, or None if nothing is due (any more)."""
    clubs = BookClubRepository(repo)
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
    repo: Repository, delivery: WeekDelivery, now: dt.datetime, worker: str
) -> ClaimedWeek | None:
    """Take back a week Telegram refused for a while, unless another worker did."""
    clubs = BookClubRepository(repo)
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


def next_wake(repo: Repository, channel: str, now: dt.datetime) -> dt.datetime | None:
    """The earliest instant something becomes due: a week at its slot, or a retry."""
    clubs = BookClubRepository(repo)
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
