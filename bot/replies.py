"""The reply intents a step produces: stored with the delivery, rendered after the commit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Reply(BaseModel):
    model_config = ConfigDict(frozen=True)


class Say(_Reply):
    """A plain message: a template macro name and its values."""

    type: Literal["say"] = "say"
    message: str
    params: dict[str, Any] = Field(default_factory=dict)
    choices: list[tuple[str, str]] = Field(default_factory=list)  # (label message, payload)
    #: The template library holding `message`; one other than replies.j2 also holds the
    #: labels of its buttons (buttons.j2 serves replies.j2).
    library: str = "replies.j2"
    #: Replace the message whose button was pressed (a record of the choice made).
    replace: bool = False
    #: Send to another chat (a clinician's notification), in that person's language.
    chat_id: str | None = None
    locale: str | None = None
    #: Values shown once and never stored with the delivery (an invitation code): a
    #: redelivered update renders the message without them.
    secret: dict[str, Any] = Field(default_factory=dict, exclude=True)


class Ask(_Reply):
    """Ask one question of an interview."""

    type: Literal["ask"] = "ask"
    interview_id: str
    flow: str
    key: str
    revision: int
    position: int
    total: int
    #: Section `section` of `sections`, `left_here` questions of it to go, minutes left.
    section: int = 0
    sections: int = 0
    left_here: int = 0
    minutes_left: int = 0
    options: list[str] = Field(default_factory=list)  # enabled option values, shown order
    selected: list[str] = Field(default_factory=list)  # multiple choice being ticked
    current: Any = None  # the stored answer (when going back or editing)
    replace: bool = False  # edit the pressed message in place (a toggle)
    welcome_back: bool = False


class Answered(_Reply):
    """The record of a button answer: the question's message is edited to show it."""

    type: Literal["answered"] = "answered"
    flow: str
    key: str
    value: Any


class ReviewRow(BaseModel):
    """One line of the review list."""

    key: str
    value: Any  # encoded value; None if skipped
    #: The row's own number, which `edit N` takes: its place among the enabled questions,
    #: the same whether the list is shown early (reached rows only) or in full.
    number: int = 0


class Review(_Reply):
    """The list of answers with ways to edit any and to submit."""

    type: Literal["review"] = "review"
    interview_id: str
    flow: str
    revision: int
    rows: list[ReviewRow]
    missing: list[str]
    can_submit: bool
    #: Shown mid-way: only the questions reached so far.
    early: bool = False


class Problem(_Reply):
    """An answer was not accepted: what was expected."""

    type: Literal["problem"] = "problem"
    code: str
    params: dict[str, Any] = Field(default_factory=dict)
    #: Buttons that answer with one of a few likely options ("did you mean ...?"):
    #: (label, payload), the label "option:<value>" naming an option of the question.
    choices: list[tuple[str, str]] = Field(default_factory=list)
    #: The flow and question the option labels come from.
    flow: str = ""
    key: str = ""


class Submitted(_Reply):
    """The interview was submitted."""

    type: Literal["submitted"] = "submitted"
    interview_id: str
    flow: str


class SafetyNote(BaseModel):
    """A message the safety net caught in an interview: danger now, or harm that is over."""

    at: datetime
    kind: Literal["danger", "disclosure"]
    concern: str | None = None  # self_harm, violence, sexual_abuse, weapon, child_danger, ...
    message: str = ""  # what the person wrote (sealed at rest like every answer)


class InformantForm(BaseModel):
    """A second informant's sent form, packed beside the family's answers in their report."""

    interview_id: str
    flow: str
    role: str  # "teacher" or "caregiver"
    rows: list[ReviewRow]
    submitted_at: datetime | None = None


class RatingNote(BaseModel):
    """One revision of a clinician's rating of a function (bot/ratings.py)."""

    function: str
    revision: int
    value: str
    reason: str
    rated_by: int | None
    rated_at: datetime
    #: "withdrawn": this revision takes the rating back (the scores use the family's view).
    status: str = "rated"


class Export(_Reply):
    """An interview sent as a report: the clinician's full report or the caregiver's summary."""

    type: Literal["export"] = "export"
    interview_id: str
    flow: str
    audience: Literal["clinician", "caregiver"]
    nickname: str | None
    state: str
    rows: list[ReviewRow]  # every current answer (value None = skipped), in question order
    at: datetime  # when it was exported: the report's date
    #: For the clinician's report: what the safety net caught, with time and words.
    safety: list[SafetyNote] = Field(default_factory=list)
    #: For the clinician's report: the second informants' sent forms (docs/informants.md).
    informants: list[InformantForm] = Field(default_factory=list)
    #: For the clinician's report: the clinician ratings, every revision, oldest first.
    ratings: list[RatingNote] = Field(default_factory=list)


class DataFile(BaseModel):
    """One file of a data export (bot/data/)."""

    filename: str
    data: bytes
    mime: str


class Files(_Reply):
    """Files made inside the step (a data export): sent once, never stored with the delivery."""

    type: Literal["files"] = "files"
    message: str
    params: dict[str, Any] = Field(default_factory=dict)
    library: str = "data.j2"
    #: Excluded like `Say.secret`: a redelivered update says the files are not kept.
    files: list[DataFile] = Field(default_factory=list, exclude=True)


class Tried(_Reply):
    """One plan item of the earlier interview and what the family said of it at the check-in."""

    n: int
    title: str
    tried: str | None = None
    went: str | None = None
    #: When the clinician removed it from the plan (YYYY-MM-DD) and why; None: still in it.
    removed_on: str | None = None
    removed_reason: str | None = None


class Change(_Reply):
    """A follow-up's change report: the earlier and the latest answers, drawn after commit."""

    type: Literal["change"] = "change"
    interview_id: str
    earlier_id: str
    flow: str
    earlier_flow: str
    nickname: str | None
    then_rows: list[ReviewRow]
    now_rows: list[ReviewRow]
    then_at: datetime
    at: datetime
    #: The earlier interview's plan and its check-in answers (bot/features/plan.py).
    tried: list[Tried] = Field(default_factory=list)
    #: What the family wrote in its own words at that check-in, if anything.
    family_words: str | None = None


Reply = Annotated[
    Say | Ask | Answered | Review | Problem | Submitted | Export | Files | Change,
    Field(discriminator="type"),
]


class Outcome(BaseModel):
    """Everything one step answers, in the person's language."""

    model_config = ConfigDict(frozen=True)

    locale: str
    replies: list[Reply]
    #: Where the replies will be read ("telegram", "console"): their verbs follow it.
    channel: str = ""
    #: The person asked for low exposure and their typed answer is saved: the adapter
    #: deletes their message from the chat (bot/safety.py).
    redact_inbound: bool = False
    #: Interviews erased (deleted or withdrawn) by this step: their reports and exports on
    #: disk are deleted after the commit (DialogueService.after_erasure).
    erased: list[str] = []


OUTCOME = TypeAdapter(Outcome)
