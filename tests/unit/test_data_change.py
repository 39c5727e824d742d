"""Then vs now: which way each region, factor, connection and reserve moved; the paired map."""

from __future__ import annotations

from bot.data.change import compare
from bot.data.render import change_titles
from flows.engine import Answer
from scoring import build_report
from scoring.chart import functional_map_compare_png
from tests.unit.families import NOW, default_flow, family_jay


def test_compare__directions_by_threshold() -> None:
    flow = default_flow()
    then = build_report(flow, family_jay(), NOW)
    calmer = dict(family_jay()) | {
        "bs_arousal": Answer("typical"), "bs_startle": Answer("typical"),  # brainstem 50 -> 16.7
        "lb_peers": Answer("some"),  # limbic 50 -> 42.9: under 10 points, "same"
        "now_peers": Answer("strong"), "now_community": Answer("strong"),  # .5 -> .83
        "cg_respite": Answer("sometimes"),  # reserve -3 -> -2: one point
    }
    summary = compare(then, build_report(flow, calmer, NOW))
    regions = {m.id: m.direction for m in summary.regions}
    assert regions == {"brainstem": "better", "diencephalon": "same", "limbic": "same",
                       "cortex": "same"}
    assert summary.regions[0].delta is not None and summary.regions[0].delta < -30
    assert summary.relational.direction == "better"
    assert summary.reserve.direction == "better"
    assert {m.id: m.direction for m in summary.factors}["self_regulation"] == "better"


def test_compare__unknown_side__cannot_compare() -> None:
    flow = default_flow()
    then = build_report(flow, {}, NOW)
    summary = compare(then, build_report(flow, family_jay(), NOW))
    assert summary.regions[0].direction == "unknown"
    assert summary.reserve.direction == "unknown"


def test_compare_map__png() -> None:
    flow = default_flow()
    report = build_report(flow, family_jay(), NOW)
    png = functional_map_compare_png(report, report, change_titles("en", "2026-01-01",
                                                                   "2026-06-01"))
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
