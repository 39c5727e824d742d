"""The safety net and the low-exposure option, wrapped around one step of a conversation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import yaml

from bot.clinician import notify_owner
from bot.model import Inbound, Kind
from bot.replies import Outcome, Say
from flows.lifecycle import State, Trigger
from messages.render import LOCALES, messages_dir

if TYPE_CHECKING:
    from bot.steps import Step

LIBRARY = "safety.j2"

_MARKS = re.compile(r"[\u0300-\u036f]")
_NOT_WORD = re.compile(r"[^\w\s]|_")


def fold(text: str) -> str:
    """Lower case, no accents, punctuation and apostrophes as spaces ("he's" -> "he s")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join(_NOT_WORD.sub(" ", _MARKS.sub("", decomposed)).split())


def _split(text: str, separator: str) -> list[str]:
    """Split at `separator` outside parentheses, dropping empty pieces between spaces."""
    pieces, depth, current = [], 0, ""
    for char in text:
        if char == separator and depth == 0:
            pieces.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    pieces.append(current)
    return [p for p in pieces if p] if separator == " " else pieces


def _pattern(phrase: str) -> str:
    """Translate the small phrase language of safety.yaml into a regular expression.

    Every word consumes the space after it (the text is padded with one at each end), so
    optional words and nested alternatives need no special spacing.
    """
    parts: list[str] = []
    for word in _split(phrase.strip(), " "):
        optional = word.endswith("?")
        word = word.removesuffix("?")
        if word == "*":
            regex = r"\w+ "
        elif word.startswith("(") and word.endswith(")"):
            choices = _split(word[1:-1], "|")
            regex = "(?:" + "|".join(_pattern(choice) for choice in choices) + ")"
        else:
            regex = re.escape(fold(word) + " ")
        parts.append(f"(?:{regex})?" if optional else regex)
    return "".join(parts)


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str]:
    """One pattern for a list of phrases, matched on whole words of folded text."""
    body = "|".join(f"(?:{_pattern(p)})" for p in phrases)
    return re.compile(rf" (?:{body})")


@cache
def phrases_of(locale: str) -> tuple[str, ...]:
    """The phrases in messages/<locale>/safety.yaml (none if the locale has no list)."""
    path = messages_dir() / locale / "safety.yaml"
    if not path.exists():
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(str(p) for p in data.get("phrases", []))


@dataclass(frozen=True)
class SafetyNet:
    """What counts as a sign of danger now, and whom to point a person to.

    `contacts` come from the deployment (HEARTH_SAFETY_CONTACTS): a service that knows
    its country names its helplines; without them the message says only to call the
    local emergency number, because a wrong number in a crisis is worse than none.
    """

    contacts: tuple[str, ...] = ()
    locales: Sequence[str] = LOCALES
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Every locale's phrases are checked: people write in the language that comes.
        phrases = [p for locale in self.locales for p in phrases_of(locale)]
        object.__setattr__(self, "_pattern", compile_phrases(phrases))

    def in_danger(self, text: str) -> bool:
        """Whether the text matches a phrase suggesting danger now."""
        folded = fold(text)
        return bool(folded) and self._pattern.search(f" {folded} ") is not None


def said(inbound: Inbound) -> str:
    """The words a person wrote in this event (typed text, or a command's arguments)."""
    if inbound.kind is Kind.TEXT:
        return inbound.payload
    if inbound.kind is Kind.COMMAND:
        return inbound.args
    return ""


def guard(step: Step, net: SafetyNet | None) -> Outcome:
    """Run a step; then answer danger at once, and mark a saved typed answer for deletion.

    Both look at what the step did (was an answer saved?) rather than changing how it
    does it, so the step's own logic stays as it is.
    """
    inbound = step.inbound
    danger = net is not None and inbound.private and net.in_danger(said(inbound))
    redact = (
        inbound.kind is Kind.TEXT and inbound.private and step.repo.low_exposure(step.person.id)
    )
    before_id = step.person.active_interview
    before = step.repo.answer_count(before_id) if (danger or redact) and before_id else 0
    outcome = step.run()
    if not (danger or redact):
        return outcome
    interview = step.interview
    saved = (
        interview is not None
        and interview.id == before_id
        and step.repo.answer_count(interview.id) > before
    )
    if danger:
        assert net is not None
        respond_to_danger(step, net, saved=saved)
    return Outcome(
        locale=step.person.locale,
        replies=step.replies,
        redact_inbound=redact and saved,
    )


def respond_to_danger(step: Step, net: SafetyNet, *, saved: bool) -> None:
    """Support contacts first and alone; pause the interview; flag it for its clinician."""
    interview = step.interview
    paused = False
    if interview is not None and State(interview.state) in (
        State.CONSENT,
        State.ANSWERING,
        State.REVIEW,
    ):
        paused = step.fire(Trigger.PAUSE)
        if paused:
            step.touch()
            step.event("paused", "safety")
    elif interview is not None and State(interview.state) is State.PAUSED:
        paused = True
    # The audit trail records that the net caught something, never what was written.
    step.event("safety_flag")
    # The next question would read as if nothing had happened: it gives way to the help.
    step.replies[:] = [
        Say(
            message="support",
            library=LIBRARY,
            params={"contacts": list(net.contacts), "saved": saved, "paused": paused},
        )
    ]
    if interview is not None and interview.owner_id != step.person.id:
        notify_owner(step, "clinician_flag", LIBRARY)


def low_exposure_command(step: Step, args: str) -> None:
    """`/lowexposure on|off`: delete typed answers from the chat once saved, or stop."""
    word = args.strip().casefold()
    if word in ("on", "yes", "si", "sí"):
        step.repo.set_low_exposure(step.person.id, True)
        step.event("low_exposure", "on")
        step.replies.append(Say(message="low_exposure_on", library=LIBRARY))
    elif word in ("off", "no"):
        step.repo.set_low_exposure(step.person.id, False)
        step.event("low_exposure", "off")
        step.replies.append(Say(message="low_exposure_off", library=LIBRARY))
    else:
        on = step.repo.low_exposure(step.person.id)
        step.replies.append(Say(message="low_exposure_usage", library=LIBRARY, params={"on": on}))
