"""Turning replies into Bot API calls: message splitting, keyboards, target chats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model import Choice, Outbound
from bot.telegram.sending import RetryPolicy, chat_of, keyboard, split_text, utf16_len

lines = st.lists(st.text(st.characters(blacklist_categories=["Cs"]), max_size=300), max_size=60)


@given(lines, st.integers(20, 500))
def test_split_text__every_part_fits__nothing_lost(parts: list[str], limit: int) -> None:
    text = "\n".join(parts)
    chunks = split_text(text, limit)
    assert all(utf16_len(chunk) <= limit for chunk in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


def test_split_text__cuts_at_line_breaks() -> None:
    text = "\n".join(f"{n}. an answer" for n in range(100))
    chunks = split_text(text, 200)
    assert len(chunks) > 1
    assert all(chunk.split("\n")[0].split(".")[0].isdigit() for chunk in chunks)
    assert "\n".join(chunks) == text


def test_split_text__emoji_count_twice_as_telegram_counts() -> None:
    assert split_text("😀" * 3, 4) == ["😀😀", "😀"]


def test_keyboard__rows_of_buttons() -> None:
    markup = keyboard([[Choice("Yes", "1:a:1:0:o0"), Choice("No", "1:a:1:0:o1")], []])
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["Yes", "No"]]
    assert keyboard([]) is None


def test_keyboard__callback_data_over_64_bytes__rejected() -> None:
    with pytest.raises(ValueError, match="65 bytes, Telegram allows 64"):
        keyboard([[Choice("Too long", "x" * 65)]])


def test_chat_of__own_target_or_where_it_came_from() -> None:
    assert chat_of(Outbound("hi"), 42) == 42
    assert chat_of(Outbound("hi", chat_id="-100123"), 42) == -100123
    assert chat_of(Outbound("hi", chat_id="@hearth_news"), 42) == "@hearth_news"


def test_retry_policy__checked_when_built() -> None:
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        RetryPolicy(attempts=0)
