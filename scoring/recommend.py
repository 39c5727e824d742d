"""Choose recommendations from the rules: evaluate each `when`, keep what triggered it, order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flows.engine import Answers
from scoring.report import (
    CaregivingReserve,
    CurrentRelational,
    FunctionScore,
    GroupScore,
    PeriodScore,
    Recommendation,
)
from scoring.rules import (
    BAND_ORDER,
    AllOf,
    AnswerIn,
    AnyOf,
    Band,
    CurrentRelationalIs,
    FunctionsAtLeast,
    NotOf,
    RecommendationRules,
    RegionAtLeast,
    ReserveIs,
    When,
)

_RISK_ORDER = {"not_reached": -1, "low": 0, "moderate": 1, "high": 2}


@dataclass(frozen=True)
class Scores:
    """What a recommendation condition may look at."""

    answers: Answers
    functions: Sequence[FunctionScore]
    regions: Sequence[GroupScore]
    periods: Sequence[PeriodScore]
    current_relational: CurrentRelational
    caregiving: CaregivingReserve


def evaluate(when: When, scores: Scores) -> tuple[bool, list[str]]:
    """Whether a condition holds, and the answer ids and `score:` ids that made it hold."""
    if isinstance(when, AllOf):
        results = [evaluate(c, scores) for c in when.all]
        ok = all(r[0] for r in results)
        return ok, [i for r in results for i in r[1]] if ok else []
    if isinstance(when, AnyOf):
        results = [evaluate(c, scores) for c in when.any]
        return any(r[0] for r in results), [i for r in results if r[0] for i in r[1]]
    if isinstance(when, NotOf):
        held, _ = evaluate(when.not_, scores)
        # Nothing "fired": name the scores that were checked and found fine.
        return not held, referenced_scores(when.not_) if not held else []
    if isinstance(when, ReserveIs):
        c = scores.caregiving
        return c.band in when.reserve, ["score:caregiving_reserve", *c.strained_items]
    if isinstance(when, RegionAtLeast):
        region = next(r for r in scores.regions if r.id == when.region)
        wanted = BAND_ORDER[Band(when.at_least)]
        ok = BAND_ORDER[region.band] >= wanted
        fired = [f.item_id for f in scores.functions
                 if f.region == when.region and BAND_ORDER[f.band] >= max(wanted, 1)]
        return ok, [f"score:region.{region.id}", *fired]
    if isinstance(when, FunctionsAtLeast):
        wanted = BAND_ORDER[Band(when.at_least)]
        fired = [f.item_id for f in scores.functions
                 if f.item_id in when.functions and BAND_ORDER[f.band] >= wanted]
        return bool(fired), fired
    if isinstance(when, AnswerIn):
        answer = scores.answers.get(when.answer)
        value = answer.value if answer is not None else None
        return isinstance(value, str) and value in when.in_, [when.answer]
    if isinstance(when, CurrentRelationalIs):
        now = scores.current_relational
        weak = [item for item, value in now.answers if value in ("patchy", "little")]
        return now.band in when.current_relational, ["score:current_relational", *weak]
    wanted = _RISK_ORDER[when.period_risk_at_least]
    hit = [f"score:risk.{p.period}" for p in scores.periods if _RISK_ORDER[p.band] >= wanted]
    return bool(hit), hit


def referenced_scores(when: When) -> list[str]:
    """The `score:` ids a condition looks at (for a `not` that held)."""
    if isinstance(when, AllOf | AnyOf):
        subs = when.all if isinstance(when, AllOf) else when.any
        return [i for c in subs for i in referenced_scores(c)]
    if isinstance(when, NotOf):
        return referenced_scores(when.not_)
    if isinstance(when, RegionAtLeast):
        return [f"score:region.{when.region}"]
    if isinstance(when, ReserveIs):
        return ["score:caregiving_reserve"]
    if isinstance(when, CurrentRelationalIs):
        return ["score:current_relational"]
    if isinstance(when, FunctionsAtLeast):
        return list(when.functions)
    if isinstance(when, AnswerIn):
        return [when.answer]
    return ["score:risk"]


def recommend(rules: RecommendationRules, scores: Scores) -> list[Recommendation]:
    """The recommendations whose conditions hold, ordered by tier then file order."""
    chosen: list[tuple[int, int, Recommendation]] = []
    for index, rule in enumerate(rules.recommendations):
        held, triggered = evaluate(rule.when, scores)
        if not held:
            continue
        unique = tuple(dict.fromkeys(triggered))
        chosen.append((rule.tier, index, Recommendation(
            id=rule.id, tier=rule.tier, title=rule.title, try_=rule.try_,
            how_often=rule.how_often, how_long=rule.how_long, why=rule.why,
            triggered_by=unique)))
    return [rec for _, _, rec in sorted(chosen, key=lambda c: (c[0], c[1]))]
