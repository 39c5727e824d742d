"""Validating typed answers per item type, and the message each problem gets."""

from __future__ import annotations

import pytest

from flows.answers import Invalid, parse_age, parse_answer, parse_number
from flows.engine import AgeValue
from flows.schema import Item, ItemType, Option
from messages.render import has_macro, macro

OPTIONS = [Option(value=v, label={"en": v.title()}) for v in ("red", "green", "blue")]
NONE = Option(value="none", label={"en": "None of these"}, exclusive=True)


def item(kind: ItemType, **extra: object) -> Item:
    return Item(id="q", type=kind, prompt={"en": "?"}, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "months", "raw"),
    [
        ("3", (36, 36), None),
        ("3 years", (36, 36), None),
        ("2y 6m", (30, 30), None),
        ("2 years 6 months", (30, 30), None),
        ("18 months", (18, 18), None),
        ("two and a half", (30, 30), None),
        ("three years old", (36, 36), None),
        ("1.5", (18, 18), None),
        ("a year", (12, 12), None),
        ("about 3", (30, 42), "about 3"),
        ("~4", (42, 54), "~4"),
        ("before school", (0, 47), "before school"),  # school age is 4 and up in the flows
        ("2 años y 6 meses", (30, 30), None),
    ],
)
def test_age__accepted_forms(text: str, months: tuple[int, int], raw: str | None) -> None:
    value = parse_age(text, "en")
    assert value == AgeValue(months[0], months[1], raw)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("banana", "not_an_age"),
        ("3 apples", "not_an_age"),
        ("24", "age_unit_needed"),
        ("40 years", "age_out_of_range"),
    ],
)
def test_age__rejected_with_reason(text: str, code: str) -> None:
    result = parse_age(text, "en")
    assert isinstance(result, Invalid) and result.code == code


def test_age__outside_item_bounds__rejected() -> None:
    result = parse_answer(item(ItemType.AGE, min=0, max=216), "19 years", [], "en")
    assert result == Invalid("age_out_of_range", {"min": 0, "max": 18})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("1,5", 1.5),
        ("1,000", 1000),
        ("12 kg", 12),
        ("three", 3),
        ("1.234,5", 1234.5),
    ],
)
def test_number__written_by_a_person(text: str, value: float) -> None:
    assert parse_number(text, "en") == value


def test_number__out_of_bounds__says_the_range() -> None:
    result = parse_answer(item(ItemType.NUMBER, min=7, max=18), "40", [], "en")
    assert result == Invalid("number_out_of_range", {"min": 7, "max": 18})
    text = str(macro("en", "problems.j2", result.code)(**result.params))
    assert "7" in text and "18" in text and "40" not in text


def test_number__not_a_number() -> None:
    assert parse_answer(item(ItemType.NUMBER), "lots", [], "en") == Invalid(
        "not_a_number", {"min": None, "max": None}
    )


def test_single_choice__by_number_or_label() -> None:
    single = item(ItemType.SINGLE_CHOICE, options=OPTIONS)
    assert parse_answer(single, "2", OPTIONS, "en") == "green"
    assert parse_answer(single, "BLUE", OPTIONS, "en") == "blue"
    assert parse_answer(single, "7", OPTIONS, "en") == Invalid("choose_one", {"count": 3})


def test_yes_no__words() -> None:
    yn = item(
        ItemType.YES_NO_UNKNOWN,
        options=[Option(value=v, label={"en": v}) for v in ("yes", "no", "unknown")],
    )
    assert parse_answer(yn, "Y", yn.options, "en") == "yes"
    assert parse_answer(yn, "not sure", yn.options, "en") == "unknown"


def test_multi_choice__numbers_or_labels_in_option_order() -> None:
    multi = item(ItemType.MULTI_CHOICE, options=[*OPTIONS, NONE])
    assert parse_answer(multi, "3, 1", multi.options, "en") == ["red", "blue"]
    assert parse_answer(multi, "Green; red", multi.options, "en") == ["red", "green"]
    bad = parse_answer(multi, "1, purple", multi.options, "en")
    assert bad == Invalid("choose_some", {"count": 4, "bad": "purple"})


def test_multi_choice__exclusive_option_must_stand_alone() -> None:
    multi = item(ItemType.MULTI_CHOICE, options=[*OPTIONS, NONE])
    result = parse_answer(multi, "1, 4", multi.options, "en")
    assert result == Invalid("exclusive_choice", {"option": "None of these"})


def test_scale__integer_in_range() -> None:
    scale = item(ItemType.SCALE, min=0, max=4, anchors={0: {"en": "Never"}})
    assert parse_answer(scale, "3", [], "en") == 3
    assert parse_answer(scale, "never", [], "en") == 0
    assert parse_answer(scale, "9", [], "en") == Invalid("scale_out_of_range", {"min": 0, "max": 4})
    assert parse_answer(scale, "2.5", [], "en") == Invalid(
        "scale_out_of_range", {"min": 0, "max": 4}
    )


def test_text__cleaned_and_bounded() -> None:
    text = item(ItemType.TEXT, max_length=10)
    assert parse_answer(text, "  hi\x00there\u200b ", [], "en") == "hithere"
    assert parse_answer(text, "x" * 11, [], "en") == Invalid(
        "too_long", {"limit": 10, "length": 11}
    )
    assert parse_answer(text, " \x07 ", [], "en") == Invalid("empty")


def test_text__right_to_left_and_emoji_kept() -> None:
    text = item(ItemType.TEXT)
    assert parse_answer(text, "مرحبا 👋", [], "en") == "مرحبا 👋"


def test_every_problem_code__has_a_message_in_every_locale() -> None:
    from messages.render import LOCALES

    codes = [
        "empty",
        "too_long",
        "choose_one",
        "choose_some",
        "unknown_choice",
        "exclusive_choice",
        "scale_out_of_range",
        "not_a_number",
        "not_a_whole_number",
        "number_out_of_range",
        "not_an_age",
        "age_unit_needed",
        "age_out_of_range",
        "did_you_mean",
        "which_period",
        "period_not_found",
    ]
    for locale in LOCALES:
        assert [c for c in codes if not has_macro(locale, "problems.j2", c)] == []


def test_number__whole_unless_decimals_allowed() -> None:
    count = item(ItemType.NUMBER, min=0, max=15)
    assert parse_answer(count, "1,5", [], "es") == Invalid(
        "not_a_whole_number", {"min": 0, "max": 15}
    )
    weight = item(ItemType.NUMBER, min=0, max=200, decimals=True)
    assert parse_answer(weight, "12,5 kg", [], "es") == 12.5


def test_number__shown_the_locale_way() -> None:
    from messages.render import format_number

    assert (format_number(1.5, "en"), format_number(1.5, "es")) == ("1.5", "1,5")
