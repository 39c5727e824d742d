"""The `Report` value: every score, band and recommendation computed from one interview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.engine import AgeValue
from scoring.rules import Band

LocalizedText = dict[str, str]


@dataclass(frozen=True)
class Basis:
    """How many of the answers behind a score were known, and how many were not.

    "Unknown" covers "I don't know", "not sure", a skip, and an experience whose timing
    is not known: a score is only as firm as its basis, and the reports say so.
    """

    known: int
    unknown: int

    @property
    def asked(self) -> int:
        return self.known + self.unknown

    @property
    def unknown_share(self) -> float:
        """0 (all known) .. 1 (nothing known); 0 when nothing was asked."""
        return self.unknown / self.asked if self.asked else 0.0

    def __add__(self, other: Basis) -> Basis:
        return Basis(self.known + other.known, self.unknown + other.unknown)


NO_BASIS = Basis(0, 0)


@dataclass(frozen=True)
class AdversityEntry:
    """One ticked category of adversity and the points it adds to each period it happened in."""

    category: str
    kind: str  # "adversity" or "relational_poverty"
    label: LocalizedText
    periods: tuple[str, ...]
    severity: str | None
    pattern: str | None
    points: float
    item_keys: tuple[str, ...]
    from_background: bool = False  # a family-background "yes", not a Part A experience
    #: False when the caregiver did not know when it happened: `periods` then holds every
    #: period the child has lived, and the points are spread evenly over them.
    timing_known: bool = True
    predictability: str | None = None

    def points_in(self, period: str) -> float:
        """The points this experience adds to one period."""
        if period not in self.periods:
            return 0.0
        return self.points if self.timing_known else self.points / len(self.periods)


@dataclass(frozen=True)
class PeriodScore:
    """Adversity, relational health and developmental risk in one developmental period."""

    period: str
    label: LocalizedText
    short: LocalizedText
    reached: bool
    adversity: float
    relational_poverty: float
    relational_health: float | None  # 0 (very little) .. 1 (strong); None when not known
    risk: float
    band: str  # "low", "moderate", "high", or "not_reached"
    adversity_keys: tuple[str, ...]
    relational_items: tuple[str, ...]
    unknown_timing: float = 0.0  # points (in adversity + poverty) spread here, timing unknown
    basis: Basis = NO_BASIS  # connection answers and experiences' timing, known vs not
    connection: Basis = NO_BASIS  # the period's connection answers alone

    @property
    def load(self) -> float:
        """Adversity and relational poverty together, unweighted."""
        return self.adversity + self.relational_poverty

    @property
    def shown_health(self) -> float | None:
        """Relational health as the reports show it: None ("not known") unless at least half
        of the period's connection answers were known. The score still uses what was known
        (and `unknown_relational` when nothing was), but a percentage resting on one answer
        in three would read as a fact."""
        if self.relational_health is None or 2 * self.connection.known < self.connection.asked:
            return None
        return self.relational_health


@dataclass(frozen=True)
class OverallRisk:
    """Developmental risk across all periods, with current connection added."""

    score: float
    band: str  # "low", "moderate", "high"
    from_history: float
    from_current_relational: float
    basis: Basis = NO_BASIS
    unknown_timing: int = 0  # experiences whose timing was not known (spread, not dropped)


@dataclass(frozen=True)
class FunctionScore:
    """One function rated against what is typical for the child's age."""

    item_id: str
    region: str
    factor: str
    label: LocalizedText
    applies: bool  # asked at this age; an unasked function is not part of the expected map
    answer: str | None
    points: float | None
    band: Band


@dataclass(frozen=True)
class GroupScore:
    """A region or factor: difficulty 0 (all typical) .. 100 (all significant), and its band."""

    id: str
    label: LocalizedText
    difficulty: float | None
    band: Band
    item_ids: tuple[str, ...]
    plain: LocalizedText | None = None
    basis: Basis = NO_BASIS  # functions asked at this age: rated vs not sure or skipped


@dataclass(frozen=True)
class CurrentRelational:
    """Connection now (family, peers, school, community): mean 0..1 and band."""

    score: float | None
    band: str  # "strong", "mixed", "thin", "unknown"
    answers: tuple[tuple[str, str], ...]  # (item id, value) for the items answered
    basis: Basis = NO_BASIS


@dataclass(frozen=True)
class CaregivingReserve:
    """Caregiver resources minus demands, and the band: reserve, stretched or depleted."""

    resources: float
    demands: float
    reserve: float
    band: str  # "reserve", "stretched", "depleted", or "unknown" when nothing was answered
    strained_items: tuple[str, ...]  # items answered at their hardest
    answered: int = 0  # how many of the estimator's items were answered
    basis: Basis = NO_BASIS


@dataclass(frozen=True)
class Recommendation:
    """One thing to try, with what triggered it (answer ids and `score:` ids)."""

    id: str
    tier: int
    title: LocalizedText
    try_: LocalizedText
    how_often: LocalizedText
    how_long: LocalizedText
    why: LocalizedText
    triggered_by: tuple[str, ...]
    stage: str = "maintain"
    clinical: LocalizedText | None = None
    clinical_title: LocalizedText | None = None
    variant: str | None = None  # the id of the variant whose words were used, if any
    builds_on: tuple[str, ...] = ()  # the child's strengths (option values) it can use


@dataclass(frozen=True)
class Report:
    """Everything scored from one interview; the same answers always give the same report."""

    flow_id: str
    flow_version: int
    generated_at: datetime
    child_name: str | None
    age: AgeValue | None
    respondent: str | None
    adversities: tuple[AdversityEntry, ...]
    periods: tuple[PeriodScore, ...]
    overall_risk: OverallRisk
    functions: tuple[FunctionScore, ...]
    regions: tuple[GroupScore, ...]  # bottom (brainstem) to top (cortex)
    factors: tuple[GroupScore, ...]
    state_answer: str | None
    current_relational: CurrentRelational
    caregiving: CaregivingReserve
    recommendations: tuple[Recommendation, ...]
    # Passed on as given (option values; the reports put them into words):
    family_note: str | None = None  # what else they want us to know or want help with
    strengths: tuple[str, ...] = ()
    stress_signs: tuple[str, ...] = ()
    urgent: tuple[str, ...] = ()  # ages 12-18: worries the clinician reads first
    helpers: tuple[str, ...] = ()
    helpers_often: str | None = None
    helpers_rating: str | None = None
    #: The clinician's ratings the scores use, (function, value) in map order; with any,
    #: `functions`, `regions`, `factors` and the recommendations rest on them, and the
    #: caregiver's own view is kept beside (docs/scoring.md, "Clinician ratings").
    ratings: tuple[tuple[str, str], ...] = ()
    caregiver_functions: tuple[FunctionScore, ...] = ()
    caregiver_regions: tuple[GroupScore, ...] = ()

    @property
    def caregiver_view(self) -> tuple[tuple[FunctionScore, ...], tuple[GroupScore, ...]]:
        """The caregiver's own functions and regions, whatever the clinician rated."""
        if self.ratings:
            return self.caregiver_functions, self.caregiver_regions
        return self.functions, self.regions

    def source(self, item_id: str) -> str:
        """Whose view the score of this function uses: "clinician", "caregiver" or "none"."""
        if any(function == item_id for function, _ in self.ratings):
            return "clinician"
        return "none" if self.function(item_id).points is None else "caregiver"

    @property
    def flow_key(self) -> str:
        return f"{self.flow_id}@{self.flow_version}"

    @property
    def reached_periods(self) -> tuple[PeriodScore, ...]:
        return tuple(p for p in self.periods if p.reached)

    def region(self, region_id: str) -> GroupScore:
        """The region score with this id (KeyError if none)."""
        for region in self.regions:
            if region.id == region_id:
                return region
        raise KeyError(region_id)

    def function(self, item_id: str) -> FunctionScore:
        """The function score rated by this item (KeyError if none)."""
        for function in self.functions:
            if function.item_id == item_id:
                return function
        raise KeyError(item_id)

    def period(self, period_id: str) -> PeriodScore:
        """The score of this developmental period (KeyError if none)."""
        for period in self.periods:
            if period.period == period_id:
                return period
        raise KeyError(period_id)

    @property
    def compromised_regions(self) -> tuple[GroupScore, ...]:
        """Regions rated moderate or significant, bottom-up."""
        return tuple(r for r in self.regions if r.band in (Band.MODERATE, Band.SIGNIFICANT))

    @property
    def typical_regions(self) -> tuple[GroupScore, ...]:
        return tuple(r for r in self.regions if r.band is Band.TYPICAL)
