"""safety-net6: quiet answers ("nothing right now"), the past model's veto of a rule's
danger said with a cue of now, sentences scored on their own, and a false-alarm budget
that counts the alarms the net keeps."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bench.train_danger_model import Routed, choose_rules_veto, choose_thresholds
from bot.danger import DangerNet, Kind
from bot.danger.model import NgramModel, load_model
from bot.danger.rules import build

RULES: dict[str, Any] = {
    "targets": {"violence": ["hits me"]},
    "modifiers": {
        "historical": {"both": ["years ago"]},
        "present": {"both": ["tonight"]},
    },
    "quiet": ["nothing"],
}


def _net(model: NgramModel | None = None, past: NgramModel | None = None) -> DangerNet:
    return DangerNet([build("xx", RULES)], models={"xx": model} if model else {},
                     pasts={"xx": past} if past else {})


def test_quiet__nothing_tonight_is_an_answer__not_a_sign_of_now() -> None:
    """The model is off in its plain mode, on in its "now" mode: "nothing tonight" read
    as a sign of now would be danger."""
    model = NgramModel({"w calm": 10.0}, -5.0, 1.01, threshold_now=0.5, cues=True)
    quiet = replace(model, quiet=True)
    answer = "nothing tonight, all calm at home"
    assert _net(model).classify(answer, "xx").kind is Kind.DANGER
    assert _net(quiet).classify(answer, "xx").kind is Kind.NONE
    assert _net(quiet).model_gate(answer, "xx", model=quiet) == (
        "plain", ["nothing", ",", "all", "calm", "at", "home", "#quiet"])
    # A sign of now with no "nothing" beside it is still one.
    assert _net(quiet).classify("he is calm at home tonight", "xx").kind is Kind.DANGER
    assert _net(quiet).classify("nothing much. he is calm at home tonight",
                                "xx").kind is Kind.DANGER


def test_quiet__the_bundled_nets_answers_nothing_right_now() -> None:
    net = DangerNet()
    for text, locale in [("Nothing right now", "en"), ("nothing at the moment thanks", "en"),
                         ("Nothing right now, he is doing well", "en"),
                         ("nada por ahora", "es"), ("por ahora nada, gracias", "es")]:
        # Never the mode of now; a short one is plain sized "short" (safety-net7).
        assert net.model_gate(text, locale, model=load_model(locale))[0] in (
            None, "plain", "short"), text
        assert not net.classify(text, locale).danger, text


def test_past_veto_with_a_cue_of_now__only_when_the_past_model_has_that_threshold() -> None:
    """ "every day" inside a past account ("when she was a baby i thought about ending it
    every day... i'm a different person now") is a rule's danger with a cue of now."""
    past = NgramModel({"w years": 10.0}, -5.0, 0.5)
    text = "he hits me tonight, like years ago"
    assert _net(past=past).classify(text, "xx").kind is Kind.DANGER
    assert _net(past=replace(past, threshold_now=0.9)).classify(
        text, "xx").kind is Kind.DISCLOSURE
    assert _net(past=replace(past, threshold_now=0.999)).classify(
        text, "xx").kind is Kind.DANGER


def test_options__quiet_and_sentences_round_trip_as_data() -> None:
    model = NgramModel({}, 0.0, 0.5, quiet=True, sentences="plain")
    again = NgramModel.from_json(model.to_json())
    assert (again.quiet, again.sentences) == (True, "plain")
    assert (NgramModel.from_json(NgramModel({}, 0.0, 0.5).to_json()).quiet,
            NgramModel({}, 0.0, 0.5).sentences) == (False, "")


def test_sentences__one_dangerous_sentence_of_a_short_answer_is_scored_on_its_own() -> None:
    """Under the window's length, the whole message is all a model without `sentences`
    reads: the ordinary first sentence outvotes the second."""
    model = NgramModel({"w bridge": 8.0, "w school": -4.0, "w friends": -4.0}, -3.0, 0.5)
    text = "school is fine and friends too. i am on the bridge"
    assert _net(model).classify(text, "xx").kind is Kind.NONE
    assert _net(replace(model, sentences="plain")).classify(text, "xx").kind is Kind.DANGER
    assert _net(replace(model, sentences="plain")).classify(
        "school is fine and friends too. i am on the beach", "xx").kind is Kind.NONE


def _rule_alarm(past: float, now: bool = False) -> Routed:
    return Routed(Kind.NONE, Kind.DANGER, None, 0.0, now, past)


def test_budget__counts_the_rules_alarms_the_past_model_takes_back__as_none() -> None:
    """Five rule alarms on past harm would eat a budget of 4.4: the model is silenced,
    though the past model turns all five into disclosures."""
    items = [
        *[Routed(Kind.DANGER, Kind.NONE, "plain", 0.9, False, 0.0) for _ in range(5)],
        *[Routed(Kind.NONE, Kind.NONE, "plain", 0.2, False, 0.0) for _ in range(45)],
        *[_rule_alarm(past=0.95) for _ in range(5)],
    ]
    assert choose_thresholds(items, budget=0.08)["plain"] == 1.01
    veto = choose_rules_veto(items)
    assert veto <= 0.95
    assert choose_thresholds(items, budget=0.08, rules_veto=veto)["plain"] <= 0.9
    # With a cue of now the rules' alarms stay, unless the now veto takes them back too.
    now = [*items[:50], *[_rule_alarm(past=0.95, now=True) for _ in range(5)]]
    assert choose_thresholds(now, budget=0.08, rules_veto=veto)["plain"] == 1.01
    assert choose_thresholds(now, budget=0.08, rules_veto=veto,
                             now_veto=choose_rules_veto(now, now=True))["plain"] <= 0.9


def test_doubt__the_model_drops_a_rules_danger_it_finds_ordinary__never_with_a_cue_of_now(
) -> None:
    model = NgramModel({"w pillow": -10.0, "w bridge": 10.0}, 0.0, 1.01)
    doubting = replace(model, threshold_rules=0.2)
    game = "in the pillow fight my son hits me with a pillow"
    assert _net(model).classify(game, "xx").kind is Kind.DANGER
    assert _net(doubting).classify(game, "xx").kind is Kind.NONE
    assert _net(doubting).classify(game + " tonight", "xx").kind is Kind.DANGER
    assert _net(doubting).classify(game + ". tonight", "xx").kind is Kind.DANGER
    assert _net(doubting).classify("my husband hits me", "xx").kind is Kind.DANGER  # p = 0.5
    assert _net(doubting).classify("hits me", "xx").kind is Kind.DANGER  # two words


def test_doubt__chosen_to_lose_at_most_half_a_percent_of_the_danger() -> None:
    from bench.train_danger_model import choose_doubt

    def rule(truth: Kind, doubt: float) -> Routed:
        return Routed(truth, Kind.DANGER, None, 0.0, False, 0.0, doubt)

    items = [*[rule(Kind.DANGER, 0.9) for _ in range(199)], rule(Kind.DANGER, 0.05),
             *[rule(Kind.NONE, 0.01) for _ in range(5)]]
    assert choose_doubt(items) == 0.1  # one danger of 200 may go: 0.5%; never above 0.1
    items.append(rule(Kind.DANGER, 0.03))
    assert choose_doubt(items) == 0.04
    assert choose_doubt([rule(Kind.DANGER, 0.001)]) == 0.0


def test_now_veto__never_below_its_least__though_out_of_fold_a_lower_one_lost_nothing(
) -> None:
    from bench.train_danger_model import NOW_VETO_LEAST

    items = [*[Routed(Kind.DANGER, Kind.DANGER, None, 0.0, True, 0.1) for _ in range(50)],
             *[_rule_alarm(past=0.7, now=True) for _ in range(5)]]
    assert choose_rules_veto(items) == 0.5  # without a cue of now: the lowest
    assert choose_rules_veto(items, now=True) == NOW_VETO_LEAST >= 0.9
