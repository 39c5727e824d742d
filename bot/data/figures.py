"""Draw and write the program figures: one PNG of the main counts, inside one HTML page."""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING

from bot.data.stats import BANDS, ProgramFigures
from messages.render import say
from scoring.chart import COLOURS
from scoring.rules import Band

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HTML_LIBRARY = "data.html.j2"


def _words(name: str, **params: object) -> str:
    return say("en", HTML_LIBRARY, name, **params)


def figures_png(figures: ProgramFigures) -> bytes:
    """Three bar panels: interviews by state, drop-off by section, region bands."""
    figure = figures_figure(figures)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, facecolor="white")
    return buffer.getvalue()


def figures_figure(figures: ProgramFigures) -> Figure:
    """The three panels, drawn; a panel with nothing to count says so instead of a bare axis."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7.5, 9.5))
    FigureCanvasAgg(figure)
    states, drop, regions = figure.subplots(3, 1)
    labels = list(figures.by_state)
    states.barh(labels, [figures.by_state[s] for s in labels], color="#2F6DA8")
    states.set_title(_words("stats_chart_states"), loc="left")
    sections = list(figures.drop_off)
    drop.barh(sections, [figures.drop_off.get(s, 0) for s in sections], color="#F2C45A")
    drop.set_title(_words("stats_chart_drop_off"), loc="left")
    names = list(figures.region_bands)
    left = [0] * len(names)
    for band in BANDS:
        counts = [figures.region_bands[n][band] for n in names]
        regions.barh(names, counts, left=left, color=COLOURS[Band(band)],
                     label=_words("band", band=band))
        left = [a + b for a, b in zip(left, counts, strict=True)]
    regions.set_title(_words("stats_chart_regions"), loc="left")
    if names:
        regions.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize=8)
    counted = (
        (states, sum(figures.by_state.values())),
        (drop, sum(figures.drop_off.values())),
        (regions, sum(sum(bands.values()) for bands in figures.region_bands.values())),
    )
    for axes, total in counted:
        axes.invert_yaxis()  # first row on top, as in the tables
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts of interviews
        axes.spines[["top", "right"]].set_visible(False)
        if not total:
            # An empty bar chart draws an axis from -0.045 to 0.045: say it plainly instead.
            axes.set_axis_off()
            axes.text(0.5, 0.5, _words("stats_chart_empty"), ha="center", va="center",
                      transform=axes.transAxes, color="#555555")
    figure.tight_layout()
    return figure


def figures_html(figures: ProgramFigures, generated: datetime, *, chart: bool = True) -> str:
    """The self-contained HTML page (the chart embedded as a data: URI)."""
    from bot.reports import data_uri

    png = data_uri(figures_png(figures)) if chart else ""
    return _words("stats_report", figures=figures, chart=png,
                  generated=f"{generated:%Y-%m-%d %H:%M} UTC")
