"""Shared bench helpers: statistics, temp databases, and a simulated caregiver."""

from __future__ import annotations

import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.model import Inbound, Kind, Outbound
from bot.payload import Action, Payload, decode
from flows.catalog import FlowCatalog
from flows.schema import Flow, Item, ItemType

#: Command words the simulated caregiver sends as commands.
START = "start"


def median(values: Sequence[float]) -> float:
    """The median (of several runs)."""
    return float(statistics.median(values))


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of a sample."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return float(ordered[rank])


def spread(values: Sequence[float]) -> str:
    """Run-to-run spread as (max - min) / median, in percent."""
    m = median(values)
    return f"{100 * (max(values) - min(values)) / m:.0f}%" if m else "-"


def header(title: str) -> None:
    """Print what was measured, where and when."""
    load = os.getloadavg()
    print(f"== {title}")
    print(
        f"   {date.today().isoformat()} · {os.cpu_count()} cores · Python "
        f"{platform.python_version()} · SQLite {sqlite3.sqlite_version} · "
        f"load {load[0]:.1f} {load[1]:.1f} (shared machine: prefer the ratios)"
    )


@contextmanager
def temp_dir() -> Iterator[Path]:
    """A scratch folder on the same disk as the project (real fsyncs)."""
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as name:
        yield Path(name)


def flow_name() -> str:
    """The full interview when it is bundled, else the sample."""
    try:
        FlowCatalog.bundled("developmental_history")
    except (ValueError, KeyError):
        return "sample"
    return "developmental_history"


def catalog() -> FlowCatalog:
    """The catalog with the default flow the benches use."""
    return FlowCatalog.bundled(flow_name())


class Timer:
    """A perf_counter stopwatch usable as a context manager."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


# -- the simulated caregiver -------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """One message as a person sees it: text and buttons (label, payload)."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)


#: A button as the caregiver reads it: label, decoded payload (None if foreign), raw payload.
Button = tuple[str, Payload | None, str]


@dataclass(frozen=True)
class Move:
    """What the caregiver does next: a command, a typed text or a button press."""

    kind: Kind
    payload: str


def views(outbounds: list[Outbound]) -> list[View]:
    """The service's messages as views."""
    return [
        View(o.text, [(c.label, c.payload) for row in o.choices for c in row]) for o in outbounds
    ]


class Caregiver:
    """Completes an interview, mixing button presses and typed answers at random.

    It only reads what it is shown (texts and button payloads) plus the flow, to know
    which item a question is. `answered` records the item keys in the order it answered
    them, for the order and exactly-once checks against the database.
    """

    def __init__(self, flow: Flow, seed: int, *, typed_share: float = 0.5) -> None:
        self.flow = flow
        self.rng = random.Random(seed)
        self.typed_share = typed_share
        self.items = [item for section in flow.sections for item in section.items]
        self.answered: list[str] = []
        self.done = False
        self.submitted = False
        self._plan: dict[str, list[int]] = {}

    def first(self) -> Move:
        return Move(Kind.COMMAND, START)

    def key(self, tag: str) -> str:
        index, _, repeat = tag.partition(".")
        item = self.items[int(index)]
        if not repeat:
            return item.id
        section = self.flow.section_of(item.id)
        assert section.repeat_for is not None
        value = self.flow.item(section.repeat_for).options[int(repeat)].value
        return f"{item.id}[{value}]"

    def next(self, shown: list[View]) -> Move | None:
        """React to the replies of the last move; None once the interview is submitted."""
        if self.submitted:
            self.done = True
            return None
        for view in reversed(shown):
            if not view.buttons:
                continue
            decoded: list[Button] = [(label, decode(raw), raw) for label, raw in view.buttons]
            actions = {p.action: raw for _, p, raw in decoded if p is not None}
            if Action.AGREE in actions:
                return Move(Kind.CHOICE, actions[Action.AGREE])
            if Action.SUBMIT in actions:
                self.submitted = True
                return Move(Kind.CHOICE, actions[Action.SUBMIT])
            if Action.CONTINUE in actions:
                return Move(Kind.CHOICE, actions[Action.CONTINUE])
            tags = {p.tag for _, p, _ in decoded if p is not None and p.tag != "-"}
            if len(tags) == 1:
                return self.answer(tags.pop(), decoded)
        raise RuntimeError(f"caregiver is stuck: {[v.text[:60] for v in shown]}")

    def answer(self, tag: str, decoded: list[Button]) -> Move:
        item = self.items[int(tag.partition(".")[0])]
        options: list[Button] = [(label, p, raw) for label, p, raw in decoded
                   if p is not None and p.action in (Action.OPTION, Action.TOGGLE)]
        typed = self.rng.random() < self.typed_share or not options
        key = self.key(tag)
        if item.type is ItemType.MULTI_CHOICE:
            return self.multi(item, tag, key, options, decoded, typed)
        move = self.typed(item) if typed else Move(Kind.CHOICE, self.rng.choice(options)[2])
        self.answered.append(key)
        return move

    def typed(self, item: Item) -> Move:
        if item.type is ItemType.TEXT:
            return Move(Kind.TEXT, "Sam")
        if item.type is ItemType.AGE:
            return Move(Kind.TEXT, self.rng.choice(["7 years", "3", "2 years 6 months", "11"]))
        if item.type in (ItemType.NUMBER, ItemType.SCALE):
            low = int(item.min or 0)
            return Move(Kind.TEXT, str(low + self.rng.randint(0, 1)))
        if item.type is ItemType.YES_NO_UNKNOWN:
            return Move(Kind.TEXT, self.rng.choice(["yes", "no", "not sure"]))
        return Move(Kind.TEXT, "1")  # single choice: the first option, by number

    def multi(self, item: Item, tag: str, key: str, options: list[Button],
              decoded: list[Button], typed: bool) -> Move:
        plain = {o.label.get("en", "") for o in item.options if not o.exclusive}
        allowed = [i for i, (label, _, _) in enumerate(options) if label[2:] in plain]
        if tag not in self._plan:
            picks = sorted(self.rng.sample(allowed, min(len(allowed), self.rng.randint(1, 2))))
            if typed:
                self.answered.append(key)
                return Move(Kind.TEXT, ", ".join(str(i + 1) for i in picks))
            self._plan[tag] = picks
        plan = self._plan[tag]
        if plan:
            return Move(Kind.CHOICE, options[plan.pop(0)][2])
        del self._plan[tag]
        self.answered.append(key)
        done = [raw for _, p, raw in decoded if p is not None and p.action is Action.DONE]
        return Move(Kind.CHOICE, done[0])


def inbound(user: str, move: Move, delivery: str, channel: str = "console") -> Inbound:
    """The service event for a caregiver's move."""
    return Inbound(channel, user, user, move.kind, move.payload, delivery)


def answers_in_db(path: Path, channel: str) -> dict[str, list[tuple[str, int]]]:
    """Per person external id: (item_key, revision) of every stored answer, oldest first."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT p.external_id, a.item_key, a.revision FROM answers a "
            "JOIN interviews i ON i.id = a.interview_id JOIN people p ON p.id = i.owner_id "
            "WHERE p.channel = ? ORDER BY a.id",
            (channel,),
        ).fetchall()
    finally:
        conn.close()
    found: dict[str, list[tuple[str, int]]] = {}
    for person, key, revision in rows:
        found.setdefault(person, []).append((key, revision))
    return found


def check_answers(path: Path, channel: str, expected: dict[str, list[str]]) -> list[str]:
    """Problems found: order differs, an answer missing or stored twice (empty = all good)."""
    stored = answers_in_db(path, channel)
    problems: list[str] = []
    for person, keys in expected.items():
        got = stored.get(person, [])
        got_keys = [k for k, _ in got]
        if got_keys != keys:
            problems.append(f"{person}: stored {got_keys[:5]}... expected {keys[:5]}...")
        elif len(set(got_keys)) != len(got_keys):
            problems.append(f"{person}: an answer stored twice")
        elif [r for _, r in got] != sorted({r for _, r in got}):
            problems.append(f"{person}: revisions not increasing")
    extra = set(stored) - set(expected)
    if extra:
        problems.append(f"answers from unexpected people: {sorted(extra)[:3]}")
    return problems
