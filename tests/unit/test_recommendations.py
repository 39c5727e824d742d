"""Recommendations: bottom-up order, a depleted caregiver first, reasons attached, data valid."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import build_report
from scoring.rules import RulesError, bundled_rules, parse_recommendation_rules
from tests.unit.families import NOW, age, answers, default_flow, family_jay

RULES = bundled_rules("developmental_history")
REGION_ORDER = [r.id for r in RULES.scoring.functioning.regions]
REGION_RECS = {"rhythm_for_body": "brainstem", "movement_senses": "diencephalon",
               "one_to_one_time": "limbic", "learning_when_calm": "cortex"}
FUNCTION_ITEMS = [f.item for r in RULES.scoring.functioning.regions for f in r.functions]
CAREGIVER = {
    "worn_out": dict(cg_health="poor", cg_sleep="very_little", cg_support="nobody",
                     cg_money="very_hard", cg_respite="never", cg_history="often",
                     cg_stress="high", cg_work="overwhelming", cg_challenge="too_much",
                     cg_children=6),
    "ok": dict(cg_health="good", cg_sleep="enough", cg_support="several", cg_money="okay",
               cg_respite="regular", cg_history="rarely", cg_stress="low", cg_work="light",
               cg_challenge="manageable", cg_children=1),
}


def test_rules__bundled__valid_with_what_how_often_how_long_why() -> None:
    for rec in RULES.recommendations.recommendations:
        for text in (rec.title, rec.try_, rec.how_often, rec.how_long, rec.why):
            assert text["en"].strip()
        assert len(rec.try_["en"]) <= 300, rec.id


def test_rules__duplicate_id__rejected_with_line() -> None:
    text = ("flow: x\nrecommendations:\n"
            "  - {id: a, tier: 0, stage: caregiver, when: {reserve: [depleted]}, title: {en: t},\n"
            "     try: {en: t}, how_often: {en: t}, how_long: {en: t}, why: {en: t},\n"
            "     clinical: {en: t}, clinical_title: {en: t}}\n"
            "  - {id: a, tier: 1, stage: caregiver, when: {reserve: [stretched]}, title: {en: t},\n"
            "     try: {en: t}, how_often: {en: t}, how_long: {en: t}, why: {en: t},\n"
            "     clinical: {en: t}, clinical_title: {en: t}}\n")
    with pytest.raises(RulesError, match="'a' is used twice"):
        parse_recommendation_rules(text, "recs.yaml")


def test_rules__unknown_condition__located() -> None:
    text = ("flow: x\nrecommendations:\n"
            "  - id: a\n    tier: 0\n    stage: caregiver\n    when: {weather: sunny}\n"
            "    title: {en: t}\n    try: {en: t}\n    how_often: {en: t}\n"
            "    how_long: {en: t}\n    why: {en: t}\n    clinical: {en: t}\n"
            "    clinical_title: {en: t}\n")
    with pytest.raises(RulesError) as caught:
        parse_recommendation_rules(text, "recs.yaml")
    assert {p.line for p in caught.value.problems} == {6}
    assert all(p.file == "recs.yaml" for p in caught.value.problems)


def test_depleted_caregiver__support_comes_first() -> None:
    report = build_report(default_flow(), family_jay(), NOW)
    assert report.recommendations[0].id == "caregiver_first"
    assert "score:caregiving_reserve" in report.recommendations[0].triggered_by


def test_child_in_alarm__calm_before_talk_before_any_region_work() -> None:
    report = build_report(default_flow(), answers(child_age=age(100), upset_often="weekly",
                                                  cx_planning="a_lot", **CAREGIVER["ok"]), NOW)
    ids = [r.id for r in report.recommendations]
    assert ids.index("calm_before_talk") < ids.index("learning_when_calm")
    assert report.recommendations[0].triggered_by == ("upset_often",)


def test_nothing_compromised__keep_going_only() -> None:
    typical = dict.fromkeys(FUNCTION_ITEMS, "typical")
    report = build_report(default_flow(), answers(
        child_age=age(100), upset_often="rarely", now_family="strong", now_peers="strong",
        now_school="strong", now_community="strong", **typical, **CAREGIVER["ok"]), NOW)
    assert [r.id for r in report.recommendations] == ["keep_going"]
    # It rests on enough rated answers and a low overall risk, and says so.
    assert set(report.recommendations[0].triggered_by) == {"score:rated", "score:risk"}


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.sampled_from(FUNCTION_ITEMS), st.sampled_from(["typical", "some",
                                                                           "a_lot"])),
       st.sampled_from(sorted(CAREGIVER)), st.sampled_from(["rarely", "weekly", "daily"]))
def test_property__order__caregiver_then_state_then_bottom_up(
        ratings: dict[str, str], caregiver: str, upset: str) -> None:
    given_answers = answers(child_age=age(200), upset_often=upset, **ratings,
                            **CAREGIVER[caregiver])
    report = build_report(default_flow(), given_answers, NOW)
    ids = [r.id for r in report.recommendations]
    tiers = [r.tier for r in report.recommendations]
    assert tiers == sorted(tiers)
    regions = [REGION_RECS[i] for i in ids if i in REGION_RECS]
    assert regions == sorted(regions, key=REGION_ORDER.index)
    # The lowest compromised region is the first region addressed.
    compromised = [r.id for r in report.compromised_regions]
    assert regions == compromised
    if caregiver == "worn_out":
        assert ids[0] == "caregiver_first"
    for rec in report.recommendations:
        assert rec.triggered_by
        for trigger in rec.triggered_by:
            assert trigger.startswith("score:") or trigger in given_answers


def test_rules__relate_before_regulate__rejected() -> None:
    """The order the model teaches is enforced on the data: a relate step may not come
    before (or alongside) a regulate step."""
    def rec(rid: str, tier: int, stage: str) -> str:
        return (f"  - {{id: {rid}, tier: {tier}, stage: {stage}, when: {{reserve: [depleted]}},\n"
                "     title: {en: t}, try: {en: t}, how_often: {en: t}, how_long: {en: t},\n"
                "     why: {en: t}, clinical: {en: t}, clinical_title: {en: t}}\n")
    text = "flow: x\nrecommendations:\n" + rec("a", 3, "relate") + rec("b", 3, "regulate")
    with pytest.raises(RulesError, match="regulate, relate, reason"):
        parse_recommendation_rules(text, "recs.yaml")
    ordered = "flow: x\nrecommendations:\n" + rec("a", 2, "regulate") + rec("b", 3, "relate")
    assert len(parse_recommendation_rules(ordered).recommendations) == 2
