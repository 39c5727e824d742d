"""Shared fixtures: a flow catalog, a real store (SQLite file; PostgreSQL where asked), a clock."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.model import Inbound, Kind, Outbound
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.backend import Backend
from store.sqlite import Store
from tests.postgres import fresh_schema, postgres_url


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow", action="store_true", default=False, help="also run the bigger variants"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A module marked `both_backends` runs every test that uses a store twice: on the
    # SQLite file and on PostgreSQL. Elsewhere `backend` stays "sqlite", the fast default.
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_backends"
    ):
        metafunc.parametrize("backend", ["sqlite", "postgres"])


#: Lines a test asks to show after the run, whatever the capture mode (figures that CI's
#: log must show, such as the danger net's recall: tests/unit/test_danger_corpus.py).
FIGURES = pytest.StashKey[list[str]]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="bigger variant: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


class Clock:
    """A controllable clock: starts at a fixed instant, moves only when told."""

    def __init__(self, start: datetime = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def catalog() -> FlowCatalog:
    return FlowCatalog.bundled("sample")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hearth.db"


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
async def store(db_path: Path, backend: str) -> AsyncIterator[Backend]:
    if backend == "postgres":
        from store.postgres import PostgresStore

        with fresh_schema(postgres_url()) as url:
            pg = await PostgresStore.open(url, pool_size=4)
            yield pg
            await pg.close()
        return
    store = await Store.open(db_path)
    yield store
    await store.close()


@pytest.fixture
def service(store: Backend, catalog: FlowCatalog, clock: Clock) -> DialogueService:
    return DialogueService(store, catalog, clock=clock)


_ids = itertools.count(1)


def inbound(
    kind: Kind,
    payload: str,
    *,
    user: str = "ana",
    args: str = "",
    delivery: str | None = None,
    private: bool = True,
) -> Inbound:
    """An event from `user` in the console channel with a fresh delivery id."""
    return Inbound(
        "console", user, user, kind, payload, delivery or f"d{next(_ids)}", args, private=private
    )


Say = Callable[..., "list[Outbound]"]


class Person:
    """Drives the service as one person would: types, taps, runs commands."""

    def __init__(self, service: DialogueService, user: str = "ana") -> None:
        self.service = service
        self.user = user
        self.last: list[Outbound] = []

    async def send(
        self, kind: Kind, payload: str, args: str = "", delivery: str | None = None
    ) -> list[Outbound]:
        self.last = await self.service.handle(
            inbound(kind, payload, user=self.user, args=args, delivery=delivery)
        )
        return self.last

    async def type(self, text: str) -> list[Outbound]:
        return await self.send(Kind.TEXT, text)

    async def command(self, name: str, args: str = "") -> list[Outbound]:
        return await self.send(Kind.COMMAND, name, args)

    async def tap(self, label: str) -> list[Outbound]:
        """Press the button with this label (exact, or starting with it) in the last replies."""
        for message in reversed(self.last):
            for row in message.choices:
                for choice in row:
                    if choice.label == label or choice.label.lstrip("☐☑ ").startswith(label):
                        return await self.send(Kind.CHOICE, choice.payload)
        raise AssertionError(f"no button {label!r} in {[m.text[:60] for m in self.last]}")

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.last)


@pytest.fixture
def person(service: DialogueService) -> Person:
    return Person(service)
