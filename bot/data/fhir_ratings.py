"""Clinician ratings in FHIR: one `Observation` per rating revision, author and source marked."""

from __future__ import annotations

from typing import Any

from bot.data.fhir import resource_id
from bot.data.load import InterviewData
from flows.schema import Flow
from scoring import has_rules
from scoring.rules import bundled_rules
from store.records import Rating

_EXT = "urn:hearth:fhir:"
#: The category that marks every one of these as the clinician's view, never an answer.
SOURCE_SYSTEM = _EXT + "source"
SOURCE_CODE = "clinician-rating"
FUNCTION_SYSTEM = "urn:hearth:function:"  # + the map's flow id
SCALE_SYSTEM = "urn:hearth:rating-scale:"  # + the map's flow id
PERSON_SYSTEM = "urn:hearth:person"
QR_PREFIX = "urn:hearth:QuestionnaireResponse:"
EXT_REVISION = _EXT + "rating-revision"
#: True for the revision the report's scores use (the latest of its function).
EXT_CURRENT = _EXT + "rating-current"
#: On a withdrawn rating: who withdrew it (valueString, their person id), when
#: (valueDateTime) and why (valueString), as nested extensions.
EXT_WITHDRAWN = _EXT + "rating-withdrawn"
#: A withdrawn rating's status. FHIR R4 `entered-in-error` is the status of an observation
#: "withdrawn following previous final release"; `cancelled` means one never started or
#: completed, which a rating made and used is not. Consumers drop entered-in-error
#: observations, so no system keeps using a rating the clinician took back
#: (docs/data.md, "Clinician ratings in FHIR").
WITHDRAWN_STATUS = "entered-in-error"


def _id(interview_id: str, rating: Rating) -> str:
    return f"{resource_id(interview_id)}.r.{rating.function.replace('_', '.')}.{rating.revision}"


def observations(flow: Flow, data: InterviewData, locale: str | None = None
                 ) -> list[dict[str, Any]]:
    """The interview's ratings as Observations, each derived from its QuestionnaireResponse."""
    if not data.ratings or not has_rules(flow.id):
        return []
    locale = locale or flow.locales[0]
    labels = {f.item: f.label for region in bundled_rules(flow.id).scoring.functioning.regions
              for f in region.functions}
    latest = {r.function: r.revision for r in data.ratings}
    # A withdrawal is no observation of its own: it changes the status of the rating it
    # takes back (the revision before it), as FHIR changes a withdrawn resource's status.
    withdrawals = {(r.function, r.revision - 1): r for r in data.ratings
                   if r.status == "withdrawn"}
    found: list[dict[str, Any]] = []
    for rating in data.ratings:
        if rating.status == "withdrawn":
            continue
        withdrawal = withdrawals.get((rating.function, rating.revision))
        label = labels.get(rating.function, {})
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "id": _id(data.record.id, rating),
            "status": WITHDRAWN_STATUS if withdrawal is not None
            else "final" if rating.revision == 1 else "amended",
            "category": [{"coding": [{"system": SOURCE_SYSTEM, "code": SOURCE_CODE}]}],
            "code": {"coding": [{"system": FUNCTION_SYSTEM + flow.id, "code": rating.function,
                                 "display": label.get(locale) or rating.function}]},
            "derivedFrom": [{"reference": QR_PREFIX + resource_id(data.record.id)}],
            "effectiveDateTime": rating.rated_at.isoformat(timespec="seconds"),
            "valueCodeableConcept": {"coding": [{"system": SCALE_SYSTEM + flow.id,
                                                 "code": rating.value}]},
            "note": [{"text": rating.reason}],
            "extension": [
                {"url": EXT_REVISION, "valueInteger": rating.revision},
                {"url": EXT_CURRENT, "valueBoolean": latest[rating.function] == rating.revision},
            ],
        }
        if withdrawal is not None:
            observation["extension"].append({"url": EXT_WITHDRAWN, "extension": [
                {"url": "revision", "valueInteger": withdrawal.revision},
                {"url": "at", "valueDateTime": withdrawal.rated_at.isoformat(timespec="seconds")},
                {"url": "reason", "valueString": withdrawal.reason},
                *([{"url": "by", "valueString": str(withdrawal.rated_by)}]
                  if withdrawal.rated_by is not None else []),
            ]})
        if rating.rated_by is not None:
            observation["performer"] = [{"identifier": {"system": PERSON_SYSTEM,
                                                        "value": str(rating.rated_by)},
                                         "display": "clinician"}]
        found.append(observation)
    return found


def read_observation(resource: dict[str, Any]) -> list[tuple[str, int, str, str, str, str]]:
    """A rating Observation read back for `hearth import`: its revision, and its withdrawal
    if it carries one, as (function, revision, value, reason, at, status) rows; [] when it
    is not a clinician rating of Hearth's shape (checked by the caller)."""
    coding = ((resource.get("code") or {}).get("coding") or [{}])[0]
    value = ((resource.get("valueCodeableConcept") or {}).get("coding") or [{}])[0]
    notes = resource.get("note") or [{}]
    ext = {e.get("url"): e for e in resource.get("extension") or [] if isinstance(e, dict)}
    revision = (ext.get(EXT_REVISION) or {}).get("valueInteger")
    found = (coding.get("code"), value.get("code"), notes[0].get("text"),
             resource.get("effectiveDateTime"))
    if not all(isinstance(part, str) for part in found) or not isinstance(revision, int):
        return []
    function, code, reason, at = (str(part) for part in found)
    rows = [(function, revision, code, reason, at, "rated")]
    if EXT_WITHDRAWN in ext:
        parts = {p.get("url"): p for p in ext[EXT_WITHDRAWN].get("extension") or []
                 if isinstance(p, dict)}
        why = (parts.get("reason") or {}).get("valueString")
        when = (parts.get("at") or {}).get("valueDateTime")
        number = (parts.get("revision") or {}).get("valueInteger")
        if not (isinstance(why, str) and isinstance(when, str) and isinstance(number, int)):
            return []
        rows.append((function, number, code, why, when, "withdrawn"))
    return rows


def source_interview(resource: dict[str, Any]) -> str | None:
    """The exported QuestionnaireResponse's resource id a rating was derived from."""
    for ref in resource.get("derivedFrom") or []:
        target = ref.get("reference") if isinstance(ref, dict) else None
        if isinstance(target, str) and target.startswith(QR_PREFIX):
            return target.removeprefix(QR_PREFIX)
    return None


def is_rating(resource: dict[str, Any]) -> bool:
    """Whether an Observation is a clinician rating Hearth exported."""
    return any(c.get("system") == SOURCE_SYSTEM and c.get("code") == SOURCE_CODE
               for cat in resource.get("category") or [] if isinstance(cat, dict)
               for c in cat.get("coding") or [] if isinstance(c, dict))
