"""Program figures for an operator: states, completion, drop-off, score distributions, change."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.data.change import compare
from bot.data.load import InterviewData
from bot.data.scores import scored
from flows.catalog import FlowCatalog
from flows.engine import split_key
from flows.lifecycle import OPEN_STATES, State
from scoring import Report

#: An open interview untouched this long counts as abandoned where it stopped.
ABANDONED_AFTER = timedelta(days=14)
#: Where an interview stopped when no question was reached, or all were answered.
CONSENT, REVIEW = "consent", "review"
BANDS = ("typical", "moderate", "significant", "unrated")
RESERVE_BANDS = ("reserve", "stretched", "depleted", "unknown")


@dataclass(frozen=True)
class Spread:
    """Five figures of a distribution (None when there are no values)."""

    count: int
    minimum: float | None = None
    lower_quartile: float | None = None
    median: float | None = None
    upper_quartile: float | None = None
    maximum: float | None = None

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            return cls(0)
        ordered = sorted(values)
        if len(ordered) == 1:
            only = ordered[0]
            return cls(1, only, only, only, only, only)
        # "inclusive": quartiles between observed values, the usual spreadsheet QUARTILE.
        low, mid, high = statistics.quantiles(ordered, n=4, method="inclusive")
        return cls(len(ordered), ordered[0], low, mid, high, ordered[-1])


@dataclass(frozen=True)
class ChangeFigures:
    """First vs latest assessment of the same children, for one measure."""

    pairs: int
    mean_change: float | None
    better: int
    same: int
    worse: int


@dataclass(frozen=True)
class ProgramFigures:
    """Everything `hearth stats` reports; no ids, nicknames or answers in it."""

    total: int
    by_state: dict[str, int]
    started: int
    submitted: int
    completion_rate: float | None
    minutes_to_complete: Spread
    drop_off: dict[str, int]
    region_bands: dict[str, dict[str, int]]
    region_difficulty: dict[str, Spread]
    reserve_bands: dict[str, int]
    reserve: Spread
    children_followed: int
    change: dict[str, ChangeFigures] = field(default_factory=dict)


def stopped_at(catalog: FlowCatalog, data: InterviewData) -> str:
    """The section where an unfinished interview stopped (or "consent" / "review")."""
    record = data.record
    flow = catalog.get(record.flow_key)
    if not record.consented:
        return CONSENT
    if record.cursor is not None:
        return flow.section_of(split_key(record.cursor)[0]).id
    if State(record.state) is State.REVIEW:
        return REVIEW
    # Paused or withdrawn between questions: after the furthest question answered.
    answered = [split_key(k)[0] for k in data.answers if flow.has_item(split_key(k)[0])]
    if not answered:
        return CONSENT
    return flow.section_of(max(answered, key=flow.position)).id


def _dropped(data: InterviewData, now: datetime) -> bool:
    state = State(data.record.state)
    if state in (State.PAUSED, State.WITHDRAWN):
        return True
    return state in OPEN_STATES and now - data.record.updated_at >= ABANDONED_AFTER


def _chains(interviews: Sequence[InterviewData]) -> list[list[InterviewData]]:
    """Assessments of the same child: each follow-up chain, oldest first."""
    by_id = {d.record.id: d for d in interviews}

    def root(data: InterviewData) -> str:
        seen: set[str] = set()
        while data.follow_up_of in by_id and data.record.id not in seen:
            seen.add(data.record.id)
            data = by_id[data.follow_up_of]
        return data.record.id

    chains: dict[str, list[InterviewData]] = {}
    for data in interviews:
        chains.setdefault(root(data), []).append(data)
    return [sorted(c, key=lambda d: (d.record.created_at, d.record.id)) for c in chains.values()]


def _reports(catalog: FlowCatalog, data: InterviewData) -> Report | None:
    if State(data.record.state) is not State.SUBMITTED or data.record.flow_key not in catalog.flows:
        return None
    return scored(catalog.get(data.record.flow_key), data.answers, data.record.submitted_at)


def _change(pairs: list[tuple[float | None, float | None, str]]) -> ChangeFigures:
    deltas = [now - then for then, now, _ in pairs if then is not None and now is not None]
    return ChangeFigures(
        pairs=len(deltas),
        mean_change=round(statistics.fmean(deltas), 2) if deltas else None,
        better=sum(1 for *_, d in pairs if d == "better"),
        same=sum(1 for *_, d in pairs if d == "same"),
        worse=sum(1 for *_, d in pairs if d == "worse"),
    )


def program_figures(
    catalog: FlowCatalog, interviews: Sequence[InterviewData], now: datetime
) -> ProgramFigures:
    """The figures over every interview given (docs/data.md defines each)."""
    # Families' interviews only: a second informant's form is another view of a child
    # already counted, not another family (docs/informants.md).
    known = [d for d in interviews
             if d.record.flow_key in catalog.flows and d.informant_of is None]
    by_state = {s.value: 0 for s in State}
    for data in known:
        by_state[data.record.state] += 1
    started = sum(1 for d in known if d.record.consented)
    submitted = by_state[State.SUBMITTED.value]
    minutes = [
        (d.record.submitted_at - d.record.created_at).total_seconds() / 60
        for d in known
        if d.record.submitted_at is not None and not d.imported
        and State(d.record.state) is State.SUBMITTED
    ]
    drop_off: dict[str, int] = {}
    for data in known:
        if _dropped(data, now):
            where = stopped_at(catalog, data)
            drop_off[where] = drop_off.get(where, 0) + 1
    reports = {d.record.id: r for d in known if (r := _reports(catalog, d)) is not None}
    region_bands: dict[str, dict[str, int]] = {}
    difficulties: dict[str, list[float]] = {}
    reserve_bands = dict.fromkeys(RESERVE_BANDS, 0)
    reserves: list[float] = []
    for report in reports.values():
        for region in report.regions:
            bands = region_bands.setdefault(region.id, dict.fromkeys(BANDS, 0))
            bands[region.band.value] += 1
            values = difficulties.setdefault(region.id, [])
            if region.difficulty is not None:
                values.append(region.difficulty)
        reserve_bands[report.caregiving.band] += 1
        if report.caregiving.band != "unknown":
            reserves.append(report.caregiving.reserve)
    moves: dict[str, list[tuple[float | None, float | None, str]]] = {}
    followed = 0
    for chain in _chains(known):
        scored_chain = [reports[d.record.id] for d in chain if d.record.id in reports]
        if len(scored_chain) < 2:
            continue
        followed += 1
        summary = compare(scored_chain[0], scored_chain[-1])
        for move in [*summary.regions, summary.relational, summary.reserve]:
            moves.setdefault(move.id, []).append((move.then, move.now, move.direction))
    return ProgramFigures(
        total=len(known),
        by_state=by_state,
        started=started,
        submitted=submitted,
        completion_rate=round(submitted / started, 4) if started else None,
        minutes_to_complete=Spread.of(minutes),
        drop_off=dict(sorted(drop_off.items(), key=lambda kv: (-kv[1], kv[0]))),
        region_bands=region_bands,
        region_difficulty={k: Spread.of(v) for k, v in difficulties.items()},
        reserve_bands=reserve_bands,
        reserve=Spread.of(reserves),
        children_followed=followed,
        change={k: _change(v) for k, v in moves.items()},
    )
