"""The interview in a terminal: the same service and store, typed answers, numbered choices."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from bot.model import COMMANDS, Inbound, Kind, Outbound
from bot.service import DialogueService

CHANNEL = "console"

#: Words typed at the prompt that are commands, not answers (English, and Spanish aliases).
WORDS: dict[str, str] = {word: word for word in COMMANDS - {"start"}} | {
    "atrás": "back",
    "atras": "back",
    "saltar": "skip",
    "pausa": "pause",
    "seguir": "resume",
    "revisar": "review",
    "editar": "edit",
    "enviar": "submit",
    "ayuda": "help",
    "estado": "status",
    "salir": "quit",
    "idioma": "language",
}

Reader = Callable[[str], str]
Writer = Callable[[str], None]


class ConsoleChat:
    """Reads lines, turns them into `Inbound`s, prints the `Outbound`s."""

    def __init__(
        self, service: DialogueService, user: str, *, read: Reader = input, write: Writer = print
    ) -> None:
        self.service = service
        self.user = user
        self.read = read
        self.write = write
        self.buttons: list[str] = []  # payloads of the last non-question choices, numbered

    def inbound(self, kind: Kind, payload: str, args: str = "") -> Inbound:
        return Inbound(CHANNEL, self.user, self.user, kind, payload, uuid.uuid4().hex, args)

    async def send(self, inbound: Inbound) -> None:
        for message in await self.service.handle(inbound):
            self.show(message)

    def show(self, message: Outbound) -> None:
        self.write("")
        self.write(message.text)
        if message.is_question:
            self.buttons = []
            return
        if message.choices:
            self.buttons = [choice.payload for row in message.choices for choice in row]
            labels = [choice.label for row in message.choices for choice in row]
            for number, label in enumerate(labels, start=1):
                self.write(f"  {number}) {label}")

    def classify(self, line: str) -> Inbound:
        text = line.strip()
        word, _, rest = text.partition(" ")
        if word.startswith("/") and len(word) > 1:
            # As in Telegram, "/name args" is a command whatever the name (/new Sam, /forget).
            return self.inbound(Kind.COMMAND, word[1:].casefold(), rest.strip())
        if word.casefold() in WORDS:
            return self.inbound(Kind.COMMAND, WORDS[word.casefold()], rest)
        if text.isdigit() and self.buttons and 1 <= int(text) <= len(self.buttons):
            return self.inbound(Kind.CHOICE, self.buttons[int(text) - 1])
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
            if inbound.kind is Kind.COMMAND and inbound.payload == "quit":
                return
