"""Outbound messages to Bot API calls: keyboards, edits in place, files, bounded retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.model import Attachment, Choice, Outbound
from bot.payload import MAX_BYTES

log = logging.getLogger(__name__)

#: Telegram's limits, counted in UTF-16 code units as Telegram counts them.
MAX_TEXT = 4096
MAX_CAPTION = 1024

ChatId = int | str
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try a call that failed on the way (timeouts, dropped connections).

    Flood waits (429 RetryAfter) are retried by the Application's AIORateLimiter, which
    also holds every other request back while Telegram asks us to wait.
    """

    attempts: int = 3
    backoff: float = 0.5  # seconds before the 2nd attempt; doubles each time
    sleep: Sleep = asyncio.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.backoff < 0:
            raise ValueError(f"backoff must not be negative, got {self.backoff}")


def utf16_len(text: str) -> int:
    """The length Telegram measures."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a text into messages within `limit`, at line breaks where possible."""
    if utf16_len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while utf16_len(line) > limit:  # a single overlong line: cut it hard
            cut = _fit(line, limit - utf16_len(current))
            if cut == 0:
                chunks.append(current)
                current = ""
                continue
            current += line[:cut]
            line = line[cut:]
        if utf16_len(current) + utf16_len(line) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current:
        chunks.append(current)
    return [chunk.rstrip("\n") or chunk for chunk in chunks]


def _fit(text: str, room: int) -> int:
    """How many characters of `text` fit in `room` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > room:
            return index
    return len(text)


def _rows(choices: list[list[Choice]]) -> list[list[Choice]]:
    """The non-empty rows, each button's callback data checked against Telegram's limit."""
    rows = [row for row in choices if row]
    for row in rows:
        for choice in row:
            if len(choice.payload.encode()) > MAX_BYTES:
                raise ValueError(
                    f"button {choice.label!r}: callback data is {len(choice.payload.encode())} "
                    f"bytes, Telegram allows {MAX_BYTES}"
                )
    return rows


def keyboard(choices: list[list[Choice]]) -> InlineKeyboardMarkup | None:
    """Inline buttons for the rows of choices; None when there are none."""
    rows = _rows(choices)
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.label, callback_data=c.payload) for c in row] for row in rows]
    )


def keyboard_json(choices: list[list[Choice]]) -> dict[str, Any] | None:
    """The same keyboard as the Bot API's JSON, without building PTB objects for it."""
    rows = _rows(choices)
    if not rows:
        return None
    return {"inline_keyboard": [
        [{"text": c.label, "callback_data": c.payload} for c in row] for row in rows
    ]}


async def post(bot: Bot, method: str, params: dict[str, Any]) -> None:
    """One Bot API call whose answer Hearth never reads.

    `Bot.send_message` and `Bot.edit_message_text` build a `Message` from the answer (and
    PTB objects for the keyboard on the way out): about 1 ms of CPU per call here, for an
    object nobody reads. `Bot._post` is what those methods call first; through an ExtBot it
    still passes the rate limiter, and failures raise the same TelegramErrors.
    """
    await bot._post(method, {k: v for k, v in params.items() if v is not None})


def chat_of(outbound: Outbound, default: ChatId) -> ChatId:
    """Where a message goes: its own target chat, or the chat the event came from."""
    if outbound.chat_id is None:
        return default
    target = outbound.chat_id
    return int(target) if target.lstrip("-").isdigit() else target


class Sender:
    """Sends a step's replies. Never raises for a Bot API failure: the step is committed,
    so a reply that cannot be delivered is logged, and the person's next message or
    /start shows where they are.
    """

    def __init__(self, bot: Bot, retry: RetryPolicy | None = None) -> None:
        self.bot = bot
        self.retry = retry or RetryPolicy()

    async def deliver(
        self,
        replies: list[Outbound],
        chat_id: ChatId,
        pressed: Message | None = None,
        typed: Message | None = None,
    ) -> None:
        """Send each reply in order; `pressed` is the message whose button was tapped,
        `typed` the person's own message that led to the replies.
        """
        for outbound in replies:
            target = chat_of(outbound, chat_id)
            if outbound.attachment is not None:
                await self.send_attachment(target, outbound, outbound.attachment)
            elif outbound.replace and pressed is not None and pressed.chat.id == target:
                await self.edit(pressed, outbound)
            else:
                await self.send(target, outbound)
            if outbound.delete_inbound and typed is not None:
                await self.remove(typed)

    async def remove(self, message: Message) -> None:
        """Delete a message from the chat (the person asked that answers not linger)."""
        await self.call(
            "deleteMessage",
            message.chat.id,
            partial(self.bot.delete_message, message.chat.id, message.message_id),
        )

    async def send(self, chat_id: ChatId, outbound: Outbound) -> None:
        """A new message; long texts go as several, the buttons on the last."""
        chunks = split_text(outbound.text)
        markup = keyboard_json(outbound.choices)
        for index, chunk in enumerate(chunks):
            buttons = markup if index == len(chunks) - 1 else None
            await self.call(
                "sendMessage",
                chat_id,
                partial(post, self.bot, "sendMessage",
                        {"chat_id": chat_id, "text": chunk, "reply_markup": buttons}),
            )

    async def edit(self, message: Message, outbound: Outbound) -> None:
        """Rewrite the tapped message in place (its new keyboard, or none)."""
        chunks = split_text(outbound.text)
        if len(chunks) > 1:  # one message cannot hold it: send it whole instead
            await self.send(message.chat.id, outbound)
            return
        text = chunks[0]
        try:
            await self.call(
                "editMessageText",
                message.chat.id,
                partial(post, self.bot, "editMessageText", {
                    "chat_id": message.chat.id,
                    "message_id": message.message_id,
                    "text": text,
                    "reply_markup": keyboard_json(outbound.choices),
                }),
                reraise=BadRequest,
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return  # a redelivered tap: the message already reads this way
            # Too old to edit, or deleted: the reply still matters, so send it anew.
            log.info("cannot edit message %s in chat %s (%s); sending it anew",
                     message.message_id, message.chat.id, exc.message)
            await self.send(message.chat.id, outbound)

    async def send_attachment(
        self, chat_id: ChatId, outbound: Outbound, attachment: Attachment
    ) -> None:
        """A photo or a document, captioned with the text when it fits."""
        caption: str | None = outbound.text
        if caption and utf16_len(caption) > MAX_CAPTION:
            await self.send(chat_id, Outbound(outbound.text))
            caption = None
        markup = keyboard(outbound.choices)
        upload = InputFile(attachment.data, filename=attachment.filename)
        if attachment.as_photo:
            await self.call(
                "sendPhoto",
                chat_id,
                lambda: self.bot.send_photo(
                    chat_id, upload, caption=caption or None, reply_markup=markup
                ),
            )
        else:
            await self.call(
                "sendDocument",
                chat_id,
                lambda: self.bot.send_document(
                    chat_id, upload, caption=caption or None, reply_markup=markup
                ),
            )

    async def answer(self, query: CallbackQuery) -> None:
        """Stop the button's spinner; once per query, and a failure only logged."""
        await self.call(
            "answerCallbackQuery",
            query.from_user.id,
            partial(post, self.bot, "answerCallbackQuery", {"callback_query_id": query.id}),
        )

    async def call(
        self,
        method: str,
        chat_id: ChatId,
        request: Callable[[], Awaitable[object]],
        *,
        reraise: type[TelegramError] | None = None,
    ) -> None:
        """Run one Bot API call, retrying transient failures a bounded number of times."""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                await request()
                return
            except RetryAfter as exc:
                # The rate limiter has already waited and retried as often as allowed.
                log.warning("%s to chat %s dropped: still rate limited (%s)",
                            method, chat_id, exc.message)
                return
            except Forbidden as exc:
                log.info("%s to chat %s refused: %s", method, chat_id, exc.message)
                return
            except BadRequest as exc:  # a NetworkError subclass, but retrying cannot help
                if reraise is not None and isinstance(exc, reraise):
                    raise
                log.warning("%s to chat %s rejected: %s", method, chat_id, exc.message)
                return
            except NetworkError as exc:  # TimedOut included
                if attempt == self.retry.attempts:
                    log.warning("%s to chat %s failed after %d attempts: %s",
                                method, chat_id, attempt, exc.message)
                    return
                await self.retry.sleep(self.retry.backoff * 2 ** (attempt - 1))
            except TelegramError as exc:
                log.warning("%s to chat %s failed: %s", method, chat_id, exc.message)
                return
