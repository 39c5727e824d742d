"""Weekly delivery: slots across DST, the catch-up rule, pause/resume/skip/stop, input checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.schedule import (
    Schedule,
    ScheduleStateError,
    ScheduleStatus,
    due_week,
    first_slot,
    is_finished,
    next_due_at,
    next_slot_after,
    next_week,
    parse_time,
    parse_weekday,
    pause,
    resume,
    skip,
    stop,
)

LONDON = ZoneInfo("Europe/London")
SATURDAY, SUNDAY, MONDAY = 5, 6, 0
TOTAL = 10


def schedule(**changes: object) -> Schedule:
    """Saturdays 19:00 in London from 7 March 2026 (clocks go forward on 29 March)."""
    fields: dict[str, object] = {
        "series_key": "what_happened@1",
        "weekday": SATURDAY,
        "time": time(19, 0),
        "timezone": "Europe/London",
        "start": date(2026, 3, 7),
    }
    fields.update(changes)
    return Schedule(**fields)  # type: ignore[arg-type]


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def slots(s: Schedule, count: int) -> list[datetime]:
    found = [first_slot(s)]
    while len(found) < count:
        found.append(next_slot_after(s, found[-1]))
    return found


# -- slots and DST --------------------------------------------------------------------------------


def test_weekly_slots__across_spring_forward__same_local_time_new_offset() -> None:
    found = slots(schedule(), 4)
    assert [s.date() for s in found] == [date(2026, 3, d) for d in (7, 14, 21, 28)]
    found += [next_slot_after(schedule(), found[-1])]
    assert found[-1].date() == date(2026, 4, 4)
    assert {s.time() for s in found} == {time(19, 0)}
    assert found[3].astimezone(UTC) == datetime(2026, 3, 28, 19, 0, tzinfo=UTC)  # GMT
    assert found[4].astimezone(UTC) == datetime(2026, 4, 4, 18, 0, tzinfo=UTC)  # BST
    assert found[4] - found[3] == timedelta(days=7)  # wall-clock difference
    assert found[4].astimezone(UTC) - found[3].astimezone(UTC) == timedelta(days=7, hours=-1)


def test_weekly_slots__across_fall_back__same_local_time_new_offset() -> None:
    s = schedule(
        weekday=MONDAY, time=time(9, 30), timezone="America/New_York", start=date(2026, 10, 26)
    )
    first, second = slots(s, 2)
    assert first.astimezone(UTC) == datetime(2026, 10, 26, 13, 30, tzinfo=UTC)  # EDT
    assert second.astimezone(UTC) == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)  # EST
    assert second.time() == time(9, 30)


def test_slot__in_the_spring_gap__moves_later_by_the_gap() -> None:
    # 01:30 does not exist in London on 29 March 2026: clocks jump from 01:00 to 02:00.
    s = schedule(weekday=SUNDAY, time=time(1, 30), start=date(2026, 3, 22))
    before, on_change, after = slots(s, 3)
    assert before.astimezone(UTC) == datetime(2026, 3, 22, 1, 30, tzinfo=UTC)
    assert on_change.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (on_change.hour, on_change.minute) == (2, 30)
    assert after.astimezone(UTC) == datetime(2026, 4, 5, 0, 30, tzinfo=UTC)


def test_slot__in_the_repeated_autumn_hour__sent_once_at_the_first() -> None:
    # 01:30 happens twice in London on 25 October 2026.
    s = schedule(weekday=SUNDAY, time=time(1, 30), start=date(2026, 10, 25))
    first = first_slot(s)
    assert first.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # The second 01:30 (GMT, an hour later) is not another slot.
    assert next_slot_after(s, first).date() == date(2026, 11, 1)


def test_next_slot_after__is_strictly_after_and_never_before_start() -> None:
    s = schedule()
    first = first_slot(s)
    assert next_slot_after(s, first - timedelta(days=30)) == first
    assert next_slot_after(s, first - timedelta(seconds=1)) == first
    assert next_slot_after(s, first) == first + timedelta(days=7)
    assert next_slot_after(s, first.astimezone(ZoneInfo("Asia/Tokyo"))) == first + timedelta(days=7)


def test_first_slot__start_on_the_weekday__is_that_day() -> None:
    assert first_slot(schedule(start=date(2026, 3, 7))).date() == date(2026, 3, 7)
    assert first_slot(schedule(start=date(2026, 3, 8))).date() == date(2026, 3, 14)


# -- due weeks and the catch-up rule --------------------------------------------------------------


def test_due__before_first_slot__nothing_then_week_one() -> None:
    s = schedule()
    assert due_week(s, {}, TOTAL, london(2026, 3, 7, 18, 59)) is None
    assert due_week(s, {}, TOTAL, london(2026, 3, 7, 19, 0)) == 1
    assert next_due_at(s, {}, TOTAL, london(2026, 3, 7, 12, 0)) == london(2026, 3, 7, 19, 0)


def test_due__after_delivery__next_week_waits_for_next_slot() -> None:
    s = schedule()
    sent = {1: london(2026, 3, 7, 19, 0, 2)}
    assert due_week(s, sent, TOTAL, london(2026, 3, 7, 19, 5)) is None
    assert due_week(s, sent, TOTAL, london(2026, 3, 14, 18, 0)) is None
    assert due_week(s, sent, TOTAL, london(2026, 3, 14, 19, 0)) == 2
    assert next_due_at(s, sent, TOTAL, london(2026, 3, 8)) == london(2026, 3, 14, 19, 0)


def test_catch_up__after_three_missed_slots__exactly_one_week_then_next_slot() -> None:
    s = schedule()
    sent: dict[int, datetime] = {1: london(2026, 3, 7, 19, 0), 2: london(2026, 3, 14, 19, 0)}
    back_up = london(2026, 4, 8, 10, 0)  # down since 15 March: slots of 21, 28 Mar, 4 Apr missed
    assert due_week(s, sent, TOTAL, back_up) == 3
    sent[3] = back_up
    for later in (back_up, back_up + timedelta(minutes=1), london(2026, 4, 11, 18, 59)):
        assert due_week(s, sent, TOTAL, later) is None
    assert next_due_at(s, sent, TOTAL, back_up) == london(2026, 4, 11, 19, 0)
    assert due_week(s, sent, TOTAL, london(2026, 4, 11, 19, 0)) == 4


def test_catch_up__checked_every_minute_of_downtime_recovery__one_delivery() -> None:
    s = schedule()
    sent: dict[int, datetime] = {1: london(2026, 3, 7, 19, 0)}
    now = london(2026, 4, 1, 12, 0)
    delivered = []
    for minute in range(120):
        at = now + timedelta(minutes=minute)
        week = due_week(s, sent, TOTAL, at)
        if week is not None:
            sent[week] = at
            delivered.append(week)
    assert delivered == [2]


def test_finished__after_last_week__nothing_due_ever() -> None:
    s = schedule()
    sent = {n: first_slot(s) + timedelta(days=7 * (n - 1)) for n in range(1, TOTAL + 1)}
    assert is_finished(sent, TOTAL)
    assert not is_finished({1: first_slot(s)}, TOTAL)
    far = london(2027, 1, 1)
    assert due_week(s, sent, TOTAL, far) is None
    assert next_due_at(s, sent, TOTAL, far) is None
    assert next_week(sent) == TOTAL + 1


# -- pause, resume, skip, stop ---------------------------------------------------------------------


def test_pause__nothing_due_while_paused() -> None:
    paused = pause(schedule())
    assert paused.paused and paused.status is ScheduleStatus.PAUSED
    assert due_week(paused, {}, TOTAL, london(2026, 5, 1)) is None
    assert next_due_at(paused, {}, TOTAL, london(2026, 5, 1)) is None


def test_resume__slots_missed_while_paused_are_not_owed() -> None:
    s = schedule()
    sent = {1: london(2026, 3, 7, 19, 0)}
    paused = pause(s)
    resumed = resume(paused, london(2026, 4, 1, 9, 0))
    assert resumed.status is ScheduleStatus.ACTIVE
    assert due_week(resumed, sent, TOTAL, london(2026, 4, 1, 9, 0)) is None
    assert next_due_at(resumed, sent, TOTAL, london(2026, 4, 1, 9, 0)) == london(2026, 4, 4, 19)
    assert due_week(resumed, sent, TOTAL, london(2026, 4, 4, 19, 0)) == 2


def test_created_after_the_first_slot__week_one_at_once_or_at_next_slot() -> None:
    evening = london(2026, 3, 7, 20, 0)  # an hour after the first slot
    assert due_week(schedule(), {}, TOTAL, evening) == 1
    later = schedule(active_since=evening)
    assert due_week(later, {}, TOTAL, evening) is None
    assert next_due_at(later, {}, TOTAL, evening) == london(2026, 3, 14, 19, 0)


def test_resume__before_the_slot_of_the_same_day__that_slot_still_counts() -> None:
    resumed = resume(pause(schedule()), london(2026, 3, 7, 10, 0))
    assert due_week(resumed, {}, TOTAL, london(2026, 3, 7, 19, 0)) == 1


def test_skip__next_week_due_now_then_regular_slot_for_the_one_after() -> None:
    s = schedule()
    sent = {1: london(2026, 3, 7, 19, 0)}
    wednesday = london(2026, 3, 11, 12, 0)
    skipped = skip(s, sent, TOTAL)
    assert skipped.skip_week == 2
    assert due_week(skipped, sent, TOTAL, wednesday) == 2
    assert next_due_at(skipped, sent, TOTAL, wednesday) == wednesday
    sent[2] = wednesday
    assert due_week(skipped, sent, TOTAL, wednesday + timedelta(hours=1)) is None
    assert due_week(skipped, sent, TOTAL, london(2026, 3, 14, 19, 0)) == 3


def test_skip__twice_before_delivery__still_one_week() -> None:
    sent = {1: london(2026, 3, 7, 19, 0)}
    twice = skip(skip(schedule(), sent, TOTAL), sent, TOTAL)
    assert twice.skip_week == 2
    assert due_week(twice, sent, TOTAL, london(2026, 3, 9)) == 2


def test_skip__while_paused__sends_one_week_and_stays_paused() -> None:
    sent = {1: london(2026, 3, 7, 19, 0)}
    paused = skip(pause(schedule()), sent, TOTAL)
    assert paused.paused
    assert due_week(paused, sent, TOTAL, london(2026, 3, 9)) == 2
    sent[2] = london(2026, 3, 9)
    assert due_week(paused, sent, TOTAL, london(2026, 6, 1)) is None


def test_skip__after_last_week__rejected() -> None:
    sent = {n: london(2026, 3, 7, 19) + timedelta(days=7 * n) for n in range(1, TOTAL + 1)}
    with pytest.raises(ScheduleStateError, match="no next week"):
        skip(schedule(), sent, TOTAL)


def test_stop__nothing_due_and_no_way_back() -> None:
    stopped = stop(schedule())
    assert stopped.stopped
    assert due_week(stopped, {}, TOTAL, london(2026, 5, 1)) is None
    assert next_due_at(stopped, {}, TOTAL, london(2026, 5, 1)) is None
    assert stop(pause(schedule())).stopped
    for transition in (
        pause,
        stop,
        lambda s: resume(s, london(2026, 5, 1)),
        lambda s: skip(s, {}, TOTAL),
    ):
        with pytest.raises(ScheduleStateError):
            transition(stopped)


def test_stop__pending_skip__not_sent() -> None:
    stopped = stop(skip(schedule(), {}, TOTAL))
    assert due_week(stopped, {}, TOTAL, london(2026, 3, 1)) is None


def test_pause_and_resume__wrong_state__rejected() -> None:
    with pytest.raises(ScheduleStateError, match="only a paused one can be resumed"):
        resume(schedule(), london(2026, 3, 1))
    with pytest.raises(ScheduleStateError, match="only an active one can be paused"):
        pause(pause(schedule()))


def test_transitions__leave_the_original_unchanged() -> None:
    s = schedule()
    pause(s)
    skip(s, {}, TOTAL)
    assert s.status is ScheduleStatus.ACTIVE and s.skip_week is None


# -- inputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus': expected an IANA name"),
        ({"timezone": "Europe"}, "unknown time zone 'Europe'"),
        ({"timezone": ""}, "unknown time zone ''"),
        ({"timezone": "../etc/passwd"}, "unknown time zone"),
        ({"weekday": 7}, r"weekday must be an int from 0 \(Monday\) to 6 \(Sunday\), got 7"),
        ({"weekday": True}, "weekday must be an int"),
        ({"weekday": "monday"}, "weekday must be an int"),
        ({"time": "19:00"}, "time must be a datetime.time without tzinfo"),
        ({"time": time(19, tzinfo=UTC)}, "time must be a datetime.time without tzinfo"),
        ({"start": datetime(2026, 3, 7, 12)}, "start must be a datetime.date"),
        ({"series_key": "what_happened"}, "series_key must be a series key 'id@version'"),
        ({"status": "sleeping"}, "status must be one of active, paused, stopped"),
        ({"active_since": datetime(2026, 3, 7)}, "active_since must be a timezone-aware datetime"),
        ({"skip_week": 0}, "skip_week must be a week number"),
    ],
)
def test_schedule__bad_input__precise_value_error(
    changes: dict[str, object], expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        schedule(**changes)


def test_schedule__status_as_stored_text__accepted() -> None:
    assert schedule(status="paused").status is ScheduleStatus.PAUSED


def test_due__naive_now_or_bad_progress__precise_value_error() -> None:
    s = schedule()
    with pytest.raises(ValueError, match="now must be a timezone-aware datetime"):
        due_week(s, {}, TOTAL, datetime(2026, 3, 7, 19))
    with pytest.raises(ValueError, match="total_weeks must be a positive int"):
        due_week(s, {}, 0, london(2026, 3, 7))
    with pytest.raises(ValueError, match="keyed by week number"):
        due_week(s, {0: london(2026, 3, 7)}, TOTAL, london(2026, 3, 7))
    with pytest.raises(ValueError, match="delivery time of week 1 must be a timezone-aware"):
        due_week(s, {1: datetime(2026, 3, 7)}, TOTAL, london(2026, 3, 7))
    with pytest.raises(ValueError, match="instant must be a timezone-aware"):
        next_slot_after(s, datetime(2026, 3, 7))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("monday", 0), ("Mon", 0), (" TUE ", 1), ("wednes", 2), ("thu", 3), ("sunday", 6)],
)
def test_parse_weekday__names_and_prefixes(text: str, expected: int) -> None:
    assert parse_weekday(text) == expected


@pytest.mark.parametrize("text", ["", "t", "tu", "s", "funday", "1", "mondays"])
def test_parse_weekday__unknown__says_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="expected a day name such as 'monday' or 'mon'"):
        parse_weekday(text)


@pytest.mark.parametrize(
    ("text", "expected"), [("19:30", time(19, 30)), ("7:05", time(7, 5)), ("00:00", time(0, 0))]
)
def test_parse_time__24_hour(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "7pm", "19.30", "19:60", "", "19:3"])
def test_parse_time__bad__says_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="expected a 24-hour time HH:MM, for example '19:30'"):
        parse_time(text)


# -- properties -----------------------------------------------------------------------------------

ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "UTC",
]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

schedules = st.builds(
    lambda weekday, hour, minute, zone, start_offset: Schedule(
        "what_happened@1",
        weekday,
        time(hour, minute),
        zone,
        (EPOCH + timedelta(days=start_offset)).date(),
    ),
    st.integers(0, 6),
    # 1:00-3:00 is over-weighted: that is where DST gaps and repeats are.
    st.one_of(st.integers(0, 23), st.integers(1, 3)),
    st.sampled_from([0, 15, 30, 59]),
    st.sampled_from(ZONES),
    st.integers(0, 60),
)
instants = st.integers(0, 400 * 24 * 60).map(lambda minutes: EPOCH + timedelta(minutes=minutes))
#: Things that can happen at an instant besides a check: a group command.
actions = st.sampled_from(["check", "check", "check", "pause", "resume", "skip"])


@settings(max_examples=300, deadline=None)
@given(schedules, st.lists(instants, max_size=60))
def test_property__any_checks__never_twice_in_order_at_most_one_per_slot(
    s: Schedule, checks: list[datetime]
) -> None:
    sent: dict[int, datetime] = {}
    for now in sorted(checks):
        week = due_week(s, sent, TOTAL, now)
        if week is None:
            continue
        assert week not in sent
        assert week == len(sent) + 1
        # No burst: a slot lies between the previous delivery and this one.
        previous = max(sent.values(), default=None)
        owed = first_slot(s) if previous is None else next_slot_after(s, previous)
        assert owed.astimezone(UTC) <= now
        sent[week] = now
        assert due_week(s, sent, TOTAL, now) is None
    assert sorted(sent) == list(range(1, len(sent) + 1))


@settings(max_examples=300, deadline=None)
@given(schedules, st.lists(instants, max_size=40))
def test_property__checks_in_any_order__never_twice_always_next(
    s: Schedule, checks: list[datetime]
) -> None:
    sent: dict[int, datetime] = {}
    for now in checks:  # a clock that jumps back and forth
        week = due_week(s, sent, TOTAL, now)
        if week is not None:
            assert week not in sent
            assert week == max(sent, default=0) + 1
            sent[week] = now
    assert sorted(sent) == list(range(1, len(sent) + 1))


@settings(max_examples=300, deadline=None)
@given(schedules, st.lists(st.tuples(instants, actions), max_size=60))
def test_property__with_pause_resume_skip__never_twice_in_order(
    s: Schedule, events: list[tuple[datetime, str]]
) -> None:
    sent: dict[int, datetime] = {}
    for now, action in sorted(events):
        if action == "pause" and s.status is ScheduleStatus.ACTIVE:
            s = pause(s)
        elif action == "resume" and s.paused:
            s = resume(s, now)
        elif action == "skip" and not is_finished(sent, TOTAL):
            s = skip(s, sent, TOTAL)
        week = due_week(s, sent, TOTAL, now)
        if week is not None:
            assert week not in sent
            assert week == len(sent) + 1
            sent[week] = now
            assert due_week(s, sent, TOTAL, now) is None
        at = next_due_at(s, sent, TOTAL, now)
        assert (at is not None and at.astimezone(UTC) <= now) == (
            due_week(s, sent, TOTAL, now) is not None
        )
    assert sorted(sent) == list(range(1, len(sent) + 1)) and len(sent) <= TOTAL


@settings(max_examples=300, deadline=None)
@given(schedules, instants)
def test_property__next_slot__weekday_local_time_and_one_week_apart(
    s: Schedule, instant: datetime
) -> None:
    slot = next_slot_after(s, instant)
    assert slot.astimezone(UTC) > instant
    assert slot.astimezone(UTC) >= first_slot(s).astimezone(UTC)
    assert slot.weekday() == s.weekday
    if slot.time() != s.time:  # only when that wall time fell in a DST gap
        assert slot.utcoffset() != (slot - timedelta(days=1)).utcoffset()
    following = next_slot_after(s, slot)
    gap = following.astimezone(UTC) - slot.astimezone(UTC)
    assert timedelta(days=6, hours=21) <= gap <= timedelta(days=7, hours=3)
