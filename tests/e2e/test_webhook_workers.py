"""Several `hearth run --webhook` workers on one PostgreSQL: one registers, all answer."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from bot.service import DialogueService
from bot.settings import Settings
from flows.catalog import FlowCatalog
from tests.conftest import Clock
from tests.e2e.telegram_harness import FakeBotApi, Phone, record_deliveries
from tests.postgres import fresh_schema, postgres_url

pytest.importorskip("tornado", reason="webhook mode needs python-telegram-bot[webhooks]")

TOKEN = "123456:offline-test-token"
ANA = 2001
URL = "https://bot.example.org/hearth/updates"
SECRET = "shared-Secret_1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Worker:
    port: int
    service: DialogueService
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def local(self) -> str:
        return f"http://127.0.0.1:{self.port}/hearth/updates"


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_schema(postgres_url()) as url:
        yield url


@pytest.fixture
async def fleet(
    pg_url: str, catalog: FlowCatalog, clock: Clock
) -> AsyncIterator[tuple[FakeBotApi, list[Worker]]]:
    from bot.telegram.runner import serve
    from bot.telegram.webhook import Webhook
    from store.postgres import PostgresStore

    api = FakeBotApi()
    workers: list[Worker] = []
    for n in range(3):
        port = free_port()
        store = await PostgresStore.open(pg_url, pool_size=2)
        service = DialogueService(store, catalog, clock=clock)
        stop = asyncio.Event()
        hook = Webhook(URL, "127.0.0.1", port, SECRET, register=n == 0)
        task = asyncio.create_task(
            serve(service, Settings(telegram_token=TOKEN), hook, stop=stop, request=api)
        )
        workers.append(Worker(port, service, stop, task))
    await api.wait_until(lambda: bool(api.calls_of("setWebhook")))
    yield api, workers
    for worker in workers:
        worker.stop.set()
        await worker.task
        await worker.service.store.close()


@pytest.fixture(autouse=True)
def _recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker's Application records what it delivers into its offline Bot API."""
    import bot.telegram.runner as runner

    build = runner.build_application
    monkeypatch.setattr(
        runner, "build_application",
        lambda *a, **k: record_deliveries(build(*a, **k), k["request"]),
    )


def shown(api: FakeBotApi, key: str, question: str | None = None) -> bool:
    """Whether Ana's chat shows a message with this id (asking this question, if given)."""
    return any(m.key == key and (question is None or m.question == question)
               for m in api.from_bot(ANA))


async def _post(url: str, body: object, secret: str | None = SECRET) -> int:
    import httpx

    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    async with httpx.AsyncClient() as client:
        for _ in range(50):  # a worker's port opens a moment after the primary's
            try:
                response = await client.post(url, json=body, headers=headers)
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
                continue
            return response.status_code
    raise AssertionError(f"nobody listens at {url}")


async def test_three_workers__one_registers__any_answers__state_shared(
    fleet: tuple[FakeBotApi, list[Worker]],
) -> None:
    api, workers = fleet
    ana = Phone(api, None, ANA)
    # Only the primary told Telegram where to post, with the shared secret.
    registered = api.calls_of("setWebhook")
    assert len(registered) == 1
    assert registered[0].params["url"] == URL and registered[0].params["secret_token"] == SECRET

    # Every worker refuses a post without the secret.
    for worker in workers:
        assert await _post(worker.local, ana.command("start").to_dict(), secret=None) == 403

    # One conversation, each step through another worker, as a proxy would spread them.
    assert await _post(workers[0].local, ana.command("start").to_dict()) == 200
    await api.wait_until(lambda: shown(api, "replies.consent"))
    assert await _post(workers[1].local, ana.tap_key("agree").to_dict()) == 200
    await api.wait_until(lambda: shown(api, "replies.ask", "child_name"))
    assert await _post(workers[2].local, ana.text("Sam").to_dict()) == 200
    await api.wait_until(lambda: shown(api, "replies.ask", "child_age"))


async def test_redelivered_update__two_workers__saved_once(
    fleet: tuple[FakeBotApi, list[Worker]],
) -> None:
    api, workers = fleet
    ana = Phone(api, None, ANA)
    assert await _post(workers[0].local, ana.command("start").to_dict()) == 200
    await api.wait_until(lambda: shown(api, "replies.consent"))
    assert await _post(workers[0].local, ana.tap_key("agree").to_dict()) == 200
    await api.wait_until(lambda: shown(api, "replies.ask", "child_name"))
    body = ana.text("Sam").to_dict()  # Telegram retried it: it reaches two workers
    codes = await asyncio.gather(*(_post(w.local, body) for w in workers[1:]))
    assert codes == [200, 200]
    await api.wait_until(
        lambda: sum(m.question == "child_age" for m in api.from_bot(ANA)) >= 2
    )

    def answers(repo):  # type: ignore[no-untyped-def]
        person = repo.people.find("telegram", str(ANA))
        return repo.answers.count(person.active_interview)

    assert await workers[0].service.store.read(answers) == 1


async def test_post_answered_only_after_the_update_was_handled(
    fleet: tuple[FakeBotApi, list[Worker]],
) -> None:
    """A worker killed mid-update leaves Telegram unanswered, so Telegram sends it again."""
    api, workers = fleet
    ana = Phone(api, None, ANA)
    service = workers[1].service
    gate = asyncio.Event()
    original = service.step

    async def held(event):  # type: ignore[no-untyped-def]
        await gate.wait()
        return await original(event)

    service.step = held  # type: ignore[method-assign]
    post = asyncio.create_task(_post(workers[1].local, ana.command("start").to_dict()))
    await asyncio.sleep(0.3)
    assert not post.done() and not shown(api, "replies.consent")
    gate.set()
    assert await post == 200
    assert shown(api, "replies.consent")  # the reply went out before Telegram heard 200


async def test_not_an_update__400(fleet: tuple[FakeBotApi, list[Worker]]) -> None:
    _, workers = fleet
    assert await _post(workers[2].local, {"hello": "world"}) == 400
    assert await _post(workers[2].local, ["not", "an", "object"]) == 400
