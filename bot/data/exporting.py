"""Build export files (CSV + codebook, or a FHIR Bundle) per flow version, and audit them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.data import fhir, fhir_plans, fhir_ratings, rating_tables, tables
from bot.data.load import InterviewData
from bot.replies import DataFile
from flows.catalog import FlowCatalog
from store.contract import UnitOfWork

FORMATS = ("csv", "fhir")


@dataclass(frozen=True)
class ExportResult:
    """The files, and which interviews went into them (each one is audited)."""

    files: list[DataFile]
    exported: list[str]
    #: Interviews on a flow version this Hearth no longer ships (left out, counted).
    unknown_flow: int


def export_files(
    catalog: FlowCatalog,
    interviews: Sequence[InterviewData],
    fmt: str,
    *,
    include_nicknames: bool,
) -> ExportResult:
    """One CSV and codebook, or one FHIR Bundle, per flow version present."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    groups: dict[str, list[InterviewData]] = {}
    unknown = 0
    for data in interviews:
        key = data.record.flow_key
        if key not in catalog.flows:
            unknown += 1
            continue
        groups.setdefault(key, []).append(data)
    files: list[DataFile] = []
    exported: list[str] = []
    for key in sorted(groups):
        flow = catalog.get(key)
        group = groups[key]
        stem = f"hearth-{flow.id}-v{flow.version}"
        if fmt == "csv":
            header, body = tables.rows(flow, group, include_nicknames=include_nicknames)
            files.append(DataFile(filename=f"{stem}.csv", data=tables.to_csv(header, body),
                                  mime="text/csv"))
            header, book = tables.codebook(flow, include_nicknames=include_nicknames)
            if any(data.ratings for data in group):
                # The clinician's ratings: a file of their own, so the answers' file keeps
                # one row per interview, and the codebook says what its columns mean.
                rated_header, rated = rating_tables.rows(flow, group)
                files.append(DataFile(filename=f"{stem}-ratings.csv",
                                      data=tables.to_csv(rated_header, rated), mime="text/csv"))
                book = [*book, *rating_tables.codebook(flow)]
            files.append(DataFile(filename=f"{stem}-codebook.csv",
                                  data=tables.to_csv(header, book), mime="text/csv"))
        else:
            resources = [fhir.questionnaire(flow)]
            for data in group:
                resources.append(
                    fhir.questionnaire_response(flow, data, include_nicknames=include_nicknames))
                resources.extend(fhir_ratings.observations(flow, data))
                plan = fhir_plans.care_plan(data)
                if plan is not None:
                    resources.append(plan)
            files.append(DataFile(filename=f"{stem}.fhir.json",
                                  data=fhir.to_json(fhir.bundle(resources)),
                                  mime="application/fhir+json"))
        exported.extend(data.record.id for data in group)
    return ExportResult(files, exported, unknown)


def audit_export(
    repo: UnitOfWork, result: ExportResult, fmt: str, *, person_id: int | None, now: datetime
) -> None:
    """Every exported interview gets an `exported` event (detail: the format and who)."""
    audience = "operator" if person_id is None else "clinician"
    for interview_id in result.exported:
        repo.audit.add("exported", interview_id=interview_id, person_id=person_id, now=now,
                       detail=f"{fmt}:{audience}")
