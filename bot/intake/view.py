"""What the person sees now, read-only: the same replies the intake would show, no writes.

A web page is drawn again on every GET; showing it must not move the interview (no
`touch`, no events, no after-ask hooks), so this mirrors `asking.reorient` without the
writes. The buttons carry the interview's current revision, so they stay valid.
"""

from __future__ import annotations

from bot.context import StepContext
from bot.intake.asking import ask, offer_resume, show_consent, show_review
from bot.intake.review import SEND_PENDING
from bot.payload import Action
from flows.engine import next_question, revisit
from flows.lifecycle import Awaiting, State


def current(ctx: StepContext) -> None:
    """Append the replies that show where the person's interview stands."""
    if ctx.interview is None:
        return
    if not ctx.is_open():
        if ctx.state is State.SUBMITTED:
            ctx.say("already_submitted", [("start_new", ctx.payload(Action.FRESH))])
        return
    awaiting = ctx.awaits()
    if awaiting is Awaiting.CONSENT:
        show_consent(ctx)
    elif awaiting is Awaiting.RESUME:
        offer_resume(ctx)
    elif awaiting is Awaiting.REVIEW:
        _reviewing(ctx)
    else:
        _answering(ctx)


def _reviewing(ctx: StepContext) -> None:
    assert ctx.interview is not None
    if ctx.interview.draft != SEND_PENDING:
        show_review(ctx)
        return
    # "Send now?" is waiting: only the question, not the whole list above it again.
    ctx.say(
        "send_confirm",
        [("send_now", ctx.payload(Action.SUBMIT, 1)), ("not_yet", ctx.payload(Action.REVIEW))],
    )


def _answering(ctx: StepContext) -> None:
    question = ctx.cursor_question() or next_question(ctx.flow, ctx.answers, ctx.enabled)
    if question is not None:
        # replace=True: the after-ask hooks (offers) run only when a question is asked anew.
        ask(ctx, question, replace=True)
        return
    skipped = revisit(ctx.flow, ctx.answers, ctx.enabled)
    if skipped:
        ctx.say(
            "revisit_offer",
            [
                ("answer_skipped", ctx.payload(Action.REVISIT)),
                ("to_review", ctx.payload(Action.REVIEW)),
            ],
            count=len(skipped),
        )
    else:
        show_review(ctx)
