"""A person's words on a chart are drawn as typed, never parsed as matplotlib math text."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.reports import answer_appendix, chart_pngs, clinician_html
from scoring import build_report
from scoring.text import chart_text
from tests.unit.families import NOW, default_flow, family_jay

NAMES = ["$\\frac{1}{$", "$x$", "a$b$c", "$$", "\\$5 and $6", "US$ 20", "\\", "$\\"]


@pytest.mark.parametrize("name", NAMES)
def test_chart_text__never_math_and_drawn_as_typed(name: str) -> None:
    from matplotlib import cbook

    escaped = chart_text(name)
    assert not cbook.is_math_text(escaped)
    assert escaped.replace(r"\$", "$") == name  # what matplotlib draws for plain text


@pytest.mark.parametrize("name", ["$\\frac{1}{$", "$\\sqrt{$", "$x^$"])
def test_report__math_like_nickname__charts_and_html_render(name: str) -> None:
    report = replace(build_report(default_flow(), family_jay(), NOW), child_name=name)
    assert chart_pngs(report, "en")[0][:4] == b"\x89PNG"
    html = clinician_html(report, answer_appendix(default_flow(), family_jay()))
    assert "data:image/png;base64," in html
