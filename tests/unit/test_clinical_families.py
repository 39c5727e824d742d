"""Made-up families checked against what a clinician would expect (shared/domain.md).

Each expectation is written from the clinical reasoning first (the docstring says it), not
read back from the rules' output: unknown is never zero and never reassurance; regulate,
then relate, then reason; history leads to advice.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.engine import Answer
from scoring import build_report
from scoring.report import Report
from scoring.rules import Band, bundled_rules
from tests.unit.families import NOW, age, answers, default_flow

RULES = bundled_rules("developmental_history")
FUNCTION_ITEMS = [f.item for r in RULES.scoring.functioning.regions for f in r.functions]
STAGE = {r.id: r.stage for r in RULES.recommendations.recommendations}
SEQUENCE = ["regulate", "relate", "reason"]
CONNECTION_NOW = ["now_family", "now_peers", "now_school", "now_community"]
CALM_CARER = dict(cg_health="good", cg_sleep="enough", cg_support="several", cg_money="okay",
                  cg_respite="regular", cg_history="rarely", cg_stress="low", cg_work="light",
                  cg_challenge="manageable", cg_children=1)
STRONG_NOW = dict.fromkeys(CONNECTION_NOW, "strong")


def report_of(**values: object) -> Report:
    return build_report(default_flow(), answers(**values), NOW)  # type: ignore[arg-type]


def ids(report: Report) -> list[str]:
    return [r.id for r in report.recommendations]


def typical_child(months: int) -> dict[str, str]:
    return dict.fromkeys(FUNCTION_ITEMS, "typical") | {"upset_often": "rarely"}


# -- unknown timing ------------------------------------------------------------------------


def test_unknown_timing__severe_ongoing_harm__counts_and_is_never_reassurance() -> None:
    """An 8-year-old in foster care; severe, ongoing sexual harm, "I'm not sure when".

    Clinically: not knowing *when* is not knowing *whether*. The harm must weigh on the
    history in full, the report must say that its timing is unknown, a trauma-focused
    assessment must be suggested, touch must not be assumed welcome, and nothing may say
    "keep going" even though the carer rated the child typical today.
    """
    report = report_of(
        child_age=age(96), respondent="foster", adv_types=["sexual_harm"],
        adv_periods__sexual_harm=["not_sure"], adv_severity__sexual_harm="severe",
        adv_pattern__sexual_harm="ongoing", **typical_child(96), **STRONG_NOW, **CALM_CARER)
    harm = next(a for a in report.adversities if a.category == "sexual_harm")
    assert not harm.timing_known
    lived = [p.period for p in report.reached_periods]
    assert sum(harm.points_in(p) for p in lived) == harm.points > 0
    assert report.overall_risk.from_history > 0
    assert report.overall_risk.band != "low"
    assert report.overall_risk.unknown_timing == 1
    assert all(p.unknown_timing > 0 for p in report.reached_periods)
    assert "trauma_assessment" in ids(report)
    assert "touch_with_care" in ids(report)
    assert "keep_going" not in ids(report)


def test_unknown_timing__weighs_at_least_as_much_as_the_latest_period_lived() -> None:
    """Not knowing when must never weigh less than the least weighty period it could have
    been (the most recent one): otherwise "I don't know" would be a discount."""
    common = dict(child_age=age(96), adv_types=["home_violence"],
                  adv_severity__home_violence="moderate", adv_pattern__home_violence="once",
                  **STRONG_NOW)
    unknown = report_of(adv_periods__home_violence=["not_sure"], **common)
    latest = report_of(adv_periods__home_violence=["childhood"], **common)
    skipped = report_of(**common)  # the "when" question skipped altogether
    assert unknown.overall_risk.from_history >= latest.overall_risk.from_history
    assert skipped.overall_risk.from_history == unknown.overall_risk.from_history


# -- unknown ratings -----------------------------------------------------------------------


def test_unknown_ratings__all_not_sure__not_rated_and_no_keep_going() -> None:
    """Every question about today answered "not sure". Clinically we know nothing about how
    the child is doing: no region may read "typical", the family must not be told the
    child is doing as expected, and they should be asked to observe and come back."""
    report = report_of(child_age=age(96), adv_types=["none"],
                       **dict.fromkeys(FUNCTION_ITEMS, "not_sure"), upset_often="rarely",
                       **STRONG_NOW, **CALM_CARER)
    assert all(r.band is Band.UNRATED for r in report.regions)
    assert report.typical_regions == ()
    assert all(r.basis.known == 0 and r.basis.unknown > 0 for r in report.regions)
    assert "keep_going" not in ids(report)
    assert "notice_and_share" in ids(report)


def test_unknown_ratings__one_region_never_rated__no_keep_going() -> None:
    """Everything typical except a whole region left "not sure": "as expected in every area"
    would be a claim about an area nobody rated."""
    ratings = dict.fromkeys(FUNCTION_ITEMS, "typical") | {
        f.item: "not_sure" for f in RULES.scoring.functioning.regions[1].functions}
    report = report_of(child_age=age(96), adv_types=["none"], **ratings,
                       upset_often="rarely", **STRONG_NOW, **CALM_CARER)
    assert report.regions[1].band is Band.UNRATED
    assert "keep_going" not in ids(report)


def test_ordinary_family__well_rated__keep_going() -> None:
    """Nothing hard, everything rated typical, strong connection: keep going is right."""
    report = report_of(child_age=age(96), adv_types=["none"], **typical_child(96),
                       **STRONG_NOW, **CALM_CARER,
                       **{f"rel_{p}_{a}": "strong" for p in ("peri", "inf", "early", "child")
                          for a in ("bond", "family", "community")},
                       **dict.fromkeys(["pre_alcohol", "pre_drugs", "pre_nutrition",
                                        "pre_stress", "premature", "birth_difficult",
                                        "family_history"], "no"))
    assert ids(report) == ["keep_going"]
    assert report.overall_risk.basis.unknown == 0


def test_unknown_background__counts_as_unknown_not_as_no() -> None:
    """A foster carer answering "I don't know" to every family-background question: the
    score cannot rest on those answers, and the report must be able to say so."""
    unknowns = dict.fromkeys(["pre_alcohol", "pre_drugs", "pre_nutrition", "pre_stress",
                              "premature", "birth_difficult", "family_history"], "unknown")
    nos = dict.fromkeys(unknowns, "no")
    unsure = report_of(child_age=age(96), **unknowns, **STRONG_NOW)
    sure = report_of(child_age=age(96), **nos, **STRONG_NOW)
    assert unsure.overall_risk.basis.unknown - sure.overall_risk.basis.unknown == 7


# -- regulate, relate, reason --------------------------------------------------------------


def test_relate_before_reason__thin_connection_and_learning_trouble() -> None:
    """A 10-year-old struggling at school with few people around them now. Connection is
    the strongest single predictor; widening the circle comes before any learning plan."""
    report = report_of(child_age=age(120), cx_reading="a_lot", cx_writing="a_lot",
                       cx_numbers="some", now_family="patchy", now_peers="little",
                       now_school="little", now_community="little", **CALM_CARER)
    order = ids(report)
    assert order.index("widen_circle") < order.index("learning_when_calm")


def test_regulate_before_relate__alarm_and_thin_connection() -> None:
    """Upset beyond words daily and few connections: calm the body first, then connect."""
    report = report_of(child_age=age(120), upset_often="daily", bs_arousal="a_lot",
                       now_family="little", now_peers="little", **CALM_CARER)
    order = ids(report)
    assert order.index("calm_before_talk") < order.index("widen_circle")


def test_brainstem_in_alarm__arousal_and_startle_a_lot__significant() -> None:
    """Arousal and startle both "a lot", two more "some": a child whose alarm system is
    stuck on. However the mean falls, that is a significant brainstem, not a moderate one."""
    report = report_of(child_age=age(96), bs_arousal="a_lot", bs_startle="a_lot",
                       bs_sleep="some", bs_attention="some", bs_feeding="typical",
                       bs_temperature="typical")
    assert report.region("brainstem").band is Band.SIGNIFICANT


@settings(max_examples=120, deadline=None)
@given(st.dictionaries(st.sampled_from(FUNCTION_ITEMS),
                       st.sampled_from(["typical", "some", "a_lot", "not_sure"])),
       st.dictionaries(st.sampled_from(CONNECTION_NOW),
                       st.sampled_from(["strong", "mostly", "patchy", "little", "unknown"])),
       st.sampled_from(["rarely", "weekly", "daily"]),
       st.lists(st.sampled_from(["physical_harm", "neglect", "loss", "sexual_harm"]),
                unique=True),
       st.integers(min_value=0, max_value=216))
def test_property__regulate_then_relate_then_reason__any_family(
        ratings: dict[str, str], now: dict[str, str], upset: str, harms: list[str],
        months: int) -> None:
    values: dict[str, object] = dict(child_age=age(months), upset_often=upset, **ratings, **now)
    if harms:
        values["adv_types"] = harms
    report = report_of(**values)
    stages = [SEQUENCE.index(STAGE[r.id]) for r in report.recommendations
              if STAGE[r.id] in SEQUENCE]
    assert stages == sorted(stages)


# -- history leads to advice ---------------------------------------------------------------


def test_prenatal_alcohol__assessment_of_its_effects() -> None:
    """Alcohol before birth can have lifelong effects that look like other things."""
    assert "prenatal_effects_assessment" in ids(report_of(child_age=age(60), pre_alcohol="yes"))
    assert "prenatal_effects_assessment" not in ids(report_of(child_age=age(60),
                                                              pre_alcohol="unknown"))


def test_severe_physical_harm__trauma_assessment_and_advice_without_touch() -> None:
    """Severe physical harm and a child often in alarm: a trauma-focused assessment, and
    calming advice that does not ask the carer to hold or squeeze the child."""
    report = report_of(child_age=age(84), adv_types=["physical_harm"],
                       adv_periods__physical_harm=["early"],
                       adv_severity__physical_harm="severe", upset_often="daily")
    assert "trauma_assessment" in ids(report)
    calm = next(r for r in report.recommendations if r.id == "calm_before_talk")
    assert calm.variant == "without_touch"


def test_harm_severity_skipped__still_a_trauma_assessment() -> None:
    """Severity not given is not "mild": the assessment is still suggested."""
    report = report_of(child_age=age(84), adv_types=["sexual_harm"],
                       adv_periods__sexual_harm=["childhood"])
    assert "trauma_assessment" in ids(report)


def test_mild_physical_harm__no_referral_but_touch_with_care() -> None:
    report = report_of(child_age=age(84), adv_types=["physical_harm"],
                       adv_periods__physical_harm=["childhood"],
                       adv_severity__physical_harm="mild")
    assert "trauma_assessment" not in ids(report)
    assert "touch_with_care" in ids(report)


def test_no_touch_harm__ordinary_calming_words() -> None:
    report = report_of(child_age=age(84), upset_often="daily")
    calm = next(r for r in report.recommendations if r.id == "calm_before_talk")
    assert calm.variant is None


def test_severe_language_or_feeding_delay__developmental_assessments() -> None:
    """A 6-year-old barely talking; a toddler with a lot of trouble eating."""
    assert "speech_assessment" in ids(report_of(child_age=age(72), cx_language="a_lot"))
    assert "speech_assessment" in ids(report_of(child_age=age(20), cx_first_words="a_lot"))
    assert "developmental_assessment" in ids(report_of(child_age=age(20), bs_feeding="a_lot"))
    assert "speech_assessment" not in ids(report_of(child_age=age(72), cx_language="some"))


def test_unpredictable_stress__weighs_more_than_predictable() -> None:
    """Predictable, controllable stress sensitises less than stress with no warning and no
    way out (shared/domain.md)."""
    def history(control: str) -> float:
        given = answers(child_age=age(96), adv_types=["home_violence"],
                        adv_periods__home_violence=["childhood"],
                        adv_severity__home_violence="moderate",
                        adv_pattern__home_violence="now_and_then")
        given["adv_control[home_violence]"] = Answer(control)
        return build_report(default_flow(), given, NOW).overall_risk.from_history

    assert history("predictable") < history("partly") < history("unpredictable")
    assert history("unknown") == history("partly")


CATEGORIES = list(RULES.scoring.adversity.categories)
CONTROL = ["predictable", "partly", "unpredictable"]  # best to worst


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(CATEGORIES), st.sampled_from(["mild", "moderate", "severe"]),
       st.sampled_from(["once", "now_and_then", "ongoing"]),
       st.integers(min_value=0, max_value=216),
       st.dictionaries(st.sampled_from(CONNECTION_NOW),
                       st.sampled_from(["strong", "mostly", "patchy", "little"])))
def test_property__unknown_timing__never_below_the_latest_period_lived(
        category: str, severity: str, pattern: str, months: int, now: dict[str, str]) -> None:
    """For any experience and any age, "I'm not sure when" weighs at least as much as the
    same experience placed in the most recent period the child has lived."""
    common: dict[str, object] = {"child_age": age(months), "adv_types": [category],
                                 f"adv_severity__{category}": severity,
                                 f"adv_pattern__{category}": pattern, **now}
    unknown = report_of(**{f"adv_periods__{category}": ["not_sure"]}, **common)
    latest = unknown.reached_periods[-1].period
    known = report_of(**{f"adv_periods__{category}": [latest]}, **common)
    none = report_of(**{**common, "adv_types": ["none"]})
    assert unknown.overall_risk.from_history >= known.overall_risk.from_history - 1e-9
    assert unknown.overall_risk.from_history > none.overall_risk.from_history


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CATEGORIES), st.sampled_from(CONTROL), st.sampled_from(CONTROL),
       st.sampled_from(["early", "childhood"]))
def test_property__less_predictable__never_lowers_risk(
        category: str, first: str, second: str, period: str) -> None:
    better, worse = sorted((first, second), key=CONTROL.index)

    def history(control: str) -> float:
        given = answers(child_age=age(120), adv_types=[category],
                        **{f"adv_periods__{category}": [period]})
        given[f"adv_control[{category}]"] = Answer(control)
        return build_report(default_flow(), given, NOW).overall_risk.from_history

    assert history(worse) >= history(better) - 1e-9


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(FUNCTION_ITEMS), st.sampled_from(["typical"]),
                       max_size=len(FUNCTION_ITEMS)),
       st.integers(min_value=0, max_value=216))
def test_property__not_sure_never_reads_typical(typical: dict[str, str], months: int) -> None:
    """Whatever was rated typical, the rest "not sure": a region with nothing rated is
    never typical, and "keep going" needs three in four rated and every region rated."""
    ratings = dict.fromkeys(FUNCTION_ITEMS, "not_sure") | typical
    report = report_of(child_age=age(months), adv_types=["none"], **ratings,
                       upset_often="rarely", **STRONG_NOW, **CALM_CARER)
    for region in report.regions:
        if region.basis.known == 0:
            assert region.band is Band.UNRATED
    asked = [f for f in report.functions if f.applies]
    rated = [f for f in asked if f.points is not None]
    if "keep_going" in ids(report):
        assert len(rated) >= 0.75 * len(asked)
        assert all(r.basis.known > 0 for r in report.regions if r.basis.asked)
    else:
        assert "notice_and_share" in ids(report) or report.overall_risk.band != "low"


def test_caregiver__each_child_rated__a_hard_sibling_weighs() -> None:
    """One challenge rating per child: a carer whose other two children are each more than
    they can keep up with has less reserve than one whose other children are manageable,
    and an unrated child still counts (every child takes time)."""
    def reserve(**others: str) -> float:
        given = answers(child_age=age(96), cg_children=3, cg_challenge="demanding", **others)
        return build_report(default_flow(), given, NOW).caregiving.reserve

    hard = reserve(cg_child2_challenge="too_much", cg_child3_challenge="too_much")
    easy = reserve(cg_child2_challenge="manageable", cg_child3_challenge="manageable")
    unrated = reserve()
    assert hard < unrated <= easy
    report = build_report(default_flow(), answers(child_age=age(96), cg_children=1), NOW)
    assert report.caregiving.demands == build_report(
        default_flow(), answers(child_age=age(96)), NOW).caregiving.demands
