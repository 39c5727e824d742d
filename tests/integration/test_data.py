"""Data out through the service and the CLI: /export, access, audit, import, follow-up."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from bot.cli import main as cli
from bot.data.load import decoded, load_all
from bot.data.stats import program_figures
from bot.model import Kind, Outbound
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.conftest import Clock, Person, ids, said
from tests.integration.clinic import (
    BOT,
    answer_sample,
    clinic_service,
    events,
    invited_family,
    mia_written,
    new_interview,
    person_row,
    register,
    rows,
)

# Distinctive channel ids, so a leak into a file cannot hide among ordinary words.
DOC, DOC2, FAM = "clin7741", "clin9902", "fam5531"


async def sample_submitted(clinic: DialogueService, doc: Person, nickname: str,
                           family: str) -> str:
    """A clinician's sample-flow interview, answered and sent by a family."""
    fam, interview_id, _ = await invited_family(doc, nickname, family)
    await answer_sample(fam, note="=HYPERLINK(\"x\")")
    await fam.tap_key("submit")
    await fam.tap_key("send_now")
    return interview_id


def files(messages: list[Outbound]) -> dict[str, bytes]:
    return {m.attachment.filename: m.attachment.data for m in messages if m.attachment}


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# -- /export ------------------------------------------------------------------------------------


async def test_export_csv__own_interviews__data_codebook_audit_no_channel_ids(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, DOC)
    interview_id = await sample_submitted(clinic, doc, "Sam", FAM)
    sent = await doc.command("export", "csv")
    got = files(sent)
    assert set(got) == {"hearth-sample-v1.csv", "hearth-sample-v1-codebook.csv"}
    assert sent[0].key == "data.export_caption"
    assert sent[0].text == said("data.export_caption", count=1, format="csv", files=2)
    [row] = read_csv(got["hearth-sample-v1.csv"])
    assert row["interview_id"] == interview_id and row["nickname"] == "Sam"
    assert row["state"] == "submitted" and row["fhir_status"] == "completed"
    assert (row["worries.sleep"], row["worries.eating"], row["worries.none"]) == ("1", "0", "0")
    assert row["worry_level[sleep]"] == "3" and row["child_age.min_months"] == "30"
    assert row["worry_note[sleep]"] == "'=HYPERLINK(\"x\")"  # stays text in a spreadsheet
    book = {r["column"]: r for r in read_csv(got["hearth-sample-v1-codebook.csv"])}
    assert book["worries.sleep"]["item_id"] == "worries"
    assert book["worry_level[sleep]"]["repeat_for"] == "sleep"
    assert book["respondent"]["options"].startswith("parent=A parent; foster=")
    for data in got.values():
        for secret in (DOC, FAM, "console"):
            assert secret.encode() not in data
    assert ("exported", (await person_row(clinic, DOC))[0], "csv:clinician") in await events(  # type: ignore[index]
        clinic, interview_id
    )


async def test_export_fhir__bundle_valid_r4__no_channel_ids(clinic: DialogueService) -> None:
    doc = await register(clinic, DOC)
    await sample_submitted(clinic, doc, "Sam", FAM)
    got = files(await doc.command("export", "fhir"))
    data = got["hearth-sample-v1.fhir.json"]
    bundle = Bundle.model_validate_json(data)
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds == ["Questionnaire", "QuestionnaireResponse"]
    for secret in (DOC, FAM, "console"):
        assert secret.encode() not in data


async def test_export__another_clinicians_interviews__never_included(
    clinic: DialogueService,
) -> None:
    doc, doc2 = await register(clinic, DOC), await register(clinic, DOC2)
    mine = await sample_submitted(clinic, doc, "Sam", FAM)
    theirs = await sample_submitted(clinic, doc2, "Lou", "fam2")
    got = files(await doc.command("export", "csv"))
    table = got["hearth-sample-v1.csv"]
    assert mine.encode() in table and theirs.encode() not in table and b"Lou" not in table
    assert not [e for e in await events(clinic, theirs) if e[0] == "exported"]


async def test_export__caregiver_or_bad_format__refused(clinic: DialogueService) -> None:
    fam = Person(clinic, FAM)
    await fam.command("export", "csv")
    assert "clinician.not_clinician" in ids(fam) and not files(fam.last)
    doc = await register(clinic, DOC)
    await doc.command("export", "xml")
    assert "data.export_usage" in ids(doc)
    await doc.command("export")
    assert doc.keys == ["data.export_none"]


async def test_export__redelivered__files_not_replayed(clinic: DialogueService) -> None:
    doc = await register(clinic, DOC)
    await sample_submitted(clinic, doc, "Sam", FAM)
    first = await doc.send(Kind.COMMAND, "export", "csv", delivery="exp-1")
    again = await doc.send(Kind.COMMAND, "export", "csv", delivery="exp-1")
    assert files(first) and not files(again)
    assert again[0].text == said("data.files_not_kept") and again[0].attachment is None


# -- the CLI: export, import -----------------------------------------------------------------


def run_cli(*args: str) -> int:
    return cli(list(args))


async def sample_db(db: Path, catalog: FlowCatalog) -> str:
    """A SQLite file holding one sample interview a family answered and sent; its id."""
    store = await Store.open(db)
    try:
        clinic = clinic_service(store, catalog, Clock())
        doc = await register(clinic, DOC)
        return await sample_submitted(clinic, doc, "Sam", FAM)
    finally:
        await store.close()


async def interview_ids(db: Path) -> set[str]:
    store = await Store.open(db)
    try:
        return {record.id for record in await store.read(lambda r: r.interviews.all())}
    finally:
        await store.close()


async def _answers(db: Path, interview_id: str) -> dict[str, Any]:
    store = await Store.open(db)
    try:
        stored = await store.read(lambda repo: repo.answers.current(interview_id))
        return {k: v for k, (v, _) in stored.items() if v is not None}
    finally:
        await store.close()


def test_cli_export_fhir_then_import__same_answers__owner_and_audit(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    original = asyncio.run(sample_db(db, catalog))
    out = tmp_path / "out"
    assert run_cli("--db", str(db), "export", "--format", "fhir", "--out", str(out)) == 0
    bundle = json.loads((out / "hearth-sample-v1.fhir.json").read_text())
    assert DOC not in json.dumps(bundle) and FAM not in json.dumps(bundle)
    response = next(e["resource"] for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "QuestionnaireResponse")
    # The operator's export withholds the nickname; put it back as a paper form would have it.
    assert "child_name" not in json.dumps(response)
    name = {"linkId": "child_name", "answer": [{"valueString": "Sam"}]}
    response["item"][0]["item"].insert(0, name)
    file = tmp_path / "paper.json"
    file.write_text(json.dumps(response))
    capsys.readouterr()
    assert run_cli("--db", str(db), "import", str(file), "--owner", f"console:{DOC}") == 0
    out = capsys.readouterr().out
    [imported] = asyncio.run(interview_ids(db)) - {original}
    answers = asyncio.run(_answers(db, imported))
    assert answers == asyncio.run(_answers(db, original))
    assert out == said("data.import_done", interview_id=imported, state="submitted",
                       count=len(answers)) + "\n"

    async def check() -> None:
        store = await Store.open(db)
        try:
            owner = await store.read(lambda r: r.people.find("console", DOC))
            record = await store.read(lambda r: r.interviews.get(imported))
            assert owner is not None and record is not None
            assert record.owner_id == owner.id and record.subject_nickname == "Sam"
            kinds = [e.kind for e in await store.read(lambda r: r.audit.of_interview(original))]
            assert "exported" in kinds
            events = await store.read(lambda r: r.audit.of_interview(imported))
            assert "imported" in [e.kind for e in events]
        finally:
            await store.close()

    asyncio.run(check())


def test_cli_import__problems_by_link_id__nothing_imported(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    asyncio.run(sample_db(db, catalog))
    bad = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "urn:hearth:questionnaire:sample|1",
        "status": "completed",
        "item": [
            {"linkId": "about", "item": [
                {"linkId": "child_age", "answer": [{"valueString": "three"}]},
                {"linkId": "respondent", "answer": [{"valueCoding": {"code": "uncle"}}]},
                {"linkId": "shoe_size", "answer": [{"valueInteger": 3}]},
            ]},
        ],
    }
    file = tmp_path / "bad.json"
    file.write_text(json.dumps(bad))
    before = asyncio.run(_count(db))
    capsys.readouterr()
    assert run_cli("--db", str(db), "import", str(file), "--owner", f"console:{DOC}") == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    for link_id, code, params in [
        ("child_age", "wrong_type", {"expected": "valueQuantity", "got": "valueString"}),
        ("respondent", "not_an_option",
         {"value": "uncle", "options": ["clinician", "foster", "kin", "parent"]}),
        ("shoe_size", "unknown_link_id", {}),
        ("child_name", "required_missing", {}),
    ]:
        assert said("data.import_problem", link_id=link_id, code=code, params=params) in lines
    assert lines[-1] == said("data.import_failed", count=len(lines) - 1)
    assert asyncio.run(_count(db)) == before


def test_cli_import__owner_not_a_clinician__refused(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    asyncio.run(sample_db(db, catalog))
    out = tmp_path / "out"
    assert run_cli("--db", str(db), "export", "--format", "fhir", "--out", str(out)) == 0
    bundle = (out / "hearth-sample-v1.fhir.json").read_text()
    file = tmp_path / "b.json"
    file.write_text(bundle)
    capsys.readouterr()
    # Hearth's own export imports as it is (its required answers are not asked again:
    # docs/data.md), but only for a registered clinician: nothing is written for anyone else.
    before = asyncio.run(_count(db))
    assert run_cli("--db", str(db), "import", str(file), "--owner", f"console:{FAM}") == 2
    assert f"console:{FAM}" in capsys.readouterr().err
    assert asyncio.run(_count(db)) == before
    assert run_cli("--db", str(db), "import", str(file), "--owner", "nobody") == 2


async def _count(db: Path) -> int:
    store = await Store.open(db)
    try:
        return len(await store.read(lambda r: r.interviews.all()))
    finally:
        await store.close()


def test_cli_export_csv__nicknames_withheld(tmp_path: Path, catalog: FlowCatalog) -> None:
    db = tmp_path / "h.db"
    asyncio.run(sample_db(db, catalog))
    out = tmp_path / "csv"
    assert run_cli("--db", str(db), "export", "--out", str(out), "--flow", "sample") == 0
    [row] = read_csv((out / "hearth-sample-v1.csv").read_bytes())
    assert "nickname" not in row and row["child_name"] == ""
    assert b"Sam" not in (out / "hearth-sample-v1.csv").read_bytes()


# -- follow-up --------------------------------------------------------------------------------


async def submitted_mia(service: DialogueService, owner: str, respondent: str) -> str:
    """Family Mia's developmental history (2 years 6 months, sleep a bit hard), sent."""
    return await mia_written(
        service, owner, respondent, now=datetime(2026, 5, 25, 9, 0, tzinfo=UTC), sent=True
    )


async def answer_follow_up(fam: Person) -> list[str]:
    """Answer a follow-up: keep every offered history answer; sleep is fine now, but
    calming down and startling are a lot harder."""
    kept: list[str] = []
    for _ in range(200):
        if "replies.review" in fam.keys:
            return kept
        if "data.last_time" in fam.keys:
            kept.append(fam.reply("data.last_time").text)
            await fam.tap_key("button_same")
        elif fam.asked == "child_name":
            await fam.type("Mia")
        elif fam.asked == "child_age":
            await fam.type("3 years")
        elif "done" in fam.button_keys():  # pick all that fit
            await fam.type("1")
        elif fam.asked in ("bs_arousal", "bs_startle"):  # calming their body, startling
            await fam.type("3")  # a lot of difficulty
        elif fam.asked == "cg_children":
            await fam.type("2")
        elif fam.asked == "finish_note":
            await fam.command("skip")
        else:
            await fam.type("1")  # the first option: typical, strong, parent, ...
    raise AssertionError(f"the follow-up did not end: {fam.keys}, {fam.asked}")


async def test_followup__history_carried_over__change_report(clinic: DialogueService) -> None:
    doc = await register(clinic, DOC)
    earlier = await submitted_mia(clinic, DOC, FAM)
    await doc.command("followup", earlier)
    assert doc.keys == ["data.followup_created", "clinician.invite_created"]
    link = doc.text.split("start=")[1].split()[0]
    followup_id = (await rows(clinic, "SELECT id FROM interviews WHERE follow_up_of = ?",
                              earlier))[0][0]
    assert doc.last[0].text == said("data.followup_created", nickname="Mia",
                                    earlier_id=earlier, interview_id=followup_id)
    expires = clinic.clock() + clinic.access.invite_ttl
    assert doc.last[1].text == said(
        "clinician.invite_created", nickname="Mia", interview_id=followup_id,
        expires=f"{expires:%Y-%m-%d %H:%M} UTC", code=link,
        link=f"https://t.me/{BOT}?start={link}")
    links = await rows(clinic, "SELECT follow_up_of, subject_nickname FROM interviews WHERE id = ?",
                       followup_id)
    assert links == [(earlier, "Mia")]

    fam = Person(clinic, FAM)
    await fam.command("start", link)
    await fam.tap_key("agree")
    kept = await answer_follow_up(fam)
    # Part A (1: "None of these") and Part B (9 connection items up to 4 years) offered;
    # Mia's family left the background unanswered, so nothing there; about the child and
    # how things are now asked afresh.
    def last_time(label: str) -> str:
        return said("data.last_time", earlier_id=earlier, kind="choice", labels=[label],
                    number=0, raw="")

    assert kept == [last_time("None of these")] + [last_time("Strong and steady")] * 9
    await fam.tap_key("submit")
    await fam.tap_key("send_now")
    assert "replies.submitted" in ids(fam)

    stored = await clinic.store.read(lambda r: decoded(r.answers.current(followup_id)))
    assert stored["rel_peri_bond"].value == "strong" and stored["adv_types"].value == ["none"]
    assert stored["bs_sleep"].value == "typical"  # asked afresh

    sent = await doc.command("report", followup_id)
    change = [m for m in sent if m.attachment and "change" in m.attachment.filename]
    assert len(change) == 1 and change[0].key == "report.change"
    assert change[0].text == said("data.change_caption", nickname="Mia",
                                  interview_id=followup_id, earlier_id=earlier)
    html = change[0].attachment.data.decode()  # type: ignore[union-attr]
    assert re.search(r"<h1>[^<]*\bMia\b[^<]*</h1>", html) and "data:image/png;base64," in html
    # Brainstem: sleep "some" then (1 of 12 points: 8), arousal and startle "a lot" now
    # (4 of 12: 33, and two functions in real trouble make the region significant): harder.
    # The cortex was not rated at 2 years 6 months then either way.
    brainstem = html.split("Brainstem")[1].split("</tr>")[0]
    assert "8 (typical)" in brainstem and "33 (significant)" in brainstem
    assert 'class="worse"' in brainstem  # harder
    doc_id = (await person_row(clinic, DOC))[0]  # type: ignore[index]
    assert ("exported", doc_id, "change") in await events(clinic, earlier)


async def test_followup__new_respondent__answers_afresh(clinic: DialogueService) -> None:
    doc = await register(clinic, DOC)
    earlier = await submitted_mia(clinic, DOC, FAM)
    await doc.command("followup", earlier)
    link = doc.text.split("start=")[1].split()[0]
    carer = Person(clinic, "newcarer")
    await carer.command("start", link)
    await carer.tap_key("agree")
    for _ in range(12):  # through "about" and into the history sections
        assert "data.last_time" not in ids(carer)
        await carer.type("Mia" if carer.asked == "child_name" else
                         "3 years" if carer.asked == "child_age" else "1")


async def test_followup__refusals(clinic: DialogueService) -> None:
    doc, doc2 = await register(clinic, DOC), await register(clinic, DOC2)
    earlier = await submitted_mia(clinic, DOC, FAM)
    await doc2.command("followup", earlier)
    assert "clinician.not_found" in ids(doc2)
    _, open_one = await new_interview(doc, "Sam")
    await doc.command("followup", open_one)
    assert "data.followup_not_submitted" in ids(doc)
    await doc.command("followup")
    assert "data.followup_usage" in ids(doc)
    fam = Person(clinic, FAM)
    await fam.command("followup", earlier)
    assert "clinician.not_clinician" in ids(fam)
    assert len(await rows(clinic, "SELECT id FROM interviews")) == 2


async def _figures(db: Path, catalog: FlowCatalog) -> Any:
    """The program figures as `hearth stats` computes them from this database."""
    store = await Store.open(db)
    try:
        interviews = await store.read(lambda repo: load_all(repo, None))
    finally:
        await store.close()
    return program_figures(catalog, interviews, datetime.now(UTC))


def test_cli_stats__text_and_html__nothing_identifying(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.db"
    interview_id = asyncio.run(sample_db(db, catalog))
    page = tmp_path / "figures.html"
    capsys.readouterr()
    assert run_cli("--db", str(db), "stats", "--html", str(page)) == 0
    out = capsys.readouterr().out
    figures = asyncio.run(_figures(db, catalog))
    assert (figures.total, figures.by_state["submitted"]) == (1, 1)
    assert (figures.submitted, figures.started, figures.completion_rate) == (1, 1, 1.0)
    assert out == "\n".join([said("data.stats_text", figures=figures),
                             said("data.stats_written", path=str(page)), ""])
    html = page.read_text()
    assert 'data-report="figures"' in html and "data:image/png;base64," in html
    html = re.sub(r"data:image/png;base64,[^\"]+", "", html)  # letters by chance in base64
    for secret in (interview_id, "Sam", DOC, FAM):
        assert secret not in html and secret not in out


async def test_followup__same_button__after_ticking_still_works__second_tap_stale(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, DOC)
    earlier = await submitted_mia(clinic, DOC, FAM)
    await doc.command("followup", earlier)
    link = doc.text.split("start=")[1].split()[0]
    fam = Person(clinic, FAM)
    await fam.command("start", link)
    await fam.tap_key("agree")
    await fam.type("Mia")
    await fam.type("3 years")
    # Who answers, where they live, the rest of "about" and the background (nothing last
    # time): however many the flow asks before Part A.
    for _ in range(30):
        if fam.asked == "adv_types":
            break
        assert "data.last_time" not in fam.keys
        await fam.type("1")
    assert fam.asked == "adv_types"
    assert "data.last_time" in fam.keys and "None of these" in fam.text  # the flow's label
    same = next(c.payload for m in fam.last for row in m.choices for c in row
                if c.key == "button_same")
    await fam.choose("home_violence")  # ticking bumps the revision: the button still works
    await fam.send(Kind.CHOICE, same)
    assert fam.asked == "rel_peri_bond"  # Part B: adv_types recorded, moved on
    await fam.send(Kind.CHOICE, same)  # a second tap changes nothing
    assert "replies.stale" in ids(fam)
    followup_id = (await rows(clinic, "SELECT id FROM interviews WHERE follow_up_of = ?",
                              earlier))[0][0]
    stored = await clinic.store.read(lambda r: decoded(r.answers.current(followup_id)))
    assert stored["adv_types"].value == ["none"]
    revisions = await rows(clinic, "SELECT count(*) FROM answers WHERE interview_id = ? "
                           "AND item_key = 'adv_types'", followup_id)
    assert revisions == [(1,)]


async def test_export__answers_sealed_at_rest__files_hold_plaintext(
    tmp_path: Path, catalog: FlowCatalog
) -> None:
    from store.cipher import new_key

    store = await Store.open(tmp_path / "sealed.db", data_key=new_key())
    try:
        clinic = clinic_service(store, catalog, Clock())
        doc = await register(clinic, DOC)
        await sample_submitted(clinic, doc, "Sam", FAM)
        sealed = await rows(clinic, "SELECT value FROM answers WHERE item_key = 'respondent'")
        assert "foster" not in str(sealed)
        [row] = read_csv(files(await doc.command("export", "csv"))["hearth-sample-v1.csv"])
        assert row["respondent"] == "foster" and row["worry_note[sleep]"].endswith('("x")')
    finally:
        await store.close()
