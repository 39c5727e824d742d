"""Clinician ratings on the map: checked, overriding the caregiver's view, and said so."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import build_report
from scoring.ratings import (
    RatingProblem,
    Source,
    apply_ratings,
    check_rating,
    function_views,
    functions_of,
    scale,
)
from scoring.rules import BAND_ORDER, Band, bundled_rules
from tests.unit.families import NOW, age, answers, default_flow, family_mia

MAP = bundled_rules("developmental_history").scoring
FUNCTIONS = list(functions_of(MAP))
SCALE = ["typical", "some", "a_lot"]
REGION_OF = {f.item: r.id for r in MAP.functioning.regions for f in r.functions}


def test_scale__is_the_maps_own_points_mildest_first() -> None:
    assert scale(MAP) == ("typical", "some", "a_lot")
    assert len(FUNCTIONS) == 30 and FUNCTIONS[0] == "bs_arousal"


@pytest.mark.parametrize(("function", "value", "reason", "problem"), [
    ("bs_sleep", "a_lot", "wakes five times a night in clinic notes", None),
    ("bs_nap", "a_lot", "why", RatingProblem.UNKNOWN_FUNCTION),
    ("", "a_lot", "why", RatingProblem.UNKNOWN_FUNCTION),
    ("bs_sleep", "terrible", "why", RatingProblem.BAD_VALUE),
    ("bs_sleep", "not_sure", "why", RatingProblem.BAD_VALUE),  # unknown is not a rating
    ("bs_sleep", "some", "   ", RatingProblem.NO_REASON),
    ("bs_sleep", "some", "", RatingProblem.NO_REASON),
])
def test_check_rating__table(function: str, value: str, reason: str,
                             problem: RatingProblem | None) -> None:
    assert check_rating(MAP, function, value, reason) is problem


def test_no_ratings__the_report_is_the_caregivers() -> None:
    plain = build_report(default_flow(), family_mia(), NOW)
    assert build_report(default_flow(), family_mia(), NOW, {}) == plain
    assert plain.ratings == ()
    assert plain.caregiver_view == (plain.functions, plain.regions)
    assert plain.source("bs_sleep") == "caregiver"


def test_mia__clinician_sees_more_in_the_brainstem__rating_overrides() -> None:
    # Mia's carer: sleep "some", the other five brainstem functions typical: 1 / 12 points
    # = 8.3, typical. The clinician rates arousal and startle "a lot": 5 / 12 = 41.7, and
    # two significant functions make the region significant.
    ratings = {"bs_arousal": "a_lot", "bs_startle": "a_lot"}
    report = build_report(default_flow(), family_mia(), NOW, ratings)
    assert report.function("bs_arousal").band is Band.SIGNIFICANT
    assert report.region("brainstem").difficulty == pytest.approx(41.7)
    assert report.region("brainstem").band is Band.SIGNIFICANT
    functions, regions = report.caregiver_view
    assert next(r for r in regions if r.id == "brainstem").band is Band.TYPICAL
    assert next(f for f in functions if f.item_id == "bs_arousal").band is Band.TYPICAL
    assert report.source("bs_arousal") == "clinician"
    assert report.source("bs_sleep") == "caregiver"
    assert report.ratings == (("bs_arousal", "a_lot"), ("bs_startle", "a_lot"))
    # Everything else that does not rest on functioning stays as it was.
    plain = build_report(default_flow(), family_mia(), NOW)
    assert (report.periods, report.caregiving) == (plain.periods, plain.caregiving)


def test_rating_equal_to_the_caregivers__still_says_the_clinicians_view_is_used() -> None:
    report = build_report(default_flow(), family_mia(), NOW, {"bs_sleep": "some"})
    assert report.source("bs_sleep") == "clinician"
    assert report.region("brainstem") == build_report(default_flow(), family_mia(),
                                                      NOW).region("brainstem")


def test_rating_a_function_the_caregiver_did_not_know__counts_it() -> None:
    given = {**family_mia(), **answers(bs_temperature="not_sure")}
    assert build_report(default_flow(), given, NOW).source("bs_temperature") == "none"
    report = build_report(default_flow(), given, NOW, {"bs_temperature": "typical"})
    assert report.function("bs_temperature").points == 0
    assert report.region("brainstem").basis.unknown == 0


def test_rating_off_the_scale__ignored_never_counted() -> None:
    report = build_report(default_flow(), family_mia(), NOW, {"bs_sleep": "dreadful"})
    assert report.ratings == () and report.source("bs_sleep") == "caregiver"


def test_function_views__every_view_side_by_side() -> None:
    report = build_report(default_flow(), family_mia(), NOW)
    teacher = apply_ratings(MAP, report.functions, {"bs_sleep": "a_lot"})
    rows = function_views(MAP, report.functions, [teacher], {"lb_peers": "some"})
    by_id = {row.item_id: row for row in rows}
    assert len(rows) == 30
    assert by_id["bs_sleep"].caregiver is Band.MODERATE
    assert by_id["bs_sleep"].informants == (Band.SIGNIFICANT,)
    assert by_id["bs_sleep"].clinician is None and by_id["bs_sleep"].used is Source.CAREGIVER
    assert by_id["lb_peers"].clinician is Band.MODERATE
    assert by_id["lb_peers"].used is Source.CLINICIAN
    assert by_id["cx_language"].used is Source.NONE  # not asked at 30 months, not rated


ratings_strategy = st.dictionaries(st.sampled_from(FUNCTIONS), st.sampled_from(SCALE))
answers_strategy = st.dictionaries(st.sampled_from(FUNCTIONS),
                                   st.sampled_from([*SCALE, "not_sure"]))


@settings(max_examples=60, deadline=None)
@given(answers_strategy, ratings_strategy)
def test_property__rated_functions_use_the_rating__the_rest_the_caregivers(
        given_answers: dict[str, str], ratings: dict[str, str]) -> None:
    flow = default_flow()
    given = answers(child_age=age(216), **given_answers)
    plain = build_report(flow, given, NOW)
    rated = build_report(flow, given, NOW, ratings)
    for before, after in zip(plain.functions, rated.functions, strict=True):
        if before.item_id in ratings:
            assert after.points == MAP.functioning.points[ratings[before.item_id]]
            assert rated.source(before.item_id) == "clinician"
        else:
            assert after == before
            assert rated.source(before.item_id) != "clinician"
    touched = {REGION_OF[f] for f in ratings}
    for before_region, after_region in zip(plain.regions, rated.regions, strict=True):
        if before_region.id not in touched:
            assert before_region == after_region
    assert rated.caregiver_view == (plain.functions, plain.regions)


@settings(max_examples=60, deadline=None)
@given(answers_strategy, ratings_strategy, st.sampled_from(FUNCTIONS))
def test_property__a_worse_rating__never_improves_its_region(
        given_answers: dict[str, str], ratings: dict[str, str], function: str) -> None:
    flow = default_flow()
    given = answers(child_age=age(216), **given_answers)
    current = ratings.setdefault(function, "typical")
    worse = SCALE[min(2, SCALE.index(current) + 1)]
    before = build_report(flow, given, NOW, ratings)
    after = build_report(flow, given, NOW, {**ratings, function: worse})
    region = REGION_OF[function]
    assert (after.region(region).difficulty or 0) >= (before.region(region).difficulty or 0)
    assert BAND_ORDER[after.region(region).band] >= BAND_ORDER[before.region(region).band]
