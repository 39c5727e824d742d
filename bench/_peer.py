"""The peer: a minimal python-telegram-bot intake bot as most are written (issue 18).

A ConversationHandler with ten question states, inline keyboards, and one durable SQLite
commit per answer (WAL, synchronous FULL). ConversationHandler keeps each person's state
in memory between updates, so it needs `concurrent_updates(False)`: one update at a time
for the whole bot. This is the baseline Hearth is compared with; it is not shipped.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
)
from telegram.request import BaseRequest

#: The interview: ten questions, each answered with a button.
QUESTIONS: list[tuple[str, list[str]]] = [
    ("How old is your child?", ["0-2", "3-5", "6-9", "10-13", "14+"]),
    ("Was the pregnancy full term?", ["Yes", "No", "Not sure"]),
    ("Did your child walk by 18 months?", ["Yes", "No", "Not sure"]),
    ("First words by 2 years?", ["Yes", "No", "Not sure"]),
    ("How does your child sleep?", ["Well", "Restless", "Poorly"]),
    ("How does your child eat?", ["Well", "Picky", "Poorly"]),
    ("Any hospital stays?", ["None", "One", "Several"]),
    ("How is your child at school or daycare?", ["Fine", "Some trouble", "Struggling"]),
    ("How does your child play with others?", ["Easily", "Sometimes", "Rarely"]),
    ("How are you coping as a caregiver?", ["Well", "So-so", "Not well"]),
]
DONE = "Thank you, your answers are saved. Send /start to answer again."

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    question INTEGER NOT NULL,
    answer TEXT NOT NULL,
    at REAL NOT NULL
);
"""


def connect(path: Path) -> sqlite3.Connection:
    """The peer's database: WAL, synchronous FULL (each commit is fsynced)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(SCHEMA)
    return conn


def keyboard(state: int) -> InlineKeyboardMarkup:
    _, options = QUESTIONS[state]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(o, callback_data=f"{state}:{n}")] for n, o in enumerate(options)]
    )


def peer_application(
    path: Path, *, token: str, request: BaseRequest | None = None, base_url: str | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The peer bot on a fresh SQLite file; `request` for an offline Bot API."""
    conn = connect(path)
    builder = Application.builder().token(token).concurrent_updates(False)
    if request is not None:
        builder = builder.request(request).get_updates_request(request).updater(None)
    if base_url is not None:
        builder = builder.base_url(base_url)
    app = builder.build()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id, QUESTIONS[0][0], reply_markup=keyboard(0))
        return 0

    def answer_state(state: int) -> Any:
        async def answered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
            query = update.callback_query
            assert query is not None and query.data is not None
            assert update.effective_user is not None
            await query.answer()
            # One durable commit per answer, on the event loop as most such bots do.
            conn.execute(
                "INSERT INTO answers (user_id, question, answer, at) VALUES (?, ?, ?, ?)",
                (update.effective_user.id, state, query.data, time.time()),
            )
            following = state + 1
            if following == len(QUESTIONS):
                await query.edit_message_text(DONE)
                return ConversationHandler.END
            await query.edit_message_text(
                QUESTIONS[following][0], reply_markup=keyboard(following))
            return following

        return answered

    app.add_handler(ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={
            n: [CallbackQueryHandler(answer_state(n), pattern=rf"^{n}:")]
            for n in range(len(QUESTIONS))
        },
        fallbacks=[CommandHandler("start", start)],
        per_message=False,
    ))
    app.bot_data["peer_db"] = conn
    return app


def answers(path: Path) -> dict[int, list[int]]:
    """Per person, the questions answered, in commit order (for the order check)."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT user_id, question FROM answers ORDER BY id").fetchall()
    finally:
        conn.close()
    found: dict[int, list[int]] = {}
    for user, question in rows:
        found.setdefault(int(user), []).append(int(question))
    return found
