"""`hearth invite`: the operator's `/new`, printing an interview's invitation link(s)."""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import UTC, datetime
from typing import Any

from bot.access import CHANNELS, DEFAULT_CHANNEL, AccessPolicy, is_clinician
from bot.settings import Settings
from bot.usage import CliError, told

_PERSON = re.compile(r"^(?:(\w{1,32}):)?([\w.@-]{1,64})$")


def add_invite_command(sub: Any) -> None:
    """Register `hearth invite` on `hearth`'s subparsers."""
    # Help texts: messages/<locale>/cli_help.yaml, under "hearth invite" (bot/cli_help.py).
    invite = sub.add_parser("invite")
    invite.add_argument("clinician")
    invite.add_argument("nickname")
    invite.add_argument("--channel", choices=CHANNELS, default=None)
    invite.set_defaults(run=invite_command)


def invite_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.caseload import issue_invite
    from bot.features.clinician import MAX_NICKNAME, new_family_interview
    from bot.storage import open_store
    from flows.catalog import FlowCatalog
    from store.contract import UnitOfWork

    found = _PERSON.match(args.clinician.strip())
    if found is None:
        raise CliError.of("invite_usage", got=args.clinician)
    channel, external_id = found.group(1) or DEFAULT_CHANNEL, found.group(2)
    nickname = " ".join(args.nickname.split())
    if not nickname or len(nickname) > MAX_NICKNAME:
        raise CliError.of("nickname_length", limit=MAX_NICKNAME)
    if channel == "person" and not external_id.isdigit():
        raise CliError.of("person_number", got=args.clinician)
    catalog = FlowCatalog.bundled(settings.flow)
    access = AccessPolicy.from_settings(settings)

    def make(uow: UnitOfWork) -> tuple[str, str, datetime] | None:
        now = datetime.now(UTC)
        if channel == "person":
            person = uow.people.by_id(int(external_id))
        else:
            person = uow.people.find(channel, external_id)
        if person is None or not is_clinician(person):
            return None
        interview = new_family_interview(uow, catalog, person.id, nickname, now=now)
        code, expires = issue_invite(uow, access, interview, by=person.id, now=now)
        return interview.id, code, expires

    async def main() -> tuple[str, str, datetime] | None:
        store = await open_store(settings)
        try:
            return await store.run(make)
        finally:
            await store.close()

    made = asyncio.run(main())
    if made is None:
        raise CliError.of("invite_not_clinician", who=args.clinician)
    interview_id, code, expires = made
    links = access.invite_links(code, args.channel)
    print(told("invite_made", interview_id=interview_id, nickname=nickname, expires=expires))
    if links.web:
        print(f"web: {links.web}")
    if links.telegram:
        print(f"telegram: {links.telegram}")
    elif args.channel in (None, "telegram", "both") and not links.web:
        print(told("invite_start_code", code=code))
    return 0
