"""Clinicians' data commands: `/export [csv|fhir]` of their caseload (supervisors: their team)."""

from __future__ import annotations

from bot import caseload
from bot.access import caseload_owners
from bot.context import StepContext
from bot.data.load import load_owned
from bot.model import Kind
from bot.replies import Files
from bot.router import Interest

LIBRARY = "data.j2"


class DataCommands:
    """`/export`: each interview exported is audited; nicknames stay in (their own families)."""

    name = "data"
    interest = Interest(commands=frozenset({"export"}))

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not (inbound.private and inbound.kind is Kind.COMMAND and inbound.payload == "export"):
            return False
        if not caseload.require_clinician(ctx, "export"):
            return True
        # The exporters (and the scoring rules they read) load with the first /export.
        from bot.data.exporting import FORMATS, audit_export, export_files

        fmt = inbound.args.strip().lower() or "csv"
        if fmt not in FORMATS:
            ctx.say("export_usage", library=LIBRARY, formats=list(FORMATS))
            return True
        # Their caseload: their own, and their team's for a supervisor (bot/access.py).
        interviews = [i for owner in caseload_owners(ctx.uow, ctx.person)
                      for i in load_owned(ctx.uow, owner)]
        if not interviews:
            ctx.say("export_none", library=LIBRARY)
            return True
        # Their own families: the nicknames they gave stay in (an operator's export drops them).
        result = export_files(ctx.catalog, interviews, fmt, include_nicknames=True)
        audit_export(ctx.uow, result, fmt, person_id=ctx.person.id, now=ctx.now)
        ctx.replies.append(
            Files(
                message="export_caption",
                params={"count": len(result.exported), "format": fmt, "files": len(result.files)},
                files=result.files,
            )
        )
        return True
