"""The authorization matrix for withdrawing a rating and removing a plan item: every role
(bot/access.py `may_change`: the owner alone changes; supervisors read), every change
audited, every refusal audited without the id and changing nothing."""

from __future__ import annotations

import pytest

from bot.service import DialogueService
from tests.integration.clinic import rows
from tests.integration.test_teams import ROLES, UNKNOWN, keys, shows, world

pytestmark = pytest.mark.both_backends

#: Each change, and the words after the interview id.
CHANGES = {"unrate": "startle no longer what we see in clinic",
           "plan": "remove 1 the family found its own routine"}
#: Who may make them: the owner; a supervisor reads (test_teams.py), never changes.
ALLOWED = {"owner"}


async def test_matrix__withdraw_and_remove__owner_alone__audited(
    clinic: DialogueService,
) -> None:
    people, primary = await world(clinic)
    owner = people["owner"]
    await owner.command("rate", f"{primary} startle a lot Startles at every door")
    await owner.command("plan", f"{primary} add 1")
    assert owner.keys == ["plan.item_added"]

    def state(uow):  # type: ignore[no-untyped-def]
        return ([r.status for r in uow.ratings.history(primary)],
                len(uow.plans.changes(primary)))

    before = await clinic.store.read(state)
    seen: dict[tuple[str, str], bool] = {}
    for role in ROLES:
        who = people[role]
        for command, rest in CHANGES.items():
            unknown = keys(await who.command(command, f"{UNKNOWN} {rest}"))
            reply = await who.command(command, f"{primary} {rest}")
            allowed = keys(reply) != unknown
            seen[role, command] = allowed
            if not allowed:
                assert not shows(reply, primary), (role, command)
        if role != "owner":
            assert await clinic.store.read(state) == before, role  # nothing changed
    assert seen == {(role, command): role in ALLOWED for role in ROLES for command in CHANGES}

    # The owner's changes were made, and audited as theirs.
    assert await clinic.store.read(state) == (["rated", "withdrawn"], 1)
    doc = (await rows(clinic, "SELECT id FROM people WHERE external_id = 'doc'"))[0][0]
    audited = await rows(clinic, "SELECT kind, person_id FROM events WHERE interview_id = ? "
                                 "AND kind IN ('rating_withdrawn', 'plan_item_removed')",
                         primary)
    assert sorted(audited) == [("plan_item_removed", doc), ("rating_withdrawn", doc)]
    # Every refusal is audited, never with the interview's id.
    denied = await rows(clinic, "SELECT interview_id, detail FROM events WHERE kind = 'denied' "
                                "AND detail IN ('unrate', 'plan')")
    assert denied and all(interview_id is None for interview_id, _ in denied)
