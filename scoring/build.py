"""Build a `Report` from one interview's answers and a rule set (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flows.engine import Answers
from flows.schema import Flow
from scoring.compute import (
    adversity_entries,
    caregiving_reserve,
    child_age,
    current_relational,
    factor_scores,
    function_scores,
    overall_risk,
    period_scores,
    region_scores,
)
from scoring.ratings import apply_ratings
from scoring.recommend import Scores, recommend
from scoring.report import Report
from scoring.rules import RuleProblem, RulesError, RuleSet, bundled_rules, check_against_flow


def build_report(flow: Flow, answers: Answers, now: datetime,
                 ratings: Mapping[str, str] | None = None) -> Report:
    """Score one interview with the rules bundled for its flow.

    `ratings` (function -> value on the map's scale) are the clinician's: each overrides
    the caregiver's answer for that function in every score (scoring/ratings.py).

    Raises `NoScoringRules` when the flow has none (the sample flow, for instance: ask
    `has_rules(flow.id)` first), and `RulesError` when the rules do not fit the flow.
    """
    return build_report_with(bundled_rules(flow.id), flow, answers, now, ratings)


def build_report_with(rules: RuleSet, flow: Flow, answers: Answers, now: datetime,
                      ratings: Mapping[str, str] | None = None) -> Report:
    """Score one interview with the given rules (tests and tuning pass their own)."""
    problems = check_against_flow(rules, flow)
    if problems:
        raise RulesError([RuleProblem(f"rules for {flow.id}", None, "", p) for p in problems])
    s = rules.scoring
    age = child_age(s, answers)
    entries = adversity_entries(s, flow, answers, age)
    periods = period_scores(s, answers, entries, age)
    now_connection = current_relational(s, answers)
    caregiver = function_scores(s, flow, answers)
    given_ratings = ratings or {}
    functions = apply_ratings(s, caregiver, given_ratings)
    used = tuple((f.item_id, given_ratings[f.item_id]) for f in caregiver
                 if given_ratings.get(f.item_id) in s.functioning.points)
    regions = region_scores(s, functions)
    reserve = caregiving_reserve(s, answers)
    state = answers.get(s.functioning.state_item)
    name = answers.get(s.items.name)
    respondent = answers.get(s.items.respondent)
    overall = overall_risk(s, periods, now_connection, answers, entries)
    strengths = _picked(answers, s.items.strengths)
    recommendations = recommend(rules.recommendations, Scores(
        answers=answers, functions=functions, regions=regions, periods=periods,
        current_relational=now_connection, caregiving=reserve, adversities=tuple(entries),
        overall=overall, age=age, strengths=frozenset(strengths)))
    return Report(
        flow_id=flow.id,
        flow_version=flow.version,
        generated_at=now,
        child_name=name.value if name is not None and isinstance(name.value, str) else None,
        age=age,
        respondent=(respondent.value if respondent is not None
                    and isinstance(respondent.value, str) else None),
        adversities=tuple(entries),
        periods=tuple(periods),
        overall_risk=overall,
        functions=tuple(functions),
        regions=tuple(regions),
        factors=tuple(factor_scores(s, functions)),
        state_answer=state.value if state is not None and isinstance(state.value, str) else None,
        current_relational=now_connection,
        caregiving=reserve,
        recommendations=tuple(recommendations),
        family_note=_text(answers, s.items.note),
        strengths=strengths,
        stress_signs=_picked(answers, s.items.stress_signs),
        urgent=_picked(answers, s.items.urgent),
        helpers=_picked(answers, s.items.helpers),
        helpers_often=_text(answers, s.items.helpers_often),
        helpers_rating=_text(answers, s.items.helpers_rating),
        ratings=used,
        caregiver_functions=tuple(caregiver) if used else (),
        caregiver_regions=tuple(region_scores(s, caregiver)) if used else (),
    )


#: Exclusive answers ("nothing of this", "I don't know") are not things the child has.
_NOT_A_PICK = frozenset({"none", "unknown"})


def _picked(answers: Answers, item_id: str | None) -> tuple[str, ...]:
    answer = answers.get(item_id) if item_id else None
    value = answer.value if answer is not None else None
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str) and v not in _NOT_A_PICK)


def _text(answers: Answers, item_id: str | None) -> str | None:
    answer = answers.get(item_id) if item_id else None
    value = answer.value if answer is not None else None
    return value if isinstance(value, str) and value.strip() else None
