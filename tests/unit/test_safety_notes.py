"""What the safety net caught reaches the clinician's report: time, verdict, concern, words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.replies import SafetyNote
from bot.reports import answer_appendix, clinician_html
from scoring import build_report
from tests.unit.families import NOW, default_flow, family_mia
from tests.unit.test_report_templates import TINY_PNG

AT = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)


def report_with(notes: list[SafetyNote], locale: str = "en") -> str:
    flow = default_flow()
    given = family_mia()
    report = build_report(flow, given, NOW)
    return clinician_html(report, answer_appendix(flow, given, locale), locale,
                          charts=(TINY_PNG, TINY_PNG), flow=flow, safety=notes)


@pytest.mark.parametrize("locale", ["en", "es"])
def test_report__danger_and_disclosure__listed_with_time_and_words(locale: str) -> None:
    notes = [
        SafetyNote(at=AT, kind="danger", concern="self_harm", message="i cant go on tonight"),
        SafetyNote(at=AT, kind="disclosure", concern="violence", message="his dad hit him at 2"),
    ]
    html = report_with(notes, locale)
    assert "2026-11-25 15:30 UTC" in html
    assert "i cant go on tonight" in html and "his dad hit him at 2" in html
    assert "self harm" in html and "violence" in html
    # Each kind is labelled differently: a disclosure never reads as danger.
    without = report_with([notes[1]], locale)
    assert html.count("<li>") == without.count("<li>") + 1


def test_report__no_notes__no_section() -> None:
    assert "i cant go on" not in report_with([])
    assert report_with([]).count('class="urgent"') < report_with(
        [SafetyNote(at=AT, kind="danger", message="x")]
    ).count('class="urgent"')


def test_report__words_are_escaped() -> None:
    html = report_with([SafetyNote(at=AT, kind="danger", message="<script>alert(1)</script>")])
    assert "<script>alert" not in html and "&lt;script&gt;" in html
