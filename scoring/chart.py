"""Draw the report's pictures as PNG bytes: the functional brain map and the history timeline."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from scoring.report import FunctionScore, Report
from scoring.rules import Band

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Colour-blind-safe and ordered in lightness too (amber lightest, dark red darkest), so the
# map still reads in greyscale or for a viewer who cannot tell hues apart. Each cell also
# carries a mark ("!" / "!!") so colour is never the only cue.
COLOURS: dict[Band, str] = {
    Band.TYPICAL: "#6CA6D9",
    Band.MODERATE: "#F2C45A",
    Band.SIGNIFICANT: "#A5182B",
    Band.UNRATED: "#E6E6E6",
}
TEXT_COLOURS: dict[Band, str] = {
    Band.TYPICAL: "#10243A",
    Band.MODERATE: "#3A2A00",
    Band.SIGNIFICANT: "#FFFFFF",
    Band.UNRATED: "#444444",
}
MARKS: dict[Band, str] = {Band.TYPICAL: "", Band.MODERATE: " !", Band.SIGNIFICANT: " !!",
                          Band.UNRATED: " ?"}
LEGEND: dict[Band, str] = {
    Band.TYPICAL: "Typical for age",
    Band.MODERATE: "Moderate (!)",
    Band.SIGNIFICANT: "Significant (!!)",
    Band.UNRATED: "Not rated (?)",
}
REGION_WORDS: dict[Band, str] = {
    Band.TYPICAL: "typical overall",
    Band.MODERATE: "moderate overall (!)",
    Band.SIGNIFICANT: "significant overall (!!)",
    Band.UNRATED: "not rated",
}
ADVERSITY_COLOUR = "#A5182B"
POVERTY_COLOUR = "#F2C45A"
CONNECTION_COLOUR = "#2F6DA8"
COLUMNS = 3
DPI = 150


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    # The object-oriented Agg canvas: no pyplot, no global backend switch, no display needed.
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    # Light compression: a third faster to encode for ~15% more bytes (about 120 KB).
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white",
                   pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _text(label: dict[str, str], locale: str) -> str:
    return label.get(locale) or next(iter(label.values()), "")


def _rows(functions: list[FunctionScore]) -> int:
    return max(1, -(-len(functions) // COLUMNS))


# Layout of the map in inches: phone-width figure, text about 3% of the width.
MAP_WIDTH = 5.4
CELL_H, ROW_PITCH, HEADER_H, BLOCK_GAP = 0.42, 0.48, 0.34, 0.14
NOW_X, NOW_W = 0.12, 3.95
AGE_X, AGE_W = 4.3, 0.98
LEGEND_H, TITLE_H = 1.12, 0.85


def functional_map_png(report: Report, locale: str = "en") -> bytes:
    """The functional brain map: one cell per function, brainstem at the bottom, cortex on top,
    coloured by severity, beside the map expected for the child's age (every cell typical)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    blocks = [(r, [f for f in report.functions if f.region == r.id and f.applies])
              for r in report.regions]
    blocks = [(r, fs) for r, fs in blocks if fs]
    body = sum(HEADER_H + ROW_PITCH * _rows(fs) + BLOCK_GAP for _, fs in blocks)
    height = LEGEND_H + body + TITLE_H
    figure = Figure(figsize=(MAP_WIDTH, height))
    # One axes in inch coordinates over the whole figure: few artists, exact placement.
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, MAP_WIDTH)
    ax.set_ylim(0, height)
    ax.axis("off")
    cell_w, age_w = NOW_W / COLUMNS, AGE_W / COLUMNS
    y = LEGEND_H
    for region, functions in blocks:  # bottom-up: brainstem first, drawn lowest
        rows = _rows(functions)
        for index, function in enumerate(functions):
            row, col = divmod(index, COLUMNS)
            bottom = y + (rows - row - 1) * ROW_PITCH
            band = function.band
            ax.add_patch(Rectangle((NOW_X + col * cell_w + 0.03, bottom), cell_w - 0.06, CELL_H,
                                   facecolor=COLOURS[band], edgecolor="white", linewidth=0,
                                   hatch="///" if band is Band.UNRATED else None))
            ax.text(NOW_X + (col + 0.5) * cell_w, bottom + CELL_H / 2,
                    _text(function.label, locale) + MARKS[band], ha="center", va="center",
                    fontsize=9, color=TEXT_COLOURS[band],
                    fontweight="bold" if band is Band.SIGNIFICANT else "normal")
            ax.add_patch(Rectangle((AGE_X + col * age_w + 0.03, bottom), age_w - 0.06, CELL_H,
                                   facecolor=COLOURS[Band.TYPICAL], linewidth=0))
        header = y + rows * ROW_PITCH + 0.04
        ax.text(NOW_X + 0.03, header, _text(region.label, locale), ha="left", va="bottom",
                fontsize=10, fontweight="bold", color="#1d2530")
        ax.text(NOW_X + NOW_W - 0.03, header, REGION_WORDS[region.band], ha="right",
                va="bottom", fontsize=9, color="#3b4552")
        y += rows * ROW_PITCH + HEADER_H + BLOCK_GAP
    who = report.child_name or "your child"
    if len(who) > 18:  # a 40-character nickname would run off a phone-width title
        who = who[:17].rstrip() + "…"
    ax.text(MAP_WIDTH / 2, height - 0.22, f"How {who} is doing now", ha="center", va="top",
            fontsize=12.5, fontweight="bold")
    ax.text(NOW_X + NOW_W / 2, height - 0.58, f"Now, age {report.age_text}", ha="center",
            va="top", fontsize=9.5, color="#3b4552")
    ax.text(AGE_X + AGE_W / 2, height - 0.58, "Expected", ha="center", va="top", fontsize=9.5,
            color="#3b4552")
    for index, band in enumerate(Band):
        row, col = divmod(index, 2)
        x, base = 0.15 + col * 2.65, LEGEND_H - 0.52 - row * 0.26
        ax.add_patch(Rectangle((x, base), 0.28, 0.18, facecolor=COLOURS[band],
                               edgecolor="#999999", linewidth=0.5,
                               hatch="///" if band is Band.UNRATED else None))
        ax.text(x + 0.36, base + 0.09, LEGEND[band], ha="left", va="center", fontsize=8.5)
    ax.text(0.15, LEGEND_H - 0.2, "Bottom: body basics. Top: thinking and learning.",
            ha="left", va="center", fontsize=8.5, color="#3b4552")
    return _png(figure)


def _bar_labels(ax: Axes, xs: list[int], tops: list[float], texts: list[str]) -> None:
    for x, top, text in zip(xs, tops, texts, strict=True):
        ax.text(x, top, text, ha="center", va="bottom", fontsize=9, color="#222222")


def timeline_png(report: Report, locale: str = "en") -> bytes:
    """Adversity (stacked: threat, relational poverty) against connection, period by period."""
    from matplotlib.figure import Figure

    periods = list(report.reached_periods)
    xs = list(range(len(periods)))
    figure = Figure(figsize=(MAP_WIDTH, 5.8))
    top_ax, bottom_ax = figure.subplots(2, 1, sharex=True,
                                        gridspec_kw={"height_ratios": [1.15, 1]})
    adversity = [p.adversity for p in periods]
    poverty = [p.relational_poverty for p in periods]
    top_ax.bar(xs, adversity, color=ADVERSITY_COLOUR, label="Harm or threat", width=0.62)
    top_ax.bar(xs, poverty, bottom=adversity, color=POVERTY_COLOUR, width=0.62,
               label="Loss or lack of care", hatch="..", edgecolor="#8A6A10", linewidth=0)
    tops = [a + b for a, b in zip(adversity, poverty, strict=True)]
    ceiling = max([*tops, 4.0])
    top_ax.set_ylim(0, ceiling * 1.25)
    _bar_labels(top_ax, xs, [t + ceiling * 0.03 for t in tops], [p.band for p in periods])
    top_ax.set_ylabel("Hard times", fontsize=10)
    figure.suptitle("Hard times and connection, by age", fontsize=12.5, fontweight="bold",
                    x=0.03, ha="left", y=0.985)
    figure.text(0.03, 0.925, "Word above each bar: weighted risk for that age.",
                fontsize=9, color="#3b4552", ha="left")
    # Above the plot, not inside it: a legend inside would cover the tallest bar's label.
    top_ax.legend(fontsize=9, frameon=False, loc="lower left", bbox_to_anchor=(-0.02, 1.0),
                  ncol=2, borderaxespad=0.1, handlelength=1.4, columnspacing=1.0)
    health = [p.relational_health for p in periods]
    values = [100 * h if h is not None else 0.0 for h in health]
    bottom_ax.bar(xs, values, color=CONNECTION_COLOUR, width=0.62)
    _bar_labels(bottom_ax, xs, [v + 3 for v in values],
                [f"{v:.0f}%" if h is not None else "not known"
                 for v, h in zip(values, health, strict=True)])
    bottom_ax.set_ylim(0, 118)
    bottom_ax.set_yticks([0, 50, 100])
    bottom_ax.set_ylabel("Connection %", fontsize=10)
    bottom_ax.set_title("Connection: bond, family, community", fontsize=10, loc="left")
    bottom_ax.set_xticks(xs, [_text(p.short, locale) for p in periods], fontsize=9.5)
    for ax in (top_ax, bottom_ax):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=9)
        # Keep bars a sensible width when only one or two periods are reached (a baby).
        pad = max(0.6, (3 - len(periods)) / 2 + 0.6)
        ax.set_xlim(-pad, len(periods) - 1 + pad)
    figure.subplots_adjust(left=0.15, right=0.98, top=0.83, bottom=0.07, hspace=0.25)
    return _png(figure)
