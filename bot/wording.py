"""How a flow's questions and stored answers read in a locale: prompts, titles, labels."""

from __future__ import annotations

from typing import Any

from flows.answers import decode_value
from flows.catalog import FlowCatalog
from flows.engine import AgeValue, split_key
from flows.schema import Flow, Item, ItemType
from messages.render import format_number, say


def _m(locale: str, library: str, name: str, **params: Any) -> str:
    return say(locale, library, name, **params)


class Wording:
    """Reads question texts and option labels from the flows of one catalog."""

    def __init__(self, catalog: FlowCatalog) -> None:
        self.catalog = catalog

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
