"""Bench-only monkeypatches that prototype the proposed fixes, to measure their gain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

import flows.engine as engine
from bot import render as bot_render
from bot.model import Outbound
from bot.replies import Review
from messages import render as messages_render


def _memo_questions() -> Callable[..., Any]:
    """Fix 1, roughly: the enabled-question list is walked once per answers state.

    Keyed on the answer objects' identities (a step decodes fresh ones, and only adds to
    them): good enough to measure; a real fix keeps the list on the Step and resets it where
    the answers change.
    """
    original = engine.questions
    memo: dict[str, Any] = {"key": None, "value": None}

    def questions(flow: Any, answers: Any) -> Any:
        key = (id(flow), tuple((k, id(v)) for k, v in answers.items()))
        if memo["key"] != key:
            memo["key"], memo["value"] = key, original(flow, answers)
        return list(memo["value"])

    return questions


def _linear_review(original: Callable[..., list[Outbound]]) -> Callable[..., list[Outbound]]:
    """Fix 2: each review row rendered once; chunk lengths added up instead of re-rendered."""

    def review(self: Any, reply: Review, locale: str) -> list[Outbound]:
        flow = self.catalog.get(reply.flow)
        rows = [
            {"number": n, "prompt": self.prompt(flow, row.key, locale),
             "display": self.display(flow, row.key, row.value, locale)}
            for n, row in enumerate(reply.rows, start=1)
        ]

        def text(chunk: list[dict[str, Any]], missing: int = 0) -> str:
            return bot_render._m(locale, "replies.j2", "review", rows=chunk, missing=missing,
                                 can_submit=reply.can_submit)

        if len(rows) < 2:
            return original(self, reply, locale)
        empty = len(text([]))
        extra = [len(text([row])) - empty for row in rows]
        join = len(text(rows[:2])) - empty - extra[0] - extra[1]
        messages: list[Outbound] = []
        chunk: list[dict[str, Any]] = []
        size = empty
        for row, grow in zip(rows, extra, strict=True):
            added = grow + (join if chunk else 0)
            if chunk and size + added > bot_render.MAX_MESSAGE_CHARS:
                messages.append(Outbound(text(chunk)))
                chunk, size = [], empty
                added = grow
            chunk.append(row)
            size += added
        messages.append(Outbound(text(chunk, len(reply.missing))))
        return messages

    return review


@contextmanager
def applied(*fixes: str) -> Iterator[None]:
    """Apply the named prototypes ("walk", "review", "templates") for the block."""
    with ExitStack() as stack:
        if "walk" in fixes:
            stack.enter_context(mock.patch.object(engine, "questions", _memo_questions()))
        if "review" in fixes:
            original = bot_render.Renderer.review
            stack.enter_context(mock.patch.object(bot_render.Renderer, "review",
                                                  _linear_review(original)))
        if "templates" in fixes:
            env = messages_render.environment()
            stack.enter_context(mock.patch.object(env, "auto_reload", False))
        yield
