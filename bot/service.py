"""The dialogue service: one inbound event -> one committed step -> rendered replies."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial

from bot.access import AccessPolicy
from bot.answer_cache import Staged
from bot.bookclub import BookClubDesk
from bot.features import standard
from bot.intake.feature import Intake
from bot.intake.view import current as current_view
from bot.model import Inbound, Outbound
from bot.plan_jobs import due_plan_sends
from bot.reminders import due_reminders
from bot.render import Renderer
from bot.replies import OUTCOME, Change, Export, Files, Outcome, Submitted
from bot.router import Router
from bot.safety import LIBRARY as SAFETY_LIBRARY
from bot.safety import SafetyNet
from flows.catalog import FlowCatalog
from messages.render import LOCALES, say
from store.backend import Backend
from store.contract import UnitOfWork
from store.errors import StepNotSaved
from store.pruning import prune_deliveries

Clock = Callable[[], datetime]
#: Called after a submission is committed; returns extra messages (e.g. where a report is).
#: How often old deliveries are dropped: one indexed DELETE, far from every step.
PRUNE_EVERY = timedelta(hours=1)
AfterSubmit = Callable[[Submitted, str], Awaitable[list[Outbound]]]
#: Deletes what is on disk about erased interviews (reports, charts, exports), given
#: their ids; called after the erasure is committed, and again on a redelivery (so it
#: must be idempotent).
AfterErasure = Callable[[list[str]], Awaitable[None]]

log = logging.getLogger(__name__)
#: Where reports and charts are drawn: off the event loop, one at a time.
_RENDERING = ThreadPoolExecutor(1, thread_name_prefix="hearth-render")


def utc_now() -> datetime:
    """The real clock (tests pass their own)."""
    return datetime.now(UTC)


class DialogueService:
    """Transport-agnostic: adapters hand it `Inbound`s and send the `Outbound`s it returns.

    The step runs inside the store's transaction and is committed before anything is
    rendered, so a reply never announces an answer that is not yet durable.
    """

    def __init__(
        self,
        store: Backend,
        catalog: FlowCatalog,
        renderer: Renderer | None = None,
        clock: Clock = utc_now,
        access: AccessPolicy | None = None,
        safety: SafetyNet | None = None,
        after_submit: AfterSubmit | None = None,
        after_erasure: AfterErasure | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.renderer = renderer or Renderer(catalog)
        self.clock = clock
        #: Operators, invitation links and limits (bot/access.py); replaceable until serving.
        self.access = access or AccessPolicy()
        #: Signs of danger and the deployment's support contacts (bot/safety.py).
        self.safety = safety or SafetyNet()
        self.after_submit = after_submit
        self.after_erasure = after_erasure
        #: The book club's scheduled work, for adapters (claims, send results, chats gone).
        self.bookclub = BookClubDesk(store, clock)
        #: How long processed deliveries are kept, and when to next drop older ones.
        self.delivery_retention = timedelta(days=7)
        self._next_prune: datetime | None = None
        self._router: Router | None = None

    @property
    def router(self) -> Router:
        """The router over the standard features, built on first use.

        Built late so that `access` and `safety` stay replaceable until the first step.
        """
        if self._router is None:
            intake = Intake()
            self._router = Router(
                standard(self.safety, intake),
                catalog=self.catalog,
                access=self.access,
                conversation=intake,
            )
        return self._router

    async def step(self, inbound: Inbound) -> Outcome:
        """Process one event exactly once and return its reply intents (committed)."""
        staged: list[Staged] = []
        outcome = await self.store.run(
            partial(self.router.step, inbound=inbound, now=self.clock(), staged=staged)
        )
        # Committed now: only from here may later steps take these answers as stored.
        if outcome.erased:
            self.router.answers.forget(outcome.erased)
        self.router.answers.publish(staged)
        return outcome

    async def view(
        self, channel: str, user_id: str, locale_hint: str | None = None, *,
        after: str | None = None,
    ) -> tuple[Outcome | None, Outcome]:
        """What the person sees now (the current question, consent, review...), read-only;
        with `after`, first the outcome that event (a delivery id) produced, if still kept.

        For adapters that draw a page again on request (the web): one read on the store's
        read-only connection; it creates no one and writes nothing, not even an audit event.
        """
        def read(uow: UnitOfWork) -> tuple[str | None, Outcome]:
            stored = uow.deliveries.outcome(channel, after) if after else None
            now = self.router.view(uow, channel, user_id, self.clock(), current_view)
            return stored, now

        stored, outcome = await self.store.read(read)
        hint = (locale_hint or "").split("-")[0].lower()
        if not outcome.replies and hint in LOCALES and outcome.locale != hint:
            outcome = outcome.model_copy(update={"locale": hint})
        return (None if stored is None else OUTCOME.validate_json(stored)), outcome

    async def reminders(self, channel: str, idle: timedelta) -> list[Outbound]:
        """Reminders for interviews paused longer than `idle` (each sent at most once)."""
        due = await self.store.run(
            partial(due_reminders, channel=channel, now=self.clock(), idle=idle)
        )
        return [
            Outbound(
                say(r.locale, "replies.j2", "reminder", answered=r.answered),
                chat_id=r.chat_id,
                key="replies.reminder",
            )
            for r in due
        ]

    async def plan_sends(self, channel: str) -> list[Outbound]:
        """Check-ins and re-assessments due now for `channel` (each sent at most once)."""
        outcomes = await self.store.run(
            partial(due_plan_sends, catalog=self.catalog, channel=channel, now=self.clock())
        )
        messages: list[Outbound] = []
        for outcome in outcomes:
            messages.extend(await self.render(outcome))
        return messages

    async def prune(self) -> int:
        """Drop deliveries older than the retention window (run about hourly by `handle`).

        In small committed batches (store/pruning.py, ~10 ms each): other people's steps
        queue between them, so the writer is never held long, whatever the backlog.
        """
        now = self.clock()
        self._next_prune = now + PRUNE_EVERY
        pruned = await prune_deliveries(self.store, now - self.delivery_retention)
        return pruned.rows

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Process one event and render its replies; a store failure becomes an apology.

        A step that failed (database locked by another process past its timeout, disk
        full, I/O error) was rolled back whole: nothing of it was saved and its delivery
        is not recorded, so sending the same thing again is safe and is what we ask for.
        """
        if self._next_prune is None or self.clock() >= self._next_prune:
            await self.prune()
        try:
            outcome = await self.step(inbound)
        except StepNotSaved as exc:
            log.error("step not saved (%s %s): %s", inbound.channel, inbound.delivery_id, exc)
            hint = (inbound.locale_hint or "").split("-")[0].lower()
            locale = hint if hint in LOCALES else "en"
            text = say(locale, SAFETY_LIBRARY, "store_failed")
            return [Outbound(text, key=f"{SAFETY_LIBRARY.removesuffix('.j2')}.store_failed")]
        if outcome.erased and self.after_erasure is not None:
            await self.after_erasure(outcome.erased)
        messages = await self.render(outcome)
        if outcome.redact_inbound and messages:
            messages[0] = dataclasses.replace(messages[0], delete_inbound=True)
        if self.after_submit is not None:
            for reply in outcome.replies:
                if isinstance(reply, Submitted):
                    messages.extend(await self.after_submit(reply, outcome.locale))
        return messages

    async def render(self, outcome: Outcome) -> list[Outbound]:
        """Render replies; reports, charts and files in a worker thread, off the event loop.

        Drawing a report takes a few hundred milliseconds: on the loop it would hold up
        every other person's reply for that long.
        """
        if any(isinstance(r, Export | Change | Files) for r in outcome.replies):
            # One thread: matplotlib's font and text caches are not made for concurrent use.
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(_RENDERING, self.renderer.render, outcome)
        return self.renderer.render(outcome)
