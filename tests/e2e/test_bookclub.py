"""Book clubs on Telegram: real Application, real SQLite file, offline Bot API, a test clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from telegram import Update
from telegram.ext import Application

from bot import bookclub
from bot.service import DialogueService
from bot.settings import Settings
from bot.telegram import ALLOWED_UPDATES, RetryPolicy, build_application
from bot.telegram.bookclub import JOB_NAME, BookClubScheduler
from flows.catalog import FlowCatalog
from flows.series import Series
from store.sqlite import Store
from tests.conftest import Clock, said
from tests.e2e.telegram_harness import (
    DATE,
    JSON,
    FakeBotApi,
    Phone,
    _ApiError,
    record_deliveries,
)

TOKEN = "123456:offline-test-token"
GROUP = -5001
ADMIN, MEMBER, READER = 2001, 2002, 2003
SETUP = "setup what_happened monday 19:00 Europe/Madrid"
#: Monday 30 November 2026, 19:00 in Madrid (UTC+1): the first slot after the test clock's
#: start (Wednesday 25 November, 09:00 UTC).
FIRST_SLOT = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)


class ClubApi(FakeBotApi):
    """The offline Bot API plus who administers which group (getChatMember)."""

    def __init__(self) -> None:
        super().__init__()
        self.admins: dict[int, set[int]] = {}
        self.refuse: int | None = None  # a chat that has removed the bot

    def api_sendMessage(self, params: JSON, files: Any) -> JSON:
        if self.refuse is not None and int(params["chat_id"]) == self.refuse:
            raise _ApiError(403, "Forbidden: bot was kicked from the group chat")
        return super().api_sendMessage(params, files)

    def api_getChatMember(self, params: JSON, files: Any) -> JSON:
        chat, user = int(params["chat_id"]), int(params["user_id"])
        person = {"id": user, "is_bot": False, "first_name": "Someone"}
        if user in self.admins.get(chat, set()):
            return {"status": "creator", "user": person, "is_anonymous": False}
        return {"status": "member", "user": person}

    def group_texts(self) -> list[str]:
        """Every text the bot ever sent or wrote into any group (calls, not the screen)."""
        texts = []
        for call in self.calls:
            chat = call.params.get("chat_id")
            if chat is not None and int(chat) < 0:
                texts += [str(v) for v in call.params.values()]
        return texts

    def weeks_in(self, chat_id: int) -> list[str]:
        """The week messages a chat shows, oldest first: those with a reflection link."""
        return [
            m.text for m in self.from_bot(chat_id)
            if any(f"?start={bookclub.LINK_PREFIX}" in str(b.get("url")) for row in m.keyboard
                   for b in row)
        ]


def usual_series() -> Series:
    """The usual series, the one SETUP names."""
    found = bookclub.latest_series("what_happened")
    assert found is not None
    return found


def series_title(locale: str) -> str:
    return usual_series().text(usual_series().title, locale)


def week_text(number: int, locale: str = "en") -> str:
    """Week `number` of the usual series as a chat shows it, in the templates' wording."""
    return bookclub.render_week(usual_series(), number, locale).text


def setup_done(locale: str = "en", **changes: object) -> str:
    """The reply to SETUP on the test clock's first day, in the templates' wording."""
    params: dict[str, object] = {
        "replaced": False, "group": True, "title": series_title(locale),
        "weeks": 10, "week": 1, "defaulted": [],
        "example": "what_happened monday 19:00 Europe/Madrid",
        "weekday": "monday", "time": "19:00", "timezone": "Europe/Madrid",
        "when_day": dt.date(2026, 11, 30), "when_weekday": "monday", "when_time": "19:00",
    }
    return said("bookclub.setup_done", locale, **(params | changes))


@dataclass
class Club:
    """One running bot with its book-club scheduler and the test's clock."""

    api: ClubApi
    app: Application  # type: ignore[type-arg]
    service: DialogueService
    clock: Clock

    @property
    def scheduler(self) -> BookClubScheduler:
        found = self.app.bot_data["bookclub"]
        assert isinstance(found, BookClubScheduler)
        return found

    async def send(self, *updates: Update) -> None:
        for update in updates:
            await self.app.process_update(update)

    async def tick_at(self, when: dt.datetime) -> int:
        """Move the clock to `when` and let the scheduler act; how many weeks it sent."""
        self.clock.now = when
        return (await self.scheduler.tick()).sent

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return await self.service.store.read(lambda repo: repo.conn.execute(sql).fetchall())

    async def stop(self) -> None:
        if self.app.job_queue is not None and self.app.job_queue.scheduler.running:
            await self.app.job_queue.stop(wait=False)
        await self.app.shutdown()
        await self.service.store.close()


async def open_club(db_path: Path, catalog: FlowCatalog, clock: Clock, api: ClubApi) -> Club:
    service = DialogueService(await Store.open(db_path), catalog, clock=clock)
    app = build_application(service, Settings(telegram_token=TOKEN), request=api,
                            retry=RetryPolicy(attempts=3, backoff=0))
    record_deliveries(app, api)
    await app.initialize()
    return Club(api, app, service, clock)


@pytest.fixture
async def club(db_path: Path, catalog: FlowCatalog, clock: Clock) -> AsyncIterator[Club]:
    running = await open_club(db_path, catalog, clock, ClubApi())
    running.api.admins[GROUP] = {ADMIN}
    yield running
    await running.stop()


@pytest.fixture
def admin(club: Club) -> Phone:
    return Phone(club.api, club.app.bot, ADMIN, first_name="Amaia", group=GROUP)


@pytest.fixture
def member(club: Club) -> Phone:
    return Phone(club.api, club.app.bot, MEMBER, first_name="Mo", group=GROUP)


def membership(phone: Phone, old: str, new: str) -> Update:
    """The my_chat_member update Telegram sends when the bot's status in a chat changes."""
    bot_user = phone.api.bot_user()
    data = {
        "update_id": phone.api.next_update_id(),
        "my_chat_member": {
            "chat": phone.api.chat_json(phone.chat_id),
            "from": phone.user,
            "date": DATE,
            "old_chat_member": {"status": old, "user": bot_user},
            "new_chat_member": {"status": new, "user": bot_user}
            | ({"until_date": 0} if new == "kicked" else {}),
        },
    }
    update = Update.de_json(data, phone.bot)
    assert update is not None
    return update


def reflect_token(api: ClubApi, chat_id: int) -> str:
    """The r_<token> of the newest week's "Reflect privately" button in a chat."""
    week = [m for m in api.from_bot(chat_id) if m.keyboard][-1]
    [[button]] = week.keyboard
    assert button["text"] == said("bookclub.reflect_button")
    url = urlsplit(button["url"])
    assert (url.netloc, url.path) == ("t.me", "/hearth_test_bot")
    start = parse_qs(url.query)["start"][0]
    assert start.startswith("r_")
    return start


async def set_up(club: Club, admin: Phone, args: str = SETUP) -> None:
    await club.send(admin.command("bookclub", args))


async def reader_at_reflection(club: Club, admin: Phone, first_name: str = "Ana") -> Phone:
    """The club set up and its first week sent; a reader opened its "Reflect privately" link."""
    await set_up(club, admin)
    await club.tick_at(FIRST_SLOT)
    reader = Phone(club.api, club.app.bot, READER, first_name=first_name)
    await club.send(reader.command("start", reflect_token(club.api, GROUP)))
    return reader


# -- setting up --------------------------------------------------------------------------------


async def test_setup__by_an_admin__scheduled_and_told_when(club: Club, admin: Phone) -> None:
    await set_up(club, admin)

    assert admin.last.key == "bookclub.setup_done"
    assert admin.last.text == setup_done()  # Mondays at 19:00 in Madrid, from 30 November
    assert club.api.calls_of("getChatMember")[-1].params == {"chat_id": GROUP, "user_id": ADMIN}
    # The group command did not start an intake: no interview, no consent question.
    assert await club.rows("SELECT * FROM interviews") == []
    assert "replies.consent" not in admin.keys


async def test_setup__by_a_member__refused_with_why__nothing_stored(
    club: Club, member: Phone
) -> None:
    await club.send(member.command("bookclub", SETUP))

    assert member.last.key == "bookclub.not_admin"
    assert member.last.text == said("bookclub.not_admin", verb="setup")
    assert await club.rows("SELECT * FROM bookclub_schedules") == []
    await club.send(member.command("bookclub", "status"))  # anyone may look
    assert member.last.key == "bookclub.status_none"


async def test_controls__by_a_member__refused(club: Club, admin: Phone, member: Phone) -> None:
    await set_up(club, admin)
    for verb in ("pause", "skip", "stop"):
        await club.send(member.command("bookclub", verb))
        assert member.last.key == "bookclub.not_admin"
        assert member.last.text == said("bookclub.not_admin", verb=verb)
    assert await club.rows("SELECT status, skip_week FROM bookclub_schedules") == [
        ("active", None)]


async def test_setup__bad_input__says_what_was_expected(club: Club, admin: Phone) -> None:
    await set_up(club, admin, "setup what_happened funday 25:00 Europe/Madird")

    assert admin.last.key == "bookclub.setup_problem"
    # Each word it could not use is named, with what was expected, and a working example.
    assert admin.last.text == said("bookclub.setup_problem", problems=[
        {"code": "unknown_word", "word": "funday"}, {"code": "bad_time", "word": "25:00"},
        {"code": "bad_zone", "word": "Europe/Madird"},
    ], example="what_happened monday 19:00 Europe/Madrid")
    assert await club.rows("SELECT * FROM bookclub_schedules") == []


async def test_setup__bare__friendly_defaults_named(club: Club, admin: Phone) -> None:
    await set_up(club, admin, "setup")

    assert admin.last.key == "bookclub.setup_done"
    assert admin.last.text == setup_done(
        defaulted=["series", "weekday", "time", "timezone"], timezone="UTC",
        when_day=dt.date(2026, 11, 30))


async def test_setup__any_order_and_case__understood(club: Club, admin: Phone) -> None:
    await set_up(club, admin, "setup 7:30 europe/london SAT")
    assert admin.last.text == setup_done(
        defaulted=["series"], weekday="saturday", time="07:30", timezone="Europe/London",
        when_day=dt.date(2026, 11, 28), when_weekday="saturday", when_time="07:30")


# -- weekly delivery ---------------------------------------------------------------------------


async def test_weekly_delivery__one_message_per_week_at_the_slot(club: Club, admin: Phone) -> None:
    await set_up(club, admin)

    assert await club.tick_at(FIRST_SLOT - dt.timedelta(minutes=1)) == 0
    assert await club.tick_at(FIRST_SLOT) == 1
    assert await club.tick_at(FIRST_SLOT + dt.timedelta(minutes=5)) == 0  # not twice

    [week1] = club.api.weeks_in(GROUP)
    assert week1 == week_text(1)
    # The series' own words for week 1 (its data, not the template's).
    for part in ("Reading together: What Happened to You?", "The brain is built in layers",
                 "Bottom-up organisation", "Notice one moment", "How full is your own tank"):
        assert part in week1
    reflect_token(club.api, GROUP)

    assert await club.tick_at(FIRST_SLOT + WEEK) == 1
    assert club.api.weeks_in(GROUP)[-1] == week_text(2)
    # The log says what Telegram confirmed.
    assert await club.rows("SELECT week, status FROM bookclub_deliveries ORDER BY week") == [
        (1, "sent"), (2, "sent")]


async def test_weekly_delivery__daylight_saving__keeps_local_time(
    club: Club, admin: Phone
) -> None:
    club.clock.now = dt.datetime(2027, 3, 20, 9, 0, tzinfo=dt.UTC)
    await set_up(club, admin, "setup what_happened sunday 19:00 Europe/Madrid")
    assert await club.tick_at(dt.datetime(2027, 3, 21, 18, 0, tzinfo=dt.UTC)) == 1  # UTC+1
    # Clocks go forward on 28 March: 19:00 in Madrid is now 17:00 UTC.
    assert await club.tick_at(dt.datetime(2027, 3, 28, 16, 59, tzinfo=dt.UTC)) == 0
    assert await club.tick_at(dt.datetime(2027, 3, 28, 17, 0, tzinfo=dt.UTC)) == 1


async def test_pause_resume_skip_stop(club: Club, admin: Phone) -> None:
    await set_up(club, admin)
    await club.tick_at(FIRST_SLOT)

    await club.send(admin.command("bookclub", "pause"))
    assert admin.last.key == "bookclub.done_pause"
    assert await club.tick_at(FIRST_SLOT + WEEK) == 0  # paused: the slot passes

    await club.send(admin.command("bookclub", "resume"))
    assert admin.last.key == "bookclub.done_resume"
    assert "Monday Dec 14, 2026" in admin.last.text  # week 2: the 7th went by while paused
    assert await club.tick_at(FIRST_SLOT + WEEK + dt.timedelta(hours=1)) == 0  # no rush
    assert await club.tick_at(FIRST_SLOT + 2 * WEEK) == 1

    await club.send(admin.command("bookclub", "skip"))
    assert admin.last.key == "bookclub.done_skip"
    assert admin.last.text == said(
        "bookclub.done_skip", week=3, total=10, weekday="monday", time="19:00",
        timezone="Europe/Madrid", when_day=None, when_weekday=None, when_time=None)
    assert await club.tick_at(club.clock.now) == 1
    assert await club.tick_at(club.clock.now) == 0  # asked twice or not: one week
    assert await club.tick_at(FIRST_SLOT + 3 * WEEK) == 1  # the weekly slot did not move
    assert club.api.weeks_in(GROUP) == [week_text(n) for n in (1, 2, 3, 4)]

    await club.send(admin.command("bookclub", "status"))
    assert admin.last.key == "bookclub.status"
    assert admin.last.text == said(
        "bookclub.status", title=series_title("en"),
        status="active", reason=None, sent=4, total=10, finished=False, skip_week=None,
        unconfirmed=[], waiting=[], weekday="monday", time="19:00", timezone="Europe/Madrid",
        when_day=dt.date(2026, 12, 28), when_weekday="monday", when_time="19:00")

    await club.send(admin.command("bookclub", "stop"))
    assert admin.last.key == "bookclub.done_stop"
    assert await club.tick_at(FIRST_SLOT + 4 * WEEK) == 0
    await club.send(admin.command("bookclub", "resume"))
    assert admin.last.key == "bookclub.cannot"
    assert admin.last.text == said("bookclub.cannot", verb="resume", status="stopped",
                                   finished=False)


async def test_skip_while_paused__sends_the_asked_week(club: Club, admin: Phone) -> None:
    await set_up(club, admin)
    await club.send(admin.command("bookclub", "pause"), admin.command("bookclub", "skip"))
    assert await club.tick_at(club.clock.now) == 1
    assert await club.tick_at(FIRST_SLOT) == 0  # still paused


async def test_redelivered_command__changes_nothing_twice(club: Club, admin: Phone) -> None:
    await set_up(club, admin)
    await club.tick_at(FIRST_SLOT)
    skip = admin.command("bookclub", "skip")
    await club.send(skip, skip)
    assert await club.tick_at(club.clock.now) == 1
    assert await club.rows("SELECT max(week) FROM bookclub_deliveries") == [(2,)]


# -- restarts, workers, downtime ---------------------------------------------------------------


async def test_restart__same_database__no_week_sent_twice(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    api = ClubApi()
    api.admins[GROUP] = {ADMIN}
    first = await open_club(db_path, catalog, clock, api)
    admin = Phone(api, first.app.bot, ADMIN, group=GROUP)
    await set_up(first, admin)
    assert await first.tick_at(FIRST_SLOT) == 1
    await first.stop()

    second = await open_club(db_path, catalog, clock, api)
    try:
        # The schedule was rebuilt from the store; the week is not sent again.
        assert await second.tick_at(FIRST_SLOT + dt.timedelta(minutes=1)) == 0
        assert await second.tick_at(FIRST_SLOT + WEEK) == 1
        assert len(api.weeks_in(GROUP)) == 2
    finally:
        await second.stop()


async def test_two_workers__same_database__each_week_once(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    api = ClubApi()
    api.admins[GROUP] = {ADMIN}
    api.latency = 0.01  # both workers are mid-send at the same time
    one = await open_club(db_path, catalog, clock, api)
    two = await open_club(db_path, catalog, clock, api)
    try:
        for n in range(5):
            group = GROUP - n
            api.admins[group] = {ADMIN}
            await set_up(one, Phone(api, one.app.bot, ADMIN, group=group))
        clock.now = FIRST_SLOT
        sent = await asyncio.gather(one.scheduler.tick(), two.scheduler.tick())
        assert sent[0].sent + sent[1].sent == 5
        assert sorted(int(c.params["chat_id"]) for c in api.calls_of("sendMessage")
                      if c.params["text"] == week_text(1)) == [GROUP - n for n in range(
                          4, -1, -1)]
    finally:
        await one.stop()
        await two.stop()


async def test_downtime__three_missed_weeks__exactly_one_sent(club: Club, admin: Phone) -> None:
    await set_up(club, admin)
    assert await club.tick_at(FIRST_SLOT) == 1

    # The bot was down for three Mondays; it comes back on a Thursday.
    back = FIRST_SLOT + 3 * WEEK + dt.timedelta(days=3)
    assert await club.tick_at(back) == 1
    assert await club.tick_at(back + dt.timedelta(hours=1)) == 0
    assert await club.tick_at(FIRST_SLOT + 4 * WEEK) == 1  # then the regular slot
    assert club.api.weeks_in(GROUP) == [week_text(n) for n in (1, 2, 3)]


# -- leaving a group ---------------------------------------------------------------------------


async def test_removed_from_group__schedule_stopped__nothing_sent(club: Club, admin: Phone) -> None:
    await set_up(club, admin)
    calls = len(club.api.calls)
    await club.send(membership(admin, "member", "left"))

    assert len(club.api.calls) == calls  # nothing sent to a group it has left
    assert await club.rows("SELECT status, stopped_reason FROM bookclub_schedules") == [
        ("stopped", "removed")]
    assert await club.rows("SELECT kind, detail FROM events WHERE kind = 'bookclub_stop'") == [
        ("bookclub_stop", "removed")]
    assert await club.tick_at(FIRST_SLOT) == 0
    assert club.api.weeks_in(GROUP) == []


async def test_added_to_group__says_how_to_start(club: Club, admin: Phone) -> None:
    await club.send(membership(admin, "left", "member"))
    assert admin.last.key == "bookclub.welcome_group"


async def test_week_refused__bot_was_kicked__stopped_not_retried(
    club: Club, admin: Phone
) -> None:
    await set_up(club, admin)
    club.api.refuse = GROUP
    assert await club.tick_at(FIRST_SLOT) == 0
    assert await club.rows("SELECT week, status FROM bookclub_deliveries") == [(1, "failed")]
    assert await club.rows("SELECT status, stopped_reason FROM bookclub_schedules") == [
        ("stopped", "removed")]
    assert await club.tick_at(FIRST_SLOT + WEEK) == 0
    assert len(club.api.calls_of("sendMessage")) == 2  # the setup reply and the one refusal


# -- rates and failures ------------------------------------------------------------------------


async def test_flood_wait__week_sent_once_after_the_wait(club: Club, admin: Phone) -> None:
    await set_up(club, admin)
    club.api.fail_next("sendMessage", retry_after=1)

    assert await club.tick_at(FIRST_SLOT) == 1

    tries = [c for c in club.api.calls_of("sendMessage") if c.params["text"] == week_text(1)]
    assert [c.failed for c in tries] == ["429", None]
    assert tries[1].at - tries[0].at >= 1.0  # waited as long as Telegram asked
    assert len(club.api.weeks_in(GROUP)) == 1


async def test_timeout__week_not_sent_twice(club: Club, admin: Phone) -> None:
    await set_up(club, admin)
    club.api.fail_next("sendMessage", timeout=True)
    assert await club.tick_at(FIRST_SLOT) == 0
    assert await club.tick_at(FIRST_SLOT + dt.timedelta(hours=1)) == 0
    assert await club.rows("SELECT week, status FROM bookclub_deliveries") == [
        (1, "unconfirmed")]
    assert await club.tick_at(FIRST_SLOT + WEEK) == 1  # the series goes on with week 2
    await club.send(admin.command("bookclub", "status"))
    assert admin.last.key == "bookclub.status"
    assert admin.last.text.endswith(said("bookclub.status", title="", status="active",
        reason=None, sent=0, total=10, finished=False, skip_week=None, unconfirmed=[1],
        waiting=[], weekday="monday", time="19:00", timezone="Europe/Madrid", when_day=None,
        when_weekday=None, when_time=None).split("\n")[-1])  # week 1: not confirmed


# -- the job queue -----------------------------------------------------------------------------


async def test_job_queue__wakes_at_the_next_slot(club: Club, admin: Phone) -> None:
    assert Update.MY_CHAT_MEMBER in ALLOWED_UPDATES
    queue = club.app.job_queue
    assert queue is not None
    await queue.start()
    await set_up(club, admin)
    club.clock.now = FIRST_SLOT - dt.timedelta(minutes=30)

    wake = await club.scheduler.reschedule()

    assert wake == FIRST_SLOT
    [job] = queue.get_jobs_by_name(JOB_NAME)
    assert job.next_t is not None
    in_real_time = job.next_t - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=29) < in_real_time <= dt.timedelta(minutes=30)


async def test_job_queue__start_up_tick_catches_up(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    api = ClubApi()
    api.admins[GROUP] = {ADMIN}
    first = await open_club(db_path, catalog, clock, api)
    await set_up(first, Phone(api, first.app.bot, ADMIN, group=GROUP))
    await first.stop()

    clock.now = FIRST_SLOT + dt.timedelta(hours=2)  # the slot passed while it was down
    second = await open_club(db_path, catalog, clock, api)
    try:
        assert second.app.job_queue is not None
        await asyncio.sleep(1.2)  # a slow start-up (getMe, setMyCommands) before start()
        await second.app.job_queue.start()  # as Application.start() does
        await api.wait_until(lambda: len(api.weeks_in(GROUP)) == 1)
        await asyncio.sleep(0.05)
        assert len(api.weeks_in(GROUP)) == 1
    finally:
        await second.stop()


# -- private reflections -----------------------------------------------------------------------


async def test_reflection__private_chat_only__never_in_the_group(
    club: Club, admin: Phone
) -> None:
    reader = await reader_at_reflection(club, admin, first_name="Rut")
    assert reader.last.key == "bookclub.check_in"
    assert "How full is your own tank this week" in reader.last.text  # the series' question
    words = "Running on empty since the move, honestly"
    await club.send(reader.text(words))
    assert reader.last.key == "bookclub.reflection_saved"
    assert reader.last.text == said("bookclub.reflection_saved", week=1)

    await club.send(admin.command("bookclub", "reflections"))
    assert admin.last.key == "bookclub.reflections_in_private"
    await club.send(reader.command("bookclub", "reflections"))
    assert reader.last.key == "bookclub.reflections" and words in reader.last.text

    assert club.api.group_texts() and not any(words in t for t in club.api.group_texts())
    assert not any(words in m.text for m in club.api.chat(GROUP))
    # No interview was started by the link or the reply.
    assert await club.rows("SELECT * FROM interviews") == []


async def test_reflection__link_then_other_command__nothing_saved(
    club: Club, admin: Phone
) -> None:
    reader = await reader_at_reflection(club, admin)
    await club.send(reader.command("help"), reader.text("not a reflection"))
    assert await club.rows("SELECT * FROM bookclub_reflections") == []


async def test_reflection__unknown_link__said_so(club: Club) -> None:
    reader = Phone(club.api, club.app.bot, READER)
    await club.send(reader.command("start", "r_AAAAAAAAAAAA"))
    assert reader.last.key == "bookclub.link_unknown"
    # Not counted as a wrong invitation code.
    assert await club.rows("SELECT * FROM attempts") == []


async def test_forget__erases_reflections(club: Club, admin: Phone) -> None:
    reader = await reader_at_reflection(club, admin)
    await club.send(reader.text("Half full"))
    assert len(await club.rows("SELECT * FROM bookclub_reflections")) == 1

    await club.send(reader.command("forget"), reader.text("yes, erase"))

    assert await club.rows("SELECT * FROM bookclub_reflections") == []
    await club.send(reader.command("bookclub", "reflections"))
    assert reader.last.key == "bookclub.reflections"
    assert reader.last.text == said("bookclub.reflections", rows=[])
    # The group's schedule runs on for the others.
    assert await club.rows("SELECT status FROM bookclub_schedules") == [("active",)]


# -- private subscribers -----------------------------------------------------------------------


async def test_private_subscriber__weekly_in_their_chat__with_controls(club: Club) -> None:
    reader = Phone(club.api, club.app.bot, READER)
    await club.send(reader.command("bookclub", "setup saturday 09:00 Europe/London"))
    assert reader.last.text == setup_done(
        group=False, defaulted=["series"], weekday="saturday", time="09:00",
        timezone="Europe/London", when_day=dt.date(2026, 11, 28), when_weekday="saturday",
        when_time="09:00")

    assert await club.tick_at(dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)) == 1
    assert len(club.api.weeks_in(READER)) == 1
    await club.send(reader.command("bookclub", "pause"))
    assert await club.tick_at(dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)) == 0
    await club.send(reader.command("bookclub", "status"))
    assert reader.last.key == "bookclub.status"
    assert reader.last.text == said(
        "bookclub.status", title=series_title("en"),
        status="paused", reason=None, sent=1, total=10, finished=False, skip_week=None,
        unconfirmed=[], waiting=[], weekday="saturday", time="09:00", timezone="Europe/London",
        when_day=None, when_weekday=None, when_time=None)
    assert await club.rows("SELECT * FROM interviews") == []


async def test_private_subscriber__blocks_the_bot__stopped(club: Club) -> None:
    reader = Phone(club.api, club.app.bot, READER)
    await club.send(reader.command("bookclub", "setup"))
    await club.send(membership(reader, "member", "kicked"))
    assert await club.rows("SELECT status, stopped_reason FROM bookclub_schedules") == [
        ("stopped", "blocked")]


async def test_spanish_admin__replies_and_weeks_in_spanish(club: Club) -> None:
    admin = Phone(club.api, club.app.bot, ADMIN, language_code="es", group=GROUP)
    await club.send(admin.command("bookclub", "setup what_happened lunes 19:00 Europe/Madrid"))
    assert admin.last.text == setup_done("es", example="what_happened monday 19:00 Europe/Madrid")

    assert await club.tick_at(FIRST_SLOT) == 1
    week = club.api.from_bot(GROUP)[-1]
    assert week.text == week_text(1, "es")
    assert week.labels == [said("bookclub.reflect_button", "es")]


async def test_setup__anonymous_admin__accepted_without_asking(club: Club) -> None:
    anonymous = Phone(club.api, club.app.bot, 1087968824, first_name="Group", group=GROUP)
    text = f"/bookclub {SETUP}"
    message = anonymous._message(
        text=text, entities=[{"type": "bot_command", "offset": 0, "length": 9}],
        sender_chat=club.api.chat_json(GROUP))
    await club.send(anonymous._update(message=message))
    assert anonymous.last.key == "bookclub.setup_done"
    assert club.api.calls_of("getChatMember") == []  # posting as the group: only admins can


async def test_setup__admin_check_fails__nothing_changes_try_again(
    club: Club, admin: Phone
) -> None:
    club.api.fail_next("getChatMember", timeout=True)
    await set_up(club, admin)
    assert admin.last.key == "bookclub.admin_unknown"
    assert await club.rows("SELECT * FROM bookclub_schedules") == []


async def test_flood_wait__still_refused_after_retries__sent_later_not_dropped(
    club: Club, admin: Phone
) -> None:
    await set_up(club, admin)
    club.api.fail_next("sendMessage", retry_after=1, times=4)  # the limiter tries 1 + 3 times

    assert await club.tick_at(FIRST_SLOT) == 0
    assert await club.rows("SELECT week, status FROM bookclub_deliveries") == [(1, "retry")]
    await club.send(admin.command("bookclub", "status"))
    assert admin.last.key == "bookclub.status"
    assert admin.last.text.endswith(said("bookclub.status", title="", status="active",
        reason=None, sent=0, total=10, finished=False, skip_week=None, unconfirmed=[],
        waiting=[1], weekday="monday", time="19:00", timezone="Europe/Madrid", when_day=None,
        when_weekday=None, when_time=None).split("\n")[-1])  # week 1: waiting
    assert club.scheduler.next_wake == FIRST_SLOT + dt.timedelta(seconds=1)

    assert await club.tick_at(FIRST_SLOT + dt.timedelta(seconds=1)) == 1
    assert len(club.api.weeks_in(GROUP)) == 1
    assert await club.rows("SELECT week, status, attempts FROM bookclub_deliveries") == [
        (1, "sent", 2)]


async def test_added_by_a_spanish_speaker__greets_in_spanish(club: Club) -> None:
    adder = Phone(club.api, club.app.bot, ADMIN, language_code="es", group=GROUP)
    await club.send(membership(adder, "left", "member"))
    assert adder.last.key == "bookclub.welcome_group"
    assert adder.last.text == said("bookclub.welcome_group", "es")


async def test_reflection__suggests_danger__support_message_at_once(
    club: Club, admin: Phone
) -> None:
    reader = await reader_at_reflection(club, admin)

    await club.send(reader.text("Running on empty. We are not safe at home"))

    assert reader.last.key == "safety.support"
    assert not any("not safe" in text for text in club.api.group_texts())
    assert await club.rows("SELECT kind FROM events WHERE kind = 'safety_flag'") == [
        ("safety_flag",)]
