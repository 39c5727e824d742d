"""Withdrawing a clinician rating: /unrate, the report's fallback, the exports, sealing."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from bot.data.fhir_ratings import EXT_CURRENT, EXT_WITHDRAWN, WITHDRAWN_STATUS
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from tests.at_rest import keyed_later
from tests.conftest import Clock, said
from tests.integration.clinic import mia_on_file, register, rows, submitted_history
from tests.integration.test_ratings import person_id, report_html, view_row

pytestmark = pytest.mark.both_backends

WHY = "Rated before the new medication, the family answer fits now"
STEM = "hearth-developmental_history-v1"


async def test_unrate__scores_fall_back_to_the_family__history_kept__audited(
    clinic: DialogueService, clock: Clock
) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("rate", f"{mia} startle a lot Startles at every door")
    await doc.command("rate", f"{mia} arousal a lot Never settles in the waiting room")
    assert view_row(await report_html(doc, mia), "bs_startle")[0] == "clinician"

    await doc.command("unrate", f"{mia} startle {WHY}")
    assert doc.keys == ["rating_edits.unrate_saved"]
    html = await report_html(doc, mia)
    # The family's view again for startle; the other rating still used.
    assert view_row(html, "bs_startle") == ("caregiver", {"caregiver": "typical",
                                                          "clinician": "none"})
    assert view_row(html, "bs_arousal")[0] == "clinician"
    assert 'id="ratings" data-rated="1"' in html
    assert 'data-revision="2" data-status="withdrawn"' in html and WHY in html
    # Append-only: the rating stays, the withdrawal is the next revision.
    history = await clinic.store.read(lambda uow: uow.ratings.history(mia))
    assert [(r.function, r.revision, r.value, r.status) for r in history
            if r.function == "bs_startle"] == [("bs_startle", 1, "a_lot", "rated"),
                                                ("bs_startle", 2, "a_lot", "withdrawn")]
    assert ("rating_withdrawn", "bs_startle:2") in await rows(
        clinic, "SELECT kind, detail FROM events WHERE interview_id = ?", mia)
    await doc.command("ratings", mia)
    assert doc.keys == ["ratings.ratings_list"]
    at = f"{clock.now:%Y-%m-%d %H:%M} UTC"
    listed = [("Startle", 1, "Startles at every door", "rated"),
              ("Arousal", 1, "Never settles in the waiting room", "rated"),
              ("Startle", 2, WHY, "withdrawn")]
    assert doc.last[0].text == said("ratings.ratings_list", interview_id=mia, nickname="Mia", rows=[
        {"label": label, "revision": revision, "value": "a_lot", "reason": reason, "at": at,
         "status": status} for label, revision, reason, status in listed])

    # Every rating withdrawn: the report says the scores use the family's answers, and
    # still shows the history.
    await doc.command("unrate", f"{mia} arousal {WHY}")
    html = await report_html(doc, mia)
    assert 'id="ratings" data-rated="0"' in html
    assert view_row(html, "bs_arousal") == ("caregiver", {"caregiver": "typical",
                                                          "clinician": "none"})
    # Rated again after a withdrawal: the scores use the new rating.
    await doc.command("rate", f"{mia} startle some Startles at the door again")
    assert view_row(await report_html(doc, mia), "bs_startle")[0] == "clinician"


async def test_unrate__problems__nothing_changed(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("unrate", "")
    assert doc.keys == ["rating_edits.unrate_usage"]
    await doc.command("unrate", f"{mia} startle {WHY}")
    assert doc.keys == ["rating_edits.unrate_not_rated"]
    await doc.command("unrate", f"{mia} elbows {WHY}")
    assert doc.keys == ["rating_edits.unrate_unknown_function"]
    await doc.command("rate", f"{mia} startle a lot Startles at every door")
    await doc.command("unrate", f"{mia} startle")
    assert doc.keys == ["rating_edits.unrate_no_reason"]
    await doc.command("unrate", f"{mia} startle {WHY}")
    await doc.command("unrate", f"{mia} startle {WHY}")  # already withdrawn
    assert doc.keys == ["rating_edits.unrate_not_rated"]
    history = await clinic.store.read(lambda uow: uow.ratings.history(mia))
    assert [r.status for r in history] == ["rated", "withdrawn"]


async def test_spanish__retirar(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("valorar", f"{mia} sueño mucho Se despierta muchas veces")
    await doc.command("retirar", f"{mia} sueño La familia lo describe mejor")
    assert doc.keys == ["rating_edits.unrate_saved"]


async def test_exports__withdrawal_with_author_source_status(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("rate", f"{mia} sleep some settles with a parent")
    await doc.command("rate", f"{mia} sleep a lot wakes every hour")
    await doc.command("unrate", f"{mia} sleep {WHY}")
    doc_id = str(await person_id(clinic, "doc"))

    got = {m.attachment.filename: m.attachment.data
           for m in await doc.command("export", "csv") if m.attachment}
    rated = list(csv.DictReader(io.StringIO(got[f"{STEM}-ratings.csv"].decode("utf-8-sig"))))
    assert [(r["revision"], r["value"], r["author"], r["source"], r["current"], r["status"])
            for r in rated] == [("1", "some", doc_id, "clinician", "0", "rated"),
                                ("2", "a_lot", doc_id, "clinician", "0", "rated"),
                                ("3", "a_lot", doc_id, "clinician", "0", "withdrawn")]
    assert rated[2]["reason"] == WHY
    book = {r["column"] for r in csv.DictReader(
        io.StringIO(got[f"{STEM}-codebook.csv"].decode("utf-8-sig")))}
    assert "ratings.status" in book

    got = {m.attachment.filename: m.attachment.data
           for m in await doc.command("export", "fhir") if m.attachment}
    bundle = json.loads(got[f"{STEM}.fhir.json"])
    found = [e["resource"] for e in bundle["entry"]
             if e["resource"]["resourceType"] == "Observation"]
    # The withdrawn rating (revision 2) carries the status; no observation of its own for
    # the withdrawal; none is current.
    assert [o["status"] for o in found] == ["final", WITHDRAWN_STATUS]
    withdrawn = found[1]
    ext = {e["url"]: e for e in withdrawn["extension"]}
    assert ext[EXT_CURRENT]["valueBoolean"] is False
    parts = {e["url"]: next(v for k, v in e.items() if k.startswith("value"))
             for e in ext[EXT_WITHDRAWN]["extension"]}
    assert parts["reason"] == WHY and parts["by"] == doc_id and parts["revision"] == 3
    Bundle.model_validate_json(got[f"{STEM}.fhir.json"])  # still valid FHIR


async def test_who_may_withdraw__only_the_owner(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    other = await register(clinic, "other")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("rate", f"{mia} startle a lot Startles at every door")
    await other.command("unrate", f"{mia} startle {WHY}")
    assert other.keys == ["clinician.not_found"]
    history = await clinic.store.read(lambda uow: uow.ratings.history(mia))
    assert [r.status for r in history] == ["rated"]


async def test_sealed_at_rest__withdrawal_reason__resealed_when_keyed_later(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock, backend: str,
) -> None:
    if backend != "sqlite":
        pytest.skip("the file on disk is SQLite's")
    db = tmp_path / "later.db"
    secret = "Quokka-Tangerine took the rating back"
    async with mia_on_file(db, catalog, clock) as (_, doc, mia):
        await doc.command("rate", f"{mia} startle a lot Startles at every door")
        await doc.command("unrate", f"{mia} startle {secret}")
    async with keyed_later(db, b"Quokka-Tangerine") as keyed:
        history = await keyed.read(lambda uow: uow.ratings.history(mia))
        assert history[-1].reason == secret and history[-1].status == "withdrawn"
    with sqlite3.connect(db) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE ratings SET status = 'rated'")
