"""Turn a committed step's reply intents into messages in the person's language."""

from __future__ import annotations

from typing import Any

from bot.data.render import render_data
from bot.exports import render_export
from bot.model import Choice, Outbound
from bot.payload import Action, Payload, question_tag
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
from flows.answers import decode_value
from flows.catalog import FlowCatalog
from flows.engine import AgeValue, Question, split_key
from flows.schema import Flow, Item, ItemType
from messages.render import format_number, macro

#: Telegram refuses longer messages; long reviews are split at row boundaries.
MAX_MESSAGE_CHARS = 4000

def _m(locale: str, library: str, name: str, **params: Any) -> str:
    return str(macro(locale, library, name)(**params)).strip()


class Renderer:
    """Renders `Outcome`s; holds the catalog to look up question texts."""

    def __init__(self, catalog: FlowCatalog) -> None:
        self.catalog = catalog

    def render(self, outcome: Outcome) -> list[Outbound]:
        messages: list[Outbound] = []
        for reply in outcome.replies:
            messages.extend(self.reply(reply, outcome.locale))
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
            return [Outbound(text, replace=True)]
        if isinstance(reply, Review):
            return self.review(reply, locale)
        if isinstance(reply, Problem):
            return [Outbound(_m(locale, "problems.j2", reply.code, **reply.params))]
        if isinstance(reply, Export):
            return render_export(self, reply, locale)
        if isinstance(reply, Files | Change):
            return render_data(self, reply, locale)
        # A submission's summary and notifications are replies of their own (Export, Say);
        # the console's report file comes from DialogueService.after_submit.
        return [Outbound(_m(locale, "replies.j2", "submitted"))]

    # -- pieces ---------------------------------------------------------------------------

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
        choices = [[Choice(_m(locale, labels, label), payload)] for label, payload in reply.choices]
        return Outbound(text, choices=choices, chat_id=reply.chat_id, replace=reply.replace)

    def prompt(self, flow: Flow, key: str, locale: str) -> str:
        item_id, repeat = split_key(key)
        item = flow.item(item_id)
        text = flow.text(item.prompt, locale)
        if repeat is not None:
            section = flow.section_of(item_id)
            assert section.repeat_for is not None
            option = flow.item(section.repeat_for).option(repeat)
            label = flow.text(option.label, locale) if option else repeat
            text = text.replace("{option}", label)
        return text

    def section_title(self, flow: Flow, key: str, locale: str) -> str:
        item_id, repeat = split_key(key)
        section = flow.section_of(item_id)
        title = flow.text(section.title, locale)
        if repeat is not None and section.repeat_for:
            option = flow.item(section.repeat_for).option(repeat)
            if option is not None:
                title = f"{title}: {flow.text(option.label, locale)}"
        return title

    def option_label(self, item: Item, flow: Flow, value: str, locale: str) -> str:
        if item.type is ItemType.SCALE:
            point = int(value)
            anchor = item.anchors.get(point)
            return f"{point} · {flow.text(anchor, locale)}" if anchor else str(point)
        option = item.option(value)
        return flow.text(option.label, locale) if option else value

    def display(self, flow: Flow, key: str, encoded: Any, locale: str) -> str:
        """How a stored answer reads back: labels for choices, words for ages."""
        if encoded is None:
            return _m(locale, "values.j2", "skipped")
        item = flow.item(split_key(key)[0])
        value = decode_value(encoded)
        if isinstance(value, AgeValue):
            if not value.exact:
                return _m(locale, "values.j2", "age", years=0, months=0, raw=value.raw)
            years, months = divmod(value.min_months, 12)
            return _m(locale, "values.j2", "age", years=years, months=months, raw=None)
        if isinstance(value, list):
            return ", ".join(self.option_label(item, flow, v, locale) for v in value)
        if item.type is ItemType.SCALE:
            return self.option_label(item, flow, str(value), locale)
        if item.type in (ItemType.SINGLE_CHOICE, ItemType.YES_NO_UNKNOWN):
            return self.option_label(item, flow, str(value), locale)
        if isinstance(value, int | float):
            return format_number(value, locale)
        return str(value)

    def ask(self, reply: Ask, locale: str) -> Outbound:
        flow = self.catalog.get(reply.flow)
        item_id = split_key(reply.key)[0]
        item = flow.item(item_id)
        section = flow.section_of(item_id)
        first_in_section = section.items[0].id == item_id
        labels = [self.option_label(item, flow, v, locale) for v in reply.options]
        selected = [reply.options.index(v) for v in reply.selected if v in reply.options]
        text = _m(
            locale,
            "replies.j2",
            "ask",
            section=self.section_title(flow, reply.key, locale),
            position=reply.position,
            total=reply.total,
            prompt=self.prompt(flow, reply.key, locale),
            help=flow.text(item.help, locale) if item.help else "",
            options=labels,
            selected=selected,
            current=self.display(flow, reply.key, reply.current, locale)
            if reply.current is not None
            else "",
            hint=_m(locale, "replies.j2", "hint", type=item.type.value),
            welcome_back=reply.welcome_back,
            scale=item.type is ItemType.SCALE,
            intro=flow.text(section.intro, locale) if section.intro and first_in_section else "",
        )
        return Outbound(
            text,
            choices=self.keyboard(flow, reply, item, labels, locale),
            replace=reply.replace,
            is_question=True,
        )

    def keyboard(
        self, flow: Flow, reply: Ask, item: Item, labels: list[str], locale: str
    ) -> list[list[Choice]]:
        item_id, repeat = split_key(reply.key)
        tag = question_tag(flow, Question(reply.key, item, flow.section_of(item_id), repeat))

        def payload(action: Action, arg: int | None = None) -> str:
            return Payload(reply.interview_id, reply.revision, tag, action, arg).encode()

        rows: list[list[Choice]] = []
        if item.type is ItemType.SCALE:
            rows.append(
                [
                    Choice(str(i + int(item.min or 0)), payload(Action.OPTION, i))
                    for i in range(len(labels))
                ]
            )
        elif item.type is ItemType.MULTI_CHOICE:
            for i, (value, label) in enumerate(zip(reply.options, labels, strict=True)):
                mark = "☑ " if value in reply.selected else "☐ "
                rows.append([Choice(mark + label, payload(Action.TOGGLE, i))])
            rows.append([Choice(_m(locale, "buttons.j2", "done"), payload(Action.DONE))])
        elif item.type in (ItemType.SINGLE_CHOICE, ItemType.YES_NO_UNKNOWN):
            rows.extend(
                [Choice(label, payload(Action.OPTION, i))] for i, label in enumerate(labels)
            )
        nav = [Choice(_m(locale, "buttons.j2", "back"), payload(Action.BACK))]
        nav.append(Choice(_m(locale, "buttons.j2", "skip"), payload(Action.SKIP)))
        rows.append(nav)
        return rows

    def review(self, reply: Review, locale: str) -> list[Outbound]:
        flow = self.catalog.get(reply.flow)
        rows = [
            {
                "number": n,
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
