"""Nicknames are cleaned like answers: no control or bidi marks, one line, a bounded length."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flows.text import MAX_NICKNAME, clean_nickname

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_clean_nickname__bidi_override__dropped() -> None:
    # "Sam" followed by a right-to-left override would show what follows reversed.
    assert clean_nickname("Sam\u202eeoJ") == "SameoJ"
    assert clean_nickname("\u2067Ana\u2069") == "Ana"


def test_clean_nickname__controls_and_line_breaks__one_line() -> None:
    assert clean_nickname("  Mia\x00\x07\x1b[31m\n\tRose\r\n ") == "Mia[31m Rose"
    assert clean_nickname("Leo\x85\x9b2J") == "Leo 2J"  # NEL is a line break, CSI a control


def test_clean_nickname__right_to_left_letters_and_joiners__kept() -> None:
    assert clean_nickname("مريم") == "مريم"
    assert clean_nickname("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"
    assert clean_nickname("José") == "José"  # decomposed é composed (NFC)


def test_clean_nickname__long__cut_at_limit_not_inside_an_accent() -> None:
    assert len(clean_nickname("x" * 100)) == MAX_NICKNAME
    assert clean_nickname("Ana María", limit=4) == "Ana"
    assert clean_nickname("e" + "\u0301\u0301" * 30, limit=2) == "é"  # NFC é, then bare accents
    assert clean_nickname("x" * 100, limit=None) == "x" * 100


@given(st.text(max_size=80))
def test_clean_nickname__any_text__one_clean_line_within_limit(text: str) -> None:
    nickname = clean_nickname(text)
    assert len(nickname) <= MAX_NICKNAME
    assert nickname == nickname.strip() and "  " not in nickname
    assert not any(ch in BIDI or (ord(ch) < 32 or 0x7f <= ord(ch) < 0xa0) for ch in nickname)
    assert clean_nickname(nickname) == nickname  # cleaning twice changes nothing
