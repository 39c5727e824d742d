"""The safety net's front: which messages suggest danger now, and whom to point a person to.

The words are judged by the ConText-style net in bot/danger/ (rules per locale in
messages/<locale>/danger.yaml; method and measured figures in docs/safety.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property

from bot.danger import DangerNet, Verdict

LIBRARY = "safety.j2"
#: The most of a caught message kept for the clinician (a 100 KB paste is not a message).
MAX_KEPT_CHARS = 2000


@cache
def shared_net() -> DangerNet:
    """The rules, loaded once per process: they are read-only, and loading takes ~0.25 s."""
    return DangerNet()


@dataclass
class SafetyNet:
    """What counts as a sign of danger, and whom to point a person to.

    `contacts` come from the deployment (HEARTH_SAFETY_CONTACTS): a service that knows
    its country names its helplines; without them the message says only to call the
    local emergency number, because a wrong number in a crisis is worse than none.
    The rules load on first use (about 0.25 s), not at start-up.
    """

    contacts: tuple[str, ...] = ()
    _loaded: DangerNet | None = field(default=None, repr=False, compare=False)

    @cached_property
    def net(self) -> DangerNet:
        return self._loaded or shared_net()

    def check(self, text: str, locale: str | None = None) -> Verdict:
        """danger (someone in danger now), disclosure (harm that is over), or none."""
        return self.net.classify(text, locale)

    def in_danger(self, text: str, locale: str | None = None) -> bool:
        """Whether the text suggests someone is in danger now."""
        return bool(text.strip()) and self.check(text, locale).danger
