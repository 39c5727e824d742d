"""What `hearth import` carries beside the answers: the links between interviews (second
informants, follow-ups), the clinician's ratings (Observations) and notes, plan and
schedule (a CarePlan), as `hearth export --format fhir` wrote them.

Everything is checked before anything is written (the import is all or nothing), then
written through the repositories, so what is sealed in the store is sealed here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.data import fhir_plans, fhir_ratings
from bot.data.fhir import EXT_FOLLOW_UP, EXT_INFORMANT_OF, EXT_INFORMANT_ROLE, INTERVIEW_SYSTEM
from bot.data.importer import WHOLE, ImportProblem
from flows.schema import Flow
from scoring import has_rules
from scoring.informants import has_informant_rules
from scoring.ratings import check_rating
from scoring.rules import bundled_rules
from store.contract import UnitOfWork
from store.plan_records import Note, Plan, Schedule

#: The roles a second informant's form may have (store: informants.role).
ROLES = ("teacher", "caregiver")


@dataclass(frozen=True)
class Source:
    """An exported QuestionnaireResponse: its FHIR id, its interview id there, its links."""

    resource_id: str
    interview_id: str
    follow_up_of: str | None = None
    informant_of: str | None = None
    informant_role: str | None = None


@dataclass
class Extras:
    """Ratings and plans read from the files, by the response's resource id."""

    ratings: dict[str, list[tuple[str, int, str, str, datetime, str]]] = field(
        default_factory=dict)
    plans: dict[str, tuple[Plan | None, list[Note], Schedule | None]] = field(
        default_factory=dict)


def source_of(resource: dict[str, Any]) -> Source | None:
    """The response's own ids and links (None for a response Hearth did not export)."""
    identifier = resource.get("identifier")
    rid = resource.get("id")
    if not isinstance(identifier, dict) or identifier.get("system") != INTERVIEW_SYSTEM \
            or not isinstance(identifier.get("value"), str) or not isinstance(rid, str):
        return None
    ext = {e.get("url"): e for e in resource.get("extension") or [] if isinstance(e, dict)}
    role = (ext.get(EXT_INFORMANT_ROLE) or {}).get("valueCode")
    return Source(rid, identifier["value"],
                  follow_up_of=(ext.get(EXT_FOLLOW_UP) or {}).get("valueString"),
                  informant_of=(ext.get(EXT_INFORMANT_OF) or {}).get("valueString"),
                  informant_role=role if role in ROLES else None)


def _when(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def read_extras(resources: list[Any], flows: dict[str, Flow]) -> Extras | list[ImportProblem]:
    """Every rating Observation and CarePlan among `resources`, checked against the flow of
    the response it belongs to (`flows`: resource id -> flow); or every problem."""
    extras, problems = Extras(), []
    for resource in resources:
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        where = f"{kind}/{resource.get('id')}" if kind else WHOLE
        if kind == "Observation" and fhir_ratings.is_rating(resource):
            rid = fhir_ratings.source_interview(resource)
            flow = flows.get(rid or "")
            if flow is None:
                problems.append(ImportProblem(where, "no_response"))
                continue
            rows = fhir_ratings.read_observation(resource)
            rules = (bundled_rules(flow.id).scoring
                     if has_rules(flow.id) and not has_informant_rules(flow.id) else None)
            moments = [_when(at) for *_, at, _ in rows]
            if not rows or rules is None or None in moments or any(
                    check_rating(rules, f, v, why) for f, _, v, why, _, _ in rows):
                problems.append(ImportProblem(where, "bad_rating"))
                continue
            extras.ratings.setdefault(str(rid), []).extend(
                (f, n, v, why, at, status)
                for (f, n, v, why, _, status), at in zip(rows, moments, strict=True)
                if at is not None)
        elif kind == "CarePlan":
            rid = fhir_plans.source_interview(resource)
            if rid not in flows:
                problems.append(ImportProblem(where, "no_response"))
                continue
            try:
                extras.plans[str(rid)] = fhir_plans.read_care_plan(resource)
            except fhir_plans.PlanUnreadable as exc:
                problems.append(ImportProblem(where, "bad_plan", {"what": str(exc)}))
    return problems or extras


def store_extras(repo: UnitOfWork, extras: Extras, sources: list[Source],
                 new_ids: dict[str, str], *, owner_id: int, now: datetime) -> None:
    """Write the links, ratings and plans of the imported interviews (`new_ids`: exported
    interview id -> the id it was imported as). Whatever the exporting server's people
    wrote is authored here by the clinician the import names (`owner_id`): their person
    numbers mean nothing on this server. A link to an interview not imported is dropped."""
    by_resource = {s.resource_id: new_ids[s.interview_id] for s in sources}
    for source in sources:
        mine = new_ids[source.interview_id]
        if source.follow_up_of in new_ids:
            repo.interviews.set_follow_up_of(mine, new_ids[str(source.follow_up_of)])
        if source.informant_of in new_ids and source.informant_role is not None:
            repo.interviews.set_informant_of(mine, new_ids[str(source.informant_of)],
                                             source.informant_role)
    for rid, rows in extras.ratings.items():
        interview_id = by_resource[rid]
        # In the order they were made (the file's order where the times are the same, which
        # keeps each function's revisions in order): the store numbers them again, 1, 2, ...
        for function, _, value, reason, at, status in sorted(rows, key=lambda r: r[4]):
            repo.ratings.add(interview_id, function, value, reason, by=owner_id, now=at,
                             status=status)
    for rid, (plan, notes, schedule) in extras.plans.items():
        repo.plans.restore(by_resource[rid], plan, notes, schedule, by=owner_id, now=now)
    for interview_id in {by_resource[r] for r in [*extras.ratings, *extras.plans]}:
        repo.audit.add("imported", interview_id=interview_id, person_id=owner_id, now=now,
                       detail="fhir:workspace")
