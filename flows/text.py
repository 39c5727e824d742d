"""Clean a short name given for a child (a nickname) the way typed answers are cleaned."""

from __future__ import annotations

import unicodedata

from flows.answers import clean_text

#: The longest child nickname kept (a first name or nickname, no more).
MAX_NICKNAME = 40
#: Invisible marks a nickname never needs, beyond what `clean_text` drops: the weak bidi
#: marks (LRM, RLM, ALM) and the byte-order mark. Joiners (ZWJ, ZWNJ) stay: some scripts
#: and emoji need them.
_MARKS = frozenset("\u200e\u200f\u061c\ufeff")


def clean_nickname(text: str, limit: int | None = MAX_NICKNAME) -> str:
    """`text` as a one-line nickname: no control or bidi marks, single spaces, at most `limit`.

    Cleaned like a typed answer (`clean_text`), then stricter, because a nickname is shown
    on one line in lists, captions, reports and charts: every control character (C1 ones too)
    and bidi mark goes, runs of spaces, tabs and line breaks become one space, and the result is cut
    to `limit` characters (None: not cut, for callers that refuse a long one instead).
    """
    kept = "".join(ch for ch in clean_text(text)
                   if ch not in _MARKS and (ch.isspace() or unicodedata.category(ch) != "Cc"))
    nickname = " ".join(kept.split())
    if limit is not None and len(nickname) > limit:
        # Cutting between a letter and its combining accent would leave a bare accent.
        nickname = nickname[:limit]
        while nickname and unicodedata.combining(nickname[-1]):
            nickname = nickname[:-1]
        nickname = nickname.rstrip()
    return nickname
