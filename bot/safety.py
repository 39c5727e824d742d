"""The safety net's front: which messages suggest danger now, and whom to point a person to.

The words are judged by the ConText-style net in bot/danger/ (rules per locale in
messages/<locale>/danger.yaml; method and measured figures in docs/safety.md).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the net's modules load with its rules, on the first message checked
    from bot.danger import DangerNet, Verdict

LIBRARY = "safety.j2"
#: The most of a caught message kept for the clinician (a 100 KB paste is not a message).
MAX_KEPT_CHARS = 2000


_shared: list[DangerNet] = []
_shared_lock = threading.Lock()


def shared_net() -> DangerNet:
    """The rules, loaded once per process: they are read-only, and loading takes ~0.25 s.

    Under a lock: a warm-up thread (`SafetyNet.warm`) and a step may ask at once, and
    the second waits for the first's net instead of building its own.
    """
    if not _shared:
        with _shared_lock:
            if not _shared:
                from bot.danger import DangerNet

                _shared.append(DangerNet())
    return _shared[0]


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

    def warm(self) -> None:
        """Load the rules on a daemon thread now, while the process waits for a person.

        `hearth chat` calls it once its consent is on screen: the typed answer to it is
        checked, and would otherwise wait the ~0.25 s of loading (docs/architecture.md).
        A failure here is left for the step's own check to raise and report.
        """
        if self._loaded is not None or _shared:
            return

        def load() -> None:
            with contextlib.suppress(Exception):
                shared_net()

        threading.Thread(target=load, name="hearth-danger-warm", daemon=True).start()

    def check(self, text: str, locale: str | None = None) -> Verdict:
        """danger (someone in danger now), disclosure (harm that is over), or none."""
        return self.net.classify(text, locale)

    def in_danger(self, text: str, locale: str | None = None) -> bool:
        """Whether the text suggests someone is in danger now."""
        return bool(text.strip()) and self.check(text, locale).danger
