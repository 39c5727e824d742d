"""An offline Bot API for end-to-end tests: answers like Telegram, records every call.

Telegram carries only text, so a test cannot tell from a call which message Hearth meant.
`record_deliveries` puts a recording `Sender` into a built Application: each message on a
phone then also knows the `Outbound` it came from (its stable id, its question, its
buttons' keys), and `FakeBotApi.delivered` lists every Outbound in the order sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from telegram import Bot, Message, Update
from telegram.error import TimedOut
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.model import Attachment, Outbound
from bot.telegram.handlers import Hearth
from bot.telegram.sending import ChatId, Sender

BOT_ID = 7_000_001
BOT_USERNAME = "hearth_test_bot"
DATE = 1_795_000_000  # a fixed instant; nothing here depends on the wall clock

JSON = dict[str, Any]


@dataclass
class Call:
    """One request the bot made: the Bot API method and its decoded parameters."""

    method: str
    params: JSON
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    failed: str | None = None  # "429" or "timeout" when told to fail it
    at: float = 0.0  # event-loop time, to see waits


@dataclass
class Shown:
    """A message in a chat as the person's phone shows it now (edits applied)."""

    chat_id: int
    message_id: int
    text: str
    keyboard: list[list[JSON]] = field(default_factory=list)
    from_bot: bool = True
    file: str | None = None  # the file name of a photo or document
    #: The message Hearth meant (set by `record_deliveries`; None for the person's own).
    outbound: Outbound | None = None

    @property
    def key(self) -> str:
        """The stable id of the message Hearth sent here ("replies.ask", "problems.range")."""
        return self.outbound.key if self.outbound is not None else ""

    @property
    def question(self) -> str | None:
        """The question key a "replies.ask"/"replies.answered" message is about."""
        return self.outbound.question if self.outbound is not None else None

    @property
    def button_keys(self) -> list[str]:
        """What each button on screen stands for ("agree", "foster"), in order."""
        keys = {
            c.payload: c.key
            for row in (self.outbound.choices if self.outbound else [])
            for c in row
        }
        return [keys.get(str(data), "") for data in self.callback_data]

    @property
    def labels(self) -> list[str]:
        return [button["text"] for row in self.keyboard for button in row]

    @property
    def callback_data(self) -> list[str]:
        return [button["callback_data"] for row in self.keyboard for button in row]


@dataclass
class _Failure:
    method: str | None
    kind: str  # "429" | "timeout"
    retry_after: int = 1


class FakeBotApi(BaseRequest):
    """A `BaseRequest` that plays Telegram: well-formed results, kept chats, no network.

    Like Telegram, editing a message to exactly what it already shows is a 400
    "message is not modified". `fail_next` makes the next matching call(s) fail once.
    """

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.chats: dict[int, JSON] = {}
        self.messages: dict[tuple[int, int], Shown] = {}
        self.commands: list[JSON] = []  # the default menu
        self.menus: dict[str, list[JSON]] = {}  # language code -> its menu
        self.scoped_menus: dict[tuple[str, str], list[JSON]] = {}  # (scope, language) -> menu
        self.answered: dict[str, int] = {}  # callback query id -> times answered
        self.queries: list[str] = []  # callback query ids handed to the bot, in order
        self.latency = 0.0  # seconds each call takes, to let concurrent work overlap
        self.in_flight = 0
        self.max_in_flight = 0
        self.pending: deque[JSON] = deque()  # what getUpdates hands out next
        #: Every Outbound Hearth handed to its Sender, with the chat it went to, in order
        #: (filled only after `record_deliveries`).
        self.delivered: list[tuple[ChatId, Outbound]] = []
        self._called: asyncio.Event | None = None
        self._failures: deque[_Failure] = deque()
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._update_ids = itertools.count(500_000)
        self._query_ids = itertools.count(1)

    # -- BaseRequest -----------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

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
        api = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = (
            {name: (str(part[0]), _bytes(part[1]), str(part[2]))
             for name, part in request_data.multipart_data.items()}
            if request_data and request_data.contains_files
            else {}
        )
        call = Call(api, params, files, at=asyncio.get_running_loop().time())
        self.calls.append(call)
        if self._called is not None:
            self._called.set()
        if self.latency:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.latency)
            finally:
                self.in_flight -= 1
        failure = self._take_failure(api)
        if failure is not None:
            call.failed = failure.kind
            if failure.kind == "timeout":
                raise TimedOut("Timed out (offline test)")
            body = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {failure.retry_after}",
                "parameters": {"retry_after": failure.retry_after},
            }
            return 429, json.dumps(body).encode()
        if api == "getUpdates" and not self.pending:
            await asyncio.sleep(0.01)  # a long poll that found nothing, shortened
        handler = getattr(self, f"api_{api}", None)
        try:
            result = handler(params, files) if handler else True
        except _ApiError as error:
            body = {"ok": False, "error_code": error.code, "description": error.description}
            return error.code, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # -- test controls ----------------------------------------------------------------------

    def fail_next(self, method: str | None = None, *, retry_after: int | None = None,
                  timeout: bool = False, times: int = 1) -> None:
        """Make the next `times` calls of `method` (any method if None) fail."""
        kind = "timeout" if timeout else "429"
        for _ in range(times):
            self._failures.append(_Failure(method, kind, retry_after or 1))

    def _take_failure(self, api: str) -> _Failure | None:
        for failure in self._failures:
            if failure.method in (None, api):
                self._failures.remove(failure)
                return failure
        return None

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait (five seconds at most) until the bot's calls make `condition` true."""
        self._called = self._called or asyncio.Event()
        async with asyncio.timeout(5):
            while not condition():
                self._called.clear()
                await self._called.wait()

    def calls_of(self, *methods: str) -> list[Call]:
        return [call for call in self.calls if call.method in methods]

    def chat(self, chat_id: int) -> list[Shown]:
        """Everything in a chat, oldest first, as it reads now."""
        return sorted(
            (m for (chat, _), m in self.messages.items() if chat == chat_id),
            key=lambda m: m.message_id,
        )

    def from_bot(self, chat_id: int) -> list[Shown]:
        return [m for m in self.chat(chat_id) if m.from_bot]

    def last(self, chat_id: int) -> Shown:
        return self.from_bot(chat_id)[-1]

    def keys(self, chat_id: int) -> list[str]:
        """The ids of the messages from the bot in a chat, oldest first."""
        return [m.key for m in self.from_bot(chat_id)]

    def delivered_keys(self, chat_id: ChatId | None = None) -> list[str]:
        """The ids of the Outbounds delivered (to one chat, if given), in order."""
        return [o.key for chat, o in self.delivered if chat_id is None or chat == chat_id]

    # -- Telegram's side ------------------------------------------------------------------------

    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def next_query_id(self) -> str:
        query_id = f"q{next(self._query_ids)}"
        self.queries.append(query_id)
        return query_id

    def chat_json(self, chat_id: int) -> JSON:
        default = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
        return self.chats.get(chat_id, default)

    def bot_user(self) -> JSON:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Hearth", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def message_json(self, shown: Shown) -> JSON:
        data: JSON = {"message_id": shown.message_id, "date": DATE,
                      "chat": self.chat_json(shown.chat_id)}
        if shown.from_bot:
            data["from"] = self.bot_user()
        if shown.keyboard:
            data["reply_markup"] = {"inline_keyboard": shown.keyboard}
        if shown.file is None:
            data["text"] = shown.text
        else:
            data["caption"] = shown.text
        return data

    def _post(self, params: JSON, text: str, file: str | None = None) -> JSON:
        chat_id = int(params["chat_id"])
        markup = params.get("reply_markup") or {}
        shown = Shown(chat_id, self.next_message_id(chat_id), text,
                      markup.get("inline_keyboard", []), file=file)
        self.messages[(chat_id, shown.message_id)] = shown
        return self.message_json(shown)

    def api_getMe(self, params: JSON, files: Any) -> JSON:
        return self.bot_user()

    def api_sendMessage(self, params: JSON, files: Any) -> JSON:
        if not str(params.get("text", "")).strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(str(params["text"]).encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._post(params, str(params["text"]))

    def api_sendPhoto(self, params: JSON, files: dict[str, tuple[str, bytes, str]]) -> JSON:
        data = self._post(params, str(params.get("caption", "")), _file_name(files))
        data["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 800, "height": 600}]
        return data

    def api_sendDocument(self, params: JSON, files: dict[str, tuple[str, bytes, str]]) -> JSON:
        name = _file_name(files)
        data = self._post(params, str(params.get("caption", "")), name)
        data["document"] = {"file_id": "d1", "file_unique_id": "u2", "file_name": name}
        return data

    def api_editMessageText(self, params: JSON, files: Any) -> JSON:
        key = (int(params["chat_id"]), int(params["message_id"]))
        shown = self.messages.get(key)
        if shown is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        keyboard = (params.get("reply_markup") or {}).get("inline_keyboard", [])
        if shown.text == params["text"] and shown.keyboard == keyboard:
            raise _ApiError(400, "Bad Request: message is not modified: specified new message "
                                 "content and reply markup are exactly the same")
        shown.text, shown.keyboard = str(params["text"]), keyboard
        return self.message_json(shown)

    def api_editMessageReplyMarkup(self, params: JSON, files: Any) -> JSON:
        shown = self.messages[(int(params["chat_id"]), int(params["message_id"]))]
        shown.keyboard = (params.get("reply_markup") or {}).get("inline_keyboard", [])
        return self.message_json(shown)

    def api_deleteMessage(self, params: JSON, files: Any) -> bool:
        self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
        return True

    def api_answerCallbackQuery(self, params: JSON, files: Any) -> bool:
        query_id = str(params["callback_query_id"])
        self.answered[query_id] = self.answered.get(query_id, 0) + 1
        return True

    def api_setMyCommands(self, params: JSON, files: Any) -> bool:
        scope = params.get("scope")
        if scope:
            kind = json.loads(scope)["type"] if isinstance(scope, str) else scope["type"]
            self.scoped_menus[(str(kind), str(params.get("language_code") or ""))] = list(
                params["commands"])
            return True
        if params.get("language_code"):
            self.menus[str(params["language_code"])] = list(params["commands"])
        else:
            self.commands = list(params["commands"])
        return True

    def api_getMyCommands(self, params: JSON, files: Any) -> list[JSON]:
        return self.commands

    def deliver(self, update: Update) -> None:
        """Queue an update for the bot's next getUpdates (long polling)."""
        self.pending.append(update.to_dict())

    def api_getUpdates(self, params: JSON, files: Any) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        while self.pending and self.pending[0]["update_id"] < offset:
            self.pending.popleft()  # confirmed by the bot asking past it
        return list(self.pending)


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _bytes(content: Any) -> bytes:
    return content if isinstance(content, bytes) else bytes(content.read())


def _file_name(files: dict[str, tuple[str, bytes, str]]) -> str | None:
    return next(iter(files.values()))[0] if files else None


class Phone:
    """One person's Telegram client: builds the real `Update`s their actions produce."""

    def __init__(self, api: FakeBotApi, bot: Bot | None, user_id: int, *, first_name: str = "Ana",
                 language_code: str | None = "en", group: int | None = None) -> None:
        self.api = api
        self.bot = bot
        self.user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            self.user["language_code"] = language_code
        self.chat_id = group if group is not None else user_id
        if group is None:
            api.chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name}
        else:
            api.chats[group] = {"id": group, "type": "group", "title": "Parents' book club"}

    def rebind(self, bot: Bot) -> Phone:
        """The same person talking to a restarted bot."""
        self.bot = bot
        return self

    # -- what the person sees ---------------------------------------------------------------

    @property
    def screen(self) -> list[Shown]:
        return self.api.chat(self.chat_id)

    @property
    def last(self) -> Shown:
        return self.api.last(self.chat_id)

    @property
    def keys(self) -> list[str]:
        """The ids of the bot's messages in this chat, oldest first."""
        return self.api.keys(self.chat_id)

    def find_key(self, key: str) -> tuple[Shown, str]:
        """The newest message with a button that stands for `key`, and that button's data."""
        for shown in reversed(self.api.from_bot(self.chat_id)):
            for button_key, data in zip(shown.button_keys, shown.callback_data, strict=True):
                if button_key == key:
                    return shown, data
        raise AssertionError(f"no button with key {key!r} on screen: {self.keys}")

    def find(self, label: str) -> tuple[Shown, str]:
        """The newest message with a button labelled `label` (ticks ☐/☑ ignored)."""
        for shown in reversed(self.api.from_bot(self.chat_id)):
            for row in shown.keyboard:
                for button in row:
                    text = str(button["text"])
                    if text == label or text.lstrip("☐☑ ") == label:
                        return shown, str(button["callback_data"])
        raise AssertionError(f"no button {label!r} on screen: {[m.text[:50] for m in self.screen]}")

    # -- what the person does -----------------------------------------------------------------

    def _update(self, **content: JSON) -> Update:
        data: JSON = {"update_id": self.api.next_update_id(), **content}
        update = Update.de_json(data, self.bot)
        assert update is not None
        return update

    def _message(self, **fields: Any) -> JSON:
        message_id = self.api.next_message_id(self.chat_id)
        self.api.messages[(self.chat_id, message_id)] = Shown(
            self.chat_id, message_id, str(fields.get("text", "")), from_bot=False)
        return {"message_id": message_id, "date": DATE, "chat": self.api.chat_json(self.chat_id),
                "from": self.user, **fields}

    def text(self, text: str) -> Update:
        return self._update(message=self._message(text=text))

    def command(self, name: str, args: str = "", *, to: str | None = None) -> Update:
        word = f"/{name}" + (f"@{to}" if to else "")
        text = f"{word} {args}".strip()
        entities = [{"type": "bot_command", "offset": 0, "length": len(word)}]
        return self._update(message=self._message(text=text, entities=entities))

    def tap(self, label: str) -> Update:
        """Press a button on the newest message that has it."""
        shown, data = self.find(label)
        return self.press(shown, data)

    def tap_key(self, key: str) -> Update:
        """Press the newest button that stands for `key` ("agree", "submit", "lang_es")."""
        shown, data = self.find_key(key)
        return self.press(shown, data)

    def choose(self, value: str) -> Update:
        """Pick the option `value` ("foster", "sleep", "3") on the newest question showing it."""
        return self.tap_key(value)

    def press(self, shown: Shown, data: str) -> Update:
        """Press a button with this data on this message (the data may be forged)."""
        query = {"id": self.api.next_query_id(), "from": self.user, "chat_instance": "c1",
                 "data": data, "message": self.api.message_json(shown)}
        return self._update(callback_query=query)

    def sticker(self) -> Update:
        sticker = {"file_id": "s1", "file_unique_id": "su1", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}
        return self._update(message=self._message(sticker=sticker))

    def photo(self, caption: str | None = None) -> Update:
        photo = [{"file_id": "ph1", "file_unique_id": "phu1", "width": 90, "height": 90}]
        extra = {"caption": caption} if caption else {}
        return self._update(message=self._message(photo=photo, **extra))

    def voice(self) -> Update:
        voice = {"file_id": "v1", "file_unique_id": "vu1", "duration": 3}
        return self._update(message=self._message(voice=voice))

    def document(self) -> Update:
        document = {"file_id": "f1", "file_unique_id": "fu1", "file_name": "notes.pdf"}
        return self._update(message=self._message(document=document))

    def edit(self, message_id: int, text: str) -> Update:
        edited = {"message_id": message_id, "date": DATE, "edit_date": DATE + 60,
                  "chat": self.api.chat_json(self.chat_id), "from": self.user, "text": text}
        return self._update(edited_message=edited)


_noting: ContextVar[bool] = ContextVar("noting", default=False)


class RecordingSender(Sender):
    """The application's own Sender, noting which Outbound each message on a phone shows.

    The real Bot API calls still go through `FakeBotApi`, which records them as ever.
    """

    def __init__(self, sender: Sender, api: FakeBotApi) -> None:
        super().__init__(sender.bot, sender.retry)
        self.api = api

    async def _noting(self, chat_id: ChatId, outbound: Outbound, sending: Awaitable[None],
                      edited: tuple[int, int] | None = None) -> None:
        if _noting.get():  # an edit fell back to a send: the Outbound is noted once
            await sending
            return
        token = _noting.set(True)  # per task: several people are served at once
        before = set(self.api.messages)
        try:
            await sending
        finally:
            _noting.reset(token)
        self.api.delivered.append((chat_id, outbound))
        touched = {place for place in set(self.api.messages) - before if place[0] == chat_id}
        if edited is not None and edited in self.api.messages:
            touched.add(edited)
        for place in touched:
            self.api.messages[place].outbound = outbound

    async def send(self, chat_id: ChatId, outbound: Outbound) -> None:
        await self._noting(chat_id, outbound, super().send(chat_id, outbound))

    async def edit(self, message: Message, outbound: Outbound) -> None:
        place = (message.chat.id, message.message_id)
        await self._noting(message.chat.id, outbound, super().edit(message, outbound), place)

    async def send_attachment(
        self, chat_id: ChatId, outbound: Outbound, attachment: Attachment
    ) -> None:
        sending = super().send_attachment(chat_id, outbound, attachment)
        await self._noting(chat_id, outbound, sending)


def record_deliveries(app: Application, api: FakeBotApi) -> Application:  # type: ignore[type-arg]
    """Swap a built Application's Sender for a `RecordingSender` writing to `api`."""
    parts = app.bot_data["hearth"]
    assert isinstance(parts, Hearth)
    app.bot_data["hearth"] = replace(parts, sender=RecordingSender(parts.sender, api))
    return app
