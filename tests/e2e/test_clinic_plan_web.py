"""The plan page of the web workspace: pick, edit, review date, send, notes, schedule
(real SQLite file, the ASGI app through httpx); the family gets the plan in its chat."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from bot.service import DialogueService
from tests.conftest import Clock
from tests.e2e.conftest import Browser
from tests.e2e.test_clinic_web import CSRF, events, make_clinician, signed_in
from tests.integration.plan_helpers import submitted_interview

KEY = re.compile(r'class="(?:notice|problem)"[^>]*data-key="([^"]+)"')


def said(page: httpx.Response) -> str | None:
    found = KEY.search(page.text)
    return found.group(1) if found else None


async def post(client: httpx.AsyncClient, interview: str, *, home: str | None = None,
               **form: str) -> httpx.Response:
    """Post a form with the session's token (read from a plan page of one's own)."""
    page = await client.get(f"/clinic/interviews/{home or interview}/plan")
    token = CSRF.search(page.text)
    assert token is not None
    return await client.post(f"/clinic/interviews/{interview}/plan",
                             data={"csrf": token.group(1), **form})


async def test_plan_page__build_edit_review_send__family_gets_it(
    service: DialogueService, browser: Browser, clock: Clock, db_path: Path
) -> None:
    doc = await make_clinician(service, "doc")
    interview = await submitted_interview(service, "console", "doc", "fam", clock.now)
    client = await signed_in(browser, doc)
    page = await client.get(f"/clinic/interviews/{interview}/plan")
    assert page.status_code == 200
    assert page.text.count('class="rec"') == 2  # Mia's report: two recommendations

    added = await post(client, interview, action="add", n="2",
                       words="Ten minutes of play after school, just you two.")
    assert (added.status_code, said(added)) == (200, "plan.item_added")
    assert 'data-item="1"' in added.text and "just you two." in added.text
    assert said(await post(client, interview, action="add", n="2")) == "plan.already_in_plan"
    assert said(await post(client, interview, action="add", n="9")) == "plan.bad_number"
    bad = await post(client, interview, action="review", date="someday")
    assert (bad.status_code, said(bad)) == (400, "plan.review_bad_date")
    assert said(await post(client, interview, action="review", date="2026-11-01")) == \
        "plan.review_past"
    assert said(await post(client, interview, action="review", date="2026-12-20")) == \
        "plan.review_set"
    assert said(await post(client, interview, action="note", words="Dad joins next time.")) \
        == "plan.note_saved"
    assert said(await post(client, interview, action="schedule", months="6")) == \
        "plan.schedule_set"
    caseload = await client.get("/clinic/")
    assert re.search(r'data-key="clinic.next_due">2027-05-25<', caseload.text)
    sent = await post(client, interview, action="send")
    assert said(sent) == "plan.send_asked"
    assert "Dad joins next time." in sent.text and "2027-05-25" in sent.text

    # The bot's scheduler delivers it in the family's chat, once.
    delivered = await service.plan_sends("console")
    assert [(m.key, m.chat_id) for m in delivered] == [("plan.plan_for_family", "fam")]
    assert "just you two." in delivered[0].text
    assert await service.plan_sends("console") == []
    kinds = {detail for _, _, detail in events(db_path, "plan_send_asked")}
    assert kinds == {"web"}
    assert [e[0] for e in events(db_path, "plan_sent")] == [interview]


async def test_plan_page__no_csrf__refused_nothing_kept(
    service: DialogueService, browser: Browser, clock: Clock
) -> None:
    doc = await make_clinician(service, "doc")
    interview = await submitted_interview(service, "console", "doc", "fam", clock.now)
    client = await signed_in(browser, doc)
    answer = await client.post(f"/clinic/interviews/{interview}/plan",
                               data={"action": "note", "words": "forged"})
    assert answer.status_code == 403
    notes = await service.store.read(lambda uow: uow.plans.notes(interview))
    assert notes == []


async def test_plan_page__another_clinicians_interview__404_audited(
    service: DialogueService, browser: Browser, clock: Clock, db_path: Path
) -> None:
    await make_clinician(service, "doc")
    interview = await submitted_interview(service, "console", "doc", "fam", clock.now)
    other = await make_clinician(service, "other")
    own = await submitted_interview(service, "console", "other", "fam2", clock.now)
    client = await signed_in(browser, other)
    page = await client.get(f"/clinic/interviews/{interview}/plan")
    assert page.status_code == 404 and "Mia" not in page.text
    for target in (interview, "nosuchinterview1"):
        answer = await post(client, target, home=own, action="note", words="x")
        assert answer.status_code == 404
    assert await service.store.read(lambda uow: uow.plans.notes(interview)) == []
    assert "web_plan" in {d for _, _, d in events(db_path, "denied")}


async def test_plan_page__signed_out__to_sign_in(
    service: DialogueService, browser: Browser, clock: Clock
) -> None:
    interview = await submitted_interview(service, "console", "doc", "fam", clock.now)
    answer = await browser().get(f"/clinic/interviews/{interview}/plan")
    assert answer.status_code == 303 and answer.headers["location"] == "/clinic/signin"
