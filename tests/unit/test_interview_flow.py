"""The default interview: loads clean, covers the outline, and its skip rules stay humane."""

from __future__ import annotations

import itertools
import re

import pytest

from flows.engine import (
    SECONDS_PER_QUESTION,
    AgeValue,
    Answer,
    Stage,
    enabled_options,
    find_question,
    next_question,
    questions,
    stage,
)
from flows.loader import LONG_PROMPT_CHARS, bundled_flow_paths, load_flow_file
from flows.schema import ItemType
from scoring.rules import bundled_rules, check_against_flow
from tests.unit.families import (
    age,
    answers,
    default_flow,
    longest_policy,
    ordinary_policy,
    walk,
)

#: domain.md's functions, region by region, and the item that rates each in our flow.
DOMAIN_FUNCTIONS = {
    "brainstem": {"heart rate and arousal": "bs_arousal", "sleep": "bs_sleep",
                  "appetite and feeding": "bs_feeding", "startle": "bs_startle",
                  "body temperature": "bs_temperature", "attention regulation": "bs_attention"},
    "diencephalon": {"coarse motor": "dc_gross_motor", "fine motor": "dc_fine_motor",
                     "coordination and rhythm": "dc_rhythm",
                     "sensory integration": "dc_sensory", "self-soothing": "dc_self_soothe",
                     "neuromuscular tone": "dc_tone"},
    "limbic": {"attunement": "lb_attune", "relating to caregivers": "lb_caregivers",
               "relating to peers": "lb_peers", "mood": "lb_mood",
               "emotional regulation": "lb_emotion_reg", "play": "lb_play",
               "empathy": "lb_empathy"},
    "cortex": {"speech and language": "cx_language", "concrete thinking": "cx_concrete",
               "abstract thinking": "cx_abstract", "reading": "cx_reading",
               "writing": "cx_writing", "number work": "cx_numbers",
               "self-awareness": "cx_self_aware", "planning": "cx_planning",
               "impulse control": "cx_impulse", "sense of time": "cx_time"},
}
SCHOOL_ITEMS = {"cx_reading", "cx_writing", "cx_numbers", "now_school"}


def test_flow__bundled__loads_with_no_warnings() -> None:
    path = next(p for p in bundled_flow_paths() if p.name == "developmental_history.yaml")
    result = load_flow_file(path)
    assert result.warnings == []
    flow = result.flow
    assert (flow.id, flow.version, flow.locales) == ("developmental_history", 1, ["en", "es"])


def test_flow__item_ids__short_stable_snake_case() -> None:
    flow = default_flow()
    ids = [item.id for section in flow.sections for item in section.items]
    assert len(ids) == len(set(ids))
    for item_id in ids:
        assert len(item_id) <= 24 and re.fullmatch(r"[a-z][a-z0-9_]*", item_id), item_id


def test_flow__prompts__short_for_a_phone() -> None:
    flow = default_flow()
    for section in flow.sections:
        for item in section.items:
            assert len(item.prompt["en"]) <= min(LONG_PROMPT_CHARS, 140), item.id


def test_flow__consent__says_what_who_pause_erase_and_not_diagnosis() -> None:
    consent = default_flow().consent["en"].casefold()
    for words in ("answers", "clinician", "pause", "erase", "not a diagnosis",
                  "not a crisis service", "first name"):
        assert words in consent


def test_flow__sections__follow_the_outline_in_order() -> None:
    order = [s.id for s in default_flow().sections]
    assert order == ["about", "background", "adversity", "adversity_detail", "connection_early",
                     "connection_then",
                     "fn_brainstem", "fn_diencephalon", "fn_limbic", "fn_cortex",
                     "hard_moments", "connection_now", "what_helps", "caregiver", "finish"]


def test_flow__about__asks_age_in_months_and_who_is_answering() -> None:
    flow = default_flow()
    child_age = flow.item("child_age")
    assert (child_age.type, child_age.min, child_age.max) == (ItemType.AGE, 0, 216)
    assert {"parent", "foster", "kin", "clinician"} <= {
        o.value for o in flow.item("respondent").options}


def test_flow__background__each_factor_yes_no_unknown() -> None:
    flow = default_flow()
    background = next(s for s in flow.sections if s.id == "background")
    assert len(background.items) >= 6
    assert all(i.type is ItemType.YES_NO_UNKNOWN for i in background.items)


def test_flow__adversity__every_category_plus_exclusive_none() -> None:
    options = default_flow().item("adv_types").options
    values = {o.value for o in options}
    assert {"separation", "caregiver_mh", "home_violence", "physical_harm", "sexual_harm",
            "emotional_harm", "humiliation", "neglect", "chaos", "community_violence",
            "discrimination", "medical", "loss", "placement", "none"} <= values
    assert next(o for o in options if o.value == "none").exclusive


@pytest.mark.parametrize("region", DOMAIN_FUNCTIONS)
def test_flow__functioning__covers_every_function_of_region(region: str) -> None:
    flow = default_flow()
    rules = bundled_rules(flow.id).scoring
    rated = {f.item for r in rules.functioning.regions if r.id == region for f in r.functions}
    for function, item_id in DOMAIN_FUNCTIONS[region].items():
        assert flow.has_item(item_id), function
        assert item_id in rated, f"{function} is asked but not scored in {region}"


def test_rules__every_reference__exists_in_flow() -> None:
    flow = default_flow()
    assert check_against_flow(bundled_rules(flow.id), flow) == []


# -- skip logic, driven through next_question -------------------------------------------------


def test_adversity_detail__only_for_ticked_categories() -> None:
    flow = default_flow()
    given = walk(flow, ordinary_policy(60, ["loss"]))
    asked = set(given)
    assert {"adv_periods[loss]", "adv_severity[loss]", "adv_pattern[loss]"} <= asked
    assert not any(k.startswith("adv_severity[") and k != "adv_severity[loss]" for k in asked)


def test_adversity_detail__none_of_these__asks_no_detail() -> None:
    given = walk(default_flow(), ordinary_policy(60, ["none"]))
    assert not any(k.startswith(("adv_periods", "adv_severity", "adv_pattern")) for k in given)


@pytest.mark.parametrize(("months", "offered"), [
    (1, ["perinatal", "not_sure"]),
    (2, ["perinatal", "infancy", "not_sure"]),
    (12, ["perinatal", "infancy", "not_sure"]),
    (13, ["perinatal", "infancy", "early", "not_sure"]),
    (48, ["perinatal", "infancy", "early", "childhood", "not_sure"]),
    (143, ["perinatal", "infancy", "early", "childhood", "not_sure"]),
    (144, ["perinatal", "infancy", "early", "childhood", "adolescence", "not_sure"]),
])
def test_adversity_periods__only_periods_reached_are_offered(months: int,
                                                            offered: list[str]) -> None:
    flow = default_flow()
    given = answers(child_age=age(months), adv_types=["chaos"])
    question = find_question(flow, given, "adv_periods[chaos]")
    assert question is not None
    assert [o.value for o in enabled_options(flow, question, given)] == offered


def test_adversity_periods__fuzzy_age__offers_what_was_possibly_reached() -> None:
    flow = default_flow()
    given = {"child_age": Answer(AgeValue(42, 54, "about 4")), "adv_types": Answer(["loss"])}
    question = find_question(flow, given, "adv_periods[loss]")
    assert question is not None
    assert "childhood" in [o.value for o in enabled_options(flow, question, given)]


def test_toddler__no_school_questions_and_only_reached_periods() -> None:
    given = walk(default_flow(), ordinary_policy(30, ["medical"]))
    asked = set(given)
    assert not asked & SCHOOL_ITEMS
    assert not any(k.startswith(("rel_child_", "rel_teen_")) for k in asked)
    assert {"rel_peri_bond", "rel_inf_bond", "rel_early_bond", "cx_first_words"} <= asked
    assert "cx_language" not in asked  # a 30-month-old is asked about first words instead
    assert given["adv_periods[medical]"].value == ["early"]


def test_baby__no_thinking_or_peer_questions() -> None:
    given = walk(default_flow(), ordinary_policy(5, ["none"]))
    assert not any(k.startswith("cx_") for k in given)
    assert not {"lb_peers", "lb_empathy", "now_peers", "dc_rhythm"} & set(given)
    assert "dc_fine_motor" in given


def test_early_story_unknown__first_year_connection_not_asked() -> None:
    given = walk(default_flow(), ordinary_policy(96, ["unknown"]))
    asked = set(given)
    assert not any(k.startswith(("rel_peri_", "rel_inf_", "adv_periods")) for k in asked)
    assert {"rel_early_bond", "rel_child_bond"} <= asked


def test_adversity_skipped__first_year_connection_still_asked() -> None:
    flow = default_flow()
    given = answers(child_age=age(96))
    given["adv_types"] = Answer(None, skips=1)
    keys = [q.key for q in questions(flow, given)]
    assert "rel_peri_bond" in keys and "rel_inf_bond" in keys


def test_school_age__school_questions_asked() -> None:
    given = walk(default_flow(), ordinary_policy(100, ["none"]))
    assert set(given) >= SCHOOL_ITEMS


def test_caregiver_items__optional_so_a_skip_moves_on() -> None:
    flow = default_flow()
    for item_id in ("cg_health", "cg_history", "cg_money", "cg_children", "finish_note"):
        assert not flow.item(item_id).required


def test_path_lengths__ordinary_and_longest() -> None:
    """The figures quoted in docs/interview.md."""
    flow = default_flow()
    ordinary = walk(flow, ordinary_policy(96, ["loss", "medical"]))
    longest = walk(flow, longest_policy)
    assert len(ordinary) == 87
    assert len(walk(flow, ordinary_policy(96, ["none"]))) == 79
    assert len(walk(flow, ordinary_policy(96, ["unknown"]))) == 73
    assert len(walk(flow, ordinary_policy(30, ["none"]))) == 67
    assert len(walk(flow, ordinary_policy(5, ["none"]))) == 55
    assert len(walk(flow, ordinary_policy(180, ["loss", "medical"]))) == 91
    assert len(longest) == 142
    assert len(questions(flow, longest)) == 142
    # About 15 minutes for an ordinary history: taps at roughly 10 seconds each.
    assert len(ordinary) * 10 <= 15 * 60


def test_walk__ends_at_review() -> None:
    flow = default_flow()
    given = walk(flow, ordinary_policy(40, ["separation"]))
    assert next_question(flow, given) is None


@pytest.mark.parametrize("policy", ["ordinary", "longest"])
def test_progress__parts_move_one_at_a_time_and_minutes_never_leap(policy: str) -> None:
    """A phone shows "Part 3 of 7 · 4 left here · about 8 min": it must not jump about."""
    flow = default_flow()
    chosen = ordinary_policy(76, ["separation", "loss"]) if policy == "ordinary" else longest_policy
    given: dict[str, Answer] = {}
    seen: list[Stage] = []
    while (question := next_question(flow, given)) is not None:
        seen.append(stage(flow, given, question.key))
        offered = [o.value for o in enabled_options(flow, question, given)]
        value = chosen(question, offered)
        given[question.key] = Answer(value, 0 if value is not None else 1)
    longest_section = max(
        sum(1 for q in questions(flow, given) if q.section.id == section.id)
        for section in flow.sections
    )
    leap = -(-longest_section * SECONDS_PER_QUESTION // 60)
    for before, after in itertools.pairwise(seen):
        assert after.section in (before.section, before.section + 1)
        assert after.minutes_left - before.minutes_left <= leap
    assert seen[0].section == 1 and seen[-1].minutes_left <= 1
