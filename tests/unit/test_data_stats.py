"""Program figures over a generated population, checked against figures worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.data.figures import figures_html, figures_png
from bot.data.stats import ProgramFigures, Spread, program_figures
from flows.catalog import FlowCatalog
from flows.engine import Answer
from tests.unit.data_helpers import interview
from tests.unit.families import NOW, default_flow, family_ana, family_jay, family_mia

#: The program-figures page's marker (messages/<locale>/data.html.j2): not wording.
FIGURES_PAGE = 'data-report="figures"'

CATALOG = FlowCatalog.bundled("developmental_history")


def population() -> list:  # type: ignore[type-arg]
    """Nine interviews: four sent (one a follow-up), five stopped at known places."""
    flow = default_flow()
    mia = family_mia()
    first_part = {k: a for k, a in mia.items() if k in ("child_name", "child_age", "respondent",
                                                        "living", "adv_types")}
    later = dict(mia) | {"bs_sleep": Answer("typical"), "bs_arousal": Answer("a_lot"),
                         "bs_startle": Answer("a_lot")}
    day = timedelta(days=1)
    return [
        interview(flow, mia, interview_id="A", minutes=20, created=NOW - 200 * day),
        interview(flow, family_jay(), interview_id="B", minutes=40, created=NOW - 100 * day),
        interview(flow, family_ana(), interview_id="C", minutes=60, created=NOW - 90 * day),
        interview(flow, first_part, interview_id="D", state="paused", cursor="bs_sleep",
                  updated=NOW - day),
        interview(flow, first_part, interview_id="E", state="withdrawn"),
        interview(flow, {}, interview_id="F", state="consent", consented=False,
                  updated=NOW - 30 * day),
        interview(flow, first_part, interview_id="G", state="answering", cursor="now_family",
                  updated=NOW - timedelta(hours=1)),
        interview(flow, first_part, interview_id="H", state="answering", cursor="rel_peri_bond",
                  updated=NOW - 20 * day),
        interview(flow, later, interview_id="I", minutes=10, follow_up_of="A",
                  created=NOW - 10 * day),
    ]


@pytest.fixture(scope="module")
def figures() -> ProgramFigures:
    return program_figures(CATALOG, population(), NOW)


def test_states_and_completion(figures: ProgramFigures) -> None:
    assert figures.total == 9
    assert figures.by_state == {"consent": 1, "answering": 2, "paused": 1, "review": 0,
                                "submitted": 4, "withdrawn": 1}
    # 4 sent of the 8 that consented (F never agreed).
    assert (figures.started, figures.submitted, figures.completion_rate) == (8, 4, 0.5)


def test_time_to_complete__median_and_quartiles(figures: ProgramFigures) -> None:
    # Minutes 10, 20, 40, 60: median 30; Q1 = 10 + .75 * 10; Q3 = 40 + .25 * 20.
    assert figures.minutes_to_complete == Spread(4, 10, 17.5, 30, 45, 60)


def test_drop_off__where_paused_withdrawn_abandoned_stopped(figures: ProgramFigures) -> None:
    # D paused at a brainstem question; E withdrawn after adv_types; F never consented
    # (30 days); H untouched 20 days at the first connection question; G is active (1 h).
    assert figures.drop_off == {"adversity": 1, "connection_early": 1, "consent": 1,
                                "fn_brainstem": 1}


def test_region_bands_and_spread(figures: ProgramFigures) -> None:
    # Brainstem: Mia 8.3 (sleep some), Jay 50, Ana 0, Mia later 33.3; Jay and Mia later both
    # have arousal and startle "a lot", which makes the region significant (docs/scoring.md).
    assert figures.region_bands["brainstem"] == {"typical": 2, "moderate": 0,
                                                 "significant": 2, "unrated": 0}
    # Cortex: Jay 30; Ana 10 but one significant function lifts it to moderate.
    assert figures.region_bands["cortex"]["moderate"] == 2
    # Limbic: Jay's peers and big feelings are both "a lot": significant.
    assert figures.region_bands["limbic"] == {"typical": 3, "moderate": 0,
                                              "significant": 1, "unrated": 0}
    spread = figures.region_difficulty["brainstem"]
    # Sorted 0, 8.3, 33.3, 50: median (8.3 + 33.3) / 2; Q1 .75 * 8.3; Q3 33.3 + .25 * 16.7.
    assert spread.count == 4 and spread.median == pytest.approx(20.8)
    assert spread.lower_quartile == pytest.approx(6.225)
    assert spread.upper_quartile == pytest.approx(37.475)


def test_caregiving_reserve(figures: ProgramFigures) -> None:
    # Mia 5.5 twice (reserve), Jay -3 (depleted), Ana nothing answered (unknown).
    assert figures.reserve_bands == {"reserve": 2, "stretched": 0, "depleted": 1, "unknown": 1}
    assert figures.reserve == Spread(3, -3, 1.25, 5.5, 5.5, 5.5)


def test_change_first_to_latest(figures: ProgramFigures) -> None:
    # One child (A then I): brainstem 8.3 -> 33.3, +25: harder; the rest unchanged.
    assert figures.children_followed == 1
    brainstem = figures.change["brainstem"]
    assert (brainstem.pairs, brainstem.worse, brainstem.better) == (1, 1, 0)
    assert brainstem.mean_change == pytest.approx(25.0)
    assert figures.change["limbic"].same == 1
    assert figures.change["caregiving_reserve"].same == 1


def test_html__no_ids_or_nicknames(figures: ProgramFigures) -> None:
    html = figures_html(figures, NOW, chart=False)
    assert FIGURES_PAGE in html and "50%" in html
    for secret in ("Mia", "Jay", "Ana"):
        assert secret not in html
    assert figures_png(figures).startswith(b"\x89PNG")


def test_empty_population__no_figures_no_crash() -> None:
    figures = program_figures(CATALOG, [], NOW)
    assert figures.total == 0 and figures.completion_rate is None
    assert figures.minutes_to_complete == Spread(0)
    assert FIGURES_PAGE in figures_html(figures, NOW)
