"""Time one interview's report: scoring, chat summary, both charts (target < 300 ms); print figures.

Run: python -m bench.bench_report [--runs 15]
The chart library's import is measured apart, in fresh interpreters, because a running
service pays it once (or never, if no report is asked for: scoring/chart.py imports lazily).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.reports import (  # noqa: E402
    age_text,
    answer_appendix,
    caregiver_summary,
    clinician_html,
    report_words,
)
from flows.engine import AgeValue, Answer, Value  # noqa: E402
from flows.loader import bundled_flow_paths, load_flow_file  # noqa: E402
from flows.schema import Flow  # noqa: E402
from scoring import build_report  # noqa: E402
from scoring.chart import functional_map_png as _map  # noqa: E402
from scoring.chart import timeline_png as _timeline  # noqa: E402
from scoring.report import Report  # noqa: E402


def functional_map_png(report: Report) -> bytes:
    """The map with the English words the report passes in."""
    return _map(report, report_words("en")["chart"], age_text(report.age, "en"))


def timeline_png(report: Report) -> bytes:
    return _timeline(report, report_words("en")["chart"])

TARGET_MS = 300.0
IMPORT_SNIPPET = (
    "import time; t = time.perf_counter(); "
    "import matplotlib.figure, matplotlib.patches, matplotlib.backends.backend_agg; "
    "print(time.perf_counter() - t)"
)


def _answers(flow: Flow) -> dict[str, Answer]:
    """A busy but realistic interview: 9 years old, three hard times, mixed functioning."""
    values: dict[str, Value] = {
        "child_name": "Sam", "child_age": AgeValue(108, 108), "respondent": "foster",
        "adv_types": ["separation", "home_violence", "neglect"],
        "upset_often": "weekly", "cg_health": "okay", "cg_sleep": "patchy", "cg_children": 3,
    }
    for category, periods in (("separation", ["infancy"]), ("home_violence", ["early"]),
                              ("neglect", ["perinatal", "infancy"])):
        values[f"adv_periods[{category}]"] = periods
        values[f"adv_severity[{category}]"] = "moderate"
        values[f"adv_pattern[{category}]"] = "now_and_then"
    ratings = ["typical", "some", "a_lot"]
    for index, prefix in enumerate(("bs_", "dc_", "lb_", "cx_")):
        for n, item in enumerate(("arousal", "sleep", "feeding", "startle")):
            values[f"{prefix}{item}"] = ratings[(index + n) % 3]
    return {k: Answer(v) for k, v in values.items() if flow.has_item(k.partition("[")[0])}


def _flow() -> Flow:
    path = next(p for p in bundled_flow_paths() if p.name == "developmental_history.yaml")
    return load_flow_file(path).flow


def _time(action: Callable[[], object], runs: int) -> list[float]:
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _fmt(times: list[float]) -> str:
    return (f"median {statistics.median(times):7.1f} ms   min {min(times):7.1f}   "
            f"max {max(times):7.1f}")


def import_times(runs: int) -> list[float]:
    """The chart library's import, each in a fresh interpreter, in milliseconds."""
    out: list[float] = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", IMPORT_SNIPPET], capture_output=True,
                              text=True, check=True, env={**os.environ, "MPLBACKEND": "Agg"})
        out.append(float(done.stdout.strip()) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"== bench_report: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} cores · "
          f"Python {platform.python_version()} · load {os.getloadavg()[0]:.1f}")
    imports = import_times(max(3, args.runs // 3))
    print(f"chart library import (fresh process)   {_fmt(imports)}")

    flow = _flow()
    given = _answers(flow)
    now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    # Warm up once: imports, font cache, template compilation (paid once per process).
    first = _time(lambda: (functional_map_png(build_report(flow, given, now)),
                           timeline_png(build_report(flow, given, now))), 1)[0]
    print(f"first report in this process (warm-up)  {first:7.1f} ms")
    report = build_report(flow, given, now)
    parts = {
        "build_report (score + recommend)": lambda: build_report(flow, given, now),
        "caregiver summary text": lambda: caregiver_summary(report),
        "functional brain map PNG": lambda: functional_map_png(report),
        "timeline PNG": lambda: timeline_png(report),
    }
    for name, action in parts.items():
        print(f"{name:<40}{_fmt(_time(action, args.runs))}")

    def one_interview() -> None:
        scored = build_report(flow, given, now)
        caregiver_summary(scored)
        functional_map_png(scored)
        timeline_png(scored)

    total = _time(one_interview, args.runs)
    verdict = "OK" if statistics.median(total) < TARGET_MS else "OVER TARGET"
    print(f"{'summary + both charts (one interview)':<40}{_fmt(total)}   "
          f"target < {TARGET_MS:.0f} ms: {verdict}")
    html = _time(lambda: clinician_html(report, answer_appendix(flow, given)), args.runs)
    print(f"{'clinician HTML incl. charts (extra)':<40}{_fmt(html)}")


if __name__ == "__main__":
    main()
