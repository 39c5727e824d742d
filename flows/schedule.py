"""When each week of a prompt series is due: pure functions of a schedule, deliveries and `now`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Day names in `datetime.date.weekday()` order: Monday is 0.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: Week number -> the instant it was sent (timezone-aware), as recorded by the store.
Deliveries = Mapping[int, dt.datetime]

_SERIES_KEY = re.compile(r"^[a-z][a-z0-9_-]*@[1-9][0-9]*$")
_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_WEEK = dt.timedelta(days=7)


class ScheduleStatus(StrEnum):
    """Whether deliveries run. Finished is not a status: it follows from the deliveries."""

    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class ScheduleStateError(ValueError):
    """A pause, resume, skip or stop that the schedule's current state does not allow."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A weekly slot (weekday and local time in an IANA zone) and the group's controls.

    Which weeks were sent, and when, is not kept here: it is passed in as `Deliveries`,
    so the store's delivery log stays the one record of what went out.
    """

    #: The series as `Series.key` ("id@version"): a running group keeps its version.
    series_key: str
    #: 0 (Monday) to 6 (Sunday), as `datetime.date.weekday()`.
    weekday: int
    #: Local wall-clock time of delivery, without tzinfo.
    time: dt.time
    #: IANA time zone name, for example "Europe/London".
    timezone: str
    #: The first day a delivery may happen (the first slot is on or after it).
    start: dt.date
    status: ScheduleStatus = ScheduleStatus.ACTIVE
    #: Slots at or before this instant are not owed: set by `resume` (slots missed while
    #: paused are not sent), or at creation to begin at the next slot rather than at once.
    active_since: dt.datetime | None = None
    #: The week a skip asked for "now"; pending until that week is delivered.
    skip_week: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.series_key, str) or not _SERIES_KEY.match(self.series_key):
            raise ValueError(
                f"series_key must be a series key 'id@version' such as "
                f"'what_happened@1' (Series.key), got {self.series_key!r}"
            )
        if type(self.weekday) is not int or not 0 <= self.weekday <= 6:
            raise ValueError(
                f"weekday must be an int from 0 (Monday) to 6 (Sunday), got {self.weekday!r}"
            )
        if not isinstance(self.time, dt.time) or self.time.tzinfo is not None:
            raise ValueError(
                f"time must be a datetime.time without tzinfo (a local wall-clock "
                f"time; the zone is `timezone`), got {self.time!r}"
            )
        _zone(self.timezone)
        if not isinstance(self.start, dt.date) or isinstance(self.start, dt.datetime):
            raise ValueError(
                f"start must be a datetime.date (the first day a delivery may "
                f"happen), got {self.start!r}"
            )
        try:
            # The store gives back plain strings: accept them, keep the enum.
            object.__setattr__(self, "status", ScheduleStatus(self.status))
        except ValueError:
            raise ValueError(
                f"status must be one of {', '.join(ScheduleStatus)}, got {self.status!r}"
            ) from None
        if self.active_since is not None:
            _require_aware("active_since", self.active_since)
        if self.skip_week is not None and (type(self.skip_week) is not int or self.skip_week < 1):
            raise ValueError(
                f"skip_week must be a week number (an int from 1), got {self.skip_week!r}"
            )

    @property
    def zone(self) -> ZoneInfo:
        """The schedule's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def paused(self) -> bool:
        """Whether regular deliveries are paused (a skip still goes out)."""
        return self.status is ScheduleStatus.PAUSED

    @property
    def stopped(self) -> bool:
        """Whether the schedule was stopped for good."""
        return self.status is ScheduleStatus.STOPPED


# -- parsing what a facilitator types -------------------------------------------------------


def parse_weekday(text: str) -> int:
    """Turn "monday", "Mon" or "wed" into 0-6 (Monday is 0); ValueError says what is expected."""
    key = text.strip().lower()
    # Three letters at least: "t" or "s" alone would name two days.
    if len(key) >= 3:
        for number, name in enumerate(WEEKDAYS):
            if name.startswith(key):
                return number
    raise ValueError(f"unknown weekday {text!r}: expected a day name such as 'monday' or 'mon'")


def parse_time(text: str) -> dt.time:
    """Turn "19:30" or "7:05" (24-hour HH:MM) into a time; ValueError says what is expected."""
    match = _TIME.match(text.strip())
    if match is None:
        raise ValueError(f"bad time {text!r}: expected a 24-hour time HH:MM, for example '19:30'")
    return dt.time(int(match[1]), int(match[2]))


# -- slots ----------------------------------------------------------------------------------


def first_slot(schedule: Schedule) -> dt.datetime:
    """The first delivery slot: the schedule's weekday on or after `start`, at its local time."""
    return _slot_on(schedule, _first_day(schedule))


def next_slot_after(schedule: Schedule, instant: dt.datetime) -> dt.datetime:
    """The first delivery slot strictly after `instant` (never before the first slot).

    The slot keeps its local wall-clock time across daylight-saving changes, so its UTC
    offset moves with the season. It is returned in the schedule's zone.
    """
    _require_aware("instant", instant)
    after = _utc(instant)
    local_day = instant.astimezone(schedule.zone).date()
    # A week back is aligned and safely early whatever a DST change did to that day.
    day = max(_first_day(schedule), _align(local_day - _WEEK, schedule.weekday))
    while True:
        slot = _slot_on(schedule, day)
        if _utc(slot) > after:
            return slot
        day += _WEEK


# -- progress -------------------------------------------------------------------------------


def next_week(deliveries: Deliveries) -> int:
    """The number of the next week to send: one after the highest week delivered."""
    return max(deliveries, default=0) + 1


def is_finished(deliveries: Deliveries, total_weeks: int) -> bool:
    """Whether every week of the series has been delivered."""
    _check_progress(deliveries, total_weeks)
    return next_week(deliveries) > total_weeks


def next_due_at(
    schedule: Schedule, deliveries: Deliveries, total_weeks: int, now: dt.datetime
) -> dt.datetime | None:
    """When the next week becomes due: `now` if it already is, else its slot.

    None when nothing will become due without a state change: stopped, paused (with no
    skip pending) or finished. Catch-up rule: the next week is owed at the first slot
    after the last delivery (or `active_since`), so after downtime exactly one missed
    week goes out, and the one after waits for the following slot.
    """
    _check_progress(deliveries, total_weeks)
    _require_aware("now", now)
    week = next_week(deliveries)
    if schedule.stopped or week > total_weeks:
        return None
    if schedule.skip_week == week:
        return now
    if schedule.paused:
        return None
    marks = [_utc(at) for at in deliveries.values()]
    if schedule.active_since is not None:
        marks.append(_utc(schedule.active_since))
    owed = next_slot_after(schedule, max(marks)) if marks else first_slot(schedule)
    return now if _utc(owed) <= _utc(now) else owed


def due_week(
    schedule: Schedule, deliveries: Deliveries, total_weeks: int, now: dt.datetime
) -> int | None:
    """The week to send at `now`, or None: at most one, always the next in order."""
    at = next_due_at(schedule, deliveries, total_weeks, now)
    return next_week(deliveries) if at is not None and _utc(at) <= _utc(now) else None


# -- what the group can do: pure transitions --------------------------------------------------


def pause(schedule: Schedule) -> Schedule:
    """Stop regular deliveries until `resume`; a skip still sends the next week."""
    if schedule.status is not ScheduleStatus.ACTIVE:
        raise ScheduleStateError(
            f"cannot pause a {schedule.status} schedule: only an active one can be paused"
        )
    return replace(schedule, status=ScheduleStatus.PAUSED)


def resume(schedule: Schedule, now: dt.datetime) -> Schedule:
    """Restart regular deliveries; the next week goes out at the first slot after `now`."""
    if schedule.status is not ScheduleStatus.PAUSED:
        raise ScheduleStateError(
            f"cannot resume a {schedule.status} schedule: only a paused one can be resumed"
        )
    _require_aware("now", now)
    return replace(schedule, status=ScheduleStatus.ACTIVE, active_since=now)


def skip(schedule: Schedule, deliveries: Deliveries, total_weeks: int) -> Schedule:
    """Ask for the next week now; the weekly slot stays where it was for the weeks after."""
    if schedule.stopped:
        raise ScheduleStateError("cannot skip ahead on a stopped schedule")
    if is_finished(deliveries, total_weeks):
        raise ScheduleStateError(
            f"every week (1 to {total_weeks}) has been sent: there is no next week to skip to"
        )
    return replace(schedule, skip_week=next_week(deliveries))


def stop(schedule: Schedule) -> Schedule:
    """End the schedule for good: nothing is due afterwards and it cannot be resumed."""
    if schedule.stopped:
        raise ScheduleStateError("the schedule is already stopped")
    return replace(schedule, status=ScheduleStatus.STOPPED)


# -- helpers ----------------------------------------------------------------------------------


def _zone(name: object) -> ZoneInfo:
    try:
        if isinstance(name, str) and name:
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass  # reported below, the same way for every kind of bad name
    raise ValueError(
        f"unknown time zone {name!r}: expected an IANA name such as "
        f"'Europe/London' or 'America/New_York'"
    )


def _require_aware(name: str, value: object) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime, for example "
            f"datetime.now(timezone.utc), got {value!r}"
        )


def _check_progress(deliveries: Deliveries, total_weeks: int) -> None:
    if type(total_weeks) is not int or total_weeks < 1:
        raise ValueError(
            f"total_weeks must be a positive int (Series.total_weeks), got {total_weeks!r}"
        )
    for week, at in deliveries.items():
        if type(week) is not int or week < 1:
            raise ValueError(
                f"deliveries must be keyed by week number (an int from 1), got {week!r}"
            )
        _require_aware(f"the delivery time of week {week}", at)


def _utc(instant: dt.datetime) -> dt.datetime:
    # Aware datetimes sharing a tzinfo compare by wall clock, ignoring `fold`: in the hour
    # repeated when clocks go back that gets the order wrong, so compare in UTC.
    return instant.astimezone(dt.UTC)


def _align(day: dt.date, weekday: int) -> dt.date:
    """The first `weekday` on or after `day`."""
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _first_day(schedule: Schedule) -> dt.date:
    return _align(schedule.start, schedule.weekday)


def _slot_on(schedule: Schedule, day: dt.date) -> dt.datetime:
    """The delivery instant on `day`, in the schedule's zone.

    fold=0 takes the first of a repeated wall time (clocks going back); a wall time that
    does not exist (clocks going forward) is read with the offset from before the change
    and normalised, so the delivery moves later by the size of the gap.
    """
    local = dt.datetime.combine(day, schedule.time, tzinfo=schedule.zone)
    return _utc(local).astimezone(schedule.zone)
