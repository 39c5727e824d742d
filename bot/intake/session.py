"""The interview's life around the questions: consent, pause, resume, start over, language."""

from __future__ import annotations

from bot.context import StepContext
from bot.intake.asking import (
    advance,
    ask_current,
    language_choices,
    new_interview,
    reorient,
    show_consent,
)
from bot.payload import Action
from bot.replies import Say
from flows.engine import progress
from flows.lifecycle import Awaiting, Trigger
from messages.render import LOCALES
from messages.words import language_named, means_agree


def consent_text(ctx: StepContext, text: str) -> None:
    """A typed answer to the consent: agreement, or the consent again."""
    if means_agree(text, ctx.person.locale):
        agree(ctx)
    else:
        ctx.say("consent_needed")
        show_consent(ctx)


def agree(ctx: StepContext, *, tapped: bool = False) -> None:
    """Consent given: record it and ask the first question."""
    assert ctx.interview is not None
    if tapped:
        # The consent message keeps a record of the agreement, and loses its buttons.
        ctx.replies.append(Say(message="consent_given", replace=True))
    ctx.fire(Trigger.AGREE)
    ctx.interview.consented = True
    ctx.event("consented")
    advance(ctx)


def pause(ctx: StepContext, trigger: Trigger = Trigger.PAUSE) -> None:
    """Stop for now (or "not now" at the consent); everything is kept."""
    if not ctx.fire(trigger):
        ctx.say("already_paused")
        return
    ctx.touch()
    ctx.event("paused")
    ctx.say("paused", answered=progress(ctx.flow, ctx.answers, None, ctx.enabled).answered)


def resume(ctx: StepContext) -> None:
    """Continue a paused interview where it stopped (at the consent if never given)."""
    if not ctx.fire(Trigger.RESUME):
        ask_current(ctx, welcome_back=True)
        return
    ctx.event("resumed")
    if ctx.awaits() is Awaiting.CONSENT:
        ctx.touch()
        show_consent(ctx)
        return
    ask_current(ctx, welcome_back=True)


def confirm_start_over(ctx: StepContext) -> None:
    """"Start again?" first: starting over withdraws the paused interview for good."""
    choices = [
        ("start_over_yes", ctx.payload(Action.FRESH, 1)),
        ("continue", ctx.payload(Action.CONTINUE)),
    ]
    ctx.say("start_over_confirm", choices)


def start_fresh(ctx: StepContext) -> None:
    """Withdraw the paused interview and begin a new one."""
    ctx.fire(Trigger.START_OVER)
    ctx.touch()
    ctx.event("withdrawn", "started over")
    new_interview(ctx)


def status(ctx: StepContext) -> None:
    """How far the interview is."""
    assert ctx.interview is not None
    done = progress(ctx.flow, ctx.answers, ctx.interview.cursor, ctx.enabled)
    ctx.say("status", state=ctx.state.value, answered=done.answered, total=done.total)


def language(ctx: StepContext, code: str) -> None:
    """Switch the person's language; answers are values, so nothing else changes."""
    code = code.strip().lower()[:24]
    code = language_named(code) or code  # "español", "English", "inglés" as well as "es"
    if not code:
        ctx.say("language_offer", language_choices(), current=ctx.person.locale)
        return
    if code not in LOCALES:
        ctx.say("language_unknown", codes=list(LOCALES))
        return
    ctx.person.locale = code
    ctx.uow.people.save(ctx.person)
    ctx.event("language", code)
    ctx.say("language_set", language=code)
    if ctx.is_open() and ctx.awaits() is not Awaiting.RESUME:
        reorient(ctx)

