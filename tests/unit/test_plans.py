"""The plan's pure parts: dates, typed words in either language, check-in buttons."""

from __future__ import annotations

from datetime import date

import pytest

from bot import plans
from store.plan_records import TRIED, WENT

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 25), 3, date(2027, 2, 25)),
        (date(2026, 11, 25), 6, date(2027, 5, 25)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),  # the month's last day, not March
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 12, 15), 12, date(2027, 12, 15)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert plans.add_months(day, months) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-15", date(2027, 1, 15)),
        (" 15/01/2027 ", date(2027, 1, 15)),
        ("5.2.2027", date(2027, 2, 5)),
        ("31/02/2027", None),
        ("2027-13-01", None),
        ("next week", None),
        ("", None),
    ],
)
def test_parse_day(text: str, expected: date | None) -> None:
    assert plans.parse_day(text) == expected


@pytest.mark.parametrize(
    ("day", "problem"),
    [
        (None, "review_bad_date"),
        (TODAY, "review_past"),
        (date(2026, 1, 1), "review_past"),
        (date(2026, 11, 26), None),
        (date(2028, 11, 25), None),
        (date(2029, 1, 1), "review_too_far"),
    ],
)
def test_review_problem(day: date | None, problem: str | None) -> None:
    assert plans.review_problem(day, TODAY) == problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3), ("6", 6), ("Three Months", 3), ("tres meses", 3), ("SEIS", 6),
        ("semestral", 6), ("off", None), ("Apagar", None), ("desactivar", None),
        ("7", ""), ("12", ""), ("weekly", ""), ("", ""),
    ],
)
def test_interval_named__either_language(text: str, expected: int | str | None) -> None:
    assert plans.interval_named(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("add", "add"), ("agregar", "add"), ("Añadir", "add"), ("anadir", "add"),
     ("send", "send"), ("enviar", "send"), ("revisión", "review"), ("edit", "edit"),
     ("delete", "remove"), ("quitar", "remove"), ("frobnicate", None)],
)
def test_action_named(word: str, expected: str | None) -> None:
    assert plans.action_named(word) == expected


@pytest.mark.parametrize("kind", ["t", "w"])
def test_checkin_payload__round_trip__fits_telegram(kind: str) -> None:
    values = TRIED if kind == "t" else WENT
    for value in values:
        data = plans.payload(kind, "Ab3_-xYz9QwE", 12, value)
        assert len(data.encode()) <= 64
        assert plans.decode(data) == plans.Pressed(kind, "Ab3_-xYz9QwE", 12, value)


@pytest.mark.parametrize(
    "data",
    ["pln:t:abc:1:maybe", "pln:w:abc:1:yes", "pln:t:abc:x:yes", "pln:t:abc", "pln:",
     "pln:q:a:1:yes"],
)
def test_decode__anything_else__none(data: str) -> None:
    assert plans.decode(data) is None


def test_i_dont_know__is_an_answer_of_its_own() -> None:
    # "unknown" is one of the answers a family may give, distinct from "no".
    assert "unknown" in TRIED and TRIED.index("unknown") != TRIED.index("no")
    assert plans.decode(plans.payload("t", "abc", 1, "unknown")) == plans.Pressed(
        "t", "abc", 1, "unknown")
