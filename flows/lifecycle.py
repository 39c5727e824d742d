"""The interview lifecycle as a `transitions` machine declared as data, one per flow."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from transitions import Machine, MachineError

from flows.engine import Answers, missing_needed, next_question
from flows.schema import Flow


class State(StrEnum):
    """Where an interview is in its life."""

    CONSENT = "consent"
    ANSWERING = "answering"
    PAUSED = "paused"
    REVIEW = "review"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class Awaiting(StrEnum):
    """What an interview in a state waits for: what a person is shown to find their way."""

    CONSENT = "consent"  # the consent, with agree / not now
    RESUME = "resume"  # continue or start over
    ANSWER = "answer"  # the question at the cursor
    REVIEW = "review"  # the list of answers, to change one or send
    NOTHING = "nothing"  # closed: sent or withdrawn


#: Still open: a person can come back to it.
OPEN_STATES = frozenset({State.CONSENT, State.ANSWERING, State.PAUSED, State.REVIEW})

AWAITS: dict[State, Awaiting] = {
    State.CONSENT: Awaiting.CONSENT,
    State.PAUSED: Awaiting.RESUME,
    State.ANSWERING: Awaiting.ANSWER,
    State.REVIEW: Awaiting.REVIEW,
    State.SUBMITTED: Awaiting.NOTHING,
    State.WITHDRAWN: Awaiting.NOTHING,
}

# Plain strings on purpose: `transitions` names Enum states by their member name.
# Every move a person can make is a trigger here, including those that leave the state
# as it is (`dest: None`, an internal transition): whether a move is legal now is asked of
# this machine (`Lifecycle.may`), never re-decided by comparing states elsewhere.
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "agree", "source": "consent", "dest": "answering"},
    {"trigger": "decline", "source": "consent", "dest": "paused"},
    {"trigger": "pause", "source": ["consent", "answering", "review"], "dest": "paused"},
    {"trigger": "resume", "source": "paused", "dest": "answering", "conditions": "has_consented"},
    {"trigger": "resume", "source": "paused", "dest": "consent", "unless": "has_consented"},
    {"trigger": "answer", "source": "answering", "dest": None},
    {"trigger": "skip", "source": "answering", "dest": None},
    {"trigger": "review", "source": ["answering", "review"], "dest": None},
    {"trigger": "back", "source": ["answering", "review"], "dest": "answering"},
    {"trigger": "finish", "source": "answering", "dest": "review",
     "conditions": "nothing_left_to_ask"},
    {"trigger": "edit", "source": ["review", "answering"], "dest": "answering"},
    {"trigger": "submit", "source": "review", "dest": "submitted",
     "conditions": "all_needed_answered"},
    {"trigger": "start_over", "source": "paused", "dest": "withdrawn"},
    {"trigger": "withdraw", "source": "*", "dest": "withdrawn"},
]


class Trigger(StrEnum):
    """Names of the lifecycle events."""

    AGREE = "agree"
    DECLINE = "decline"
    PAUSE = "pause"
    RESUME = "resume"
    ANSWER = "answer"
    SKIP = "skip"
    REVIEW = "review"
    BACK = "back"
    FINISH = "finish"
    EDIT = "edit"
    SUBMIT = "submit"
    START_OVER = "start_over"
    WITHDRAW = "withdraw"


def is_open(state: State) -> bool:
    """Whether a person can still come back to an interview in this state."""
    return state in OPEN_STATES


def awaits(state: State) -> Awaiting:
    """What an interview in this state waits for."""
    return AWAITS[state]


class NotAllowed(Exception):
    """The lifecycle does not allow this event now (wrong state, or a guard failed)."""

    def __init__(self, state: State, trigger: Trigger) -> None:
        self.state = state
        self.trigger = trigger
        super().__init__(f"cannot {trigger} an interview that is {state}")


@dataclass
class _Subject:
    """What the machine moves for one step: a state and what the guards read."""

    flow: Flow
    answers: Answers
    consented: bool
    state: str

    def has_consented(self) -> bool:
        return self.consented

    def nothing_left_to_ask(self) -> bool:
        return next_question(self.flow, self.answers) is None

    def all_needed_answered(self) -> bool:
        return not missing_needed(self.flow, self.answers)


class Lifecycle:
    """One machine for one flow, shared by every interview on it (`model=None`).

    The machine holds one long-lived subject; a query sets that subject's state and what
    the guards read, then asks the machine (`trigger`, `may_<trigger>`). Adding and
    removing a model per query would rebuild its trigger methods every time (~0.7 ms,
    more than a whole step); the lock keeps concurrent steps (PostgreSQL's worker
    threads) from sharing the subject at once.
    """

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._machine = Machine(
            model=None,
            states=[s.value for s in State],
            transitions=TRANSITIONS,
            initial=State.CONSENT.value,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        self._subject = _Subject(flow, {}, True, State.CONSENT.value)
        self._machine.add_model(self._subject)
        self._lock = threading.Lock()
        # The machine's own transitions per (state, trigger), read once: `may` evaluates
        # their guards directly, as the machine would, without its per-call trigger scan.
        self._moves = {
            (state, trigger): [
                [(str(c.func), bool(c.target)) for c in t.conditions]
                for t in self._machine.events[trigger.value].transitions.get(state.value, [])
            ]
            for state in State
            for trigger in Trigger
        }

    def _load(self, state: State, answers: Answers, consented: bool) -> _Subject:
        subject = self._subject
        subject.answers, subject.consented = answers, consented
        self._machine.set_state(state.value, model=subject)
        return subject

    def fire(
        self, state: State, trigger: Trigger, answers: Answers, *, consented: bool = True
    ) -> State:
        """Return the state after `trigger`, or raise `NotAllowed`."""
        with self._lock:
            subject = self._load(state, answers, consented)
            try:
                moved = subject.trigger(trigger.value)  # type: ignore[attr-defined]
            except MachineError:
                moved = False
            after = State(subject.state)
        if not moved:
            raise NotAllowed(state, trigger)
        return after

    def may(
        self, state: State, trigger: Trigger, answers: Answers, *, consented: bool = True
    ) -> bool:
        """Whether `trigger` would succeed now (guards included); changes nothing."""
        subject = _Subject(self.flow, answers, consented, state.value)
        return any(
            all(bool(getattr(subject, name)()) is wanted for name, wanted in guards)
            for guards in self._moves[state, trigger]
        )
