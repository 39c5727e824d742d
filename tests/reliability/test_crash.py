"""Crash safety: `hearth chat` killed with SIGKILL at random points never loses or doubles."""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.model import Inbound, Kind
from bot.replies import Ask, Review
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from flows.engine import split_key
from flows.schema import ItemType
from store.sqlite import Store
from tests.conftest import Clock
from tests.e2e.test_console import PROMPT, Terminal
from tests.e2e.test_console import key as marked

SEED = 20261125
#: CI: interviews and the kills spread over them; --run-slow: the bigger run.
FAST = (6, 15)
SLOW = (40, 120)


@dataclass(frozen=True)
class Line:
    """One scripted answer: the question's key and prompt as shown, and what is typed."""

    key: str
    prompt: str
    typed: str


@dataclass
class Script:
    """One interview as a person would type it, and what the store must hold afterwards."""

    user: str
    lines: list[Line]
    expected: dict[str, str]  # item key -> stored JSON value

    def line_for(self, screen: str) -> Line | None:
        """The scripted question this screen asks (prompts are unique within a flow)."""
        found = [line for line in self.lines if line.prompt in screen]
        return found[-1] if found else None


def choose(rng: random.Random, ask: Ask, catalog: FlowCatalog) -> str:
    """A valid typed answer for the question, varied by the seed."""
    item = catalog.get(ask.flow).item(split_key(ask.key)[0])
    if item.type is ItemType.TEXT:
        return rng.choice(["Sam", "Zoë", "Robin 🙂", "shy with new people", "נועה", "a lot"])
    if item.type is ItemType.AGE:
        return rng.choice(["2y 6m", "7", "18 months", "4 years", "6", "3 years 2 months"])
    if item.type is ItemType.NUMBER:
        return str(rng.randint(int(item.min or 0), min(int(item.max or 5), 5)))
    if item.type is ItemType.SCALE:
        return str(rng.randint(int(item.min or 0), int(item.max or 0)))
    if item.type is ItemType.MULTI_CHOICE:
        plain = [
            n
            for n, value in enumerate(ask.options, start=1)
            if not (option := item.option(value)) or not option.exclusive
        ]
        if rng.random() < 0.2 or not plain:
            return str(len(ask.options))  # the exclusive "nothing" option, alone
        picked = sorted(rng.sample(plain, rng.randint(1, min(2, len(plain)))))
        return ", ".join(map(str, picked))
    return str(rng.randint(1, len(ask.options)))


async def reference(catalog: FlowCatalog, db: Path, user: str, rng: random.Random) -> Script:
    """Answer the interview once in-process, no crashes: the script and the truth."""
    store = await Store.open(db)
    service = DialogueService(store, catalog, clock=Clock())
    ids = iter(range(1, 10_000))

    async def send(kind: Kind, payload: str) -> list[Ask | Review]:
        inbound = Inbound("console", user, user, kind, payload, f"ref-{next(ids)}")
        outcome = await service.step(inbound)
        return [r for r in outcome.replies if isinstance(r, Ask | Review)]

    lines: list[Line] = []
    try:
        await send(Kind.COMMAND, "start")
        shown = await send(Kind.TEXT, "yes")
        while shown and isinstance(shown[-1], Ask):
            ask = shown[-1]
            prompt = service.renderer.prompt(catalog.get(ask.flow), ask.key, "en")
            typed = choose(rng, ask, catalog)
            lines.append(Line(ask.key, prompt, typed))
            shown = await send(Kind.TEXT, typed)
        assert shown and isinstance(shown[-1], Review), "the reference run never reached review"
        await send(Kind.COMMAND, "submit")
        await send(Kind.TEXT, "yes")  # "Send now?"
    finally:
        await store.close()
    return Script(user, lines, stored_answers(db, user))


def stored_answers(db: Path, user: str) -> dict[str, str]:
    """Item key -> the value of its current answer, as stored."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT c.item_key, a.value FROM current_answers c "
            "JOIN answers a ON a.id = c.answer_id JOIN people p ON p.active_interview = "
            "c.interview_id WHERE p.external_id = ?",
            (user,),
        ).fetchall()
    conn.close()
    return {str(k): str(v) for k, v in rows}


def revisions(db: Path, user: str) -> Counter[str]:
    """How many answer rows each item key has in the person's interview."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT a.item_key FROM answers a JOIN people p ON p.active_interview = "
            "a.interview_id WHERE p.external_id = ?",
            (user,),
        ).fetchall()
    conn.close()
    return Counter(str(r[0]) for r in rows)


def state_of(db: Path, user: str) -> str | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT i.state FROM interviews i JOIN people p ON p.active_interview = i.id "
            "WHERE p.external_id = ?",
            (user,),
        ).fetchone()
    conn.close()
    return None if row is None else str(row[0])


@dataclass
class Tally:
    interviews: int = 0
    kills: int = 0
    kills_mid_step: int = 0
    in_flight_saved: int = 0  # killed mid-step, yet the answer had been committed
    answers_checked: int = 0
    lost: int = 0
    duplicated: int = 0
    wrong_resume: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"crash: {self.interviews} interviews, {self.kills} SIGKILLs "
            f"({self.kills_mid_step} mid-step, {self.in_flight_saved} of those already saved), "
            f"{self.answers_checked} acknowledged answers checked, {self.lost} lost, "
            f"{self.duplicated} duplicated, {self.wrong_resume} wrong resumes"
        )


def check_after_kill(db: Path, script: Script, acknowledged: list[str], tally: Tally) -> None:
    """Every answer the person saw acknowledged is stored, once; nothing is stored twice."""
    counts = revisions(db, script.user)
    for key in acknowledged:
        tally.answers_checked += 1
        if counts[key] == 0:
            tally.lost += 1
            tally.problems.append(f"{script.user}: acknowledged {key} lost")
    for key, count in counts.items():
        if count > 1:
            tally.duplicated += 1
            tally.problems.append(f"{script.user}: {key} stored {count} times")


def expected_next(db: Path, script: Script) -> str | None:
    """The question a correct resume shows: the first scripted one not stored yet."""
    stored = revisions(db, script.user)
    return next((line.key for line in script.lines if line.key not in stored), None)


def drive(db: Path, script: Script, kill_chance: float, rng: random.Random, tally: Tally) -> None:
    """Type the script into `hearth chat`, killing it at random; restart until submitted."""
    acknowledged: list[str] = []
    for _ in range(200):  # restarts; far more than any seed needs
        if db.exists() and state_of(db, script.user) == "submitted":
            # Killed while "submit" was on its way, after its commit: sent, not shown.
            # (Starting again here would rightly begin a new interview.)
            return
        terminal = Terminal(db, script.user)
        try:
            screen = terminal.wait_for(PROMPT, timeout=30)
            if marked("replies.ask") in screen:  # restarted on a question: the right one?
                shown = script.line_for(screen)
                want = expected_next(db, script)
                if shown is None or shown.key != want:
                    tally.wrong_resume += 1
                    tally.problems.append(
                        f"{script.user}: resumed at {shown and shown.key}, expected {want}"
                    )
            while True:
                if marked("replies.submitted") in screen:
                    return
                if marked("replies.consent") in screen:
                    line, item = "yes", None
                elif marked("replies.review") in screen:
                    line, item = "submit", None
                elif marked("replies.send_confirm") in screen:
                    line, item = "yes", None
                else:
                    current = script.line_for(screen)
                    assert current is not None, f"unknown screen:\n{screen[-600:]}"
                    line, item = current.typed, current.key
                if rng.random() < kill_chance:
                    tally.kills += 1
                    if rng.random() < 0.7:  # mid-step: the line is on its way or being saved
                        tally.kills_mid_step += 1
                        assert terminal.proc.stdin is not None
                        terminal.proc.stdin.write(f"{line}\n".encode())
                        terminal.proc.stdin.flush()
                        # From "not read yet" through "saving" to "saved, reply printing".
                        time.sleep(rng.choice([0.0, rng.uniform(0, 0.003), rng.uniform(0, 0.02)]))
                    terminal.proc.send_signal(signal.SIGKILL)
                    terminal.proc.wait(10)
                    if (
                        item is not None
                        and item not in acknowledged
                        and revisions(db, script.user)[item]
                    ):
                        tally.in_flight_saved += 1
                    check_after_kill(db, script, acknowledged, tally)
                    break
                screen = terminal.answer(line)
                if item is not None:
                    acknowledged.append(item)  # the next screen was seen: told it was saved
        finally:
            terminal.close()
    pytest.fail(f"{script.user} never finished")


def crash_run(tmp_path: Path, catalog: FlowCatalog, interviews: int, kills: int) -> Tally:
    rng = random.Random(SEED)
    scripts = [
        asyncio.run(reference(catalog, tmp_path / f"ref{n}.db", f"family-{n}", rng))
        for n in range(interviews)
    ]
    steps = sum(len(s.lines) + 2 for s in scripts)  # answers, consent and submit
    kill_chance = min(0.9, kills / steps)
    db = tmp_path / "crash.db"
    tally = Tally()
    for script in scripts:
        drive(db, script, kill_chance, rng, tally)
        tally.interviews += 1
        counts = revisions(db, script.user)
        tally.answers_checked += len(script.lines)
        tally.duplicated += sum(1 for c in counts.values() if c > 1)
        assert stored_answers(db, script.user) == script.expected, script.user
        assert state_of(db, script.user) == "submitted"
    return tally


def report(tally: Tally, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\n{tally}")
    assert not tally.problems, "\n".join(tally.problems)
    assert tally.lost == tally.duplicated == tally.wrong_resume == 0


def test_crash__sigkill_at_random__nothing_lost_or_doubled__resumes_right(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    tally = crash_run(tmp_path, catalog, *FAST)
    report(tally, capsys)
    assert tally.kills >= 8 and tally.kills_mid_step >= 4  # the seed really exercises kills


@pytest.mark.slow
def test_crash__many_interviews_and_kills(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    report(crash_run(tmp_path, catalog, *SLOW), capsys)
