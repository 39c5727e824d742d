"""Make a person's words safe to draw with matplotlib: shown as typed, never as math text."""

from __future__ import annotations


def chart_text(text: str) -> str:
    """`text` with every `$` escaped, so matplotlib draws it literally.

    Matplotlib reads a string with an even number of unescaped `$` as math text: a child's
    name like `$\\frac{1}{$` would be parsed, and fail, making the whole chart fail. With
    every `$` written `\\$` none is unescaped, so the string is plain text, and matplotlib
    turns each `\\$` back into `$` when it draws. Every user-given string that reaches a
    chart goes through here; our own words (messages/, flow data) need not.
    """
    return text.replace("$", r"\$")
