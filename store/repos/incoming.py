"""The durable inbound queue: updates kept before they are confirmed, deleted once handled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.repos.base import Repository, ts


@dataclass(frozen=True)
class Arrived:
    """One update as received: its id, who sent it (None: no person) and its JSON text."""

    update_id: int
    sender: str | None
    body: str


class Incoming(Repository):
    """The `incoming` table (migration 0016); `body` sealed like an answer."""

    def keep(self, bot_id: str, channel: str, updates: Sequence[Arrived], *,
             now: datetime) -> None:
        """Keep updates until they are handled; one already kept stays as it was."""
        at = ts(now)
        seal = self.session.seal
        self.conn.executemany(
            "INSERT INTO incoming (bot_id, update_id, channel, sender, body, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (bot_id, update_id) DO NOTHING",
            [(bot_id, u.update_id, channel, u.sender,
              seal(u.body, f"{bot_id}:{u.update_id}"), at) for u in updates],
        )

    def waiting(self, bot_id: str) -> list[Arrived]:
        """The updates kept and not yet handled, in the order Telegram numbered them."""
        rows = self.conn.execute(
            "SELECT update_id, sender, body FROM incoming WHERE bot_id = ? ORDER BY update_id",
            (bot_id,),
        ).fetchall()
        return [Arrived(int(n), sender, self.session.open(body, f"{bot_id}:{n}"))
                for n, sender, body in rows]

    def drop_other_bots(self, bot_id: str) -> int:
        """Delete what another bot (an earlier token) kept: this bot can never answer it, and
        Telegram, told it arrived, will not send it again; kept, it would stay for ever."""
        cur = self.conn.execute("DELETE FROM incoming WHERE bot_id <> ?", (bot_id,))
        if cur.rowcount:
            self.session.erased = True
        return int(cur.rowcount)

    def handled(self, bot_id: str, update_ids: Sequence[int], *, fold: bool = False) -> int:
        """Delete handled updates; `fold`: fold the WAL after this commit (store/sqlite.py),
        so their page images do not outlive them in the -wal file either."""
        if not update_ids:
            return 0
        marks = ",".join("?" * len(update_ids))
        cur = self.conn.execute(
            f"DELETE FROM incoming WHERE bot_id = ? AND update_id IN ({marks})",
            (bot_id, *update_ids),
        )
        if fold:
            self.session.erased = True
        return int(cur.rowcount)

    def erase_sender(self, channel: str, sender: str) -> None:
        """A person's erasure: what they sent that was not handled yet goes too."""
        self.conn.execute(
            "DELETE FROM incoming WHERE channel = ? AND sender = ?", (channel, sender)
        )
