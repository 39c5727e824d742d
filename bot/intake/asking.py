"""Moving through an interview and showing where it stands: consent, questions, review."""

from __future__ import annotations

from enum import StrEnum

from bot.context import StepContext
from bot.payload import Action
from bot.replies import Ask, Review, ReviewRow
from flows.answers import encode_value
from flows.engine import (
    Question,
    enabled_options,
    next_question,
    progress,
    question_at,
    revisit,
    stage,
)
from flows.engine import missing_needed as engine_missing_needed
from flows.lifecycle import Awaiting, State, Trigger
from flows.schema import ItemType
from messages.render import LOCALES

#: Payload of a language button: not tied to an interview, valid at any time.
LANGUAGE_PREFIX = "lang:"


def language_choices(exclude: str | None = None) -> list[tuple[str, str]]:
    """One button per language (label macro, payload), without `exclude`."""
    return [(f"lang_{code}", f"{LANGUAGE_PREFIX}{code}") for code in LOCALES if code != exclude]


def start(ctx: StepContext) -> None:
    """`/start`: where the open interview stands, the last one sent, or a new one."""
    if ctx.is_open():
        reorient(ctx, welcome_back=True)
        return
    if ctx.interview is not None and ctx.state is State.SUBMITTED:
        # Say the last one was sent (a kill may have hidden that reply) before a new one.
        ctx.say("already_submitted", [("start_new", ctx.payload(Action.FRESH))])
        return
    new_interview(ctx)


def new_interview(ctx: StepContext) -> None:
    """A fresh interview on the default flow, owned and answered by this person."""
    flow = ctx.catalog.latest(ctx.catalog.default_flow)
    interview = ctx.uow.interviews.create(
        flow_id=flow.id,
        flow_version=flow.version,
        owner_id=ctx.person.id,
        respondent_id=ctx.person.id,
        nickname=None,
        state=State.CONSENT.value,
        now=ctx.now,
    )
    ctx.switch_to(interview)
    ctx.person.active_interview = interview.id
    ctx.uow.people.save(ctx.person)
    ctx.event("created", flow.key)
    show_consent(ctx)


def reorient(ctx: StepContext, *, welcome_back: bool = False) -> None:
    """Show what the interview waits for (the lifecycle says what that is)."""
    awaiting = ctx.awaits()
    if awaiting is Awaiting.CONSENT:
        show_consent(ctx)
    elif awaiting is Awaiting.RESUME:
        offer_resume(ctx)
    elif awaiting in (Awaiting.ANSWER, Awaiting.REVIEW):
        ask_current(ctx, welcome_back=welcome_back)
    else:
        ctx.say("no_interview")


def show_consent(ctx: StepContext) -> None:
    """The consent, with agree / not now, and the other languages under it."""
    ctx.say(
        "consent",
        [
            ("agree", ctx.payload(Action.AGREE)),
            ("not_now", ctx.payload(Action.DECLINE)),
            *language_choices(exclude=ctx.person.locale),
        ],
        flow=ctx.flow.key,
    )


def offer_resume(ctx: StepContext) -> None:
    """A paused interview: how far it got, continue or start over."""
    done = progress(ctx.flow, ctx.answers, None, ctx.enabled)
    ctx.say(
        "resume_offer",
        [("continue", ctx.payload(Action.CONTINUE)), ("start_over", ctx.payload(Action.FRESH))],
        answered=done.answered,
        total=done.total,
    )


class Moment(StrEnum):
    """What just happened, which decides where `advance` goes once every question was seen."""

    NEXT = "next"  # a question seen for the first time was answered or skipped
    EDITED = "edited"  # an answer given before was changed
    REVISITED = "revisited"  # a skipped question, offered again, was answered or skipped


def ask_current(ctx: StepContext, *, welcome_back: bool = False) -> None:
    """Ask the question at the cursor if still enabled; otherwise move on (or show review)."""
    assert ctx.interview is not None
    if ctx.awaits() is Awaiting.REVIEW:
        ctx.interview.draft = None  # back at the list: a pending "Send now?" lapses
        ctx.touch()
        show_review(ctx)
        return
    cursor = ctx.interview.cursor
    question = question_at(ctx.flow, ctx.answers, cursor) if cursor else None
    if question is None:
        advance(ctx, welcome_back=welcome_back)
        return
    ctx.touch()
    ask(ctx, question, welcome_back=welcome_back)


def advance(
    ctx: StepContext, *, welcome_back: bool = False, moment: Moment = Moment.NEXT
) -> None:
    """Move the cursor to the next question never seen; once none is left, to the
    skipped ones (if the person chooses), then to the review."""
    assert ctx.interview is not None
    question = next_question(ctx.flow, ctx.answers, ctx.enabled)
    ctx.interview.draft = None
    if question is not None:
        if ctx.awaits() is Awaiting.REVIEW:
            ctx.fire(Trigger.EDIT)
        move_to(ctx, question, welcome_back=welcome_back)
        return
    skipped = revisit(ctx.flow, ctx.answers, ctx.enabled)
    if skipped and moment is Moment.REVISITED:
        move_to(ctx, skipped[0])
    elif skipped and moment is Moment.NEXT and ctx.awaits() is Awaiting.ANSWER:
        offer_revisit(ctx, len(skipped))
    else:
        to_review(ctx, compact=moment is Moment.EDITED)


def move_to(ctx: StepContext, question: Question, *, welcome_back: bool = False) -> None:
    """Put the cursor on `question` and ask it."""
    assert ctx.interview is not None
    ctx.interview.cursor = question.key
    ctx.touch()
    ask(ctx, question, welcome_back=welcome_back)


def offer_revisit(ctx: StepContext, count: int) -> None:
    """Every question was seen: the skipped important ones now, or the review without them."""
    assert ctx.interview is not None
    ctx.interview.cursor = None
    ctx.touch()
    choices = [
        ("answer_skipped", ctx.payload(Action.REVISIT)),
        ("to_review", ctx.payload(Action.REVIEW)),
    ]
    ctx.say("revisit_offer", choices, count=count)


def to_review(ctx: StepContext, *, compact: bool = False) -> None:
    """Finish answering and show the review; after an edit, a short word instead of the list."""
    assert ctx.interview is not None
    if not ctx.fire(Trigger.FINISH) and ctx.awaits() is Awaiting.ANSWER:
        ask_current(ctx)  # questions never seen are left: the review waits for them
        return
    ctx.interview.cursor = None
    ctx.interview.draft = None
    ctx.touch()
    if compact and ctx.awaits() is Awaiting.REVIEW:
        missing = missing_needed(ctx)
        choices = [] if missing else [("submit", ctx.payload(Action.SUBMIT))]
        choices.append(("show_answers", ctx.payload(Action.REVIEW)))
        ctx.say("review_return", choices, missing=len(missing))
    else:
        show_review(ctx)


def ask(
    ctx: StepContext, question: Question, *, welcome_back: bool = False, replace: bool = False
) -> None:
    """Ask one question (with its current answer, if any), then run the after-ask hooks."""
    assert ctx.interview is not None
    where = progress(ctx.flow, ctx.answers, question.key, ctx.enabled)
    at = stage(ctx.flow, ctx.answers, question.key, ctx.enabled)
    answer = ctx.answers.get(question.key)
    current = encode_value(answer.value) if answer and answer.value is not None else None
    ctx.replies.append(
        Ask(
            interview_id=ctx.interview.id,
            flow=ctx.flow.key,
            key=question.key,
            revision=ctx.interview.revision,
            position=where.position,
            total=where.total,
            section=at.section,
            sections=at.sections,
            left_here=at.left_here,
            minutes_left=at.minutes_left,
            options=option_values(ctx, question),
            selected=ctx.interview.draft or [],
            current=current,
            replace=replace,
            welcome_back=welcome_back,
        )
    )
    if not replace:
        for after in ctx.hooks.after_ask:
            after(ctx, question)


def option_values(ctx: StepContext, question: Question) -> list[str]:
    """The values a question's buttons stand for, in the order shown."""
    if question.item.type is ItemType.SCALE:
        low, high = int(question.item.min or 0), int(question.item.max or 0)
        return [str(point) for point in range(low, high + 1)]
    return [o.value for o in enabled_options(ctx.flow, question, ctx.answers)]


def missing_needed(ctx: StepContext) -> list[str]:
    """Keys of the enabled questions the answers cannot be sent without, unanswered."""
    return [q.key for q in engine_missing_needed(ctx.flow, ctx.answers, ctx.enabled)]


def show_review(ctx: StepContext) -> None:
    """The list of answers, each with its own number; with a send button once nothing
    needed is missing. Mid-way (`review` while answering) it lists only what was reached."""
    assert ctx.interview is not None
    early = ctx.awaits() is not Awaiting.REVIEW
    rows = [
        ReviewRow(
            key=q.key,
            value=encode_value(a.value)
            if (a := ctx.answers.get(q.key)) and a.value is not None
            else None,
            number=number,
        )
        for number, q in enumerate(ctx.enabled, start=1)
        if not early or q.key in ctx.answers
    ]
    missing = missing_needed(ctx)
    can_submit = not early and not missing
    ctx.replies.append(
        Review(
            interview_id=ctx.interview.id,
            flow=ctx.flow.key,
            revision=ctx.interview.revision,
            rows=rows,
            missing=missing,
            can_submit=can_submit,
            early=early,
        )
    )
    if can_submit:
        ctx.say("review_actions", [("submit", ctx.payload(Action.SUBMIT))])
