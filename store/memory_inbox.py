"""The in-memory fake of the web inbox (store/repos/inbox.py), for unit tests."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from store.repos.inbox import KINDS, InboxEntry


class MemoryInbox:
    """`InboxRepo` on a list and a dict kept inside the fake's tables (copied with them)."""

    def __init__(self, entries: list[InboxEntry],
                 links: dict[str, tuple[int, datetime, datetime, datetime | None]]) -> None:
        self.entries = entries
        self.links = links  # token hash -> (person, created, expires, used)

    def add(self, person_id: int, interview_id: str, kind: str, body: dict[str, Any], *,
            now: datetime) -> int:
        if kind not in KINDS:
            raise ValueError(f"inbox kind {kind!r} is not one of {KINDS}")
        entry_id = max((e.id for e in self.entries), default=0) + 1
        self.entries.append(InboxEntry(entry_id, person_id, interview_id, kind,
                                       dict(body), now))
        return entry_id

    def of_person(self, person_id: int, *, limit: int = 50) -> list[InboxEntry]:
        mine = [e for e in self.entries if e.person_id == person_id]
        return sorted(mine, key=lambda e: -e.id)[:limit]

    def has(self, person_id: int, interview_id: str, kind: str) -> bool:
        return any((e.person_id, e.interview_id, e.kind) == (person_id, interview_id, kind)
                   for e in self.entries)

    def mark_read(self, person_id: int, entry_id: int, *, now: datetime) -> str | None:
        for index, entry in enumerate(self.entries):
            if entry.id == entry_id and entry.person_id == person_id:
                self.entries[index] = dataclasses.replace(entry, read_at=entry.read_at or now)
                return entry.interview_id
        return None

    def add_link(self, token_hash: str, person_id: int, *, now: datetime,
                 expires_at: datetime) -> None:
        self.links[token_hash] = (person_id, now, expires_at, None)

    def use_link(self, token_hash: str, *, now: datetime) -> int | None:
        found = self.links.get(token_hash)
        if found is None or found[3] is not None or found[2] <= now:
            return None
        self.links[token_hash] = (*found[:3], now)
        return found[0]

    def links_since(self, person_id: int, since: datetime) -> int:
        return sum(1 for p, at, _, _ in self.links.values() if p == person_id and at >= since)

    def erase_person(self, person_id: int) -> None:
        self.entries[:] = [e for e in self.entries if e.person_id != person_id]
        for key in [k for k, v in self.links.items() if v[0] == person_id]:
            del self.links[key]

    def erase_interview(self, interview_id: str) -> None:
        self.entries[:] = [e for e in self.entries if e.interview_id != interview_id]
