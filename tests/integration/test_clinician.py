"""Clinicians through the dialogue service on a real SQLite file: roles, invites, reports, audit."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.console import ConsoleChat
from bot.model import Kind
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.conftest import Clock, Person, ids, inbound, said
from tests.integration.clinic import (
    answer_sample,
    events,
    invited_family,
    new_interview,
    person_row,
    register,
    rows,
    submitted_history,
    to_chat,
)

# -- registering clinicians -------------------------------------------------------------------


async def test_operator_registers_clinician__role_stored__new_allowed(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    row = await person_row(clinic, "doc")
    assert row is not None and row[1] == "clinician"
    await doc.command("new", "Sam")
    assert doc.keys == ["clinician.invite_created"] and "Sam" in doc.text


async def test_clinician_add__by_non_operator__refused_role_unchanged(
    clinic: DialogueService,
) -> None:
    mallory = Person(clinic, "mallory")
    await mallory.command("clinician", "add mallory")
    assert "clinician.not_admin" in ids(mallory)
    row = await person_row(clinic, "mallory")
    assert row is not None and row[1] == "caregiver"
    denied = await rows(clinic, "SELECT kind, detail FROM events WHERE person_id = ?", row[0])
    assert denied == [("denied", "clinician")]


async def test_clinician_commands__caregiver__refused_nothing_created(
    clinic: DialogueService,
) -> None:
    ana = Person(clinic, "ana")
    for name, args in [("new", "Sam"), ("interviews", ""), ("open", "abc"), ("invite", "abc")]:
        await ana.command(name, args)
        assert "clinician.not_clinician" in ids(ana), name
    assert await rows(clinic, "SELECT id FROM interviews") == []
    assert await rows(clinic, "SELECT code_hash FROM invites") == []


def test_cli_clinician_add__role_in_database(tmp_path: Path, catalog: FlowCatalog) -> None:
    db = tmp_path / "hearth.db"
    assert cli(["--db", str(db), "clinician", "add", "console", "doc"]) == 0

    async def check() -> None:
        store = await Store.open(db)
        try:
            doc = Person(DialogueService(store, catalog), "doc")
            await doc.command("new", "Sam")
            assert doc.keys == ["clinician.invite_created"] and "Sam" in doc.text
        finally:
            await store.close()

    asyncio.run(check())


def test_cli_clinician_add__bad_id__clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["--db", str(tmp_path / "h.db"), "clinician", "add", "telegram", "12 34"]) == 2
    assert capsys.readouterr().err == "hearth: " + said(
        "operator.clinician_usage", channel="telegram", id="12 34") + "\n"


# -- invitations ------------------------------------------------------------------------------


async def test_invite__claim_complete__clinician_notified_and_gets_report(
    clinic: DialogueService, clock: Clock
) -> None:
    doc = await register(clinic, "doc")
    code, interview_id = await new_interview(doc, "Sam")
    stored = await rows(clinic, "SELECT code_hash, interview_id, used_at FROM invites")
    assert stored == [(hashlib.sha256(code.encode()).hexdigest(), interview_id, None)]

    fam = Person(clinic, "fam")
    await fam.command("start", code)
    assert fam.reply("clinician.invite_claimed").text == said(
        "clinician.invite_claimed", nickname="Sam", interview_id=interview_id)
    assert "replies.consent" in ids(fam)
    await fam.tap_key("agree")
    await answer_sample(fam)
    await fam.tap_key("submit")
    sent = await fam.tap_key("send_now")
    assert "replies.submitted" in ids(fam)

    notes = to_chat(sent, "doc")
    assert len(notes) == 1
    assert notes[0].key == "clinician.family_submitted"
    assert notes[0].text == said(
        "clinician.family_submitted", nickname="Sam", interview_id=interview_id)
    assert all(m.chat_id is None for m in sent if m is not notes[0])  # the rest: to the family

    claimed = await rows(clinic, "SELECT respondent_id, owner_id, state FROM interviews")
    fam_row, doc_row = await person_row(clinic, "fam"), await person_row(clinic, "doc")
    assert fam_row is not None and doc_row is not None
    assert claimed == [(fam_row[0], doc_row[0], "submitted")]

    [report] = await doc.command("report", interview_id)
    assert report.attachment is not None and report.attachment.mime.startswith("text/plain")
    document = report.attachment.data.decode()
    # The list's frame (title, nickname, id, state, time) as the template renders it with
    # this test's values, around the answers.
    flow = clinic.catalog.latest("sample")
    frame = said("clinician.answer_list", title=flow.text(flow.title, "en"), nickname="Sam",
                 state="submitted", at=f"{clock.now:%Y-%m-%d %H:%M} UTC",
                 interview_id=interview_id, rows=[]).splitlines()
    head, closing = "\n".join(frame[:-1]).rstrip(), frame[-1]
    assert document.startswith(head) and document.rstrip().endswith(closing)
    assert "Wakes at 3am most nights" in document
    assert "A foster parent" in document and "2 years 6 months" in document
    assert ("exported", doc_row[0], "clinician") in await events(clinic, interview_id)


async def test_invite__code_stored_nowhere_in_clear(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    code, _ = await new_interview(doc, "Sam")
    await clinic.store.checkpoint()
    raw = clinic.store.path.read_bytes()
    assert code.encode() not in raw  # not in invites, events, nor the stored delivery
    assert hashlib.sha256(code.encode()).hexdigest().encode() in raw


async def test_new__redelivered__same_interview_and_code_not_replayed(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    first = await doc.send(Kind.COMMAND, "new", "Sam", delivery="new-1")
    again = await doc.send(Kind.COMMAND, "new", "Sam", delivery="new-1")
    assert ids(first) == ids(again) == ["clinician.invite_created"]
    assert "https://t.me/" in first[0].text
    [(interview_id,)] = await rows(clinic, "SELECT id FROM interviews")
    # The replay says the interview is ready without its link, which is never stored.
    assert again[0].text == said("clinician.invite_created", nickname="Sam",
                                 interview_id=interview_id, expires="", code=None, link=None)


async def test_invite__single_use__second_person_refused(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    code, _ = await new_interview(doc, "Sam")
    fam, other = Person(clinic, "fam"), Person(clinic, "other")
    await fam.command("start", code)
    await other.command("start", code)
    # Under way: the link asks for a resume code from where it is open, and shows nothing.
    assert ids(other) == ["resume.invite_resume"]
    other_row = await person_row(clinic, "other")
    assert other_row is not None and other_row[2] is None  # no interview became theirs
    fam_row = await person_row(clinic, "fam")
    assert fam_row is not None
    assert await rows(clinic, "SELECT respondent_id FROM interviews") == [(fam_row[0],)]
    # The family tapping their own link again simply carries on.
    await fam.command("start", code)
    assert "replies.consent" in ids(fam)


@pytest.mark.parametrize(
    ("waited", "claimed"),
    [({"days": 6, "hours": 23}, True), ({"days": 7}, False), ({"days": 30}, False)],
)
async def test_invite__expiry__seven_days_by_default(
    clinic: DialogueService, clock: Clock, waited: dict[str, float], claimed: bool
) -> None:
    doc = await register(clinic, "doc")
    code, _ = await new_interview(doc, "Sam")
    clock.advance(**waited)
    fam = Person(clinic, "fam")
    await fam.command("start", code)
    respondents = await rows(clinic, "SELECT respondent_id FROM interviews")
    if claimed:
        assert "replies.consent" in ids(fam) and respondents[0][0] is not None
    else:
        assert "clinician.invite_expired" in ids(fam)
        assert respondents == [(None,)]
        assert await rows(clinic, "SELECT used_at FROM invites") == [(None,)]


async def test_wrong_code__five_per_hour__then_refused_even_the_right_one(
    clinic: DialogueService, clock: Clock
) -> None:
    doc = await register(clinic, "doc")
    code, _ = await new_interview(doc, "Sam")
    guesser = Person(clinic, "guesser")
    for attempt in range(5):
        await guesser.command("start", f"wrong-code-number-{attempt:04d}")
        assert "clinician.invite_unknown" in ids(guesser)
        clock.advance(minutes=1)
    await guesser.command("start", code)
    assert guesser.keys == ["clinician.too_many_attempts"]
    assert guesser.text == said("clinician.too_many_attempts", minutes=55)
    assert await rows(clinic, "SELECT respondent_id FROM interviews") == [(None,)]
    clock.advance(minutes=55)  # the first wrong attempt leaves the hour's window
    await guesser.command("start", code)
    assert "replies.consent" in ids(guesser)
    assert len(await rows(clinic, "SELECT id FROM attempts")) == 4  # only the window is kept


async def test_new_invite__old_code_retired(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    old, interview_id = await new_interview(doc, "Sam")
    await doc.command("invite", interview_id)
    fresh = doc.text.split("start=")[1].split()[0]
    fam = Person(clinic, "fam")
    await fam.command("start", old)
    assert "clinician.invite_used" in ids(fam)
    await fam.command("start", fresh)
    assert "replies.consent" in ids(fam)
    await doc.command("invite", interview_id)
    assert "clinician.invite_not_possible" in ids(doc)


async def test_clinician__cannot_claim_an_invitation(clinic: DialogueService) -> None:
    doc, other_doc = await register(clinic, "doc"), await register(clinic, "doc2")
    code, _ = await new_interview(doc, "Sam")
    await other_doc.command("start", code)
    assert "clinician.invite_clinician" in ids(other_doc)
    assert await rows(
        clinic,
        "SELECT respondent_id, used_at FROM invites JOIN interviews "
        "ON interviews.id = invites.interview_id",
    ) == [(None, None)]


async def test_start_now_button__clinician_answers_from_consent(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    _, interview_id = await new_interview(doc, "Sam")
    await doc.tap_key("button_start_now")
    assert "clinician.opened" in ids(doc) and "replies.consent" in ids(doc)
    await doc.tap_key("agree")
    await doc.type("Sam")
    doc_row = await person_row(clinic, "doc")
    assert doc_row is not None and doc_row[2] == interview_id
    answered = await rows(clinic, "SELECT item_key, answered_by FROM answers")
    assert answered == [("child_name", doc_row[0])]


# -- listing, opening, reports --------------------------------------------------------------


async def test_interviews__lists_only_own__each_listing_audited(
    clinic: DialogueService, clock: Clock
) -> None:
    doc, other_doc = await register(clinic, "doc"), await register(clinic, "doc2")
    _, sam = await new_interview(doc, "Sam")
    clock.advance(minutes=5)
    _, kim = await new_interview(doc, "Kim")
    _, lou = await new_interview(other_doc, "Lou")
    await doc.command("interviews")
    assert "Sam" in doc.text and "Kim" in doc.text and sam in doc.text and kim in doc.text
    assert "Lou" not in doc.text and lou not in doc.text
    assert doc.text.index("Kim") < doc.text.index("Sam")  # most recently active first
    listed = [
        {"nickname": name, "state": "consent", "claimed": False, "answered": 0, "total": 7,
         "updated": f"2026-11-25 {at} UTC", "interview_id": interview}
        for name, at, interview in (("Kim", "09:05", kim), ("Sam", "09:00", sam))
    ]
    assert doc.keys == ["clinician.interviews_list"]
    assert doc.text == said("clinician.interviews_list", rows=listed)
    doc_row = await person_row(clinic, "doc")
    assert doc_row is not None
    assert ("viewed", doc_row[0], "list") in await events(clinic, sam)
    assert ("viewed", doc_row[0], "list") not in await events(clinic, lou)


async def test_interviews__none_yet(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    await doc.command("interviews")
    assert "clinician.interviews_none" in ids(doc)


async def test_open__resumes_at_the_question_where_family_stopped(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    fam, interview_id, _ = await invited_family(doc)
    await fam.type("Sam")
    await fam.type("3")
    await fam.choose("parent")
    await fam.command("pause")
    assert fam.text == said("replies.paused", answered=3)

    await doc.command("interviews")
    assert doc.keys == ["clinician.interviews_list"] and "· paused ·" in doc.text
    await doc.command("open", interview_id)
    assert doc.keys == ["clinician.opened", "replies.ask"] and doc.asked == "sleep"
    assert doc.last[0].text == said("clinician.opened", nickname="Sam", interview_id=interview_id)
    await doc.choose("4")
    doc_row = await person_row(clinic, "doc")
    assert doc_row is not None and doc_row[2] == interview_id
    assert await rows(clinic, "SELECT answered_by FROM answers WHERE item_key = 'sleep'") == [
        (doc_row[0],)
    ]
    assert ("viewed", doc_row[0], "open") in await events(clinic, interview_id)


async def test_open__submitted_interview__closed_but_reportable(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    fam, interview_id, _ = await invited_family(doc)
    await answer_sample(fam)
    await fam.tap_key("submit")
    await fam.tap_key("send_now")
    await doc.command("open", interview_id)
    assert doc.keys == ["clinician.interview_closed"]
    assert doc.text == said("clinician.interview_closed", state="submitted",
                            interview_id=interview_id)


async def test_foreign_and_unknown_ids__same_not_found__nothing_leaks(
    clinic: DialogueService,
) -> None:
    doc, other_doc = await register(clinic, "doc"), await register(clinic, "doc2")
    code, interview_id = await new_interview(doc, "Sam")
    fam, stranger = Person(clinic, "fam"), Person(clinic, "stranger")
    await fam.command("start", code)
    before = await events(clinic, interview_id)

    replies: list[tuple[tuple[str, ...], str]] = []
    for who, name in [
        (other_doc, "open"),
        (other_doc, "report"),
        (other_doc, "invite"),
        (stranger, "report"),
    ]:
        for target in (interview_id, "NoSuchId1234"):
            await who.command(name, target)
            replies.append((tuple(who.keys), who.text))
    await other_doc.send(Kind.CHOICE, f"acc:open:{interview_id}")
    replies.append((tuple(other_doc.keys), other_doc.text))
    assert set(replies) == {(("clinician.not_found",), said("clinician.not_found"))}
    assert await events(clinic, interview_id) == before  # no trace on the victim's trail
    denied = await rows(clinic, "SELECT interview_id FROM events WHERE kind = 'denied'")
    assert denied == [(None,)] * len(replies)


async def test_caregiver_report__after_submission_only__summary_of_own(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    fam, interview_id, _ = await invited_family(doc)
    await fam.type("Sam")
    await fam.command("report")
    assert "clinician.report_not_ready" in ids(fam)
    await fam.type("3")  # the interview goes on where it was
    await fam.choose("parent")
    await fam.choose("3")
    await fam.type("0")
    await fam.choose("none")
    await fam.tap_key("done")
    await fam.choose("no")
    await fam.tap_key("submit")
    await fam.tap_key("send_now")
    [summary] = await fam.command("report")
    assert summary.attachment is not None
    assert summary.key == "report.caregiver"
    assert "Nothing right now" in summary.attachment.data.decode()
    fam_row = await person_row(clinic, "fam")
    assert fam_row is not None
    assert ("exported", fam_row[0], "caregiver") in await events(clinic, interview_id)


async def test_every_view_and_export__audited(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    _, interview_id = await new_interview(doc, "Sam")
    await doc.command("interviews")
    await doc.command("open", interview_id)
    await doc.command("report", interview_id)
    doc_row = await person_row(clinic, "doc")
    assert doc_row is not None
    trail = [
        (kind, detail)
        for kind, who, detail in await events(clinic, interview_id)
        if who == doc_row[0]
    ]
    assert trail == [
        ("created", "sample@1"),
        ("invited", None),
        ("viewed", "list"),
        ("viewed", "open"),
        ("exported", "clinician"),
    ]


async def test_group_chat__access_commands_refused(clinic: DialogueService) -> None:
    await register(clinic, "doc")
    [reply] = await clinic.handle(
        inbound(Kind.COMMAND, "new", user="doc", args="Sam", private=False)
    )
    assert "replies.group_refused" in ids(reply)
    assert await rows(clinic, "SELECT id FROM interviews") == []


async def test_report__flow_with_scoring__clinician_html_and_family_summary(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    interview_id = await submitted_history(clinic, "doc", "fam")
    [report] = await doc.command("report", interview_id)
    assert report.attachment is not None and report.attachment.mime == "text/html"
    assert report.attachment.filename == f"hearth-report-{interview_id}.html"
    html = report.attachment.data.decode()
    assert "<html" in html.casefold() and "Mia" in html and "data:image/png;base64," in html
    assert report.key == "report.clinician"
    assert report.text == said("clinician.report_caption", nickname="Mia",
                               interview_id=interview_id)

    fam = Person(clinic, "fam")
    [summary] = await fam.command("report", interview_id)
    assert summary.attachment is None and "Mia" in summary.text
    assert summary.key == "report.caregiver"
    fam_row = await person_row(clinic, "fam")
    assert fam_row is not None
    assert ("exported", fam_row[0], "caregiver") in await events(clinic, interview_id)


def test_console__slash_lines__forwarded_as_commands_with_args(clinic: DialogueService) -> None:
    console = ConsoleChat(clinic, "doc")
    new = console.classify("/new Sam Lee")
    assert (new.kind, new.payload, new.args) == (Kind.COMMAND, "new", "Sam Lee")
    claim = console.classify("/start AbC-123_xyz")
    assert (claim.kind, claim.payload, claim.args) == (Kind.COMMAND, "start", "AbC-123_xyz")
    assert console.classify("/").kind is Kind.TEXT
