"""Telegram handlers: each turns one kind of update into an `Inbound` or a short notice."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.model import Inbound, Kind, Outbound
from bot.service import DialogueService
from bot.telegram.sending import Sender
from messages import render as messages
from messages.render import LOCALES

log = logging.getLogger(__name__)

CHANNEL = "telegram"

#: A typed answer longer than this is refused before it reaches the service (a pasted
#: document, usually); it leaves room under Telegram's 4096 for the echoed answer.
MAX_ANSWER_CHARS = 4000


@dataclass(frozen=True)
class Hearth:
    """What the handlers share, kept in `application.bot_data`."""

    service: DialogueService
    sender: Sender


def hearth(context: ContextTypes.DEFAULT_TYPE) -> Hearth:
    """The adapter's parts, typed."""
    parts = context.bot_data["hearth"]
    assert isinstance(parts, Hearth)
    return parts


def locale_of(update: Update) -> str:
    """The language for the adapter's own notices (the service keeps the person's choice)."""
    user = update.effective_user
    code = ((user.language_code if user else None) or "").split("-")[0].lower()
    return code if code in LOCALES else "en"


def notice(update: Update, name: str, **params: Any) -> str:
    """One of the adapter's own sentences, from messages/<locale>/telegram.j2."""
    return messages.say(locale_of(update), "telegram.j2", name, **params)


def delivery_id(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The update's id, prefixed with the bot's and suffixed with the sender's.

    Update ids are per bot, and a database may outlive a bot token (a test bot, then the
    real one). Telegram may also reuse an id after a quiet week: with the sender in the
    key, a reused id can never replay another person's stored reply to someone else.
    """
    user = update.effective_user
    return f"{context.bot.id}:{update.update_id}:{user.id if user else '-'}"


def command_of(message: Message, bot_username: str) -> tuple[str, str] | None:
    """`/name@bot rest` -> (name, rest); None if addressed to another bot."""
    entity = message.entities[0] if message.entities else None
    text = message.text or ""
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return None
    word = text[1 : entity.length]
    name, _, addressee = word.partition("@")
    if addressee and addressee.casefold() != bot_username.casefold():
        return None
    return name.casefold(), text[entity.length :].strip()


async def converse(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    kind: Kind,
    payload: str,
    args: str = "",
    pressed: Message | None = None,
) -> None:
    """Run one step in the service, then send its replies where they belong."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    inbound = Inbound(
        channel=CHANNEL,
        user_id=str(user.id),
        chat_id=str(chat.id),
        kind=kind,
        payload=payload,
        delivery_id=delivery_id(update, context),
        args=args,
        locale_hint=user.language_code,
        private=chat.type == ChatType.PRIVATE,
    )
    parts = hearth(context)
    replies = await parts.service.handle(inbound)
    # The step is committed: from here on a failure to send loses no answer.
    typed = update.message if kind is not Kind.CHOICE else None
    await parts.sender.deliver(replies, chat.id, pressed, typed)


async def say(update: Update, context: ContextTypes.DEFAULT_TYPE, name: str, **params: Any) -> None:
    """Send one of the adapter's notices; nothing in the store changes."""
    chat = update.effective_chat
    if chat is not None:
        message = Outbound(notice(update, name, **params), key=f"telegram.{name}")
        await hearth(context).sender.deliver([message], chat.id)


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forward any /command and its arguments (a /start deep link too) to the service."""
    message = update.effective_message
    if message is None:
        return
    command = command_of(message, context.bot.username)
    if command is not None:
        await converse(update, context, Kind.COMMAND, command[0], command[1])


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forward a typed message as an answer (or a word like "yes" or "submit")."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    if len(message.text) > MAX_ANSWER_CHARS:
        await say(update, context, "too_long", limit=MAX_ANSWER_CHARS)
        return
    await converse(update, context, Kind.TEXT, message.text)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the tapped button's query at once, then forward its payload."""
    query = update.callback_query
    if query is None:
        return
    # Answered whatever follows, so the spinner stops even for a stale button or when the
    # step fails; on its way while the step runs (a round trip less per tap), and ended
    # before the handler returns.
    answering = asyncio.ensure_future(hearth(context).sender.answer(query))
    pressed = query.message if isinstance(query.message, Message) else None
    try:
        await converse(update, context, Kind.CHOICE, query.data or "", pressed=pressed)
    finally:
        await answering


async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what Hearth expects instead of a sticker, photo, voice note or file."""
    message = update.effective_message
    if message is None:
        return
    await say(update, context, "unsupported", kind=media_kind(message))


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain that editing a sent message leaves the saved answer as it was."""
    await say(update, context, "edited")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure, tell the person if there is one, and keep running."""
    where = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", where, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        await say(update, context, "failed")


def media_kind(message: Message) -> str:
    """What was sent instead of text, in the words the notice uses."""
    if message.sticker:
        return "sticker"
    if message.photo:
        return "photo"
    if message.voice or message.audio or message.video_note:
        return "voice"
    if message.video or message.animation:
        return "video"
    if message.document:
        return "document"
    return "other"
