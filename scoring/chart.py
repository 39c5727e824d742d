"""Draw the report's pictures as PNG bytes: the functional brain map and the history timeline."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from scoring.report import FunctionScore, Report
from scoring.rules import Band
from scoring.text import chart_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

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
#: The chart's own words ("Typical for age", "Weighted risk" ...) are passed in by the
#: caller (bot/reports.py reads them from messages/<locale>/report_words.yaml): scoring/
#: holds no sentence. Function, region and period labels come from the rules.
ChartWords = Mapping[str, str]


def _risk_word(band: str, words: ChartWords) -> str:
    return words.get("band_moderate" if band == "moderate" else band, band)


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


class _InchCanvas:
    """Patches and text placed on a figure in inches from its bottom-left corner."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure

    def add_patch(self, patch: Patch) -> None:
        patch.set_transform(self.figure.dpi_scale_trans)
        self.figure.add_artist(patch)

    def text(self, x: float, y: float, text: str, **style: Any) -> None:
        self.figure.text(x, y, text, transform=self.figure.dpi_scale_trans, **style)


def functional_map_png(report: Report, words: ChartWords, age_text: str,
                       locale: str = "en") -> bytes:
    """The functional brain map: one cell per function, brainstem at the bottom, cortex on top,
    coloured by severity, beside the map expected for the child's age (every cell typical).

    `words` are the chart's words in `locale`, `age_text` the child's age in words.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    blocks = [(r, [f for f in report.functions if f.region == r.id and f.applies])
              for r in report.regions]
    blocks = [(r, fs) for r, fs in blocks if fs]
    body = sum(HEADER_H + ROW_PITCH * _rows(fs) + BLOCK_GAP for _, fs in blocks)
    height = LEGEND_H + body + TITLE_H
    figure = Figure(figsize=(MAP_WIDTH, height))
    # Drawn straight onto the figure in inches: no axes, so none of their ticks to build
    # (a third of the drawing time), and placement is exact.
    ax = _InchCanvas(figure)
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
        ax.text(NOW_X + NOW_W - 0.03, header, words[f"region_{region.band.value}"], ha="right",
                va="bottom", fontsize=9, color="#3b4552")
        y += rows * ROW_PITCH + HEADER_H + BLOCK_GAP
    who = report.child_name or words["your_child"]
    if len(who) > 18:  # a 40-character nickname would run off a phone-width title
        who = who[:17].rstrip() + "…"
    ax.text(MAP_WIDTH / 2, height - 0.22, words["map_title"].format(who=chart_text(who)),
            ha="center", va="top", fontsize=12.5, fontweight="bold")
    ax.text(NOW_X + NOW_W / 2, height - 0.58, words["now_age"].format(age=age_text),
            ha="center", va="top", fontsize=9.5, color="#3b4552")
    ax.text(AGE_X + AGE_W / 2, height - 0.58, words["expected"], ha="center", va="top",
            fontsize=9.5, color="#3b4552")
    for index, band in enumerate(Band):
        row, col = divmod(index, 2)
        x, base = 0.15 + col * 2.65, LEGEND_H - 0.52 - row * 0.26
        ax.add_patch(Rectangle((x, base), 0.28, 0.18, facecolor=COLOURS[band],
                               edgecolor="#999999", linewidth=0.5,
                               hatch="///" if band is Band.UNRATED else None))
        ax.text(x + 0.36, base + 0.09, words[band.value], ha="left", va="center", fontsize=8.5)
    ax.text(0.15, LEGEND_H - 0.2, words["map_note"], ha="left", va="center", fontsize=8.5,
            color="#3b4552")
    return _png(figure)


TIMELINE_HEIGHT = 5.6
PLOT_X, PLOT_W = 0.8, 4.4  # inches: y labels on the left
HARD_BASE, HARD_H = 3.0, 1.5
LINK_BASE, LINK_H = 0.65, 1.6


def _nice_ceiling(value: float) -> float:
    for step in (4, 6, 8, 10, 15, 20, 30, 40, 60, 80, 100):
        if value <= step:
            return float(step)
    return float(-(-value // 50) * 50)


RISK_COLOURS = {"low": COLOURS[Band.TYPICAL], "moderate": COLOURS[Band.MODERATE],
                "high": COLOURS[Band.SIGNIFICANT]}


def timeline_bars(report: Report) -> list[float]:
    """The height of each period's bar: its weighted risk, the number the report's text
    gives (not the unweighted load, whose tallest bar can be another period)."""
    return [p.risk for p in report.reached_periods]


def timeline_png(report: Report, words: ChartWords, locale: str = "en") -> bytes:
    """Weighted risk per period reached (the number the report's text gives, coloured by its
    band) over a panel of connection per period; "not known" where most was not known."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    periods = list(report.reached_periods)
    figure = Figure(figsize=(MAP_WIDTH, TIMELINE_HEIGHT))
    # Drawn in inches without axes, like the map: a bar chart this simple needs no tick
    # machinery, and skipping it halves the drawing time.
    canvas = _InchCanvas(figure)
    slot = PLOT_W / max(len(periods), 3)
    first = PLOT_X + (PLOT_W - slot * len(periods)) / 2
    bar_w = slot * 0.62
    ceiling = _nice_ceiling(max([*timeline_bars(report), 4.0]) * 1.15)

    def grid(base: float, height: float, ticks: list[tuple[float, str]], title: str) -> None:
        for fraction, label in ticks:
            y = base + fraction * height
            canvas.add_patch(Rectangle((PLOT_X, y), PLOT_W, 0.008 if fraction else 0.014,
                                       facecolor="#9aa3ad" if fraction else "#333333",
                                       linewidth=0))
            canvas.text(PLOT_X - 0.08, y, label, ha="right", va="center", fontsize=9,
                        color="#3b4552")
        canvas.text(0.18, base + height / 2, title, ha="center", va="center", fontsize=10,
                    rotation=90)

    grid(HARD_BASE, HARD_H, [(0, "0"), (0.5, f"{ceiling / 2:g}"), (1, f"{ceiling:g}")],
         words["risk_axis"])
    grid(LINK_BASE, LINK_H, [(0, "0"), (0.5, "50"), (1, "100")], words["connection_axis"])
    for index, (period, value) in enumerate(zip(periods, timeline_bars(report), strict=True)):
        x = first + index * slot + (slot - bar_w) / 2
        centre = x + bar_w / 2
        height = HARD_H * value / ceiling
        if height:
            canvas.add_patch(Rectangle((x, HARD_BASE), bar_w, height,
                                       facecolor=RISK_COLOURS.get(period.band, "#999999"),
                                       hatch="//" if period.unknown_timing else None,
                                       edgecolor="#555555", linewidth=0))
        mark = " ?" if period.unknown_timing else ""
        canvas.text(centre, HARD_BASE + height + 0.05, _risk_word(period.band, words) + mark,
                    ha="center", va="bottom", fontsize=9.5,
                    fontweight="bold" if period.band == "high" else "normal")
        health = period.shown_health
        shown = health is not None
        bar = LINK_H * (health or 0.0)
        if bar:
            canvas.add_patch(Rectangle((x, LINK_BASE), bar_w, bar,
                                       facecolor=CONNECTION_COLOUR, linewidth=0))
        canvas.text(centre, LINK_BASE + bar + 0.05,
                    f"{100 * (health or 0):.0f}%" if shown else words["not_known"],
                    ha="center", va="bottom", fontsize=9.5)
        canvas.text(centre, LINK_BASE - 0.1, _text(period.short, locale), ha="center",
                    va="top", fontsize=9.5)
    canvas.text(0.15, TIMELINE_HEIGHT - 0.15, words["timeline_title"],
                ha="left", va="top", fontsize=12.5, fontweight="bold")
    canvas.text(0.15, TIMELINE_HEIGHT - 0.5, words["timeline_note"],
                ha="left", va="top", fontsize=8, color="#3b4552")
    for offset, band in ((0.0, "low"), (1.3, "moderate"), (2.6, "high")):
        canvas.add_patch(Rectangle((PLOT_X + offset, 4.66), 0.26, 0.16,
                                   facecolor=RISK_COLOURS[band], linewidth=0))
        canvas.text(PLOT_X + offset + 0.34, 4.74, _risk_word(band, words), ha="left",
                    va="center", fontsize=9.5)
    canvas.text(PLOT_X, LINK_BASE + LINK_H + 0.3, words["connection_note"],
                ha="left", va="bottom", fontsize=9)
    return _png(figure)


# Layout of the then/now map in inches: one row per function, two cells side by side.
PAIR_LABEL_W, PAIR_CELL_W, PAIR_ROW = 2.3, 1.35, 0.34


def functional_map_compare_png(then: Report, now: Report, titles: dict[str, str],
                               locale: str = "en") -> bytes:
    """Two functional maps side by side, one row per function: then (left), now (right).

    `titles` holds the words (the caller renders them from messages/): "title", "then",
    "now", and one per band ("typical", "moderate", "significant", "unrated").
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    earlier = {f.item_id: f for f in then.functions}
    blocks: list[tuple[str, list[tuple[FunctionScore | None, FunctionScore]]]] = []
    for region in now.regions:
        pairs = [(earlier.get(f.item_id), f) for f in now.functions
                 if f.region == region.id and (f.applies or
                                              (earlier.get(f.item_id) is not None
                                               and earlier[f.item_id].applies))]
        if pairs:
            blocks.append((_text(region.label, locale), pairs))
    body = sum(HEADER_H + PAIR_ROW * len(pairs) + BLOCK_GAP for _, pairs in blocks)
    height = LEGEND_H + body + TITLE_H
    figure = Figure(figsize=(MAP_WIDTH, height))
    canvas = _InchCanvas(figure)
    then_x = 0.12 + PAIR_LABEL_W
    now_x = then_x + PAIR_CELL_W + 0.1
    y = LEGEND_H
    for label, pairs in blocks:  # bottom-up, as in the single map
        for index, (before, after) in enumerate(reversed(pairs)):
            bottom = y + index * PAIR_ROW
            canvas.text(0.15, bottom + PAIR_ROW / 2 - 0.02, _text(after.label, locale),
                        ha="left", va="center", fontsize=8.5)
            for x, score in ((then_x, before), (now_x, after)):
                band = score.band if score is not None and score.applies else Band.UNRATED
                canvas.add_patch(Rectangle((x, bottom), PAIR_CELL_W, PAIR_ROW - 0.05,
                                           facecolor=COLOURS[band], linewidth=0,
                                           hatch="///" if band is Band.UNRATED else None))
                canvas.text(x + PAIR_CELL_W / 2, bottom + PAIR_ROW / 2 - 0.02,
                            titles[band.value] + MARKS[band], ha="center", va="center",
                            fontsize=7.5, color=TEXT_COLOURS[band])
        header = y + len(pairs) * PAIR_ROW + 0.04
        canvas.text(0.15, header, label, ha="left", va="bottom", fontsize=10,
                    fontweight="bold", color="#1d2530")
        y += len(pairs) * PAIR_ROW + HEADER_H + BLOCK_GAP
    canvas.text(MAP_WIDTH / 2, height - 0.22, titles["title"], ha="center", va="top",
                fontsize=12.5, fontweight="bold")
    for x, word in ((then_x, titles["then"]), (now_x, titles["now"])):
        canvas.text(x + PAIR_CELL_W / 2, height - 0.58, word, ha="center", va="top",
                    fontsize=9.5, color="#3b4552")
    for index, band in enumerate(Band):
        row, col = divmod(index, 2)
        x, base = 0.15 + col * 2.65, LEGEND_H - 0.52 - row * 0.26
        canvas.add_patch(Rectangle((x, base), 0.28, 0.18, facecolor=COLOURS[band],
                                   edgecolor="#999999", linewidth=0.5,
                                   hatch="///" if band is Band.UNRATED else None))
        canvas.text(x + 0.36, base + 0.09, titles[band.value] + MARKS[band], ha="left",
                    va="center", fontsize=8.5)
    return _png(figure)
