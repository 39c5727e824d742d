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
from tests.conftest import Clock, Person, said

pytestmark = pytest.mark.both_backends


async def answers_of(service: DialogueService, user: str = "ana") -> dict[str, object]:
    def read(repo):  # type: ignore[no-untyped-def]
        person = repo.people.find("console", user)
        return {k: a.value for k, a in current_answers(repo, person.active_interview).items()}

    return await service.store.read(read)


async def start(person: Person) -> None:
    await person.command("start")
    assert person.keys == ["replies.consent"]
    await person.tap_key("agree")


async def to_review(person: Person) -> None:
    """The shortest way through the sample flow: consent, five answers, no worries, review."""
    await start(person)
    for text in ("Sam", "1", "1", "4", "0"):
        await person.type(text)
    await person.choose("none")
    await person.tap_key("done")
    await person.choose("no")


async def test_whole_interview__typed_and_tapped__to_submission(person: Person) -> None:
    await start(person)
    assert person.keys[-1] == "replies.ask" and person.asked == "child_name"
    # Where it is: part 1 of 5, the section's own title, 3 of its questions left.
    assert "About your child" in person.text
    assert said("replies.ask", section="About your child", section_number=1, sections=5,
                left_here=3, minutes_left=3, prompt="", help="", options=[], selected=[],
                current="", hint="", welcome_back=False, intro="", scale=False
                ).splitlines()[0] in person.text
    await person.type("Sam")
    await person.type("2 years 6 months")
    await person.choose("foster")
    answered = person.last[0]
    assert answered.replace and (answered.key, answered.question) == (
        "replies.answered", "respondent")
    assert "✔ A foster parent" in answered.text
    await person.choose("3")  # scale button
    await person.type("2")
    await person.choose("sleep")
    assert "☑ Sleep" in str(person.last[0].choices)
    await person.tap_key("done")
    assert person.asked == "worry_since[sleep]"
    await person.type("1, 2")
    await person.type("3")
    await person.type("Wakes at 3am most nights")
    await person.choose("no")
    assert "replies.review" in person.keys
    assert "2 years 6 months" in person.text and "Wakes at 3am" in person.text
    await person.tap_key("submit")
    await person.tap_key("send_now")
    assert person.keys[0] == "replies.submitted"
    assert person.reply("replies.submitted").text == said("replies.submitted")
    saved = await answers_of(person.service)
    assert saved["respondent"] == "foster" and saved["worries"] == ["sleep"]
    assert saved["worry_since[sleep]"] == ["baby", "toddler"]


async def test_invalid_answer__says_what_was_expected_and_saves_nothing(person: Person) -> None:
    await start(person)
    await person.type("Sam")
    before = await answers_of(person.service)
    await person.type("banana")
    assert person.keys == ["problems.not_an_age", "replies.ask"]
    assert person.asked == "child_age"  # asked again
    assert await answers_of(person.service) == before


async def test_back_and_change__earlier_answer_revised(person: Person) -> None:
    await start(person)
    await person.type("Sam")
    await person.type("3")
    await person.command("back")
    assert person.asked == "child_age" and "3" in person.text  # the answer so far
    await person.type("4")
    saved = await answers_of(person.service)
    assert saved["child_age"] == AgeValue(48, 48)
    assert person.asked == "respondent"


async def test_skip_required__asked_again_before_review(person: Person) -> None:
    await start(person)
    await person.command("skip")
    assert person.keys == ["replies.skipped_required", "replies.ask"]
    assert person.asked == "child_age"
    await person.type("1")
    await person.choose("parent")
    await person.type("4")
    await person.command("skip")  # siblings: optional
    await person.choose("none")
    await person.tap_key("done")
    await person.choose("unknown")
    # Every question seen: the skipped one is offered at a clear moment, not asked at once.
    assert person.keys[-1] == "replies.revisit_offer" and person.asked is None
    await person.tap_key("answer_skipped")
    assert person.asked == "child_name"
    await person.type("Jo")
    assert "replies.review" in person.keys


async def test_review__edit_a_row_then_back_to_review(person: Person) -> None:
    await to_review(person)
    assert "replies.review" in person.keys
    await person.type("1")
    assert person.asked == "child_name"
    await person.type("Sammy")
    assert person.keys == ["replies.review_return"]  # back at the review, no reprint
    await person.tap_key("show_answers")
    assert "replies.review" in person.keys and "Sammy" in person.text


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
    await person.choose("parent")
    person.last = question
    await person.choose("kin")  # the old message's button, tapped again
    assert person.keys == ["replies.stale"]
    assert (await answers_of(person.service))["respondent"] == "parent"


async def test_forged_payload__moved_on(person: Person) -> None:
    await start(person)
    await person.send(Kind.CHOICE, "1:AAAAAAAAAAAA:3:0:o1")
    assert person.keys == ["replies.stale"]
    await person.send(Kind.CHOICE, "garbage" * 20)
    assert person.keys == ["replies.stale"]


async def test_group_chat__refused(service: DialogueService) -> None:
    from tests.conftest import inbound

    replies = await service.handle(inbound(Kind.COMMAND, "start", private=False))
    assert [r.key for r in replies] == ["replies.group_refused"]


async def test_pause_and_resume__where_it_stopped(person: Person) -> None:
    await start(person)
    await person.type("Sam")
    asked = person.last[-1]
    await person.command("pause")
    assert person.keys == ["replies.paused"]
    assert person.text == said("replies.paused", answered=1)
    await person.type("hello?")
    assert person.keys == ["replies.resume_offer"]
    assert person.text == said("replies.resume_offer", answered=1, total=7)
    await person.tap_key("continue")
    assert person.asked == "child_age"
    # The same question, with a welcome back before it.
    resumed = person.last[-1].text
    assert resumed.endswith(asked.text) and resumed != asked.text


async def test_restart__new_service_same_file_resumes(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    store = await Store.open(db_path)
    first = Person(DialogueService(store, catalog, clock=clock))
    await start(first)
    await first.type("Sam")
    await first.type("3")
    asked = first.last[-1]
    await store.close()

    store = await Store.open(db_path)
    second = Person(DialogueService(store, catalog, clock=clock))
    await second.command("start")
    assert second.asked == "respondent"
    # The same question, with a welcome back before it.
    resumed = second.last[-1].text
    assert resumed.endswith(asked.text) and resumed != asked.text
    await store.close()


async def test_start_over__withdraws_the_old_interview(person: Person) -> None:
    await start(person)
    await person.type("Sam")
    await person.command("pause")
    await person.command("start")
    await person.tap_key("start_over")
    assert person.keys == ["replies.start_over_confirm"]  # asks first
    await person.tap_key("start_over_yes")
    assert person.keys == ["replies.consent"]
    await person.tap_key("agree")
    assert person.asked == "child_name"


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
    # Only the last page says how many questions still need an answer.
    bare = said("replies.review", rows=[], missing=0, can_submit=False, early=False)
    note = said("replies.review", rows=[], missing=1, can_submit=False, early=False)
    note = note.removeprefix(bare)
    assert note.strip() and note.strip() in messages[-1].text
    assert all(note.strip() not in m.text for m in messages[:-1])


async def test_start_after_submission__says_it_was_sent_then_offers_a_new_one(
    person: Person,
) -> None:
    await to_review(person)
    await person.tap_key("submit")
    await person.tap_key("send_now")
    await person.command("start")
    assert person.keys == ["replies.already_submitted"]
    await person.tap_key("start_new")
    assert person.keys == ["replies.consent"]
    await person.tap_key("agree")
    assert person.asked == "child_name"
