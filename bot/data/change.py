"""Compare two scored reports of one child: change per region, factor, connection and reserve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: importing scoring costs ~0.1 s on `hearth chat`'s path
    from scoring import Report
    from scoring.report import GroupScore

#: A region or factor's difficulty (0-100) must move this much to count as a change:
#: one function moving one step in a six-function region moves it by about 8.
DIFFICULTY_STEP = 10.0
#: Connection (0-1) must move this much: about one answer moving one step in four.
RELATIONAL_STEP = 0.1


@dataclass(frozen=True)
class Movement:
    """One measure then and now, and which way it went for the child."""

    id: str
    #: The scoring rules' name for a region or factor; None for the two named in messages/.
    label: dict[str, str] | None
    then: float | None
    now: float | None
    then_band: str
    now_band: str
    #: "better", "worse", "same", or "unknown" when either side was not rated.
    direction: str

    @property
    def delta(self) -> float | None:
        if self.then is None or self.now is None:
            return None
        return self.now - self.then


def _direction(then: float | None, now: float | None, step: float, *, lower_is_better: bool
               ) -> str:
    if then is None or now is None:
        return "unknown"
    moved = now - then
    if abs(moved) < step:
        return "same"
    improved = moved < 0 if lower_is_better else moved > 0
    return "better" if improved else "worse"


def _groups(then: tuple[GroupScore, ...], now: tuple[GroupScore, ...]) -> list[Movement]:
    earlier = {g.id: g for g in then}
    moves: list[Movement] = []
    for group in now:
        before = earlier.get(group.id)
        then_value = before.difficulty if before is not None else None
        moves.append(Movement(
            id=group.id,
            label=group.label,
            then=then_value,
            now=group.difficulty,
            then_band=before.band.value if before is not None else "unrated",
            now_band=group.band.value,
            direction=_direction(then_value, group.difficulty, DIFFICULTY_STEP,
                                 lower_is_better=True),
        ))
    return moves


@dataclass(frozen=True)
class ChangeSummary:
    """Everything the change report shows."""

    then: Report
    now: Report
    regions: list[Movement]
    factors: list[Movement]
    relational: Movement
    reserve: Movement


def compare(then: Report, now: Report) -> ChangeSummary:
    """Then vs now: lower difficulty is better; more connection and more reserve are better."""
    r_then, r_now = then.current_relational, now.current_relational
    relational = Movement(
        id="current_relational", label=None,
        then=r_then.score, now=r_now.score, then_band=r_then.band, now_band=r_now.band,
        direction=_direction(r_then.score, r_now.score, RELATIONAL_STEP, lower_is_better=False),
    )
    c_then, c_now = then.caregiving, now.caregiving
    reserve_then = None if c_then.band == "unknown" else c_then.reserve
    reserve_now = None if c_now.band == "unknown" else c_now.reserve
    reserve = Movement(
        id="caregiving_reserve", label=None,
        then=reserve_then, now=reserve_now, then_band=c_then.band, now_band=c_now.band,
        # One point of reserve is one answer moving a step.
        direction=_direction(reserve_then, reserve_now, 1.0, lower_is_better=False),
    )
    return ChangeSummary(then, now, _groups(then.regions, now.regions),
                         _groups(then.factors, now.factors), relational, reserve)
