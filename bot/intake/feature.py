"""The intake feature: the interview itself, last in the router's list, taking what is left."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.context import StepContext
from bot.intake import answering, asking, review, session
from bot.model import COMMANDS, Kind
from bot.payload import Action, Payload, decode
from bot.router import EVERYTHING
from flows.engine import Question, revisit
from flows.lifecycle import Awaiting, State, Trigger
from store.records import InterviewRecord

Move = Callable[[StepContext], None]

#: Commands that move the interview, each with the lifecycle trigger that must allow it.
_MOVES: dict[str, tuple[Trigger, Move]] = {
    "back": (Trigger.BACK, answering.back),
    "skip": (Trigger.SKIP, answering.skip),
    "review": (Trigger.REVIEW, asking.show_review),
    "submit": (Trigger.REVIEW, review.ask_to_send),
}

#: Buttons of the interview's messages, each with the trigger that must allow it.
_BUTTONS: dict[Action, Trigger] = {
    Action.AGREE: Trigger.AGREE,
    Action.DECLINE: Trigger.DECLINE,
    Action.CONTINUE: Trigger.RESUME,
    Action.FRESH: Trigger.START_OVER,
    Action.EDIT: Trigger.EDIT,
    Action.SUBMIT: Trigger.SUBMIT,
    Action.BACK: Trigger.BACK,
    Action.SKIP: Trigger.SKIP,
    Action.OPTION: Trigger.ANSWER,
    Action.TOGGLE: Trigger.ANSWER,
    Action.DONE: Trigger.ANSWER,
    Action.REVIEW: Trigger.REVIEW,
    Action.REVISIT: Trigger.ANSWER,
}


class Intake:
    """Starts, asks, records, reviews and submits interviews; also the `Conversation` port."""

    name = "intake"
    interest = EVERYTHING

    def handle(self, ctx: StepContext) -> bool:
        kind, payload = ctx.inbound.kind, ctx.inbound.payload
        if kind is Kind.COMMAND:
            self.command(ctx, payload, ctx.inbound.args)
        elif kind is Kind.CHOICE:
            self.choice(ctx, payload)
        else:
            self.text(ctx, payload)
        return True

    # -- the Conversation port ---------------------------------------------------------------

    def take_up(self, ctx: StepContext, interview: InterviewRecord) -> None:
        """Make an interview this person's active one and show where it stopped."""
        ctx.person.active_interview = interview.id
        ctx.uow.people.save(ctx.person)
        ctx.switch_to(interview)
        awaiting = ctx.awaits()
        if awaiting is Awaiting.CONSENT:
            ctx.touch()
            asking.show_consent(ctx)
        elif awaiting is Awaiting.RESUME:
            session.resume(ctx)
        else:
            asking.ask_current(ctx, welcome_back=True)

    def record_answer(self, ctx: StepContext, question: Question, value: Any) -> None:
        answering.record_button_answer(ctx, question, value)

    # -- what arrived ----------------------------------------------------------------------------

    def command(self, ctx: StepContext, name: str, args: str) -> None:
        if name == "start":
            asking.start(ctx)
        elif name == "language":
            session.language(ctx, args)
        elif name == "help":
            ctx.say("help")
        elif name not in COMMANDS:
            # Said before "no interview" or "paused": the person typed something we don't know.
            ctx.say("unknown_command", commands=sorted(COMMANDS))
        elif not ctx.is_open():
            ctx.say("goodbye" if name == "quit" else "no_interview")
        elif name == "status":
            session.status(ctx)
        elif name in ("pause", "quit"):
            session.pause(ctx)
        elif name == "resume":
            session.resume(ctx)
        elif ctx.awaits() in (Awaiting.RESUME, Awaiting.CONSENT):
            asking.reorient(ctx)
        elif name == "edit":
            review.edit_command(ctx, args)
        elif name in _MOVES:
            trigger, move = _MOVES[name]
            if ctx.may(trigger):
                move(ctx)
            elif name == "skip":
                ctx.say("nothing_to_skip")
            else:
                asking.reorient(ctx)
        else:
            ctx.say("unknown_command", commands=sorted(COMMANDS))

    def text(self, ctx: StepContext, text: str) -> None:
        if not ctx.is_open():
            ctx.say("no_interview")
            return
        awaiting = ctx.awaits()
        if awaiting is Awaiting.RESUME:
            asking.offer_resume(ctx)
        elif awaiting is Awaiting.CONSENT:
            session.consent_text(ctx, text)
        elif awaiting is Awaiting.REVIEW:
            review.review_text(ctx, text)
        else:
            answering.answer_typed(ctx, text)

    def choice(self, ctx: StepContext, raw: str) -> None:
        if raw.startswith(asking.LANGUAGE_PREFIX):
            session.language(ctx, raw.removeprefix(asking.LANGUAGE_PREFIX))
            return
        payload = decode(raw)
        interview = ctx.interview
        if (
            payload is None
            or interview is None
            or payload.interview_id != interview.id
            or payload.revision != interview.revision
        ):
            ctx.say("stale")
            return
        if payload.action is Action.FRESH and ctx.state is State.SUBMITTED:
            # The one button a sent interview still answers: begin a new one.
            asking.new_interview(ctx)
        elif ctx.may(_BUTTONS[payload.action]):
            self.button(ctx, payload)
        else:
            ctx.say("stale")

    @staticmethod
    def button(ctx: StepContext, payload: Payload) -> None:
        action = payload.action
        if action is Action.AGREE:
            session.agree(ctx, tapped=True)
        elif action is Action.DECLINE:
            session.pause(ctx, Trigger.DECLINE)
        elif action is Action.CONTINUE:
            session.resume(ctx)
        elif action is Action.FRESH:
            if payload.arg == 1:
                session.start_fresh(ctx)
            else:
                session.confirm_start_over(ctx)
        elif action is Action.EDIT:
            if payload.arg is None:
                ctx.say("stale")
            else:
                review.edit_row(ctx, payload.arg)
        elif action is Action.SUBMIT:
            if payload.arg == 1:
                review.submit(ctx)
            else:
                review.ask_to_send(ctx)
        elif action is Action.REVIEW:
            review.go_to_review(ctx)
        elif action is Action.REVISIT:
            skipped = revisit(ctx.flow, ctx.answers, ctx.enabled)
            if skipped:
                asking.move_to(ctx, skipped[0])
            else:
                asking.to_review(ctx)
        elif action is Action.BACK:
            answering.back(ctx)
        elif action is Action.SKIP:
            answering.skip(ctx)
        else:
            answering.answer_button(ctx, payload)
