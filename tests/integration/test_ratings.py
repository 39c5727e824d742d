"""Clinician ratings through the service: /rate, /ratings, the report, who may, erasure."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from bot.data.fhir_ratings import EXT_CURRENT, SOURCE_CODE, SOURCE_SYSTEM
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.cipher import new_key
from store.contract import UnitOfWork
from store.memory import MemoryStore
from tests.at_rest import database_bytes, keyed_later
from tests.conftest import Clock, Person
from tests.integration.clinic import mia_on_file, register, rows, submitted_history

pytestmark = pytest.mark.both_backends

REASON = "Startles at every door, seen at two home visits"


async def report_html(doc: Person, interview_id: str) -> str:
    [report] = await doc.command("report", interview_id)
    assert report.key == "report.clinician" and report.attachment is not None
    return report.attachment.data.decode()


def view_row(html: str, function: str) -> tuple[str, dict[str, str]]:
    """A row of the ratings section: (the view the scores use, view -> band)."""
    row = re.search(rf'<tr data-function="{function}" data-used="([a-z]+)">(.*?)</tr>', html,
                    re.S)
    assert row, f"no ratings row {function}"
    bands = dict(re.findall(r'<td data-view="([^"]+)" data-band="([a-z]+)"', row.group(2)))
    return row.group(1), bands


async def test_rate__kept_audited__report_scores_use_it(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    html = await report_html(doc, mia)
    assert 'id="ratings" data-rated="0"' in html

    await doc.command("rate", f"{mia} arousal a lot Never settles in the waiting room")
    assert doc.keys == ["ratings.rate_saved"]
    await doc.command("rate", f"{mia} startle 2 {REASON}")
    assert doc.keys == ["ratings.rate_saved"]

    html = await report_html(doc, mia)
    assert 'id="ratings" data-rated="2"' in html
    assert view_row(html, "bs_startle") == ("clinician", {"caregiver": "typical",
                                                          "clinician": "significant"})
    assert view_row(html, "bs_sleep") == ("caregiver", {"caregiver": "moderate",
                                                        "clinician": "none"})
    assert REASON in html
    # Two significant functions: the brainstem the scores use is significant; the family's
    # own view is unchanged beside it.
    assert re.search(r"Brainstem</td>.*?band-significant", html, re.S)
    events = await rows(clinic, "SELECT kind, detail FROM events WHERE interview_id = ? "
                                "AND kind = 'rated' ORDER BY id", mia)
    assert events == [("rated", "bs_arousal:1"), ("rated", "bs_startle:1")]


async def test_rate__a_reason_in_clinical_words__kept_not_taken_for_danger(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("rate", f"{mia} startle a lot Mother says he hits her and she wants to die")
    assert doc.keys == ["ratings.rate_saved"]  # the clinician's observation, not a crisis


async def test_rate_again__a_new_revision__history_listed__no_update(
    clinic: DialogueService, db_path: Path, backend: str,
) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("rate", f"{mia} sleep some Settles with a parent close by")
    await doc.command("rate", f"{mia} sleep a lot Night waking got worse after the move")
    assert doc.keys == ["ratings.rate_saved"]
    stored = await rows(clinic, "SELECT function_key, revision FROM ratings "
                                "WHERE interview_id = ? ORDER BY id", mia)
    assert stored == [("bs_sleep", 1), ("bs_sleep", 2)]

    await doc.command("ratings", mia)
    assert doc.keys == ["ratings.ratings_list"]
    assert "Settles with a parent close by" in doc.text and "after the move" in doc.text
    html = await report_html(doc, mia)
    assert view_row(html, "bs_sleep")[1]["clinician"] == "significant"
    assert len(re.findall(r'class="rating" data-revision="\d"', html)) == 2

    if backend == "sqlite":  # the trigger itself, on the file (PostgreSQL: test_postgres)
        conn = sqlite3.connect(db_path)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE ratings SET value = 'typical'")
        conn.close()
    else:
        with pytest.raises(Exception, match="append-only"):
            await clinic.store.run(lambda uow: uow.conn.execute(
                "UPDATE ratings SET value = 'typical'"))


async def test_spanish_words(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("valorar", f"{mia} sueño mucho se despierta muchas veces")
    assert doc.keys == ["ratings.rate_saved"]
    await doc.command("valorar", f"{mia} Mov. grandes algo tropieza a menudo")
    assert doc.keys == ["ratings.rate_saved"]
    await doc.command("valoraciones", mia)
    assert doc.keys == ["ratings.ratings_list"]
    assert await rows(clinic, "SELECT function_key FROM ratings ORDER BY id") == [
        ("bs_sleep",), ("dc_gross_motor",)]


@pytest.mark.parametrize(("args", "problem"), [
    ("{id} naps a lot because", "ratings.rate_unknown_function"),
    ("{id} sleep 5 because", "ratings.rate_bad_value"),
    ("{id} sleep terrible because", "ratings.rate_bad_value"),
    ("{id} sleep", "ratings.rate_bad_value"),
    ("{id} sleep a lot", "ratings.rate_no_reason"),
    ("{id} sleep a lot    ", "ratings.rate_no_reason"),
    ("", "ratings.rate_usage"),
])
async def test_bad_ratings__clear_problem__nothing_kept(
    clinic: DialogueService, args: str, problem: str,
) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("rate", args.format(id=mia))
    assert doc.keys == [problem]
    assert await rows(clinic, "SELECT count(*) FROM ratings") == [(0,)]


async def test_who_may_rate__only_the_owner(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    other = await register(clinic, "other")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("rate", f"{mia} sleep some seen")
    for stranger in (other,):
        await stranger.command("rate", f"{mia} sleep a lot guessing")
        assert stranger.keys == ["clinician.not_found"]
        await stranger.command("ratings", mia)
        assert stranger.keys == ["clinician.not_found"]
        assert "seen" not in stranger.text
    for caregiver in (Person(clinic, "fam"), Person(clinic, "nobody")):
        await caregiver.command("rate", f"{mia} sleep a lot mine")
        assert caregiver.keys == ["clinician.not_clinician"]
        await caregiver.command("ratings", mia)
        assert caregiver.keys == ["clinician.not_clinician"]
    await other.command("rate", "nosuchid sleep a lot x")
    assert other.keys == ["clinician.not_found"]
    assert await rows(clinic, "SELECT count(*) FROM ratings") == [(1,)]
    denied = await rows(clinic, "SELECT detail FROM events WHERE kind = 'denied' "
                                "AND interview_id IS NULL ORDER BY id")
    assert ("rate",) in denied and ("ratings",) in denied


async def test_interview_without_a_map__not_possible(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    flow = clinic.catalog.latest("sample")
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def write(uow: UnitOfWork) -> str:
        owner = uow.people.get_or_create("console", "doc", now=now).id
        return uow.interviews.create(flow_id=flow.id, flow_version=flow.version,
                                     owner_id=owner, respondent_id=None, nickname="Sam",
                                     state="submitted", now=now).id

    sample = await clinic.store.run(write)
    await doc.command("rate", f"{sample} sleep a lot seen")
    assert doc.keys == ["ratings.rate_not_possible"]
    await doc.command("ratings", sample)
    assert doc.keys == ["ratings.rate_not_possible"]
    assert await rows(clinic, "SELECT count(*) FROM ratings") == [(0,)]


async def person_id(clinic: DialogueService, user: str) -> int:
    return int((await rows(clinic, "SELECT id FROM people WHERE channel = 'console' "
                                   "AND external_id = ?", user))[0][0])


async def test_erasure__family_erased__ratings_stay__owner_erased__they_go(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("rate", f"{mia} sleep a lot {REASON}")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    family = await person_id(clinic, "fam")
    await clinic.store.run(lambda uow: uow.erase_person(family, now=now))
    # The clinician's own observation is theirs, as an informant's sent form is.
    assert await rows(clinic, "SELECT count(*) FROM ratings") == [(1,)]
    owner = await person_id(clinic, "doc")
    await clinic.store.run(lambda uow: uow.erase_person(owner, now=now))
    assert await rows(clinic, "SELECT count(*) FROM ratings") == [(0,)]
    assert await rows(clinic, "SELECT count(*) FROM interviews WHERE id = ?", mia) == [(0,)]


async def test_erasure__an_author_who_no_longer_owns__their_ratings_go(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    await register(clinic, "heir")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("rate", f"{mia} sleep a lot {REASON}")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    heir, author = await person_id(clinic, "heir"), await person_id(clinic, "doc")
    await clinic.store.run(lambda uow: uow.interviews.transfer_owner(author, heir, now=now))
    await clinic.store.run(lambda uow: uow.erase_person(author, now=now))
    assert await rows(clinic, "SELECT count(*) FROM interviews WHERE id = ?", mia) == [(1,)]
    assert await rows(clinic, "SELECT count(*) FROM ratings") == [(0,)]


async def test_sealed_at_rest__reason_not_in_any_file(tmp_path: Path, catalog: FlowCatalog,
                                                      clock: Clock, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the file on disk is SQLite's")
    db = tmp_path / "keyed.db"
    async with mia_on_file(db, catalog, clock, key=new_key()) as (clinic, doc, mia):
        secret = "Quokka-Periwinkle startles at the doorbell"
        await doc.command("rate", f"{mia} startle a lot {secret}")
        assert doc.keys == ["ratings.rate_saved"]
        await doc.command("ratings", mia)
        assert secret in doc.text  # it is there, opened, for its clinician
        assert b"Quokka-Periwinkle" not in database_bytes(db)
        stored = await rows(clinic, "SELECT value, reason FROM ratings")
        assert stored and all("a_lot" not in v and "Quokka" not in r for v, r in stored)
    assert b"Quokka-Periwinkle" not in database_bytes(db)


async def test_exports__ratings_with_author_and_source(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    await doc.command("rate", f"{mia} sleep some =SUM(A1) settles with a parent")
    await doc.command("rate", f"{mia} sleep a lot {REASON}")
    doc_id = await person_id(clinic, "doc")

    sent = await doc.command("export", "csv")
    got = {m.attachment.filename: m.attachment.data for m in sent if m.attachment}
    stem = "hearth-developmental_history-v1"
    rated = list(csv.DictReader(io.StringIO(got[f"{stem}-ratings.csv"].decode("utf-8-sig"))))
    assert [(r["interview_id"], r["function"], r["revision"], r["value"], r["points"],
             r["author"], r["source"], r["current"]) for r in rated] == [
        (mia, "bs_sleep", "1", "some", "1", str(doc_id), "clinician", "0"),
        (mia, "bs_sleep", "2", "a_lot", "2", str(doc_id), "clinician", "1")]
    assert rated[1]["reason"] == REASON
    assert not rated[0]["reason"].startswith("=")  # a spreadsheet formula is neutralised
    book = {r["column"]: r for r in csv.DictReader(
        io.StringIO(got[f"{stem}-codebook.csv"].decode("utf-8-sig")))}
    assert {f"ratings.{c}" for c in ("author", "source", "current")} <= set(book)
    assert book["ratings.source"]["type"] == "rating"

    sent = await doc.command("export", "fhir")
    got = {m.attachment.filename: m.attachment.data for m in sent if m.attachment}
    bundle = json.loads(got[f"{stem}.fhir.json"])
    found = [e["resource"] for e in bundle["entry"]
             if e["resource"]["resourceType"] == "Observation"]
    assert [o["status"] for o in found] == ["final", "amended"]
    last = found[1]
    assert last["category"][0]["coding"][0] == {"system": SOURCE_SYSTEM, "code": SOURCE_CODE}
    assert last["performer"][0]["identifier"]["value"] == str(doc_id)
    assert last["valueCodeableConcept"]["coding"][0]["code"] == "a_lot"
    assert last["note"] == [{"text": REASON}]
    assert {e["url"]: e.get("valueBoolean") for e in last["extension"]}[EXT_CURRENT] is True
    Bundle.model_validate_json(got[f"{stem}.fhir.json"])  # still valid FHIR


async def test_exports__no_ratings__no_ratings_file(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    await submitted_history(clinic, "doc", "fam")
    sent = await doc.command("export", "csv")
    names = {m.attachment.filename for m in sent if m.attachment}
    assert "hearth-developmental_history-v1-ratings.csv" not in names
    assert "hearth-developmental_history-v1.csv" in names


async def test_key_set_later__ratings_resealed_at_open__append_only_kept(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock, backend: str,
) -> None:
    if backend != "sqlite":
        pytest.skip("the file on disk is SQLite's")
    db = tmp_path / "later.db"
    secret = "Quokka-Tangerine hides under the table"
    async with mia_on_file(db, catalog, clock) as (clinic, doc, mia):
        await doc.command("rate", f"{mia} startle a lot {secret}")
        before = await clinic.store.read(lambda uow: uow.ratings.history(mia))
    async with keyed_later(db, b"Quokka-Tangerine") as keyed:
        assert await keyed.read(lambda uow: uow.ratings.history(mia)) == before
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE ratings SET reason = 'x'")
    conn.close()


async def test_memory_fake__keeps_the_same_ratings_as_sql(clinic: DialogueService) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    memory = MemoryStore()

    def script(uow: UnitOfWork, interview_id: str, by: int) -> list[tuple[str, int, str]]:
        uow.ratings.add(interview_id, "bs_sleep", "some", "one", by=by, now=now)
        uow.ratings.add(interview_id, "lb_peers", "typical", "two", by=by, now=now)
        uow.ratings.add(interview_id, "bs_sleep", "a_lot", "three", by=by, now=now)
        current = uow.ratings.current(interview_id)
        return [(r.function, r.revision, r.value) for r in uow.ratings.history(interview_id)] + [
            (f, r.revision, r.value) for f, r in sorted(current.items())]

    await register(clinic, "doc")
    mia = await submitted_history(clinic, "doc", "fam")
    doc = await person_id(clinic, "doc")
    on_sql = await clinic.store.run(lambda uow: script(uow, mia, doc))
    on_memory = await memory.run(lambda uow: script(uow, "x", 1))
    assert on_sql == on_memory == [
        ("bs_sleep", 1, "some"), ("lb_peers", 1, "typical"), ("bs_sleep", 2, "a_lot"),
        ("bs_sleep", 2, "a_lot"), ("lb_peers", 1, "typical")]
