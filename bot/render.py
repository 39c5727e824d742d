"""Turn a committed step's reply intents into messages in the person's language."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from bot.data.render import render_data
from bot.exports import render_export
from bot.model import Choice, Outbound
from bot.payload import Action, encoder, question_tag
from bot.replies import (
    Answered,
    Ask,
    Change,
    Export,
    Files,
    Outcome,
    Problem,
    Reply,
    Review,
    Say,
)
from bot.wording import Wording
from flows.catalog import FlowCatalog
from flows.engine import Question, split_key
from flows.schema import Flow, Item, ItemType
from messages.render import current_channel, macro, say, speaking_in

#: Telegram refuses longer messages; long reviews are split at row boundaries.
MAX_MESSAGE_CHARS = 4000

@lru_cache(maxsize=256)
def _fixed(locale: str, library: str, name: str, channel: str, detail: str | None) -> str:
    params = {} if detail is None else {"type": detail}
    return say(locale, library, name, channel, **params)


def _label(locale: str, library: str, name: str, detail: str | None = None) -> str:
    """A text that depends only on locale and channel (a button, a type's hint): rendered
    once per process, not on every question (each is a macro call through jinja)."""
    return _fixed(locale, library, name, current_channel(), detail)


def _m(locale: str, library: str, name: str, **params: Any) -> str:
    return say(locale, library, name, **params)


def message_id(reply: Reply) -> tuple[str, str | None]:
    """A rendered reply's stable id, `<library>.<macro>`, and the question it asks, if any.

    Tests and adapters recognise messages by these, never by their wording, which lives
    in messages/ and may change.
    """
    if isinstance(reply, Say):
        return f"{reply.library.removesuffix('.j2')}.{reply.message}", None
    if isinstance(reply, Ask):
        return "replies.ask", reply.key
    if isinstance(reply, Answered):
        return "replies.answered", reply.key
    if isinstance(reply, Problem):
        return f"problems.{reply.code}", None
    if isinstance(reply, Export):
        return f"report.{reply.audience}", None
    if isinstance(reply, Files):
        return f"{reply.library.removesuffix('.j2')}.{reply.message}", None
    if isinstance(reply, Change):
        return "report.change", None
    return f"replies.{reply.type}", None


#: Question texts kept by `Renderer.ask`, at most (then they are all dropped at once).
ASKED_KEPT = 4096


class Renderer(Wording):
    """Renders `Outcome`s; reads question texts through the catalog (bot/wording.py)."""

    def __init__(self, catalog: FlowCatalog) -> None:
        super().__init__(catalog)
        #: A question's text and option labels, by all they are rendered from, for the
        #: questions whose text shows nothing a person answered (see `ask`).
        self._asked: dict[tuple[Any, ...], tuple[str, list[str]]] = {}

    def render(self, outcome: Outcome) -> list[Outbound]:
        messages: list[Outbound] = []
        with speaking_in(outcome.channel):
            for reply in outcome.replies:
                key, question = message_id(reply)
                for m in self.reply(reply, outcome.locale):
                    # The usual replies are built with their ids (a replace() is ~6 us).
                    if m.key != (m.key or key) or m.question != question:
                        m = replace(m, key=m.key or key, question=question)
                    messages.append(m)
        return messages

    def reply(self, reply: Reply, locale: str) -> list[Outbound]:
        if isinstance(reply, Say):
            return [self.say(reply, locale)]
        if isinstance(reply, Ask):
            return [self.ask(reply, locale)]
        if isinstance(reply, Answered):
            flow = self.catalog.get(reply.flow)
            text = _m(
                locale,
                "replies.j2",
                "answered",
                prompt=self.prompt(flow, reply.key, locale),
                display=self.display(flow, reply.key, reply.value, locale),
            )
            return [Outbound(text, replace=True, key="replies.answered", question=reply.key)]
        if isinstance(reply, Review):
            return self.review(reply, locale)
        if isinstance(reply, Problem):
            return [self.problem(reply, locale)]
        if isinstance(reply, Export):
            return render_export(self, reply, locale)
        if isinstance(reply, Files | Change):
            return render_data(self, reply, locale)
        # A submission's summary and notifications are replies of their own (Export, Say);
        # the console's report file comes from DialogueService.after_submit.
        return [Outbound(_m(locale, "replies.j2", "submitted"))]

    # -- pieces ---------------------------------------------------------------------------

    def problem(self, reply: Problem, locale: str) -> Outbound:
        """What was expected; with "did you mean" buttons labelled by the options they pick."""
        text = _m(locale, "problems.j2", reply.code, **reply.params)
        choices: list[list[Choice]] = []
        if reply.choices:
            flow = self.catalog.get(reply.flow)
            item = flow.item(split_key(reply.key)[0])
            for label, payload in reply.choices:
                value = label.removeprefix("option:")
                shown = self.option_label(item, flow, value, locale)
                choices.append([Choice(shown, payload, key=value)])
        return Outbound(text, choices=choices)

    def say(self, reply: Say, locale: str) -> Outbound:
        locale = reply.locale or locale
        params = dict(reply.params) | reply.secret
        if reply.message == "consent":
            flow = self.catalog.get(params.pop("flow"))
            params = {
                "title": flow.text(flow.title, locale),
                "text": flow.text(flow.consent, locale),
            }
        text = _m(locale, reply.library, reply.message, **params)
        labels = "buttons.j2" if reply.library == "replies.j2" else reply.library
        choices = [
            [Choice(_m(locale, labels, label), payload, key=label)]
            for label, payload in reply.choices
        ]
        return Outbound(text, choices=choices, chat_id=reply.chat_id, replace=reply.replace,
                        once=bool(reply.secret))

    def ask(self, reply: Ask, locale: str) -> Outbound:
        flow = self.catalog.get(reply.flow)
        item_id, repeat = split_key(reply.key)
        item = flow.item(item_id)
        # The same question at the same point reads the same for everyone: rendered once.
        # Only texts that show nothing a person answered are kept (no answer so far, no
        # ticks, no repeated section's copy, which names an option ticked): flow texts and
        # counts, no interview, person or answer.
        memo: tuple[Any, ...] | None = None
        if reply.current is None and not reply.selected and repeat is None:
            memo = (locale, current_channel(), reply.flow, reply.key, tuple(reply.options),
                    reply.section, reply.sections, reply.left_here, reply.minutes_left,
                    reply.welcome_back)
        found = self._asked.get(memo) if memo is not None else None
        if found is None:
            found = self.question_text(reply, flow, item, locale)
            if memo is not None:
                if len(self._asked) >= ASKED_KEPT:
                    self._asked.clear()
                self._asked[memo] = found
        text, labels = found
        return Outbound(
            text,
            choices=self.keyboard(flow, reply, item, labels, locale),
            replace=reply.replace,
            is_question=True,
            key="replies.ask",
            question=reply.key,
        )

    def question_text(
        self, reply: Ask, flow: Flow, item: Item, locale: str
    ) -> tuple[str, list[str]]:
        """A question's message text and its options' labels."""
        item_id = item.id
        section = flow.section_of(item_id)
        first_in_section = section.items[0].id == item_id
        labels = [self.option_label(item, flow, v, locale) for v in reply.options]
        selected = [reply.options.index(v) for v in reply.selected if v in reply.options]
        text = _m(
            locale,
            "replies.j2",
            "ask",
            section=self.section_title(flow, reply.key, locale),
            section_number=reply.section,
            sections=reply.sections,
            left_here=reply.left_here,
            minutes_left=reply.minutes_left,
            prompt=self.prompt(flow, reply.key, locale),
            help=flow.text(item.help, locale) if item.help else "",
            options=labels,
            selected=selected,
            current=self.display(flow, reply.key, reply.current, locale)
            if reply.current is not None
            else "",
            hint=_label(locale, "replies.j2", "hint", item.type.value),
            welcome_back=reply.welcome_back,
            scale=item.type is ItemType.SCALE,
            intro=flow.text(section.intro, locale) if section.intro and first_in_section else "",
        )
        return text, labels

    def keyboard(
        self, flow: Flow, reply: Ask, item: Item, labels: list[str], locale: str
    ) -> list[list[Choice]]:
        item_id, repeat = split_key(reply.key)
        tag = question_tag(flow, Question(reply.key, item, flow.section_of(item_id), repeat))

        payload = encoder(reply.interview_id, reply.revision, tag)

        rows: list[list[Choice]] = []
        if item.type is ItemType.SCALE:
            rows.append(
                [
                    Choice(value, payload(Action.OPTION, i), key=value)
                    for i, value in enumerate(reply.options)
                ]
            )
        elif item.type is ItemType.MULTI_CHOICE:
            for i, (value, label) in enumerate(zip(reply.options, labels, strict=True)):
                mark = "☑ " if value in reply.selected else "☐ "
                rows.append([Choice(mark + label, payload(Action.TOGGLE, i), key=value)])
            done = _label(locale, "buttons.j2", "done")
            rows.append([Choice(done, payload(Action.DONE), "done")])
        elif item.type in (ItemType.SINGLE_CHOICE, ItemType.YES_NO_UNKNOWN):
            rows.extend(
                [Choice(label, payload(Action.OPTION, i), key=value)]
                for i, (value, label) in enumerate(zip(reply.options, labels, strict=True))
            )
        nav = [Choice(_label(locale, "buttons.j2", "back"), payload(Action.BACK), "back")]
        nav.append(Choice(_label(locale, "buttons.j2", "skip"), payload(Action.SKIP), "skip"))
        rows.append(nav)
        return rows

    def review(self, reply: Review, locale: str) -> list[Outbound]:
        flow = self.catalog.get(reply.flow)
        rows = [
            {
                "number": row.number or n,
                "prompt": self.prompt(flow, row.key, locale),
                "display": self.display(flow, row.key, row.value, locale),
            }
            for n, row in enumerate(reply.rows, start=1)
        ]

        # Split long reviews so each message fits a phone screen and Telegram's limit: each
        # row is measured once with the template's own row macro (not re-rendered per row).
        def page(chunk: list[dict[str, Any]], missing: int) -> Outbound:
            return Outbound(
                _m(
                    locale,
                    "replies.j2",
                    "review",
                    rows=chunk,
                    missing=missing,
                    can_submit=reply.can_submit,
                    early=reply.early,
                )
            )

        room = MAX_MESSAGE_CHARS - len(page([], len(reply.missing)).text)
        row_macro = macro(locale, "replies.j2", "review_row")
        messages: list[Outbound] = []
        chunk: list[dict[str, Any]] = []
        used = 0
        for row in rows:
            size = len(str(row_macro(row=row)))
            if chunk and used + size > room:
                messages.append(page(chunk, 0))
                chunk, used = [], 0
            chunk.append(row)
            used += size
        messages.append(page(chunk, len(reply.missing)))
        return messages
