"""A person talking to the dialogue service over a real SQLite file, and over PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.data.load import current_answers
from bot.model import Kind
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from flows.engine import AgeValue
from store.sqlite import Store
from tests.conftest import Clock, Person

pytestmark = pytest.mark.both_backends


async def answers_of(service: DialogueService, user: str = "ana") -> dict[str, object]:
    def read(repo):  # type: ignore[no-untyped-def]
        person = repo.people.find("console", user)
        return {k: a.value for k, a in current_answers(repo, person.active_interview).items()}

    return await service.store.read(read)


async def start(person: Person) -> None:
    await person.command("start")
    assert "Do you agree" in person.text
    await person.tap("I agree")


async def to_review(person: Person) -> None:
    """The shortest way through the sample flow: consent, five answers, no worries, review."""
    await start(person)
    for text in ("Sam", "1", "1", "4", "0"):
        await person.type(text)
    await person.tap("Nothing right now")
    await person.tap("Done")
    await person.tap("No")


async def test_whole_interview__typed_and_tapped__to_submission(person: Person) -> None:
    await start(person)
    assert "[About your child · question 1 of about 7]" in person.text
    await person.type("Sam")
    await person.type("2 years 6 months")
    await person.tap("A foster parent")
    assert person.last[0].replace and "✔ A foster parent" in person.last[0].text
    await person.tap("3")  # scale button
    await person.type("2")
    await person.tap("Sleep")
    assert "☑ Sleep" in str(person.last[0].choices)
    await person.tap("Done")
    assert "About this worry: Sleep" in person.text
    await person.type("1, 2")
    await person.type("3")
    await person.type("Wakes at 3am most nights")
    await person.tap("No")
    assert "Here are your answers" in person.text
    assert "2 years 6 months" in person.text and "Wakes at 3am" in person.text
    await person.tap("Send my answers")
    assert "Your answers are sent and saved" in person.text
    assert "not a diagnosis" in person.text
    saved = await answers_of(person.service)
    assert saved["respondent"] == "foster" and saved["worries"] == ["sleep"]
    assert saved["worry_since[sleep]"] == ["baby", "toddler"]


async def test_invalid_answer__says_what_was_expected_and_saves_nothing(person: Person) -> None:
    await start(person)
    await person.type("Sam")
    before = await answers_of(person.service)
    await person.type("banana")
    assert "Please send an age like 3" in person.text
    assert "question 2 of about" in person.text  # asked again
    assert await answers_of(person.service) == before


async def test_back_and_change__earlier_answer_revised(person: Person) -> None:
    await start(person)
    await person.type("Sam")
    await person.type("3")
    await person.command("back")
    assert "How old is your child?" in person.text and "Your answer so far: 3 years" in person.text
    await person.type("4")
    saved = await answers_of(person.service)
    assert saved["child_age"] == AgeValue(48, 48)
    assert "Who is answering?" in person.text


async def test_skip_required__asked_again_before_review(person: Person) -> None:
    await start(person)
    await person.command("skip")
    assert "I'll ask this one again" in person.text
    assert "How old is your child?" in person.text
    await person.type("1")
    await person.tap("A parent")
    await person.type("4")
    await person.command("skip")  # siblings: optional
    await person.tap("Nothing right now")
    await person.tap("Done")
    await person.tap("I don't know")
    assert "first name or nickname" in person.text  # the skipped one comes back
    await person.type("Jo")
    assert "Here are your answers" in person.text


async def test_review__edit_a_row_then_back_to_review(person: Person) -> None:
    await to_review(person)
    assert "Here are your answers" in person.text
    await person.type("1")
    assert "first name or nickname" in person.text
    await person.type("Sammy")
    assert "Here are your answers" in person.text and "Sammy" in person.text


async def test_redelivery__same_reply_nothing_changes(person: Person) -> None:
    await start(person)
    first = await person.send(Kind.TEXT, "Sam", delivery="update-77")
    again = await person.send(Kind.TEXT, "Different", delivery="update-77")
    assert [m.text for m in again] == [m.text for m in first]
    assert (await answers_of(person.service))["child_name"] == "Sam"


async def test_stale_button__moved_on_and_nothing_changes(person: Person) -> None:
    await start(person)
    await person.type("Sam")
    await person.type("3")
    question = person.last
    await person.tap("A parent")
    person.last = question
    await person.tap("A relative")  # the old message's button, tapped again
    assert "moved on" in person.text
    assert (await answers_of(person.service))["respondent"] == "parent"


async def test_forged_payload__moved_on(person: Person) -> None:
    await start(person)
    await person.send(Kind.CHOICE, "1:AAAAAAAAAAAA:3:0:o1")
    assert "moved on" in person.text
    await person.send(Kind.CHOICE, "garbage" * 20)
    assert "moved on" in person.text


async def test_group_chat__refused(service: DialogueService) -> None:
    from tests.conftest import inbound

    replies = await service.handle(inbound(Kind.COMMAND, "start", private=False))
    assert "private chat" in replies[0].text


async def test_pause_and_resume__where_it_stopped(person: Person) -> None:
    await start(person)
    await person.type("Sam")
    await person.command("pause")
    assert "Paused. 1 answer is saved" in person.text
    await person.type("hello?")
    assert "paused interview with 1 of about" in person.text
    await person.tap("Continue where I stopped")
    assert "Welcome back" in person.text and "How old is your child?" in person.text


async def test_restart__new_service_same_file_resumes(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    store = await Store.open(db_path)
    first = Person(DialogueService(store, catalog, clock=clock))
    await start(first)
    await first.type("Sam")
    await first.type("3")
    await store.close()

    store = await Store.open(db_path)
    second = Person(DialogueService(store, catalog, clock=clock))
    await second.command("start")
    assert "Welcome back" in second.text and "Who is answering?" in second.text
    await store.close()


async def test_start_over__withdraws_the_old_interview(person: Person) -> None:
    await start(person)
    await person.type("Sam")
    await person.command("pause")
    await person.command("start")
    await person.tap("Start again")
    assert "Do you agree" in person.text
    await person.tap("I agree")
    assert "question 1 of about" in person.text


async def test_every_step__audited_without_answer_content(person: Person) -> None:
    await start(person)
    await person.type("Secret Name")
    await person.command("pause")

    def read(repo):  # type: ignore[no-untyped-def]
        person_row = repo.people.find("console", "ana")
        return repo.audit.of_interview(person_row.active_interview)

    events = await person.service.store.read(read)
    assert [e.kind for e in events] == ["created", "consented", "answered", "paused"]
    assert all("Secret" not in (e.detail or "") for e in events)


def test_long_review__split_into_messages_that_fit_telegram(catalog: FlowCatalog) -> None:
    from bot.render import MAX_MESSAGE_CHARS, Renderer
    from bot.replies import Review, ReviewRow

    rows = [ReviewRow(key="child_name", value=f"{n} " + "long answer " * 120) for n in range(30)]
    review = Review(
        interview_id="x",
        flow="sample@1",
        revision=1,
        rows=rows,
        missing=["respondent"],
        can_submit=False,
    )
    messages = Renderer(catalog).review(review, "en")
    assert len(messages) > 3
    assert all(len(m.text) <= MAX_MESSAGE_CHARS for m in messages)
    text = "\n".join(m.text for m in messages)
    assert [f"{n}. What first name" in text for n in range(1, 31)] == [True] * 30
    assert "1 question still needs an answer" in messages[-1].text
    assert all("still need" not in m.text for m in messages[:-1])


async def test_start_after_submission__says_it_was_sent_then_offers_a_new_one(
    person: Person,
) -> None:
    await to_review(person)
    await person.tap("Send my answers")
    await person.command("start")
    assert "Your last interview was sent and is saved" in person.text
    await person.tap("Start a new interview")
    assert "Do you agree" in person.text
    await person.tap("I agree")
    assert "question 1 of about" in person.text
