"""Offline Bot API, a bench-local Hearth handler, and simulated Telegram caregivers."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

from bench._common import Caregiver, Move, View
from bot.model import COMMANDS, Inbound, Kind, Outbound
from bot.service import DialogueService

App = Application[Any, Any, Any, Any, Any, Any]

BOT_ID = 777000
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Hearth", "username": "hearth_bench_bot"}
TOKEN = f"{BOT_ID}:bench-offline-token"


@dataclass
class Sent:
    """A message the bot sent or edited, as the person's phone shows it."""

    message_id: int
    view: View


class OfflineBotApi(BaseRequest):
    """The Bot API answered offline after `delay` seconds: subclasses say what each method
    answers (`answer`); the plumbing PTB needs from a request class is here once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if self.delay:
            await asyncio.sleep(self.delay)
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        return await self.answer(name, params)

    async def answer(self, name: str, params: dict[str, Any]) -> tuple[int, bytes]:
        """The HTTP status and JSON body for one Bot API call."""
        raise NotImplementedError


class OfflineRequest(OfflineBotApi):
    """Answers the Bot API offline after `delay` seconds; routes messages to `inbox[chat]`."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(delay)
        self.calls = 0
        self.ids = itertools.count(1)
        self.inbox: dict[int, list[Sent]] = {}

    async def answer(self, name: str, params: dict[str, Any]) -> tuple[int, bytes]:
        self.calls += 1
        result: Any = True
        if name == "getMe":
            result = {**BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False,
                      "supports_inline_queries": False}
        elif name in ("sendMessage", "editMessageText"):
            chat = int(params["chat_id"])
            message_id = int(params.get("message_id") or next(self.ids))
            markup = params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            buttons = [
                (b["text"], b["callback_data"])
                for row in (markup or {}).get("inline_keyboard", [])
                for b in row
            ]
            self.inbox.setdefault(chat, []).append(
                Sent(message_id, View(str(params["text"]), buttons)))
            result = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "Caregiver"},
                "from": BOT_USER,
                "text": params["text"],
            }
            if markup:
                result["reply_markup"] = markup
        return 200, json.dumps({"ok": True, "result": result}).encode()


# -- a bench-local adapter (used until bot/telegram's build_application lands) --------------


def _outbound_markup(outbound: Outbound) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(c.label, callback_data=c.payload) for c in row]
            for row in outbound.choices if row]
    return InlineKeyboardMarkup(rows) if rows else None


def local_handlers(app: App, service: DialogueService) -> None:
    """Plain handlers forwarding to the service (no ConversationHandler: state is the store's)."""

    def inbound(update: Update, kind: Kind, payload: str, args: str = "") -> Inbound:
        user = update.effective_user
        chat = update.effective_chat
        assert user is not None and chat is not None
        return Inbound("telegram", str(user.id), str(chat.id), kind, payload,
                       str(update.update_id), args, locale_hint=user.language_code,
                       private=chat.type == "private")

    async def deliver(update: Update, replies: list[Outbound]) -> None:
        chat = update.effective_chat
        assert chat is not None
        pressed = update.callback_query.message if update.callback_query else None
        for outbound in replies:
            markup = _outbound_markup(outbound)
            if outbound.replace and pressed is not None:
                await app.bot.edit_message_text(outbound.text, chat_id=chat.id,
                                                message_id=pressed.message_id,
                                                reply_markup=markup)
            else:
                await app.bot.send_message(chat.id, outbound.text, reply_markup=markup)

    async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        name = update.message.text.split()[0].lstrip("/").split("@")[0]
        args = " ".join(context.args or [])
        await deliver(update, await service.handle(inbound(update, Kind.COMMAND, name, args)))

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await deliver(update, await service.handle(
            inbound(update, Kind.TEXT, update.message.text)))

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        await query.answer()
        await deliver(update, await service.handle(inbound(update, Kind.CHOICE, query.data)))

    app.add_handler(CommandHandler(sorted(COMMANDS), on_command))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))


def real_adapter_available() -> bool:
    """Whether bot/telegram has landed. If it is there but does not import, that is raised:
    a broken adapter must not be silently replaced by the bench-local handlers."""
    if importlib.util.find_spec("bot.telegram") is None:
        return False
    from bot.telegram import build_application  # noqa: F401

    return True


def processor(concurrent: bool) -> bool | BaseUpdateProcessor:
    """Concurrent with per-person order when bot/telegram provides it, else PTB's 256."""
    if not concurrent:
        return False
    try:
        from bot.settings import Settings
        from bot.telegram.ordering import PerPersonUpdateProcessor
    except ImportError:
        return True
    return PerPersonUpdateProcessor(Settings().telegram_concurrency)


def bare_application(request: OfflineRequest, concurrent: bool) -> App:
    """The ceiling: a real Application whose only handler sends one reply."""
    app = (ApplicationBuilder().token(TOKEN).request(request).updater(None)
           .concurrent_updates(processor(concurrent)).build())

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        await context.bot.send_message(chat.id, "ok")

    app.add_handler(TypeHandler(Update, reply))
    return app


def hearth_application(request: OfflineRequest, service: DialogueService, concurrent: bool,
                       *, rate_limited: bool = False) -> tuple[App, str]:
    """Hearth behind a real Application: bot/telegram's handlers if present, else local ones.

    `rate_limited` keeps the shipped AIORateLimiter (Telegram's 30 messages/s for the whole
    bot); without it the figures are Hearth's own capacity. `concurrent` False is one update
    at a time (what a ConversationHandler requires).
    """
    if not real_adapter_available():
        app = (ApplicationBuilder().token(TOKEN).request(request).updater(None)
               .concurrent_updates(processor(concurrent)).build())
        local_handlers(app, service)
        return app, "bench-local handlers (bot/telegram not there)"
    from bot.settings import load_settings
    from bot.telegram import build_application
    from bot.telegram.application import add_handlers
    from bot.telegram.handlers import Hearth
    from bot.telegram.ordering import PerPersonUpdateProcessor
    from bot.telegram.sending import Sender

    settings = load_settings(telegram_token=TOKEN)
    if rate_limited and concurrent:
        return (build_application(service, settings, request=request),
                "bot/telegram build_application, as shipped (AIORateLimiter on)")
    builder = ApplicationBuilder().token(TOKEN).request(request).updater(None)
    if rate_limited:
        rate_limiter = AIORateLimiter(
            overall_max_rate=getattr(settings, "telegram_max_rate", 30),
            max_retries=settings.telegram_flood_retries)
        builder = builder.rate_limiter(rate_limiter)  # type: ignore[arg-type]
    builder = builder.concurrent_updates(
        PerPersonUpdateProcessor(settings.telegram_concurrency) if concurrent else False)
    app = builder.build()
    app.bot_data["hearth"] = Hearth(service, Sender(app.bot))
    add_handlers(app)
    limiter = "rate limiter on" if rate_limited else "no rate limiter"
    order = (f"per-person order, {settings.telegram_concurrency} at once" if concurrent
             else "one update at a time")
    return app, f"bot/telegram handlers, {order}, {limiter}"


# -- simulated people on Telegram -----------------------------------------------------------


@dataclass
class Traffic:
    """Feeds updates into an Application and waits for each to be fully processed."""

    app: App
    request: OfflineRequest
    update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    waiting: dict[int, list[asyncio.Future[None]]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    done_ids: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def install(self) -> None:
        """A last-group handler marks each update done once every other group ran."""

        async def done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            self.done_ids.add(update.update_id)
            futures = self.waiting.get(update.update_id)
            if futures:
                future = futures.pop(0)
                if not futures:
                    del self.waiting[update.update_id]
                if not future.done():
                    future.set_result(None)

        async def failed(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
            self.errors.append(repr(context.error))

        self.app.add_handler(TypeHandler(Update, done), group=99)
        self.app.add_error_handler(failed)

    def drop_pending(self) -> int:
        """Drop queued, unprocessed updates (ends a timed run); their senders are cancelled."""
        dropped = 0
        while not self.app.update_queue.empty():
            update = self.app.update_queue.get_nowait()
            self.app.update_queue.task_done()
            dropped += 1
            if not isinstance(update, Update):
                continue
            futures = self.waiting.get(update.update_id)
            if futures:
                futures.pop().cancel()
                if not futures:
                    del self.waiting[update.update_id]
        return dropped

    async def send(self, data: dict[str, Any]) -> None:
        """Build the Update from JSON (as polling does), queue it, await its processing."""
        start = time.perf_counter()
        update = Update.de_json(data, self.app.bot)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(update.update_id, []).append(future)
        await self.app.update_queue.put(update)
        await future
        self.latencies.append(time.perf_counter() - start)


def user_json(user: int) -> dict[str, Any]:
    return {"id": user, "is_bot": False, "first_name": f"Caregiver{user}", "language_code": "en"}


def update_json(update_id: int, user: int, move: Move, pressed: int | None,
                message_ids: Callable[[], int]) -> dict[str, Any]:
    """The JSON Telegram would send for a caregiver's move."""
    chat = {"id": user, "type": "private", "first_name": f"Caregiver{user}"}
    now = int(time.time())
    if move.kind is Kind.CHOICE:
        return {"update_id": update_id, "callback_query": {
            "id": str(update_id), "from": user_json(user), "chat_instance": str(user),
            "data": move.payload,
            "message": {"message_id": pressed or 1, "date": now, "chat": chat, "from": BOT_USER,
                        "text": "…"}}}
    text = f"/{move.payload}" if move.kind is Kind.COMMAND else move.payload
    message: dict[str, Any] = {"message_id": message_ids(), "date": now, "chat": chat,
                               "from": user_json(user), "text": text}
    if move.kind is Kind.COMMAND:
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


class Session:
    """One person on Telegram: taps and types until done; can be continued on another app.

    Every `redeliver_every`-th update is delivered twice (Telegram redelivers after a
    timeout): the copy must change nothing. `confirmed` collects the answered item keys
    whose update was fully processed; `recorded` the updates sent (for the ceiling replay).
    """

    def __init__(self, caregiver: Caregiver, user: int, request: OfflineRequest,
                 redeliver_every: int = 0) -> None:
        self.caregiver = caregiver
        self.user = user
        self.inbox = request.inbox.setdefault(user, [])
        self.incoming = itertools.count(1)
        self.move: Move | None = caregiver.first()
        self.mark = len(caregiver.answered)  # answers given by `move` are answered[mark:]
        self.redeliver_every = redeliver_every
        self.sent = 0
        self.confirmed: list[str] = []
        self.recorded: list[dict[str, Any]] = []

    async def run(self, traffic: Traffic, *, max_steps: int | None = None,
                  deadline: float | None = None) -> int:
        """Send up to `max_steps` updates (until `deadline`); returns how many were sent."""
        caregiver, inbox, sent = self.caregiver, self.inbox, 0
        while self.move is not None:
            if max_steps is not None and sent >= max_steps:
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break
            move = self.move
            pressed = None
            if move.kind is Kind.CHOICE:
                pressed = next((s.message_id for s in reversed(inbox)
                                if any(p == move.payload for _, p in s.view.buttons)), None)
            data = update_json(next(traffic.update_ids), self.user, move, pressed,
                               lambda: next(self.incoming))
            seen = len(inbox)
            sent += 1
            self.sent += 1
            if self.redeliver_every and self.sent % self.redeliver_every == 0:
                self.recorded += [data, data]
                await asyncio.gather(traffic.send(data), traffic.send(data))
            else:
                self.recorded.append(data)
                await traffic.send(data)
            self.confirmed.extend(caregiver.answered[self.mark:])
            self.mark = len(caregiver.answered)
            self.move = caregiver.next([s.view for s in inbox[seen:]])
            del inbox[:-8]  # keep a few recent messages (buttons to press), not the history
        return sent


async def replay_session(traffic: Traffic, updates: list[dict[str, Any]]) -> None:
    """Send recorded updates one after another (for the ceiling: the same updates)."""
    for data in updates:
        await traffic.send(data)

