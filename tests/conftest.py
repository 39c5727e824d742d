"""Shared fixtures: a flow catalog, a real store (SQLite file; PostgreSQL where asked), a clock."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.model import Choice, Inbound, Kind, Outbound
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from messages.render import macro
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
def loose_umask() -> Iterator[None]:
    """An operator's shell with the common 022 umask (files world-readable by default)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


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
    channel: str = "console",
) -> Inbound:
    """An event from `user` (in the console channel unless told) with a fresh delivery id."""
    return Inbound(
        channel, user, user, kind, payload, delivery or f"d{next(_ids)}", args, private=private
    )


Say = Callable[..., "list[Outbound]"]


def ids(seen: Person | Outbound | list[Outbound]) -> list[str]:
    """The message ids of a person's last replies, of one message, or of a list of them."""
    if isinstance(seen, Person):
        return seen.keys
    if isinstance(seen, Outbound):
        return [seen.key]
    return [m.key for m in seen]


def questions(seen: object) -> list[str | None]:
    """The question keys asked in a person's last replies, one message, or a list of them
    (anything with `.last`, `.question` or a list of such: a Telegram harness's message too).
    """
    if isinstance(seen, Person):
        return [m.question for m in seen.last]
    if isinstance(seen, list):
        return [m.question for m in seen]
    return [seen.question]


def said(key: str, locale: str = "en", **params: object) -> str:
    """What the message `key` ("telegram.unsupported") reads with these values, in the
    templates' current wording: for a test about which variant was sent, not its words.
    """
    library, name = key.split(".", 1)
    # The people of these tests write from the console channel: its verbs.
    return str(macro(locale, f"{library}.j2", name, channel="console")(**params)).strip()


class Person:
    """Drives the service as one person would: types, taps, runs commands."""

    def __init__(
        self,
        service: DialogueService,
        user: str = "ana",
        channel: str = "console",
        *,
        private: bool = True,
    ) -> None:
        self.service = service
        self.user = user
        self.channel = channel  # a web person is an opaque id, like a browser's
        self.private = private  # False: the person writes in a group chat
        self.last: list[Outbound] = []

    async def send(
        self, kind: Kind, payload: str, args: str = "", delivery: str | None = None
    ) -> list[Outbound]:
        self.last = await self.service.handle(
            inbound(kind, payload, user=self.user, args=args, delivery=delivery,
                    private=self.private, channel=self.channel)
        )
        return self.last

    async def type(self, text: str) -> list[Outbound]:
        return await self.send(Kind.TEXT, text)

    async def command(self, name: str, args: str = "") -> list[Outbound]:
        return await self.send(Kind.COMMAND, name, args)

    def _press(self, found: Callable[[Choice], bool], what: str) -> Choice:
        for message in reversed(self.last):
            for row in message.choices:
                for choice in row:
                    if found(choice):
                        return choice
        raise AssertionError(f"no button {what} in {self.keys}")

    async def tap(self, label: str) -> list[Outbound]:
        """Press the button with this label (exact, or starting with it) in the last replies.

        Only for labels that are data (a nickname on a button); press the interview's own
        buttons with `tap_key`/`choose`, which do not depend on their wording.
        """
        choice = self._press(
            lambda c: c.label == label or c.label.lstrip("☐☑ ").startswith(label), repr(label)
        )
        return await self.send(Kind.CHOICE, choice.payload)

    async def tap_key(self, key: str) -> list[Outbound]:
        """Press the button that stands for `key` ("agree", "submit", "back", "lang_es")."""
        choice = self._press(lambda c: c.key == key, f"with key {key!r}")
        return await self.send(Kind.CHOICE, choice.payload)

    async def choose(self, value: str) -> list[Outbound]:
        """Pick the option `value` ("foster", "sleep", "3") of the question on screen."""
        return await self.tap_key(value)

    @property
    def keys(self) -> list[str]:
        """The message ids of the last replies, in order ("replies.ask", "problems.range")."""
        return [m.key for m in self.last]

    @property
    def asked(self) -> str | None:
        """The question key of the last question asked in the last replies, if any."""
        questions = [m.question for m in self.last if m.key == "replies.ask"]
        return questions[-1] if questions else None

    def button_keys(self) -> list[str]:
        """The keys of the buttons on the last replies, in order."""
        return [c.key for m in self.last for row in m.choices for c in row]

    def reply(self, key: str) -> Outbound:
        """The one reply with this id among the last replies."""
        found = [m for m in self.last if m.key == key]
        assert len(found) == 1, f"{key!r} in {self.keys}"
        return found[0]

    @property
    def text(self) -> str:
        """Everything the last replies say: for data (a nickname, a number), not wording."""
        return "\n".join(m.text for m in self.last)


@pytest.fixture
def person(service: DialogueService) -> Person:
    return Person(service)
