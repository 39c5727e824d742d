"""A teacher fills the mini-map on Telegram: the real Application, real Updates, offline Bot API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.features.clinician import grant_role
from flows.answers import encode_value
from store.contract import UnitOfWork
from tests.e2e.telegram_harness import Phone
from tests.e2e.test_telegram import Running, bot  # noqa: F401  (pytest fixture)
from tests.unit.families import family_mia

DOC, FAM, TEACHER = 2001, 2002, 2003


async def family_interview(running: Running) -> str:
    """A clinician (Telegram id DOC) and the family's submitted interview (Mia), stored."""
    flow = running.service.catalog.latest("developmental_history")
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def write(repo: UnitOfWork) -> str:
        doc = grant_role(repo, "telegram", str(DOC), "clinician", by=None, now=now)
        fam = repo.people.get_or_create("telegram", str(FAM), now=now)
        record = repo.interviews.create(
            flow_id=flow.id, flow_version=flow.version, owner_id=doc.id, respondent_id=fam.id,
            nickname="Mia", state="submitted", now=now)
        for revision, (key, answer) in enumerate(family_mia().items(), start=1):
            assert answer.value is not None
            repo.answers.append(record.id, key, encode_value(answer.value), revision=revision,
                                by=fam.id, now=now)
        return record.id

    return await running.service.store.run(write)


async def test_teacher__fills_the_minimap_on_telegram__clinician_told(
    bot: Running,  # noqa: F811
) -> None:
    primary = await family_interview(bot)
    doc = Phone(bot.api, bot.app.bot, DOC, first_name="Doc")
    await bot.send(doc.command("informant", f"{primary} teacher telegram"))
    assert doc.last.key == "informants.informant_created"
    # The code as a start link's parameter or after the command to send (16 random bytes).
    code = re.search(r"(?:start=|/\S+ )([A-Za-z0-9_-]{22})\b", doc.last.text)
    assert code is not None
    teacher = Phone(bot.api, bot.app.bot, TEACHER, first_name="Tess")
    await bot.send(teacher.command("start", code.group(1)))
    assert "informants.informant_welcome" in teacher.keys
    assert teacher.last.key == "replies.consent"
    await bot.send(teacher.tap_key("agree"))
    asked = []
    while teacher.last.key == "replies.ask" and len(asked) < 40:
        question = teacher.last.question
        asked.append(question)
        if question == "mm_note":
            await bot.send(teacher.text("Happiest at the drawing table"))
        elif question == "mm_setting":
            await bot.send(teacher.choose("school"))
        elif question == "mm_known_for":
            await bot.send(teacher.choose("year_plus"))
        else:
            await bot.send(teacher.choose("not_seen" if question == "mm_hot_cold" else "some"))
    assert len(asked) == 29 and "replies.review" in teacher.keys
    await bot.send(teacher.tap_key("submit"))
    await bot.send(teacher.tap_key("send_now"))
    assert "replies.submitted" in teacher.keys
    assert not any(k.startswith("report.") for k in teacher.keys)  # a thank-you, no summary
    assert doc.last.key == "informants.informant_submitted"
    # The teacher never saw the family's interview: its id is in none of their messages.
    assert all(primary not in shown.text for shown in teacher.screen)
