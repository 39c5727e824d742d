"""The review: change an answer by its number; send, confirmed, once nothing needed is missing."""

from __future__ import annotations

from bot.context import StepContext
from bot.intake.asking import ask, ask_current, missing_needed, show_review, to_review
from bot.payload import Action
from bot.replies import Submitted
from flows.lifecycle import Awaiting, Trigger
from messages.words import means_send, means_yes

#: Kept as the review's draft while "Send now?" waits for a typed yes or no.
SEND_PENDING = ["send?"]


def review_text(ctx: StepContext, text: str) -> None:
    """A typed word at the review: a row number to change, "send", or the answer to
    "Send now?" ("yes" sends, anything else does not)."""
    assert ctx.interview is not None
    word = text.strip().casefold()
    if ctx.interview.draft == SEND_PENDING:
        ctx.interview.draft = None
        ctx.touch()
        if means_yes(word, ctx.person.locale):
            submit(ctx)
            return
        if not (word.isdigit() or means_send(word, ctx.person.locale)):
            show_review(ctx)  # "not yet", or anything else: nothing was sent
            return
    if means_send(word, ctx.person.locale):
        ask_to_send(ctx)
    elif word.isdigit():
        edit_row(ctx, int(word) - 1)
    else:
        ctx.say("review_help")


def edit_command(ctx: StepContext, args: str) -> None:
    """`/edit N`: change answer number N of the review list."""
    number = args.strip()
    if not number.isdigit():
        ctx.say("edit_usage")
        return
    edit_row(ctx, int(number) - 1)


def edit_row(ctx: StepContext, index: int) -> None:
    """Ask the question of review row `index` again."""
    assert ctx.interview is not None
    enabled = ctx.enabled
    if not 0 <= index < len(enabled):
        ctx.say("no_such_row", count=len(enabled))
        return
    question = enabled[index]
    ctx.fire(Trigger.EDIT)
    ctx.interview.cursor = question.key
    ctx.interview.draft = None
    ctx.touch()
    ctx.event("editing", question.key)
    ask(ctx, question)


def go_to_review(ctx: StepContext) -> None:
    """The review list: after the skipped-questions offer, or "not yet" at sending."""
    assert ctx.interview is not None
    if ctx.interview.draft is not None:
        ctx.interview.draft = None  # "not yet": a typed "yes" later sends nothing
        ctx.touch()
    if ctx.awaits() is Awaiting.ANSWER:
        to_review(ctx)
    else:
        show_review(ctx)


def ask_to_send(ctx: StepContext) -> None:
    """"Send now?" with yes / not yet: sending is its own, confirmed step in every channel.

    If something needed is missing, or questions are still to come, say so instead.
    """
    assert ctx.interview is not None
    if ctx.fire(Trigger.FINISH):  # from the last question straight to sending
        ctx.touch()
    if not ctx.may(Trigger.SUBMIT):
        missing = missing_needed(ctx)
        if ctx.awaits() is Awaiting.REVIEW and missing:
            ctx.say("missing_required", count=len(missing))
            edit_row(ctx, [q.key for q in ctx.enabled].index(missing[0]))
        else:
            ctx.say("not_ready")
            ask_current(ctx)
        return
    ctx.interview.draft = SEND_PENDING  # a typed "yes" answers it too (every channel)
    ctx.touch()
    ctx.say(
        "send_confirm",
        [("send_now", ctx.payload(Action.SUBMIT, 1)), ("not_yet", ctx.payload(Action.REVIEW))],
    )


def submit(ctx: StepContext) -> None:
    """Send the answers (the confirmation was given); the lifecycle checks what is needed."""
    assert ctx.interview is not None
    if not ctx.fire(Trigger.SUBMIT):
        ctx.say("not_ready")
        ask_current(ctx)
        return
    ctx.interview.submitted_at = ctx.now
    ctx.interview.cursor = None
    ctx.interview.draft = None
    ctx.touch()
    ctx.event("submitted")
    ctx.replies.append(Submitted(interview_id=ctx.interview.id, flow=ctx.flow.key))
    for after in ctx.hooks.after_submit:
        after(ctx)
