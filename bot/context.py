"""The narrow context handed to every feature for one step: who, which interview, say/audit/fire."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.access import AccessPolicy
from bot.answer_cache import AnswerCache, Staged, Version, settled
from bot.data.load import decoded
from bot.model import Inbound
from bot.payload import Action, Payload
from bot.replies import Reply, Say
from flows.catalog import FlowCatalog
from flows.engine import Answer, Question, changes_walk, question_at, questions
from flows.lifecycle import Awaiting, NotAllowed, State, Trigger, awaits, is_open
from flows.schema import Flow
from store.contract import UnitOfWork
from store.records import Arrival, InterviewRecord, Person

#: The message library of the interview's own replies (messages/<locale>/replies.j2).
REPLIES = "replies.j2"


class Conversation(Protocol):
    """What other features may ask of the interview, without importing it.

    The intake implements it (bot/intake/); the router puts it on the context, so a
    clinician opening an interview or a follow-up's "same as last time" moves the
    interview the one way the intake does.
    """

    def take_up(self, ctx: StepContext, interview: InterviewRecord) -> None:
        """Make `interview` the person's active one and show what it waits for."""

    def record_answer(self, ctx: StepContext, question: Question, value: Any) -> None:
        """Save an answer as if its button had been pressed, then move on."""


@dataclass
class Hooks:
    """Callbacks features declare for moments of another feature's work."""

    #: After a question was asked (a follow-up offers last time's answer).
    after_ask: list[Callable[[StepContext, Question], None]] = field(default_factory=list)
    #: After an interview was submitted (the summary, the clinician's notification).
    after_submit: list[Callable[[StepContext], None]] = field(default_factory=list)
    #: After any step, with its replies (the safety net, low exposure).
    after_step: list[Callable[[StepContext], None]] = field(default_factory=list)


class StepContext:
    """One step's view: the person, their interview and its answers, and the ways to act.

    Features read and change the interview through it and reply with `say`; writes go to
    `uow`, the step's one transaction. Nothing here renders text: replies are intents
    (bot/replies.py) rendered after the commit.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        catalog: FlowCatalog,
        inbound: Inbound,
        now: datetime,
        person: Person,
        access: AccessPolicy,
        hooks: Hooks,
        cache: AnswerCache | None = None,
    ) -> None:
        self.uow = uow
        #: Decoded answers of earlier committed steps (bot/answer_cache.py); None: off.
        self.cache = cache
        self.catalog = catalog
        self.inbound = inbound
        self.now = now
        self.person = person
        self.access = access
        self.hooks = hooks
        self.replies: list[Reply] = []
        self.interview: InterviewRecord | None = None
        #: What the person's row said as the step began, read with it in one statement
        #: (store.records.Arrival); None outside a router step. A feature that changes
        #: one of these facts in its step reads the store again.
        self.arrival: Arrival | None = None
        #: Set by the router to the intake (see `Conversation`).
        self.conversation: Conversation | None = None
        #: Answers appended in this step (the safety net says whether one was kept).
        self.saved = 0
        #: The person's typed message should leave the chat once replied to (low exposure).
        self.redact_inbound = False
        #: Interviews erased in this step: the service deletes their files once committed.
        self.erased: list[str] = []
        self._answers: dict[str, Answer] | None = None
        self._enabled: list[Question] | None = None
        self._flow: Flow | None = None
        #: The stored version `_answers` were read at (None: not read, or changed since).
        self._version: Version | None = None
        #: The newest answer row this step appended to the current interview (0: none), and
        #: the revision this step last saved it at (None: not saved): with both, the version
        #: at the end of the step is known without reading it (`staged`).
        self._newest = 0
        self._saved: int | None = None
        #: Interviews whose answers this step changed (their cache entries go stale).
        self._changed: dict[str, set[str]] = {}

    # -- the interview --------------------------------------------------------------------

    @property
    def flow(self) -> Flow:
        interview = self.interview
        assert interview is not None
        flow = self._flow  # asked for a score of times a step: looked up once
        if flow is None or flow.id != interview.flow_id or flow.version != interview.flow_version:
            flow = self._flow = self.catalog.get(interview.flow_key)
        return flow

    @property
    def answers(self) -> dict[str, Answer]:
        assert self.interview is not None
        if self._answers is None:
            interview_id = self.interview.id
            version = self._version
            if version is None and self.cache:
                version = self.uow.answers.version(interview_id)
            found = self.cache.get(interview_id, version) if self.cache and version else None
            # A hit brings the questions walked from those answers too, when known.
            self._answers, self._enabled = found or (
                decoded(self.uow.answers.current(interview_id)), None)
            self._version = version
        return self._answers

    @property
    def enabled(self) -> list[Question]:
        """The enabled questions: walked once per change of an answer the walk reads."""
        answers = self.answers  # first: a cache hit brings the questions with the answers
        if self._enabled is None:
            self._enabled = questions(self.flow, answers)
        return self._enabled

    @property
    def state(self) -> State:
        assert self.interview is not None
        return State(self.interview.state)

    def switch_to(self, interview: InterviewRecord | None, version: Version | None = None) -> None:
        """Work on another interview from here on (its answers are read when needed).

        `version`: its answers' stored version read with it (`get_versioned`), saving a
        read when the answers are first needed; valid only until the answers change.
        """
        self.interview = interview
        self._answers = None
        self._enabled = None
        self._version = version
        self._newest = 0
        self._saved = None

    def appended(self, row_id: int) -> None:
        """An answer row of the current interview was appended (its id, from the store)."""
        if self._answers is None:
            # Appended before the answers were read: the version read with the interview
            # no longer describes what a load would now find.
            self._version = None
        self._newest = max(self._newest, row_id)

    def set_answer(self, key: str, answer: Answer) -> None:
        """Record a change to the answers in memory (the caller appended it to the store)."""
        self.answers[key] = answer
        if self._enabled is not None and changes_walk(self.flow, key):
            self._enabled = None
        assert self.interview is not None
        self._changed.setdefault(self.interview.id, set()).add(key)

    def staged(self) -> list[Staged]:
        """What the answer cache should learn from this step, once it is committed: called
        at its very end, the answers held now are the stored ones at the version read here
        (`settled`); interviews changed and left behind are only dropped."""
        if self.cache is None:
            return []
        staged = [Staged(interview_id) for interview_id in self._changed]
        if self.interview is None or self._answers is None:
            return staged
        interview_id = self.interview.id
        changed = self._changed.get(interview_id, set())
        version = self._version_now() if changed else self._version
        if version is None:
            return staged
        return [*staged, settled(self.flow, interview_id, version, self._answers, changed,
                                 self._enabled)]

    def _version_now(self) -> Version | None:
        """The current interview's answers' version now: known without a read when the step
        read the version, appended its rows through `appended` and saved the interview after
        the last one (`touch`), as a new row's id is above every earlier one. Otherwise read."""
        assert self.interview is not None
        start, saved = self._version, self._saved
        if start is not None and self._newest and saved == self.interview.revision:
            return saved, max(start[1], self._newest)
        return self.uow.answers.version(self.interview.id)

    def is_open(self) -> bool:
        """Whether there is an interview the person can still work on."""
        return self.interview is not None and is_open(self.state)

    def awaits(self) -> Awaiting:
        """What the interview waits for now (lifecycle data)."""
        return awaits(self.state)

    def may(self, trigger: Trigger) -> bool:
        """Whether the lifecycle allows `trigger` now, guards included."""
        if self.interview is None:
            return False
        return self.catalog.lifecycle(self.interview.flow_key).may(
            self.state, trigger, self.answers, consented=self.interview.consented
        )

    def fire(self, trigger: Trigger) -> bool:
        """Move the interview by `trigger` if the lifecycle allows it; False if not."""
        assert self.interview is not None
        try:
            state = self.catalog.lifecycle(self.interview.flow_key).fire(
                self.state, trigger, self.answers, consented=self.interview.consented
            )
        except NotAllowed:
            return False
        self.interview.state = state.value
        return True

    def touch(self) -> None:
        """Save the interview; every change bumps the revision, so older buttons go stale."""
        assert self.interview is not None
        self.interview.revision += 1
        self.interview.updated_at = self.now
        self.uow.interviews.save(self.interview)
        self._saved = self.interview.revision
        if self._version is not None and not self._newest:
            # No row appended: the answers stored are the same at the saved revision.
            self._version = (self._saved, self._version[1])

    def cursor_question(self) -> Question | None:
        """The question at the cursor if it is still enabled (its own conditions only)."""
        assert self.interview is not None
        if self.interview.cursor is None:
            return None
        return question_at(self.flow, self.answers, self.interview.cursor)

    def payload(self, action: Action, arg: int | None = None, tag: str = "-") -> str:
        """A button's data, bound to this interview at its current revision."""
        assert self.interview is not None
        return Payload(self.interview.id, self.interview.revision, tag, action, arg).encode()

    # -- replying and recording ---------------------------------------------------------------

    def say(
        self,
        message: str,
        choices: list[tuple[str, str]] | None = None,
        *,
        library: str = REPLIES,
        **params: Any,
    ) -> None:
        """Reply with the macro `message` of `library`, with buttons (label, payload)."""
        self.replies.append(
            Say(message=message, params=params, choices=choices or [], library=library)
        )

    def audit(
        self, kind: str, detail: str | None = None, *, interview_id: str | None = None
    ) -> None:
        """An audit event by this person about `interview_id` (none unless named)."""
        self.uow.audit.add(
            kind, interview_id=interview_id, person_id=self.person.id, now=self.now, detail=detail
        )

    def event(self, kind: str, detail: str | None = None) -> None:
        """An audit event by this person about the interview being worked on."""
        self.audit(kind, detail, interview_id=self.interview.id if self.interview else None)

    def notify_owner(self, message: str, library: str) -> None:
        """Tell the interview's owner (its clinician) something, in their chat and language."""
        interview = self.interview
        assert interview is not None
        owner = self.uow.people.by_id(interview.owner_id)
        # An adapter can deliver only within its own channel; a clinician whose role ended
        # hears nothing more (their interviews moved on with it: bot/features/clinician.py).
        if owner is None or owner.channel != self.inbound.channel or owner.role != "clinician":
            return
        self.replies.append(
            Say(
                message=message,
                library=library,
                params={"nickname": interview.subject_nickname, "interview_id": interview.id},
                chat_id=self.uow.people.chat_of(owner.id),
                locale=owner.locale,
            )
        )
        self.event("notified", str(owner.id))
