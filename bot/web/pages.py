"""Outbound messages -> one HTML page: what is shown, which forms, in the person's language."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from bot.model import Outbound
from flows.catalog import FlowCatalog
from flows.engine import split_key
from flows.schema import ItemType
from messages.render import LOCALES, environment, say

#: The longest typed answer kept (the same limit as Telegram's adapter).
MAX_ANSWER_CHARS = 4000
#: Buttons every question carries; on the web they are the navigation commands instead.
_NAVIGATION_KEYS = frozenset({"back", "skip"})
#: Messages at which the text box takes a review row's number (or "send").
_REVIEW_KEYS = frozenset({"replies.review", "replies.review_actions", "replies.review_return"})
#: A paused interview's replies, and a sent one's: what the page offers next differs.
_PAUSED_KEYS = frozenset({"replies.paused", "replies.already_paused"})
_SENT_KEYS = frozenset({"replies.submitted"})
#: Messages that invite the family's own words in a text box: after the plan's check-in,
#: "how has it gone, in your words" (optional, where the chat takes them too).
_WORDS_KEYS = frozenset({"plan_edits.checkin_words_invite"})
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def words(locale: str, name: str, **params: Any) -> str:
    """One of the web's own sentences (messages/<locale>/web.j2)."""
    return say(locale, "web.j2", name, "web", **params)


@cache
def stylesheet() -> bytes:
    return (resources.files("bot.web") / "static" / "app.css").read_bytes()


@cache
def stylesheet_path() -> str:
    """The stylesheet's address, versioned by its content (cached for a year)."""
    return f"/static/app.css?v={hashlib.sha256(stylesheet()).hexdigest()[:12]}"


@dataclass(frozen=True)
class TextBox:
    label: str
    long: bool = False
    inputmode: str = ""
    limit: int = MAX_ANSWER_CHARS
    #: The web.j2 macro of its button's label.
    button: str = "send_text"


@dataclass
class Page:
    """What one page shows; `page.html.j2` draws it."""

    lang: str
    messages: list[Outbound] = field(default_factory=list)
    answer: TextBox | None = None
    nav: list[tuple[str, str]] = field(default_factory=list)
    languages: list[tuple[str, str]] = field(default_factory=list)
    begin: bool = False
    #: The begin button's word: "begin", or "carry_on" on a paused interview's page.
    begin_word: str = "begin"
    invite: str = ""
    resume: bool = False
    home: bool = False
    privacy: bool = False
    notice: str = ""
    notice_key: str = ""


def merge(pending: list[Outbound], now: list[Outbound]) -> list[Outbound]:
    """The replies of the last form posted, then what the person sees now, once each.

    What the view shows now wins over the same message from the last step: its buttons
    carry the interview's current revision (the step may have been followed by another,
    in another tab or channel), so only the step's own notes ("✔ saved", a problem,
    "paused") come from it.
    """
    if pending and any(m.key == "replies.already_submitted" for m in now):
        return pending  # just sent: the thanks, not the offer of a new interview yet
    shown = {(m.key, m.question) for m in now}
    asked = {m.question for m in now if m.is_question}
    kept = [
        m for m in pending
        if (m.key, m.question) not in shown and not (m.is_question and m.question not in asked)
    ]
    return kept + now


class PageBuilder:
    """Turns the outbound messages of a person into a `Page` and the page into HTML."""

    def __init__(self, catalog: FlowCatalog) -> None:
        self.types: dict[str, ItemType] = {
            item.id: item.type
            for flow in catalog.flows.values()
            for section in flow.sections
            for item in section.items
        }

    def page(self, locale: str, messages: list[Outbound], *, invite: str = "") -> Page:
        lang = locale if locale in LOCALES else "en"
        shown = [self._without_navigation(m) for m in messages if m.text or m.choices]
        page = Page(lang, shown, languages=[
            (code, LANGUAGE_NAMES.get(code, code)) for code in LOCALES if code != lang
        ])
        if any(c.key.startswith("lang_") for m in shown for row in m.choices for c in row):
            page.languages = []  # the message offers the languages itself (the consent)
        question = next((m for m in reversed(shown) if m.is_question), None)
        keys = {m.key for m in shown}
        if question is not None:
            page.answer = self._text_box(lang, question)
            page.nav = self._nav(lang, ["back", "skip", "review", "pause", "code"])
            page.privacy = True
        elif keys & _REVIEW_KEYS:
            page.answer = TextBox(words(lang, "review_label"), button="change_text")
            page.nav = self._nav(lang, ["pause", "code"])
            page.privacy = True
        elif "replies.revisit_offer" in keys:
            page.nav = self._nav(lang, ["pause", "code"])
        elif keys & _WORDS_KEYS:
            page.answer = TextBox(words(lang, "answer_label"), long=True)
        if not shown or invite:
            page.begin, page.invite = True, invite
            page.messages = [Outbound(words(lang, "invited" if invite else "welcome"),
                                      key="web.invited" if invite else "web.welcome")]
            page.resume = not invite
        elif keys & _PAUSED_KEYS:
            # Paused: carry on here, or take a resume code to another device (the pause
            # reply says to tap it).
            page.nav = self._nav(lang, ["code"])
            if not any(m.choices for m in shown):  # no "continue" button of the reply's own
                page.begin, page.begin_word = True, "carry_on"
        elif keys & _SENT_KEYS:
            pass  # sent: the summary is the end; a "begin" here would start a new interview
        elif not any(m.choices for m in shown) and page.answer is None:
            # Nothing to press (no interview): the way on is to begin.
            page.begin = True
            page.resume = True
        return page

    @staticmethod
    def _without_navigation(message: Outbound) -> Outbound:
        if not message.is_question:
            return message
        rows = [[c for c in row if c.key not in _NAVIGATION_KEYS] for row in message.choices]
        return Outbound(message.text, [r for r in rows if r], is_question=True,
                        key=message.key, question=message.question)

    def _text_box(self, lang: str, question: Outbound) -> TextBox | None:
        if question.choices:
            return None  # options are buttons ("I don't know" among them where the flow has it)
        item_type = self.types.get(split_key(question.question or "")[0])
        if item_type is ItemType.NUMBER:
            return TextBox(words(lang, "answer_label"), inputmode="decimal")
        return TextBox(words(lang, "answer_label"), long=item_type is ItemType.TEXT)

    @staticmethod
    def _nav(lang: str, names: list[str]) -> list[tuple[str, str]]:
        labels = {
            "back": say(lang, "buttons.j2", "back", "web"),
            "skip": say(lang, "buttons.j2", "skip", "web"),
        }
        return [(n, labels.get(n) or words(lang, f"command_{n}")) for n in names]

    def html(self, page: Page, *, csrf: str, nonce: str) -> str:
        template = environment().get_template("web/page.html.j2")
        return template.render(
            page=page, csrf=csrf, nonce=nonce, css=stylesheet_path(),
            w=lambda name, **params: words(page.lang, name, **params),
        )


def with_notice(page: Page, name: str, **params: Any) -> Page:
    """`page` with one of the web's notices at the top (a refused form, a limit)."""
    page.notice = words(page.lang, name, **params)
    page.notice_key = f"web.{name}"
    return page
