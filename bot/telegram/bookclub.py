"""Book clubs on Telegram: group /bookclub with admin checks, leaving groups, weekly sends."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import bookclub
from bot.model import Inbound, Kind, Outbound
from bot.service import DialogueService
from bot.telegram.handlers import (
    CHANNEL,
    command_of,
    converse,
    delivery_id,
    hearth,
    locale_of,
)
from messages.render import say
from store.bookclub import WeekDelivery

log = logging.getLogger(__name__)

#: The one job-queue job that wakes the scheduler.
JOB_NAME = "hearth-bookclub"
#: The longest the scheduler sleeps: a safety net for changes made by another worker.
MAX_WAIT = dt.timedelta(hours=1)
#: Sends in flight at once. The rate limiter paces them (about 30/s overall, 20/min per
#: group); concurrency only keeps a slow Bot API round trip from capping the rate.
SEND_CONCURRENCY = 32
#: Handler group ahead of the intake's (0): these handlers stop the update there.
HANDLER_GROUP = -1

_BOOKCLUB = filters.Regex(r"(?i)^/bookclub(@\w+)?(\s|$)")
_GONE = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)


@dataclass
class Broadcast:
    """What one tick did, by outcome ('sent', 'retry', 'failed', 'unconfirmed')."""

    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str | None) -> None:
        if outcome is not None:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def sent(self) -> int:
        return self.outcomes.get("sent", 0)


class BookClubScheduler:
    """Sends each chat's due week once, then sleeps on the job queue until the next one.

    `tick(now)` is the whole delivery logic and takes the instant to act at, so tests
    drive it with their own clock. Every week is claimed in a store transaction (the
    UNIQUE chat/series/week row) right before it is sent; whatever Telegram answers is
    recorded after. A restart, or a second worker on the same database, finds the row
    taken and sends nothing.
    """

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        service: DialogueService,
        *,
        worker: str | None = None,
        concurrency: int = SEND_CONCURRENCY,
    ) -> None:
        self.application = application
        self.service = service
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.concurrency = concurrency
        #: When the scheduler next wakes (in the service clock's time), for status and tests.
        self.next_wake: dt.datetime | None = None
        self._ticking = asyncio.Lock()

    # -- waking -------------------------------------------------------------------------------

    def wake_soon(self) -> None:
        """Run a tick as soon as the job queue can (at start-up, after a skip)."""
        self._schedule(0.0)

    async def reschedule(self) -> dt.datetime:
        """Sleep until the next week or retry is due (at most MAX_WAIT)."""
        now = self.service.clock()
        due = await self.service.bookclub.next_wake(CHANNEL, now)
        wake = min(due, now + MAX_WAIT) if due is not None else now + MAX_WAIT
        self.next_wake = wake
        self._schedule(max(0.0, (wake - now).total_seconds()))
        return wake

    def _schedule(self, delay: float) -> None:
        queue = self.application.job_queue
        if queue is None:
            return
        for job in queue.get_jobs_by_name(JOB_NAME):
            job.schedule_removal()
        # However late the job queue gets to it (a slow start-up before Application.start(),
        # a busy loop), the tick still runs: APScheduler would otherwise drop a job more than
        # a second late as "misfired", and with it every later wake-up.
        queue.run_once(self._job, when=delay, name=JOB_NAME,
                       job_kwargs={"misfire_grace_time": None})

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.tick()

    # -- delivering ---------------------------------------------------------------------------

    async def tick(self, now: dt.datetime | None = None) -> Broadcast:
        """Send every week due at `now` (default: the service's clock), then reschedule."""
        result = Broadcast()
        try:
            async with self._ticking:
                now = now or self.service.clock()
                desk = self.service.bookclub
                chats = await desk.due_chats(CHANNEL, now)
                retries = await desk.retries_due(CHANNEL, now)
                gate = asyncio.Semaphore(self.concurrency)

                async def due(chat_id: str) -> str | None:
                    async with gate:
                        claim = await desk.claim(CHANNEL, chat_id, now, self.worker)
                        return None if claim is None else await self.send(claim, now)

                async def retry(delivery: WeekDelivery) -> str | None:
                    async with gate:
                        claim = await desk.reclaim(delivery, now, self.worker)
                        return None if claim is None else await self.send(claim, now)

                outcomes = await asyncio.gather(
                    *(due(chat) for chat in chats), *(retry(d) for d in retries)
                )
                for outcome in outcomes:
                    result.add(outcome)
        finally:
            try:
                await self.reschedule()
            except Exception:  # the store is unwell: try again in a minute rather than never
                log.exception("book club: could not compute the next wake-up")
                self._schedule(60.0)
        return result

    async def send(self, claim: bookclub.ClaimedWeek, now: dt.datetime) -> str:
        """Send a claimed week and report what Telegram said; returns the outcome."""
        series = bookclub.bundle()[claim.series_key]
        message = bookclub.render_week(series, claim.week, claim.locale)
        link = f"https://t.me/{self.application.bot.username}?start={bookclub.LINK_PREFIX}{claim.token}"
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(message.button, url=link)]])
        chat_id = int(claim.chat_id) if claim.chat_id.lstrip("-").isdigit() else claim.chat_id
        try:
            sent = await self.application.bot.send_message(chat_id, message.text,
                                                           reply_markup=markup)
        except TelegramError as exc:
            report = _report_of(exc, now)
            log.log(logging.WARNING if report.outcome is bookclub.Sent.NO_ANSWER else logging.INFO,
                    "book club week %s to %s: %s (%s)", claim.week, claim.chat_id,
                    report.outcome.value, exc.message)
        else:
            report = bookclub.SendReport(bookclub.Sent.DELIVERED, message_id=sent.message_id)
        await self.service.bookclub.record(claim, report)
        return report.outcome.value


def _report_of(exc: TelegramError, now: dt.datetime) -> bookclub.SendReport:
    """What a Telegram error says about a week's message (what it means: bot/bookclub.py)."""
    if isinstance(exc, RetryAfter):
        # Certainly not shown (the rate limiter already waited and retried): send it again
        # after the wait Telegram asked for. The week stays this chat's.
        wait = dt.timedelta(seconds=_wait_of(exc))
        return bookclub.SendReport(bookclub.Sent.LATER, exc.message, retry_at=now + wait)
    if isinstance(exc, ChatMigrated):
        # The group became a supergroup with a new id: follow it and send there.
        return bookclub.SendReport(bookclub.Sent.LATER, exc.message, retry_at=now,
                                   moved_to=str(exc.new_chat_id))
    if isinstance(exc, Forbidden | BadRequest):
        # Refused for good: removed from the group, blocked, the chat is gone.
        gone = isinstance(exc, Forbidden) or "chat not found" in exc.message.lower()
        return bookclub.SendReport(bookclub.Sent.REFUSED, exc.message, gone=gone)
    # No answer (timeout, dropped connection): it may have been shown. Sending it again
    # could post it twice, so it counts as sent and is never repeated.
    return bookclub.SendReport(bookclub.Sent.NO_ANSWER, exc.message)


def _wait_of(exc: RetryAfter) -> float:
    # Read as a timedelta: the int form of `retry_after` is deprecated in PTB 22.
    wait = getattr(exc, "_retry_after", None)
    return wait.total_seconds() if isinstance(wait, dt.timedelta) else 1.0


def scheduler_of(context: ContextTypes.DEFAULT_TYPE) -> BookClubScheduler:
    """The scheduler kept in `bot_data`."""
    found = context.bot_data["bookclub"]
    assert isinstance(found, BookClubScheduler)
    return found


# -- handlers --------------------------------------------------------------------------------


async def on_bookclub(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/bookclub ...`: in a group, after checking admins for changes; in private, through
    the service (the same step as the intake, so it is exactly-once and safety-checked)."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    command = command_of(message, context.bot.username)
    if command is None or command[0] != bookclub.COMMAND:
        return  # addressed to another bot: the intake's handler ignores it too
    args = command[1]
    scheduler = scheduler_of(context)
    if chat.type == ChatType.PRIVATE:
        await converse(update, context, Kind.COMMAND, bookclub.COMMAND, args)
    else:
        admin = await is_admin(update, context) if bookclub.needs_admin(args) else False
        inbound = Inbound(
            channel=CHANNEL,
            user_id=str(user.id),
            chat_id=str(chat.id),
            kind=Kind.COMMAND,
            payload=bookclub.COMMAND,
            delivery_id=delivery_id(update, context),
            args=args,
            locale_hint=user.language_code,
            private=False,
            chat_admin=admin,
        )
        parts = hearth(context)
        replies = await parts.service.handle(inbound)
        await parts.sender.deliver(replies, chat.id)
    # A setup, resume or skip may have made a week due sooner than the scheduler sleeps.
    if bookclub.verb_of(args)[0] == "skip":
        scheduler.wake_soon()
    else:
        await scheduler.reschedule()
    raise ApplicationHandlerStop


async def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool | None:
    """Whether the sender is the group's creator or an administrator; None if unknown."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    # An admin posting anonymously sends "as the group": only admins can do that.
    if isinstance(message, Message) and message.sender_chat and message.sender_chat.id == chat.id:
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        log.warning("getChatMember in %s failed: %s", chat.id, exc.message)
        return None
    return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was added to or removed from a chat (or blocked): greet, or stop quietly."""
    change = update.my_chat_member
    if change is None:
        return
    chat, status = change.chat, change.new_chat_member.status
    scheduler = scheduler_of(context)
    if status in _GONE:
        reason = "blocked" if chat.type == ChatType.PRIVATE else "removed"
        await hearth(context).service.bookclub.chat_gone(CHANNEL, str(chat.id), reason)
        # Nothing is sent: the bot can no longer write there.
        await scheduler.reschedule()
    elif chat.type != ChatType.PRIVATE and change.old_chat_member.status in _GONE:
        # In the language of whoever added the bot.
        text = say(locale_of(update), bookclub.LIBRARY, "welcome_group")
        await hearth(context).sender.send(
            chat.id, Outbound(text, key=f"{bookclub.LIBRARY.removesuffix('.j2')}.welcome_group"))
    # Not stopped here: other features may also care that a chat closed (the intake's
    # handlers never match these updates).


async def on_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its schedule follows the new chat id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    old, new = str(message.chat.id), str(message.migrate_to_chat_id)
    await hearth(context).service.bookclub.chat_moved(CHANNEL, old, new)


def install(
    application: Application,  # type: ignore[type-arg]
    service: DialogueService,
) -> BookClubScheduler:
    """Add the book club's handlers ahead of the intake's and wake the scheduler at start."""
    scheduler = BookClubScheduler(application, service)
    application.bot_data["bookclub"] = scheduler
    application.add_handlers(
        [
            MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND & _BOOKCLUB, on_bookclub),
            ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
            MessageHandler(filters.StatusUpdate.MIGRATE, on_migrated),
        ],
        group=HANDLER_GROUP,
    )
    # The first tick runs when the job queue starts: it sends what came due while the
    # bot was down (one week per chat at most) and schedules the next wake-up.
    scheduler.wake_soon()
    return scheduler

