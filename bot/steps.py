"""One step of a conversation, run inside the store's transaction: inbound -> state -> replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import bookclub, clinician
from bot.access import AccessPolicy
from bot.data import followup
from bot.model import Inbound, Kind
from bot.payload import Action, Payload, decode
from bot.replies import (
    OUTCOME,
    Answered,
    Ask,
    Outcome,
    Problem,
    Reply,
    Review,
    ReviewRow,
    Say,
    Submitted,
)
from bot.safety import SafetyNet, guard, low_exposure_command
from flows.answers import Invalid, checked_selection, choice_value, decode_value, encode_value
from flows.answers import parse_answer as parse_typed
from flows.catalog import FlowCatalog
from flows.engine import (
    Answer,
    Question,
    enabled_options,
    next_question,
    previous_question,
    progress,
    question_at,
    questions,
)
from flows.lifecycle import OPEN_STATES, NotAllowed, State, Trigger
from flows.schema import Flow, ItemType
from messages.render import LOCALES
from store.records import InterviewRecord, Person
from store.repository import Repository

#: Words and commands a person can use; adapters map their own spelling onto these.
COMMANDS = frozenset(
    {
        "start",
        "back",
        "skip",
        "pause",
        "resume",
        "review",
        "edit",
        "submit",
        "help",
        "status",
        "quit",
        "lowexposure",
        "language",
    }
)

#: Payload of a language button: not tied to an interview, valid at any time.
LANGUAGE_PREFIX = "lang:"


def handle(
    repo: Repository,
    catalog: FlowCatalog,
    inbound: Inbound,
    now: datetime,
    access: AccessPolicy | None = None,
    safety: SafetyNet | None = None,
) -> Outcome:
    """Process one inbound event exactly once; a redelivery returns the first outcome."""
    stored = repo.delivery_outcome(inbound.channel, inbound.delivery_id)
    if stored is not None:
        return OUTCOME.validate_json(stored)
    # The safety net and low exposure wrap the step: they act on what it did (bot/safety.py).
    outcome = guard(Step(repo, catalog, inbound, now, access), safety)
    repo.record_delivery(inbound.channel, inbound.delivery_id, outcome.model_dump_json(), now)
    return outcome


def question_tag(flow: Flow, question: Question) -> str:
    """A short, stable name for a question inside a flow version (for button payloads)."""
    tag = str(flow.position(question.item.id))
    if question.repeat_value is not None and question.section.repeat_for:
        source = flow.item(question.section.repeat_for)
        values = [o.value for o in source.options]
        tag += f".{values.index(question.repeat_value)}"
    return tag


def current_answers(repo: Repository, interview_id: str) -> dict[str, Answer]:
    """The answers an engine function needs: latest value (decoded) and skip count."""
    return {
        key: Answer(decode_value(value) if value is not None else None, skips)
        for key, (value, skips) in repo.current_answers(interview_id).items()
    }


class Step:
    """The work of one inbound event. Writes go through `repo`; replies are collected."""

    def __init__(
        self,
        repo: Repository,
        catalog: FlowCatalog,
        inbound: Inbound,
        now: datetime,
        access: AccessPolicy | None = None,
    ) -> None:
        self.repo = repo
        self.catalog = catalog
        self.inbound = inbound
        self.now = now
        self.access = access or AccessPolicy()
        self.person: Person = repo.person(
            inbound.channel, inbound.user_id, now=now, locale=self._initial_locale()
        )
        self.replies: list[Reply] = []
        self.interview: InterviewRecord | None = None
        self._answers: dict[str, Answer] | None = None
        self._enabled: list[Question] | None = None

    def _initial_locale(self) -> str:
        hint = (self.inbound.locale_hint or "").split("-")[0].lower()
        flow = self.catalog.latest(self.catalog.default_flow)
        return hint if hint in flow.locales else flow.locales[0]

    # -- plumbing -------------------------------------------------------------------------

    @property
    def flow(self) -> Flow:
        assert self.interview is not None
        return self.catalog.get(self.interview.flow_key)

    @property
    def answers(self) -> dict[str, Answer]:
        assert self.interview is not None
        if self._answers is None:
            self._answers = current_answers(self.repo, self.interview.id)
        return self._answers

    @property
    def enabled(self) -> list[Question]:
        """The enabled questions for the current answers, computed once per change."""
        if self._enabled is None:
            self._enabled = questions(self.flow, self.answers)
        return self._enabled

    def switch_to(self, interview: InterviewRecord | None) -> None:
        """Work on another interview from here on (its answers are read when needed)."""
        self.interview = interview
        self._answers = None
        self._enabled = None

    def answers_changed(self) -> None:
        """Forget what was derived from the answers (call after every change to them)."""
        self._enabled = None

    def say(
        self, message: str, choices: list[tuple[str, str]] | None = None, **params: Any
    ) -> None:
        self.replies.append(Say(message=message, params=params, choices=choices or []))

    def event(self, kind: str, detail: str | None = None) -> None:
        self.repo.add_event(
            kind,
            interview_id=self.interview.id if self.interview else None,
            person_id=self.person.id,
            now=self.now,
            detail=detail,
        )

    def fire(self, trigger: Trigger) -> bool:
        assert self.interview is not None
        try:
            state = self.catalog.lifecycle(self.interview.flow_key).fire(
                State(self.interview.state),
                trigger,
                self.answers,
                consented=self.interview.consented,
            )
        except NotAllowed:
            return False
        self.interview.state = state.value
        return True

    def touch(self) -> None:
        """Every change bumps the revision, so buttons shown before it go stale."""
        assert self.interview is not None
        self.interview.revision += 1
        self.interview.updated_at = self.now
        self.repo.save_interview(self.interview)

    def payload(self, action: Action, arg: int | None = None, tag: str = "-") -> str:
        assert self.interview is not None
        return Payload(self.interview.id, self.interview.revision, tag, action, arg).encode()

    # -- dispatch -----------------------------------------------------------------------------

    def run(self) -> Outcome:
        if not self.inbound.private:
            self.say("group_refused")
            return self.outcome()
        if self.person.active_interview:
            self.interview = self.repo.interview(self.person.active_interview)
        if bookclub.dispatch(self):  # /bookclub, "Reflect privately" links and replies
            return self.outcome()
        if clinician.dispatch(self):  # invitations, clinicians' commands, erasure
            return self.outcome()
        kind, payload = self.inbound.kind, self.inbound.payload
        if kind is Kind.COMMAND:
            self.command(payload)
        elif kind is Kind.CHOICE:
            self.choice(payload)
        else:
            self.text(payload)
        return self.outcome()

    def outcome(self) -> Outcome:
        return Outcome(locale=self.person.locale, replies=self.replies)

    def open_interview(self) -> bool:
        return self.interview is not None and State(self.interview.state) in OPEN_STATES

    def command(self, name: str) -> None:
        if name == "start":
            self.start()
        elif name == "language":
            self.language(self.inbound.args)
        elif name == "help":
            self.say("help")
        elif name == "lowexposure":
            low_exposure_command(self, self.inbound.args)
        elif name not in COMMANDS:
            # Said before "no interview" or "paused": the person typed something we don't know.
            self.say("unknown_command", commands=sorted(COMMANDS))
        elif not self.open_interview():
            self.say("no_interview")
        elif name == "status":
            self.status()
        elif name in ("pause", "quit"):
            self.pause()
        elif name == "resume":
            self.resume()
        elif State(self.state) is State.PAUSED:
            self.offer_resume()
        elif State(self.state) is State.CONSENT:
            self.show_consent()
        elif name == "back":
            self.back()
        elif name == "skip":
            self.skip()
        elif name == "review":
            self.review()
        elif name == "submit":
            self.submit()
        elif name == "edit":
            self.edit_command(self.inbound.args)
        else:
            self.say("unknown_command", commands=sorted(COMMANDS))

    @property
    def state(self) -> str:
        assert self.interview is not None
        return self.interview.state

    # -- starting, consent, pausing -----------------------------------------------------------

    def start(self) -> None:
        if self.open_interview():
            if State(self.state) is State.PAUSED:
                self.offer_resume()
            elif State(self.state) is State.CONSENT:
                self.show_consent()
            else:
                self.ask_current(welcome_back=True)
            return
        if self.interview is not None and State(self.state) is State.SUBMITTED:
            # Say the last one was sent (a kill may have hidden that reply) before a new one.
            self.say(
                "already_submitted",
                choices=[("start_new", self.payload(Action.FRESH))],
            )
            return
        self.new_interview()

    def new_interview(self) -> None:
        flow = self.catalog.latest(self.catalog.default_flow)
        self.interview = self.repo.create_interview(
            flow_id=flow.id,
            flow_version=flow.version,
            owner_id=self.person.id,
            respondent_id=self.person.id,
            nickname=None,
            state=State.CONSENT.value,
            now=self.now,
        )
        self._answers = {}
        self.answers_changed()
        self.person.active_interview = self.interview.id
        self.repo.save_person(self.person)
        self.event("created", flow.key)
        self.show_consent()

    def show_consent(self) -> None:
        # The other languages sit under consent: the person picks theirs at the start.
        others = [
            (f"lang_{code}", f"{LANGUAGE_PREFIX}{code}")
            for code in LOCALES
            if code != self.person.locale
        ]
        self.say(
            "consent",
            flow=self.flow.key,
            choices=[
                ("agree", self.payload(Action.AGREE)),
                ("not_now", self.payload(Action.DECLINE)),
                *others,
            ],
        )

    def language(self, code: str) -> None:
        """Switch the person's language; answers are values, so nothing else changes."""
        code = code.strip().lower()[:8]
        if not code:
            choices = [(f"lang_{c}", f"{LANGUAGE_PREFIX}{c}") for c in LOCALES]
            self.say("language_offer", current=self.person.locale, choices=choices)
            return
        if code not in LOCALES:
            self.say("language_unknown", codes=list(LOCALES))
            return
        self.person.locale = code
        self.repo.save_person(self.person)
        self.event("language", code)
        self.say("language_set", language=code)
        if not self.open_interview():
            return
        if State(self.state) is State.CONSENT:
            self.show_consent()
        elif State(self.state) in (State.ANSWERING, State.REVIEW):
            self.ask_current()

    def agree(self) -> None:
        assert self.interview is not None
        if self.inbound.kind is Kind.CHOICE:
            # The consent message keeps a record of the agreement, and loses its buttons.
            self.replies.append(Say(message="consent_given", replace=True))
        self.fire(Trigger.AGREE)
        self.interview.consented = True
        self.event("consented")
        self.advance()

    def pause(self) -> None:
        if not self.fire(Trigger.PAUSE):
            self.say("already_paused")
            return
        self.touch()
        self.event("paused")
        self.say("paused", answered=progress(self.flow, self.answers, None, self.enabled).answered)

    def offer_resume(self) -> None:
        done = progress(self.flow, self.answers, None, self.enabled)
        self.say(
            "resume_offer",
            answered=done.answered,
            total=done.total,
            choices=[
                ("continue", self.payload(Action.CONTINUE)),
                ("start_over", self.payload(Action.FRESH)),
            ],
        )

    def resume(self) -> None:
        if not self.fire(Trigger.RESUME):
            self.ask_current(welcome_back=True)
            return
        self.event("resumed")
        if State(self.state) is State.CONSENT:
            self.touch()
            self.show_consent()
            return
        self.ask_current(welcome_back=True)

    def start_fresh(self) -> None:
        assert self.interview is not None
        self.fire(Trigger.WITHDRAW)
        self.touch()
        self.event("withdrawn", "started over")
        self.new_interview()

    def status(self) -> None:
        done = progress(
            self.flow, self.answers, self.interview.cursor if self.interview else None, self.enabled
        )
        self.say("status", state=self.state, answered=done.answered, total=done.total)

    # -- asking ------------------------------------------------------------------------------

    def ask_current(self, *, welcome_back: bool = False) -> None:
        """Ask the question at the cursor if still enabled; otherwise move on."""
        assert self.interview is not None
        if State(self.state) is State.REVIEW:
            self.touch()
            self.show_review()
            return
        cursor = self.interview.cursor
        question = question_at(self.flow, self.answers, cursor) if cursor else None
        if question is None:
            self.advance(welcome_back=welcome_back)
            return
        self.touch()
        self.ask(question, welcome_back=welcome_back)

    def advance(self, *, welcome_back: bool = False) -> None:
        """Move the cursor to the next question (skip logic), or to review."""
        assert self.interview is not None
        question = next_question(self.flow, self.answers, self.enabled)
        self.interview.draft = None
        if question is None:
            self.fire(Trigger.FINISH)
            self.interview.cursor = None
            self.touch()
            self.show_review()
            return
        if State(self.state) is State.REVIEW:
            self.fire(Trigger.EDIT)
        self.interview.cursor = question.key
        self.touch()
        self.ask(question, welcome_back=welcome_back)

    def ask(self, question: Question, *, welcome_back: bool = False, replace: bool = False) -> None:
        assert self.interview is not None
        where = progress(self.flow, self.answers, question.key, self.enabled)
        answer = self.answers.get(question.key)
        current = encode_value(answer.value) if answer and answer.value is not None else None
        self.replies.append(
            Ask(
                interview_id=self.interview.id,
                flow=self.flow.key,
                key=question.key,
                revision=self.interview.revision,
                position=where.position,
                total=where.total,
                options=self.option_values(question),
                selected=self.interview.draft or [],
                current=current,
                replace=replace,
                welcome_back=welcome_back,
            )
        )
        # A follow-up offers last time's answer to a history question (bot/data/followup.py).
        followup.offer_previous(self, question, replace=replace)

    def option_values(self, question: Question) -> list[str]:
        if question.item.type is ItemType.SCALE:
            low, high = int(question.item.min or 0), int(question.item.max or 0)
            return [str(point) for point in range(low, high + 1)]
        return [o.value for o in enabled_options(self.flow, question, self.answers)]

    def cursor_question(self) -> Question | None:
        assert self.interview is not None
        if self.interview.cursor is None:
            return None
        # One key's conditions, not a walk of the whole flow: this runs on every step.
        return question_at(self.flow, self.answers, self.interview.cursor)

    # -- answering ---------------------------------------------------------------------------

    def text(self, text: str) -> None:
        if not self.open_interview():
            self.say("no_interview")
            return
        state = State(self.state)
        if state is State.PAUSED:
            self.offer_resume()
        elif state is State.CONSENT:
            word = text.strip().casefold()
            if word in ("yes", "y", "i agree", "agree", "ok", "sí", "si"):
                self.agree()
            else:
                self.say("consent_needed")
                self.show_consent()
        elif state is State.REVIEW:
            self.review_text(text)
        else:
            self.answer_typed(text)

    def answer_typed(self, text: str) -> None:
        question = self.cursor_question()
        if question is None:
            self.advance()
            return
        options = enabled_options(self.flow, question, self.answers)
        value = parse_typed(question.item, text, options, self.person.locale)
        if isinstance(value, Invalid):
            self.problem(value, question)
            return
        self.save(question, value)

    def problem(self, invalid: Invalid, question: Question) -> None:
        """Say what was expected and ask the same question again; nothing is saved."""
        self.replies.append(Problem(code=invalid.code, params=invalid.params))
        self.ask(question)

    def save(self, question: Question, value: Any) -> None:
        assert self.interview is not None
        previous = self.answers.get(question.key)
        self.interview.revision += 1
        self.repo.append_answer(
            self.interview.id,
            question.key,
            encode_value(value),
            revision=self.interview.revision,
            by=self.person.id,
            now=self.now,
        )
        self.answers[question.key] = Answer(value)
        self.answers_changed()
        edited = previous is not None and previous.value is not None
        self.event("edited" if edited else "answered", question.key)
        self.advance()

    def skip(self) -> None:
        assert self.interview is not None
        if State(self.state) is not State.ANSWERING:
            self.say("nothing_to_skip")
            return
        question = self.cursor_question()
        if question is None:
            self.advance()
            return
        previous = self.answers.get(question.key)
        self.interview.revision += 1
        self.repo.append_answer(
            self.interview.id,
            question.key,
            None,
            revision=self.interview.revision,
            by=self.person.id,
            now=self.now,
        )
        skips = previous.skips + 1 if previous and previous.value is None else 1
        self.answers[question.key] = Answer(None, skips)
        self.answers_changed()
        self.event("skipped", question.key)
        if question.required:
            self.say("skipped_required")
        self.advance()

    def back(self) -> None:
        assert self.interview is not None
        state = State(self.state)
        current = None if state is State.REVIEW else self.interview.cursor
        question = previous_question(self.flow, self.answers, current, self.enabled)
        if question is None:
            self.say("at_first_question")
            self.ask_current()
            return
        if state is State.REVIEW:
            self.fire(Trigger.EDIT)
        self.interview.cursor = question.key
        self.interview.draft = None
        self.touch()
        self.ask(question)

    # -- buttons --------------------------------------------------------------------------------

    def choice(self, raw: str) -> None:
        if raw.startswith(LANGUAGE_PREFIX):
            self.language(raw.removeprefix(LANGUAGE_PREFIX))
            return
        payload = decode(raw)
        interview = self.interview
        if (
            payload is None
            or interview is None
            or payload.interview_id != interview.id
            or payload.revision != interview.revision
            or not (self.open_interview() or self.after_submission(payload.action))
        ):
            self.say("stale")
            return
        action = payload.action
        state = State(interview.state)
        if action is Action.AGREE and state is State.CONSENT:
            self.agree()
        elif action is Action.DECLINE and state is State.CONSENT:
            self.pause()
        elif action is Action.CONTINUE and state is State.PAUSED:
            self.resume()
        elif action is Action.FRESH and state is State.PAUSED:
            self.start_fresh()
        elif action is Action.FRESH and state is State.SUBMITTED:
            self.new_interview()
        elif action is Action.EDIT and state is State.REVIEW and payload.arg is not None:
            self.edit_row(payload.arg)
        elif action is Action.SUBMIT and state is State.REVIEW:
            self.submit()
        elif action is Action.BACK and state in (State.ANSWERING, State.REVIEW):
            self.back()
        elif action is Action.SKIP and state is State.ANSWERING:
            self.skip()
        elif state is State.ANSWERING and action in (Action.OPTION, Action.TOGGLE, Action.DONE):
            self.answer_button(payload)
        else:
            self.say("stale")

    def after_submission(self, action: Action) -> bool:
        """A submitted interview still answers one button: start a new interview."""
        return action is Action.FRESH and State(self.state) is State.SUBMITTED

    def answer_button(self, payload: Payload) -> None:
        assert self.interview is not None
        question = self.cursor_question()
        if question is None or question_tag(self.flow, question) != payload.tag:
            self.say("stale")
            return
        values = self.option_values(question)
        if payload.action is Action.DONE:
            picked = self.interview.draft or []
            options = enabled_options(self.flow, question, self.answers)
            result = checked_selection(picked, options, self.person.locale)
            if isinstance(result, Invalid):
                self.problem(result, question)
                return
            self.record_button_answer(question, result)
            return
        if payload.arg is None or not 0 <= payload.arg < len(values):
            self.say("stale")
            return
        value = values[payload.arg]
        if payload.action is Action.TOGGLE and question.item.type is ItemType.MULTI_CHOICE:
            self.toggle(question, value)
            return
        if question.item.type is ItemType.SCALE:
            self.record_button_answer(question, int(value))
            return
        options = enabled_options(self.flow, question, self.answers)
        checked = choice_value(question.item, value, options)
        if isinstance(checked, Invalid):
            self.problem(checked, question)
            return
        self.record_button_answer(question, checked)

    def toggle(self, question: Question, value: str) -> None:
        assert self.interview is not None
        picked = list(self.interview.draft or [])
        option = question.item.option(value)
        if value in picked:
            picked.remove(value)
        elif option is not None and option.exclusive:
            picked = [value]  # "none of these" clears the others
        else:
            exclusive = {o.value for o in question.item.options if o.exclusive}
            picked = [v for v in picked if v not in exclusive] + [value]
        self.interview.draft = picked
        self.touch()
        self.ask(question, replace=True)

    def record_button_answer(self, question: Question, value: Any) -> None:
        self.replies.append(
            Answered(flow=self.flow.key, key=question.key, value=encode_value(value))
        )
        self.save(question, value)

    # -- review and submit --------------------------------------------------------------------

    def review(self) -> None:
        # Mid-way this only shows the list; `edit N` changes a row, the rest stays.
        self.show_review()

    def show_review(self) -> None:
        assert self.interview is not None
        enabled = self.enabled
        rows = [
            ReviewRow(
                key=q.key,
                value=encode_value(a.value)
                if (a := self.answers.get(q.key)) and a.value is not None
                else None,
            )
            for q in enabled
        ]
        missing = [
            q.key
            for q in enabled
            if q.required and not (q.key in self.answers and self.answers[q.key].given)
        ]
        can_submit = State(self.state) is State.REVIEW and not missing
        choices = [("submit", self.payload(Action.SUBMIT))] if can_submit else []
        self.replies.append(
            Review(
                interview_id=self.interview.id,
                flow=self.flow.key,
                revision=self.interview.revision,
                rows=rows,
                missing=missing,
                can_submit=can_submit,
            )
        )
        if choices:
            self.say("review_actions", choices=choices)

    def review_text(self, text: str) -> None:
        word = text.strip().casefold()
        if word in ("submit", "send", "enviar"):
            self.submit()
        elif word.isdigit():
            self.edit_row(int(word) - 1)
        else:
            self.say("review_help")

    def edit_command(self, args: str) -> None:
        number = args.strip()
        if not number.isdigit():
            self.say("edit_usage")
            return
        self.edit_row(int(number) - 1)

    def edit_row(self, index: int) -> None:
        assert self.interview is not None
        enabled = self.enabled
        if not 0 <= index < len(enabled):
            self.say("no_such_row", count=len(enabled))
            return
        question = enabled[index]
        self.fire(Trigger.EDIT)
        self.interview.cursor = question.key
        self.interview.draft = None
        self.touch()
        self.event("editing", question.key)
        self.ask(question)

    def submit(self) -> None:
        assert self.interview is not None
        if (
            State(self.state) is State.ANSWERING
            and next_question(self.flow, self.answers, self.enabled) is None
        ):
            self.fire(Trigger.FINISH)
        if not self.fire(Trigger.SUBMIT):
            missing = [
                q.key
                for q in self.enabled
                if q.required and not (q.key in self.answers and self.answers[q.key].given)
            ]
            if State(self.state) is State.REVIEW and missing:
                self.say("missing_required", count=len(missing))
                self.edit_row([q.key for q in self.enabled].index(missing[0]))
            else:
                self.say("not_ready")
                self.ask_current()
            return
        self.interview.submitted_at = self.now
        self.interview.cursor = None
        self.touch()
        self.event("submitted")
        self.replies.append(Submitted(interview_id=self.interview.id, flow=self.flow.key))
        clinician.on_submitted(self)
