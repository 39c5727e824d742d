"""The family's own words after the check-in's buttons: optional, kept sealed, shown to the
clinician (/plan, the plan page's data, the follow-up report); the buttons stay one tap."""

from __future__ import annotations

from pathlib import Path

from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.at_rest import keyed_later
from tests.conftest import Clock, Person, ids
from tests.integration.clinic import rows
from tests.integration.plan_helpers import follow_up_change
from tests.integration.test_plans import DOC, FAM, planned, to_chat

WORDS = "Bedtime is calmer now, Quokka-mornings still hard"


async def both_tried_no(service: DialogueService, fam: Person, clock: Clock) -> None:
    """At the review date the check-in is sent; the family answers both items "not tried"
    (item 2 first, then item 1 from the first two messages), which ends the check-in."""
    clock.advance(days=30)
    sent = await service.plan_sends("console")
    fam.last = sent
    await fam.tap_key("tried_no")
    fam.last = sent[:2]
    await fam.tap_key("tried_no")


async def test_words__invited_after_the_last_tap__kept__clinician_told(
    service: DialogueService, clock: Clock
) -> None:
    doc, fam, interview = await planned(service, clock)
    clock.advance(days=30)
    sent = await service.plan_sends("console")
    fam.last = sent
    await fam.tap_key("tried_no")  # item 2
    assert ids(fam) == ["plan.checkin_noted"]  # no invitation before the check-in is done
    fam.last = sent[:2]
    await fam.tap_key("tried_no")  # item 1: the last answer, one tap
    assert ids(fam)[:2] == ["plan.checkin_done", "plan_edits.checkin_words_invite"]

    await fam.type(WORDS)
    assert ids(fam)[0] == "plan_edits.checkin_words_kept"
    assert to_chat(fam.last, DOC) == ["plan_edits.checkin_words_owner"]
    plan = await service.store.read(lambda repo: repo.plans.plan(interview))
    assert plan is not None and plan.family_words == WORDS and plan.words_at == clock.now
    # Audited without the words.
    assert await rows(service, "SELECT detail FROM events WHERE kind = 'checkin_words'") == [
        (None,)]
    await doc.command("plan", interview)
    assert ids(doc) == ["plan.plan_show"] and WORDS in doc.last[0].text

    # Once kept, the next message is not taken as more words.
    await fam.type("hello again")
    assert "plan_edits.checkin_words_kept" not in ids(fam)


async def test_words__not_awaited__or_too_late__not_taken(
    service: DialogueService, clock: Clock
) -> None:
    _, fam, interview = await planned(service, clock)
    await fam.type(WORDS)  # before any check-in
    assert "plan_edits.checkin_words_kept" not in ids(fam)
    await both_tried_no(service, fam, clock)
    clock.advance(days=4)  # the invitation has lapsed
    await fam.type(WORDS)
    assert "plan_edits.checkin_words_kept" not in ids(fam)
    plan = await service.store.read(lambda repo: repo.plans.plan(interview))
    assert plan is not None and plan.family_words is None


async def test_words__in_the_follow_up_report(service: DialogueService, clock: Clock) -> None:
    _, fam, interview = await planned(service, clock)
    await both_tried_no(service, fam, clock)
    await fam.type(WORDS)
    html = await follow_up_change(service, DOC, FAM, clock.now, interview)
    assert 'data-key="plan.family_words"' in html and WORDS in html


async def test_words__sealed__resealed_when_keyed_later__gone_with_the_family(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    db = tmp_path / "later.db"
    service = DialogueService(await Store.open(db), catalog, clock=clock)
    _, fam, interview = await planned(service, clock)
    await both_tried_no(service, fam, clock)
    await fam.type(WORDS)
    await service.store.close()
    async with keyed_later(db, b"Quokka-mornings") as keyed:
        plan = await keyed.read(lambda repo: repo.plans.plan(interview))
        assert plan is not None and plan.family_words == WORDS
        await keyed.run(lambda repo: repo.plans.erase_family(interview))
        plan = await keyed.read(lambda repo: repo.plans.plan(interview))
        assert plan is not None and plan.family_words is None
