"""Removing a plan item: append-only, audited; the check-in skips it; reports show it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.at_rest import keyed_later
from tests.conftest import Clock, Person, ids, said
from tests.integration.clinic import rows
from tests.integration.plan_helpers import follow_up_change
from tests.integration.test_plans import DOC, FAM, planned

WHY = "The family found a calmer bedtime routine of its own"


async def test_remove__before_the_checkin__not_asked__history_kept__audited(
    service: DialogueService, clock: Clock
) -> None:
    doc, _, interview = await planned(service, clock)
    await doc.command("plan", f"{interview} remove 1 {WHY}")
    assert ids(doc) == ["plan_edits.item_removed"]
    plan = await service.store.read(lambda repo: repo.plans.plan(interview))
    assert plan is not None
    assert [(i.position, i.status) for i in plan.items] == [(1, "removed"), (2, "sent")]
    removed = plan.items[0].removed
    assert removed is not None and removed.reason == WHY and removed.at == clock.now
    doc_id = (await rows(service, "SELECT id FROM people WHERE external_id = ?", DOC))[0][0]
    assert removed.author_id == doc_id
    assert ("plan_item_removed", "1") in await rows(
        service, "SELECT kind, detail FROM events WHERE interview_id = ?", interview)
    await doc.command("plan", interview)
    assert ids(doc) == ["plan.plan_show"] and WHY in doc.last[0].text

    clock.advance(days=30)
    sent = await service.plan_sends("console")
    # One item left to ask about: the removed one is not.
    assert [m.key for m in sent] == ["plan.checkin_intro", "plan.checkin_tried"]
    fam = Person(service, FAM)
    fam.last = sent
    await fam.tap_key("tried_no")
    assert ids(fam)[0] == "plan.checkin_done"  # complete without the removed item


async def test_every_item_removed_before_the_review__no_empty_checkin__not_sent_later(
    service: DialogueService, clock: Clock
) -> None:
    doc, _, interview = await planned(service, clock)
    await doc.command("plan", f"{interview} remove 1 {WHY}")
    await doc.command("plan", f"{interview} remove 2 {WHY}")
    assert ids(doc) == ["plan_edits.item_removed"]
    clock.advance(days=30)
    assert await service.plan_sends("console") == []
    clock.advance(days=1)
    assert await service.plan_sends("console") == []  # claimed: not tried again each minute


async def test_remove__after_the_checkin__follow_up_report_shows_it_removed_with_what_was_tried(
    service: DialogueService, clock: Clock
) -> None:
    doc, fam, interview = await planned(service, clock)
    clock.advance(days=30)
    fam.last = (await service.plan_sends("console"))[:2]
    await fam.tap_key("tried_yes")  # item 1
    await fam.tap_key("went_worse")
    await doc.command("plan", f"{interview} remove 1 {WHY}")
    assert ids(doc) == ["plan_edits.item_removed"]
    clock.advance(days=60)
    html = await follow_up_change(service, DOC, FAM, clock.now, interview)
    tried = html[html.index('class="tried"'):]
    row = tried[tried.index("data-removed="):tried.index("</tr>", tried.index("data-removed="))]
    tried_it, went = said("plan.tried_word", value="yes"), said("plan.went_word", value="worse")
    assert WHY in row and f"<td>{tried_it}</td><td>{went}</td>" in row
    assert tried.count("data-removed=") == 1  # item 2 is still in the plan


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ("remove", "plan_edits.remove_bad_item"),
        ("remove 9 no longer needed", "plan_edits.remove_bad_item"),
        ("remove one no longer needed", "plan_edits.remove_bad_item"),
        ("remove 1", "plan_edits.remove_no_reason"),
    ],
)
async def test_remove__bad_input__says_what_was_expected__nothing_kept(
    service: DialogueService, clock: Clock, args: str, problem: str
) -> None:
    doc, _, interview = await planned(service, clock)
    await doc.command("plan", f"{interview} {args}")
    assert ids(doc) == [problem]
    assert await service.store.read(lambda repo: repo.plans.changes(interview)) == []


async def test_removed__not_removed_twice__not_edited__picked_again_as_a_new_item(
    service: DialogueService, clock: Clock
) -> None:
    doc, _, interview = await planned(service, clock)
    await doc.command("plan", f"{interview} remove 2 {WHY}")  # the item in the doctor's words
    await doc.command("plan", f"{interview} remove 2 {WHY}")
    assert ids(doc) == ["plan_edits.remove_bad_item"]
    await doc.command("plan", f"{interview} edit 2 new words")
    assert ids(doc) == ["plan.bad_item"]
    await doc.command("plan", f"{interview} add 2")
    assert ids(doc) == ["plan.item_added"]
    plan = await service.store.read(lambda repo: repo.plans.plan(interview))
    assert plan is not None
    assert [i.status for i in plan.items] == ["sent", "removed", "planned"]
    # Sent again: the family reads the items in the plan, not the removed one's words.
    await doc.command("plan", f"{interview} send")
    assert "plan.plan_sent" in ids(doc)
    family = next(m for m in doc.last if m.chat_id == FAM)
    assert "Ten minutes of play together" not in family.text
    assert len(await service.store.read(lambda repo: repo.plans.changes(interview))) == 1


async def test_remove__spanish_word(service: DialogueService, clock: Clock) -> None:
    doc, _, interview = await planned(service, clock)
    await doc.command("plan", f"{interview} quitar 2 Ya no hace falta")
    assert ids(doc) == ["plan_edits.item_removed"]


async def test_removal_reason__sealed__resealed_when_keyed_later__append_only(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    db = tmp_path / "later.db"
    service = DialogueService(await Store.open(db), catalog, clock=clock)
    doc, _, interview = await planned(service, clock)
    await doc.command("plan", f"{interview} remove 1 Quokka-Tangerine-routine")
    await service.store.close()
    async with keyed_later(db, b"Quokka-Tangerine-routine") as keyed:
        changes = await keyed.read(lambda repo: repo.plans.changes(interview))
        assert [c.reason for c in changes] == ["Quokka-Tangerine-routine"]
        with pytest.raises(Exception, match="append-only"):
            await keyed.run(lambda repo: repo.conn.execute(
                "UPDATE plan_item_changes SET reason = ''"))


async def test_erased_with_the_interview(service: DialogueService, clock: Clock) -> None:
    doc, _, interview = await planned(service, clock)
    await doc.command("plan", f"{interview} remove 1 {WHY}")
    await service.store.run(lambda repo: repo.plans.erase_interview(interview))
    assert await rows(service, "SELECT count(*) FROM plan_item_changes") == [(0,)]
