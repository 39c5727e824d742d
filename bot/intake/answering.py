"""Answering: typed and tapped answers, skip, back, the multiple-choice draft."""

from __future__ import annotations

from typing import Any

from bot.context import StepContext
from bot.intake.asking import Moment, advance, ask, ask_current, option_values
from bot.payload import Action, Payload, question_tag
from bot.replies import Answered, Problem
from flows.answers import Invalid, checked_selection, choice_value, encode_value
from flows.answers import parse_answer as parse_typed
from flows.engine import Answer, Question, enabled_options, previous_question
from flows.lifecycle import Awaiting, Trigger
from flows.schema import ItemType


def answer_typed(ctx: StepContext, text: str) -> None:
    """A typed answer to the question at the cursor: parsed, saved, or explained."""
    question = ctx.cursor_question()
    if question is None:
        advance(ctx)
        return
    options = enabled_options(ctx.flow, question, ctx.answers)
    value = parse_typed(question.item, text, options, ctx.person.locale)
    if isinstance(value, Invalid):
        problem(ctx, value, question)
        return
    save(ctx, question, value)


def problem(ctx: StepContext, invalid: Invalid, question: Question) -> None:
    """Say what was expected and ask the same question again; nothing is saved."""
    ctx.replies.append(Problem(code=invalid.code, params=invalid.params))
    ask(ctx, question)


def _append(ctx: StepContext, question: Question, value: Any) -> None:
    """Append one revision (None: a skip) at the next interview revision."""
    assert ctx.interview is not None
    ctx.interview.revision += 1
    ctx.uow.answers.append(
        ctx.interview.id,
        question.key,
        encode_value(value) if value is not None else None,
        revision=ctx.interview.revision,
        by=ctx.person.id,
        now=ctx.now,
    )
    ctx.saved += 1


def moment_of(previous: Answer | None) -> Moment:
    """Whether a question was new, answered before, or skipped before."""
    if previous is None:
        return Moment.NEXT
    return Moment.EDITED if previous.given else Moment.REVISITED


def save(ctx: StepContext, question: Question, value: Any) -> None:
    """Keep an answer (append-only) and move on."""
    previous = ctx.answers.get(question.key)
    _append(ctx, question, value)
    ctx.set_answer(question.key, Answer(value))
    edited = previous is not None and previous.value is not None
    ctx.event("edited" if edited else "answered", question.key)
    advance(ctx, moment=moment_of(previous))


def record_button_answer(ctx: StepContext, question: Question, value: Any) -> None:
    """A tapped answer: the question's message shows what was chosen, then save."""
    ctx.replies.append(Answered(flow=ctx.flow.key, key=question.key, value=encode_value(value)))
    save(ctx, question, value)


def skip(ctx: StepContext) -> None:
    """Leave the question at the cursor for now (a skip is a revision too)."""
    if not ctx.may(Trigger.SKIP):
        ctx.say("nothing_to_skip")
        return
    question = ctx.cursor_question()
    if question is None:
        advance(ctx)
        return
    previous = ctx.answers.get(question.key)
    _append(ctx, question, None)
    skips = previous.skips + 1 if previous and previous.value is None else 1
    ctx.set_answer(question.key, Answer(None, skips))
    ctx.event("skipped", question.key)
    if question.required and skips == 1:
        ctx.say("skipped_required")  # it will be offered again once every question was seen
    advance(ctx, moment=moment_of(previous))


def back(ctx: StepContext) -> None:
    """The question before the cursor (from the review: the last one)."""
    assert ctx.interview is not None
    current = None if ctx.awaits() is Awaiting.REVIEW else ctx.interview.cursor
    question = previous_question(ctx.flow, ctx.answers, current, ctx.enabled)
    if question is None:
        ctx.say("at_first_question")
        ask_current(ctx)
        return
    ctx.fire(Trigger.BACK)
    ctx.interview.cursor = question.key
    ctx.interview.draft = None
    ctx.touch()
    ask(ctx, question)


def answer_button(ctx: StepContext, payload: Payload) -> None:
    """An option, a tick of a multiple choice, or "Done" tapped on the current question."""
    assert ctx.interview is not None
    question = ctx.cursor_question()
    if question is None or question_tag(ctx.flow, question) != payload.tag:
        ctx.say("stale")
        return
    options = enabled_options(ctx.flow, question, ctx.answers)
    if payload.action is Action.DONE:
        result = checked_selection(ctx.interview.draft or [], options, ctx.person.locale)
        if isinstance(result, Invalid):
            problem(ctx, result, question)
        else:
            record_button_answer(ctx, question, result)
        return
    values = option_values(ctx, question)
    if payload.arg is None or not 0 <= payload.arg < len(values):
        ctx.say("stale")
        return
    value = values[payload.arg]
    if payload.action is Action.TOGGLE and question.item.type is ItemType.MULTI_CHOICE:
        toggle(ctx, question, value)
        return
    if question.item.type is ItemType.SCALE:
        record_button_answer(ctx, question, int(value))
        return
    checked = choice_value(question.item, value, options)
    if isinstance(checked, Invalid):
        problem(ctx, checked, question)
        return
    record_button_answer(ctx, question, checked)


def toggle(ctx: StepContext, question: Question, value: str) -> None:
    """Tick or untick one option of a multiple choice (kept as the interview's draft)."""
    assert ctx.interview is not None
    picked = list(ctx.interview.draft or [])
    option = question.item.option(value)
    if value in picked:
        picked.remove(value)
    elif option is not None and option.exclusive:
        picked = [value]  # "none of these" clears the others
    else:
        exclusive = {o.value for o in question.item.options if o.exclusive}
        picked = [v for v in picked if v not in exclusive] + [value]
    ctx.interview.draft = picked
    ctx.touch()
    ask(ctx, question, replace=True)
