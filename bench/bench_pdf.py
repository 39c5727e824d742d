"""Time the printable report (bot/pdf.py): HTML with charts, then the PDF layout; print figures.

Run: python -m bench.bench_pdf [--runs 5]
The same busy interview as bench_report. Parts are measured interleaved in one run, so
their ratio holds on a shared, noisy machine even when the absolute figures move.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_report import _answers, _flow  # noqa: E402
from bot.pdf import render_pdf  # noqa: E402
from bot.reports import answer_appendix, clinician_html  # noqa: E402
from scoring import build_report  # noqa: E402


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _fmt(times: list[float]) -> str:
    return (f"median {statistics.median(times):8.1f} ms   min {min(times):8.1f}   "
            f"max {max(times):8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"== bench_pdf: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} cores · "
          f"Python {platform.python_version()} · load {os.getloadavg()[0]:.1f}")
    flow, now = _flow(), datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    given = _answers(flow)
    header = f"Sam · {now:%Y-%m-%d} · bench"
    start = time.perf_counter()
    html = clinician_html(build_report(flow, given, now), answer_appendix(flow, given))
    first_pdf = render_pdf(html, header=header)
    print(f"first report in this process (warm-up: fonts, imports)  {_ms(start):8.1f} ms")
    times: dict[str, list[float]] = {"html": [], "A4": [], "letter": []}
    size = 0
    for _ in range(args.runs):
        start = time.perf_counter()
        html = clinician_html(build_report(flow, given, now), answer_appendix(flow, given))
        times["html"].append(_ms(start))
        for paper in ("A4", "letter"):
            start = time.perf_counter()
            pdf = render_pdf(html, header=header, paper=paper)  # type: ignore[arg-type]
            times[paper].append(_ms(start))
            size = len(pdf)
    print(f"{'score + HTML + both charts':<38}{_fmt(times['html'])}")
    print(f"{'PDF layout, A4':<38}{_fmt(times['A4'])}")
    print(f"{'PDF layout, Letter':<38}{_fmt(times['letter'])}")
    per_report = [h + a for h, a in zip(times["html"], times["A4"], strict=True)]
    print(f"{'PDF per report (HTML + A4 layout)':<38}{_fmt(per_report)}")
    ratio = statistics.median(times["A4"]) / statistics.median(times["html"])
    print(f"layout / (score + HTML + charts): {ratio:.1f}x · last PDF {size / 1024:.0f} KiB, "
          f"first {len(first_pdf) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
