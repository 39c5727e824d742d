"""safety-net7: short and long messages asked under thresholds of their own, and a past veto
whose strength is chosen by LOCO."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bench.train_danger_model import Design, Routed, choose_thresholds, choose_veto, sized
from bot.danger import DangerNet, Kind
from bot.danger.model import NgramModel

RULES: dict[str, Any] = {
    "targets": {"violence": ["hits me"]},
    "modifiers": {
        "historical": {"both": ["years ago"]},
        "present": {"both": ["tonight"]},
        "negated": {"forward": ["not"]},
    },
}
#: "gone" is danger to this model, every other word is nothing: p = 0.99 wherever it is.
GONE = NgramModel({"w gone": 10.0}, -5.0, 0.5, threshold_uncertain=0.5, threshold_past=0.5,
                   past_scope="sentence")
FILLER = " ".join(["we", "had", "a", "walk", "by", "the", "river"] * 6)  # 42 words


def _net(model: NgramModel) -> DangerNet:
    from bot.danger.rules import build

    return DangerNet([build("xx", RULES)], models={"xx": model})


def test_sizes__a_short_plain_message_is_asked_under_its_own_threshold() -> None:
    short = replace(GONE, short=4, threshold_short=1.01)
    assert _net(GONE).classify("i am gone", "xx").kind is Kind.DANGER
    assert _net(short).classify("i am gone", "xx").kind is Kind.NONE  # 3 words: "short"
    assert _net(replace(short, threshold_short=0.9)).classify("i am gone", "xx").danger
    # Five words are not short: the plain threshold again.
    assert _net(short).classify("i am gone for good", "xx").kind is Kind.DANGER
    assert _net(short).model_gate("i am gone", "xx", model=short)[0] == "short"


def test_sizes__a_long_answer_is_asked_under_its_own_threshold__doubt_never_sized() -> None:
    long = replace(GONE, long=40, threshold_long=1.01)
    text = f"{FILLER} and now he is gone"
    assert _net(GONE).classify(text, "xx").kind is Kind.DANGER
    assert _net(long).classify(text, "xx").kind is Kind.NONE
    assert _net(long).model_gate(text, "xx", model=long)[0] == "long"
    # A message that casts doubt keeps its own mode, whatever its length.
    assert _net(long).model_gate(f"{FILLER} and he is not gone", "xx",
                                 model=long)[0] == "uncertain"
    # A past cue's sentence left out, the rest long: "long" too.
    assert _net(long).model_gate(f"years ago. {FILLER} and he is gone", "xx",
                                 model=long)[0] == "long"


def test_sizes__round_trip_as_data__absent_in_an_older_model() -> None:
    model = replace(GONE, short=5, threshold_short=0.9, long=40, threshold_long=0.96)
    again = NgramModel.from_json(model.to_json())
    assert (again.short, again.threshold_short, again.long, again.threshold_long) == (
        5, 0.9, 40, 0.96)
    old = NgramModel.from_json(NgramModel({}, 0.0, 0.5).to_json())
    assert (old.short, old.long, old.sized("plain", 2), old.sized("now", 500)) == (
        0, 0, "plain", "now")


def _said(truth: Kind, mode: str, p: float, size: int) -> Routed:
    return Routed(truth, Kind.NONE, mode, p, False, 0.0, 1.0, size)


def test_choice__short_messages_get_a_threshold_chosen_apart_from_the_plain_ones() -> None:
    """Short ordinary answers at p 0.9 would hold the plain threshold above 0.9 and lose
    the longer danger at 0.8; asked apart, the plain threshold comes down and the short
    mode stays off."""
    items = [
        *[_said(Kind.DANGER, "plain", 0.8, 10) for _ in range(10)],
        *[_said(Kind.NONE, "plain", 0.9, 3) for _ in range(10)],
        *[_said(Kind.NONE, "plain", 0.1, 10) for _ in range(80)],
    ]
    together = choose_thresholds(sized(items, Design()), budget=0.05)
    assert together["plain"] > 0.9
    apart = choose_thresholds(sized(items, Design(short=5)), budget=0.05)
    assert apart["plain"] <= 0.8 and apart["short"] == 1.01


def test_veto__a_stronger_past_veto_may_lose_more_danger_out_of_fold() -> None:
    """The past model's veto of the model's verdicts: the lowest threshold that turns at
    most `loss` of the danger into not-danger."""
    items = [*[Routed(Kind.DANGER, Kind.NONE, "plain", 0.9, False, 0.1) for _ in range(98)],
             *[Routed(Kind.DANGER, Kind.NONE, "plain", 0.9, False, 0.6) for _ in range(2)]]
    assert choose_veto(items) == 0.62  # 0.5% of 100: none of the two may go
    assert choose_veto(items, loss=0.02) == 0.5


def test_choice__by_ratio__the_budget_goes_where_it_catches_most() -> None:
    """Four false alarms buy one danger in the "uncertain" mode or five in the "short" one:
    the greedy order gives them to "uncertain" first; the search by ratio to "short"."""
    items = [
        _said(Kind.DANGER, "uncertain", 0.6, 10),
        *[_said(Kind.NONE, "uncertain", 0.6, 10) for _ in range(4)],
        *[_said(Kind.DANGER, "short", 0.7, 3) for _ in range(5)],
        *[_said(Kind.NONE, "short", 0.7, 3) for _ in range(4)],
        *[_said(Kind.NONE, "plain", 0.1, 10) for _ in range(90)],
    ]
    greedy = choose_thresholds(items, budget=0.05)
    assert (greedy["uncertain"], greedy["short"]) == (0.6, 1.01)
    ratio = choose_thresholds(items, budget=0.05, search="ratio")
    assert (ratio["uncertain"], ratio["short"]) == (1.01, 0.7)


def test_choice__a_past_allowance_opens_a_threshold_one_past_disclosure_held_shut() -> None:
    """One past disclosure above every useful threshold keeps the plain mode off unless
    the search may let the model call that one danger."""
    items = [
        *[_said(Kind.DANGER, "plain", 0.8, 10) for _ in range(20)],
        _said(Kind.DISCLOSURE, "plain", 0.9, 10),
        *[_said(Kind.NONE, "plain", 0.1, 10) for _ in range(79)],
    ]
    assert choose_thresholds(items, budget=0.05)["plain"] == 1.01
    assert choose_thresholds(items, budget=0.05, past_allow=1)["plain"] <= 0.8
    assert choose_thresholds(items, budget=0.05, search="ratio", past_allow=1)["plain"] <= 0.8


def test_veto__its_floor_may_go_under_one_half() -> None:
    items = [*[Routed(Kind.DANGER, Kind.NONE, "plain", 0.9, False, 0.1) for _ in range(99)],
             Routed(Kind.DANGER, Kind.NONE, "plain", 0.9, False, 0.45)]
    assert choose_veto(items) == 0.5
    assert choose_veto(items, floor=0.3) == 0.46  # 0.46 loses none, 0.44 would lose one
    assert choose_veto(items, loss=0.01, floor=0.3) == 0.3


def test_candidate__the_loco_chosen_models_load_with_their_sizes_and_keep_the_suites_words(
) -> None:
    """bench/candidates/safety-net7: the models of the design LOCO chose (docs/safety.md
    "safety-net7"), not shipped until the lead has measured them on the held-out sets."""
    from pathlib import Path

    from bench.bench_safety import net_from
    from bot.danger.model import load_model

    folder = Path(__file__).resolve().parents[2] / "bench" / "candidates" / "safety-net7"
    for locale in ("en", "es"):
        model = load_model(locale, folder / locale / "danger_model.json")
        assert model is not None and (model.short, model.long) == (5, 40)
        assert model.threshold_short is not None and model.threshold_long is not None
    net = net_from(folder)
    assert net.classify("terrified for my life", "en").danger  # the past veto from 0.56
    assert not net.classify("Nothing right now, he is doing well", "en").danger
    assert not net.classify("nada por ahora, gracias", "es").danger
