"""The in-memory fake of the durable inbound queue (store/repos/incoming.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from store.repos.incoming import Arrived

#: (bot, update id) -> (channel, the update)
IncomingRows = dict[tuple[str, int], tuple[str, Arrived]]


class MemoryIncoming:
    """`IncomingRepo` on a dict kept inside the fake's tables (copied with them)."""

    def __init__(self, rows: IncomingRows) -> None:
        self.rows = rows

    def keep(self, bot_id: str, channel: str, updates: Sequence[Arrived], *,
             now: datetime) -> None:
        for update in updates:
            self.rows.setdefault((bot_id, update.update_id), (channel, update))

    def waiting(self, bot_id: str) -> list[Arrived]:
        return [arrived for (bot, _), (_, arrived) in sorted(self.rows.items()) if bot == bot_id]

    def drop_other_bots(self, bot_id: str) -> int:
        gone = [key for key in self.rows if key[0] != bot_id]
        for key in gone:
            del self.rows[key]
        return len(gone)

    def handled(self, bot_id: str, update_ids: Sequence[int], *, fold: bool = False) -> int:
        gone = [key for key in ((bot_id, n) for n in update_ids) if key in self.rows]
        for key in gone:
            del self.rows[key]
        return len(gone)

    def erase_sender(self, channel: str, sender: str) -> None:
        for key in [k for k, (c, a) in self.rows.items() if (c, a.sender) == (channel, sender)]:
            del self.rows[key]
