"""The clinician who invited a family sees what the safety net caught: report and caseload."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from bot.access import AccessPolicy
from bot.model import Inbound, Kind
from bot.replies import Export, Outcome, Say
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.memory import MemoryStore

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


async def step(service: DialogueService, user: str, kind: Kind, payload: str,
               args: str = "") -> Outcome:
    inbound = Inbound("console", user, user, kind, payload, f"s{next(_ids)}", args)
    return await service.step(inbound)


async def test_disclosure_and_danger__in_the_report_and_the_caseload() -> None:
    service = DialogueService(
        MemoryStore(), FlowCatalog.bundled("sample"), clock=lambda: NOW,
        access=AccessPolicy.build(["console:op"]),
    )
    await step(service, "op", Kind.COMMAND, "clinician", "add doc")
    created = await step(service, "doc", Kind.COMMAND, "new", "Sam")
    invite = next(r for r in created.replies if isinstance(r, Say))
    code, interview_id = invite.secret["code"], invite.params["interview_id"]
    await step(service, "fam", Kind.COMMAND, "start", code)
    await step(service, "fam", Kind.TEXT, "yes")
    went_on = await step(service, "fam", Kind.TEXT, "his dad hit him when he was 2")
    assert [r.type for r in went_on.replies][-1] == "ask"  # a disclosure: the interview goes on
    helped = await step(service, "fam", Kind.TEXT, "he is hitting me right now")
    assert next(r.message for r in helped.replies if isinstance(r, Say)) == "support"

    report = await step(service, "doc", Kind.COMMAND, "report", interview_id)
    export = next(r for r in report.replies if isinstance(r, Export))
    assert [(n.kind, n.message) for n in export.safety] == [
        ("disclosure", "his dad hit him when he was 2"),
        ("danger", "he is hitting me right now"),
    ]
    listed = await step(service, "doc", Kind.COMMAND, "interviews")
    rows = next(r for r in listed.replies if isinstance(r, Say)).params["rows"]
    assert (rows[0]["danger"], rows[0]["disclosures"]) == (1, 1)


async def test_family_summary__carries_no_safety_notes() -> None:
    service = DialogueService(MemoryStore(), FlowCatalog.bundled("sample"), clock=lambda: NOW)
    await step(service, "fam", Kind.COMMAND, "start")
    await step(service, "fam", Kind.TEXT, "yes")
    await step(service, "fam", Kind.TEXT, "his dad hit him when he was 2")
    # The family's own report request before sending: not ready, and never the notes.
    outcome = await step(service, "fam", Kind.COMMAND, "report")
    assert not [r for r in outcome.replies if isinstance(r, Export) and r.safety]
