"""Button payloads: short, deterministic, versioned, and checked before anything changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from flows.engine import Question
from flows.schema import Flow

#: Format version; a payload of another version is treated as stale, never guessed at.
VERSION = "1"
#: Telegram's limit for callback data.
MAX_BYTES = 64

_SHAPE = re.compile(r"^1:([A-Za-z0-9_-]{1,16}):(\d{1,9}):([0-9.]{1,12}|-):([a-z])(\d{0,4})$")


class Action(StrEnum):
    """What a button does."""

    OPTION = "o"  # answer with the option at `arg`
    TOGGLE = "t"  # tick/untick the option at `arg` (multiple choice)
    DONE = "d"  # finish a multiple choice
    SKIP = "k"
    BACK = "b"
    AGREE = "a"  # consent
    DECLINE = "x"  # consent: not now
    CONTINUE = "c"  # resume a paused interview
    FRESH = "f"  # start a new interview instead (asks first; with arg 1: confirmed)
    EDIT = "e"  # edit review row `arg`
    SUBMIT = "s"  # ask "send now?"; with arg 1: send (the confirmation's button)
    REVIEW = "r"  # show the review list (the skipped-questions offer, "not yet")
    REVISIT = "v"  # answer the skipped questions now


@dataclass(frozen=True)
class Payload:
    """A decoded button: which interview, at which revision, which question, what action."""

    interview_id: str
    revision: int
    tag: str  # the question's tag ("12" or "12.3" in a repeated section), "-" for none
    action: Action
    arg: int | None = None

    def encode(self) -> str:
        arg = "" if self.arg is None else str(self.arg)
        text = f"{VERSION}:{self.interview_id}:{self.revision}:{self.tag}:{self.action}{arg}"
        assert len(text.encode()) <= MAX_BYTES, text
        return text


class Encode(Protocol):
    """Builds one button's payload for a question (see `encoder`)."""

    def __call__(self, action: Action, arg: int | None = None) -> str: ...


def encoder(interview_id: str, revision: int, tag: str) -> Encode:
    """`Payload(interview_id, revision, tag, action, arg).encode()` for one question's
    buttons, the shared part built once (a keyboard has up to ~20 buttons)."""
    head = f"{VERSION}:{interview_id}:{revision}:{tag}:"

    def encode(action: Action, arg: int | None = None) -> str:
        # An Action is its letter (a StrEnum): added as it is, without the slower `.value`.
        text = head + action if arg is None else head + action + str(arg)
        assert len(text.encode()) <= MAX_BYTES, text
        return text

    return encode


def decode(text: str) -> Payload | None:
    """Parse a payload; None for anything malformed, forged or of another version."""
    match = _SHAPE.match(text)
    if match is None:
        return None
    interview_id, revision, tag, action, arg = match.groups()
    try:
        kind = Action(action)
    except ValueError:
        return None
    return Payload(interview_id, int(revision), tag, kind, int(arg) if arg else None)


def question_tag(flow: Flow, question: Question) -> str:
    """A short, stable name for a question inside a flow version (for button payloads)."""
    tag = str(flow.position(question.item.id))
    if question.repeat_value is not None and question.section.repeat_for:
        source = flow.item(question.section.repeat_for)
        values = [o.value for o in source.options]
        tag += f".{values.index(question.repeat_value)}"
    return tag
