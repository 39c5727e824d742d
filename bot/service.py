"""The dialogue service: one inbound event -> one committed step -> rendered replies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from bot.access import AccessPolicy
from bot.model import Inbound, Outbound
from bot.render import Renderer
from bot.replies import Outcome
from bot.steps import handle
from flows.catalog import FlowCatalog
from store.sqlite import Store

Clock = Callable[[], datetime]


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
        store: Store,
        catalog: FlowCatalog,
        renderer: Renderer | None = None,
        clock: Clock = utc_now,
        access: AccessPolicy | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.renderer = renderer or Renderer(catalog)
        self.clock = clock
        #: Operators, invitation links and limits (bot/access.py); replaceable until serving.
        self.access = access or AccessPolicy()

    async def step(self, inbound: Inbound) -> Outcome:
        """Process one event exactly once and return its reply intents (committed)."""
        return await self.store.run(
            partial(
                handle,
                catalog=self.catalog,
                inbound=inbound,
                now=self.clock(),
                access=self.access,
            )
        )

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Process one event and render its replies."""
        outcome = await self.step(inbound)
        return self.renderer.render(outcome)
