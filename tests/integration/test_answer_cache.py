"""Decoded answers kept between steps (bot/answer_cache.py): right, fresh, and erased with them.

Real SQLite files; two services on one file play two workers (or a second channel's
process) touching the same interview, each with its own cache.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.data.load import current_answers
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from flows.engine import Answer
from store.contract import UnitOfWork
from store.errors import StepNotSaved
from store.sqlite import Store
from tests.conftest import Clock, Person, ids


async def stored(service: DialogueService, user: str = "ana") -> tuple[str, dict[str, Answer]]:
    """The person's active interview and its answers, read fresh from the committed file."""
    def read(repo: UnitOfWork) -> tuple[str, dict[str, Answer]]:
        person = repo.people.find("console", user)
        assert person is not None and person.active_interview is not None
        return person.active_interview, current_answers(repo, person.active_interview)

    return await service.store.read(read)


def cached(service: DialogueService, interview_id: str) -> dict[str, Answer] | None:
    """What the service's cache would hand the next step at any version (test peek)."""
    entry = service.router.answers._entries.get(interview_id)
    return entry[1] if entry else None


async def started(person: Person) -> None:
    await person.command("start")
    await person.tap_key("agree")
    assert person.asked == "child_name"


async def test_cache__after_each_step__holds_exactly_the_stored_answers(
    service: DialogueService,
) -> None:
    ana = Person(service)
    await started(ana)
    for typed in ("Mia", "2 years 6 months", "1", "3"):
        await ana.type(typed)
        interview_id, answers = await stored(service)
        assert cached(service, interview_id) == answers  # an age, a choice, numbers: as decoded
    await ana.command("skip")
    interview_id, answers = await stored(service)
    assert cached(service, interview_id) == answers and any(a.skips for a in answers.values())
    assert service.router.answers.hits >= 4  # later steps took them from the cache


@pytest.fixture
async def second(db_path: Path, catalog: FlowCatalog, clock: Clock,
                 store: Store) -> AsyncIterator[DialogueService]:
    """Another worker on the same database file, with its own cache."""
    other = await Store.open(db_path)
    yield DialogueService(other, catalog, clock=clock)
    await other.close()


async def test_two_workers__one_answers_between__other_sees_it(
    service: DialogueService, second: DialogueService,
) -> None:
    here, there = Person(service), Person(second)
    await started(here)
    await here.type("Mia")
    assert here.asked == "child_age"
    await there.type("2 years 6 months")  # the other worker: this one's cache is now behind
    assert there.asked == "respondent"
    await here.type("1")
    # Stale answers would lack the age and ask for it again.
    assert here.asked not in ("child_age", "respondent", None), here.keys
    _, answers = await stored(service)
    assert {"child_name", "child_age", "respondent"} <= set(answers)
    interview_id, _ = await stored(service)
    assert cached(service, interview_id) == answers


async def test_erasure__cache_forgets_the_interview(service: DialogueService) -> None:
    ana = Person(service)
    await started(ana)
    await ana.type("Samuel")
    interview_id, _ = await stored(service)
    assert cached(service, interview_id) is not None
    await ana.command("forget")
    await ana.tap_key("button_erase")
    assert "clinician.erased" in ids(ana)
    assert cached(service, interview_id) is None
    assert not any("Samuel" in repr(entry) for entry in service.router.answers._entries.values())


async def test_step_not_committed__its_answers_never_published(
    service: DialogueService, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ana = Person(service)
    await started(ana)
    await ana.type("Mia")
    interview_id, before = await stored(service)
    with monkeypatch.context() as patch:
        patch.setattr(type(service.store), "run", _failing_after(type(service.store).run))
        await ana.type("2 years 6 months")
    assert "safety.store_failed" in ids(ana)
    assert cached(service, interview_id) == before == (await stored(service))[1]


def _failing_after(run):  # type: ignore[no-untyped-def]
    """`Store.run` that runs the step, then fails as a commit that did not happen would."""
    async def failing(self, fn):  # type: ignore[no-untyped-def]
        def step_then_fail(uow):  # type: ignore[no-untyped-def]
            fn(uow)
            raise StepNotSaved("commit failed (test)")

        return await run(self, step_then_fail)

    return failing


async def test_cache__version_a_step_works_out__is_the_stored_version(
    service: DialogueService,
) -> None:
    """A step knows its answers' version without reading it again (the rows it appended,
    the revision it saved): it must be exactly what the store then says, or later steps
    would take stale answers (or always miss)."""
    ana = Person(service)
    await started(ana)
    moves = [lambda: ana.type("Mia"), lambda: ana.type("2 years 6 months"),
             lambda: ana.tap_key(ana.button_keys()[0]),  # a tapped option
             lambda: ana.command("skip"), lambda: ana.command("back"),
             lambda: ana.type("1"), lambda: ana.command("pause"), lambda: ana.command("resume")]
    for move in moves:
        await move()
        interview_id, _ = await stored(service)
        version = await service.store.read(
            lambda repo, iid=interview_id: repo.answers.version(iid)  # type: ignore[misc]
        )
        entry = service.router.answers._entries.get(interview_id)
        assert entry is not None and entry[0] == version, (ana.keys, entry, version)


async def test_cache__questions_kept_with_the_answers__walked_only_when_they_can_change(
    service: DialogueService, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The enabled questions kept with the answers are exactly what a fresh walk of the
    stored answers gives; a step whose answer no rule reads takes them without walking."""
    import bot.context
    from flows.engine import questions

    walks: list[int] = []

    def counted(flow, answers):  # type: ignore[no-untyped-def]
        walks.append(1)
        return questions(flow, answers)

    monkeypatch.setattr(bot.context, "questions", counted)
    ana = Person(service)
    await started(ana)
    flow = service.catalog.latest(service.catalog.default_flow)
    # child_name, respondent, sleep, siblings: no rule reads them; a rule reads the age.
    for typed, walked in (("Mia", False), ("2 years 6 months", True), ("1", False),
                          ("3", False), ("2", False)):
        walks.clear()
        await ana.type(typed)
        assert bool(walks) is walked, typed
        interview_id, answers = await stored(service)
        entry = service.router.answers._entries.get(interview_id)
        assert entry is not None and entry[1] == answers
        assert entry[2] is not None and list(entry[2]) == questions(flow, answers)
    assert ana.asked == "worries"


async def test_cache__answer_the_walk_reads_changed_by_storage__questions_walked_afresh(
    service: DialogueService, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Were an answer's stored form to differ from the one in hand (a lossy encoding), the
    questions walked from the one in hand are not kept: the next step walks the stored."""
    import bot.answer_cache
    from flows.engine import AgeValue

    def lossy(answer: Answer) -> Answer:
        if isinstance(answer.value, AgeValue):
            return Answer(AgeValue(0, 0), answer.skips)
        return answer

    ana = Person(service)
    await started(ana)
    await ana.type("Mia")
    monkeypatch.setattr(bot.answer_cache, "as_stored", lossy)
    await ana.type("2 years 6 months")
    interview_id, _ = await stored(service)
    entry = service.router.answers._entries.get(interview_id)
    assert entry is not None and entry[2] is None
    await ana.type("1")  # a rule does not read this one: kept again
    entry = service.router.answers._entries.get(interview_id)
    assert entry is not None and entry[2] is not None
