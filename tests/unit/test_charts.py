"""Charts: valid PNGs of a size a phone shows well, for a baby, a toddler and a teenager."""

from __future__ import annotations

import struct

import pytest

from bot.reports import report_words
from scoring import Report, build_report
from scoring.chart import functional_map_png as _map
from scoring.chart import timeline_png as _timeline
from tests.unit.families import NOW, age, answers, default_flow, family_ana, family_jay, family_mia

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WORDS = report_words("en")["chart"]


def functional_map_png(report: Report) -> bytes:
    return _map(report, WORDS, "8 years")


def timeline_png(report: Report) -> bytes:
    return _timeline(report, WORDS)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk (which always comes first)."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


FAMILIES = {"mia": family_mia, "jay": family_jay, "ana": family_ana,
            "baby": lambda: answers(child_name="Leo", child_age=age(1), bs_sleep="a_lot")}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_functional_map__valid_png_phone_sized(family: str) -> None:
    report = build_report(default_flow(), FAMILIES[family](), NOW)
    data = functional_map_png(report)
    width, height = png_size(data)
    assert 700 <= width <= 1400
    assert 500 <= height <= 2400
    assert 10_000 < len(data) < 1_000_000
    assert data.endswith(b"IEND\xaeB`\x82")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_timeline__valid_png_phone_sized(family: str) -> None:
    report = build_report(default_flow(), FAMILIES[family](), NOW)
    data = timeline_png(report)
    width, height = png_size(data)
    assert 700 <= width <= 1400 and 600 <= height <= 1400
    assert 10_000 < len(data) < 1_000_000


def test_functional_map__grows_with_the_functions_asked() -> None:
    baby = build_report(default_flow(), FAMILIES["baby"](), NOW)
    teen = build_report(default_flow(), family_ana(), NOW)
    assert png_size(functional_map_png(baby))[1] < png_size(functional_map_png(teen))[1]


def test_charts__same_report__same_bytes() -> None:
    report = build_report(default_flow(), family_jay(), NOW)
    assert timeline_png(report) == timeline_png(report)


def test_charts__no_answers__still_draw() -> None:
    report = build_report(default_flow(), {}, NOW)
    assert png_size(functional_map_png(report))[0] > 0
    assert png_size(timeline_png(report))[0] > 0


def test_functional_map__long_name__same_width() -> None:
    from dataclasses import replace

    report = build_report(default_flow(), family_jay(), NOW)
    long = replace(report, child_name="Maximiliana-Josephine Alexandra")
    assert png_size(functional_map_png(long)) == png_size(functional_map_png(report))
