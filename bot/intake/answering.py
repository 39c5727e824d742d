"""Answering: typed and tapped answers, skip, back, the multiple-choice draft."""

from __future__ import annotations

from typing import Any

from bot.context import StepContext
from bot.intake.asking import Moment, advance, ask, ask_current, option_values
from bot.payload import Action, Payload, question_tag
from bot.replies import Answered, Problem
from flows.answers import Invalid, Unsure, checked_selection, choice_value, encode_value
from flows.answers import parse_answer as parse_typed
from flows.engine import AgeValue, Answer, Question, enabled_options, previous_question
from flows.lifecycle import Awaiting, Trigger
from flows.schema import ItemType
from messages.words import means_done, typed_words


def answer_typed(ctx: StepContext, text: str) -> None:
    """A typed answer to the question at the cursor: parsed, saved, or explained."""
    question = ctx.cursor_question()
    if question is None:
        advance(ctx)
        return
    options = enabled_options(ctx.flow, question, ctx.answers)
    locale = ctx.person.locale
    if question.item.type is ItemType.MULTI_CHOICE and means_done(text, locale):
        finish_selection(ctx, question)  # "done" typed, as tapping Done
        return
    value = parse_typed(
        question.item, text, options, locale,
        words=typed_words(locale), child_age_months=child_age_months(ctx),
    )
    if isinstance(value, Unsure):
        did_you_mean(ctx, value, question)
        return
    if isinstance(value, Invalid):
        problem(ctx, value, question)
        return
    save(ctx, question, value)


def child_age_months(ctx: StepContext) -> float | None:
    """The upper end of the child's age, as the engine reads which periods were reached."""
    for answer in ctx.answers.values():
        if isinstance(answer.value, AgeValue):
            return float(answer.value.max_months)
    return None


def did_you_mean(ctx: StepContext, unsure: Unsure, question: Question) -> None:
    """The words fit a few options: a button for each, then the question again."""
    assert ctx.interview is not None
    values = option_values(ctx, question)
    action = Action.TOGGLE if question.item.type is ItemType.MULTI_CHOICE else Action.OPTION
    tag = question_tag(ctx.flow, question)
    choices = [
        (f"option:{value}", ctx.payload(action, values.index(value), tag))
        for value in unsure.candidates
        if value in values
    ]
    ctx.replies.append(
        Problem(
            code=unsure.code, params=unsure.params, choices=choices,
            flow=ctx.flow.key, key=question.key,
        )
    )
    ask(ctx, question)


def problem(ctx: StepContext, invalid: Invalid, question: Question) -> None:
    """Say what was expected and ask the same question again; nothing is saved."""
    ctx.replies.append(Problem(code=invalid.code, params=invalid.params))
    ask(ctx, question)


def _append(ctx: StepContext, question: Question, value: Any) -> None:
    """Append one revision (None: a skip) at the next interview revision."""
    assert ctx.interview is not None
    ctx.interview.revision += 1
    row = ctx.uow.answers.append(
        ctx.interview.id,
        question.key,
        encode_value(value) if value is not None else None,
        revision=ctx.interview.revision,
        by=ctx.person.id,
        now=ctx.now,
    )
    ctx.appended(row)
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
        finish_selection(ctx, question)
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


def finish_selection(ctx: StepContext, question: Question) -> None:
    """The ticked options of a multiple choice become its answer ("Done")."""
    assert ctx.interview is not None
    options = enabled_options(ctx.flow, question, ctx.answers)
    result = checked_selection(ctx.interview.draft or [], options, ctx.person.locale)
    if isinstance(result, Invalid):
        problem(ctx, result, question)
    else:
        record_button_answer(ctx, question, result)


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
