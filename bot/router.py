"""The router: one step = an ordered list of features asked in turn, then the declared hooks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.access import AccessPolicy
from bot.answer_cache import AnswerCache, Staged
from bot.context import Conversation, Hooks, StepContext
from bot.model import Inbound, Kind
from bot.replies import OUTCOME, Outcome
from flows.catalog import FlowCatalog
from store.contract import UnitOfWork


@dataclass(frozen=True)
class Interest:
    """Which events a feature wants to be asked about, declared as data.

    The router checks it before asking (like python-telegram-bot's `check_update`), so a
    typed answer never passes through the modules of commands it is not.
    """

    #: Command names it answers (in a private chat).
    commands: frozenset[str] = frozenset()
    #: Button payload prefixes it answers (in a private chat).
    buttons: tuple[str, ...] = ()
    #: Typed text in a private chat (an answer to something it asked).
    texts: bool = False
    #: Everything in a group chat.
    groups: bool = False
    #: Everything in a private chat.
    private: bool = False

    def wants(self, inbound: Inbound) -> bool:
        if not inbound.private:
            return self.groups
        if self.private:
            return True
        if inbound.kind is Kind.COMMAND:
            return inbound.payload in self.commands
        if inbound.kind is Kind.CHOICE:
            return inbound.payload.startswith(self.buttons) if self.buttons else False
        return self.texts


#: Appends the replies that show where a person stands, without writing (the intake's view).
View = Callable[[StepContext], None]

#: Every event, private or group: the intake's interest.
EVERYTHING = Interest(groups=True, private=True)


class Feature(Protocol):
    """One feature of the conversation: takes an event, or passes it on.

    `handle` returns True when the feature answered the event; the router then stops
    asking. `interest` says which events it is asked about at all. A feature may also
    declare hooks (`install`) for moments of others' work. Features never import each
    other: what they share goes through the `StepContext`.
    """

    name: str
    interest: Interest

    def handle(self, ctx: StepContext) -> bool:
        """Answer the event (True) or leave it to the next feature (False)."""
        ...


@runtime_checkable
class HasHooks(Protocol):
    """A feature that also acts at other features' moments."""

    def install(self, hooks: Hooks) -> None:
        """Add its callbacks to `hooks`."""
        ...


class Router:
    """Runs one inbound event through the features, exactly once, inside one transaction."""

    def __init__(
        self,
        features: Sequence[Feature],
        *,
        catalog: FlowCatalog,
        access: AccessPolicy,
        conversation: Conversation,
    ) -> None:
        names = [f.name for f in features]
        if len(set(names)) != len(names):
            raise ValueError(f"feature names must be unique, got {names}")
        self.features = tuple(features)
        self.catalog = catalog
        self.access = access
        self.conversation = conversation
        self.hooks = Hooks()
        #: Decoded answers between steps (bot/answer_cache.py), published after commits.
        self.answers = AnswerCache()
        for feature in self.features:
            if isinstance(feature, HasHooks):
                feature.install(self.hooks)

    def step(
        self, uow: UnitOfWork, inbound: Inbound, now: datetime, staged: list[Staged] | None = None
    ) -> Outcome:
        """Process one event; a redelivered one returns its first outcome and changes nothing.

        `staged` receives what the answer cache should learn once this step is committed
        (the caller publishes it after the commit; a retried step starts it afresh).
        """
        if staged is not None:
            staged.clear()
        stored = uow.deliveries.outcome(inbound.channel, inbound.delivery_id)
        if stored is not None:
            return OUTCOME.validate_json(stored)
        ctx = self.context(uow, inbound, now)
        for feature in self.features:
            if feature.interest.wants(inbound) and feature.handle(ctx):
                break
        for after in self.hooks.after_step:
            after(ctx)
        outcome = Outcome(
            locale=ctx.person.locale,
            replies=ctx.replies,
            redact_inbound=ctx.redact_inbound,
            channel=inbound.channel,
            erased=ctx.erased,
        )
        uow.deliveries.record(inbound.channel, inbound.delivery_id, outcome.model_dump_json(), now)
        if staged is not None and not ctx.erased:
            staged.extend(ctx.staged())
        return outcome

    def view(
        self, uow: UnitOfWork, channel: str, user_id: str, now: datetime, show: View
    ) -> Outcome:
        """What `user_id` sees now, read-only: no person is created, nothing is written."""
        person = uow.people.find(channel, user_id)
        if person is None:
            return Outcome(locale=self._initial_locale(None), replies=[], channel=channel)
        inbound = Inbound(channel, user_id, user_id, Kind.COMMAND, "view", delivery_id="")
        ctx = StepContext(uow, self.catalog, inbound, now, person, self.access, self.hooks)
        ctx.conversation = self.conversation
        if person.active_interview:
            ctx.switch_to(uow.interviews.get(person.active_interview))
        show(ctx)
        return Outcome(locale=person.locale, replies=ctx.replies, channel=channel)

    def context(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> StepContext:
        """The person (created on first contact) and their active interview."""
        # Where notifications reach this person (private chats only): the one they last
        # wrote from. One read also brings what every private step checks (Arrival).
        arrival = uow.people.arrive(
            inbound.channel, inbound.user_id, inbound.chat_id if inbound.private else None,
            now=now, locale=self._initial_locale(inbound),
        )
        person = arrival.person
        ctx = StepContext(
            uow, self.catalog, inbound, now, person, self.access, self.hooks, self.answers
        )
        ctx.arrival = arrival
        ctx.conversation = self.conversation
        if inbound.private and person.active_interview:
            # With its answers' version: one statement, not a second read when the step
            # first needs the answers (the answer cache's check).
            found = uow.interviews.get_versioned(person.active_interview)
            if found is None:
                ctx.switch_to(None)
            else:
                ctx.switch_to(*found)
        return ctx

    def _initial_locale(self, inbound: Inbound | None) -> str:
        hint = ((inbound.locale_hint if inbound else None) or "").split("-")[0].lower()
        flow = self.catalog.latest(self.catalog.default_flow)
        return hint if hint in flow.locales else flow.locales[0]
