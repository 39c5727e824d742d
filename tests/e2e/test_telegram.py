"""A caregiver on Telegram: real Application, real service, real SQLite file, offline Bot API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.data.load import current_answers
from bot.model import Attachment, Choice, Inbound, Kind, Outbound
from bot.payload import MAX_BYTES
from bot.service import DialogueService
from bot.settings import Settings
from bot.telegram import (
    ALLOWED_UPDATES,
    MENU,
    RetryPolicy,
    build_application,
    publish_commands,
)
from bot.telegram.ordering import PerPersonUpdateProcessor
from bot.telegram.polling import Poller
from flows.catalog import FlowCatalog
from flows.engine import AgeValue
from store.sqlite import Store
from tests.conftest import Clock, questions, said
from tests.e2e.telegram_harness import BOT_USERNAME, FakeBotApi, Phone, record_deliveries

TOKEN = "123456:offline-test-token"
ANA, LEO = 1001, 1002


@dataclass
class Running:
    """One running bot: the Application, its service and store, and Telegram's side."""

    api: FakeBotApi
    app: Application  # type: ignore[type-arg]
    service: DialogueService

    async def send(self, *updates: Update) -> None:
        """Process updates one after another (taps: one per call, as each needs the screen)."""
        for update in updates:
            await self.app.process_update(update)

    async def stop(self) -> None:
        await self.app.shutdown()
        await self.service.store.close()


async def launch(service: DialogueService, api: FakeBotApi) -> Running:
    """Build and initialize the real Application around `service`, talking to `api`."""
    settings = Settings(telegram_token=TOKEN)
    app = build_application(
        service, settings, request=api, retry=RetryPolicy(attempts=3, backoff=0)
    )
    record_deliveries(app, api)
    await app.initialize()
    return Running(api, app, service)


async def start_bot(db_path: Path, catalog: FlowCatalog, clock: Clock, api: FakeBotApi) -> Running:
    """The real service on the SQLite file at `db_path`."""
    return await launch(DialogueService(await Store.open(db_path), catalog, clock=clock), api)


@pytest.fixture
async def bot(db_path: Path, catalog: FlowCatalog, clock: Clock) -> AsyncIterator[Running]:
    running = await start_bot(db_path, catalog, clock, FakeBotApi())
    yield running
    await running.stop()


@pytest.fixture
def ana(bot: Running) -> Phone:
    return Phone(bot.api, bot.app.bot, ANA, first_name="Ana")


async def answers_of(service: DialogueService, user_id: int) -> dict[str, object]:
    def read(repo: Any) -> dict[str, object]:
        person = repo.people.find("telegram", str(user_id))
        if person is None or person.active_interview is None:
            return {}
        return {k: a.value for k, a in current_answers(repo, person.active_interview).items()}

    return await service.store.read(read)


async def state_of(service: DialogueService, user_id: int) -> str | None:
    def read(repo: Any) -> str | None:
        person = repo.people.find("telegram", str(user_id))
        if person is None or person.active_interview is None:
            return None
        return str(repo.interviews.get(person.active_interview).state)

    return await service.store.read(read)


async def saved(service: DialogueService, *, deliveries: bool = False) -> dict[str, list[str]]:
    """Everything the store holds about people and interviews (and deliveries if asked)."""
    tables = ["people", "interviews", "answers", "current_answers", "events"]
    tables += ["deliveries"] if deliveries else []

    def read(repo: Any) -> dict[str, list[str]]:
        return {t: sorted(map(repr, repo.conn.execute(f"SELECT * FROM {t}"))) for t in tables}

    return await service.store.read(read)


def recorded(monkeypatch: pytest.MonkeyPatch, api: FakeBotApi) -> None:
    """Let `serve` build its Application as ever, then record what it delivers into `api`."""
    import bot.telegram.runner as runner

    build = runner.build_application
    monkeypatch.setattr(
        runner, "build_application", lambda *a, **k: record_deliveries(build(*a, **k), api)
    )


def sent_keyboards(api: FakeBotApi) -> list[str]:
    """The callback data of every button the bot ever sent or edited in."""
    data = []
    for call in api.calls:
        markup = call.params.get("reply_markup") or {}
        data += [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]
    return data


async def agree(bot: Running, phone: Phone) -> None:
    await bot.send(phone.command("start"))
    assert phone.last.key == "replies.consent"
    await bot.send(phone.tap_key("agree"))
    assert (phone.last.key, phone.last.question) == ("replies.ask", "child_name")


# -- the whole interview ---------------------------------------------------------------------


async def test_whole_interview__buttons_and_text__submitted(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    await bot.send(ana.text("Mia"), ana.text("6"))
    question = ana.last
    assert question.question == "respondent" and "parent" in question.button_keys

    await bot.send(ana.choose("parent"))
    # The question's own message now records the answer and loses its buttons; the
    # next question arrives as a new message below it.
    assert (question.key, question.question) == ("replies.answered", "respondent")
    assert question.text.endswith("✔ A parent") and question.keyboard == []  # the flow's label
    assert ana.last.message_id > question.message_id and ana.last.question == "sleep"

    await bot.send(ana.choose("3"))
    await bot.send(ana.text("1"))
    worries = ana.last
    await bot.send(ana.choose("sleep"))
    assert ana.last is worries and "☑ Sleep" in worries.labels  # ticked in place
    await bot.send(ana.tap_key("done"))
    assert ana.last.question == "worry_since[sleep]"
    for key in ("baby", "done", "3"):
        await bot.send(ana.tap_key(key))
    await bot.send(ana.text("Wakes at night"))
    for value in ("no", "glad"):
        await bot.send(ana.choose(value))
    assert "replies.review" in ana.keys
    await bot.send(ana.tap_key("submit"))
    assert ana.last.key == "replies.send_confirm"  # sending is a step of its own
    await bot.send(ana.tap_key("send_now"))

    assert "replies.submitted" in ana.keys[-3:]
    assert await state_of(bot.service, ANA) == "submitted"
    assert await answers_of(bot.service, ANA) == {
        "child_name": "Mia",
        "child_age": AgeValue(72, 72, None),
        "respondent": "parent",
        "sleep": 3,
        "siblings": 1,
        "worries": ["sleep"],
        "worry_since[sleep]": ["baby"],
        "worry_level[sleep]": 3,
        "worry_note[sleep]": "Wakes at night",
        "prenatal_stress": "no",
        "school_feel": "glad",
    }
    assert bot.api.answered == {query: 1 for query in bot.api.queries}
    assert all(len(data.encode()) <= MAX_BYTES for data in sent_keyboards(bot.api))


async def test_restart_midway__continues_where_it_stopped(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    api = FakeBotApi()
    first = await start_bot(db_path, catalog, clock, api)
    ana = Phone(api, first.app.bot, ANA)
    await agree(first, ana)
    await first.send(ana.text("Mia"), ana.text("6"))
    await first.stop()

    second = await start_bot(db_path, catalog, clock, api)
    ana.rebind(second.app.bot)
    try:
        # The buttons shown before the restart still work: the state is in the store.
        await second.send(ana.choose("foster"))
        asked = ana.last
        assert asked.question == "sleep"
        await second.send(ana.command("start"))
        assert (ana.last.key, ana.last.question) == ("replies.ask", "sleep")
        # The same question, with a welcome back before it.
        assert ana.last.text.endswith(asked.text) and ana.last.text != asked.text
        assert await answers_of(second.service, ANA) == {
            "child_name": "Mia",
            "child_age": AgeValue(72, 72, None),
            "respondent": "foster",
        }
    finally:
        await second.stop()


# -- exactly once ------------------------------------------------------------------------------


async def test_redelivered_text__changes_nothing__same_reply(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    update = ana.text("Mia")
    await bot.send(update)
    before, reply = await saved(bot.service, deliveries=True), ana.last.text

    await bot.send(update)  # Telegram sends the same update again

    assert await saved(bot.service, deliveries=True) == before
    assert ana.last.text == reply and ana.last.question == "child_age"


async def test_redelivered_tap__changes_nothing__same_reply(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    await bot.send(ana.text("Mia"), ana.text("6"))
    tap = ana.choose("kin")
    await bot.send(tap)
    before, reply = await saved(bot.service, deliveries=True), ana.last.text

    await bot.send(tap)

    assert await saved(bot.service, deliveries=True) == before
    assert ana.last.text == reply and ana.last.question == "sleep"
    assert ana.keys.count("replies.answered") == 1  # edited, not re-sent
    assert await answers_of(bot.service, ANA) == {
        "child_name": "Mia",
        "child_age": AgeValue(72, 72, None),
        "respondent": "kin",
    }


async def test_stale_button__moved_on__changes_nothing(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    first_question = ana.last
    await bot.send(ana.text("Mia"))
    before = await saved(bot.service)

    await bot.send(ana.press(first_question, first_question.callback_data[-1]))  # its Skip

    assert ana.last.key == "replies.stale"
    assert await saved(bot.service) == before
    assert bot.api.answered == {query: 1 for query in bot.api.queries}


async def test_forged_button__moved_on__changes_nothing(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    before = await saved(bot.service)
    await bot.send(ana.press(ana.last, "1:AAAAAAAAAAAA:1:0:o0"), ana.press(ana.last, "drop table"))
    assert ana.keys[-2:] == ["replies.stale", "replies.stale"]
    assert await saved(bot.service) == before


async def test_double_tap__one_answer(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    await bot.send(ana.text("Mia"), ana.text("6"))
    shown, data = ana.find_key("parent")
    first, second = ana.press(shown, data), ana.press(shown, data)

    # Both taps in flight at once, through the update processor as in polling.
    await bot.app.start()
    try:
        await bot.app.update_queue.put(first)
        await bot.app.update_queue.put(second)
        await bot.app.update_queue.join()
    finally:
        await bot.app.stop()

    def history(repo: Any) -> list[object]:
        person = repo.people.find("telegram", str(ANA))
        return [
            r.value
            for r in repo.answers.history(person.active_interview)
            if r.item_key == "respondent"
        ]

    assert await bot.service.store.read(history) == ["parent"]
    assert ana.last.key == "replies.stale"
    assert questions(ana.screen).count("sleep") == 1
    assert bot.api.answered == {query: 1 for query in bot.api.queries}


# -- where and what ---------------------------------------------------------------------------


async def test_group_chat__refused__nothing_started(bot: Running) -> None:
    group = Phone(bot.api, bot.app.bot, ANA, group=-5001)
    await bot.send(group.command("start"), group.text("my child is 4"))
    bot_messages = bot.api.from_bot(-5001)
    assert len(bot_messages) == 1  # the refusal; ordinary group talk gets no answer
    assert bot_messages[0].key == "replies.group_refused"
    assert await state_of(bot.service, ANA) is None


@pytest.mark.parametrize("send", ["sticker", "photo", "voice", "document"])
async def test_media__says_what_is_expected__nothing_changes(
    bot: Running, ana: Phone, send: str
) -> None:
    await agree(bot, ana)
    before = await saved(bot.service, deliveries=True)

    await bot.send(getattr(ana, send)())

    assert ana.last.key == "telegram.unsupported"
    assert ana.last.text == said("telegram.unsupported", kind=send)  # names what was sent
    assert await saved(bot.service, deliveries=True) == before
    await bot.send(ana.text("Mia"))  # the question is still waiting
    assert ana.last.question == "child_age"


async def test_very_long_text__refused__nothing_changes(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    before = await saved(bot.service, deliveries=True)
    await bot.send(ana.text("word " * 900))
    assert ana.last.key == "telegram.too_long"
    assert await saved(bot.service, deliveries=True) == before


async def test_edited_message__explained__answer_unchanged(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    await bot.send(ana.text("Mia"))
    typed = [m for m in ana.screen if not m.from_bot][-1]
    await bot.send(ana.edit(typed.message_id, "Mila"))
    assert ana.last.key == "telegram.edited"
    assert (await answers_of(bot.service, ANA))["child_name"] == "Mia"


async def test_language__offered_as_buttons__switches_and_keeps_answers(
    bot: Running, ana: Phone
) -> None:
    await agree(bot, ana)
    await bot.send(ana.text("Mia"), ana.command("language"))
    assert ana.last.button_keys == ["lang_en", "lang_es"]
    await bot.send(ana.tap_key("lang_es"))
    [switched] = [m for m in ana.screen[-3:] if m.key == "replies.language_set"]
    assert switched.text == said("replies.language_set", "es", language="es")
    assert (await answers_of(bot.service, ANA))["child_name"] == "Mia"


async def test_commands__menu_published_from_messages(bot: Running) -> None:
    assert await publish_commands(bot.app.bot)
    assert [c["command"] for c in bot.api.commands] == list(MENU)
    assert all(0 < len(c["description"]) <= 256 for c in bot.api.commands)
    assert {"command": "edit", "description": said("telegram.command_edit")} in bot.api.commands
    spanish = bot.api.menus["es"]
    assert [c["command"] for c in spanish] == list(MENU)  # the same commands, described in Spanish
    assert {"command": "pause", "description": said("telegram.command_pause", "es")} in spanish
    groups = bot.api.scoped_menus[("all_group_chats", "")]
    assert [c["command"] for c in groups] == ["bookclub", "help"]  # no intake in groups


async def test_spanish_phone__notices_in_spanish(bot: Running) -> None:
    sofia = Phone(bot.api, bot.app.bot, LEO, first_name="Sofía", language_code="es-AR")
    await bot.send(sofia.command("start"), sofia.sticker())
    assert sofia.last.key == "telegram.unsupported"
    assert sofia.last.text == said("telegram.unsupported", "es", kind="sticker")


async def test_commands__pause_status_back_skip_review_edit(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    await bot.send(ana.text("Mia"), ana.command("back"))
    assert ana.last.question == "child_name" and "Mia" in ana.last.text  # the answer so far
    await bot.send(ana.command("skip"))
    assert ana.screen[-2].key == "replies.skipped_required"
    await bot.send(ana.command("status"))
    assert ana.last.key == "replies.status"
    await bot.send(ana.command("pause"))
    assert ana.last.key == "replies.paused"
    assert await state_of(bot.service, ANA) == "paused"
    await bot.send(ana.command("start"))
    await bot.send(ana.tap_key("continue"))
    assert ana.last.question == "child_age"
    await bot.send(ana.command("review"))
    assert ana.last.key == "replies.review"
    await bot.send(ana.command("edit", "1"))
    assert ana.last.question == "child_name"
    await bot.send(ana.text("Mila"))
    assert (await answers_of(bot.service, ANA))["child_name"] == "Mila"


# -- sending fails, the answer stays ------------------------------------------------------------


async def test_flood_wait_429__waits_and_retries__answer_saved(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    bot.api.fail_next("sendMessage", retry_after=1)
    await bot.send(ana.text("Mia"))

    assert (await answers_of(bot.service, ANA))["child_name"] == "Mia"
    refused, delivered = bot.api.calls_of("sendMessage")[-2:]
    assert refused.failed == "429" and delivered.failed is None
    assert delivered.at - refused.at >= 1.0  # waited as Telegram asked
    assert ana.last.question == "child_age"


async def test_timeout__retried__answer_saved_and_reply_arrives(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    bot.api.fail_next("sendMessage", timeout=True)
    await bot.send(ana.text("Mia"))
    assert (await answers_of(bot.service, ANA))["child_name"] == "Mia"
    assert [c.failed for c in bot.api.calls_of("sendMessage")[-2:]] == ["timeout", None]
    assert ana.last.question == "child_age"


async def test_bot_api_down__answer_kept__next_start_shows_where(
    bot: Running, ana: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    await agree(bot, ana)
    tap_failures = 3
    bot.api.fail_next(timeout=True, times=tap_failures)  # every attempt of the reply fails
    with caplog.at_level(logging.WARNING, logger="bot.telegram"):
        await bot.send(ana.text("Mia"))
    assert "failed after 3 attempts" in caplog.text
    assert ana.last.question == "child_name"  # the reply never arrived...
    assert (await answers_of(bot.service, ANA))["child_name"] == "Mia"  # ...the answer did
    await bot.send(ana.command("start"))
    assert ana.last.question == "child_age"


async def test_callback_answer_fails__tap_still_counts(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    await bot.send(ana.text("Mia"), ana.text("6"))
    bot.api.fail_next("answerCallbackQuery", timeout=True, times=3)
    await bot.send(ana.choose("parent"))
    assert (await answers_of(bot.service, ANA))["respondent"] == "parent"
    assert ana.last.question == "sleep"


async def test_message_to_edit_gone__reply_sent_anew(bot: Running, ana: Phone) -> None:
    await agree(bot, ana)
    await bot.send(ana.text("Mia"), ana.text("6"))
    question = ana.last
    tap = ana.choose("parent")
    del bot.api.messages[(ANA, question.message_id)]  # deleted by the person meanwhile
    await bot.send(tap)
    record = ana.screen[-2]
    assert (record.key, record.question) == ("replies.answered", "respondent")
    assert record.message_id > question.message_id and record.text.endswith("✔ A parent")
    assert ana.last.question == "sleep"


# -- the adapter's contract with the service ------------------------------------------------------


class Scripted(DialogueService):
    """A stand-in service: remembers what arrived, answers with fixed replies (or fails)."""

    def __init__(self, replies: list[Outbound] | Exception) -> None:
        self.replies = replies
        self.inbounds: list[Inbound] = []

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        self.inbounds.append(inbound)
        if isinstance(self.replies, Exception):
            raise self.replies
        return list(self.replies)


Script = tuple[Scripted, Running, Phone]


@pytest.fixture
async def scripted() -> AsyncIterator[Script]:
    service = Scripted([Outbound("ok")])
    running = await launch(service, FakeBotApi())
    yield service, running, Phone(running.api, running.app.bot, ANA, language_code="es-MX")
    await running.app.shutdown()


async def test_commands__forwarded_with_args(scripted: Script) -> None:
    service, running, ana = scripted
    await running.send(
        ana.command("start", "invite-7Gh2"),  # a deep link t.me/<bot>?start=invite-7Gh2
        ana.command("edit", "3", to=BOT_USERNAME),
        ana.command("interviews"),  # a command this adapter has never heard of
        ana.command("start", to="some_other_bot"),  # not for us
        ana.text("yes"),
    )
    assert [(i.kind, i.payload, i.args) for i in service.inbounds] == [
        (Kind.COMMAND, "start", "invite-7Gh2"),
        (Kind.COMMAND, "edit", "3"),
        (Kind.COMMAND, "interviews", ""),
        (Kind.TEXT, "yes", ""),
    ]
    first = service.inbounds[0]
    assert (first.channel, first.user_id, first.chat_id) == ("telegram", str(ANA), str(ANA))
    assert first.private and first.locale_hint == "es-MX"
    assert len({i.delivery_id for i in service.inbounds}) == 4


async def test_button__choice_with_update_id(scripted: Script) -> None:
    service, running, ana = scripted
    await running.send(ana.text("hi"))
    tap = ana.press(ana.last, "1:abc:2:0:o1")
    await running.send(tap)
    choice = service.inbounds[-1]
    assert (choice.kind, choice.payload) == (Kind.CHOICE, "1:abc:2:0:o1")
    assert f":{tap.update_id}:" in choice.delivery_id  # bot id : update id : sender


async def test_button__query_answered_while_the_step_runs__once(scripted: Script) -> None:
    """The spinner's answer goes out beside the step, not before it: a round trip less
    between a tap and its reply; it has ended (once) when the update is done."""
    service, running, ana = scripted
    await running.send(ana.text("hi"))
    seen: list[tuple[int, int]] = []
    handle = service.handle

    async def noting(inbound: Inbound) -> list[Outbound]:
        await asyncio.sleep(0.05)  # a step's work, well under one round trip
        query = running.api.queries[-1]
        seen.append((running.api.answered.get(query, 0), running.api.in_flight))
        return await handle(inbound)

    service.handle = noting  # type: ignore[method-assign]
    running.api.latency = 0.2
    await running.send(ana.press(ana.last, "1:abc:2:0:o1"))
    assert seen == [(0, 1)]  # not yet answered, its call on the way
    assert running.api.answered == {q: 1 for q in running.api.queries}


async def test_reply_for_another_chat__goes_there(scripted: Script) -> None:
    service, running, ana = scripted
    service.replies = [Outbound("Done."), Outbound("Ana finished the interview.", chat_id="2002")]
    await running.send(ana.text("submit"))
    assert ana.last.text == "Done."
    assert [m.text for m in running.api.from_bot(2002)] == ["Ana finished the interview."]


async def test_attachments__photo_and_document(scripted: Script) -> None:
    service, running, ana = scripted
    service.replies = [
        Outbound("Your chart", attachment=Attachment("chart.png", b"\x89PNG..", "image/png", True)),
        Outbound("The report", attachment=Attachment("report.html", b"<html>", "text/html")),
    ]
    await running.send(ana.text("report"))
    photo, document = running.api.calls_of("sendPhoto", "sendDocument")
    assert photo.method == "sendPhoto" and photo.params["caption"] == "Your chart"
    assert [f[:2] for f in photo.files.values()] == [("chart.png", b"\x89PNG..")]
    assert document.method == "sendDocument" and document.params["caption"] == "The report"
    assert [m.file for m in ana.screen if m.from_bot] == ["chart.png", "report.html"]


async def test_long_reply__split__buttons_on_last(scripted: Script) -> None:
    service, running, ana = scripted
    text = "\n".join(f"{n}. a line of a long review" for n in range(400))
    service.replies = [Outbound(text, choices=[[Choice("Send my answers", "1:abc:9:-:s")]])]
    await running.send(ana.text("review"))
    parts = [m for m in ana.screen if m.from_bot]
    assert len(parts) > 1 and all(len(p.text) <= 4096 for p in parts)
    assert "\n".join(p.text for p in parts) == text
    assert [p.labels for p in parts][-1] == ["Send my answers"]
    assert all(p.keyboard == [] for p in parts[:-1])


async def test_replace_too_long_for_one_message__sent_whole(scripted: Script) -> None:
    service, running, ana = scripted
    await running.send(ana.text("hi"))
    service.replies = [Outbound("✔ " + "long answer\n" * 500, replace=True)]
    await running.send(ana.press(ana.last, "1:abc:2:0:o1"))
    assert running.api.calls_of("editMessageText") == []
    assert "".join(m.text for m in ana.screen[2:]).count("long answer") == 500


async def test_replace_without_a_pressed_message__sent_as_new(
    scripted: Script,
) -> None:
    service, running, ana = scripted
    service.replies = [Outbound("✔ 3", replace=True)]
    await running.send(ana.text("3"))
    assert ana.last.text == "✔ 3" and running.api.calls_of("editMessageText") == []


async def test_service_fails__person_told__bot_keeps_running(
    scripted: Script, caplog: pytest.LogCaptureFixture
) -> None:
    service, running, ana = scripted
    await running.send(ana.text("hello"))
    service.replies = RuntimeError("database on fire")
    with caplog.at_level(logging.ERROR):
        await running.send(ana.text("hello again"))
        await running.send(ana.press(ana.last, "1:x:1:-:a"))
    assert ana.last.key == "telegram.failed"
    assert ana.last.text == said("telegram.failed", "es")  # her phone is set to Spanish
    assert "database on fire" in caplog.text
    assert running.api.answered == {query: 1 for query in running.api.queries}
    service.replies = [Outbound("back on my feet")]
    await running.send(ana.text("and now?"))
    assert ana.last.text == "back on my feet"


# -- concurrency ----------------------------------------------------------------------------------


def typed_interview(phone: Phone, name: str, age: str, respondent: str) -> list[Update]:
    """A whole interview typed, no buttons: it can be built before any reply arrives."""
    words = ["yes", name, age, respondent, "3", "0", "5", "2", "1", "submit", "yes"]
    return [phone.command("start"), *(phone.text(w) for w in words)]


async def test_two_people_interleaved__concurrent__each_in_order(bot: Running) -> None:
    ana = Phone(bot.api, bot.app.bot, ANA, first_name="Ana")
    leo = Phone(bot.api, bot.app.bot, LEO, first_name="Leo")
    first, second = typed_interview(ana, "Mia", "6", "1"), typed_interview(leo, "Sam", "7", "2")
    bot.api.latency = 0.005  # each Bot API call takes a while, as on a real network

    await bot.app.start()
    try:
        for pair in zip(first, second, strict=True):
            for update in pair:
                await bot.app.update_queue.put(update)
        await bot.app.update_queue.join()
    finally:
        await bot.app.stop()

    assert bot.api.max_in_flight > 1  # the two people were served at the same time
    for phone, name, respondent in ((ana, "Mia", "parent"), (leo, "Sam", "foster")):
        saved_answers = await answers_of(bot.service, phone.chat_id)
        assert saved_answers["child_name"] == name and saved_answers["respondent"] == respondent
        assert await state_of(bot.service, phone.chat_id) == "submitted"
        assert "replies.submitted" in phone.keys[-3:]
    processor = bot.app.update_processor
    assert isinstance(processor, PerPersonUpdateProcessor)
    assert len(processor.locks) == 0  # no lock kept for people who are not talking


async def test_many_people__each_gets_own_replies(bot: Running) -> None:
    phones = [Phone(bot.api, bot.app.bot, 3000 + n) for n in range(30)]
    bot.api.latency = 0.001
    await asyncio.gather(*(bot.send(p.command("start")) for p in phones))
    await asyncio.gather(*(bot.send(p.text("yes")) for p in phones))
    await asyncio.gather(*(bot.send(p.text(f"Kid{p.chat_id}")) for p in phones))
    for phone in phones:
        assert (await answers_of(bot.service, phone.chat_id))["child_name"] == f"Kid{phone.chat_id}"
        assert phone.last.question == "child_age"
    # Nothing per person is kept in memory once they are quiet: PTB's bookkeeping for a
    # persistence this bot does not have stays empty (it would grow by every person).
    assert not bot.app._user_ids_to_be_updated_in_persistence
    assert not bot.app._chat_ids_to_be_updated_in_persistence


async def test_low_exposure__typed_answer_deleted_after_reply(scripted: Script) -> None:
    service, running, ana = scripted
    service.replies = [Outbound("Saved.", delete_inbound=True), Outbound("Next question")]
    await running.send(ana.text("something private"))
    assert [m.text for m in ana.screen] == ["Saved.", "Next question"]
    calls = running.api.calls_of("sendMessage", "deleteMessage")
    assert [c.method for c in calls] == ["sendMessage", "deleteMessage", "sendMessage"]


async def test_serve__long_polling__answers_then_stops_cleanly(
    db_path: Path, catalog: FlowCatalog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.telegram.runner import serve

    api = FakeBotApi()
    recorded(monkeypatch, api)
    service = DialogueService(await Store.open(db_path), catalog, clock=clock)
    stop = asyncio.Event()
    settings = Settings(telegram_token=TOKEN)
    running = asyncio.create_task(serve(service, settings, stop=stop, request=api))
    try:
        await api.wait_until(lambda: bool(api.calls_of("getUpdates")))
        ana = Phone(api, None, ANA)  # the update travels as JSON, like from Telegram
        api.deliver(ana.command("start"))
        await api.wait_until(lambda: bool(api.from_bot(ANA)))
    finally:
        stop.set()
        await running
        await service.store.close()
    assert api.last(ANA).key == "replies.consent"
    assert [c["command"] for c in api.commands] == list(MENU)
    polls = api.calls_of("getUpdates")
    asked_for = set(polls[0].params["allowed_updates"])
    assert {"message", "edited_message", "callback_query"} <= asked_for == set(ALLOWED_UPDATES)
    assert not api.pending  # confirmed on the way out


async def test_serve__webhook__secret_checked__answers(
    db_path: Path, catalog: FlowCatalog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tornado", reason="webhook mode needs python-telegram-bot[webhooks]")
    import socket

    import httpx

    from bot.telegram.runner import serve
    from bot.telegram.webhook import Webhook

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = FakeBotApi()
    recorded(monkeypatch, api)
    service = DialogueService(await Store.open(db_path), catalog, clock=clock)
    stop = asyncio.Event()
    hook = Webhook("https://bot.example.org/hearth/updates", "127.0.0.1", port, "s3cret-Token")
    running = asyncio.create_task(
        serve(service, Settings(telegram_token=TOKEN), hook, stop=stop, request=api)
    )
    ana = Phone(api, None, ANA)
    try:
        await api.wait_until(lambda: bool(api.calls_of("setWebhook")))
        local = f"http://127.0.0.1:{port}/hearth/updates"
        body = ana.command("start").to_dict()
        async with httpx.AsyncClient() as client:
            forged = await client.post(local, json=body)
            accepted = await client.post(
                local, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token"}
            )
        assert (forged.status_code, accepted.status_code) == (403, 200)
        await api.wait_until(lambda: bool(api.from_bot(ANA)))
    finally:
        stop.set()
        await running
        await service.store.close()
    registered = api.calls_of("setWebhook")[-1].params
    assert registered["url"] == "https://bot.example.org/hearth/updates"
    assert registered["secret_token"] == "s3cret-Token"
    assert api.keys(ANA) == ["replies.consent"]  # once: the forged post did nothing


# -- long polling (its queue: tests/e2e/test_telegram_queue.py) --------------------------


class Holding(DialogueService):
    """The real service, except that the people in `held` wait until released."""

    def __init__(self, inner: DialogueService) -> None:
        self.inner, self.store = inner, inner.store
        self.held: set[str] = set()
        self.released = asyncio.Event()
        self.handled: list[str] = []  # delivery ids, in the order handling began

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        self.handled.append(inbound.delivery_id)
        if inbound.user_id in self.held:
            await self.released.wait()
        return await self.inner.handle(inbound)


async def test_polling__get_updates_times_out__keeps_polling(bot: Running) -> None:
    ana = Phone(bot.api, None, ANA)
    bot.api.fail_next("getUpdates", timeout=True, times=2)
    bot.api.deliver(ana.command("start"))
    stop = asyncio.Event()
    polling = asyncio.create_task(Poller(bot.app, ALLOWED_UPDATES, long_poll=0).run(stop))
    try:
        await bot.api.wait_until(lambda: bool(bot.api.from_bot(ANA)))
    finally:
        stop.set()
        await polling
    assert [c.failed for c in bot.api.calls_of("getUpdates")[:3]] == ["timeout", "timeout", None]


async def test_reused_update_id__another_person__never_gets_the_first_reply(
    bot: Running, ana: Phone
) -> None:
    """Telegram may reuse update ids after a quiet week: a reply is never replayed across people."""
    await agree(bot, ana)
    update = ana.text("Mia")
    await bot.send(update)
    leo = Phone(bot.api, bot.app.bot, LEO, first_name="Leo")
    await bot.send(leo.command("start"))
    data = leo.command("start").to_dict() | {"update_id": update.update_id}
    data["message"]["text"], data["message"]["entities"] = (
        "/help",
        [{"type": "bot_command", "offset": 0, "length": 5}],
    )
    reused = Update.de_json(data, bot.app.bot)
    assert reused is not None
    await bot.send(reused)
    assert leo.last.key == "replies.help"
    assert "Mia" not in leo.last.text and "replies.ask" not in leo.keys[1:]


async def test_consent_button__message_keeps_a_record_without_buttons(
    bot: Running, ana: Phone
) -> None:
    await bot.send(ana.command("start"))
    consent = ana.last
    await bot.send(ana.tap_key("agree"))
    edited = ana.api.messages[(consent.chat_id, consent.message_id)]
    assert edited.key == "replies.consent_given" and edited.keyboard == []


async def test_paused_interview__one_reminder_after_the_set_time(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    api = FakeBotApi()
    service = DialogueService(await Store.open(db_path), catalog, clock=clock)
    app = build_application(
        service,
        Settings(telegram_token=TOKEN, reminder_hours=24),
        request=api,
        retry=RetryPolicy(attempts=3, backoff=0),
    )
    record_deliveries(app, api)
    await app.initialize()
    bot = Running(api, app, service)
    try:
        [job] = [j for j in app.job_queue.jobs() if j.name == "hearth-reminders"]  # type: ignore[union-attr]
        ana = Phone(api, app.bot, ANA)
        await agree(bot, ana)
        await bot.send(ana.text("Mia"), ana.command("pause"))
        clock.advance(hours=23)
        await job.run(app)
        assert "replies.reminder" not in ana.keys  # not yet
        clock.advance(hours=2)
        await job.run(app)
        assert ana.last.key == "replies.reminder"
        assert ana.last.text == said("replies.reminder", answered=1)
        clock.advance(days=3)
        await job.run(app)
        assert ana.keys.count("replies.reminder") == 1
    finally:
        await bot.stop()


async def test_reminders__off_by_default(bot: Running) -> None:
    names = [j.name for j in bot.app.job_queue.jobs()]  # type: ignore[union-attr]
    assert "hearth-reminders" not in names
