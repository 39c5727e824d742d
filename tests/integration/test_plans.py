"""Notes, a plan sent to the family, its check-in and scheduled re-assessment, on SQLite."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.model import Outbound
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from messages.render import macro
from store.cipher import new_key
from store.sqlite import Store
from tests.at_rest import keyed_later
from tests.conftest import Clock, Person, ids
from tests.integration.clinic import rows
from tests.integration.plan_helpers import follow_up_change, submitted_interview

DOC, FAM = "doc", "fam"


async def doc_and_interview(service: DialogueService, clock: Clock) -> tuple[Person, str]:
    """Clinician DOC's driver and a submitted interview of theirs that FAM answered."""
    interview = await submitted_interview(service, "console", DOC, FAM, clock.now)
    return Person(service, DOC), interview


async def planned(service: DialogueService, clock: Clock) -> tuple[Person, Person, str]:
    """A submitted interview with one plan item and a review date, sent to the family."""
    interview = await submitted_interview(service, "console", DOC, FAM, clock.now)
    doc, fam = Person(service, DOC), Person(service, FAM)
    await doc.command("plan", f"{interview} add 1")
    assert ids(doc) == ["plan.item_added"]
    await doc.command("plan", f"{interview} add 2 Ten minutes of play together after school.")
    assert ids(doc) == ["plan.item_added"]
    await doc.command("plan", f"{interview} review 2026-12-20")
    assert ids(doc) == ["plan.review_set"]
    await doc.command("plan", f"{interview} send")
    return doc, fam, interview


def to_chat(messages: list[Outbound], chat: str) -> list[str]:
    return [m.key for m in messages if m.chat_id == chat]


async def test_plan__picked_edited_sent__family_gets_it_in_its_chat(
    service: DialogueService, clock: Clock
) -> None:
    doc, _, interview = await planned(service, clock)
    assert to_chat(doc.last, FAM) == ["plan.plan_for_family"]
    assert ids(doc)[-1] == "plan.plan_sent"
    family_words = doc.last[0].text
    assert "Ten minutes of play together after school." in family_words  # the edited words
    await doc.command("plan", interview)
    assert ids(doc) == ["plan.plan_show"]
    events = [r[0] for r in await rows(
        service, "SELECT kind FROM events WHERE interview_id = ? ORDER BY id", interview)]
    assert events.count("plan_item_added") == 2 and "plan_sent" in events


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ("add 0", "plan.bad_number"),
        ("add 99", "plan.bad_number"),
        ("add one", "plan.bad_number"),
        ("review tomorrow", "plan.review_bad_date"),
        ("review 2026-02-30", "plan.review_bad_date"),
        ("review 2026-11-25", "plan.review_past"),
        ("review 2031-01-01", "plan.review_too_far"),
        ("send", "plan.plan_empty"),
        ("edit 1 new words", "plan.bad_item"),
        ("frobnicate", "plan.plan_usage"),
    ],
)
async def test_plan__bad_input__says_what_was_expected_and_keeps_nothing(
    service: DialogueService, clock: Clock, args: str, problem: str
) -> None:
    doc, interview = await doc_and_interview(service, clock)
    await doc.command("plan", f"{interview} {args}")
    assert ids(doc) == [problem]
    assert await rows(service, "SELECT * FROM plan_items") == []


async def test_plan__family_or_stranger__refused(service: DialogueService, clock: Clock) -> None:
    interview = await submitted_interview(service, "console", DOC, FAM, clock.now)
    fam = Person(service, FAM)
    await fam.command("plan", f"{interview} add 1")
    assert ids(fam) == ["clinician.not_clinician"]
    other = await submitted_interview(service, "console", "doc2", "fam2", clock.now)
    doc = Person(service, DOC)
    await doc.command("note", f"{other} Sleep routine discussed.")
    assert ids(doc) == ["clinician.not_found"]
    assert await rows(service, "SELECT * FROM clinician_notes") == []


async def test_notes__append_only(service: DialogueService, clock: Clock) -> None:
    doc, interview = await doc_and_interview(service, clock)
    await doc.command("note", f"{interview} Mother says sleep is better since the move.")
    assert ids(doc) == ["plan.note_saved"]
    await doc.command("note", interview)
    assert ids(doc) == ["plan.note_list"]
    assert "sleep is better" in doc.last[0].text

    def rewrite(repo: object) -> None:
        repo.conn.execute("UPDATE clinician_notes SET body = 'x'")  # type: ignore[attr-defined]

    with pytest.raises(Exception, match="append-only"):
        await service.store.run(rewrite)


async def test_checkin__at_review_date__sent_once__answered(
    service: DialogueService, clock: Clock
) -> None:
    _, fam, interview = await planned(service, clock)
    assert await service.plan_sends("console") == []  # not before the review date
    clock.advance(days=25)
    sent = await service.plan_sends("console")
    assert [m.key for m in sent] == ["plan.checkin_intro", "plan.checkin_tried",
                                     "plan.checkin_tried"]
    assert {m.chat_id for m in sent} == {FAM}
    assert await service.plan_sends("console") == []  # once
    fam.last = sent
    await fam.tap_key("tried_unknown")  # the last message: item 2; "I don't know" is kept
    assert ids(fam) == ["plan.checkin_noted"]
    fam.last = sent[:2]
    await fam.tap_key("tried_yes")  # item 1
    assert ids(fam) == ["plan.checkin_went"]
    await fam.tap_key("went_better")
    assert ids(fam)[0] == "plan.checkin_done"
    assert to_chat(fam.last, DOC) == ["plan.checkin_answered"]
    stored = await service.store.read(lambda repo: repo.plans.plan(interview))
    assert [(i.tried, i.went) for i in stored.items] == [("yes", "better"), ("unknown", None)]


async def test_checkin__restart__not_sent_again(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    service = DialogueService(await Store.open(db_path), catalog, clock=clock)
    await planned(service, clock)
    clock.advance(days=30)
    assert len(await service.plan_sends("console")) == 3
    await service.store.close()
    again = DialogueService(await Store.open(db_path), catalog, clock=clock)
    assert await again.plan_sends("console") == []
    await again.store.close()


async def test_checkin__buttons_of_someone_else__stale(
    service: DialogueService, clock: Clock
) -> None:
    _, _, interview = await planned(service, clock)
    clock.advance(days=30)
    sent = await service.plan_sends("console")
    stranger = Person(service, "stranger")
    stranger.last = sent
    await stranger.tap_key("tried_no")
    assert ids(stranger) == ["replies.stale"]
    stored = await service.store.read(lambda repo: repo.plans.plan(interview))
    assert all(i.tried is None for i in stored.items)


@pytest.mark.parametrize("words", ["3", "three months", "tres meses", "cada 3 meses"])
async def test_schedule__words_in_either_language(
    service: DialogueService, clock: Clock, words: str
) -> None:
    doc, interview = await doc_and_interview(service, clock)
    await doc.command("schedule", f"{interview} {words}")
    assert ids(doc) == ["plan.schedule_set"]
    due = await service.store.read(lambda repo: repo.plans.next_due([interview]))
    assert due == {interview: date(2027, 2, 25)}  # 2026-11-25 + 3 months


@pytest.mark.parametrize("words", ["", "7", "every week", "12"])
async def test_schedule__bad_interval__problem(
    service: DialogueService, clock: Clock, words: str
) -> None:
    doc, interview = await doc_and_interview(service, clock)
    await doc.command("schedule", f"{interview} {words}")
    assert ids(doc) == ["plan.schedule_bad"]
    assert await rows(service, "SELECT * FROM reassessments") == []


async def test_schedule__due__follow_up_carried_over__reminded_once(
    service: DialogueService, clock: Clock
) -> None:
    interview = await submitted_interview(service, "console", DOC, FAM, clock.now)
    doc, fam = Person(service, DOC), Person(service, FAM)
    await doc.command("schedule", f"{interview} 6")
    clock.advance(days=100)
    assert await service.plan_sends("console") == []
    clock.advance(days=90)
    sent = await service.plan_sends("console")
    assert [(m.key, m.chat_id) for m in sent] == [("plan.reassess_due", FAM),
                                                  ("plan.reassess_owner", DOC)]
    assert await service.plan_sends("console") == []
    follow_up = (await rows(service, "SELECT id, respondent_id, follow_up_of FROM interviews "
                            "WHERE follow_up_of = ?", interview))
    assert len(follow_up) == 1
    fam.last = sent
    await fam.tap_key("button_start")
    assert ids(fam) == ["replies.consent"]
    due = await service.store.read(lambda repo: repo.plans.next_due([interview]))
    assert due[interview] == date(2027, 11, 25)
    await doc.command("schedule", f"{interview} apagar")
    assert ids(doc) == ["plan.schedule_off"]


async def test_erasure__clinician_and_family__plan_rows_go(
    service: DialogueService, clock: Clock
) -> None:
    doc, fam, interview = await planned(service, clock)
    await doc.command("note", f"{interview} a private note")
    await doc.command("schedule", f"{interview} 3")
    clock.advance(days=30)
    sent = await service.plan_sends("console")
    fam.last = sent
    await fam.tap_key("tried_no")
    # The family leaves: its check-in answers go, no more re-assessments to no one.
    await fam.command("forget")
    await fam.tap_key("button_erase")
    assert await rows(service, "SELECT tried, went FROM plan_items "
                      "WHERE tried IS NOT NULL OR went IS NOT NULL") == []
    assert await rows(service, "SELECT * FROM reassessments") == []
    # An interview erased whole (its owner erased: the store's path for owned interviews)
    # takes every note and the plan with it.
    doc_id = (await rows(service, "SELECT owner_id FROM interviews WHERE id = ?", interview))[0][0]
    await service.store.run(lambda repo: repo.erase_person(doc_id, now=clock.now))
    for table in ("clinician_notes", "plans", "plan_items", "reassessments"):
        assert await rows(service, f"SELECT * FROM {table}") == [], table


async def test_sealed_at_rest__notes_wording_answers(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    db, key = tmp_path / "sealed.db", new_key()
    service = DialogueService(await Store.open(db, data_key=key), catalog, clock=clock)
    doc, fam, interview = await planned(service, clock)
    await doc.command("note", f"{interview} Grandmother-nightshift-story")
    clock.advance(days=30)
    fam.last = await service.plan_sends("console")
    await fam.tap_key("tried_partly")
    await service.store.checkpoint()
    await service.store.close()
    raw = db.read_bytes()
    for secret in (b"Grandmother-nightshift-story", b"Ten minutes of play together",
                   b"sleep_routine", b"partly"):
        assert secret not in raw, secret
    again = DialogueService(await Store.open(db, data_key=key), catalog, clock=clock)
    notes = await again.store.read(lambda repo: repo.plans.notes(interview))
    assert [n.body for n in notes] == ["Grandmother-nightshift-story"]
    await again.store.close()


async def test_follow_up_report__change_in_scores_next_to_what_was_tried(
    service: DialogueService, clock: Clock
) -> None:
    _, fam, interview = await planned(service, clock)
    clock.advance(days=30)
    fam.last = await service.plan_sends("console")
    await fam.tap_key("tried_unknown")  # item 2
    clock.advance(days=60)
    html = await follow_up_change(service, DOC, FAM, clock.now, interview)
    tried = html.index('class="tried"')
    assert tried < html.index("<h2>", tried)  # the table, then the score changes below it
    unknown = str(macro("en", "plan.j2", "tried_word")(value="unknown")).strip()
    not_tried = str(macro("en", "plan.j2", "tried_word")(value="no")).strip()
    assert unknown in html and not_tried not in html  # "I don't know" is not a "no"


async def test_follow_up_report__no_plan__no_tried_section(
    service: DialogueService, clock: Clock
) -> None:
    interview = await submitted_interview(service, "console", DOC, FAM, clock.now)
    html = await follow_up_change(service, DOC, FAM, clock.now, interview)
    assert 'class="tried"' not in html


async def test_key_set_later__notes_and_plan_resealed__read_back__append_only_kept(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    db = tmp_path / "later.db"
    service = DialogueService(await Store.open(db), catalog, clock=clock)
    doc, fam, interview = await planned(service, clock)
    await doc.command("note", f"{interview} Grandmother-nightshift-story")
    clock.advance(days=30)
    fam.last = await service.plan_sends("console")
    await fam.tap_key("tried_partly")
    before = await service.store.read(lambda repo: repo.plans.plan(interview))
    await service.store.close()
    async with keyed_later(db, b"Grandmother-nightshift-story", b"Ten minutes of play together",
                           b"sleep_routine", b"partly") as keyed:
        assert await keyed.read(lambda repo: repo.plans.plan(interview)) == before
        notes = await keyed.read(lambda repo: repo.plans.notes(interview))
        assert [n.body for n in notes] == ["Grandmother-nightshift-story"]
        with pytest.raises(Exception, match="append-only"):
            await keyed.run(lambda repo: repo.conn.execute("UPDATE clinician_notes SET body = ''"))


async def test_note__clinical_words__kept_not_taken_for_the_clinician_in_danger(
    service: DialogueService, clock: Clock
) -> None:
    doc, interview = await doc_and_interview(service, clock)
    await doc.command("note", f"{interview} Mother says the father hit her and she wants to die.")
    assert ids(doc) == ["plan.note_saved"]
    # The same words typed by the family still bring the support contacts.
    fam = Person(service, FAM)
    await fam.type("the father hit me and I want to die")
    assert "safety.support" in ids(fam)
