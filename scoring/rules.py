"""Scoring and recommendation rules as validated data, with errors located by file and line."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flows.errors import FlowError
from flows.loader import line_map, parse_yaml
from flows.schema import Flow, ItemType
from scoring.bundle import has_rules as has_rules  # re-exported: older imports

LocalizedText = dict[str, str]
Id = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
NonNegative = Annotated[float, Field(ge=0)]


class Band(StrEnum):
    """Severity of one function, region or factor, compared with what is typical for age."""

    TYPICAL = "typical"
    MODERATE = "moderate"
    SIGNIFICANT = "significant"
    UNRATED = "unrated"


BAND_ORDER: dict[Band, int] = {
    Band.UNRATED: -1, Band.TYPICAL: 0, Band.MODERATE: 1, Band.SIGNIFICANT: 2,
}


class _Strict(BaseModel):
    # Built on first validation, not at import: ~40 models (~50 ms) that `hearth chat`
    # and a caregiver's step never use (forward references resolve then too).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# -- scoring rules ------------------------------------------------------------------------


class ItemRefs(_Strict):
    """Items that identify the child and the person answering, and those the report passes
    on as they were given (the family's own words, strengths, stress signs, worries)."""

    name: Id
    age: Id
    respondent: Id
    note: Id | None = None  # free text: anything else, or what they most want help with
    strengths: Id | None = None  # what the child enjoys, what already calms them
    stress_signs: Id | None = None
    urgent: Id | None = None  # ages 12-18: worries that go to the top of the report
    helpers: Id | None = None  # the therapeutic web
    helpers_often: Id | None = None
    helpers_rating: Id | None = None


class PeriodRule(_Strict):
    """One developmental period and how much experiences in it weigh."""

    id: Id
    start_months: int = Field(ge=0, le=216)
    weight: NonNegative
    poverty_weight: NonNegative
    label: LocalizedText
    short: LocalizedText


class AdversityRules(_Strict):
    """Part A: which items hold the adversity answers and how they turn into points."""

    item: Id
    periods_item: Id
    severity_item: Id
    pattern_item: Id
    severity_points: dict[str, NonNegative] = Field(min_length=1)
    pattern_multiplier: dict[str, NonNegative] = Field(min_length=1)
    missing_severity: NonNegative
    missing_pattern: NonNegative
    #: Whether the stress could be seen coming and had any way out: the item and its
    #: multiplier (predictable, controllable stress sensitises less: shared/domain.md).
    predictability_item: Id | None = None
    predictability_multiplier: dict[str, NonNegative] = Field(default_factory=dict)
    missing_predictability: NonNegative = 1.0
    #: Where an experience whose timing is not known counts (docs/scoring.md says why):
    #: spread evenly over every period the child has lived.
    unknown_timing: Literal["spread_over_lived_periods"] = "spread_over_lived_periods"
    unknown_period: str = "not_sure"
    unknown_story: str = "unknown"  # the exclusive "I don't know their early story"
    categories: dict[str, Literal["adversity", "relational_poverty"]] = Field(min_length=1)


class BackgroundItem(_Strict):
    """One family-background item: points its "yes" adds, and a short label."""

    points: NonNegative
    label: LocalizedText


class BackgroundRules(_Strict):
    """Family background (genetic and prenatal factors): "yes" answers add to one period."""

    period: Id
    kind: Literal["adversity", "relational_poverty"]
    items: dict[str, BackgroundItem]


class RiskBands(_Strict):
    """Score at or above which a risk is "moderate", and "high"."""

    moderate: NonNegative
    high: NonNegative

    @model_validator(mode="after")
    def _ordered(self) -> RiskBands:
        if self.high < self.moderate:
            raise ValueError("`high` must be at least `moderate`")
        return self


class RiskRules(_Strict):
    """How adversity, relational poverty and relational health combine into risk."""

    buffer: float = Field(ge=0, le=1)
    deficit_points: NonNegative
    unknown_relational: float = Field(ge=0, le=1)
    current_relational_weight: NonNegative
    period_bands: RiskBands
    overall_bands: RiskBands


class FunctionRule(_Strict):
    """One function of a region: the item that rates it and the factor it loads on."""

    item: Id
    factor: Id
    label: LocalizedText


class RegionRule(_Strict):
    """One brain region, bottom (brainstem) to top (cortex), and its functions."""

    id: Id
    label: LocalizedText
    plain: LocalizedText
    functions: list[FunctionRule] = Field(min_length=1)


class FactorRule(_Strict):
    """One of the four functional factors."""

    id: Id
    label: LocalizedText


class FunctionBands(_Strict):
    """Points (one function) at or above which it is "moderate", and "significant"."""

    moderate: NonNegative
    significant: NonNegative


class GroupBands(_Strict):
    """Difficulty 0-100 (a region or factor) at or above which it is moderate, significant."""

    moderate: float = Field(ge=0, le=100)
    significant: float = Field(ge=0, le=100)


class FunctioningRules(_Strict):
    """Part C: answer points, bands, regions (bottom-up order) and factors."""

    points: dict[str, NonNegative] = Field(min_length=2)
    function_bands: FunctionBands
    group_bands: GroupBands
    significant_function_lifts_region_to: Literal["typical", "moderate", "significant"]
    #: This many functions in real trouble make their region significant, whatever the mean.
    significant_functions_make_region_significant: int = Field(default=2, ge=1)
    state_item: Id
    factors: list[FactorRule] = Field(min_length=1)
    regions: list[RegionRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_factors(self) -> FunctioningRules:
        known = {f.id for f in self.factors}
        for region in self.regions:
            for function in region.functions:
                if function.factor not in known:
                    raise ValueError(
                        f"function '{function.item}' names factor '{function.factor}', which "
                        f"is not listed under factors ({', '.join(sorted(known))})")
        return self

    @property
    def max_points(self) -> float:
        return max(self.points.values())


class CurrentRelationalBands(_Strict):
    """Mean connection 0..1 at or above which connection now is "mixed", and "strong"."""

    mixed: float = Field(ge=0, le=1)
    strong: float = Field(ge=0, le=1)


class CurrentRelationalRules(_Strict):
    """Part D: the items rating connection now."""

    items: list[Id] = Field(min_length=1)
    bands: CurrentRelationalBands


class PointsRule(_Strict):
    """Points per answer value of one caregiving item, and what a skipped answer counts."""

    points: dict[str, NonNegative] = Field(min_length=2)
    missing: NonNegative

    @property
    def worst(self) -> float:
        return max(self.points.values())


class ReserveBands(_Strict):
    """Reserve at or above which the caregiver has "reserve", or is "stretched"."""

    reserve: float
    stretched: float


class CaregivingRules(_Strict):
    """The caregiving challenge estimator: resources minus demands."""

    resources: dict[str, PointsRule]
    demands: dict[str, PointsRule]
    children_item: Id
    #: One challenge rating per other child at home; a child not rated counts
    #: `per_extra_child`, and all the other children together at most `children_cap`.
    other_children: list[Id] = Field(default_factory=list)
    other_child_points: dict[str, NonNegative] = Field(default_factory=dict)
    per_extra_child: NonNegative
    children_cap: NonNegative
    bands: ReserveBands


class ScoringRules(_Strict):
    """Everything that turns one flow's answers into scores."""

    flow: Id
    flow_versions: list[int] = Field(min_length=1)
    recommendations_file: str
    items: ItemRefs
    periods: list[PeriodRule] = Field(min_length=1)
    adversity: AdversityRules
    background: BackgroundRules
    connection_points: dict[str, NonNegative] = Field(min_length=2)
    relational_history: dict[str, list[Id]]
    risk: RiskRules
    functioning: FunctioningRules
    current_relational: CurrentRelationalRules
    caregiving: CaregivingRules

    @model_validator(mode="after")
    def _periods_consistent(self) -> ScoringRules:
        ids = [p.id for p in self.periods]
        starts = [p.start_months for p in self.periods]
        if starts != sorted(starts):
            raise ValueError("periods must be listed youngest first (start_months ascending)")
        if self.background.period not in ids:
            raise ValueError(f"background.period names unknown period '{self.background.period}'")
        unknown = sorted(set(self.relational_history) - set(ids))
        if unknown:
            raise ValueError(f"relational_history names unknown periods: {', '.join(unknown)}")
        return self

    @property
    def max_connection(self) -> float:
        return max(self.connection_points.values())


# -- recommendation rules -------------------------------------------------------------------

BandName = Literal["typical", "moderate", "significant"]


class ReserveIs(_Strict):
    """The caregiving reserve is one of these bands."""

    reserve: list[Literal["reserve", "stretched", "depleted"]] = Field(min_length=1)


class RegionAtLeast(_Strict):
    """A region's band is at least this."""

    region: Id
    at_least: BandName


class FunctionsAtLeast(_Strict):
    """At least one of these functions is rated at least this."""

    functions: list[Id] = Field(min_length=1)
    at_least: BandName


class AnswerIn(_Strict):
    """An answer is one of these values."""

    answer: Id
    in_: list[str] = Field(alias="in", min_length=1)


class CurrentRelationalIs(_Strict):
    """Connection now is one of these bands."""

    current_relational: list[Literal["strong", "mixed", "thin"]] = Field(min_length=1)


class PeriodRiskAtLeast(_Strict):
    """Some reached period's risk is at least this."""

    period_risk_at_least: Literal["moderate", "high"]


SeverityName = Literal["mild", "moderate", "severe"]


class Experienced(_Strict):
    """One of these hard experiences was reported (at least this severe, if given).

    A skipped severity counts as meeting the threshold: an unknown is never reassurance.
    """

    experienced: list[Id] = Field(min_length=1)
    severity_at_least: SeverityName | None = None


class RatedAtLeast(_Strict):
    """At least this share of the functions asked was rated, and no region is all unknown."""

    rated_at_least: float = Field(gt=0, le=1)


class OverallRiskIs(_Strict):
    """The overall developmental risk is one of these bands."""

    overall_risk: list[Literal["low", "moderate", "high"]] = Field(min_length=1)


class AgeAtLeast(_Strict):
    """The child is (possibly) at least this many months old."""

    age_at_least: int = Field(ge=0, le=216)


class NoneRecommended(_Strict):
    """None of these recommendations was chosen (judged after every other rule)."""

    none_of: list[Id] = Field(min_length=1)


class AllOf(_Strict):
    """Every nested condition holds."""

    all: list[When] = Field(min_length=1)


class AnyOf(_Strict):
    """At least one nested condition holds."""

    any: list[When] = Field(min_length=1)


class NotOf(_Strict):
    """The nested condition does not hold."""

    not_: When = Field(alias="not")


When = Annotated[
    ReserveIs | RegionAtLeast | FunctionsAtLeast | AnswerIn | CurrentRelationalIs
    | PeriodRiskAtLeast | Experienced | RatedAtLeast | OverallRiskIs | AgeAtLeast
    | NoneRecommended | AllOf | AnyOf | NotOf,
    Field(union_mode="left_to_right"),
]


#: What a recommendation is for. The treatment sequence (shared/domain.md) is regulate,
#: then relate, then reason: `RecommendationRules` checks that the tiers keep that order.
Stage = Literal["caregiver", "safety", "note", "regulate", "relate", "reason", "referral",
                "maintain"]
SEQUENCE: tuple[Stage, ...] = ("regulate", "relate", "reason")


class Variant(_Strict):
    """Other words for a recommendation when a condition holds (the first that holds wins):
    advice that avoids touch for a child harmed by touch, for instance."""

    id: Id
    when: When
    try_: LocalizedText = Field(alias="try")
    why: LocalizedText | None = None


class RecommendationRule(_Strict):
    """One recommendation: when it applies and what it says (what, how often, how long, why).

    `try`, `how_often`, `how_long` and `why` speak to the family; `clinical` says the same
    finding and action to a clinician.
    """

    id: Id
    tier: int = Field(ge=0)
    stage: Stage
    when: When
    #: Strengths (values of `items.strengths`) this advice can be built on: the report
    #: names those the child has ("she loves swinging").
    builds_on: list[str] = Field(default_factory=list)
    title: LocalizedText
    try_: LocalizedText = Field(alias="try")
    how_often: LocalizedText
    how_long: LocalizedText
    why: LocalizedText
    clinical_title: LocalizedText
    clinical: LocalizedText
    variants: list[Variant] = Field(default_factory=list)


class RecommendationRules(_Strict):
    """The recommendations of one flow, in file order."""

    flow: Id
    recommendations: list[RecommendationRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RecommendationRules:
        seen: set[str] = set()
        for rule in self.recommendations:
            if rule.id in seen:
                raise ValueError(f"recommendation id '{rule.id}' is used twice")
            seen.add(rule.id)
        # Regulate, then relate, then reason: every tier of an earlier stage comes first.
        tiers = {stage: [r.tier for r in self.recommendations if r.stage == stage]
                 for stage in SEQUENCE}
        for earlier, later in itertools.pairwise(SEQUENCE):
            if tiers[earlier] and tiers[later] and max(tiers[earlier]) >= min(tiers[later]):
                raise ValueError(f"every '{earlier}' recommendation must come before (a lower "
                                 f"tier than) every '{later}' one: regulate, relate, reason")
        return self


# -- loading with located errors -----------------------------------------------------------


@dataclass(frozen=True)
class RuleProblem:
    """One thing wrong with a rules file, where it is, and what is wrong."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        at = f" at {self.path}" if self.path else ""
        return f"{where}{at}: {self.message}"


class RulesError(Exception):
    """A rules file is invalid, or does not match its flow; `problems` lists each problem."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class NoScoringRules(LookupError):
    """The flow has no bundled scoring rules (the sample flow, for instance)."""

    def __init__(self, flow_id: str) -> None:
        self.flow_id = flow_id
        super().__init__(
            f"no scoring rules for flow '{flow_id}': only flows with a file "
            f"scoring/rules/{flow_id}.yaml get a report")


_M = TypeVar("_M", bound=BaseModel)


def _parse(text: str, filename: str, model: type[_M]) -> _M:
    # Rules files are read like flow files: one YAML parse, lines from the loader's map.
    try:
        node, raw = parse_yaml(text, filename)
    except FlowError as exc:
        syntax = [RuleProblem(p.file, p.line, "", p.message) for p in exc.problems]
        raise RulesError(syntax) from None
    lines = line_map(node)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems: list[RuleProblem] = []
        for error in exc.errors():
            # Union alternatives add class names to the location; they are not in the file.
            path = tuple(p for p in error["loc"] if not (isinstance(p, str) and p[:1].isupper()))
            line = next((lines[path[:end]] for end in range(len(path), -1, -1)
                         if path[:end] in lines), None)
            problems.append(RuleProblem(filename, line, ".".join(map(str, path)), error["msg"]))
        # A union reports once per alternative: keep the first message per place.
        unique = list({(p.line, p.path): p for p in reversed(problems)}.values())[::-1]
        raise RulesError(sorted(unique, key=lambda p: p.line or 0)) from None


def parse_scoring_rules(text: str, filename: str = "<rules>") -> ScoringRules:
    """Validate scoring rules given as YAML text; raise `RulesError` naming file and line."""
    return _parse(text, filename, ScoringRules)


def parse_recommendation_rules(text: str, filename: str = "<recommendations>") -> (
        RecommendationRules):
    """Validate recommendation rules given as YAML text; raise `RulesError` on problems."""
    return _parse(text, filename, RecommendationRules)


@dataclass(frozen=True)
class RuleSet:
    """The scoring and recommendation rules of one flow."""

    scoring: ScoringRules
    recommendations: RecommendationRules


@lru_cache(maxsize=8)
def bundled_rules(flow_id: str) -> RuleSet:
    """The rules shipped for a flow id (read once, then cached); `NoScoringRules` if none.

    This is the only place scoring/ touches a file, and only its own package data.
    """
    folder = resources.files("scoring") / "rules"
    path = folder / f"{flow_id}.yaml"
    if not path.is_file():
        raise NoScoringRules(flow_id)
    scoring = parse_scoring_rules(path.read_text(encoding="utf-8"), f"scoring/rules/{path.name}")
    rec_path = folder / scoring.recommendations_file
    recommendations = parse_recommendation_rules(
        rec_path.read_text(encoding="utf-8"), f"scoring/rules/{scoring.recommendations_file}")
    return RuleSet(scoring, recommendations)


# -- rules against the flow ---------------------------------------------------------------


def check_against_flow(rules: RuleSet, flow: Flow) -> list[str]:
    """Every reference from the rules to the flow that does not hold (empty when they fit)."""
    problems: list[str] = []
    s = rules.scoring

    def need(item_id: str, where: str, *, kind: set[ItemType] | None = None,
             values: set[str] | None = None) -> None:
        if not flow.has_item(item_id):
            problems.append(f"{where}: item '{item_id}' is not in flow {flow.key}")
            return
        item = flow.item(item_id)
        if kind is not None and item.type not in kind:
            problems.append(f"{where}: item '{item_id}' is {item.type}, expected "
                            f"{' or '.join(sorted(kind))}")
        if values is not None:
            known = {o.value for o in item.options}
            missing = sorted(values - known)
            if missing:
                problems.append(f"{where}: item '{item_id}' has no option(s) {', '.join(missing)}")

    if s.flow != flow.id:
        problems.append(f"rules are for flow '{s.flow}', not '{flow.id}'")
    if flow.version not in s.flow_versions:
        problems.append(f"rules cover versions {s.flow_versions}, not version {flow.version}")
    need(s.items.age, "items.age", kind={ItemType.AGE})
    need(s.items.name, "items.name", kind={ItemType.TEXT})
    need(s.items.respondent, "items.respondent")
    a = s.adversity
    need(a.item, "adversity.item", kind={ItemType.MULTI_CHOICE}, values=set(a.categories))
    need(a.periods_item, "adversity.periods_item", kind={ItemType.MULTI_CHOICE},
         values={p.id for p in s.periods})
    need(a.severity_item, "adversity.severity_item", values=set(a.severity_points))
    need(a.pattern_item, "adversity.pattern_item", values=set(a.pattern_multiplier))
    if a.predictability_item is not None:
        need(a.predictability_item, "adversity.predictability_item",
             values=set(a.predictability_multiplier))
    for item_id in s.background.items:
        need(item_id, "background.items", kind={ItemType.YES_NO_UNKNOWN})
    for period, items in s.relational_history.items():
        for item_id in items:
            need(item_id, f"relational_history.{period}", values=set(s.connection_points))
    for region in s.functioning.regions:
        for function in region.functions:
            need(function.item, f"functioning.{region.id}", values=set(s.functioning.points))
    need(s.functioning.state_item, "functioning.state_item")
    for item_id in s.current_relational.items:
        need(item_id, "current_relational", values=set(s.connection_points))
    for group in ("resources", "demands"):
        for item_id, rule in getattr(s.caregiving, group).items():
            need(item_id, f"caregiving.{group}", values=set(rule.points))
    need(s.caregiving.children_item, "caregiving.children_item", kind={ItemType.NUMBER})
    for item_id in s.caregiving.other_children:
        need(item_id, "caregiving.other_children", values=set(s.caregiving.other_child_points))
    for field_name in ("note", "strengths", "stress_signs", "urgent", "helpers",
                       "helpers_often", "helpers_rating"):
        ref = getattr(s.items, field_name)
        if ref is not None:
            need(ref, f"items.{field_name}")
    strengths = ({o.value for o in flow.item(s.items.strengths).options}
                 if s.items.strengths and flow.has_item(s.items.strengths) else set())
    for rec in rules.recommendations.recommendations:
        unknown = sorted(set(rec.builds_on) - strengths)
        if unknown:
            problems.append(f"recommendation {rec.id}: builds_on names unknown strength(s) "
                            f"{', '.join(unknown)}")
    regions = {r.id for r in s.functioning.regions}
    functions = {f.item for r in s.functioning.regions for f in r.functions}
    rec_ids = {r.id for r in rules.recommendations.recommendations}
    for rec in rules.recommendations.recommendations:
        conditions = [*_walk(rec.when), *(c for v in rec.variants for c in _walk(v.when))]
        for cond in conditions:
            if isinstance(cond, Experienced):
                unknown = sorted(set(cond.experienced) - set(a.categories))
                if unknown:
                    problems.append(f"recommendation {rec.id}: unknown experience(s) "
                                    f"{', '.join(unknown)}")
            if isinstance(cond, NoneRecommended):
                unknown = sorted(set(cond.none_of) - rec_ids)
                if unknown:
                    problems.append(f"recommendation {rec.id}: unknown recommendation(s) "
                                    f"{', '.join(unknown)}")
            if isinstance(cond, RegionAtLeast) and cond.region not in regions:
                problems.append(f"recommendation {rec.id}: unknown region '{cond.region}'")
            if isinstance(cond, FunctionsAtLeast):
                for f in cond.functions:
                    if f not in functions:
                        problems.append(f"recommendation {rec.id}: '{f}' is not a function")
            if isinstance(cond, AnswerIn):
                need(cond.answer, f"recommendation {rec.id}", values=set(cond.in_))
    return problems


def _walk(cond: When) -> list[When]:
    if isinstance(cond, AllOf):
        return [c for sub in cond.all for c in _walk(sub)]
    if isinstance(cond, AnyOf):
        return [c for sub in cond.any for c in _walk(sub)]
    if isinstance(cond, NotOf):
        return _walk(cond.not_)
    return [cond]
