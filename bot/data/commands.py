"""Clinicians' data commands in a step: `/export [csv|fhir]` of their own interviews."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import clinician
from bot.access import is_clinician
from bot.data.exporting import FORMATS, audit_export, export_files
from bot.data.followup import say
from bot.data.load import load_owned
from bot.replies import Files

if TYPE_CHECKING:
    from bot.steps import Step


def export_command(step: Step, args: str) -> None:
    """`/export [csv|fhir]`: the clinician's own interviews as files, each one audited."""
    if not is_clinician(step.person):
        clinician.audit(step, "denied", "export")
        clinician.say(step, "not_clinician")
        return
    fmt = args.strip().lower() or "csv"
    if fmt not in FORMATS:
        say(step, "export_usage", formats=list(FORMATS))
        return
    interviews = load_owned(step.repo, step.person.id)
    if not interviews:
        say(step, "export_none")
        return
    # Their own families: the nicknames they gave stay in (an operator's export drops them).
    result = export_files(step.catalog, interviews, fmt, include_nicknames=True)
    audit_export(step.repo, result, fmt, person_id=step.person.id, now=step.now)
    step.replies.append(
        Files(
            message="export_caption",
            params={"count": len(result.exported), "format": fmt,
                    "files": len(result.files)},
            files=result.files,
        )
    )
