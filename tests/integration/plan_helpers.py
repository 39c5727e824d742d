"""A clinician and a family's submitted interview, stored directly, for the plan tests;
the change report of a follow-up."""

from __future__ import annotations

from datetime import datetime

from bot.features.clinician import grant_role
from bot.service import DialogueService
from flows.answers import encode_value
from flows.engine import Answer
from store.contract import UnitOfWork
from tests.conftest import Person
from tests.unit.families import family_mia


async def submitted_interview(
    service: DialogueService, channel: str, doc: str, fam: str, now: datetime,
    answers: dict[str, Answer] | None = None, *, earlier_id: str | None = None,
) -> str:
    """Clinician `doc` owns a submitted interview (Mia's answers) answered by `fam`, whose
    private chat is known (as after any message from them)."""
    flow = service.catalog.latest("developmental_history")

    def write(repo: UnitOfWork) -> str:
        clinician = grant_role(repo, channel, doc, "clinician", by=None, now=now)
        family = repo.people.get_or_create(channel, fam, now=now)
        repo.people.remember_chat(family.id, fam)
        repo.people.remember_chat(clinician.id, doc)
        record = repo.interviews.create(
            flow_id=flow.id, flow_version=flow.version, owner_id=clinician.id,
            respondent_id=family.id, nickname="Mia", state="submitted", now=now)
        if earlier_id is not None:
            repo.interviews.set_follow_up_of(record.id, earlier_id)
        for revision, (key, answer) in enumerate((answers or family_mia()).items(), start=1):
            assert answer.value is not None
            repo.answers.append(record.id, key, encode_value(answer.value), revision=revision,
                                by=family.id, now=now)
        record.submitted_at = now
        repo.interviews.save(record)
        return record.id

    return await service.store.run(write)


async def follow_up_change(
    service: DialogueService, doc: str, fam: str, now: datetime, earlier_id: str,
    answers: dict[str, Answer] | None = None,
) -> str:
    """`fam`'s follow-up of `earlier_id`, submitted; the change report clinician `doc`
    downloads for it, as HTML."""
    follow_up = await submitted_interview(service, "console", doc, fam, now, answers,
                                          earlier_id=earlier_id)
    clinician = Person(service, doc)
    await clinician.command("report", follow_up)
    change = next(m for m in clinician.last if m.key == "report.change")
    assert change.attachment is not None
    return change.attachment.data.decode()
