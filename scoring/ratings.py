"""Clinician ratings on the functional map: checked, applied over the caregiver's view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from scoring.compute import function_band
from scoring.report import FunctionScore
from scoring.rules import Band, ScoringRules


class Source(StrEnum):
    """Whose view a function's score uses."""

    CLINICIAN = "clinician"  # the clinician rated it: their rating overrides
    CAREGIVER = "caregiver"  # the caregiver's answer (no rating)
    NONE = "none"  # neither rated it: the function is unrated, left out of every score


class RatingProblem(StrEnum):
    """Why a rating cannot be kept (the codes the messages and tests use)."""

    UNKNOWN_FUNCTION = "unknown_function"
    BAD_VALUE = "bad_value"
    NO_REASON = "no_reason"
    #: A withdrawal of a function with no rating in force (never rated, or withdrawn).
    NOT_RATED = "not_rated"


def scale(rules: ScoringRules) -> tuple[str, ...]:
    """The values a function can be rated, mildest first (the map's own point keys)."""
    points = rules.functioning.points
    return tuple(sorted(points, key=lambda key: points[key]))


def functions_of(rules: ScoringRules) -> tuple[str, ...]:
    """Every function of the map (its item id), bottom-up."""
    return tuple(f.item for region in rules.functioning.regions for f in region.functions)


def check_rating(rules: ScoringRules, function: str, value: str,
                 reason: str) -> RatingProblem | None:
    """The first thing wrong with a rating, or None: a function of the map, a value on its
    scale, and a reason (a rating without one could not be understood later)."""
    if function not in functions_of(rules):
        return RatingProblem.UNKNOWN_FUNCTION
    if value not in rules.functioning.points:
        return RatingProblem.BAD_VALUE
    if not reason.strip():
        return RatingProblem.NO_REASON
    return None


def apply_ratings(rules: ScoringRules, functions: Sequence[FunctionScore],
                  ratings: Mapping[str, str]) -> list[FunctionScore]:
    """The caregiver's function scores with each rated function replaced by the clinician's
    rating (on the same points and bands). A rated function counts even where the
    caregiver was not asked it or did not know: the clinician saw it. A rating off the
    map's scale is ignored (it was checked when kept; rules may change later)."""
    points = rules.functioning.points
    combined: list[FunctionScore] = []
    for function in functions:
        value = ratings.get(function.item_id)
        if value is None or value not in points:
            combined.append(function)
            continue
        combined.append(replace(function, applies=True, answer=value, points=points[value],
                                band=function_band(rules, points[value])))
    return combined


def source_of(function: str, caregiver: Band, ratings: Mapping[str, str],
              rules: ScoringRules) -> Source:
    """Which view a function's score uses: the clinician's rating when there is one."""
    if ratings.get(function) in rules.functioning.points:
        return Source.CLINICIAN
    return Source.NONE if caregiver is Band.UNRATED else Source.CAREGIVER


@dataclass(frozen=True)
class FunctionViews:
    """One function: the caregiver's band, each informant's, the clinician's (None when not
    rated), and the view the scores use."""

    item_id: str
    region: str
    label: dict[str, str]
    caregiver: Band
    informants: tuple[Band, ...]
    clinician: Band | None
    used: Source


def function_views(rules: ScoringRules, caregiver: Sequence[FunctionScore],
                   informants: Sequence[Sequence[FunctionScore]],
                   ratings: Mapping[str, str]) -> list[FunctionViews]:
    """Every function of the map, bottom-up, with every view side by side. `informants`
    holds each informant's functions on the same map (scoring/informants.py)."""
    points = rules.functioning.points
    rows: list[FunctionViews] = []
    for function in caregiver:
        theirs = tuple(next((f.band for f in view if f.item_id == function.item_id),
                            Band.UNRATED) for view in informants)
        value = ratings.get(function.item_id)
        clinician = function_band(rules, points[value]) if value in points else None
        rows.append(FunctionViews(
            function.item_id, function.region, dict(function.label), function.band, theirs,
            clinician, source_of(function.item_id, function.band, ratings, rules)))
    return rows
