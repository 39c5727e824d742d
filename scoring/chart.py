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
    Band.MODERATE: "Moderate difficulty (!)",
    Band.SIGNIFICANT: "Significant difficulty (!!)",
    Band.UNRATED: "Not rated (?)",
}
REGION_WORDS: dict[Band, str] = {
    Band.TYPICAL: "typical overall",
    Band.MODERATE: "moderate overall",
    Band.SIGNIFICANT: "significant overall",
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
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _text(label: dict[str, str], locale: str) -> str:
    return label.get(locale) or next(iter(label.values()), "")


def _rows(functions: list[FunctionScore]) -> int:
    return max(1, -(-len(functions) // COLUMNS))


def functional_map_png(report: Report, locale: str = "en") -> bytes:
    """The functional brain map: one cell per function, brainstem at the bottom, cortex on top,
    coloured by severity, beside the map expected for the child's age (every cell typical)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    blocks = [(r, [f for f in report.functions if f.region == r.id and f.applies])
              for r in report.regions]
    blocks = [(r, fs) for r, fs in blocks if fs]
    total_rows = sum(_rows(fs) for _, fs in blocks) + 0.6 * max(0, len(blocks) - 1)
    bottom_margin, top_margin = 1.5, 1.15  # inches: legend below, titles above
    height = bottom_margin + top_margin + 0.62 * total_rows
    span = height - bottom_margin - top_margin
    figure = Figure(figsize=(7.2, height))
    now_ax = figure.add_axes((0.25, bottom_margin / height, 0.53, span / height))
    age_ax = figure.add_axes((0.81, bottom_margin / height, 0.16, span / height))
    for ax in (now_ax, age_ax):
        ax.set_xlim(0, COLUMNS)
        ax.set_ylim(0, total_rows)
        ax.axis("off")
    y = 0.0
    for region, functions in blocks:
        rows = _rows(functions)
        for index, function in enumerate(functions):
            row, col = divmod(index, COLUMNS)
            top = y + rows - row - 1
            band = function.band
            now_ax.add_patch(Rectangle((col + 0.04, top + 0.06), 0.92, 0.88,
                                       facecolor=COLOURS[band], edgecolor="white",
                                       hatch="///" if band is Band.UNRATED else None))
            now_ax.text(col + 0.5, top + 0.5, _text(function.label, locale) + MARKS[band],
                        ha="center", va="center", fontsize=8.5, color=TEXT_COLOURS[band],
                        fontweight="bold" if band is Band.SIGNIFICANT else "normal")
            age_ax.add_patch(Rectangle((col + 0.06, top + 0.1), 0.88, 0.8,
                                       facecolor=COLOURS[Band.TYPICAL], edgecolor="white"))
        label = _text(region.label, locale).replace(" & ", " &\n")
        middle = bottom_margin + (y + rows / 2) / total_rows * span
        figure.text(0.235, middle / height, label,
                    ha="right", va="bottom", fontsize=10, fontweight="bold", color="#222222")
        figure.text(0.235, middle / height - 0.04 / height, REGION_WORDS[region.band],
                    ha="right", va="top", fontsize=8.5, color="#444444")
        y += rows + 0.6
    who = report.child_name or "your child"
    figure.text(0.5, 1 - 0.32 / height, f"How {who} is doing now, by brain area",
                ha="center", va="top", fontsize=13, fontweight="bold")
    figure.text(0.515, 1 - 0.72 / height, f"Now ({report.age_text})", ha="center", va="top",
                fontsize=10)
    figure.text(0.89, 1 - 0.72 / height, "Expected\nfor age", ha="center", va="top", fontsize=10)
    figure.text(0.02, 0.9 / height, "Bottom: body basics.  Top: thinking and learning.",
                ha="left", va="center", fontsize=8.5, color="#444444")
    figure.legend(handles=[Patch(facecolor=COLOURS[b], edgecolor="#999999",
                                 hatch="///" if b is Band.UNRATED else None, label=LEGEND[b])
                           for b in Band],
                  loc="lower center", ncol=2, fontsize=8.5, frameon=False,
                  bbox_to_anchor=(0.5, 0.02 / height * 10))
    return _png(figure)


def _bar_labels(ax: Axes, xs: list[int], tops: list[float], texts: list[str]) -> None:
    for x, top, text in zip(xs, tops, texts, strict=True):
        ax.text(x, top, text, ha="center", va="bottom", fontsize=9, color="#222222")


def timeline_png(report: Report, locale: str = "en") -> bytes:
    """Adversity (stacked: threat, relational poverty) against connection, period by period."""
    from matplotlib.figure import Figure

    periods = list(report.reached_periods)
    xs = list(range(len(periods)))
    figure = Figure(figsize=(7.2, 6.4))
    top_ax, bottom_ax = figure.subplots(2, 1, sharex=True,
                                        gridspec_kw={"height_ratios": [1.15, 1]})
    adversity = [p.adversity for p in periods]
    poverty = [p.relational_poverty for p in periods]
    top_ax.bar(xs, adversity, color=ADVERSITY_COLOUR, label="Harm or threat", width=0.6)
    top_ax.bar(xs, poverty, bottom=adversity, color=POVERTY_COLOUR, width=0.6,
               label="Loss or lack of care", hatch="..", edgecolor="#8A6A10", linewidth=0)
    tops = [a + b for a, b in zip(adversity, poverty, strict=True)]
    ceiling = max([*tops, 4.0])
    top_ax.set_ylim(0, ceiling * 1.3)
    _bar_labels(top_ax, xs, [t + ceiling * 0.03 for t in tops],
                [f"risk: {p.band}" for p in periods])
    top_ax.set_ylabel("Adversity load", fontsize=10)
    figure.suptitle("Hard times and connection, age by age", fontsize=13, fontweight="bold",
                    x=0.12, ha="left", y=0.975)
    # Above the plot, not inside it: a legend inside would cover the tallest bar's label.
    top_ax.legend(fontsize=9.5, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0),
                  ncol=2, borderaxespad=0.2, handlelength=1.6)
    health = [p.relational_health for p in periods]
    values = [100 * h if h is not None else 0.0 for h in health]
    bottom_ax.bar(xs, values, color=CONNECTION_COLOUR, width=0.6)
    bottom_ax.set_title("Connection: bond, family and community support", fontsize=10.5,
                        loc="left")
    _bar_labels(bottom_ax, xs, [v + 3 for v in values],
                [f"{v:.0f}%" if h is not None else "not known"
                 for v, h in zip(values, health, strict=True)])
    bottom_ax.set_ylim(0, 118)
    bottom_ax.set_ylabel("Connection %", fontsize=10)
    bottom_ax.set_xticks(xs, [_text(p.short, locale) for p in periods], fontsize=10)
    for ax in (top_ax, bottom_ax):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=9)
        # Keep bars a sensible width when only one or two periods are reached (a baby).
        pad = max(0.6, (3 - len(periods)) / 2 + 0.6)
        ax.set_xlim(-pad, len(periods) - 1 + pad)
    figure.subplots_adjust(left=0.12, right=0.97, top=0.87, bottom=0.08, hspace=0.22)
    return _png(figure)
