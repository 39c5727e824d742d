"""Scoring: three hand-computed families, monotonic properties, region locality, rule errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.engine import Answer
from flows.loader import bundled_flow_paths, load_flow_file
from scoring import NoScoringRules, build_report, build_report_with, has_rules
from scoring.compute import period_risk
from scoring.rules import Band, RulesError, bundled_rules, parse_scoring_rules
from tests.unit.families import NOW, age, answers, default_flow, family_ana, family_jay, family_mia

RULES = bundled_rules("developmental_history")
CONNECTION = ["little", "patchy", "mostly", "strong"]  # worst to best
FUNCTIONING = ["typical", "some", "a_lot"]  # best to worst
SEVERITY = ["mild", "moderate", "severe"]
PATTERN = ["once", "now_and_then", "ongoing"]
PERIODS = ["perinatal", "infancy", "early", "childhood", "adolescence"]
PERIOD_PREFIX = {"perinatal": "peri", "infancy": "inf", "early": "early",
                 "childhood": "child", "adolescence": "teen"}
CATEGORIES = list(RULES.scoring.adversity.categories)


# -- golden families -------------------------------------------------------------------------


def test_golden__mia__toddler_ordinary_history() -> None:
    """Mia, 30 months, no adversity, every connection strong.

    Periods reached: perinatal (0), infancy (2), early (13); 30 < 48 so not childhood.
    R = 1 everywhere, no adversity: risk = w * (0 + pw * (0 + 1.5 * 0)) * (1 - .6) = 0: low.
    Now: strong 3, mostly 2, strong 3 -> 8/9 = .889 -> strong (>= .67);
    overall = 0 + 8 * (1 - 8/9) = .889 -> low (< 4).
    Brainstem: sleep "some" = 1 point, 5 typical -> 1 / (6 * 2) = 8.3 -> typical (< 15).
    Cortex at 30 months: language and concrete only (2 of 10 asked).
    Reserve: resources good 2 + patchy 1 + several 2 + okay 2 + sometimes 1 = 8;
    demands rarely 0 + medium 1 + light 0 + demanding 1 + (2 - 1) children * .5 = 2.5;
    8 - 2.5 = 5.5 -> reserve (>= 3).
    Recommendations: sleep_routine (bs_sleep moderate, tier 2), keep_going (no region
    moderate, tier 8); rhythm_for_body is not triggered (brainstem typical).
    """
    report = build_report(default_flow(), family_mia(), NOW)
    assert [p.period for p in report.reached_periods] == ["perinatal", "infancy", "early"]
    assert all(p.risk == 0 and p.band == "low" for p in report.reached_periods)
    assert report.period("childhood").band == "not_reached"
    assert report.current_relational.score == pytest.approx(0.889, abs=1e-3)
    assert report.current_relational.band == "strong"
    assert report.overall_risk.score == pytest.approx(0.889, abs=1e-3)
    assert report.overall_risk.band == "low"
    assert report.region("brainstem").difficulty == pytest.approx(8.3)
    assert [r.band for r in report.regions] == [Band.TYPICAL] * 4
    assert report.function("bs_sleep").band is Band.MODERATE
    assert [f.item_id for f in report.functions if f.region == "cortex" and f.applies] == [
        "cx_first_words", "cx_concrete"]
    assert (report.caregiving.resources, report.caregiving.demands) == (8, 2.5)
    assert (report.caregiving.reserve, report.caregiving.band) == (5.5, "reserve")
    assert [r.id for r in report.recommendations] == ["sleep_routine", "keep_going"]


def test_golden__jay__early_neglect_and_a_depleted_carer() -> None:
    """Jay, 96 months, foster care.

    Points: neglect (relational poverty) severe 3 x ongoing 2 = 6 in perinatal, infancy;
    home violence (adversity) moderate 2 x now and then 1.5 = 3 in early;
    placement (relational poverty) moderate 2 x once 1 = 2 in early, childhood.
    Connection R: perinatal little only -> 0/3 = 0; infancy patchy 1 + little 0 -> 1/6;
    early mostly 2 + mostly 2 + patchy 1 -> 5/9; childhood all strong -> 1.
    risk = w * (adv + pw * (pov + 1.5 * (1 - R))) * (1 - .6 R):
      perinatal 2.0 * (0 + 1.5 * (6 + 1.5)) * 1 = 22.5 -> high (>= 6)
      infancy 1.6 * (1.25 * (6 + 1.25)) * .9 = 13.05 -> high
      early 1.3 * (3 + (2 + 1.5 * 4/9)) * (1 - 1/3) = 4.911 -> moderate (>= 2)
      childhood 1.0 * (0 + 2 + 0) * .4 = .8 -> low
    history 41.261; now mostly 2, patchy 1, mostly 2, patchy 1 = 6/12 = .5 -> mixed;
    overall = 41.261 + 8 * .5 = 45.261 -> high (>= 12).
    Regions: brainstem 2+1+0+2+0+1 = 6/12 = 50, moderate by the mean, but arousal and
    startle are both "a lot": a brainstem in alarm, so significant; diencephalon 1/12 = 8.3 ->
    typical; limbic 1+1+2+1+2+0+0 = 7/14 = 50, but peers and big feelings are both "a lot"
    -> significant; cortex 6/20 = 30 -> moderate.
    Self-regulation factor: arousal 2, sleep 1, feeding 0, startle 2, alertness 1,
    self-soothe 0, big feelings 2, impulses 2 = 10/16 = 62.5 -> significant.
    Reserve: resources 1+1+1+1+0 = 4; demands 1+2+1+2 + (3-1)*.5 = 7; -3 -> depleted.
    """
    report = build_report(default_flow(), family_jay(), NOW)
    risks = {p.period: (p.risk, p.band) for p in report.reached_periods}
    assert risks == {"perinatal": (22.5, "high"), "infancy": (13.05, "high"),
                     "early": (pytest.approx(4.911, abs=1e-3), "moderate"),
                     "childhood": (0.8, "low")}
    assert report.period("early").load == 5
    assert report.overall_risk.from_history == pytest.approx(41.261, abs=1e-3)
    assert report.overall_risk.score == pytest.approx(45.261, abs=1e-3)
    assert report.overall_risk.band == "high"
    assert report.current_relational.band == "mixed"
    assert [(r.id, r.difficulty, r.band) for r in report.regions] == [
        ("brainstem", 50.0, Band.SIGNIFICANT), ("diencephalon", 8.3, Band.TYPICAL),
        ("limbic", 50.0, Band.SIGNIFICANT), ("cortex", 30.0, Band.MODERATE)]
    factors = {f.id: (f.difficulty, f.band) for f in report.factors}
    assert factors == {"sensory_integration": (8.3, Band.TYPICAL),
                       "self_regulation": (62.5, Band.SIGNIFICANT),
                       "relational": (41.7, Band.MODERATE),
                       "cognitive": (22.2, Band.MODERATE)}
    assert (report.caregiving.resources, report.caregiving.demands) == (4, 7)
    assert report.caregiving.band == "depleted"
    assert set(report.caregiving.strained_items) == {"cg_respite", "cg_stress"}
    # Carer first; then regulate, relate (connection now is mixed: widen the circle), and
    # only then reason.
    assert [r.id for r in report.recommendations] == [
        "caregiver_first", "calm_before_talk", "rhythm_for_body", "sleep_routine",
        "one_to_one_time", "friendship_help", "widen_circle", "learning_when_calm"]


def test_golden__ana__teenager_later_adversity_skipped_answers() -> None:
    """Ana, 180 months, a clinician answering, caregiver questions all skipped.

    Points: medical (adversity) severity skipped -> middle 2 x once 1 = 2 in perinatal;
    discrimination (adversity) 2 x ongoing 2 = 4 in childhood, adolescence;
    loss (relational poverty) mild 1 x once 1 = 1 in adolescence.
    Connection R = 2/3 in the first four periods; adolescence strong 3 + mostly 2 (community
    unknown, left out) -> 5/6.
      perinatal 2.0 * (2 + 1.5 * (1.5 * 1/3)) * (1 - .4) = 3.3 -> moderate
      infancy 1.6 * (1.25 * .5) * .6 = .6 -> low
      early 1.3 * (1.0 * .5) * .6 = .39 -> low
      childhood 1.0 * (4 + .5) * .6 = 2.7 -> moderate
      adolescence .8 * (4 + (1 + 1.5 * 1/6)) * (1 - .5) = 2.1 -> moderate
    history 9.09; now 3+3+2+3 = 11/12 -> strong; 8 * 1/12 = .667; overall 9.757 -> moderate.
    Cortex: reading a_lot = 2 / 20 = 10 (typical by score) but a significant function lifts
    the region to moderate. Muscle tone "not sure" is unrated; diencephalon 0/10 = 0.
    Reserve: every caregiver item skipped -> no band ("unknown"), so no caregiver advice;
    the arithmetic still runs with skipped items at the middle: 5 * 1 - 4 * 1 = 1.
    Recommendations: learning_when_calm only (cortex moderate, tier 5).
    """
    report = build_report(default_flow(), family_ana(), NOW)
    risks = [(p.period, p.risk, p.band) for p in report.reached_periods]
    assert risks == [("perinatal", 3.3, "moderate"), ("infancy", 0.6, "low"),
                     ("early", 0.39, "low"), ("childhood", 2.7, "moderate"),
                     ("adolescence", 2.1, "moderate")]
    assert report.overall_risk.score == pytest.approx(9.757, abs=1e-3)
    assert report.overall_risk.band == "moderate"
    cortex = report.region("cortex")
    assert (cortex.difficulty, cortex.band) == (10.0, Band.MODERATE)
    assert report.function("dc_tone").band is Band.UNRATED
    assert report.region("diencephalon").difficulty == 0
    assert (report.caregiving.reserve, report.caregiving.band) == (1, "unknown")
    medical = next(a for a in report.adversities if a.category == "medical")
    assert (medical.severity, medical.points) == (None, 2)
    assert [r.id for r in report.recommendations] == ["learning_when_calm"]
    assert report.recommendations[0].triggered_by == ("score:region.cortex", "cx_reading")


def test_background__yes_adds_to_perinatal_adversity() -> None:
    """Mia with high stress in pregnancy (2 points) and premature birth (2 points), "I don't
    know" about alcohol (0): perinatal adversity 4; risk 2.0 * (4 + 0) * (1 - .6) = 3.2."""
    given = {**family_mia(), **answers(pre_stress="yes", premature="yes",
                                       pre_alcohol="unknown", pre_drugs="no")}
    report = build_report(default_flow(), given, NOW)
    perinatal = report.period("perinatal")
    assert (perinatal.adversity, perinatal.risk, perinatal.band) == (4, 3.2, "moderate")
    assert set(perinatal.adversity_keys) == {"pre_stress", "premature"}
    assert report.period("infancy").adversity == 0


def test_reserve__partly_skipped__skips_count_as_the_middle() -> None:
    """Only stress answered, "high" (2): resources 5 skipped x 1 = 5; demands stress 2 +
    3 skipped x 1 = 5; no children answer; 5 - 5 = 0 -> stretched (>= 0)."""
    report = build_report(default_flow(), answers(cg_stress="high"), NOW)
    reserve = report.caregiving
    assert (reserve.resources, reserve.demands, reserve.reserve) == (5, 5, 0)
    assert (reserve.band, reserve.answered, reserve.strained_items) == (
        "stretched", 1, ("cg_stress",))


def test_build_report__same_answers__same_report() -> None:
    flow = default_flow()
    assert build_report(flow, family_jay(), NOW) == build_report(flow, family_jay(), NOW)


def test_build_report__empty_answers__no_crash() -> None:
    report = build_report(default_flow(), {}, NOW)
    assert report.child_name is None and report.age is None
    assert all(r.band is Band.UNRATED for r in report.regions)


# -- rules: errors and flows without rules --------------------------------------------------


def test_build_report__sample_flow__raises_no_scoring_rules() -> None:
    path = next(p for p in bundled_flow_paths() if p.name == "sample.yaml")
    flow = load_flow_file(path).flow
    assert not has_rules(flow.id)
    with pytest.raises(NoScoringRules, match="no scoring rules for flow 'sample'"):
        build_report(flow, {}, NOW)


def _rules_text() -> str:
    path = next(p for p in bundled_flow_paths() if p.name == "developmental_history.yaml")
    return (path.parent.parent.parent / "scoring" / "rules" / path.name).read_text()


def test_rules__bad_value__error_names_file_line_and_path() -> None:
    text = _rules_text().replace("  buffer: 0.6", "  buffer: 1.6")
    line = text.splitlines().index("  buffer: 1.6") + 1
    with pytest.raises(RulesError) as caught:
        parse_scoring_rules(text, "rules.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.path) == ("rules.yaml", line, "risk.buffer")
    assert "less than or equal to 1" in problem.message


def test_rules__unknown_factor__explained() -> None:
    text = _rules_text().replace("factor: cognitive, label: {en: \"Reading\"",
                                 "factor: reading, label: {en: \"Reading\"")
    with pytest.raises(RulesError, match="names factor 'reading', which is not listed"):
        parse_scoring_rules(text)


def test_rules__item_missing_from_flow__rejected_before_scoring() -> None:
    rules = RULES.scoring.model_copy(update={"current_relational": RULES.scoring
                                             .current_relational.model_copy(
                                                 update={"items": ["now_family", "now_pets"]})})
    with pytest.raises(RulesError, match="item 'now_pets' is not in flow"):
        build_report_with(replace(RULES, scoring=rules), default_flow(), {}, NOW)


# -- properties ----------------------------------------------------------------------------


adversity_strategy = st.dictionaries(
    st.sampled_from(CATEGORIES),
    st.tuples(st.lists(st.sampled_from(PERIODS), min_size=1, max_size=5, unique=True),
              st.sampled_from(SEVERITY), st.sampled_from(PATTERN)),
    max_size=6)
connection_strategy = st.dictionaries(
    st.sampled_from([f"rel_{p}_{a}" for p in PERIOD_PREFIX.values()
                     for a in ("bond", "family", "community")]
                    + ["now_family", "now_peers", "now_school", "now_community"]),
    st.sampled_from(CONNECTION))


def _history(adversity: dict[str, tuple[list[str], str, str]],
             connection: dict[str, str]) -> dict[str, Answer]:
    given = answers(child_age=age(200), adv_types=sorted(adversity) or ["none"], **connection)
    for category, (periods, severity, pattern) in adversity.items():
        given[f"adv_periods[{category}]"] = Answer(periods)
        given[f"adv_severity[{category}]"] = Answer(severity)
        given[f"adv_pattern[{category}]"] = Answer(pattern)
    return given


def _risks(given: dict[str, Answer]) -> tuple[list[float], float]:
    report = build_report(default_flow(), given, NOW)
    return [p.risk for p in report.periods], report.overall_risk.score


@settings(max_examples=60, deadline=None)
@given(adversity_strategy, connection_strategy, st.sampled_from(CATEGORIES),
       st.lists(st.sampled_from(PERIODS), min_size=1, unique=True),
       st.sampled_from(SEVERITY), st.sampled_from(PATTERN))
def test_property__more_adversity__never_lowers_risk(
        adversity: dict[str, tuple[list[str], str, str]], connection: dict[str, str],
        category: str, periods: list[str], severity: str, pattern: str) -> None:
    before_periods, before = _risks(_history(adversity, connection))
    old_periods, old_severity, old_pattern = adversity.get(category, ([], "mild", "once"))
    # Worse on every axis: more periods, severity and pattern at least as bad as before.
    worse = (sorted(set(old_periods) | set(periods)),
             max(old_severity, severity, key=SEVERITY.index),
             max(old_pattern, pattern, key=PATTERN.index))
    after_periods, after = _risks(_history({**adversity, category: worse}, connection))
    assert after >= before - 1e-9
    assert all(a >= b - 1e-9 for a, b in zip(after_periods, before_periods, strict=True))


@settings(max_examples=60, deadline=None)
@given(adversity_strategy, connection_strategy, connection_strategy)
def test_property__more_connection__never_raises_risk(
        adversity: dict[str, tuple[list[str], str, str]], connection: dict[str, str],
        better: dict[str, str]) -> None:
    before_periods, before = _risks(_history(adversity, connection))
    raised = dict(connection)
    for key, value in better.items():
        current = raised.get(key)
        # Improve answers already given. Adding an answer is new information, not more
        # support: a new "mostly" beside a "strong" rightly lowers that period's mean.
        if current is not None and CONNECTION.index(value) > CONNECTION.index(current):
            raised[key] = value
    after_periods, after = _risks(_history(adversity, raised))
    assert after <= before + 1e-9
    assert all(a <= b + 1e-9 for a, b in zip(after_periods, before_periods, strict=True))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PERIODS), st.floats(0, 60), st.floats(0, 60), st.floats(0, 1),
       st.floats(0, 30), st.floats(0, 1))
def test_property__period_risk__monotone_in_each_input(
        period: str, adversity: float, poverty: float, health: float, extra: float,
        more_health: float) -> None:
    rules = RULES.scoring
    base = period_risk(rules, period, adversity, poverty, health)
    assert period_risk(rules, period, adversity + extra, poverty, health) >= base - 1e-9
    assert period_risk(rules, period, adversity, poverty + extra, health) >= base - 1e-9
    better = min(1.0, health + more_health)
    assert period_risk(rules, period, adversity, poverty, better) <= base + 1e-9


FUNCTION_ITEMS = {r.id: [f.item for f in r.functions] for r in RULES.scoring.functioning.regions}


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from([i for items in FUNCTION_ITEMS.values() for i in items]),
                       st.sampled_from(FUNCTIONING)),
       st.sampled_from(sorted(FUNCTION_ITEMS)), st.data())
def test_property__one_region_changed__only_that_region_moves(
        ratings: dict[str, str], region: str, data: st.DataObject) -> None:
    changes = data.draw(st.dictionaries(st.sampled_from(FUNCTION_ITEMS[region]),
                                        st.sampled_from(FUNCTIONING), min_size=1))
    flow = default_flow()
    before = build_report(flow, answers(child_age=age(216), **ratings), NOW)
    after = build_report(flow, answers(child_age=age(216), **{**ratings, **changes}), NOW)
    for old, new in zip(before.regions, after.regions, strict=True):
        if old.id != region:
            assert (old.difficulty, old.band) == (new.difficulty, new.band)
    assert before.periods == after.periods
    assert before.caregiving == after.caregiving


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from([i for items in FUNCTION_ITEMS.values() for i in items]),
                       st.sampled_from(FUNCTIONING)),
       st.sampled_from([i for items in FUNCTION_ITEMS.values() for i in items]))
def test_property__worse_function__never_improves_its_region(ratings: dict[str, str],
                                                            item: str) -> None:
    flow = default_flow()
    # Compare rated with rated: an unrated function is left out of the mean, not "typical".
    current = ratings.setdefault(item, "typical")
    worse = FUNCTIONING[min(2, FUNCTIONING.index(current) + 1)]
    before = build_report(flow, answers(child_age=age(216), **ratings), NOW)
    after = build_report(flow, answers(child_age=age(216), **{**ratings, item: worse}), NOW)
    region = before.function(item).region
    assert (after.region(region).difficulty or 0) >= (before.region(region).difficulty or 0)
