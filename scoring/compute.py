"""Pure scoring functions: answers and rules in, period, region, factor and reserve scores out."""

from __future__ import annotations

from flows.engine import AgeValue, Answers, rule_holds
from flows.schema import Flow
from scoring.report import (
    NO_BASIS,
    AdversityEntry,
    Basis,
    CaregivingReserve,
    CurrentRelational,
    FunctionScore,
    GroupScore,
    OverallRisk,
    PeriodScore,
)
from scoring.rules import BAND_ORDER, Band, ScoringRules


def _value(answers: Answers, key: str) -> object:
    answer = answers.get(key)
    return answer.value if answer is not None else None


def _choice(answers: Answers, key: str) -> str | None:
    value = _value(answers, key)
    return value if isinstance(value, str) else None


def _choices(answers: Answers, key: str) -> list[str]:
    value = _value(answers, key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def child_age(rules: ScoringRules, answers: Answers) -> AgeValue | None:
    """The child's age answer, if given."""
    value = _value(answers, rules.items.age)
    return value if isinstance(value, AgeValue) else None


def reached_periods(rules: ScoringRules, age: AgeValue | None) -> set[str]:
    """Periods the child has (possibly) reached: the same rule the flow uses to offer them."""
    if age is None:
        return {p.id for p in rules.periods}
    return {p.id for p in rules.periods if age.max_months >= p.start_months}


# -- Part A and B: adversity and relational health per period ------------------------------


def adversity_entries(rules: ScoringRules, flow: Flow, answers: Answers,
                      age: AgeValue | None = None) -> list[AdversityEntry]:
    """Each ticked category with its periods and points (severity x pattern x predictability).

    An experience whose timing is not known ("I'm not sure when", or the question skipped)
    is never dropped: its points are spread evenly over every period the child has lived
    (`adversity.unknown_timing`, docs/scoring.md).
    """
    a = rules.adversity
    source = flow.item(a.item)
    lived = tuple(p.id for p in rules.periods if p.id in reached_periods(rules, age))
    entries: list[AdversityEntry] = []
    for category in _choices(answers, a.item):
        kind = a.categories.get(category)
        if kind is None:
            continue  # "none of these", "I don't know": exclusive options, not adversity
        periods_key = f"{a.periods_item}[{category}]"
        severity_key = f"{a.severity_item}[{category}]"
        pattern_key = f"{a.pattern_item}[{category}]"
        severity = _choice(answers, severity_key)
        pattern = _choice(answers, pattern_key)
        severity_points = a.severity_points.get(severity or "", a.missing_severity)
        multiplier = a.pattern_multiplier.get(pattern or "", a.missing_pattern)
        keys = [a.item, periods_key, severity_key, pattern_key]
        predictability = None
        if a.predictability_item is not None:
            predictability_key = f"{a.predictability_item}[{category}]"
            keys.append(predictability_key)
            predictability = _choice(answers, predictability_key)
            multiplier *= a.predictability_multiplier.get(predictability or "",
                                                          a.missing_predictability)
        ticked = _choices(answers, periods_key)
        periods = tuple(p.id for p in rules.periods if p.id in ticked)
        timing_known = bool(periods) and a.unknown_period not in ticked
        if not timing_known:
            periods = lived
        option = source.option(category)
        entries.append(AdversityEntry(
            category=category, kind=kind,
            label=dict(option.label) if option else {"en": category}, periods=periods,
            severity=severity, pattern=pattern, points=severity_points * multiplier,
            item_keys=tuple(keys), timing_known=timing_known, predictability=predictability))
    background = rules.background
    for item_id, rule in background.items.items():
        if _choice(answers, item_id) == "yes":
            entries.append(AdversityEntry(
                category=item_id, kind=background.kind, label=dict(rule.label),
                periods=(background.period,), severity=None, pattern=None, points=rule.points,
                item_keys=(item_id,), from_background=True))
    return entries


def background_basis(rules: ScoringRules, answers: Answers) -> Basis:
    """Family-background items answered yes or no, against "I don't know" or skipped ones."""
    values = [_choice(answers, i) for i in rules.background.items]
    known = sum(1 for v in values if v in ("yes", "no"))
    return Basis(known, len(values) - known)


def connection_basis(rules: ScoringRules, answers: Answers, items: list[str]) -> Basis:
    """Connection items with a rating, against "I don't know" and skipped ones."""
    known = sum(1 for i in items if _choice(answers, i) in rules.connection_points)
    return Basis(known, len(items) - known)


def relational_health(rules: ScoringRules, answers: Answers, items: list[str]) -> float | None:
    """Mean connection of these items, 0 (very little) .. 1 (strong); None if none known."""
    known = [rules.connection_points[v] for v in (_choice(answers, i) for i in items)
             if v is not None and v in rules.connection_points]
    if not known:
        return None
    return sum(known) / (len(known) * rules.max_connection)


def _band3(score: float, moderate: float, high: float) -> str:
    if score >= high:
        return "high"
    return "moderate" if score >= moderate else "low"


def period_risk(rules: ScoringRules, period_id: str, adversity: float, poverty: float,
                health: float | None) -> float:
    """Weighted developmental risk of one period.

    Relational poverty weighs more where the period says so (perinatal), a lack of
    connection counts as poverty in itself, and relational health buffers all of it:
    risk never falls when adversity rises and never rises when connection rises.
    """
    period = next(p for p in rules.periods if p.id == period_id)
    r = rules.risk
    connection = r.unknown_relational if health is None else health
    stress = adversity + period.poverty_weight * (poverty + r.deficit_points * (1 - connection))
    return period.weight * stress * (1 - r.buffer * connection)


def period_scores(rules: ScoringRules, answers: Answers,
                  entries: list[AdversityEntry], age: AgeValue | None) -> list[PeriodScore]:
    """Adversity load, relational health and risk for each developmental period."""
    reached = reached_periods(rules, age)
    scores: list[PeriodScore] = []
    for period in rules.periods:
        within = [e for e in entries if period.id in e.periods]
        adversity = sum(e.points_in(period.id) for e in within if e.kind == "adversity")
        poverty = sum(e.points_in(period.id) for e in within if e.kind == "relational_poverty")
        unknown_timing = sum(e.points_in(period.id) for e in within if not e.timing_known)
        items = rules.relational_history.get(period.id, [])
        health = relational_health(rules, answers, items)
        is_reached = period.id in reached
        basis = connection = NO_BASIS
        if is_reached:
            timed = sum(1 for e in within if e.timing_known)
            connection = connection_basis(rules, answers, items)
            basis = connection + Basis(timed, len(within) - timed)
        risk = period_risk(rules, period.id, adversity, poverty, health) if is_reached else 0.0
        band = (_band3(risk, rules.risk.period_bands.moderate, rules.risk.period_bands.high)
                if is_reached else "not_reached")
        scores.append(PeriodScore(
            period=period.id, label=period.label, short=period.short, reached=is_reached,
            adversity=adversity, relational_poverty=poverty, relational_health=health,
            risk=round(risk, 3), band=band,
            adversity_keys=tuple(k for e in within for k in e.item_keys
                                 if k != rules.adversity.item),
            relational_items=tuple(i for i in items if i in answers),
            unknown_timing=round(unknown_timing, 3), basis=basis, connection=connection))
    return scores


def current_relational(rules: ScoringRules, answers: Answers) -> CurrentRelational:
    """Connection now: the mean of family, peers, school and community (those asked)."""
    items = rules.current_relational.items
    score = relational_health(rules, answers, items)
    bands = rules.current_relational.bands
    if score is None:
        band = "unknown"
    elif score >= bands.strong:
        band = "strong"
    elif score >= bands.mixed:
        band = "mixed"
    else:
        band = "thin"
    given = tuple((i, v) for i in items if (v := _choice(answers, i)) is not None)
    asked = [i for i in items if i in answers]
    return CurrentRelational(score, band, given, connection_basis(rules, answers, asked))


def overall_risk(rules: ScoringRules, periods: list[PeriodScore], now: CurrentRelational,
                 answers: Answers | None = None,
                 entries: list[AdversityEntry] | None = None) -> OverallRisk:
    """History (sum of period risks) plus the weight of thin connection now.

    Its basis counts every answer behind it once: family background, each experience's
    timing, connection in each period lived, and connection now.
    """
    r = rules.risk
    history = sum(p.risk for p in periods if p.reached)
    connection = r.unknown_relational if now.score is None else now.score
    current = r.current_relational_weight * (1 - connection)
    score = history + current
    band = _band3(score, r.overall_bands.moderate, r.overall_bands.high)
    given = answers or {}
    experiences = [e for e in entries or [] if not e.from_background]
    untimed = sum(1 for e in experiences if not e.timing_known)
    basis = (background_basis(rules, given) + Basis(len(experiences) - untimed, untimed)
             + now.basis)
    if _choices(given, rules.adversity.item) == [rules.adversity.unknown_story]:
        basis += Basis(0, 1)  # "I don't know their early story": the whole of Part A
    for period in periods:
        if period.reached:
            basis += connection_basis(rules, given, rules.relational_history.get(period.period, []))
    return OverallRisk(round(score, 3), band, round(history, 3), round(current, 3), basis,
                       untimed)


# -- Part C: current functioning -------------------------------------------------------------


def function_band(rules: ScoringRules, points: float | None) -> Band:
    """The band of one function's points."""
    if points is None:
        return Band.UNRATED
    bands = rules.functioning.function_bands
    if points >= bands.significant:
        return Band.SIGNIFICANT
    return Band.MODERATE if points >= bands.moderate else Band.TYPICAL


def function_scores(rules: ScoringRules, flow: Flow, answers: Answers) -> list[FunctionScore]:
    """Every function of every region, bottom-up, with its band ("unrated" if not known)."""
    scores: list[FunctionScore] = []
    for region in rules.functioning.regions:
        for function in region.functions:
            item = flow.item(function.item)
            section = flow.section_of(function.item)
            applies = (rule_holds(flow, section.enable_when, answers)
                       and rule_holds(flow, item.enable_when, answers))
            answer = _choice(answers, function.item) if applies else None
            points = rules.functioning.points.get(answer or "") if answer else None
            scores.append(FunctionScore(
                item_id=function.item, region=region.id, factor=function.factor,
                label=function.label, applies=applies, answer=answer, points=points,
                band=function_band(rules, points)))
    return scores


def _group(rules: ScoringRules, members: list[FunctionScore]) -> tuple[float | None, Band]:
    rated = [m.points for m in members if m.points is not None]
    if not rated:
        return None, Band.UNRATED
    difficulty = 100 * sum(rated) / (len(rated) * rules.functioning.max_points)
    bands = rules.functioning.group_bands
    if difficulty >= bands.significant:
        band = Band.SIGNIFICANT
    elif difficulty >= bands.moderate:
        band = Band.MODERATE
    else:
        band = Band.TYPICAL
    return round(difficulty, 1), band


def _basis(members: list[FunctionScore]) -> Basis:
    asked = [m for m in members if m.applies]
    rated = sum(1 for m in asked if m.points is not None)
    return Basis(rated, len(asked) - rated)


def region_scores(rules: ScoringRules, functions: list[FunctionScore]) -> list[GroupScore]:
    """Each region's difficulty and band, bottom-up.

    The mean can hide a cluster: one function in real trouble lifts its region to at
    least `significant_function_lifts_region_to`, and
    `significant_functions_make_region_significant` of them make it significant.
    """
    f = rules.functioning
    lift = Band(f.significant_function_lifts_region_to)
    scores: list[GroupScore] = []
    for region in f.regions:
        members = [m for m in functions if m.region == region.id]
        difficulty, band = _group(rules, members)
        significant = sum(1 for m in members if m.band is Band.SIGNIFICANT)
        if significant >= f.significant_functions_make_region_significant:
            band = Band.SIGNIFICANT
        elif significant and BAND_ORDER[band] < BAND_ORDER[lift]:
            band = lift
        scores.append(GroupScore(region.id, region.label, difficulty, band,
                                 tuple(m.item_id for m in members), region.plain,
                                 _basis(members)))
    return scores


def factor_scores(rules: ScoringRules, functions: list[FunctionScore]) -> list[GroupScore]:
    """The four factors (sensory integration, self-regulation, relational, cognitive)."""
    scores: list[GroupScore] = []
    for factor in rules.functioning.factors:
        members = [f for f in functions if f.factor == factor.id]
        difficulty, band = _group(rules, members)
        scores.append(GroupScore(factor.id, factor.label, difficulty, band,
                                 tuple(m.item_id for m in members), None, _basis(members)))
    return scores


# -- caregiving reserve ------------------------------------------------------------------------


def caregiving_reserve(rules: ScoringRules, answers: Answers) -> CaregivingReserve:
    """Resources minus demands (a skipped answer counts as the middle) and the band;
    "unknown" when the caregiver answered none of these questions."""
    c = rules.caregiving
    strained: list[str] = []
    resources = 0.0
    for item_id, rule in c.resources.items():
        value = _choice(answers, item_id)
        points = rule.points.get(value or "", rule.missing) if value else rule.missing
        resources += points
        if value is not None and points == min(rule.points.values()):
            strained.append(item_id)
    demands = 0.0
    for item_id, rule in c.demands.items():
        value = _choice(answers, item_id)
        points = rule.points.get(value or "", rule.missing) if value else rule.missing
        demands += points
        if value is not None and points == rule.worst:
            strained.append(item_id)
    children = _value(answers, c.children_item)
    if isinstance(children, int | float) and not isinstance(children, bool):
        others = max(0, int(children) - 1)
        rated = c.other_children[:others]
        extra = 0.0
        for item_id in rated:
            value = _choice(answers, item_id)
            extra += c.other_child_points.get(value or "", c.per_extra_child)
            if value is not None and c.other_child_points.get(value) == max(
                    c.other_child_points.values(), default=None):
                strained.append(item_id)
        if not c.other_children:
            # No rating questions (older rules): every other child counts the flat amount.
            # With them, the last question stands for the rest ("the fourth, or the others").
            extra += others * c.per_extra_child
        extra = min(c.children_cap, extra)
        demands += extra
        if extra >= c.children_cap:
            strained.append(c.children_item)
    reserve = resources - demands
    asked = [*c.resources, *c.demands, c.children_item,
             *(i for i in c.other_children if i in answers)]
    answered = sum(1 for item_id in asked if _value(answers, item_id) is not None)
    if answered == 0:
        # Nothing said about the caregiver: no band, rather than a guessed "stretched".
        band = "unknown"
    elif reserve >= c.bands.reserve:
        band = "reserve"
    elif reserve >= c.bands.stretched:
        band = "stretched"
    else:
        band = "depleted"
    return CaregivingReserve(resources, demands, round(reserve, 3), band, tuple(strained),
                             answered, Basis(answered, len(asked) - answered))
