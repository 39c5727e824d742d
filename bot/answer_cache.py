"""Decoded current answers kept between steps, per interview, valid for one stored version.

Loading and decoding an interview's answers is a join, a JSON parse (and, with a data key,
an unseal) per answer: ~0.3-0.8 ms at the end of an interview, on every step. Here a step
takes them from the last committed step on the same interview instead, when the store
says nothing changed since: the entry is valid for one `version`, (the interview's
revision, its newest current-answer row), read in the step's own transaction. Every
change of the answers appends a row (a higher id) and every removal bumps the revision
(store/unit_of_work.py: erase_person), so a change by another channel, worker or process
makes the entry miss; it is never trusted on its own.

Entries are published only after the step that produced them was committed (the service
does it once `Store.run` returned), and an erasure drops the erased interviews' entries
at once. An entry of an interview erased by another process can no longer be reached (no
step finds that interview) and leaves with the least recently used ones.

With the answers an entry keeps the enabled questions they give (`flows.engine.questions`,
derived from them and kept, published and dropped with them), so a step whose answer
changes nothing the walk reads (`flows.engine.changes_walk`) does not walk the flow at all.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from flows.answers import decode_value, encode_value
from flows.engine import Answer, Question, changes_walk
from flows.schema import Flow

#: (interview revision, id of its newest current answer row or 0): see the docstring.
Version = tuple[int, int]
#: Interviews kept. More people answering at once than this and every step misses (a
#: person's next step comes after everyone else's), paying the version read for nothing:
#: 1,000 at once measured so with 512. An entry is ~1-15 KB (1-90 answers), so 4,096
#: people at the end of their interviews hold ~60 MB at most.
CAPACITY = 4096


@dataclass(frozen=True)
class Staged:
    """What a step leaves for the cache, applied once it is committed."""

    interview_id: str
    #: None: the step changed the answers without a known version; drop the entry.
    version: Version | None = None
    answers: dict[str, Answer] | None = None
    #: The enabled questions for exactly these answers (`flows.engine.questions`), if known.
    enabled: tuple[Question, ...] | None = None


class AnswerCache:
    """A bounded LRU of decoded answers; steps read it on the store's threads."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[
            str, tuple[Version, dict[str, Answer], tuple[Question, ...] | None]
        ] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(
        self, interview_id: str, version: Version
    ) -> tuple[dict[str, Answer], list[Question] | None] | None:
        """A copy of the answers stored for exactly `version` and of their enabled questions
        (None when not known), or None."""
        with self._lock:
            entry = self._entries.get(interview_id)
            if entry is None or entry[0] != version:
                self.misses += 1
                return None
            self._entries.move_to_end(interview_id)
            self.hits += 1
            return dict(entry[1]), None if entry[2] is None else list(entry[2])

    def publish(self, staged: Iterable[Staged]) -> None:
        """Apply what committed steps left: keep their answers, or drop stale entries."""
        with self._lock:
            for item in staged:
                if item.version is None or item.answers is None:
                    self._entries.pop(item.interview_id, None)
                    continue
                current = self._entries.get(item.interview_id)
                # A later step may have published first (threads, several connections).
                if current is not None and current[0] > item.version:
                    continue
                self._entries[item.interview_id] = (item.version, item.answers, item.enabled)
                self._entries.move_to_end(item.interview_id)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def forget(self, interview_ids: Iterable[str]) -> None:
        """Drop interviews (erased): their answers must not outlive them here."""
        with self._lock:
            for interview_id in interview_ids:
                self._entries.pop(interview_id, None)

    def __len__(self) -> int:
        return len(self._entries)


def as_stored(answer: Answer) -> Answer:
    """An answer as a fresh load would decode it (a typed value's storage round trip)."""
    value = answer.value
    # Text, whole numbers and lists of option values come back from JSON as they went in
    # (exact types: a bool, or a list subclass such as Periods, takes the round trip).
    if value is None or type(value) is str or type(value) is int or (
        type(value) is list and all(type(v) is str for v in value)
    ):
        return answer
    stored = json.loads(json.dumps(encode_value(value), ensure_ascii=False))
    return Answer(decode_value(stored), answer.skips)


def settled(
    flow: Flow,
    interview_id: str,
    version: Version,
    answers: dict[str, Answer],
    changed: set[str],
    enabled: list[Question] | None,
) -> Staged:
    """What a step leaves for one interview: its answers with the `changed` ones as a fresh
    load decodes them, and the questions walked from the answers in hand, unless an answer
    the walk reads differs from its stored form (then the next step walks again)."""
    kept = dict(answers)
    for key in changed:
        held = kept[key]
        kept[key] = as_stored(held)
        if enabled is not None and kept[key] != held and changes_walk(flow, key):
            enabled = None
    return Staged(interview_id, version, kept, None if enabled is None else tuple(enabled))
