"""Word families, verb forms, joins, years, urgent cues, the model's gate, long input."""

from __future__ import annotations

from typing import Any

import pytest

from bot.danger import DangerNet, Kind
from bot.danger import net as net_module
from bot.danger.model import NgramModel, features
from bot.danger.rules import RulesError, build

ES_INFLECTION = {
    "ar": {"now": ["o", "a", "an", "e", "ando", "arle"], "past": ["aba", "aban"],
           "spelling": {"g(e|es|en|emos)$": "gu\\1"}},
}


def net_of(rules: dict[str, Any], models: dict[str, NgramModel] | None = None) -> DangerNet:
    return DangerNet([build("xx", rules)], models=models or {})


def kind(net: DangerNet, text: str) -> Kind:
    return net.classify(text).kind


def test_class__a_family_named_once_reads_every_member() -> None:
    net = net_of({
        "classes": {"kid": ["son", "daughter", "twins"], "det": ["my", "his", "the"]},
        "targets": {"violence": ["hits $det? $kid"]},
    })
    assert [kind(net, t) for t in ("he hits my son", "he hits the twins", "he hits daughter",
                                   "he hits my car")] == [Kind.DANGER] * 3 + [Kind.NONE]


def test_class__unknown_name__error_names_it() -> None:
    with pytest.raises(RulesError, match=r"\$kids"):
        build("xx", {"targets": {"violence": ["hits $kids"]}})


def test_verb__every_form_but_the_imperfect__which_is_the_past() -> None:
    net = net_of({
        "inflection": ES_INFLECTION,
        "targets": {"violence": ["me +pegar", {"pattern": "me +pegar.past", "tense": "past"}]},
    })
    for typed in ("me pega", "me pegó", "me pegué", "me pegan", "me pegando"):
        assert kind(net, typed) is Kind.DANGER, typed
    assert kind(net, "me pegaba") is Kind.DISCLOSURE
    assert kind(net, "me pegaban") is Kind.DISCLOSURE


def test_verb__irregular_forms_listed() -> None:
    net = net_of({
        "irregular": {"shake": ["shake", "shook", "shaking"]},
        "targets": {"child_danger": ["+shake the baby"]},
    })
    assert kind(net, "he shook the baby") is Kind.DANGER


def test_verb__without_an_inflection__error_names_it() -> None:
    with pytest.raises(RulesError, match="pegar"):
        build("xx", {"targets": {"violence": ["+pegar"]}})


def test_joins__words_typed_apart_read_as_one() -> None:
    net = net_of({"joins": {"my self": "myself"}, "targets": {"self_harm": ["kill myself"]}})
    assert kind(net, "gonna kill my self") is Kind.DANGER
    assert kind(net_of({"targets": {"self_harm": ["kill myself"]}}),
                "gonna kill my self") is Kind.NONE


def test_year__read_as_a_past_cue_when_the_rules_say_so() -> None:
    net = net_of({
        "targets": {"violence": ["beat me"]},
        "modifiers": {"historical": {"both": ["in <year>"]}},
    })
    assert kind(net, "he beat me in 2019") is Kind.DISCLOSURE
    assert kind(net, "he beat me in 20 minutes") is Kind.DANGER


def test_urgent__beats_a_past_form_not_a_past_cue() -> None:
    net = net_of({
        "targets": {"self_harm": [{"pattern": "tried to kill himself", "tense": "past"}]},
        "modifiers": {
            "urgent": {"both": ["hospital"]},
            "historical": {"both": ["when he was a baby"]},
            "present": {"both": ["right now"]},
        },
    })
    assert kind(net, "he tried to kill himself") is Kind.DISCLOSURE
    assert kind(net, "he tried to kill himself, we are at the hospital") is Kind.DANGER
    assert kind(net, "his dad tried to kill himself when he was a baby, "
                     "he was in hospital") is Kind.DISCLOSURE
    assert kind(net, "he tried to kill himself when he was a baby and "
                     "right now again") is Kind.DANGER


def test_idiom__a_longer_target_beats_it() -> None:
    net = net_of({
        "targets": {"violence": ["kicking the door in"]},
        "idioms": ["kicking the door"],
    })
    assert kind(net, "he is kicking the door in") is Kind.DANGER
    assert kind(net, "she keeps kicking the door") is Kind.NONE


def test_negative_target__not_negated_again() -> None:
    net = net_of({
        "targets": {"violence": ["no estoy a salvo"], "self_harm": ["quiero morir"]},
        "modifiers": {"negated": {"window": 6, "forward": ["no|ni"]}},
    })
    assert kind(net, "ni un dia mas, no estoy a salvo") is Kind.DANGER
    assert kind(net, "ni un dia quiero morir") is Kind.NONE


def _model(*words: str, threshold: float = 0.5, now: float | None = None,
           unsure: float | None = None) -> NgramModel:
    """A model that says danger exactly for messages holding one of `words` (p ~ 0.99)."""
    return NgramModel({f"w {w}": 10.0 for w in words}, -5.0, threshold,
                      threshold_now=now, threshold_uncertain=unsure)


def _half(*words: str, threshold: float = 0.9, now: float | None = None,
          unsure: float | None = None) -> NgramModel:
    """A model unsure of its `words`: p = 0.73 for a message holding one of them."""
    return NgramModel({f"w {w}": 6.0 for w in words}, -5.0, threshold,
                      threshold_now=now, threshold_uncertain=unsure)


MODEL_RULES: dict[str, Any] = {
    "targets": {"violence": ["hits me"]},
    "modifiers": {
        "negated": {"forward": ["not"]},
        "hypothetical": {"forward": ["if"]},
        "historical": {"both": ["years ago"]},
        "present": {"both": ["tonight"]},
        "urgent": {"both": ["help"]},
    },
}


def test_model__speaks_where_no_rule_target__no_cue_of_now_needed() -> None:
    """Phrasings no rule knows ("goodbye everyone") carry no time word either."""
    net = net_of(MODEL_RULES, {"xx": _model("bridge")})
    assert kind(net, "im on the bridge") is Kind.DANGER
    assert net.classify("im on the bridge").concern is None
    assert kind(net, "im on the cliff tonight") is Kind.NONE  # the model says no
    assert kind(net, "bridge, yes") is Kind.NONE  # too few words for the model to speak


def test_model__threshold_by_mode__now_plain_uncertain() -> None:
    """A cue of now lowers the bar; a doubt (negation, "if") raises it; None: never."""
    net = net_of(MODEL_RULES, {"xx": _half("bridge", threshold=0.9, now=0.6)})
    assert kind(net, "im on the bridge") is Kind.NONE  # 0.73 < 0.9
    assert kind(net, "im on the bridge tonight") is Kind.DANGER  # 0.73 >= 0.6
    assert kind(net, "im on the bridge, help") is Kind.DANGER
    assert kind(net, "im not on the bridge tonight") is Kind.NONE  # doubt: no threshold
    net = net_of(MODEL_RULES, {"xx": _half("bridge", threshold=0.9, unsure=0.7)})
    assert kind(net, "im not on the bridge") is Kind.DANGER  # doubt, 0.73 >= 0.7
    assert kind(net, "if i was on the bridge") is Kind.DANGER


def test_model__does_not_read_the_cue_of_now_itself() -> None:
    """A model that counted "tonight" would call "nothing tonight" danger."""
    net = net_of(MODEL_RULES, {"xx": _model("tonight", "help")})
    assert kind(net, "nothing tonight") is Kind.NONE
    assert kind(net, "we are fine, help is not needed") is Kind.NONE
    assert net.model_input("im on the bridge tonight", "xx")[0] == ["im", "on", "the", "bridge"]


def test_model__reads_negated_words_apart() -> None:
    """ "im not safe" and "im safe" differ by more than a word the model may weigh lightly."""
    net = net_of(MODEL_RULES, {"xx": _model("~safe", unsure=0.5)})
    assert net.model_input("im not safe", "xx")[0] == ["im", "not", "safe", "~safe"]
    assert kind(net, "im not safe") is Kind.DANGER
    assert kind(net, "im safe") is Kind.NONE


def test_model__silenced_by_a_past_cue_anywhere() -> None:
    net = net_of(MODEL_RULES, {"xx": _model("bridge", unsure=0.5)})
    assert kind(net, "i was on the bridge years ago, tonight i am fine") is Kind.NONE
    assert kind(net, "that was years ago. i was on the bridge") is Kind.NONE


def test_model__speaks_on_a_target_the_rules_are_unsure_of() -> None:
    """A target only "if" silenced is uncertain; one "not" silenced is the rules' call."""
    net = net_of(MODEL_RULES, {"xx": _model("knife", unsure=0.5)})
    assert kind(net, "if he comes back he hits me with the knife") is Kind.DANGER
    assert kind(net, "he does not hits me with the knife") is Kind.NONE
    assert kind(net, "if he comes back he hits me") is Kind.NONE  # the model says no


def test_model__never_overrules_the_rules() -> None:
    net = net_of(MODEL_RULES, {"xx": _model("hits", unsure=0.5)})
    assert kind(net, "he not hits me tonight") is Kind.NONE
    assert kind(net, "he hits me years ago") is Kind.DISCLOSURE


def test_past_model__turns_danger_without_a_cue_of_now_into_disclosure() -> None:
    """A past the past model is sure of wins over a rule's danger, unless it says now."""
    past = _model("grandma", threshold=0.9, unsure=0.9)
    net = DangerNet([build("xx", MODEL_RULES)], models={"xx": _model("bridge")},
                    pasts={"xx": past})
    assert kind(net, "he hits me") is Kind.DANGER
    assert kind(net, "he hits me at grandma") is Kind.DISCLOSURE
    assert kind(net, "he hits me tonight at grandma") is Kind.DANGER  # a cue of now
    assert kind(net, "im on the bridge") is Kind.DANGER
    assert kind(net, "im on the bridge at grandma") is Kind.NONE  # the model's danger


def test_strong_past_cue__beats_a_cue_of_now() -> None:
    net = net_of({
        "targets": {"self_harm": ["wanted to die"]},
        "modifiers": {"historical": {"both": [{"pattern": "back then", "strong": True},
                                              "used to"]},
                      "present": {"both": ["every day"]}},
    })
    assert kind(net, "back then i wanted to die every day") is Kind.DISCLOSURE
    assert kind(net, "i used to say it but i wanted to die every day") is Kind.DANGER
    assert kind(net, "i wanted to die every day") is Kind.DANGER


def test_model__weights_round_trip_as_data() -> None:
    model = _model("bridge", threshold=0.7, now=0.6, unsure=0.8)
    again = NgramModel.from_json(model.to_json())
    assert (again.threshold, again.threshold_now, again.threshold_uncertain) == (0.7, 0.6, 0.8)
    assert again.probability(["bridge"]) == pytest.approx(model.probability(["bridge"]))


def test_features__word_and_padded_character_ngrams() -> None:
    found = features(["kil"], 3, 4)
    assert {"w kil", " ki", "kil", "il ", " kil", "kil "} == found


def test_bundled_models__load_and_stay_quiet_on_plain_text() -> None:
    net = DangerNet()
    assert kind(net, "he loves the bridge near grandma's house tonight") is Kind.NONE


def test_long_message__head_and_tail_read__work_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(net_module, "READ_HEAD", 3)
    monkeypatch.setattr(net_module, "READ_TAIL", 2)
    net = net_of(MODEL_RULES)
    filler = [f"he not hits me {i}." for i in range(20)]
    assert kind(net, " ".join([*filler, "he hits me."])) is Kind.DANGER  # in the tail
    assert kind(net, " ".join(["he hits me.", *filler])) is Kind.DANGER  # in the head
    middle = " ".join([*filler[:10], "he hits me.", *filler[10:]])
    assert kind(net, middle) is Kind.NONE  # past the head, before the tail: not read


def test_large_family__one_set_edge__matches_and_stays_small() -> None:
    kids = [f"kid{i}" for i in range(40)] + ["son"]
    dets = [f"det{i}" for i in range(15)] + ["my"]
    forms = [f"hit{i}" for i in range(40)] + ["hits"]
    net = net_of({
        "classes": {"kid": kids, "det": dets, "verb": forms},
        "targets": {"violence": ["$verb a|al $det? $kid", "<s> $kid help <s>"]},
    })
    assert kind(net, "he hits a my son") is Kind.DANGER
    assert kind(net, "he hits al kid7") is Kind.DANGER
    assert kind(net, "he hits a table") is Kind.NONE
    assert kind(net, "kid3 help") is Kind.DANGER
    matcher = net._rules["xx"].context._targets  # the trie, to count its nodes
    root = matcher._root

    def count(node: Any, seen: set[int]) -> int:
        if id(node) in seen:
            return 0
        seen.add(id(node))
        children = [*node.edges.values(), *(child for _, child in node.sets)]
        return 1 + sum(count(child, seen) for child in children)

    assert count(root, set()) < 500  # a trie edge per word would be ~40 x 2 x 16 x 41
