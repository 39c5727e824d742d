"""The mini-map on the family's functional map: fit, a hand-computed teacher, unknowns."""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.engine import Answer
from flows.loader import bundled_flow_paths, load_flow_file
from flows.schema import Flow
from scoring import build_report, has_rules
from scoring.informants import (
    Agreement,
    agreement,
    check_informant_rules,
    has_informant_rules,
    informant_rules,
    parse_informant_rules,
    score_informant,
    side_by_side,
)
from scoring.rules import Band, RulesError, bundled_rules
from tests.unit.families import NOW, answers, default_flow, family_mia

RULES = informant_rules("minimap")
MAP = bundled_rules("developmental_history").scoring
SEEN = ["typical", "some", "a_lot", "not_seen"]
BANDS = [Band.TYPICAL, Band.MODERATE, Band.SIGNIFICANT, Band.UNRATED]


@lru_cache(maxsize=1)
def minimap() -> Flow:
    path = next(p for p in bundled_flow_paths() if p.name == "minimap.yaml")
    return load_flow_file(path).flow


def test_rules__fit_the_minimap_and_the_family_map() -> None:
    assert check_informant_rules(RULES, minimap(), MAP) == []
    assert has_informant_rules("minimap")
    # No family summary or recommendations are ever built for an informant's form.
    assert not has_rules("minimap")


def test_rules__every_functioning_item_feeds_the_map() -> None:
    scored = {i.id for s in minimap().sections for i in s.items if i.options
              and {o.value for o in i.options} == set(SEEN)}
    assert scored == set(RULES.functions)
    assert 20 <= len(scored) <= 30  # "about 25 items"
    regions = {r.id for r in MAP.functioning.regions
               if {f.item for f in r.functions} & set(RULES.functions.values())}
    assert regions == {"brainstem", "diencephalon", "limbic", "cortex"}


@pytest.mark.parametrize(("change", "problem"), [
    ({"mm_rested": "bs_nap"}, "'bs_nap' is not a function of the map"),
    ({"mm_unheard": "bs_sleep"}, "functions.mm_unheard: item is not in flow"),
    ({"mm_setting": "bs_sleep"}, "has no option(s)"),
])
def test_rules__broken_references_are_named(change: dict[str, str], problem: str) -> None:
    broken = RULES.model_copy(update={"functions": {**RULES.functions, **change}})
    assert any(problem in p for p in check_informant_rules(broken, minimap(), MAP))


def test_rules__a_region_nobody_rates_is_named() -> None:
    only_brainstem = {k: v for k, v in RULES.functions.items() if v.startswith("bs_")}
    broken = RULES.model_copy(update={"functions": only_brainstem})
    problems = check_informant_rules(broken, minimap(), MAP)
    assert any("'cortex'" in p for p in problems)


def test_rules__bad_yaml_names_the_line() -> None:
    with pytest.raises(RulesError) as caught:
        parse_informant_rules("flow: minimap\nflow_versions: [1]\nmap: developmental_history\n"
                              "unknown: [not_seen]\nfunctions: {mm_a: bs_sleep}\n"
                              "agreement: {differ_at_steps: 5}\n", "x.yaml")
    assert caught.value.problems[0].line == 6


def teacher() -> dict[str, Answer]:
    """The hand-computed teacher of docs/informants.md."""
    typical = dict.fromkeys(["mm_eating", "mm_alert", "mm_reads_you", "mm_adults", "mm_mood",
                             "mm_play", "mm_kindness", "mm_talking", "mm_steps"], "typical")
    return answers(
        mm_setting="school", mm_known_for="months",
        mm_calm_body="a_lot", mm_startle="a_lot", mm_rested="some", mm_hot_cold="not_seen",
        **dict.fromkeys(["mm_big_moves", "mm_hands", "mm_rhythm", "mm_busy_places",
                         "mm_settle_self", "mm_posture"], "not_seen"),
        mm_peers="some", mm_recover="some", mm_waiting="a_lot", **typical,
    )


def test_hand_computed__a_teacher() -> None:
    """Brainstem: arousal 2 + startle 2 + sleep 1 + feeding 0 + alertness 0 = 5 points over
    5 rated functions (max 2 each): 100 * 5 / 10 = 50 -> "moderate" by the mean (15 <= 50 <
    55), but two functions at "a lot" make the region significant. Temperature: "I haven't
    seen this" -> unrated, counted unknown (5 of 6 rated, 1 unknown).
    Diencephalon: all six "not seen" -> unrated, 0 of 6 known: shown unknown, never typical.
    Limbic: peers 1 + big feelings 1, five typical = 2 / 14 = 14.3 -> typical (< 15), and
    no single function significant.
    Cortex: impulses 2, language 0, concrete 0; reading, writing, numbers, planning skipped
    (unknown): 2 / 6 = 33.3 -> moderate, lifted anyway by one significant function.
    """
    view = score_informant(RULES, MAP, minimap(), teacher())
    region = {r.id: r for r in view.regions}
    assert region["brainstem"].difficulty == pytest.approx(50.0)
    assert region["brainstem"].band is Band.SIGNIFICANT
    assert (region["brainstem"].basis.known, region["brainstem"].basis.unknown) == (5, 1)
    assert region["diencephalon"].band is Band.UNRATED
    assert region["diencephalon"].difficulty is None
    assert (region["diencephalon"].basis.known, region["diencephalon"].basis.unknown) == (0, 6)
    assert region["limbic"].difficulty == pytest.approx(14.3)
    assert region["limbic"].band is Band.TYPICAL
    assert region["cortex"].difficulty == pytest.approx(33.3)
    assert region["cortex"].band is Band.MODERATE
    assert (region["cortex"].basis.known, region["cortex"].basis.unknown) == (3, 4)
    function = {f.item_id: f for f in view.functions}
    assert function["bs_temperature"].band is Band.UNRATED
    assert function["bs_temperature"].answer == "not_seen"
    assert not function["cx_first_words"].applies  # not on the mini-map: not asked
    assert (view.setting, view.known_for) == ("school", "months")


def test_hand_computed__beside_mia_s_family() -> None:
    """Mia's family: brainstem typical (8.3), sleep moderate. Teacher: brainstem significant
    (2 steps: differ), sleep moderate (agree), diencephalon unknown (never "agree")."""
    family = build_report(default_flow(), family_mia(), NOW)
    view = score_informant(RULES, MAP, minimap(), teacher())
    rows = {(r.kind, r.id): r for r in side_by_side(RULES, family.regions, family.functions,
                                                    [view])}
    assert rows[("region", "brainstem")].caregiver is Band.TYPICAL
    assert rows[("region", "brainstem")].informants[0].agreement is Agreement.DIFFER
    assert rows[("function", "bs_sleep")].informants[0].agreement is Agreement.AGREE
    assert rows[("region", "diencephalon")].informants[0].agreement is Agreement.UNKNOWN
    assert rows[("function", "bs_temperature")].informants[0].band is Band.UNRATED
    # Functions no informant was asked about (first words) are left out of the comparison.
    assert ("function", "cx_first_words") not in rows
    assert [k for k in rows if k[0] == "region"] == [
        ("region", r) for r in ("brainstem", "diencephalon", "limbic", "cortex")]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(RULES.functions)), st.sampled_from(SEEN[:3]))
def test_property__not_seen_is_unknown_never_a_rating(item: str, other: str) -> None:
    """Any item answered "I haven't seen this" is unrated, whatever else was said."""
    given_answers = answers(**dict.fromkeys(RULES.functions, other))
    given_answers[item] = answers(x="not_seen")["x"]
    view = score_informant(RULES, MAP, minimap(), given_answers)
    function = next(f for f in view.functions if f.item_id == RULES.functions[item])
    assert function.points is None and function.band is Band.UNRATED
    region = next(r for r in view.regions if r.id == function.region)
    assert region.basis.unknown == 1


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(RULES.functions)), st.sampled_from(SEEN[:3]),
       st.sampled_from(SEEN[:3]))
def test_property__more_difficulty_never_lowers_a_region(item: str, base: str,
                                                          worse: str) -> None:
    if SEEN.index(worse) < SEEN.index(base):
        base, worse = worse, base
    before = answers(**{**dict.fromkeys(RULES.functions, "typical"), item: base})
    after = answers(**{**dict.fromkeys(RULES.functions, "typical"), item: worse})
    region = MAP.functioning.regions
    one = {r.id: r.band for r in score_informant(RULES, MAP, minimap(), before).regions}
    two = {r.id: r.band for r in score_informant(RULES, MAP, minimap(), after).regions}
    order = {Band.TYPICAL: 0, Band.MODERATE: 1, Band.SIGNIFICANT: 2}
    assert all(order[two[r.id]] >= order[one[r.id]] for r in region)


@given(st.sampled_from(BANDS), st.sampled_from(BANDS))
def test_property__agreement_rule(caregiver: Band, informant: Band) -> None:
    """Symmetric; unknown exactly when either view is unrated; same band agrees; bands one
    or more steps apart differ (differ_at_steps: 1)."""
    found = agreement(RULES, caregiver, informant)
    assert found is agreement(RULES, informant, caregiver)
    if Band.UNRATED in (caregiver, informant):
        assert found is Agreement.UNKNOWN
    else:
        assert (found is Agreement.AGREE) == (caregiver is informant)
