"""The danger model's safety-net4 options (word pairs, cue features, windows, past by
sentence) and the out-of-fold threshold search that chooses its thresholds."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bench.train_danger_model import Routed, choose_thresholds, choose_veto
from bot.danger import DangerNet, Kind
from bot.danger.model import NgramModel, features
from bot.danger.rules import build

RULES: dict[str, Any] = {
    "targets": {"violence": ["hits me"]},
    "modifiers": {
        "negated": {"forward": ["not"]},
        "historical": {"both": ["years ago"]},
        "present": {"both": ["tonight"]},
    },
}
#: Ordinary intake words the model finds reassuring (a long answer is mostly these).
ORDINARY = ("walked", "talked", "slept", "school", "friends", "reads", "loves", "lego")


def _model(**options: Any) -> NgramModel:
    """Danger for "bridge" (+10), against each ordinary word (-3), bias -5."""
    weights = {"w bridge": 10.0, **{f"w {w}": -3.0 for w in ORDINARY}}
    return NgramModel(weights, -5.0, 0.5, **options)


def _net(model: NgramModel) -> DangerNet:
    return DangerNet([build("xx", RULES)], models={"xx": model})


def _kind(net: DangerNet, text: str) -> Kind:
    return net.classify(text, "xx").kind


LONG = ("he walked and talked early and slept well, school is fine, friends, reads, "
        "loves lego, walked to school with friends, loves reads and lego. "
        "i am standing here on the bridge over the river by the road")


def test_window__a_dangerous_end_of_a_long_answer_is_not_outvoted() -> None:
    assert _kind(_net(_model()), LONG) is Kind.NONE  # the whole message: ordinary wins
    assert _kind(_net(_model(window=12)), LONG) is Kind.DANGER
    assert _kind(_net(_model(window=12)), LONG.replace("bridge", "beach")) is Kind.NONE


def test_window__a_message_that_casts_doubt_is_scored_whole__when_asked() -> None:
    """safety-net5: a window cut out of a long message that says "not" (or "lol", "if")
    no longer alarms on its own; without the doubt, windows still read the end."""
    doubt = LONG.replace("slept well", "is not fussy")
    options = {"window": 12, "cues": True, "threshold_uncertain": 0.5}
    assert _kind(_net(_model(**options)), doubt) is Kind.DANGER
    assert _kind(_net(_model(**options, window_doubt=False)), doubt) is Kind.NONE
    assert _kind(_net(_model(**options, window_doubt=False)), LONG) is Kind.DANGER


def test_word_pairs__a_feature_only_when_asked() -> None:
    assert "b got her" in features(["he", "got", "her"], bigrams=True)
    assert not any(f.startswith("b ") for f in features(["he", "got", "her"]))
    pair = NgramModel({"b got her": 10.0}, -5.0, 0.5, bigrams=True)
    assert pair.probability(["he", "got", "her"]) > 0.99
    assert pair.probability(["her", "got", "he"]) < 0.01


def test_cue_features__the_rules_cues_read_as_words() -> None:
    net = _net(_model(cues=True))
    words = net.model_input("im on the bridge tonight", "xx", _model(cues=True))[0]
    assert words == ["im", "on", "the", "bridge", "#present"]
    assert net.model_input("im on the bridge tonight", "xx")[0][-1] == "bridge"
    found = features(words)
    assert "w #present" in found and "pre" not in found and "#pr" not in found


def test_past_by_sentence__only_the_past_sentence_is_left_out() -> None:
    text = "that was years ago. im on the bridge"
    assert _kind(_net(_model()), text) is Kind.NONE  # the whole message left out
    by_sentence = _model(past_scope="sentence", threshold_past=0.5)
    assert _kind(_net(by_sentence), text) is Kind.DANGER
    assert _kind(_net(by_sentence), "i was on the bridge years ago") is Kind.NONE
    # The "past" mode has no threshold unless training chose one: off.
    assert _kind(_net(replace(by_sentence, threshold_past=None)), text) is Kind.NONE


def test_options__round_trip_as_data() -> None:
    model = _model(bigrams=True, cues=True, window=12, past_scope="sentence",
                   threshold_past=0.7, window_doubt=False)
    again = NgramModel.from_json(model.to_json())
    assert (again.bigrams, again.cues, again.window, again.past_scope, again.threshold_past,
            again.window_doubt) == (True, True, 12, "sentence", 0.7, False)


def _routed(truth: Kind, mode: str, p: float, past: float = 0.0) -> Routed:
    return Routed(truth, Kind.NONE, mode, p, False, past)


def test_thresholds__a_mode_with_past_harm_on_top_is_off__the_others_stay_on() -> None:
    items = [
        *[_routed(Kind.DANGER, "plain", 0.9) for _ in range(5)],
        *[_routed(Kind.NONE, "plain", 0.2) for _ in range(50)],
        _routed(Kind.DANGER, "now", 0.99),
        _routed(Kind.DISCLOSURE, "now", 0.99),  # above every threshold of "now"
    ]
    chosen = choose_thresholds(items, budget=0.08)
    assert chosen["now"] == 1.01
    assert 0.2 < chosen["plain"] <= 0.9


def test_veto_first__past_harm_the_past_model_drops_does_not_block_a_threshold() -> None:
    items = [
        *[_routed(Kind.DANGER, "plain", 0.9, past=0.1) for _ in range(5)],
        *[_routed(Kind.NONE, "plain", 0.2, past=0.1) for _ in range(50)],
        _routed(Kind.DISCLOSURE, "plain", 0.95, past=0.97),
    ]
    assert choose_thresholds(items, budget=0.08)["plain"] > 0.95  # only above the past
    veto = choose_veto(items)
    assert veto <= 0.97
    assert choose_thresholds(items, budget=0.08, veto=veto)["plain"] <= 0.9


def test_past_cue_of_some_concerns_only__does_not_silence_the_model() -> None:
    """Spanish "ya no" is a past cue for violence ("ya no me pega"), not for a farewell."""
    rules = {**RULES, "modifiers": {**RULES["modifiers"], "historical": {"both": [
        "years ago", {"pattern": "no longer", "applies_to": ["violence"]}]}}}
    net = DangerNet([build("xx", rules)], models={"xx": _model()})
    assert _kind(net, "no longer here, on the bridge") is Kind.DANGER
    assert _kind(net, "years ago, on the bridge") is Kind.NONE


def test_three_words__a_cue_of_now_counts__though_the_model_does_not_read_it() -> None:
    net = _net(_model())
    assert _kind(net, "on bridge tonight") is Kind.DANGER  # two words read, one cue of now
    assert _kind(net, "bridge tonight") is Kind.NONE  # still under three
