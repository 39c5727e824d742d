"""ConText mechanics of the danger net, on small rule sets written inline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.danger import DangerNet, Kind
from bot.danger.normalize import MAX_SENTENCE, fold, sentences
from bot.danger.rules import RulesError, build, load_locale

RULES: dict[str, Any] = {
    "contractions": {"im": "i am", "wanna": "want to", "dont": "do not"},
    "targets": {
        "self_harm": ["want to die", "kill myself", {"pattern": "suicidal", "fuzzy": True}],
        "violence": ["hit|hits me|her", "hitting"],
        "weapon": ["knife"],
        "neglect": [{"pattern": "locked me|her in", "tense": "past"}],
    },
    "modifiers": {
        "negated": {"window": 5, "forward": ["not|never"]},
        "historical": {"both": ["used to", "when she was little"]},
        "hypothetical": {"forward": ["if"]},
        "present": {"both": ["right now", "again"]},
        "behaviour": {"applies_to": ["violence"],
                      "forward": [{"pattern": "my toddler", "window": 1}]},
        "pseudo": {"forward": ["not only"]},
    },
    "terminators": {"all": ["but"], "negated": [","]},
    "idioms": ["homework is killing me", "butter knife"],
    "who": {"child": ["my son|daughter"], "caregiver": ["me|myself"]},
}


def net_of(rules: dict[str, Any], locale: str = "xx") -> DangerNet:
    return DangerNet([build(locale, rules)])


@pytest.fixture(scope="module")
def net() -> DangerNet:
    return net_of(RULES)


def kind(net: DangerNet, text: str) -> Kind:
    return net.classify(text).kind


def test_target__no_modifier__danger(net: DangerNet) -> None:
    verdict = net.classify("I want to die")
    assert (verdict.kind, verdict.concern) == (Kind.DANGER, "self_harm")


def test_nothing_found__none(net: DangerNet) -> None:
    assert net.classify("he started walking at 13 months").kind is Kind.NONE


def test_negation__in_window__none(net: DangerNet) -> None:
    assert kind(net, "i would never kill myself") is Kind.NONE


def test_negation__scope_ends_at_terminator(net: DangerNet) -> None:
    assert kind(net, "i am not sleeping, i want to die") is Kind.DANGER
    assert kind(net, "i am not sleeping but i want to die") is Kind.DANGER
    # "and" is no terminator in these rules: the negation reaches over it.
    assert kind(net, "i am not sleeping and i want to die") is Kind.NONE


def test_negation__scope_ends_at_window(net: DangerNet) -> None:
    assert kind(net, "not a b c want to die") is Kind.NONE
    assert kind(net, "not a b c d e want to die") is Kind.DANGER


def test_negation__scope_ends_at_sentence(net: DangerNet) -> None:
    assert kind(net, "not now. i want to die") is Kind.DANGER


def test_forward_modifier__does_not_reach_back(net: DangerNet) -> None:
    assert kind(net, "i want to die if") is Kind.DANGER
    assert kind(net, "if i want to die") is Kind.NONE


def test_historical__flips_danger_to_disclosure(net: DangerNet) -> None:
    assert kind(net, "he hits her") is Kind.DANGER
    assert kind(net, "he used to hit her") is Kind.DISCLOSURE
    assert kind(net, "he hit her when she was little") is Kind.DISCLOSURE  # backward too


def test_present__again_or_right_now__makes_past_wording_danger(net: DangerNet) -> None:
    assert kind(net, "he used to hit her and did again") is Kind.DANGER
    assert kind(net, "when she was little he hit her, he is hitting her right now") is Kind.DANGER
    assert kind(net, "he locked her in") is Kind.DISCLOSURE  # a past-tense target alone
    assert kind(net, "he locked her in again") is Kind.DANGER


def test_terminator__ends_every_category_it_names(net: DangerNet) -> None:
    # "but" ends every scope: the past part stays past, the present part is danger.
    assert kind(net, "he used to hit me but i want to die") is Kind.DANGER


def test_pseudo__longer_match_disarms_the_modifier(net: DangerNet) -> None:
    assert kind(net, "not only that, i want to die") is Kind.DANGER
    assert kind(net, "not that, i want to die") is Kind.DANGER  # comma ends "not"
    assert kind(net, "not only want to die") is Kind.DANGER


def test_idiom__swallows_the_target_inside_it(net: DangerNet) -> None:
    assert kind(net, "the homework is killing me") is Kind.NONE
    assert kind(net, "he cut it with a butter knife") is Kind.NONE
    assert kind(net, "he has a knife") is Kind.DANGER


def test_modifier_inside_target__belongs_to_the_target() -> None:
    rules = {
        "targets": {"violence": ["not safe"]},
        "modifiers": {"negated": {"forward": ["not"]}},
    }
    assert kind(net_of(rules), "we are not safe") is Kind.DANGER


def test_applies_to__limits_a_modifier_to_its_concerns(net: DangerNet) -> None:
    assert kind(net, "my toddler hits me") is Kind.NONE
    assert kind(net, "my toddler suicidal") is Kind.DANGER


def test_who__cue_in_target_then_nearest(net: DangerNet) -> None:
    assert net.classify("i want to kill myself").who == "caregiver"
    assert net.classify("my son has a knife").who == "child"
    assert net.classify("he has a knife").who is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("im sucidal", Kind.DANGER),  # one letter missing: fuzzy
        ("i wanna dieeee", Kind.DANGER),  # repeated letters
        ("kil myself", Kind.DANGER),  # a doubled letter typed once
        ("I WANT TO DÍE!!!", Kind.DANGER),  # case, accents, punctuation
        ("i dont want to die", Kind.NONE),  # contraction without apostrophe
        ("i don't want to die", Kind.NONE),  # and with it
    ],
)
def test_typing__tolerated(net: DangerNet, typed: str, expected: Kind) -> None:
    assert kind(net, typed) is expected


def test_fuzzy__off_by_default__no_edits_only_sound_alike(net: DangerNet) -> None:
    assert kind(net, "he is hittng") is Kind.NONE  # an edit: not tolerated here
    assert kind(net, "he is hiting") is Kind.DANGER  # a doubled letter typed once still is
    assert kind(net, "he is hitting") is Kind.DANGER


def test_fuzzy__short_words_never() -> None:
    rules = {"targets": {"weapon": ["gun"]}}
    assert kind(net_of(rules), "a bun") is Kind.NONE


def test_unknown_locale__the_language_with_more_common_words() -> None:
    english = build("en", {"language": ["the", "is"], "targets": {"weapon": ["arma"]},
                           "modifiers": {"negated": {"forward": ["no"]}}})
    spanish = build("es", {"language": ["el", "es"], "targets": {"weapon": ["arma"]}})
    net = DangerNet([english, spanish])
    # English rules would negate it; the words say Spanish, so Spanish rules decide.
    assert net.classify("no es el arma").kind is Kind.DANGER
    assert net.classify("no is the arma").kind is Kind.NONE
    # A tie checks both and keeps the most severe verdict.
    assert net.classify("no arma").kind is Kind.DANGER
    assert net.classify("no arma", "en").kind is Kind.NONE


def test_evidence__says_which_phrase_and_modifier(net: DangerNet) -> None:
    verdict = net.classify("he used to hit her")
    assert [(e.phrase, e.modifiers) for e in verdict.evidence] == [
        ("hit her", (("historical", "used to"),))
    ]


def test_long_message__cut_into_bounded_sentences() -> None:
    text = "word " * 1000
    pieces = list(sentences(fold(text)))
    assert max(len(p) for p in pieces) == MAX_SENTENCE
    assert sum(len(p) for p in pieces) == 1000


def test_rules__unknown_concern__error_names_it() -> None:
    with pytest.raises(RulesError, match="concern 'weather'"):
        build("xx", {"targets": {"weather": ["rain"]}}, "danger.yaml")


def test_bundled_rules__load_for_both_languages() -> None:
    assert DangerNet().locales == ("en", "es")


def test_rules_file__key_written_twice__error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "danger.yaml"
    path.write_text(
        "modifiers:\n  negated:\n    forward: [not]\n    forward: [never]\n", encoding="utf-8"
    )
    with pytest.raises(RulesError, match="line 4: 'forward' again"):
        load_locale("xx", path)


def test_edge__anchors_a_target_to_a_whole_sentence() -> None:
    net = net_of({"targets": {"violence": ["<s> help <s>"]}})
    assert kind(net, "Help!!! ") is Kind.DANGER
    assert kind(net, "ok. help. now") is Kind.DANGER
    assert kind(net, "help me with this question") is Kind.NONE


def test_pattern__may_start_with_a_number() -> None:
    rules = {
        "targets": {"violence": ["punched me"]},
        "modifiers": {"historical": {"both": ["ago"]}, "present": {"both": ["<n> hours ago"]}},
        "numbers": ["an"],
    }
    assert kind(net_of(rules), "he punched me 2 hours ago") is Kind.DANGER
    assert kind(net_of(rules), "he punched me an hours ago") is Kind.DANGER
    assert kind(net_of(rules), "he punched me years ago") is Kind.DISCLOSURE


def test_pattern__starting_with_a_wildcard__rejected() -> None:
    with pytest.raises(RulesError, match="starts with"):
        build("xx", {"targets": {"weapon": ["* knife"]}})
