"""Scores as flat named values: the columns beside answers, and the figures' raw material."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import scoring
from flows.engine import Answers
from flows.schema import Flow

if TYPE_CHECKING:  # scoring's models load on first use, off `hearth chat`'s start-up path
    from scoring import Report

#: Any fixed instant: the report's date is not part of any score.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def scored(flow: Flow, answers: Answers, at: datetime | None = None) -> Report | None:
    """The report for these answers, or None when the flow has no scoring rules."""
    if not scoring.has_rules(flow.id):
        return None
    return scoring.build_report(flow, answers, at or _EPOCH)


def score_values(report: Report) -> dict[str, str | float | None]:
    """Every score of a report under a stable column name (`score.region.brainstem`, ...)."""
    values: dict[str, str | float | None] = {
        "score.overall_risk": round(report.overall_risk.score, 2),
        "score.overall_risk.band": report.overall_risk.band,
    }
    for period in report.periods:
        values[f"score.period.{period.period}.risk"] = round(period.risk, 2)
        values[f"score.period.{period.period}.band"] = period.band
    for kind, groups in (("region", report.regions), ("factor", report.factors)):
        for group in groups:
            difficulty = None if group.difficulty is None else round(group.difficulty, 1)
            values[f"score.{kind}.{group.id}"] = difficulty
            values[f"score.{kind}.{group.id}.band"] = group.band.value
    relational = report.current_relational
    values["score.current_relational"] = (
        None if relational.score is None else round(relational.score, 3)
    )
    values["score.current_relational.band"] = relational.band
    reserve = report.caregiving
    values["score.caregiving_reserve"] = (
        None if reserve.band == "unknown" else round(reserve.reserve, 2)
    )
    values["score.caregiving_reserve.band"] = reserve.band
    return values


def score_names(flow: Flow) -> list[str]:
    """The score columns a flow's rules produce (empty without rules)."""
    report = scored(flow, {})
    return [] if report is None else list(score_values(report))
