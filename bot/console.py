"""The interview in a terminal: the same service and store, typed answers, numbered choices."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from bot.model import COMMANDS, Inbound, Kind, Outbound
from bot.service import DialogueService
from messages.words import command_named

CHANNEL = "console"

#: How the console names the buttons under a message: "a) I agree", "b) Not now".
LETTERS = "abcdefgh"

Reader = Callable[[str], str]
Writer = Callable[[str], None]


class ConsoleChat:
    """Reads lines, turns them into `Inbound`s, prints the `Outbound`s."""

    def __init__(
        self,
        service: DialogueService,
        user: str,
        *,
        read: Reader = input,
        write: Writer = print,
        locale: str | None = None,
        show_keys: bool = False,
    ) -> None:
        self.service = service
        self.user = user
        #: The language a new person starts in (HEARTH_LOCALE); a stored choice wins.
        self.locale = locale
        self.read = read
        self.write = write
        self.buttons: list[str] = []  # payloads of the last non-question choices, lettered
        #: Print each message's id ("[replies.ask]") above it: a translator sees which
        #: template said what, and tests follow the conversation without its wording.
        self.show_keys = show_keys

    def inbound(self, kind: Kind, payload: str, args: str = "") -> Inbound:
        return Inbound(
            CHANNEL, self.user, self.user, kind, payload, uuid.uuid4().hex, args,
            locale_hint=self.locale,
        )

    async def send(self, inbound: Inbound) -> None:
        for message in await self.service.handle(inbound):
            self.show(message)

    def show(self, message: Outbound) -> None:
        self.write("")
        if self.show_keys:
            self.write(f"[{message.key}]")
        self.write(message.text)
        if message.is_question:
            self.buttons = []
            return
        if message.choices:
            # Letters, not numbers: at the review a number is an answer's own number
            # ("3" changes answer 3), never a button that sends everything.
            self.buttons = [choice.payload for row in message.choices for choice in row]
            labels = [choice.label for row in message.choices for choice in row]
            for letter, label in zip(LETTERS, labels, strict=False):
                self.write(f"  {letter}) {label}")

    def classify(self, line: str) -> Inbound:
        text = line.strip()
        word, _, rest = text.partition(" ")
        if word.startswith("/") and len(word) > 1:
            # As in Telegram, "/name args" is a command whatever the name (/new Sam, /forget).
            return self.inbound(Kind.COMMAND, word[1:].casefold(), rest.strip())
        command = word.casefold() if word.casefold() in COMMANDS - {"start"} else None
        command = command or command_named(word)
        if command is not None:
            return self.inbound(Kind.COMMAND, command, rest)
        letter = text.casefold()
        if len(letter) == 1 and letter in LETTERS[: len(self.buttons)]:
            return self.inbound(Kind.CHOICE, self.buttons[LETTERS.index(letter)])
        return self.inbound(Kind.TEXT, line)

    def run(self, runner: asyncio.Runner) -> None:
        """The input loop: Ctrl-C, EOF or "quit" pause the interview safely.

        Input is read on the main thread, between steps, so Ctrl-C always lands either
        at the prompt (then we pause) or during a step (whose commit completes on the
        store's thread regardless; then we pause too).
        """
        runner.run(self.send(self.inbound(Kind.COMMAND, "start")))
        while True:
            try:
                inbound = self.classify(self.read("> "))
                runner.run(self.send(inbound))
            except (EOFError, KeyboardInterrupt):
                self.write("")
                runner.run(self.send(self.inbound(Kind.COMMAND, "pause")))
                return
            if inbound.kind is Kind.COMMAND and inbound.payload in ("quit", "pause"):
                return  # paused (the reply said how to come back) or left
