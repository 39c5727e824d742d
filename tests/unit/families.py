"""Test helpers: the default flow, answer builders, and three hand-scored families."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from flows.engine import AgeValue, Answer, Question, Value, enabled_options, next_question
from flows.loader import bundled_flow_paths, load_flow_file
from flows.schema import Flow, ItemType

NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


@lru_cache(maxsize=1)
def default_flow() -> Flow:
    path = next(p for p in bundled_flow_paths() if p.name == "developmental_history.yaml")
    return load_flow_file(path).flow


def answers(**values: Value | None) -> dict[str, Answer]:
    """Answers from keyword values; `adv_periods__loss` stands for `adv_periods[loss]`."""
    result: dict[str, Answer] = {}
    for key, value in values.items():
        if "__" in key:
            item, _, option = key.partition("__")
            key = f"{item}[{option}]"
        result[key] = Answer(value)
    return result


def age(months: int) -> AgeValue:
    return AgeValue(months, months)


Policy = Callable[[Question, list[str]], Value | None]


def walk(flow: Flow, policy: Policy, limit: int = 500) -> dict[str, Answer]:
    """Answer every question `next_question` asks, the way `policy` says, until review."""
    given: dict[str, Answer] = {}
    for _ in range(limit):
        question = next_question(flow, given)
        if question is None:
            return given
        offered = [o.value for o in enabled_options(flow, question, given)]
        value = policy(question, offered)
        previous = given.get(question.key)
        given[question.key] = Answer(value, skips=(previous.skips + 1 if previous else 1)
                                     if value is None else 0)
    raise AssertionError("the interview did not end")


def ordinary_policy(age_months: int, ticked: list[str]) -> Policy:
    """A caregiver with an ordinary history: a few hard times, good connection, typical child."""

    def policy(question: Question, offered: list[str]) -> Value | None:
        item = question.item
        if item.id == "child_age":
            return age(age_months)
        if item.id == "adv_types":
            return ticked
        if item.id == "adv_periods":
            return [offered[-2]]  # the latest period reached (the last is "not sure")
        if item.type is ItemType.TEXT:
            return None if not item.required else "Sam"
        if item.type is ItemType.NUMBER:
            return 2
        if item.type is ItemType.MULTI_CHOICE:
            return [offered[0]]
        return offered[0] if offered else None

    return policy


def longest_policy(question: Question, offered: list[str]) -> Value | None:
    """Everything ticked, every optional question answered, the oldest age."""
    item = question.item
    if item.id == "child_age":
        return age(216)
    if item.id == "adv_types":
        return [o.value for o in item.options if not o.exclusive]
    if item.type is ItemType.MULTI_CHOICE:
        return [v for v in offered if v != "not_sure"]
    if item.type is ItemType.TEXT:
        return "Something to add"
    if item.type is ItemType.NUMBER:
        return 4
    return offered[-1] if offered else None


# -- three families, scored by hand in tests/unit/test_scoring.py ---------------------------


def family_mia() -> dict[str, Answer]:
    """2 years 6 months, no adversity, strong connection, only sleep a bit hard."""
    typical = dict.fromkeys([
        "bs_arousal", "bs_feeding", "bs_startle", "bs_temperature", "bs_attention",
        "dc_gross_motor", "dc_fine_motor", "dc_rhythm", "dc_sensory", "dc_self_soothe",
        "dc_tone", "lb_attune", "lb_caregivers", "lb_peers", "lb_mood", "lb_emotion_reg",
        "lb_play", "lb_empathy", "cx_first_words", "cx_concrete"
    ], "typical")
    return answers(
        child_name="Mia", child_age=age(30), respondent="parent", living="two_parents",
        adv_types=["none"],
        rel_peri_bond="strong", rel_peri_family="strong", rel_peri_community="strong",
        rel_inf_bond="strong", rel_inf_family="strong", rel_inf_community="strong",
        rel_early_bond="strong", rel_early_family="strong", rel_early_community="strong",
        bs_sleep="some", **typical, upset_often="rarely",
        now_family="strong", now_peers="mostly", now_community="strong",
        cg_health="good", cg_sleep="patchy", cg_history="rarely", cg_stress="medium",
        cg_support="several", cg_money="okay", cg_respite="sometimes", cg_work="light",
        cg_children=2, cg_challenge="demanding",
    )


def family_jay() -> dict[str, Answer]:
    """8 years, in foster care: early neglect, violence, moves; a worn-out carer."""
    return answers(
        child_name="Jay", child_age=age(96), respondent="foster", living="foster",
        adv_types=["home_violence", "neglect", "placement"],
        adv_periods__neglect=["perinatal", "infancy"], adv_severity__neglect="severe",
        adv_pattern__neglect="ongoing",
        adv_periods__home_violence=["early"], adv_severity__home_violence="moderate",
        adv_pattern__home_violence="now_and_then",
        adv_periods__placement=["early", "childhood"], adv_severity__placement="moderate",
        adv_pattern__placement="once",
        rel_peri_bond="little", rel_peri_family="unknown", rel_peri_community="unknown",
        rel_inf_bond="patchy", rel_inf_family="little", rel_inf_community="unknown",
        rel_early_bond="mostly", rel_early_family="mostly", rel_early_community="patchy",
        rel_child_bond="strong", rel_child_family="strong", rel_child_community="strong",
        bs_arousal="a_lot", bs_sleep="some", bs_feeding="typical", bs_startle="a_lot",
        bs_temperature="typical", bs_attention="some",
        dc_gross_motor="typical", dc_fine_motor="typical", dc_rhythm="typical",
        dc_sensory="some", dc_self_soothe="typical", dc_tone="typical",
        lb_attune="some", lb_caregivers="some", lb_peers="a_lot", lb_mood="some",
        lb_emotion_reg="a_lot", lb_play="typical", lb_empathy="typical",
        cx_language="typical", cx_concrete="typical", cx_abstract="some", cx_reading="some",
        cx_writing="some", cx_numbers="typical", cx_self_aware="typical", cx_planning="some",
        cx_impulse="a_lot", cx_time="typical",
        upset_often="daily",
        now_family="mostly", now_peers="patchy", now_school="mostly", now_community="patchy",
        cg_health="okay", cg_sleep="patchy", cg_history="sometimes", cg_stress="high",
        cg_support="one_or_two", cg_money="tight", cg_respite="never", cg_work="heavy",
        cg_children=3, cg_challenge="very",
    )


def family_ana() -> dict[str, Answer]:
    """15 years, a clinician answering, kinship care: later adversity, well connected now."""
    functions = dict.fromkeys([
        "bs_arousal", "bs_sleep", "bs_feeding", "bs_startle", "bs_temperature", "bs_attention",
        "dc_gross_motor", "dc_fine_motor", "dc_rhythm", "dc_sensory", "dc_self_soothe",
        "lb_attune", "lb_caregivers", "lb_peers", "lb_mood", "lb_emotion_reg", "lb_play",
        "lb_empathy", "cx_language", "cx_concrete", "cx_abstract", "cx_writing", "cx_numbers",
        "cx_self_aware", "cx_planning", "cx_impulse", "cx_time"
    ], "typical")
    given = answers(
        child_name="Ana", child_age=age(180), respondent="clinician", living="kin",
        adv_types=["discrimination", "medical", "loss"],
        adv_periods__loss=["adolescence"], adv_severity__loss="mild", adv_pattern__loss="once",
        adv_periods__discrimination=["childhood", "adolescence"],
        adv_severity__discrimination="moderate", adv_pattern__discrimination="ongoing",
        adv_periods__medical=["perinatal"], adv_severity__medical=None,
        adv_pattern__medical="once",
        **{f"rel_{p}_{a}": "mostly" for p in ("peri", "inf", "early", "child")
           for a in ("bond", "family", "community")},
        rel_teen_bond="strong", rel_teen_family="mostly", rel_teen_community="unknown",
        **functions, dc_tone="not_sure", cx_reading="a_lot", upset_often="rarely",
        now_family="strong", now_peers="strong", now_school="mostly", now_community="strong",
    )
    for key in ("cg_health", "cg_sleep", "cg_history", "cg_stress", "cg_support", "cg_money",
                "cg_respite", "cg_work", "cg_children", "cg_challenge"):
        given[key] = Answer(None, skips=1)
    return given
