"""Re-assessment: `/followup <id>`, history carried over for confirmation, the change report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import clinician
from bot.access import is_clinician
from bot.data.load import decoded
from bot.replies import Change, ReviewRow, Say
from flows.answers import decode_value
from flows.engine import AgeValue, Question, Value, enabled_options, is_valid_value, questions
from flows.lifecycle import State
from flows.schema import Flow, ItemType
from store.records import InterviewRecord, Person

if TYPE_CHECKING:
    from bot.steps import Step

LIBRARY = "data.j2"
#: Button payload of "same as last time" (the clinician module's prefix routes it here).
SAME = "same"

#: Sections whose answers are history: they cannot have changed since the earlier
#: interview (only grown), so they are offered back for one-tap confirmation. Everything
#: else describes the child and the caregiver now and is asked afresh.
CARRIED: dict[str, frozenset[str]] = {
    "developmental_history": frozenset(
        {"background", "adversity", "adversity_detail", "connection_early", "connection_then"}
    ),
    "sample": frozenset({"family"}),
}


def say(step: Step, message: str, choices: list[tuple[str, str]] | None = None,
        **params: Any) -> None:
    """A reply from this module's message library."""
    step.replies.append(Say(message=message, params=params, choices=choices or [],
                            library=LIBRARY))


def followup_command(step: Step, args: str) -> None:
    """`/followup <id>`: a new interview for the same child, linked to a submitted one."""
    if not is_clinician(step.person):
        clinician.audit(step, "denied", "followup")
        clinician.say(step, "not_clinician")
        return
    if not args.strip():
        say(step, "followup_usage")
        return
    earlier = clinician.owned_interview(step, args, "followup")
    if earlier is None:
        return
    if State(earlier.state) is not State.SUBMITTED:
        say(step, "followup_not_submitted", interview_id=earlier.id, state=earlier.state)
        return
    # The newest version of the same flow: item ids are stable across versions, so the
    # history carries over item by item.
    flow = step.catalog.latest(earlier.flow_id)
    interview = step.repo.create_interview(
        flow_id=flow.id,
        flow_version=flow.version,
        owner_id=step.person.id,
        respondent_id=None,
        nickname=earlier.subject_nickname,
        state=State.CONSENT.value,
        now=step.now,
    )
    step.repo.set_follow_up_of(interview.id, earlier.id)
    clinician.audit(step, "created", flow.key, interview.id)
    clinician.audit(step, "follow_up", earlier.id, interview.id)
    say(step, "followup_created", nickname=earlier.subject_nickname, earlier_id=earlier.id,
        interview_id=interview.id)
    clinician.invite(step, interview)


# -- carrying answers over -------------------------------------------------------------------


def may_see_earlier(person: Person, earlier: InterviewRecord) -> bool:
    """Last time's answers are shown to whoever owns or answered the earlier interview.

    A new respondent (another carer, say) answers afresh: the earlier answers were
    someone else's to give.
    """
    return person.id in (earlier.owner_id, earlier.respondent_id)


def previous_value(step: Step, question: Question) -> tuple[str, Any] | None:
    """(earlier interview id, stored value) to offer for this question, if any."""
    interview = step.interview
    if interview is None or question.section.id not in CARRIED.get(step.flow.id, frozenset()):
        return None
    earlier_id = step.repo.follow_up_of(interview.id)
    earlier = step.repo.interview(earlier_id) if earlier_id else None
    if earlier is None or not may_see_earlier(step.person, earlier):
        return None
    stored = step.repo.current_answers(earlier.id).get(question.key)
    if stored is None or stored[0] is None:
        return None
    value = decode_value(stored[0])
    if not _fits(step.flow, question, value, step):
        return None  # the options have changed (the child is older): ask afresh
    return earlier.id, stored[0]


def _fits(flow: Flow, question: Question, value: Value, step: Step) -> bool:
    if not is_valid_value(flow, question, value, step.answers):
        return False
    offered = {o.value for o in enabled_options(flow, question, step.answers)}
    if question.item.type in (ItemType.SINGLE_CHOICE, ItemType.YES_NO_UNKNOWN):
        return value in offered
    if question.item.type is ItemType.MULTI_CHOICE:
        return isinstance(value, list) and set(value) <= offered
    return True


def offer_previous(step: Step, question: Question, *, replace: bool = False) -> None:
    """After a carried-over question: "your answer last time: X" and a one-tap button."""
    if replace or step.interview is None:
        return  # a multiple choice being ticked: offered once, with the question
    found = previous_value(step, question)
    if found is None:
        return
    earlier_id, stored = found
    # Named by interview and question, not revision: ticking options of a multiple choice
    # bumps the revision, and the button must still work until the question is answered.
    payload = f"{clinician.PREFIX}{SAME}:{step.interview.id}:{_tag(step, question)}"
    offer = Say(
        message="last_time",
        library=LIBRARY,
        choices=[("button_same", payload)],
        params={"earlier_id": earlier_id,
                **_shown(step.flow, question, stored, step.person.locale)},
    )
    # Just before the question, so the question stays the last message: its options are
    # what a typed number picks (the console numbers the last message's buttons).
    step.replies.insert(len(step.replies) - 1, offer)


def _shown(flow: Flow, question: Question, stored: Any, locale: str) -> dict[str, Any]:
    """What the "last time" message needs to say the value (labels come from the flow)."""
    value = decode_value(stored)
    if isinstance(value, AgeValue):
        return {"kind": "age", "labels": [], "number": value.max_months, "raw": value.raw or ""}
    if isinstance(value, list):
        labels = [_label(flow, question, v, locale) for v in value]
        return {"kind": "choice", "labels": labels, "number": 0, "raw": ""}
    if question.item.options and isinstance(value, str):
        return {"kind": "choice", "labels": [_label(flow, question, value, locale)],
                "number": 0, "raw": ""}
    return {"kind": "text", "labels": [str(value)], "number": 0, "raw": ""}


def _label(flow: Flow, question: Question, value: str, locale: str) -> str:
    option = question.item.option(value)
    return flow.text(option.label, locale) if option is not None else value


def keep_previous(step: Step, arg: str) -> None:
    """The "same as last time" button: record last time's answer for the current question.

    Only while that question is the one being asked: a second tap, or a tap after moving
    on, finds another question at the cursor and changes nothing.
    """
    interview_id, _, tag = arg.partition(":")
    interview = step.interview
    question = step.cursor_question() if interview is not None else None
    if (
        interview is None
        or question is None
        or interview.id != interview_id
        or State(interview.state) is not State.ANSWERING
        or _tag(step, question) != tag
    ):
        step.say("stale")
        return
    found = previous_value(step, question)
    if found is None:
        step.say("stale")
        return
    step.record_button_answer(question, decode_value(found[1]))


def _tag(step: Step, question: Question) -> str:
    from bot.steps import question_tag  # bot.steps imports this module

    return question_tag(step.flow, question)


# -- the change report --------------------------------------------------------------------------


def add_change(step: Step, interview: InterviewRecord) -> None:
    """Beside a follow-up's full report: the change since the earlier interview."""
    if State(interview.state) is not State.SUBMITTED:
        return
    earlier_id = step.repo.follow_up_of(interview.id)
    earlier = step.repo.interview(earlier_id) if earlier_id else None
    # Only the owner's own earlier interview: a link never widens who sees what.
    if (
        earlier is None
        or earlier.owner_id != step.person.id
        or State(earlier.state) is not State.SUBMITTED
    ):
        return
    clinician.audit(step, "exported", "change", earlier.id)
    step.replies.append(
        Change(
            interview_id=interview.id,
            earlier_id=earlier.id,
            flow=interview.flow_key,
            earlier_flow=earlier.flow_key,
            nickname=interview.subject_nickname,
            then_rows=_rows(step, earlier),
            now_rows=_rows(step, interview),
            then_at=earlier.submitted_at or earlier.updated_at,
            at=step.now,
        )
    )


def _rows(step: Step, interview: InterviewRecord) -> list[ReviewRow]:
    flow = step.catalog.get(interview.flow_key)
    stored = step.repo.current_answers(interview.id)
    answers = decoded(stored)
    return [ReviewRow(key=q.key, value=stored[q.key][0])
            for q in questions(flow, answers) if q.key in stored]
