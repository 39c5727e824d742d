"""`hearth org` and `hearth transfer`: the operator's teams and hand-overs (docs/clinicians.md)."""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.settings import Settings
from bot.usage import CliError, told
from store.contract import UnitOfWork

T = TypeVar("T")
_PERSON = re.compile(r"^(\w{1,32}):([\w.@-]{1,64})$")
_ORG = re.compile(r"^\S(.{0,78}\S)?$")


def add_teams_commands(sub: Any) -> None:
    """Register `hearth org ...` and `hearth transfer` on `hearth`'s subparsers."""
    # Help texts: messages/<locale>/cli_help.yaml, under "hearth org ..." (bot/cli_help.py).
    org = sub.add_parser("org")
    verbs = org.add_subparsers(dest="org_command", required=True)
    add = verbs.add_parser("add")
    add.add_argument("name")
    member = verbs.add_parser("member")
    member.add_argument("org")
    member.add_argument("person", metavar="CHANNEL:ID")
    member.add_argument("role", choices=["clinician", "supervisor"])
    remove = verbs.add_parser("remove")
    remove.add_argument("org")
    remove.add_argument("person", metavar="CHANNEL:ID")
    remove.add_argument("--to", default=None, metavar="CHANNEL:ID")
    verbs.add_parser("list")
    org.set_defaults(run=org_command)

    move = sub.add_parser("transfer")
    move.add_argument("interview")
    move.add_argument("to", metavar="CHANNEL:ID")
    move.set_defaults(run=transfer_command)


def person_of(raw: str) -> tuple[str, str]:
    found = _PERSON.match(raw.strip())
    if found is None:
        raise CliError.of("person_usage", got=raw)
    return found.group(1), found.group(2)


def in_store(settings: Settings, step: Callable[[UnitOfWork], T]) -> T:
    """Run one step in one transaction on the configured database."""
    from bot.storage import open_store

    async def main() -> T:
        store = await open_store(settings)
        try:
            return await store.run(step)
        finally:
            await store.close()

    return asyncio.run(main())


def org_command(args: argparse.Namespace, settings: Settings) -> int:
    verb = args.org_command
    if verb == "list":
        for line in in_store(settings, org_lines):
            print(line)
        return 0
    name = " ".join(args.org.split() if verb != "add" else args.name.split())
    if not _ORG.match(name):
        raise CliError.of("org_name_length")
    if verb == "add":
        made = in_store(settings, lambda uow: uow.teams.add_org(name, now=datetime.now(UTC)))
        if made is None:
            raise CliError.of("org_exists", org=name)
        print(told("org_made", org=name))
        return 0
    who = person_of(args.person)
    if verb == "member":
        problem = in_store(settings, lambda uow: _member(uow, name, who, args.role))
        if problem:
            raise CliError(problem)
        print(told("member_added", who=args.person, role=args.role, org=name))
        return 0
    heir = person_of(args.to) if args.to else None
    outcome = in_store(settings, lambda uow: _leave(uow, name, who, heir, args.person))
    if outcome.startswith("!"):
        raise CliError(outcome[1:])
    print(outcome)
    return 0


def org_lines(uow: UnitOfWork) -> list[str]:
    lines = []
    for org in uow.teams.orgs():
        lines.append(told("org_heading", org=org.name, since=org.created_at))
        for member in uow.teams.members(org.id):
            person = uow.people.by_id(member.person_id)
            where = f"{person.channel}:{person.external_id}" if person else member.person_id
            lines.append(f"  {member.role:<10} {where}")
    return lines or [told("no_orgs")]


def _member(uow: UnitOfWork, name: str, who: tuple[str, str], role: str) -> str | None:
    from bot.access import is_clinician
    from bot.teams import add_member

    org = uow.teams.org_named(name)
    if org is None:
        return told("no_org", org=name)
    person = uow.people.find(*who)
    if person is None or not is_clinician(person):
        return told("not_clinician_add", who=":".join(who))
    add_member(uow, org, person, role, by=None, now=datetime.now(UTC))
    return None


def _leave(uow: UnitOfWork, name: str, who: tuple[str, str],
           heir: tuple[str, str] | None, person_named: str) -> str:
    """Out of one organisation; out of the last one, out of the clinician role too (their
    access ends at once, their interviews go to `heir` or are held: features/clinician.py)."""
    from bot.features.clinician import end_role

    org = uow.teams.org_named(name)
    person = uow.people.find(*who)
    if org is None or person is None or not uow.teams.drop_member(org.id, person.id):
        return "!" + told("not_member", who=":".join(who), org=name)
    now = datetime.now(UTC)
    uow.audit.add("member", interview_id=None, person_id=None, now=now,
                  detail=f"{org.id}:{person.id}:none")
    if uow.teams.memberships_of(person.id):
        return told("left_org", who=person_named, org=name)
    handover = end_role(uow, *who, to=heir, by=None, now=now)
    if handover is None:
        # Nothing may stay half done: the membership comes back with the rollback.
        raise _Rollback(told("not_clinician", who=":".join(heir or ())))
    return told("left_last_org", who=person_named, org=name, count=len(handover.moved))


class _Rollback(CliError):
    """Raised inside the step so the store rolls the whole change back."""


def transfer_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.access import plausible_interview_id
    from bot.teams import transfer

    to = person_of(args.to)
    interview_id = args.interview.strip()
    if not plausible_interview_id(interview_id):
        raise CliError.of("not_interview_id", got=interview_id)

    def move(uow: UnitOfWork) -> str:
        interview = uow.interviews.get(interview_id)
        if interview is None:
            return "!" + told("no_interview", interview_id=interview_id)
        heir = uow.people.find(*to)
        done = transfer(uow, interview, heir, by=None, now=datetime.now(UTC)) if heir else None
        if done is None:
            return "!" + told("cannot_take", who=args.to)
        return told("transferred", interview_id=interview_id, to=args.to)

    outcome = in_store(settings, move)
    if outcome.startswith("!"):
        raise CliError(outcome[1:])
    print(outcome)
    return 0
