"""Low exposure: typed answers are deleted from the chat once they are saved."""

from __future__ import annotations

from pathlib import Path

from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.conftest import Clock, Person, ids, questions, said
from tests.e2e.telegram_harness import FakeBotApi, Phone
from tests.e2e.test_telegram import ANA, answers_of, launch


async def started(person: Person) -> None:
    await person.command("start")
    await person.type("yes")


async def test_off_by_default__typed_answer_stays(person: Person) -> None:
    await started(person)
    replies = await person.type("Sam")
    assert not any(m.delete_inbound for m in replies)


async def test_on__saved_typed_answer__first_reply_deletes_it(person: Person) -> None:
    replies = await person.command("lowexposure", "on")
    assert "safety.low_exposure_on" in ids(replies[0])
    await started(person)
    replies = await person.type("Sam")
    assert "child_age" in questions(person)
    assert [m.delete_inbound for m in replies] == [True] + [False] * (len(replies) - 1)


async def test_on__answer_not_accepted__message_kept_to_correct(person: Person) -> None:
    await person.command("lowexposure", "on")
    await started(person)
    await person.type("Sam")
    replies = await person.type("a long time ago")  # not an age: nothing saved
    assert "problems.not_an_age" in person.keys
    assert not any(m.delete_inbound for m in replies)


async def test_on__button_and_command__nothing_to_delete(person: Person) -> None:
    await person.command("lowexposure", "on")
    await started(person)
    await person.type("Sam")
    await person.type("3")
    replies = await person.choose("parent")
    assert "sleep" in questions(person) and not any(m.delete_inbound for m in replies)
    replies = await person.command("status")
    assert not any(m.delete_inbound for m in replies)


async def test_off_again__typed_answers_stay(person: Person) -> None:
    await person.command("lowexposure", "on")
    replies = await person.command("lowexposure", "off")
    assert "safety.low_exposure_off" in ids(replies[0])
    await started(person)
    assert not any(m.delete_inbound for m in await person.type("Sam"))


async def test_no_argument__says_how_and_current_setting(person: Person) -> None:
    replies = await person.command("lowexposure")
    assert replies[0].key == "safety.low_exposure_usage"
    assert replies[0].text == said("safety.low_exposure_usage", on=False)  # off, the default


async def test_setting_survives_a_restart(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    store = await Store.open(db_path)
    try:
        await Person(DialogueService(store, catalog, clock=clock)).command("lowexposure", "on")
    finally:
        await store.close()
    store = await Store.open(db_path)
    try:
        ana = Person(DialogueService(store, catalog, clock=clock))
        await started(ana)
        assert (await ana.type("Sam"))[0].delete_inbound
    finally:
        await store.close()


async def test_telegram__typed_answer_deleted_from_chat__button_answers_stay(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    api = FakeBotApi()
    bot = await launch(DialogueService(await Store.open(db_path), catalog, clock=clock), api)
    try:
        ana = Phone(api, bot.app.bot, ANA)
        await bot.send(ana.command("lowexposure", "on"), ana.command("start"), ana.text("yes"))
        await bot.send(ana.text("Mia"))
        assert "child_age" in questions(ana.last)
        mine = [m.text for m in ana.screen if not m.from_bot]
        assert "Mia" not in mine  # gone from the phone once saved
        await bot.send(ana.text("a long time ago"))  # not an age: kept, to correct
        assert "a long time ago" in [m.text for m in ana.screen if not m.from_bot]
        assert await answers_of(bot.service, ANA) == {"child_name": "Mia"}
    finally:
        await bot.stop()
