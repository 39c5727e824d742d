"""An interview's notes, plan and re-assessment schedule as a FHIR `CarePlan`, and back.

One CarePlan per interview that has any: `supportingInfo` names the interview's
QuestionnaireResponse; each plan item is an `activity` (its recommendation the code, the
family's words the description, its check-in answers and removal as extensions); notes
are `note`s. `hearth import` reads it back (bot/data/import_extras.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.data.fhir import resource_id
from bot.data.load import InterviewData
from store.plan_records import INTERVALS, TRIED, WENT, Note, Plan, PlanChange, PlanItem, Schedule

_EXT = "urn:hearth:fhir:"
RECOMMENDATION_SYSTEM = "urn:hearth:recommendation"
QR_PREFIX = "urn:hearth:QuestionnaireResponse:"
EXT_REVIEW = _EXT + "plan-review-on"
EXT_SENT = _EXT + "plan-sent-at"
EXT_CHECKIN = _EXT + "plan-checkin-at"
EXT_REASSESS = _EXT + "reassessment"  # months (valueInteger), next (valueDate)
EXT_WORDS = _EXT + "plan-family-words"  # text (valueString), at (valueDateTime)
EXT_ITEM = _EXT + "plan-item"  # position, sent, tried, went, answered, removed-*
PERSON_SYSTEM = "urn:hearth:person"


def _moment(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _activity_status(item: PlanItem) -> str:
    """CarePlan activity status: removed after the family had it is `stopped` (ended after
    it started), removed before is `cancelled` (withdrawn); else in-progress once sent."""
    if item.removed is not None:
        return "stopped" if item.was_sent else "cancelled"
    return "in-progress" if item.was_sent else "not-started"


def _item(item: PlanItem) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"url": "position", "valueInteger": item.position},
                                   {"url": "sent", "valueBoolean": item.was_sent}]
    for name, value in (("tried", item.tried), ("went", item.went)):
        if value is not None:
            parts.append({"url": name, "valueCode": value})
    if item.answered_at is not None:
        parts.append({"url": "answered", "valueDateTime": _moment(item.answered_at)})
    if item.removed is not None:
        parts += [{"url": "removed-at", "valueDateTime": _moment(item.removed.at)},
                  {"url": "removed-reason", "valueString": item.removed.reason}]
        if item.removed.author_id is not None:
            parts.append({"url": "removed-by", "valueString": str(item.removed.author_id)})
    detail: dict[str, Any] = {
        "code": {"coding": [{"system": RECOMMENDATION_SYSTEM, "code": item.recommendation}]},
        "status": _activity_status(item),
    }
    if item.wording is not None:
        detail["description"] = item.wording
    return {"extension": [{"url": EXT_ITEM, "extension": parts}], "detail": detail}


def care_plan(data: InterviewData) -> dict[str, Any] | None:
    """The interview's notes, plan and schedule as a CarePlan; None when it has none."""
    plan, notes, schedule = data.plan, data.notes, data.schedule
    if plan is None and not notes and schedule is None:
        return None
    interview = resource_id(data.record.id)
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": f"{interview}.plan",
        "status": "active",
        "intent": "plan",
        # No patient resource leaves Hearth: the child is named by the interview alone.
        "subject": {"identifier": {"system": "urn:hearth:interview", "value": data.record.id}},
        "supportingInfo": [{"reference": QR_PREFIX + interview}],
    }
    extensions: list[dict[str, Any]] = []
    if plan is not None and plan.review_on is not None:
        extensions.append({"url": EXT_REVIEW, "valueDate": plan.review_on.isoformat()})
    if plan is not None and plan.sent_at is not None:
        extensions.append({"url": EXT_SENT, "valueDateTime": _moment(plan.sent_at)})
    if plan is not None and plan.checkin_at is not None:
        extensions.append({"url": EXT_CHECKIN, "valueDateTime": _moment(plan.checkin_at)})
    if plan is not None and plan.family_words is not None and plan.words_at is not None:
        extensions.append({"url": EXT_WORDS, "extension": [
            {"url": "text", "valueString": plan.family_words},
            {"url": "at", "valueDateTime": _moment(plan.words_at)}]})
    if schedule is not None:
        extensions.append({"url": EXT_REASSESS, "extension": [
            {"url": "months", "valueInteger": schedule.months},
            {"url": "next", "valueDate": schedule.next_due.isoformat()}]})
    if extensions:
        resource["extension"] = extensions
    if plan is not None and plan.items:
        resource["activity"] = [_item(item) for item in plan.items]
    if notes:
        resource["note"] = [{"text": n.body, "time": _moment(n.at),
                             "authorReference": {"identifier": {
                                 "system": PERSON_SYSTEM, "value": str(n.author_id)}}}
                            for n in notes]
    return resource


# -- reading it back ------------------------------------------------------------------------


class PlanUnreadable(ValueError):
    """A CarePlan that is not one Hearth wrote (its message names what was wrong)."""


def _ext(listed: Any) -> dict[str, Any]:
    if not isinstance(listed, list):
        return {}
    return {str(e.get("url")): e for e in listed if isinstance(e, dict)}


def _value(entry: dict[str, Any] | None, kind: str) -> Any:
    return None if entry is None else entry.get(kind)


def _when(text: Any, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise PlanUnreadable(what) from None
    if moment.tzinfo is None:
        raise PlanUnreadable(what)
    return moment


def _day(text: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise PlanUnreadable(what) from None


def source_interview(resource: dict[str, Any]) -> str | None:
    """The exported QuestionnaireResponse's resource id the CarePlan belongs to."""
    infos = resource.get("supportingInfo")
    for info in infos if isinstance(infos, list) else []:
        ref = info.get("reference") if isinstance(info, dict) else None
        if isinstance(ref, str) and ref.startswith(QR_PREFIX):
            return ref.removeprefix(QR_PREFIX)
    return None


def _read_item(activity: Any) -> PlanItem:
    if not isinstance(activity, dict) or not isinstance(activity.get("detail"), dict):
        raise PlanUnreadable("activity")
    detail = activity["detail"]
    parts = _ext(_ext(activity.get("extension")).get(EXT_ITEM, {}).get("extension"))
    codings = (detail.get("code") or {}).get("coding") or [{}]
    recommendation = codings[0].get("code") if isinstance(codings[0], dict) else None
    position = _value(parts.get("position"), "valueInteger")
    if not isinstance(recommendation, str) or not isinstance(position, int):
        raise PlanUnreadable("activity.code")
    tried = _value(parts.get("tried"), "valueCode")
    went = _value(parts.get("went"), "valueCode")
    if tried not in (None, *TRIED) or went not in (None, *WENT):
        raise PlanUnreadable("activity.check-in")
    answered = parts.get("answered")
    removed = None
    if "removed-at" in parts:
        by = _value(parts.get("removed-by"), "valueString")
        removed = PlanChange(position, "removed",
                             str(_value(parts.get("removed-reason"), "valueString") or ""),
                             int(by) if isinstance(by, str) and by.isdigit() else None,
                             _when(_value(parts["removed-at"], "valueDateTime"), "removed-at"))
    wording = detail.get("description")
    return PlanItem(
        position=position, recommendation=recommendation,
        wording=wording if isinstance(wording, str) else None,
        status="removed" if removed else "sent" if _value(parts.get("sent"), "valueBoolean")
        else "planned",
        tried=tried, went=went,
        answered_at=None if answered is None else _when(
            _value(answered, "valueDateTime"), "answered"),
        removed=removed, was_sent=bool(_value(parts.get("sent"), "valueBoolean")),
    )


def read_care_plan(resource: dict[str, Any]) -> tuple[Plan | None, list[Note], Schedule | None]:
    """The plan, notes and schedule a CarePlan holds; PlanUnreadable if it is not Hearth's
    shape. Notes' authors are read as None: their numbers are the exporting server's."""
    ext = _ext(resource.get("extension"))
    review = _value(ext.get(EXT_REVIEW), "valueDate")
    sent = _value(ext.get(EXT_SENT), "valueDateTime")
    checkin = _value(ext.get(EXT_CHECKIN), "valueDateTime")
    activities = resource.get("activity")
    items = [_read_item(a) for a in (activities if isinstance(activities, list) else [])]
    words = _ext(ext.get(EXT_WORDS, {}).get("extension"))
    said = _value(words.get("text"), "valueString")
    plan = None
    if items or review or sent:
        plan = Plan("", None if review is None else _day(review, "review"),
                    None if sent is None else _when(sent, "sent"),
                    None if checkin is None else _when(checkin, "checkin"), items,
                    family_words=said if isinstance(said, str) else None,
                    words_at=_when(_value(words.get("at"), "valueDateTime"), "words")
                    if isinstance(said, str) else None)
    notes = []
    listed = resource.get("note")
    for note in listed if isinstance(listed, list) else []:
        if not isinstance(note, dict) or not isinstance(note.get("text"), str):
            raise PlanUnreadable("note")
        notes.append(Note(0, "", 0, note["text"], _when(note.get("time"), "note.time")))
    schedule = None
    if EXT_REASSESS in ext:
        parts = _ext(ext[EXT_REASSESS].get("extension"))
        months = _value(parts.get("months"), "valueInteger")
        if months not in INTERVALS:
            raise PlanUnreadable("reassessment")
        schedule = Schedule("", int(months), _day(_value(parts.get("next"), "valueDate"),
                                                  "reassessment.next"))
    return plan, notes, schedule
