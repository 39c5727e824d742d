"""Long polling through the durable queue: kept, confirmed, handled, deleted; replayed once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.service import DialogueService
from bot.telegram import ALLOWED_UPDATES
from bot.telegram.polling import Poller
from bot.telegram.queue import UpdateQueue
from flows.catalog import FlowCatalog
from store.cipher import new_key
from store.sqlite import Store
from tests.conftest import Clock
from tests.e2e.telegram_harness import FakeBotApi, Phone
from tests.e2e.test_telegram import ANA, LEO, Holding, Running, launch, saved, start_bot

#: A name only the updates carry (Hearth keeps no one's Telegram name): if it is anywhere
#: on disk after the updates were handled, the queue left it there.
NAME = "Quillonia"


@pytest.fixture
async def bot(db_path: Path, catalog: FlowCatalog, clock: Clock) -> AsyncIterator[Running]:
    running = await start_bot(db_path, catalog, clock, FakeBotApi())
    yield running
    await running.stop()


def handed_out(api: FakeBotApi) -> Counter[int]:
    """Count how often getUpdates hands out each update from now on."""
    counts: Counter[int] = Counter()
    fetch = api.api_getUpdates

    def counting(params: Any, files: Any) -> Any:
        result = fetch(params, files)
        counts.update(int(u["update_id"]) for u in result)
        return result

    api.api_getUpdates = counting  # type: ignore[method-assign]
    return counts


async def queued(service: DialogueService) -> list[tuple[int, str | None, str]]:
    """The queue's rows as stored: (update id, sender, body as on disk)."""
    def read(repo: Any) -> list[tuple[int, str | None, str]]:
        return [tuple(r) for r in repo.conn.execute(
            "SELECT update_id, sender, body FROM incoming ORDER BY update_id")]
    return await service.store.read(read)


async def polling(
    running: Running, **kwargs: Any
) -> tuple[Poller, asyncio.Event, asyncio.Task[None]]:
    poller = Poller(running.app, ALLOWED_UPDATES, long_poll=0, **kwargs)
    stop = asyncio.Event()
    return poller, stop, asyncio.create_task(poller.run(stop))


async def test_polling__kept_then_confirmed_before_handled__others_go_on(bot: Running) -> None:
    holding = Holding(bot.service)
    running = await launch(holding, bot.api)
    ana, leo = Phone(bot.api, None, ANA, first_name=NAME), Phone(bot.api, None, LEO)
    holding.held.add(str(ANA))
    counts = handed_out(bot.api)
    poller, stop, task = await polling(running)
    first, second = ana.command("start"), leo.command("start")
    try:
        bot.api.deliver(first)
        bot.api.deliver(second)
        await bot.api.wait_until(lambda: bool(bot.api.from_bot(LEO)))  # Leo is not held up
        polls = len(bot.api.calls_of("getUpdates"))
        await bot.api.wait_until(lambda: len(bot.api.calls_of("getUpdates")) > polls + 2)
        # Ana's update is still in hand, yet confirmed: Telegram no longer holds it...
        assert not bot.api.pending and bot.api.from_bot(ANA) == []
        assert bot.api.calls_of("getUpdates")[-1].params["offset"] == second.update_id + 1
        # ...because the store does, until it is handled (Leo's row already gone).
        assert [(n, sender) for n, sender, _ in await queued(bot.service)] == [
            (first.update_id, str(ANA))]
        holding.released.set()
        await bot.api.wait_until(lambda: bool(bot.api.from_bot(ANA)))
    finally:
        holding.released.set()  # a failed check must not leave Ana's update hanging
        stop.set()
        await task
        await running.app.shutdown()
    assert await queued(bot.service) == []
    # Each update handed out once, built from JSON once, handled once.
    assert counts == {first.update_id: 1, second.update_id: 1}
    assert poller.parsed == 2 and sorted(holding.handled) == sorted(
        f"{running.app.bot.id}:{u.update_id}:{u.effective_user.id}"  # type: ignore[union-attr]
        for u in (first, second))


async def test_polling__crash_after_confirm_before_handled__replayed_exactly_once(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    api = FakeBotApi()
    first = await start_bot(db_path, catalog, clock, api)
    holding = Holding(first.service)
    crashed = await launch(holding, api)
    ana = Phone(api, None, ANA)
    holding.held.add(str(ANA))
    poller, _, task = await polling(crashed)
    api.deliver(ana.command("start"))
    await api.wait_until(lambda: bool(poller.running))
    polls = len(api.calls_of("getUpdates"))
    await api.wait_until(lambda: len(api.calls_of("getUpdates")) > polls)
    assert not api.pending  # confirmed: Telegram will not send it again
    for running in (task, *poller.running.values()):  # the process dies: nothing winds down
        running.cancel()
    await asyncio.gather(task, *poller.running.values(), return_exceptions=True)
    await crashed.app.shutdown()
    await first.stop()
    assert api.from_bot(ANA) == []

    second = await start_bot(db_path, catalog, clock, api)
    counts = handed_out(api)
    _, stop, task = await polling(second)
    try:
        await api.wait_until(lambda: bool(api.from_bot(ANA)))
        await asyncio.sleep(0.05)  # room for a second reply, were there one
    finally:
        stop.set()
        await task
        rows = await saved(second.service)
        left = await queued(second.service)
        await second.stop()
    assert api.keys(ANA) == ["replies.consent"]  # replayed from the store, once
    assert len(rows["interviews"]) == 1 and left == []
    assert counts == {}  # not from Telegram


async def test_polling__kept_but_not_confirmed__replayed_and_refetched__handled_once(
    bot: Running,
) -> None:
    """A crash between the commit and the next getUpdates: both the queue and Telegram
    still have the update; it is handled once."""
    ana = Phone(bot.api, None, ANA)
    start = ana.command("start")
    bot.api.deliver(start)
    queue = UpdateQueue(bot.service.store, str(bot.app.bot.id))
    await queue.keep([start.to_dict()])
    counts = handed_out(bot.api)
    poller, stop, task = await polling(bot, queue=queue)
    try:
        await bot.api.wait_until(lambda: bool(bot.api.from_bot(ANA)))
        await bot.api.wait_until(lambda: not bot.api.pending)
        await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    assert bot.api.keys(ANA) == ["replies.consent"]
    assert poller.parsed == 1 and counts[start.update_id] <= 1
    assert await queued(bot.service) == []


async def test_polling__one_persons_updates_in_order_through_replay_and_fetches(
    bot: Running,
) -> None:
    holding = Holding(bot.service)
    running = await launch(holding, bot.api)
    ana, leo = Phone(bot.api, None, ANA), Phone(bot.api, None, LEO)
    queue = UpdateQueue(bot.service.store, str(bot.app.bot.id))
    # Kept by a process that stopped: Ana's first three and Leo's first two.
    earlier = [ana.text("a1"), leo.text("l1"), ana.text("a2"), ana.text("a3"), leo.text("l2")]
    await queue.keep([u.to_dict() for u in earlier])
    later = [leo.text("l3"), ana.text("a4"), ana.text("a5")]
    for update in later:
        bot.api.deliver(update)
    _, stop, task = await polling(running, queue=queue)
    try:
        await bot.api.wait_until(lambda: len(holding.handled) == 8)
    finally:
        stop.set()
        await task
        await running.app.shutdown()
    order = [int(d.split(":")[1]) for d in holding.handled]
    for person in (ANA, LEO):
        theirs = [u.update_id for u in earlier + later if u.effective_user.id == person]  # type: ignore[union-attr]
        assert [n for n in order if n in theirs] == theirs


async def test_keyed_store__queued_update_sealed__gone_from_every_file_once_handled(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    db_path = tmp_path / "hearth.db"
    api = FakeBotApi()
    service = DialogueService(await Store.open(db_path, data_key=new_key()), catalog, clock=clock)
    running = await launch(Holding(service), api)
    holding = running.service
    assert isinstance(holding, Holding)
    ana = Phone(api, None, ANA, first_name=NAME)
    holding.held.add(str(ANA))
    poller, stop, task = await polling(running)
    try:
        api.deliver(ana.command("start"))
        await api.wait_until(lambda: bool(poller.running))
        [(_, sender, body)] = await queued(service)
        assert sender == str(ANA) and body.startswith("g1:") and NAME not in body
        assert poller.queue is not None
        [waiting] = await poller.queue.waiting()  # opens with the key, as sent
        assert waiting["message"]["from"]["first_name"] == NAME
        holding.released.set()
        await api.wait_until(lambda: bool(api.from_bot(ANA)))
    finally:
        holding.released.set()
        stop.set()
        await task
    assert await queued(service) == []
    await running.app.shutdown()
    await service.store.close()
    assert_nowhere_on_disk(tmp_path, NAME)


async def test_unkeyed_store__handled_update_not_left_in_the_wal(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    """Without a key the row is in clear: deleted, zeroed (secure_delete) and the WAL folded."""
    db_path = tmp_path / "hearth.db"
    api = FakeBotApi()
    service = DialogueService(await Store.open(db_path), catalog, clock=clock)
    running = await launch(service, api)
    ana = Phone(api, None, ANA, first_name=NAME)
    _, stop, task = await polling(running)
    try:
        api.deliver(ana.command("start"))
        await api.wait_until(lambda: bool(api.from_bot(ANA)))
        await api.wait_until(lambda: not Path(f"{db_path}-wal").stat().st_size)
    finally:
        stop.set()
        await task
    # Checked while the store is still open, as production leaves it between updates.
    assert_nowhere_on_disk(tmp_path, NAME)
    await running.app.shutdown()
    await service.store.close()


def assert_nowhere_on_disk(folder: Path, text: str) -> None:
    for path in folder.iterdir():
        if path.is_file():
            assert text.encode() not in path.read_bytes(), path.name


async def test_erasing_a_person__drops_their_unhandled_updates_only(bot: Running) -> None:
    ana, leo = Phone(bot.api, None, ANA), Phone(bot.api, None, LEO)
    queue = UpdateQueue(bot.service.store, str(bot.app.bot.id))
    await bot.send(ana.command("start"))
    left = [ana.text("something she wrote"), leo.text("hello")]
    await queue.keep([u.to_dict() for u in left])

    def erase(uow: Any) -> None:
        person = uow.people.find("telegram", str(ANA))
        uow.erase_person(person.id, now=bot.service.clock())

    await bot.service.store.run(erase)
    assert [n for n, _, _ in await queued(bot.service)] == [left[1].update_id]


async def test_tap__parsed_without_the_keyboard__kept_whole__edited_in_place(bot: Running) -> None:
    ana = Phone(bot.api, bot.app.bot, ANA)
    await bot.send(ana.command("start"))
    tap = ana.tap_key("agree").to_dict()
    assert tap["callback_query"]["message"]["reply_markup"]  # Telegram sends it
    queue = UpdateQueue(bot.service.store, str(bot.app.bot.id))
    await queue.keep([tap])
    poller, stop, task = await polling(bot, queue=queue)
    try:
        await bot.api.wait_until(lambda: ana.last.question == "child_name")
    finally:
        stop.set()
        await task
    parsed = poller.parse(tap)
    assert parsed.callback_query is not None and parsed.callback_query.message is not None
    assert parsed.callback_query.message.reply_markup is None  # type: ignore[union-attr]
    assert tap["callback_query"]["message"]["reply_markup"]  # the update itself untouched
    assert [c.params["message_id"] for c in bot.api.calls_of("editMessageText")] == [
        tap["callback_query"]["message"]["message_id"]]


async def test_updates_kept_under_another_bot_token__dropped_at_start__gone_from_every_file(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    """An earlier token's unhandled updates can never be answered by this bot: the queue
    drops them when it starts instead of keeping someone's words for ever."""
    db_path = tmp_path / "hearth.db"
    api = FakeBotApi()
    service = DialogueService(await Store.open(db_path, data_key=new_key()), catalog, clock=clock)
    running = await launch(service, api)
    earlier = UpdateQueue(service.store, f"{running.app.bot.id}0")  # another bot's id
    await earlier.keep([Phone(api, None, LEO, first_name=NAME).command("start").to_dict()])
    assert len(await queued(service)) == 1
    _, stop, task = await polling(running)
    try:
        api.deliver(Phone(api, None, ANA).command("start"))
        await api.wait_until(lambda: bool(api.from_bot(ANA)))
    finally:
        stop.set()
        await task
    left = await queued(service)
    await running.app.shutdown()
    await service.store.close()
    assert left == [] and api.from_bot(LEO) == []
    assert_nowhere_on_disk(tmp_path, NAME)
