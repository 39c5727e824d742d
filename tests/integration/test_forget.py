"""/forget through the service on SQLite and PostgreSQL: confirmed erasure, and no other."""

from __future__ import annotations

import pytest

from bot.model import Kind
from bot.service import DialogueService
from store.sqlite import Store
from tests.at_rest import database_bytes
from tests.conftest import Clock, Person, ids
from tests.integration.clinic import (
    answer_sample,
    events,
    invited_family,
    new_interview,
    person_row,
    register,
    rows,
)

NOTE = "Wakes at 3am most nights"

pytestmark = pytest.mark.both_backends


async def own_interview(service: DialogueService, user: str = "ana") -> tuple[Person, str]:
    """A caregiver's self-started sample interview, answered to review with one edit."""
    ana = Person(service, user)
    await ana.command("start")
    await ana.tap_key("agree")
    await answer_sample(ana, note=NOTE)
    await ana.type("1")  # change the first answer: a second revision
    await ana.type("Samuel")
    row = await person_row(service, user)
    assert row is not None and row[2] is not None
    return ana, row[2]


async def counts(service: DialogueService) -> dict[str, int]:
    tables = ["people", "interviews", "answers", "current_answers", "events", "invites"]
    found: dict[str, int] = {}
    for table in tables:
        [(found[table],)] = await rows(service, f"SELECT count(*) FROM {table}")
    return found


async def test_forget__confirmed_by_button__answers_gone_tombstone_kept(
    clinic: DialogueService,
) -> None:
    ana, interview_id = await own_interview(clinic)
    row = await person_row(clinic, "ana")
    assert row is not None
    person_id = row[0]
    revisions = await rows(clinic, "SELECT count(*) FROM answers WHERE item_key = 'child_name'")
    assert revisions == [(2,)]

    await ana.command("forget")
    assert "clinician.forget_confirm" in ids(ana)
    await ana.tap_key("button_erase")
    assert "clinician.erased" in ids(ana)

    assert await rows(clinic, "SELECT id FROM answers WHERE interview_id = ?", interview_id) == []
    assert await rows(clinic, "SELECT item_key FROM current_answers") == []
    assert await rows(clinic, "SELECT id FROM interviews") == []
    assert await events(clinic, interview_id) == [("erased", person_id, None)]
    everything = await rows(clinic, "SELECT interview_id, kind, detail FROM events")
    assert everything == [(interview_id, "erased", None), (None, "erased", None)]
    assert await rows(clinic, "SELECT external_id, active_interview FROM people") == [
        (f"erased:{person_id}", None)
    ]
    outcomes = await rows(clinic, "SELECT outcome FROM deliveries")
    assert not any(NOTE in o or "Samuel" in o for (o,) in outcomes)
    if isinstance(clinic.store, Store):  # the files' bytes: an SQLite-only promise
        # No checkpoint of the test's own: the store truncated the WAL after the erasure.
        raw = database_bytes(clinic.store.path)
        assert NOTE.encode() not in raw and b"Samuel" not in raw  # secure_delete zeroed them


async def test_forget__confirmed_by_typing__erased(clinic: DialogueService) -> None:
    ana, _ = await own_interview(clinic)
    await ana.command("forget")
    await ana.type("Yes, erase")
    assert "clinician.erased" in ids(ana)
    assert await rows(clinic, "SELECT id FROM answers") == []


async def test_forget__then_anything_else__nothing_changes(clinic: DialogueService) -> None:
    ana, _ = await own_interview(clinic)
    before = await counts(clinic)
    await ana.command("forget")
    await ana.type("hmm, no")  # not the confirmation: the request lapses
    await ana.type("yes, erase")  # too late: read as what it is, not as a confirmation
    assert "clinician.erased" not in ana.keys
    after = await counts(clinic)
    assert after["answers"] == before["answers"] and after["interviews"] == 1
    assert await rows(clinic, "SELECT person_id FROM erasure_requests") == []


async def test_forget__keep_button__nothing_erased(clinic: DialogueService) -> None:
    ana, _ = await own_interview(clinic)
    before = await counts(clinic)
    await ana.command("forget")
    confirm = ana.last
    await ana.tap_key("button_keep")
    assert "clinician.forget_cancelled" in ids(ana)
    ana.last = confirm
    await ana.tap_key("button_erase")  # the old button, after "keep"
    assert "clinician.forget_expired" in ids(ana)
    after = await counts(clinic)
    assert after["answers"] == before["answers"] and after["interviews"] == before["interviews"]


async def test_forget__confirmation_too_late__nothing_erased(
    clinic: DialogueService, clock: Clock
) -> None:
    ana, _ = await own_interview(clinic)
    before = await counts(clinic)
    await ana.command("forget")
    clock.advance(minutes=11)
    await ana.tap_key("button_erase")
    assert "clinician.forget_expired" in ids(ana)
    assert (await counts(clinic))["answers"] == before["answers"]


async def test_forget__invited_family__clinician_keeps_interview_without_their_answers(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    fam, interview_id, code = await invited_family(doc)
    await fam.type("Samuel")
    await fam.type("3")
    await fam.command("pause")
    await doc.command("open", interview_id)
    await doc.choose("parent")  # the clinician answers one, together with the family
    doc_row, fam_row = await person_row(clinic, "doc"), await person_row(clinic, "fam")
    assert doc_row is not None and fam_row is not None

    await fam.command("forget")
    await fam.tap_key("button_erase")

    assert await rows(clinic, "SELECT item_key, answered_by FROM answers") == [
        ("respondent", doc_row[0])
    ]
    assert await rows(clinic, "SELECT item_key FROM current_answers") == [("respondent",)]
    assert await rows(
        clinic, "SELECT owner_id, respondent_id, state, subject_nickname FROM interviews"
    ) == [(doc_row[0], None, "withdrawn", "Sam")]
    # The code stays spent; who spent it is gone.
    used = await rows(clinic, "SELECT used_at IS NOT NULL, used_by FROM invites")
    assert used == [(1, None)]
    trail = await events(clinic, interview_id)
    assert all(who != fam_row[0] for kind, who, _ in trail if kind != "erased")
    assert ("erased", fam_row[0], None) in trail
    assert ("viewed", doc_row[0], "open") in trail  # the clinician's own access stays audited

    await doc.command("interviews")
    assert doc.keys == ["clinician.interviews_list"] and "Sam · withdrawn · 1" in doc.text
    [report] = await doc.command("report", interview_id)
    assert report.attachment is not None
    document = report.attachment.data.decode()
    assert "A parent" in document and "Samuel" not in document
    await fam.command("start", code)
    assert "clinician.invite_used" in ids(fam)


async def test_forget__clinician__refused(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    await new_interview(doc, "Sam")
    before = await counts(clinic)
    await doc.command("forget")
    assert "clinician.forget_refused" in ids(doc)
    await doc.type("yes, erase")
    assert (await counts(clinic))["interviews"] == before["interviews"] == 1


async def test_forget__redelivered_old_update__replays_nothing(
    clinic: DialogueService,
) -> None:
    ana = Person(clinic, "ana")
    await ana.command("start")
    await ana.tap_key("agree")
    first = await ana.send(Kind.TEXT, "Samuel", delivery="answer-1")
    assert "How old is your child?" in "".join(m.text for m in first)
    await ana.command("forget")
    await ana.tap_key("button_erase")
    again = await ana.send(Kind.TEXT, "Samuel", delivery="answer-1")
    assert again == []  # exactly once still holds, and the old reply is not replayed
    assert await rows(clinic, "SELECT id FROM answers") == []


async def test_forget__person_returns__starts_afresh(clinic: DialogueService) -> None:
    ana, _ = await own_interview(clinic)
    old = await person_row(clinic, "ana")
    await ana.command("forget")
    await ana.tap_key("button_erase")
    await ana.command("status")
    assert "replies.no_interview" in ids(ana)
    new = await person_row(clinic, "ana")
    assert old is not None and new is not None and new[0] != old[0]
