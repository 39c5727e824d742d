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

from bot.service import DialogueService
from bot.settings import Settings
from bot.telegram import ALLOWED_UPDATES, RetryPolicy, build_application
from bot.telegram.bookclub import JOB_NAME, BookClubScheduler
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.conftest import Clock
from tests.e2e.telegram_harness import DATE, JSON, FakeBotApi, Phone, _ApiError

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
        """The week messages a chat shows, oldest first."""
        return [m.text for m in self.from_bot(chat_id) if "Talk about it together" in m.text]


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
    assert button["text"] == "Reflect privately"
    url = urlsplit(button["url"])
    assert (url.netloc, url.path) == ("t.me", "/hearth_test_bot")
    start = parse_qs(url.query)["start"][0]
    assert start.startswith("r_")
    return start


async def set_up(club: Club, admin: Phone, args: str = SETUP) -> None:
    await club.send(admin.command("bookclub", args))


# -- setting up --------------------------------------------------------------------------------


async def test_setup__by_an_admin__scheduled_and_told_when(club: Club, admin: Phone) -> None:
    await set_up(club, admin)

    reply = admin.last.text
    assert "All set: Reading together: What Happened to You? (10 weeks)" in reply
    assert "Mondays at 19:00 (Europe/Madrid)" in reply
    assert "Week 1 arrives on Monday Nov 30, 2026 at 19:00 (Europe/Madrid)" in reply
    assert club.api.calls_of("getChatMember")[-1].params == {"chat_id": GROUP, "user_id": ADMIN}
    # The group command did not start an intake: no interview, no consent question.
    assert await club.rows("SELECT * FROM interviews") == []
    assert not any("Do you agree" in m.text for m in admin.screen)


async def test_setup__by_a_member__refused_with_why__nothing_stored(
    club: Club, member: Phone
) -> None:
    await club.send(member.command("bookclub", SETUP))

    assert "Only this group's admins can set up the reading schedule" in member.last.text
    assert await club.rows("SELECT * FROM bookclub_schedules") == []
    await club.send(member.command("bookclub", "status"))  # anyone may look
    assert "This group has no reading series yet" in member.last.text


async def test_controls__by_a_member__refused(club: Club, admin: Phone, member: Phone) -> None:
    await set_up(club, admin)
    for verb in ("pause", "skip", "stop"):
        await club.send(member.command("bookclub", verb))
        assert f"Only this group's admins can {verb} the reading schedule" in member.last.text
    assert await club.rows("SELECT status, skip_week FROM bookclub_schedules") == [
        ("active", None)]


async def test_setup__bad_input__says_what_was_expected(club: Club, admin: Phone) -> None:
    await set_up(club, admin, "setup what_happened funday 25:00 Europe/Madird")

    reply = admin.last.text
    assert "I couldn't set that up" in reply
    assert 'I don\'t understand "funday": expected a series name, a weekday' in reply
    assert '"25:00" is not a time I can use: write the 24-hour time as HH:MM' in reply
    assert '"Europe/Madird" is not a time zone I know: write the IANA name' in reply
    assert "For example: /bookclub setup what_happened monday 19:00 Europe/Madrid" in reply
    assert await club.rows("SELECT * FROM bookclub_schedules") == []


async def test_setup__bare__friendly_defaults_named(club: Club, admin: Phone) -> None:
    await set_up(club, admin, "setup")

    reply = admin.last.text
    assert "Mondays at 19:00 (UTC)" in reply
    assert "I used the usual series, weekday, time, time zone because none was given" in reply


async def test_setup__any_order_and_case__understood(club: Club, admin: Phone) -> None:
    await set_up(club, admin, "setup 7:30 europe/london SAT")
    assert "Saturdays at 07:30 (Europe/London)" in admin.last.text
    assert "I used the usual series" in admin.last.text


# -- weekly delivery ---------------------------------------------------------------------------


async def test_weekly_delivery__one_message_per_week_at_the_slot(club: Club, admin: Phone) -> None:
    await set_up(club, admin)

    assert await club.tick_at(FIRST_SLOT - dt.timedelta(minutes=1)) == 0
    assert await club.tick_at(FIRST_SLOT) == 1
    assert await club.tick_at(FIRST_SLOT + dt.timedelta(minutes=5)) == 0  # not twice

    [week1] = club.api.weeks_in(GROUP)
    assert week1.startswith("📖 Reading together: What Happened to You?\nWeek 1 of 10: Getting")
    for part in ("Talk about it together:\n1. ", "🧠 Brain fact: The brain is built in layers",
                 "(Source: Bottom-up organisation", "🏠 Try at home: Notice one moment",
                 "💬 Check-in: How full is your own tank", "it is never posted here"):
        assert part in week1
    reflect_token(club.api, GROUP)

    assert await club.tick_at(FIRST_SLOT + WEEK) == 1
    assert club.api.weeks_in(GROUP)[-1].split("\n")[1].startswith("Week 2 of 10: From")
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
    assert "Paused. No weekly message" in admin.last.text
    assert await club.tick_at(FIRST_SLOT + WEEK) == 0  # paused: the slot passes

    await club.send(admin.command("bookclub", "resume"))
    assert "Resumed. Week 2 arrives on Monday Dec 14, 2026 at 19:00" in admin.last.text
    assert await club.tick_at(FIRST_SLOT + WEEK + dt.timedelta(hours=1)) == 0  # no rush
    assert await club.tick_at(FIRST_SLOT + 2 * WEEK) == 1

    await club.send(admin.command("bookclub", "skip"))
    assert "Week 3 of 10 is on its way now" in admin.last.text
    assert await club.tick_at(club.clock.now) == 1
    assert await club.tick_at(club.clock.now) == 0  # asked twice or not: one week
    assert await club.tick_at(FIRST_SLOT + 3 * WEEK) == 1  # the weekly slot did not move
    assert [t.split("\n")[1][:9] for t in club.api.weeks_in(GROUP)] == [
        "Week 1 of", "Week 2 of", "Week 3 of", "Week 4 of"]

    await club.send(admin.command("bookclub", "status"))
    assert "4 of 10 weeks sent, Mondays at 19:00 (Europe/Madrid)" in admin.last.text
    assert "Next: week 5 on Monday Dec 28, 2026 at 19:00" in admin.last.text

    await club.send(admin.command("bookclub", "stop"))
    assert "Stopped. No more weekly messages" in admin.last.text
    assert await club.tick_at(FIRST_SLOT + 4 * WEEK) == 0
    await club.send(admin.command("bookclub", "resume"))
    assert "The schedule is stopped, so there is nothing to resume" in admin.last.text


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
                      if "Week 1 of 10" in str(c.params["text"])) == [GROUP - n for n in range(
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
    assert [t.split("\n")[1][:9] for t in club.api.weeks_in(GROUP)] == [
        "Week 1 of", "Week 2 of", "Week 3 of"]


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
    assert "An admin can start it with /bookclub setup" in admin.last.text


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

    tries = [c for c in club.api.calls_of("sendMessage") if "Week 1 of" in str(c.params["text"])]
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
    assert "Telegram did not confirm that week 1 arrived. It is not sent again" in admin.last.text


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
    await set_up(club, admin)
    await club.tick_at(FIRST_SLOT)
    start = reflect_token(club.api, GROUP)
    reader = Phone(club.api, club.app.bot, READER, first_name="Rut")

    await club.send(reader.command("start", start))
    assert "How full is your own tank this week" in reader.last.text
    assert "Only you will see it" in reader.last.text
    words = "Running on empty since the move, honestly"
    await club.send(reader.text(words))
    assert "Saved, just for you: your week 1 check-in" in reader.last.text

    await club.send(admin.command("bookclub", "reflections"))
    assert "Reflections are private, so I never show them in a group" in admin.last.text
    await club.send(reader.command("bookclub", "reflections"))
    assert words in reader.last.text

    assert club.api.group_texts() and not any(words in t for t in club.api.group_texts())
    assert not any(words in m.text for m in club.api.chat(GROUP))
    # No interview was started by the link or the reply.
    assert await club.rows("SELECT * FROM interviews") == []


async def test_reflection__link_then_other_command__nothing_saved(
    club: Club, admin: Phone
) -> None:
    await set_up(club, admin)
    await club.tick_at(FIRST_SLOT)
    reader = Phone(club.api, club.app.bot, READER)
    await club.send(reader.command("start", reflect_token(club.api, GROUP)))
    await club.send(reader.command("help"), reader.text("not a reflection"))
    assert await club.rows("SELECT * FROM bookclub_reflections") == []


async def test_reflection__unknown_link__said_so(club: Club) -> None:
    reader = Phone(club.api, club.app.bot, READER)
    await club.send(reader.command("start", "r_AAAAAAAAAAAA"))
    assert "That reflection link doesn't lead to a week I know" in reader.last.text
    # Not counted as a wrong invitation code.
    assert await club.rows("SELECT * FROM attempts") == []


async def test_forget__erases_reflections(club: Club, admin: Phone) -> None:
    await set_up(club, admin)
    await club.tick_at(FIRST_SLOT)
    reader = Phone(club.api, club.app.bot, READER)
    await club.send(reader.command("start", reflect_token(club.api, GROUP)))
    await club.send(reader.text("Half full"))
    assert len(await club.rows("SELECT * FROM bookclub_reflections")) == 1

    await club.send(reader.command("forget"), reader.text("yes, erase"))

    assert await club.rows("SELECT * FROM bookclub_reflections") == []
    await club.send(reader.command("bookclub", "reflections"))
    assert "You haven't written any reflections yet" in reader.last.text
    # The group's schedule runs on for the others.
    assert await club.rows("SELECT status FROM bookclub_schedules") == [("active",)]


# -- private subscribers -----------------------------------------------------------------------


async def test_private_subscriber__weekly_in_their_chat__with_controls(club: Club) -> None:
    reader = Phone(club.api, club.app.bot, READER)
    await club.send(reader.command("bookclub", "setup saturday 09:00 Europe/London"))
    assert "All set" in reader.last.text
    assert "Saturdays at 09:00 (Europe/London)" in reader.last.text
    assert "Week 1 arrives on Saturday Nov 28, 2026 at 09:00" in reader.last.text

    assert await club.tick_at(dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)) == 1
    assert len(club.api.weeks_in(READER)) == 1
    await club.send(reader.command("bookclub", "pause"))
    assert await club.tick_at(dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)) == 0
    await club.send(reader.command("bookclub", "status"))
    assert "1 of 10 weeks sent" in reader.last.text and "Paused" in reader.last.text
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
    assert "Listo" in admin.last.text and "los lunes a las 19:00 (Europe/Madrid)" in admin.last.text

    assert await club.tick_at(FIRST_SLOT) == 1
    week = club.api.from_bot(GROUP)[-1]
    assert "Semana 1 de 10" in week.text and "Para hablar juntos" in week.text
    assert week.labels == ["Reflexionar en privado"]


async def test_setup__anonymous_admin__accepted_without_asking(club: Club) -> None:
    anonymous = Phone(club.api, club.app.bot, 1087968824, first_name="Group", group=GROUP)
    text = f"/bookclub {SETUP}"
    message = anonymous._message(
        text=text, entities=[{"type": "bot_command", "offset": 0, "length": 9}],
        sender_chat=club.api.chat_json(GROUP))
    await club.send(anonymous._update(message=message))
    assert "All set" in anonymous.last.text
    assert club.api.calls_of("getChatMember") == []  # posting as the group: only admins can


async def test_setup__admin_check_fails__nothing_changes_try_again(
    club: Club, admin: Phone
) -> None:
    club.api.fail_next("getChatMember", timeout=True)
    await set_up(club, admin)
    assert "I couldn't check with Telegram that you are an admin" in admin.last.text
    assert await club.rows("SELECT * FROM bookclub_schedules") == []


async def test_flood_wait__still_refused_after_retries__sent_later_not_dropped(
    club: Club, admin: Phone
) -> None:
    await set_up(club, admin)
    club.api.fail_next("sendMessage", retry_after=1, times=4)  # the limiter tries 1 + 3 times

    assert await club.tick_at(FIRST_SLOT) == 0
    assert await club.rows("SELECT week, status FROM bookclub_deliveries") == [(1, "retry")]
    await club.send(admin.command("bookclub", "status"))
    assert "Week 1 is waiting: Telegram asked me to slow down" in admin.last.text
    assert club.scheduler.next_wake == FIRST_SLOT + dt.timedelta(seconds=1)

    assert await club.tick_at(FIRST_SLOT + dt.timedelta(seconds=1)) == 1
    assert len(club.api.weeks_in(GROUP)) == 1
    assert await club.rows("SELECT week, status, attempts FROM bookclub_deliveries") == [
        (1, "sent", 2)]


async def test_added_by_a_spanish_speaker__greets_in_spanish(club: Club) -> None:
    adder = Phone(club.api, club.app.bot, ADMIN, language_code="es", group=GROUP)
    await club.send(membership(adder, "left", "member"))
    assert "Un administrador puede empezarla con /bookclub setup" in adder.last.text


async def test_reflection__suggests_danger__support_message_at_once(
    club: Club, admin: Phone
) -> None:
    await set_up(club, admin)
    await club.tick_at(FIRST_SLOT)
    reader = Phone(club.api, club.app.bot, READER)
    await club.send(reader.command("start", reflect_token(club.api, GROUP)))

    await club.send(reader.text("Running on empty. We are not safe at home"))

    assert "please call your local emergency number straight away" in reader.last.text
    assert not any("not safe" in text for text in club.api.group_texts())
    assert await club.rows("SELECT kind FROM events WHERE kind = 'safety_flag'") == [
        ("safety_flag",)]
