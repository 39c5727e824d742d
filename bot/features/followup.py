"""Re-assessment: `/followup <id>`, and history offered back for one-tap confirmation."""

from __future__ import annotations

from typing import Any

from bot import caseload
from bot.context import Hooks, StepContext
from bot.model import Kind
from bot.payload import question_tag
from bot.replies import Say
from bot.router import Interest
from flows.answers import decode_value
from flows.engine import AgeValue, Question, Value, enabled_options, is_valid_value
from flows.lifecycle import State, Trigger
from flows.schema import Flow, ItemType
from store.records import InterviewRecord, Person

LIBRARY = "data.j2"
#: Button payload of "same as last time": `acc:same:<interview id>:<question tag>`.
SAME = "acc:same:"

#: Sections whose answers are history: they cannot have changed since the earlier
#: interview (only grown), so they are offered back for one-tap confirmation. Everything
#: else describes the child and the caregiver now and is asked afresh.
CARRIED: dict[str, frozenset[str]] = {
    "developmental_history": frozenset(
        {"background", "adversity", "adversity_detail", "connection_early", "connection_then"}
    ),
    "sample": frozenset({"family"}),
}


def may_see_earlier(person: Person, earlier: InterviewRecord) -> bool:
    """Last time's answers are shown to whoever owns or answered the earlier interview.

    A new respondent (another carer, say) answers afresh: the earlier answers were
    someone else's to give.
    """
    return person.id in (earlier.owner_id, earlier.respondent_id)


class FollowUps:
    """`/followup`, the "same as last time" button, and the offer after each carried question."""

    name = "followup"
    interest = Interest(commands=frozenset({"followup"}), buttons=(SAME,))

    def install(self, hooks: Hooks) -> None:
        hooks.after_ask.append(self.offer_previous)

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not inbound.private:
            return False
        if inbound.kind is Kind.CHOICE and inbound.payload.startswith(SAME):
            self.keep_previous(ctx, inbound.payload.removeprefix(SAME))
            return True
        if inbound.kind is Kind.COMMAND and inbound.payload == "followup":
            self.followup(ctx, inbound.args)
            return True
        return False

    @staticmethod
    def followup(ctx: StepContext, args: str) -> None:
        """`/followup <id>`: a new interview for the same child, linked to a submitted one."""
        if not caseload.require_clinician(ctx, "followup"):
            return
        if not args.strip():
            ctx.say("followup_usage", library=LIBRARY)
            return
        earlier = caseload.owned_interview(ctx, args, "followup")
        if earlier is None:
            return
        if ctx.uow.interviews.informant_of(earlier.id) is not None:
            # A second informant's form is not re-assessed on its own: ask them again with
            # /informant beside the family's new interview (docs/informants.md).
            ctx.say("informant_no_followup", library="informants.j2", interview_id=earlier.id)
            return
        if State(earlier.state) is not State.SUBMITTED:
            ctx.say("followup_not_submitted", library=LIBRARY, interview_id=earlier.id,
                    state=earlier.state)
            return
        # The newest version of the same flow: item ids are stable across versions, so the
        # history carries over item by item.
        flow = ctx.catalog.latest(earlier.flow_id)
        interview = ctx.uow.interviews.create(
            flow_id=flow.id,
            flow_version=flow.version,
            owner_id=ctx.person.id,
            respondent_id=None,
            nickname=earlier.subject_nickname,
            state=State.CONSENT.value,
            now=ctx.now,
        )
        ctx.uow.interviews.set_follow_up_of(interview.id, earlier.id)
        ctx.audit("created", flow.key, interview_id=interview.id)
        ctx.audit("follow_up", earlier.id, interview_id=interview.id)
        ctx.say("followup_created", library=LIBRARY, nickname=earlier.subject_nickname,
                earlier_id=earlier.id, interview_id=interview.id)
        caseload.invite(ctx, interview)

    # -- carrying answers over ---------------------------------------------------------------

    @staticmethod
    def previous_value(ctx: StepContext, question: Question) -> tuple[str, Any] | None:
        """(earlier interview id, stored value) to offer for this question, if any."""
        interview = ctx.interview
        if interview is None or question.section.id not in CARRIED.get(ctx.flow.id, frozenset()):
            return None
        earlier_id = ctx.uow.interviews.follow_up_of(interview.id)
        earlier = ctx.uow.interviews.get(earlier_id) if earlier_id else None
        if earlier is None or not may_see_earlier(ctx.person, earlier):
            return None
        stored = ctx.uow.answers.current(earlier.id).get(question.key)
        if stored is None or stored[0] is None:
            return None
        if not _fits(ctx, question, decode_value(stored[0])):
            return None  # the options have changed (the child is older): ask afresh
        return earlier.id, stored[0]

    def offer_previous(self, ctx: StepContext, question: Question) -> None:
        """After a carried-over question: "your answer last time: X" and a one-tap button."""
        assert ctx.interview is not None
        found = self.previous_value(ctx, question)
        if found is None:
            return
        earlier_id, stored = found
        # Named by interview and question, not revision: ticking options of a multiple
        # choice bumps the revision, and the button must still work until it is answered.
        payload = f"{SAME}{ctx.interview.id}:{question_tag(ctx.flow, question)}"
        offer = Say(
            message="last_time",
            library=LIBRARY,
            choices=[("button_same", payload)],
            params={"earlier_id": earlier_id,
                    **_shown(ctx.flow, question, stored, ctx.person.locale)},
        )
        # Just before the question, so the question stays the last message: its options
        # are what a typed number picks (the console numbers the last message's buttons).
        ctx.replies.insert(len(ctx.replies) - 1, offer)

    def keep_previous(self, ctx: StepContext, arg: str) -> None:
        """The "same as last time" button: record last time's answer for the current question.

        Only while that question is the one being asked: a second tap, or a tap after
        moving on, finds another question at the cursor and changes nothing.
        """
        interview_id, _, tag = arg.partition(":")
        interview = ctx.interview
        question = ctx.cursor_question() if interview is not None else None
        if (
            interview is None
            or question is None
            or interview.id != interview_id
            or not ctx.may(Trigger.ANSWER)
            or question_tag(ctx.flow, question) != tag
        ):
            ctx.say("stale")
            return
        found = self.previous_value(ctx, question)
        if found is None:
            ctx.say("stale")
            return
        assert ctx.conversation is not None
        ctx.conversation.record_answer(ctx, question, decode_value(found[1]))


def _fits(ctx: StepContext, question: Question, value: Value) -> bool:
    flow = ctx.flow
    if not is_valid_value(flow, question, value, ctx.answers):
        return False
    offered = {o.value for o in enabled_options(flow, question, ctx.answers)}
    if question.item.type in (ItemType.SINGLE_CHOICE, ItemType.YES_NO_UNKNOWN):
        return value in offered
    if question.item.type is ItemType.MULTI_CHOICE:
        return isinstance(value, list) and set(value) <= offered
    return True


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
