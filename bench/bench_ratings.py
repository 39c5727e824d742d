"""Clinician ratings: what they add to a report and to a page, side by side; print figures.

Run: python -m bench.bench_ratings [--runs 200]
Measured in one run, interleaved: scoring without and with 10 ratings; the clinician's
HTML (charts given, not drawn) without and with its ratings section; the workspace
ratings page's step (bot/workspace_ratings.py: read, audited `viewed`, one commit) on a
SQLite file with 0 and 30 ratings.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.replies import RatingNote  # noqa: E402
from bot.reports import answer_appendix, clinician_html  # noqa: E402
from bot.workspace_ratings import ratings_view  # noqa: E402
from scoring import build_report  # noqa: E402
from scoring.ratings import functions_of  # noqa: E402
from scoring.rules import bundled_rules  # noqa: E402
from store.sqlite import Store  # noqa: E402
from tests.unit.families import NOW, default_flow, family_mia  # noqa: E402

SCALE = ("typical", "some", "a_lot")


def _ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def _page_ms(runs: int) -> tuple[float, float]:
    from flows.catalog import FlowCatalog

    catalog = FlowCatalog.bundled("developmental_history")
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "bench.db")
        try:
            flow = catalog.latest("developmental_history")

            def setup(uow):  # type: ignore[no-untyped-def]
                doc = uow.people.get_or_create("console", "doc", now=NOW)
                uow.people.set_role(doc.id, "clinician")
                record = uow.interviews.create(
                    flow_id=flow.id, flow_version=flow.version, owner_id=doc.id,
                    respondent_id=None, nickname="Mia", state="submitted", now=NOW)
                return doc.id, record.id

            doc, interview = await store.run(setup)
            times: dict[int, list[float]] = {0: [], 30: []}
            for rated in (0, 30):
                if rated:
                    def rate(uow):  # type: ignore[no-untyped-def]
                        for i, function in enumerate(functions_of(
                                bundled_rules(flow.id).scoring)):
                            uow.ratings.add(interview, function, SCALE[i % 3], "seen at a visit",
                                            by=doc, now=NOW + timedelta(seconds=i))
                    await store.run(rate)
                for _ in range(runs):
                    start = time.perf_counter()
                    await store.run(lambda uow: ratings_view(uow, catalog, doc, interview, NOW))
                    times[rated].append((time.perf_counter() - start) * 1000)
            return statistics.median(times[0]), statistics.median(times[30])
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    flow, answers = default_flow(), family_mia()
    functions = functions_of(bundled_rules(flow.id).scoring)
    ratings = {f: SCALE[i % 3] for i, f in enumerate(functions[:10])}
    notes = [RatingNote(function=f, revision=1, value=v, reason="seen at a visit", rated_by=1,
                        rated_at=datetime(2026, 11, 28, tzinfo=UTC)) for f, v in ratings.items()]
    plain, rated = build_report(flow, answers, NOW), build_report(flow, answers, NOW, ratings)
    appendix = answer_appendix(flow, answers, "en")
    charts = (b"", b"")
    figures = {}
    for _ in range(2):  # interleaved twice; the second pass is reported
        figures = {
            "scoring, no ratings": _ms(lambda: build_report(flow, answers, NOW), runs),
            "scoring, 10 ratings": _ms(lambda: build_report(flow, answers, NOW, ratings), runs),
            "clinician HTML, no ratings": _ms(
                lambda: clinician_html(plain, appendix, "en", charts, flow), runs // 4),
            "clinician HTML, 10 ratings": _ms(
                lambda: clinician_html(rated, appendix, "en", charts, flow, ratings=notes),
                runs // 4),
        }
    page0, page30 = asyncio.run(_page_ms(runs // 4))
    figures["ratings page step, 0 ratings"] = page0
    figures["ratings page step, 30 ratings"] = page30
    for name, ms in figures.items():
        print(f"{name:32} {ms:7.2f} ms (median)")
    print(f"scoring with ratings / without: "
          f"{figures['scoring, 10 ratings'] / figures['scoring, no ratings']:.2f}x")


if __name__ == "__main__":
    main()
