"""The pydantic models a flow (questionnaire) file is validated into."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

#: Text keyed by locale code ("en", "es").
LocalizedText = dict[str, str]
#: Other words a person may type for an option or a scale point, keyed by locale code.
LocalizedWords = dict[str, list[Annotated[str, Field(min_length=1, max_length=80)]]]


class ItemType(StrEnum):
    """What kind of answer an item takes."""

    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    SCALE = "scale"
    NUMBER = "number"
    AGE = "age"
    TEXT = "text"
    YES_NO_UNKNOWN = "yes_no_unknown"


CHOICE_TYPES = frozenset({ItemType.SINGLE_CHOICE, ItemType.MULTI_CHOICE, ItemType.YES_NO_UNKNOWN})


class Op(StrEnum):
    """Comparison used in an `enable_when` condition."""

    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IN = "in"
    INCLUDES = "includes"  # a multiple-choice answer contains the value
    ANSWERED = "answered"
    NOT_ANSWERED = "not_answered"
    GTE = ">="
    LTE = "<="


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """One test on an earlier answer: `{item, op, value}`."""

    item: str
    op: Op
    value: Any = None


class AllOf(_Strict):
    """Every nested condition holds."""

    all: list[Rule] = Field(min_length=1)


class AnyOf(_Strict):
    """At least one nested condition holds."""

    any: list[Rule] = Field(min_length=1)


Rule = Annotated[Condition | AllOf | AnyOf, Field(union_mode="left_to_right")]


class Option(_Strict):
    """One answer a choice item offers: a stored value and its label per locale."""

    value: str = Field(min_length=1, max_length=24, pattern=r"^[a-z0-9_]+$")
    label: LocalizedText
    enable_when: Rule | None = None
    #: In a multiple choice, an option like "none of these" that cannot be combined.
    exclusive: bool = False
    #: What else a person may type for this option ("foster" for "A foster parent").
    synonyms: LocalizedWords = Field(default_factory=dict)
    #: For a period of life: the months of age it covers, [from, to) ("toddler" -> [12, 48]).
    #: Lets "when she was a baby" or "about 2" be read as this option.
    months: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _months_ordered(self) -> Option:
        if self.months is not None and not 0 <= self.months[0] < self.months[1]:
            raise ValueError("months must be [from, to) with 0 <= from < to")
        return self


class Item(_Strict):
    """One question."""

    id: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    type: ItemType
    prompt: LocalizedText
    help: LocalizedText | None = None
    options: list[Option] = Field(default_factory=list)
    required: bool = True
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(default=None, ge=1, le=10_000)
    #: A number item takes whole numbers unless this is set ("1,5" children is a typo).
    decimals: bool = False
    anchors: dict[int, LocalizedText] = Field(default_factory=dict)
    #: For a scale: other words a person may type for a point ("pretty easy" -> 3).
    point_words: dict[int, LocalizedWords] = Field(default_factory=dict)
    enable_when: Rule | None = None

    def option(self, value: str) -> Option | None:
        """Return the option with this stored value, if the item has one."""
        for option in self.options:
            if option.value == value:
                return option
        return None


class Section(_Strict):
    """A titled group of items, optionally repeated once per chosen option of an item."""

    id: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    title: LocalizedText
    intro: LocalizedText | None = None
    repeat_for: str | None = None
    enable_when: Rule | None = None
    items: list[Item] = Field(min_length=1)


class Flow(_Strict):
    """A whole questionnaire: versioned, multilingual, made of sections of items."""

    kind: Literal["questionnaire"] = "questionnaire"
    id: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$")
    version: int = Field(ge=1)
    title: LocalizedText
    locales: list[str] = Field(min_length=1)
    consent: LocalizedText
    #: Items the answers cannot be sent without (the scoring needs them: the child's age
    #: places every period). Every other question may be skipped and still sent; the
    #: consent says which these are.
    needed: list[str] = Field(default_factory=list)
    sections: list[Section] = Field(min_length=1)

    _items: dict[str, tuple[Section, Item]] = PrivateAttr(default_factory=dict)
    _positions: dict[str, int] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _index(self) -> Flow:
        index: dict[str, tuple[Section, Item]] = {}
        for section in self.sections:
            for item in section.items:
                index[item.id] = (section, item)
        self._items = index
        self._positions = {item_id: n for n, item_id in enumerate(index)}
        return self

    @property
    def key(self) -> str:
        """`id@version`: how an interview names the flow it was started on."""
        return f"{self.id}@{self.version}"

    # The look-ups below run a dozen times a step: they read the private index from its
    # slot, because `self._items` goes through BaseModel.__getattr__ (~6 us against 0.25).

    def item(self, item_id: str) -> Item:
        """Return the item with this id (KeyError if the flow has none)."""
        return self.__pydantic_private__["_items"][item_id][1]  # type: ignore[index,no-any-return]

    def section_of(self, item_id: str) -> Section:
        """Return the section holding this item."""
        return self.__pydantic_private__["_items"][item_id][0]  # type: ignore[index,no-any-return]

    def position(self, item_id: str) -> int:
        """The item's place in the flow, counting from 0 (stable within a version)."""
        return self.__pydantic_private__["_positions"][item_id]  # type: ignore[index,no-any-return]

    def has_item(self, item_id: str) -> bool:
        """Whether the flow defines an item with this id."""
        return item_id in self.__pydantic_private__["_items"]  # type: ignore[index]

    def text(self, text: LocalizedText, locale: str) -> str:
        """Pick `locale` from a localized text, falling back to the flow's first locale."""
        return text.get(locale) or text[self.locales[0]]
