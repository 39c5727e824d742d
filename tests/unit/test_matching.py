"""Typed words matched to options: synonyms, "don't know", numbers, comments, times of life."""

from __future__ import annotations

import itertools
import subprocess
import sys
from functools import cache

import pytest

from flows.answers import (
    Accepted,
    Invalid,
    Periods,
    Unsure,
    confirmed,
    decode_value,
    encode_value,
    parse_answer,
    read_answer,
)
from flows.catalog import FlowCatalog
from flows.engine import AgeValue, Answer, Question, enabled_options
from flows.errors import FlowError, ProblemCode
from flows.loader import load_flow_text
from flows.schema import Flow, Item, ItemType, Option
from messages.render import LOCALES, macro
from messages.words import (
    SECTIONS,
    command_named,
    language_named,
    locale_words,
    means_agree,
    means_done,
    parse_words,
)


@cache
def flow(flow_id: str) -> Flow:
    return FlowCatalog.bundled(flow_id).latest(flow_id)


def ask(
    flow_id: str, item_id: str, text: str, locale: str = "en", age: int = 72
) -> Accepted | Invalid:
    """Read `text` as the answer to `item_id`, with the options a child of `age` months sees."""
    questionnaire = flow(flow_id)
    item = questionnaire.item(item_id)
    section = questionnaire.section_of(item_id)
    answers = {"child_age": Answer(AgeValue(age, age))}
    repeat = None
    if section.repeat_for:
        repeat = questionnaire.item(section.repeat_for).options[0].value
        answers[section.repeat_for] = Answer([repeat])
    question = Question(item_id, item, section, repeat)
    options = enabled_options(questionnaire, question, answers)
    return read_answer(item, text, options, locale, child_age_months=age)


def value_of(result: Accepted | Invalid) -> object:
    assert isinstance(result, Accepted), result
    return result.value


# -- the issue's examples ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_id", "text", "expected"),
    [
        ("respondent", "foster parent", "foster"),
        ("respondent", "a foster parent", "foster"),
        ("living", "foster", "foster"),
        ("adv_severity", "very hard", "severe"),
        ("adv_pattern", "most of the time", "ongoing"),
        ("rel_peri_bond", "don't know", "unknown"),
        ("rel_peri_bond", "not sure", "unknown"),
        ("bs_sleep", "I don't know", "not_sure"),
        ("cg_children", "three", 3),
    ],
)
def test_typed__issue_examples__accepted(item_id: str, text: str, expected: object) -> None:
    assert value_of(ask("developmental_history", item_id, text)) == expected


@pytest.mark.parametrize(
    ("item_id", "text", "expected"),
    [
        ("rel_peri_bond", "no sé", "unknown"),
        ("rel_peri_bond", "no se", "unknown"),
        ("pre_alcohol", "no sé", "unknown"),
        ("adv_periods", "no sé", ["not_sure"]),
        ("cg_children", "tres", 3),
        ("respondent", "familia de acogida", "foster"),
    ],
)
def test_typed__spanish__accepted(item_id: str, text: str, expected: object) -> None:
    assert value_of(ask("developmental_history", item_id, text, "es")) == expected


def test_scale__words_between_the_anchors__their_point() -> None:
    assert value_of(ask("sample", "sleep", "pretty easy")) == 3
    assert value_of(ask("sample", "sleep", "bastante fácil", "es")) == 3


def test_number__none__zero_where_zero_is_allowed() -> None:
    assert value_of(ask("sample", "siblings", "none")) == 0
    assert value_of(ask("sample", "siblings", "ninguno", "es")) == 0
    # cg_children starts at 1: "none" is out of range there, not silently 0.
    assert ask("developmental_history", "cg_children", "none") == Invalid(
        "number_out_of_range", {"min": 1, "max": 15}
    )


def test_yes_with_a_comment__yes_and_the_comment_kept() -> None:
    result = ask("developmental_history", "family_history", "yes, mum has depression")
    assert result == Accepted("yes", "mum has depression")
    result = ask("developmental_history", "family_history", "Sí, la abuela", "es")
    assert result == Accepted("yes", "la abuela")


def test_choice_with_a_comment__answer_and_comment() -> None:
    result = ask("developmental_history", "adv_severity", "Very hard, she was terrified")
    assert result == Accepted("severe", "she was terrified")


def test_parse_answer__drops_the_comment_keeps_the_value() -> None:
    item = flow("developmental_history").item("family_history")
    assert parse_answer(item, "yes - his uncle", item.options, "en") == "yes"


# -- unsure: "did you mean ...?" -------------------------------------------------------


def test_unsure__close_to_one_option__offered_not_saved() -> None:
    result = ask("developmental_history", "respondent", "fost")
    assert isinstance(result, Unsure)
    assert result.code == "did_you_mean"
    assert result.candidates == ("foster",)


def test_unsure__is_an_invalid__so_an_older_caller_asks_again() -> None:
    result = ask("developmental_history", "respondent", "fost")
    assert isinstance(result, Invalid)


def test_nonsense__not_matched() -> None:
    result = ask("developmental_history", "respondent", "banana")
    assert result == Invalid("choose_one", {"count": 5})


@pytest.mark.parametrize("locale", LOCALES)
def test_unsure__message_names_the_options_in_every_locale(locale: str) -> None:
    result = ask("developmental_history", "respondent", "fost", locale)
    assert isinstance(result, Unsure)
    text = str(macro(locale, "problems.j2", result.code)(**result.params))
    label = flow("developmental_history").item("respondent").option("foster")
    assert label is not None and label.label[locale] in text


def test_scale__unsure__candidates_are_points_confirmed_as_numbers() -> None:
    result = ask("sample", "sleep", "eazy")
    assert isinstance(result, Unsure) and "3" in result.candidates
    assert confirmed(result, "3", flow("sample").item("sleep")) == 3


def test_confirmed__single_choice__the_picked_value() -> None:
    item = flow("developmental_history").item("respondent")
    unsure = Unsure("did_you_mean", candidates=("foster", "kin"))
    assert confirmed(unsure, "kin", item) == "kin"


# -- multiple choice -------------------------------------------------------------------------


def test_multi__labels_joined_by_and__both() -> None:
    assert value_of(ask("sample", "worries", "sleep and eating")) == ["sleep", "eating"]
    assert value_of(ask("sample", "worries", "el sueño y la comida", "es")) == ["sleep", "eating"]


def test_multi__labels_joined_by_and__all_of_them_not_the_first() -> None:
    result = ask("developmental_history", "adv_types", "being hurt physically and loss")
    assert value_of(result) == ["physical_harm", "loss"]
    result = ask("developmental_history", "adv_types", "violence in the neighbourhood and racism")
    assert value_of(result) == ["community_violence", "discrimination"]


def test_multi__one_label_holding_and__that_option() -> None:
    assert value_of(ask("developmental_history", "rel_peri_bond", "strong and steady")) == "strong"


def test_multi__none_word__the_exclusive_none_option() -> None:
    assert value_of(ask("developmental_history", "adv_types", "none")) == ["none"]
    assert value_of(ask("developmental_history", "adv_types", "ninguna", "es")) == ["none"]


def test_multi__a_part_unsure__keeps_the_parts_understood() -> None:
    result = ask("sample", "worries", "sleep, fod")
    assert isinstance(result, Unsure)
    assert result.chosen == ("sleep",)
    item = flow("sample").item("worries")
    assert confirmed(result, "eating", item) == ["sleep", "eating"]


# -- times of life -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "locale", "age", "periods", "months"),
    [
        ("about 2", "en", 72, ["early"], (18, 30)),
        ("at 18 months", "en", 72, ["early"], (18, 18)),
        ("toddler", "en", 72, ["early"], None),
        ("when she was a baby", "en", 72, ["infancy"], (2, 11)),
        ("in year 2", "en", 96, ["childhood"], (72, 83)),
        ("last summer", "en", 96, ["childhood"], (81, 94)),
        ("at 3", "en", 72, ["early"], (36, 47)),
        ("a los 3 años", "es", 72, ["early"], (36, 47)),
        ("cuando era bebé", "es", 72, ["infancy"], None),  # a synonym of the option
        ("el verano pasado", "es", 96, ["childhood"], (81, 94)),
        ("since he was a baby", "en", 72, ["infancy", "early", "childhood"], (2, 72)),
    ],
)
def test_timing__words__period_and_range_kept(
    text: str, locale: str, age: int, periods: list[str], months: tuple[int, int] | None
) -> None:
    value = value_of(ask("developmental_history", "adv_periods", text, locale, age))
    assert value == periods
    if months is not None:
        assert isinstance(value, Periods)
        assert (value.when.min_months, value.when.max_months) == months
        assert value.when.raw == text


@pytest.mark.parametrize(
    ("text", "locale", "candidates"),
    [
        ("before school", "en", ("perinatal", "infancy", "early")),
        ("antes del colegio", "es", ("perinatal", "infancy", "early")),
        ("at about 1", "en", ("infancy", "early")),
    ],
)
def test_timing__spans_periods__asks_which(
    text: str, locale: str, candidates: tuple[str, ...]
) -> None:
    result = ask("developmental_history", "adv_periods", text, locale)
    assert isinstance(result, Unsure)
    assert result.code == "which_period"
    assert result.candidates == candidates
    assert result.when is not None and result.when.raw == text
    picked = confirmed(result, candidates[0], flow("developmental_history").item("adv_periods"))
    assert isinstance(picked, Periods) and picked == [candidates[0]]
    assert picked.when == result.when


def test_timing__later_than_now__not_placed() -> None:
    result = ask("developmental_history", "adv_periods", "at 10", age=48)
    assert isinstance(result, Invalid) and result.code == "period_not_found"


def test_timing__counted_back_without_the_age__not_guessed() -> None:
    item = flow("developmental_history").item("adv_periods")
    result = parse_answer(item, "last summer", item.options, "en")
    assert isinstance(result, Invalid)


def test_periods__stored_and_read_back_with_the_words() -> None:
    value = Periods(["early"], AgeValue(18, 30, "about 2"))
    back = decode_value(encode_value(value))
    assert isinstance(back, Periods)
    assert back == ["early"] and back.when == AgeValue(18, 30, "about 2")


# -- the words a person may type -------------------------------------------------------------


@pytest.mark.parametrize(("text", "locale"), [("done", "en"), ("Done!", "en"), ("listo", "es"),
                                                ("ya está", "es"), ("listo", "en")])
def test_done__finishes_a_multiple_choice_in_any_locale(text: str, locale: str) -> None:
    assert means_done(text, locale)


def test_done__an_answer_is_not_done() -> None:
    assert not means_done("sleep", "en")
    assert not means_done("no", "es")


@pytest.mark.parametrize(
    ("text", "code"),
    [("English", "en"), ("inglés", "en"), ("ingles", "en"), ("Spanish", "es"),
     ("español", "es"), ("Espanol", "es"), ("castellano", "es")],
)
def test_language_names__any_language__its_code(text: str, code: str) -> None:
    assert language_named(text) == code


def test_language_names__other_words__none() -> None:
    assert language_named("yes") is None


@pytest.mark.parametrize(("text", "command"), [("back", "back"), ("atrás", "back"),
                                               ("atras", "back"), ("saltar", "skip"),
                                               ("pausa", "pause"), ("enviar", "submit"),
                                               ("Quit", "quit")])
def test_command_words__both_locales(text: str, command: str) -> None:
    assert command_named(text) == command


def test_agree__consent_words_both_locales() -> None:
    assert means_agree("I agree", "en") and means_agree("acepto", "es")
    assert not means_agree("no", "en")


@pytest.mark.parametrize("locale", LOCALES)
def test_words_files__every_locale_has_every_section(locale: str) -> None:
    words = locale_words(locale)
    assert words.locale == locale
    empty = [name for name in sorted(SECTIONS - {"ordinals"})
             if not getattr(words, _field(name))]
    assert empty == []


def _field(section: str) -> str:
    return {"yes_words": "yes", "no_words": "no", "unknown_words": "unknown",
            "none_words": "none"}.get(section, section)


def test_words_file__unknown_section__rejected() -> None:
    with pytest.raises(ValueError, match="unknown sections"):
        parse_words("en", {True: ["yes"]})


# -- flow data: synonyms are checked when the flow loads ----------------------------------------

FLOW = """
id: t
version: 1
locales: [en, es]
title: {en: T, es: T}
consent: {en: ok, es: ok}
sections:
  - id: s
    title: {en: S, es: S}
    items:
      - id: q
        type: single_choice
        prompt: {en: "?", es: "?"}
        options:
          - {value: a, label: {en: A, es: A}, synonyms: {en: [%s]}}
          - {value: b, label: {en: B, es: B}, synonyms: {%s: [bee]}}
"""


def test_synonym__on_two_options__rejected() -> None:
    with pytest.raises(FlowError) as error:
        load_flow_text(FLOW % ("b", "en"))
    assert error.value.codes() == [ProblemCode.AMBIGUOUS_SYNONYM]


def test_synonym__undeclared_locale__rejected() -> None:
    with pytest.raises(FlowError) as error:
        load_flow_text(FLOW % ("ay", "fr"))
    assert error.value.codes() == [ProblemCode.UNKNOWN_LOCALE]


def test_synonyms__distinct__loaded() -> None:
    result = load_flow_text(FLOW % ("ay", "en"))
    option = result.flow.item("q").option("a")
    assert option is not None and option.synonyms == {"en": ["ay"]}


def test_option_months__reversed__rejected() -> None:
    with pytest.raises(ValueError):
        Option(value="x", label={"en": "X"}, months=(12, 2))


def test_bundled_period_options__cover_childhood_without_gaps() -> None:
    for flow_id in ("developmental_history", "sample"):
        item = next(
            i for s in flow(flow_id).sections for i in s.items
            if any(o.months for o in i.options)
        )
        spans = sorted(o.months for o in item.options if o.months is not None)
        assert spans[0][0] == 0
        assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
        assert spans[-1][1] >= 216


def test_item_type_check() -> None:
    # Keeps the Item import honest for type checkers: an item built inline parses too.
    item = Item(id="q", type=ItemType.NUMBER, prompt={"en": "?"}, min=0, max=3)
    assert parse_answer(item, "none", [], "en") == 0


def test_words__passed_by_the_caller__used_instead_of_the_bundled_ones() -> None:
    item = flow("developmental_history").item("pre_alcohol")
    only_aye = parse_words("en", {"yes_words": ["aye"]})
    assert parse_answer(item, "aye", item.options, "en", words=only_aye) == "yes"
    assert parse_answer(item, "aye", item.options, "en") != "yes"


def test_flows__importing_the_parser__loads_nothing_of_messages() -> None:
    code = (
        "import sys, flows.answers, flows.match, flows.timing\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'messages'], 'messages'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
