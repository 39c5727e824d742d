"""`hearth export --format fhir` then `hearth import` into a fresh database carries the
clinician's work: ratings (a withdrawal too), notes, the plan (items, a removal, check-in
answers, review date, sent state), the re-assessment schedule, and the second informant's
form linked beside the interview. The same report comes out; the new file is sealed."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from bot.cli import main as cli
from bot.reporting import rating_notes
from bot.reports import _informant_forms, clinician_html, scored_interview
from flows.catalog import FlowCatalog
from store.cipher import new_key
from store.contract import UnitOfWork
from store.sqlite import Store
from tests.at_rest import database_bytes
from tests.conftest import Clock, Person, said
from tests.integration.clinic import clinic_service, register, submitted_history
from tests.integration.test_informants import ask_teacher, fill_minimap

NICKNAME_ROW = "What first name or nickname should we use"
SECRETS = ("Quokka-family-words", "Quokka-rating-reason", "Quokka-withdrawal", "Quokka-note",
           "Quokka-wording", "Quokka-removal")


async def build(db: Path, catalog: FlowCatalog, clock: Clock) -> str:
    """A clinician's full work on one interview, in a real SQLite file; its id."""
    store = await Store.open(db)
    try:
        clinic = clinic_service(store, catalog, clock)
        doc = await register(clinic, "doc")
        mia = await submitted_history(clinic, "doc", "fam")
        await store.run(lambda uow: uow.people.remember_chat(
            uow.people.get_or_create("console", "fam", now=clock.now).id, "fam"))
        code, _ = await ask_teacher(doc, mia)
        await fill_minimap(Person(clinic, "teach"), code)
        await doc.command("rate", f"{mia} startle a lot Quokka-rating-reason")
        await doc.command("rate", f"{mia} sleep some settles with a parent")
        await doc.command("unrate", f"{mia} sleep Quokka-withdrawal")
        await doc.command("note", f"{mia} Quokka-note")
        await doc.command("plan", f"{mia} add 1")
        await doc.command("plan", f"{mia} add 2 Quokka-wording")
        await doc.command("plan", f"{mia} review 2026-12-20")
        await doc.command("plan", f"{mia} send")
        assert "plan.plan_sent" in doc.keys, doc.keys
        await doc.command("schedule", f"{mia} 6")
        clock.advance(days=30)
        fam = Person(clinic, "fam")
        sent = await clinic.plan_sends("console")
        fam.last = sent[:2]
        await fam.tap_key("tried_yes")  # item 1
        await fam.tap_key("went_better")
        fam.last = sent
        await fam.tap_key("tried_unknown")  # item 2: the check-in is done
        await fam.type("Quokka-family-words")
        assert fam.keys[0] == "plan_edits.checkin_words_kept"
        await doc.command("plan", f"{mia} remove 1 Quokka-removal")
        assert doc.keys == ["plan_edits.item_removed"]
        return mia
    finally:
        await store.close()


def snapshot(repo: UnitOfWork, catalog: FlowCatalog, interview_id: str,
             now: datetime) -> dict[str, Any]:
    """What the clinician reads of an interview, with this server's ids taken out."""
    scored = scored_interview(repo, catalog, interview_id, now)
    assert scored is not None
    report, appendix = scored
    forms = _informant_forms(repo, catalog, interview_id)
    html = clinician_html(report, appendix, charts=(b"", b""), informants=forms,
                          ratings=rating_notes(repo, interview_id))
    for old, new in [(interview_id, "ID"), *((f.interview_id, "FORM") for f in forms)]:
        html = html.replace(old, new)
    plan = repo.plans.plan(interview_id)
    assert plan is not None
    schedule = repo.plans.schedule(interview_id)
    return {
        "scores": report.ratings,
        "html": re.sub(r"#\d+", "#N", html),
        "informants": [(f.role, f.rows) for f in forms],
        "plan": (plan.review_on, plan.sent_at, plan.checkin_at, plan.family_words,
                 plan.words_at,
                 [(i.position, i.recommendation, i.wording, i.status, i.tried, i.went,
                   i.answered_at, i.was_sent,
                   None if i.removed is None else (i.removed.reason, i.removed.at))
                  for i in plan.items]),
        "notes": [(n.body, n.at) for n in repo.plans.notes(interview_id)],
        "schedule": None if schedule is None else (schedule.months, schedule.next_due),
        "ratings": [(r.function, r.revision, r.value, r.reason, r.rated_at, r.status)
                    for r in repo.ratings.history(interview_id)],
    }


async def read(db: Path, catalog: FlowCatalog, interview_id: str, now: datetime,
               key: str | None = None) -> dict[str, Any]:
    store = await Store.open(db, data_key=key)
    try:
        return await store.read(lambda repo: snapshot(repo, catalog, interview_id, now))
    finally:
        await store.close()


def test_export_then_import__same_report_ratings_plan_informants__sealed(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    source, fresh, out = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "out"
    mia = asyncio.run(build(source, catalog, clock))
    assert cli(["--db", str(source), "export", "--format", "fhir", "--out", str(out)]) == 0
    files = sorted(str(p) for p in out.glob("*.fhir.json"))
    assert len(files) == 2  # the family's flow and the teacher's form
    for file in files:
        Bundle.model_validate_json(Path(file).read_bytes())  # valid FHIR, CarePlan included
    assert '"resourceType": "CarePlan"' in Path(files[0]).read_text()

    key = new_key()
    monkeypatch.setenv("HEARTH_DATA_KEY", key)

    async def owner() -> None:
        store = await Store.open(fresh, data_key=key)
        try:
            await register(clinic_service(store, catalog, clock), "dr")
        finally:
            await store.close()

    asyncio.run(owner())
    capsys.readouterr()
    assert cli(["--db", str(fresh), "import", *files, "--owner", "console:dr"]) == 0
    out = capsys.readouterr().out

    async def stored() -> dict[str, int]:
        """Each interview in the fresh database: how many answers it holds."""
        store = await Store.open(fresh, data_key=key)
        try:
            return await store.read(lambda repo: {
                r.id: len(repo.answers.current(r.id)) for r in repo.interviews.all()})
        finally:
            await store.close()

    counts = asyncio.run(stored())
    imported = list(counts)
    assert len(imported) == 2
    assert sorted(out.splitlines()) == sorted(
        said("data.import_done", interview_id=i, state="submitted", count=n)
        for i, n in counts.items())

    async def family_interview() -> str:
        store = await Store.open(fresh, data_key=key)
        try:
            found = await store.read(lambda repo: [
                i for i in imported if repo.interviews.informant_of(i) is None])
        finally:
            await store.close()
        [found_id] = found
        return found_id

    new = asyncio.run(family_interview())
    before = asyncio.run(read(source, catalog, mia, clock.now))
    after = asyncio.run(read(fresh, catalog, new, clock.now, key))
    assert after["informants"] and after["informants"] == before["informants"]
    assert {k: after[k] for k in after if k != "html"} == {k: before[k] for k in before
                                                           if k != "html"}
    # The operator's export withholds the nickname (docs/data.md): the rest is the same.
    # The operator's export withholds the nickname (docs/data.md): the report then names
    # "the child" and its answers lack the nickname's row; the rest is the same.
    expected = "\n".join(line for line in before["html"].replace("Mia", "the child").split("\n")
                         if NICKNAME_ROW not in line)
    assert after["html"] == expected
    assert 'data-status="withdrawn"' in after["html"]
    raw = database_bytes(fresh)
    for secret in SECRETS:
        assert secret.encode() not in raw, secret


def test_import__a_rating_of_a_response_not_imported__nothing_imported(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock()
    source, out = tmp_path / "a.db", tmp_path / "out"
    asyncio.run(build(source, catalog, clock))
    assert cli(["--db", str(source), "export", "--format", "fhir", "--out", str(out)]) == 0
    family = next(p for p in out.glob("*.fhir.json") if "developmental_history" in p.name)
    bundle = json.loads(family.read_text())
    # The ratings' response id no longer matches: refused whole, with the problem named.
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Observation":
            entry["resource"]["derivedFrom"][0]["reference"] += "x"
    family.write_text(json.dumps(bundle))
    count = asyncio.run(_interviews(source))
    capsys.readouterr()
    assert cli(["--db", str(source), "import", str(family), "--owner", "console:doc"]) == 1
    assert "Observation/" in capsys.readouterr().err
    assert asyncio.run(_interviews(source)) == count


async def _interviews(db: Path) -> int:
    store = await Store.open(db)
    try:
        return len(await store.read(lambda repo: repo.interviews.all()))
    finally:
        await store.close()
