"""The safety net and low exposure, as a feature: after every private step, and `/lowexposure`."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from bot.access import is_clinician
from bot.context import Hooks, StepContext
from bot.model import Inbound, Kind
from bot.replies import Say
from bot.router import Interest
from bot.safety import LIBRARY, MAX_KEPT_CHARS, SafetyNet
from flows.lifecycle import Awaiting, Trigger
from messages.words import (
    language_named,
    means_agree,
    means_done,
    means_send,
    means_yes,
    switch,
)

if TYPE_CHECKING:
    from bot.danger import Verdict

#: A clinician's commands whose words are clinical text about a family (plan.py, ratings.py):
#: what a note records ("father hit her") is not the clinician in danger.
CLINICAL_TEXT = frozenset({"note", "nota", "plan", "rate", "valorar", "unrate", "retirar"})


def said(inbound: Inbound) -> str:
    """The words a person wrote in this event (typed text, or a command's arguments)."""
    if inbound.kind is Kind.TEXT:
        return inbound.payload
    if inbound.kind is Kind.COMMAND:
        return inbound.args
    return ""


class Safety:
    """Answers danger at once, whatever feature took the message; marks saved typed answers
    for deletion when the person asked for low exposure."""

    name = "safety"
    interest = Interest(commands=frozenset({"lowexposure"}))

    def __init__(self, net: SafetyNet | None) -> None:
        self.net = net

    def install(self, hooks: Hooks) -> None:
        hooks.after_step.append(self.after_step)

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if inbound.private and inbound.kind is Kind.COMMAND and inbound.payload == "lowexposure":
            self.low_exposure(ctx, inbound.args)
            return True
        return False

    def after_step(self, ctx: StepContext) -> None:
        inbound = ctx.inbound
        if not inbound.private:
            return
        saved = ctx.saved > 0
        # A typed answer is never the /lowexposure command: the option as the step began.
        arrival = ctx.arrival
        low = (arrival.low_exposure if arrival is not None
               else ctx.uow.people.low_exposure(ctx.person.id))
        if inbound.kind is Kind.TEXT and saved and low:
            ctx.redact_inbound = True
        text = said(inbound)
        if self.net is None or not text.strip():
            return
        if (inbound.kind is Kind.COMMAND and inbound.payload in CLINICAL_TEXT
                and is_clinician(ctx.person)):
            return
        text = words_of(inbound, text)
        if not text or only_an_answer_word(text, ctx.person.locale):
            return
        verdict = self.net.check(text, ctx.person.locale)
        from bot.danger import Kind as VerdictKind  # loaded by the check above

        if verdict.kind is VerdictKind.DANGER:
            self.respond_to_danger(ctx, saved=saved, note=self.note(verdict, text))
        elif verdict.kind is VerdictKind.DISCLOSURE and ctx.interview is not None:
            # Harm that is over: what a developmental history asks about. The interview
            # goes on; the clinician sees it marked in the report.
            ctx.event("safety_disclosure", self.note(verdict, text))

    @staticmethod
    def note(verdict: Verdict, text: str) -> str:
        """What the clinician is shown: the concern, who, and the words (sealed at rest)."""
        return json.dumps(
            {"concern": verdict.concern, "who": verdict.who, "message": text[:MAX_KEPT_CHARS]},
            ensure_ascii=False,
        )

    def respond_to_danger(self, ctx: StepContext, *, saved: bool, note: str) -> None:
        """Support contacts first and alone; pause the interview; flag it for its clinician."""
        assert self.net is not None
        paused = False
        if ctx.interview is not None:
            if ctx.may(Trigger.PAUSE):
                paused = ctx.fire(Trigger.PAUSE)
                ctx.touch()
                ctx.event("paused", "safety")
            else:
                paused = ctx.awaits() is Awaiting.RESUME
        # With the words, for the clinician's report; sealed with the key like every answer.
        ctx.event("safety_flag", note)
        # The next question would read as if nothing had happened: it gives way to the help.
        ctx.replies[:] = [
            Say(
                message="support",
                library=LIBRARY,
                params={"contacts": list(self.net.contacts), "saved": saved, "paused": paused},
            )
        ]
        if ctx.interview is not None and ctx.interview.owner_id != ctx.person.id:
            ctx.notify_owner("clinician_flag", LIBRARY)

    @staticmethod
    def low_exposure(ctx: StepContext, args: str) -> None:
        """`/lowexposure on|off`: delete typed answers from the chat once saved, or stop."""
        wanted = switch(args.strip(), ctx.person.locale)
        people = ctx.uow.people
        if wanted is True:
            people.set_low_exposure(ctx.person.id, True)
            ctx.event("low_exposure", "on")
            ctx.say("low_exposure_on", library=LIBRARY)
        elif wanted is False:
            people.set_low_exposure(ctx.person.id, False)
            ctx.event("low_exposure", "off")
            ctx.say("low_exposure_off", library=LIBRARY)
        else:
            ctx.say("low_exposure_usage", library=LIBRARY, on=people.low_exposure(ctx.person.id))


def only_an_answer_word(text: str, locale: str) -> bool:
    """Whether the message is wholly one word a person types to answer: "yes", "I agree",
    "done", "send", "on", a language's name, a number (exact, after folding; the locale's
    words.yaml). Such a message says nothing the danger net could find; not checking it
    keeps the net's first load (~0.3 s) off the consent's "yes" in `hearth chat`."""
    if text.strip().isdigit():
        return True
    return (means_agree(text, locale) or means_yes(text, locale) or means_done(text, locale)
            or means_send(text, locale) or switch(text, locale) is not None
            or language_named(text) is not None)


#: A token that is an id or a code, not a word: 8+ letters, digits, "-" or "_", with a digit
#: or a capital inside (interview ids, invitation and sign-in tokens, resume codes).
_CODE_LIKE = re.compile(r"(?=[A-Za-z0-9_-]*(?:[0-9]|[a-z][A-Z]))[A-Za-z0-9_-]{8,}")


def words_of(inbound: Inbound, text: str) -> str:
    """What the net reads of this event: a command's arguments without its ids and codes.

    Ids and codes are random letters and digits, which the character model can mistake for
    danger (it called 1 in 40,000 resume codes and 1 in 20,000 interview ids danger; a test
    drawing codes at random found it). A resume code after `continue`/`continuar` is dropped
    whatever its letters; typed text is read whole.
    """
    if inbound.kind is not Kind.COMMAND:
        return text
    from bot.features.resume import normalised  # (resume imports nothing of safety)

    if inbound.payload in ("continue", "resume") and normalised(text) is not None:
        return ""
    return " ".join(word for word in text.split() if not _CODE_LIKE.fullmatch(word))
