"""Choose recommendations from the rules: evaluate each `when`, keep what triggered it, order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from flows.engine import AgeValue, Answers
from scoring.report import (
    AdversityEntry,
    CaregivingReserve,
    CurrentRelational,
    FunctionScore,
    GroupScore,
    OverallRisk,
    PeriodScore,
    Recommendation,
)
from scoring.rules import (
    BAND_ORDER,
    AgeAtLeast,
    AllOf,
    AnswerIn,
    AnyOf,
    Band,
    CurrentRelationalIs,
    Experienced,
    FunctionsAtLeast,
    NoneRecommended,
    NotOf,
    OverallRiskIs,
    RatedAtLeast,
    RecommendationRule,
    RecommendationRules,
    RegionAtLeast,
    ReserveIs,
    When,
)

_RISK_ORDER = {"not_reached": -1, "low": 0, "moderate": 1, "high": 2}
_SEVERITY_ORDER = {"mild": 0, "moderate": 1, "severe": 2}


@dataclass(frozen=True)
class Scores:
    """What a recommendation condition may look at."""

    answers: Answers
    functions: Sequence[FunctionScore]
    regions: Sequence[GroupScore]
    periods: Sequence[PeriodScore]
    current_relational: CurrentRelational
    caregiving: CaregivingReserve
    adversities: Sequence[AdversityEntry] = ()
    overall: OverallRisk | None = None
    age: AgeValue | None = None
    chosen: frozenset[str] = field(default_factory=frozenset)  # for `none_of`, second pass
    strengths: frozenset[str] = field(default_factory=frozenset)


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
        if isinstance(value, list):  # a multiple choice: any ticked value
            return any(v in when.in_ for v in value), [when.answer]
        return isinstance(value, str) and value in when.in_, [when.answer]
    if isinstance(when, Experienced):
        return _experienced(when, scores)
    if isinstance(when, RatedAtLeast):
        return _rated_at_least(when, scores)
    if isinstance(when, OverallRiskIs):
        band = scores.overall.band if scores.overall is not None else "low"
        return band in when.overall_risk, ["score:risk"]
    if isinstance(when, AgeAtLeast):
        return (scores.age is not None and scores.age.max_months >= when.age_at_least,
                ["score:age"])
    if isinstance(when, NoneRecommended):
        return not (scores.chosen & set(when.none_of)), []
    if isinstance(when, CurrentRelationalIs):
        now = scores.current_relational
        weak = [item for item, value in now.answers if value in ("patchy", "little")]
        return now.band in when.current_relational, ["score:current_relational", *weak]
    wanted = _RISK_ORDER[when.period_risk_at_least]
    hit = [f"score:risk.{p.period}" for p in scores.periods if _RISK_ORDER[p.band] >= wanted]
    return bool(hit), hit


def _experienced(when: Experienced, scores: Scores) -> tuple[bool, list[str]]:
    wanted = _SEVERITY_ORDER[when.severity_at_least] if when.severity_at_least else 0
    hit = [e for e in scores.adversities
           if e.category in when.experienced and not e.from_background
           # A skipped severity is not taken as mild: an unknown is never reassurance.
           and (e.severity is None or _SEVERITY_ORDER.get(e.severity, 0) >= wanted)]
    # What it rests on: the experience ticked, and its severity when a threshold was asked.
    keys = [e.item_keys[0] for e in hit[:1]]
    if when.severity_at_least:
        keys += [e.item_keys[2] for e in hit]
    return bool(hit), keys


def _rated_at_least(when: RatedAtLeast, scores: Scores) -> tuple[bool, list[str]]:
    asked = [f for f in scores.functions if f.applies]
    rated = [f for f in asked if f.points is not None]
    # Every region asked about needs something rated: "typical" cannot rest on nothing.
    regions_asked = {f.region for f in asked}
    regions_rated = {f.region for f in rated}
    ok = bool(asked) and len(rated) >= when.rated_at_least * len(asked) and (
        regions_asked == regions_rated)
    return ok, ["score:rated"]


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
    if isinstance(when, Experienced):
        return [f"score:experience.{c}" for c in when.experienced]
    if isinstance(when, RatedAtLeast):
        return ["score:rated"]
    if isinstance(when, AgeAtLeast):
        return ["score:age"]
    if isinstance(when, NoneRecommended):
        return [f"recommendation:{i}" for i in when.none_of]
    return ["score:risk"]


def _uses_none_of(when: When) -> bool:
    if isinstance(when, AllOf | AnyOf):
        return any(_uses_none_of(c) for c in (when.all if isinstance(when, AllOf) else when.any))
    if isinstance(when, NotOf):
        return _uses_none_of(when.not_)
    return isinstance(when, NoneRecommended)


def _chosen(rule: RecommendationRule, scores: Scores) -> Recommendation | None:
    held, triggered = evaluate(rule.when, scores)
    if not held:
        return None
    try_, why, variant = rule.try_, rule.why, None
    for candidate in rule.variants:
        if evaluate(candidate.when, scores)[0]:
            try_, why, variant = candidate.try_, candidate.why or rule.why, candidate.id
            break
    return Recommendation(
        id=rule.id, tier=rule.tier, title=rule.title, try_=try_,
        how_often=rule.how_often, how_long=rule.how_long, why=why,
        triggered_by=tuple(dict.fromkeys(triggered)), stage=rule.stage,
        clinical=rule.clinical, clinical_title=rule.clinical_title, variant=variant,
        builds_on=tuple(s for s in rule.builds_on if s in scores.strengths))


def recommend(rules: RecommendationRules, scores: Scores) -> list[Recommendation]:
    """The recommendations whose conditions hold, ordered by tier then file order.

    Rules that look at other recommendations (`none_of`: "keep going" when nothing else
    raised a concern) are judged second, against what the others chose.
    """
    first = [(i, r) for i, r in enumerate(rules.recommendations) if not _uses_none_of(r.when)]
    second = [(i, r) for i, r in enumerate(rules.recommendations) if _uses_none_of(r.when)]
    chosen: list[tuple[int, int, Recommendation]] = []
    for index, rule in first:
        rec = _chosen(rule, scores)
        if rec is not None:
            chosen.append((rule.tier, index, rec))
    names = frozenset(rec.id for _, _, rec in chosen)
    later = replace(scores, chosen=names)
    for index, rule in second:
        rec = _chosen(rule, later)
        if rec is not None:
            chosen.append((rule.tier, index, rec))
    return [rec for _, _, rec in sorted(chosen, key=lambda c: (c[0], c[1]))]
