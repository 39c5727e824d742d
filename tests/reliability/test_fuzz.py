"""Fuzzing the dialogue: random inbound sequences against the real service and SQLite file."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.data.load import current_answers
from bot.model import COMMANDS, Inbound, Kind, Outbound
from bot.payload import Action, Payload, decode
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from flows.engine import find_question, is_valid_value, next_question, revisit
from flows.lifecycle import State
from store.contract import UnitOfWork
from store.sqlite import Store
from tests.conftest import Clock

#: Examples per run: the CI variant, and the bigger one behind --run-slow.
FAST_EXAMPLES = 120
SLOW_EXAMPLES = 1500

#: Typed lines that move an interview along (answers of every type, review words).
PLAUSIBLE = [
    "yes", "y", "no", "ok", "1", "2", "3", "4", "0", "5", "1, 3", "2,3", "1 2 4", "Sam",
    "Zoë 👧🏽", "נועה", "2y 6m", "7", "18 months", "about 3", "two and a half", "1,5",
    "don't know", "submit", "Nothing right now", "edit 2", "edit 99", "", "  ", "12 kg",
    "1,000", "-2", "three", "sí", "no sé", "\x00", "x" * 300,
]  # fmt: skip
COMMAND_NAMES = [*sorted(COMMANDS - {"quit"}), "frobnicate", "interviews", "report"]
COMMAND_ARGS = ["", "1", "3", "99", "on", "off", "es", "en", "garbage", "x" * 80]
ACTIONS = [*(a.value for a in Action), "z"]
USERS = ["ana", "leo"]

text = st.one_of(st.sampled_from(PLAUSIBLE), st.text(max_size=40))
#: Lines valid for almost every question ("3": a name, 3 years, 3 siblings, option 3...),
#: and the words that finish: drawn often, so examples get through to review and submit.
FORWARD = ["1", "2", "3", "yes", "submit"]

event = st.one_of(
    st.tuples(st.just("type"), st.sampled_from(USERS), text),
    st.tuples(st.just("type"), st.sampled_from(USERS), st.sampled_from(FORWARD)),
    st.tuples(st.just("type"), st.just("ana"), st.sampled_from(FORWARD)),
    # A person who just gets on with it: resume, agree, answer "1" n times, submit.
    st.tuples(st.just("walk"), st.sampled_from(USERS), st.integers(1, 16)),
    st.tuples(
        st.just("command"),
        st.sampled_from(USERS),
        st.sampled_from(COMMAND_NAMES),
        st.sampled_from(COMMAND_ARGS),
    ),
    # A button of the person's latest replies (most events that move forward).
    st.tuples(st.just("tap"), st.sampled_from(USERS), st.integers(0, 30)),
    st.tuples(st.just("tap"), st.sampled_from(USERS), st.integers(0, 30)),
    # A button from any earlier reply: usually stale by now.
    st.tuples(st.just("tap_old"), st.sampled_from(USERS), st.integers(0, 500)),
    # A real payload with one part changed (other interview, revision, action or arg).
    st.tuples(
        st.just("forge"),
        st.sampled_from(USERS),
        st.integers(0, 500),
        st.sampled_from(["interview", "revision", "action", "arg", "tag"]),
        st.integers(-3, 40),
    ),
    st.tuples(st.just("garbage_tap"), st.sampled_from(USERS), st.text(max_size=70)),
    # The same delivery again, verbatim, or with other content under the same id.
    st.tuples(st.just("redeliver"), st.integers(0, 500)),
    st.tuples(st.just("redeliver_changed"), st.integers(0, 500), text),
    # Out of order: the next event is made now (its id, its buttons) but delivered later.
    st.tuples(st.just("hold")),
    st.tuples(st.just("release")),
)

Snapshot = tuple[tuple[object, ...], ...]


@dataclass
class Run:
    """One example: the service, its people's names, what was delivered and seen."""

    runner: asyncio.Runner
    service: DialogueService
    prefix: str
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    delivered: list[tuple[Inbound, list[Outbound]]] = field(default_factory=list)
    latest: dict[str, list[str]] = field(default_factory=dict)  # user -> payloads on screen
    seen: list[str] = field(default_factory=list)  # every payload ever shown
    held: list[Inbound] = field(default_factory=list)
    hold_next: bool = False
    redeliveries: int = 0
    refused: int = 0  # forged or garbage buttons checked to change nothing

    def inbound(self, user: str, kind: Kind, payload: str, args: str = "") -> Inbound:
        who = f"{self.prefix}-{user}"
        return Inbound("console", who, who, kind, payload, f"{self.prefix}:{next(self.ids)}", args)

    def deliver(self, inbound: Inbound) -> list[Outbound]:
        replies = self.runner.run(self.service.handle(inbound))
        payloads = [c.payload for m in replies for row in m.choices for c in row]
        if payloads or any(m.is_question for m in replies):
            self.latest[inbound.user_id] = payloads
        self.seen.extend(payloads)
        return replies

    def send(self, inbound: Inbound) -> None:
        if self.hold_next:
            self.hold_next = False
            self.held.append(inbound)
            return
        self.delivered.append((inbound, self.deliver(inbound)))

    def unchanged_by(self, inbound: Inbound, must_not_change: bool) -> None:
        """Send; when `must_not_change`, the interviews and answers stay exactly as they were."""
        if not must_not_change or self.hold_next:
            self.send(inbound)
            return
        before = self.snapshot()[1:4]
        self.send(inbound)
        self.refused += 1
        assert self.snapshot()[1:4] == before, f"{inbound.payload!r} changed saved state"

    def snapshot(self) -> Snapshot:
        def read(repo: UnitOfWork) -> Snapshot:
            return tuple(
                tuple(sorted(map(repr, repo.conn.execute(f"SELECT * FROM {table}"))))
                for table in ("people", "interviews", "answers", "current_answers", "deliveries")
            )

        return self.runner.run(self.service.store.read(read))

    def play(self, step: tuple[object, ...]) -> None:
        kind = step[0]
        if kind == "type":
            _, user, line = step
            self.send(self.inbound(str(user), Kind.TEXT, str(line)))
        elif kind == "walk":
            _, user, count = step
            lines = ["yes"] + ["1"] * int(str(count)) + ["submit"]
            self.send(self.inbound(str(user), Kind.COMMAND, "resume"))
            for line in lines:
                self.send(self.inbound(str(user), Kind.TEXT, line))
        elif kind == "command":
            _, user, name, args = step
            self.send(self.inbound(str(user), Kind.COMMAND, str(name), str(args)))
        elif kind == "tap":
            _, user, index = step
            who = f"{self.prefix}-{user}"
            shown = self.latest.get(who, [])
            if shown:
                chosen = shown[int(str(index)) % len(shown)]
                self.send(self.inbound(str(user), Kind.CHOICE, chosen))
        elif kind == "tap_old" and self.seen:
            _, user, index = step
            chosen = self.seen[int(str(index)) % len(self.seen)]
            self.send(self.inbound(str(user), Kind.CHOICE, chosen))
        elif kind == "forge" and self.seen:
            _, user, index, part, number = step
            payload = forged(self.seen, index, part, number)
            # A button naming another interview can never touch this person's answers.
            self.unchanged_by(self.inbound(str(user), Kind.CHOICE, payload), part == "interview")
        elif kind == "garbage_tap":
            _, user, raw = step
            garbage = decode(str(raw)) is None and not str(raw).startswith("lang:")
            self.unchanged_by(self.inbound(str(user), Kind.CHOICE, str(raw)), garbage)
        elif kind == "redeliver" and self.delivered:
            _, index = step
            first, replies = self.delivered[int(str(index)) % len(self.delivered)]
            before = self.snapshot()
            again = self.deliver(first)
            self.redeliveries += 1
            assert again == replies, "a redelivery must get the very same reply"
            assert self.snapshot() == before, "a redelivery must change nothing"
        elif kind == "redeliver_changed" and self.delivered:
            _, index, line = step
            first, replies = self.delivered[int(str(index)) % len(self.delivered)]
            other = Inbound(
                first.channel, first.user_id, first.chat_id, Kind.TEXT, str(line),
                first.delivery_id,
            )  # fmt: skip
            before = self.snapshot()
            again = self.deliver(other)
            self.redeliveries += 1
            assert again == replies and self.snapshot() == before
        elif kind == "hold":
            self.hold_next = True
        elif kind == "release" and self.held:
            late = self.held.pop(0)
            self.delivered.append((late, self.deliver(late)))

    def furthest(self) -> str:
        """How far this example's people got: the latest state of any of their interviews."""
        order = ["none", "withdrawn", "consent", "paused", "answering", "review", "submitted"]

        def read(repo: UnitOfWork) -> str:
            rows = repo.conn.execute(
                "SELECT i.state FROM interviews i JOIN people p ON p.id = i.owner_id "
                "WHERE p.external_id LIKE ?",
                (f"{self.prefix}-%",),
            ).fetchall()
            return max((str(r[0]) for r in rows), key=order.index, default="none")

        return str(self.runner.run(self.service.store.read(read)))

    def check(self, catalog: FlowCatalog) -> None:
        """The invariants, for every person of this example."""

        def read(repo: UnitOfWork) -> None:
            for user in USERS:
                person = repo.people.find("console", f"{self.prefix}-{user}")
                if person is None or person.active_interview is None:
                    continue
                interview = repo.interviews.get(person.active_interview)
                assert interview is not None
                flow = catalog.get(interview.flow_key)
                answers = current_answers(repo, interview.id)
                state = State(interview.state)
                if interview.cursor is not None:
                    assert find_question(flow, answers, interview.cursor) is not None, (
                        f"cursor {interview.cursor} is on a disabled item ({state})"
                    )
                if state is State.ANSWERING and interview.cursor is None:
                    # Only while every question was seen and the skipped ones are offered
                    # ("answer them now, or go to the review"): never a lost question.
                    assert next_question(flow, answers) is None, "answering without a question"
                    assert revisit(flow, answers), "answering, nothing left and nothing offered"
                for key, answer in answers.items():
                    question = find_question(flow, answers, key)
                    if question is not None and answer.value is not None:
                        assert is_valid_value(flow, question, answer.value, answers), (
                            f"{key} = {answer.value!r} is not valid for its item"
                        )

        self.runner.run(self.service.store.read(read))


def forged(seen: list[str], index: object, part: object, number: object) -> str:
    """A seen payload with one field changed; something a modified client could send."""
    original = decode(seen[int(str(index)) % len(seen)])
    if original is None:
        return seen[0] + "x"
    n = int(str(number))
    if part == "interview":
        return Payload("AAAAAAAAAAAA", original.revision, original.tag, original.action).encode()
    if part == "revision":
        revision = max(0, original.revision + n)
        return Payload(original.interview_id, revision, original.tag, original.action,
                       original.arg).encode()  # fmt: skip
    if part == "action":
        raw = original.encode()
        head, _, _ = raw.rpartition(":")
        return f"{head}:{ACTIONS[n % len(ACTIONS)]}{original.arg if original.arg else ''}"
    if part == "tag":
        return Payload(original.interview_id, original.revision, str(abs(n)), original.action,
                       original.arg).encode()  # fmt: skip
    return Payload(original.interview_id, original.revision, original.tag, original.action,
                   abs(n)).encode()  # fmt: skip


@dataclass
class Tally:
    examples: int = 0
    events: int = 0
    redeliveries: int = 0
    refused: int = 0
    states: dict[str, int] = field(default_factory=dict)  # furthest state -> examples


@pytest.fixture
def fuzz_target(
    tmp_path: Path, catalog: FlowCatalog
) -> Iterator[tuple[asyncio.Runner, DialogueService]]:
    """One store for all examples (each uses fresh people), on its own event loop."""
    with asyncio.Runner() as runner:
        # NORMAL: still a real WAL file; durability is the crash test's subject, not this one.
        store = runner.run(Store.open(tmp_path / "fuzz.db", "NORMAL"))
        try:
            yield runner, DialogueService(store, catalog, clock=Clock())
        finally:
            runner.run(store.close())


def fuzz(examples: int):  # type: ignore[no-untyped-def]
    def run(
        fuzz_target: tuple[asyncio.Runner, DialogueService],
        catalog: FlowCatalog,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        runner, service = fuzz_target
        tally = Tally()

        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            database=None,
        )
        @given(st.lists(event, min_size=5, max_size=80))
        def sequence(steps: list[tuple[object, ...]]) -> None:
            tally.examples += 1
            play = Run(runner, service, prefix=f"x{tally.examples}")
            play.play(("command", "ana", "start", ""))
            for step in steps:
                play.play(step)
                play.check(catalog)
            while play.held:  # whatever was held back arrives in the end
                play.play(("release",))
                play.check(catalog)
            tally.events += len(play.delivered)
            tally.redeliveries += play.redeliveries
            tally.refused += play.refused
            furthest = play.furthest()
            tally.states[furthest] = tally.states.get(furthest, 0) + 1

        sequence()
        with capsys.disabled():
            print(
                f"\nfuzz: {tally.examples} examples, {tally.events} deliveries, "
                f"{tally.redeliveries} redeliveries and {tally.refused} forged buttons checked; "
                "furthest state reached: "
                f"{dict(sorted(tally.states.items()))}"
            )
        assert tally.examples >= min(examples, 50)

    return run


test_fuzz__random_events__invariants_hold = fuzz(FAST_EXAMPLES)
test_fuzz__random_events__invariants_hold__many = pytest.mark.slow(fuzz(SLOW_EXAMPLES))
