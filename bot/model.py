"""What crosses the service boundary: `Inbound` events in, `Outbound` messages out."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

#: The interview's words and commands; adapters map their own spelling onto these.
COMMANDS = frozenset(
    {
        "start", "back", "skip", "pause", "resume", "review", "edit", "submit", "help",
        "status", "quit", "lowexposure", "language",
    }
)


class Kind(StrEnum):
    """What arrived."""

    TEXT = "text"  # something typed
    CHOICE = "choice"  # a button pressed (payload = the button's data)
    COMMAND = "command"  # /start, back, skip, ... (payload = the name, args = the rest)


@dataclass(frozen=True)
class Inbound:
    """One event from a person, turned transport-agnostic by an adapter."""

    channel: str  # "telegram", "console"
    user_id: str  # the channel's id for the person
    chat_id: str
    kind: Kind
    payload: str
    delivery_id: str  # Telegram update_id; unique per channel; a repeat changes nothing
    args: str = ""
    locale_hint: str | None = None  # e.g. the Telegram client's language
    private: bool = True  # False in a group chat
    #: In a group: whether the sender is one of its admins (None: the channel could not
    #: tell). Only admins change a group's book-club schedule.
    chat_admin: bool | None = None


@dataclass(frozen=True)
class Choice:
    """A button: its label and the payload that comes back when it is pressed."""

    label: str
    payload: str
    #: What the button stands for, whatever its label: the label's macro ("agree",
    #: "submit", "back"), or the option value it picks ("foster", "3").
    key: str = ""


@dataclass(frozen=True)
class Attachment:
    """A file to send beside a message (a chart, a report)."""

    filename: str
    data: bytes
    mime: str
    as_photo: bool = False


@dataclass(frozen=True)
class Outbound:
    """One message to show. `choices` are rows of buttons."""

    text: str
    choices: list[list[Choice]] = field(default_factory=list)
    #: Replace the message whose button was pressed (the record of the chosen answer),
    #: instead of sending a new one.
    replace: bool = False
    #: A question's options: a typed answer is parsed against them (the console types
    #: numbers); other choices (consent, review actions) map a typed number to a payload.
    is_question: bool = False
    attachment: Attachment | None = None
    #: Send to this chat instead of the one the event came from (a clinician's
    #: notification, for instance). None: reply where the event came from.
    chat_id: str | None = None
    #: Delete the person's own message that led to this reply, once this one is sent: set
    #: on the first reply when they asked for low exposure and their typed answer is saved.
    delete_inbound: bool = False
    #: The message's stable id, `<library>.<macro>` ("replies.consent", "problems.range"):
    #: what tests and adapters recognise a message by, whatever its wording.
    key: str = ""
    #: The question a "replies.ask" (or "replies.answered") message is about.
    question: str | None = None
    #: Holds something shown once and never stored with the delivery (a resume code, an
    #: invitation's code): a replay of the stored outcome renders it without. An adapter
    #: that draws pages again from stored outcomes (the web) shows this one as it is.
    once: bool = False
