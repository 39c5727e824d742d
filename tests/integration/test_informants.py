"""Second informants on SQLite: /informant, a teacher's mini-map, the report, who sees what."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from bot.access import LOCAL_WEB_URL, code_hash
from bot.data.fhir import EXT_INFORMANT_OF, EXT_INFORMANT_ROLE
from bot.data.load import load_all
from bot.data.stats import program_figures
from bot.model import Outbound
from bot.reports import write_interview_report
from bot.service import DialogueService
from tests.conftest import Clock, Person, ids
from tests.integration.clinic import (
    BOT,
    new_interview,
    register,
    rows,
    submitted_history,
)

#: What the teacher answers (everything else "typical"): the hand-computed teacher of
#: tests/unit/test_informant_scoring.py, with "not seen" where that one skipped.
TEACHER = {
    "mm_setting": "school", "mm_known_for": "months",
    "mm_calm_body": "a_lot", "mm_startle": "a_lot", "mm_rested": "some",
    "mm_hot_cold": "not_seen", "mm_big_moves": "not_seen", "mm_hands": "not_seen",
    "mm_rhythm": "not_seen", "mm_busy_places": "not_seen", "mm_settle_self": "not_seen",
    "mm_posture": "not_seen", "mm_peers": "some", "mm_recover": "some", "mm_waiting": "a_lot",
}
NOTE = "Loves the drawing table"

pytestmark = pytest.mark.both_backends


async def ask_teacher(doc: Person, primary_id: str, words: str = "teacher",
                      command: str = "informant") -> tuple[str, str]:
    """`/informant <id> <words>`: (the invitation code, the form's interview id)."""
    await doc.command(command, f"{primary_id} {words}")
    assert doc.keys == ["informants.informant_created"], doc.keys
    link = re.search(rf"https://t\.me/{BOT}\?start=([A-Za-z0-9_-]+)", doc.text)
    assert link, doc.text
    found = await rows(doc.service, "SELECT interview_id FROM invites WHERE code_hash = ?",
                       code_hash(link.group(1)))
    return link.group(1), str(found[0][0])


async def fill_minimap(teacher: Person, code: str) -> list[Outbound]:
    """From the invitation link to the sent form; returns the replies to the send."""
    await teacher.command("start", code)
    assert "informants.informant_welcome" in ids(teacher)
    assert "clinician.invite_claimed" not in ids(teacher)
    await teacher.tap_key("agree")
    for _ in range(40):
        asked = teacher.asked
        if asked is None:
            break
        if asked == "mm_note":
            await teacher.type(NOTE)
        else:
            await teacher.choose(TEACHER.get(asked, "typical"))
    assert "replies.review" in ids(teacher), teacher.keys
    await teacher.tap_key("submit")
    return await teacher.tap_key("send_now")


def cells(html: str, row_id: str) -> dict[str, tuple[str, str | None]]:
    """A side-by-side row: view (caregiver or a form id) -> (band, agreement)."""
    row = re.search(rf'<tr data-kind="[a-z]+" data-id="{row_id}">(.*?)</tr>', html, re.S)
    assert row, f"no row {row_id}"
    found: dict[str, tuple[str, str | None]] = {}
    for cell in re.finditer(r'<td data-view="([^"]+)" data-band="([a-z]+)"'
                            r'(?: data-agreement="([a-z]+)")?', row.group(1)):
        found[cell.group(1)] = (cell.group(2), cell.group(3))
    return found


async def test_teacher_fills_minimap__owner_told__report_side_by_side(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    code, form = await ask_teacher(doc, primary)
    assert await rows(clinic, "SELECT informant_of, informant_role, flow_id FROM interviews "
                              "WHERE id = ?", form) == [(primary, "teacher", "minimap")]

    teacher = Person(clinic, "teach")
    sent = await fill_minimap(teacher, code)
    keys = [m.key for m in sent]
    assert "replies.submitted" in keys
    # The owner hears of it; the informant gets no summary, no recommendations, no offer.
    told = [m for m in sent if m.key == "informants.informant_submitted"]
    assert len(told) == 1 and told[0].chat_id is not None
    assert "clinician.family_submitted" not in keys
    assert not any(k.startswith("report.") for k in keys)

    [report] = await doc.command("report", primary)
    assert report.key == "report.clinician" and report.attachment is not None
    html = report.attachment.data.decode()
    assert 'id="informants" data-forms="1"' in html
    assert f'data-form="{form}" data-role="teacher"' in html
    # Family: Mia's brainstem typical; teacher: significant (two "a lot") -> differ.
    assert cells(html, "brainstem") == {"caregiver": ("typical", None),
                                        form: ("significant", "differ")}
    assert cells(html, "bs_sleep") == {"caregiver": ("moderate", None),
                                       form: ("moderate", "agree")}
    # "I haven't seen this" is unknown, never typical, never compared.
    assert cells(html, "diencephalon")[form] == ("unrated", "unknown")
    assert cells(html, "bs_temperature")[form] == ("unrated", "unknown")
    assert NOTE in html


async def test_informant__spanish_words_and_a_second_caregiver(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    _, first = await ask_teacher(doc, primary, "docente", command="informante")
    _, second = await ask_teacher(doc, primary, "otro cuidador ambos")
    roles = await rows(clinic, "SELECT id, informant_role FROM interviews "
                               "WHERE informant_of = ? ORDER BY id", primary)
    assert sorted(roles) == sorted([(first, "teacher"), (second, "caregiver")])


@pytest.mark.parametrize("args", ["", "{id}", "{id} neighbour", "{id} teacher sometimes"])
async def test_informant__bad_words__usage_nothing_created(
    clinic: DialogueService, args: str
) -> None:
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    await doc.command("informant", args.format(id=primary))
    assert doc.keys == ["informants.informant_usage"]
    assert await rows(clinic, "SELECT id FROM interviews WHERE informant_of IS NOT NULL") == []


async def test_informant__of_an_informant_form__refused(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    _, form = await ask_teacher(doc, primary)
    await doc.command("informant", f"{form} teacher")
    assert doc.keys == ["informants.informant_not_possible"]


async def test_authorization__who_may_ask_and_who_may_see(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    other = await register(clinic, "other")
    primary = await submitted_history(clinic, "doc", "fam")
    # Another clinician: the same answer as an unknown id; the family: not a clinician.
    await other.command("informant", f"{primary} teacher")
    assert other.keys == ["clinician.not_found"]
    # Audited without the id: a guessed id must not land in a stranger's trail.
    assert await rows(clinic, "SELECT detail, interview_id FROM events WHERE kind = 'denied'"
                      ) == [("informant", None)]
    fam = Person(clinic, "fam")
    await fam.command("informant", f"{primary} teacher")
    assert fam.keys == ["clinician.not_clinician"]
    assert await rows(clinic, "SELECT id FROM interviews WHERE informant_of IS NOT NULL") == []

    code, form = await ask_teacher(doc, primary)
    teacher = Person(clinic, "teach")
    await fill_minimap(teacher, code)
    # The informant cannot reach the family's interview by its id, nor open it ...
    await teacher.command("report", primary)
    assert teacher.keys == ["clinician.not_found"]
    await teacher.command("open", primary)
    assert "clinician.not_clinician" in teacher.keys
    # ... and their own /report is their own answers only, never the side-by-side.
    [own] = await teacher.command("report")
    assert own.key == "report.caregiver" and own.attachment is not None
    assert own.attachment.filename == f"hearth-answers-{form}.txt"
    assert NOTE.encode() in own.attachment.data and primary.encode() not in own.attachment.data
    # Another clinician cannot see the form, nor the family's report.
    for command in ("report", "open"):
        await other.command(command, form)
        assert other.keys == ["clinician.not_found"]
    # The family's summary never carries the teacher's view.
    [summary] = await fam.command("report", primary)
    assert summary.key == "report.caregiver" and form not in summary.text
    assert NOTE not in summary.text


async def test_interviews__forms_listed_under_their_child(clinic: DialogueService) -> None:
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    other_child = await submitted_history(clinic, "doc", "fam2")
    _, form = await ask_teacher(doc, primary)
    await doc.command("interviews")
    assert doc.keys == ["clinician.interviews_list"]
    order = [m.start() for m in (re.search(i, doc.text) for i in (primary, form, other_child))
             if m is not None]
    assert len(order) == 3
    # The form (the newest row) comes right after its child, not first.
    assert doc.text.index(primary) < doc.text.index(form)
    between = doc.text[doc.text.index(primary):doc.text.index(form)]
    assert other_child not in between


async def test_family_forget__open_form_closed__sent_form_kept(clinic: DialogueService) -> None:
    """The family's /forget withdraws their interview (existing rule); a form still open
    beside it stops (links revoked), a sent one stays with the clinician."""
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    code, sent_form = await ask_teacher(doc, primary)
    await fill_minimap(Person(clinic, "teach"), code)
    open_code, open_form = await ask_teacher(doc, primary, "caregiver")

    fam = Person(clinic, "fam")
    await fam.command("forget")
    await fam.tap_key("button_erase")
    assert "clinician.erased" in ids(fam)

    states = dict(await rows(clinic, "SELECT id, state FROM interviews WHERE id IN (?, ?, ?)",
                             primary, sent_form, open_form))
    assert states == {primary: "withdrawn", sent_form: "submitted", open_form: "withdrawn"}
    assert await rows(clinic, "SELECT count(*) FROM answers WHERE interview_id = ?",
                      sent_form) != [(0,)]
    late = Person(clinic, "carer")
    await late.command("start", open_code)
    assert late.keys == ["clinician.invite_used"]


async def test_exports__informant_answers_marked_with_their_source(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    code, form = await ask_teacher(doc, primary)
    await fill_minimap(Person(clinic, "teach"), code)

    sent = await doc.command("export", "csv")
    got = {m.attachment.filename: m.attachment.data for m in sent if m.attachment}
    [teacher_row] = csv.DictReader(io.StringIO(got["hearth-minimap-v1.csv"].decode("utf-8-sig")))
    assert (teacher_row["interview_id"], teacher_row["informant_of"],
            teacher_row["informant_role"]) == (form, primary, "teacher")
    assert teacher_row["mm_calm_body"] == "a_lot" and teacher_row["mm_hot_cold"] == "not_seen"
    [family_row] = csv.DictReader(
        io.StringIO(got["hearth-developmental_history-v1.csv"].decode("utf-8-sig")))
    assert (family_row["informant_of"], family_row["informant_role"]) == ("", "")

    sent = await doc.command("export", "fhir")
    got = {m.attachment.filename: m.attachment.data for m in sent if m.attachment}
    bundle = json.loads(got["hearth-minimap-v1.fhir.json"])
    [response] = [e["resource"] for e in bundle["entry"]
                  if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    marks = {e["url"]: e.get("valueString", e.get("valueCode")) for e in response["extension"]}
    assert marks == {EXT_INFORMANT_OF: primary, EXT_INFORMANT_ROLE: "teacher"}
    Bundle.model_validate_json(got["hearth-minimap-v1.fhir.json"])  # still valid FHIR


async def test_informant__web_link__built_like_new_s(clinic: DialogueService) -> None:
    """`web`: only `{HEARTH_WEB_URL}/start/<code>` (the local address when unset), and that
    code claims the form like any invitation."""
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    await doc.command("informant", f"{primary} teacher web")
    assert doc.keys == ["informants.informant_created"]
    assert "t.me/" not in doc.text
    link = re.search(rf"{re.escape(LOCAL_WEB_URL)}/start/([A-Za-z0-9_-]+)", doc.text)
    assert link, doc.text
    teacher = Person(clinic, "teach")
    await teacher.command("start", link.group(1))
    assert "informants.informant_welcome" in ids(teacher)


async def test_informant__beside_an_interview_on_another_map__refused(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    _, sample = await new_interview(doc, "Sam")  # the sample flow: no functional map
    await doc.command("informant", f"{sample} teacher")
    assert doc.keys == ["informants.informant_not_possible"]
    assert await rows(clinic, "SELECT id FROM interviews WHERE informant_of IS NOT NULL") == []


async def test_report_file__written_by_the_operator__has_the_side_by_side(
    clinic: DialogueService, tmp_path: Path, clock: Clock
) -> None:
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    code, form = await ask_teacher(doc, primary)
    await fill_minimap(Person(clinic, "teach"), code)
    paths = await write_interview_report(clinic.store, clinic.catalog, primary, tmp_path,
                                         clock())
    assert paths is not None
    html = paths[0].read_text(encoding="utf-8")
    assert cells(html, "brainstem")[form] == ("significant", "differ")


async def test_informant_forget__their_answers_erased__report_replay_blanked(
    clinic: DialogueService,
) -> None:
    """The informant's /forget: the existing rule for a respondent of someone else's
    interview. Their answers go, the form is withdrawn, and the clinician's stored /report
    outcome that quoted them is blanked."""
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    code, form = await ask_teacher(doc, primary)
    teacher = Person(clinic, "teach")
    await fill_minimap(teacher, code)
    await doc.command("report", primary)
    # The teacher's own steps and the clinician's report quote the note.
    assert await rows(clinic, "SELECT count(*) FROM deliveries WHERE instr(outcome, ?) > 0",
                      NOTE) != [(0,)]

    await teacher.command("forget")
    await teacher.tap_key("button_erase")
    assert "clinician.erased" in ids(teacher)
    assert await rows(clinic, "SELECT count(*) FROM answers WHERE interview_id = ?",
                      form) == [(0,)]
    assert await rows(clinic, "SELECT state FROM interviews WHERE id = ?", form) == [
        ("withdrawn",)]
    assert await rows(clinic, "SELECT count(*) FROM deliveries WHERE instr(outcome, ?) > 0",
                      NOTE) == [(0,)]
    # The family's interview is untouched, and its report no longer shows the form.
    assert await rows(clinic, "SELECT state FROM interviews WHERE id = ?", primary) == [
        ("submitted",)]
    [report] = await doc.command("report", primary)
    assert report.attachment is not None
    assert b'id="informants"' not in report.attachment.data


async def test_followup__of_an_informant_form__refused(clinic: DialogueService) -> None:
    """Informants get no follow-up of their own (a new one is asked beside the family's)."""
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    code, form = await ask_teacher(doc, primary)
    await fill_minimap(Person(clinic, "teach"), code)
    before = await rows(clinic, "SELECT count(*) FROM interviews")
    await doc.command("followup", form)
    assert doc.keys == ["informants.informant_no_followup"]
    assert await rows(clinic, "SELECT count(*) FROM interviews") == before


async def test_program_figures__count_families_not_informant_forms(
    clinic: DialogueService, clock: Clock
) -> None:
    doc = await register(clinic, "doc")
    primary = await submitted_history(clinic, "doc", "fam")
    code, _ = await ask_teacher(doc, primary)
    await fill_minimap(Person(clinic, "teach"), code)
    everything = await clinic.store.read(load_all)
    assert len(everything) == 2
    figures = program_figures(clinic.catalog, everything, clock())
    assert (figures.total, figures.submitted) == (1, 1)
