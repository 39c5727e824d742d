"""Turn a scored `Report` into what people receive: the chat summary and the clinician's files."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flows.answers import decode_value
from flows.catalog import FlowCatalog
from flows.engine import AgeValue, Answer, Answers, Value, questions, split_key
from flows.schema import Flow
from messages.render import document_environment, macro
from scoring import build_report, has_rules
from scoring.chart import functional_map_png, timeline_png
from scoring.report import AGE_WORDS, Report
from store.backend import Backend
from store.contract import UnitOfWork

#: How the child is called when no nickname was given: in the summary, in the report.
CHILD_WORDS: dict[str, tuple[str, str]] = {
    "en": ("your child", "the child"),
    "es": ("su hijo o hija", "el niño o la niña"),
}
SUMMARY_TEMPLATE = "{locale}/summary.txt.j2"
CLINICIAN_TEMPLATE = "{locale}/report.html.j2"
#: Telegram refuses longer messages; the summary template is written (and tested) to fit.
TELEGRAM_LIMIT = 4096


@dataclass(frozen=True)
class AppendixRow:
    """One answered (or skipped) question, in words, for the report's appendix."""

    section: str
    key: str
    prompt: str
    answer: str


def report_locale(locale: str) -> str:
    """The locale the report is written in: `locale` if its templates exist, else English.

    A locale gets its report only once both templates exist (the rules' texts and the
    charts' words then need it too: tests/integration/test_locale_parity.py), so nobody
    gets a half-translated report.
    """
    names = set(document_environment().list_templates())
    wanted = {SUMMARY_TEMPLATE.format(locale=locale), CLINICIAN_TEMPLATE.format(locale=locale)}
    return locale if wanted <= names else "en"


def _label(text: Mapping[str, str], locale: str) -> str:
    return text.get(locale) or next(iter(text.values()), "")


def answer_text(flow: Flow, item_id: str, value: Value | None, locale: str) -> str:
    """An answer in words: option labels, an age in years and months, or "(skipped)"."""
    if value is None:
        return str(macro(locale, "values.j2", "skipped")()).strip()
    item = flow.item(item_id)
    if isinstance(value, AgeValue):
        low, high = value.min_months, value.max_months
        unit = AGE_WORDS.get(locale, AGE_WORDS["en"])
        words = (f"{low} {unit['months']}" if low == high
                 else f"{low} {unit['to']} {high} {unit['months']}")
        return f"{words} (\"{value.raw}\")" if value.raw else words
    if isinstance(value, list):
        return "; ".join(_option_label(item_id, v, flow, locale) for v in value)
    if isinstance(value, str) and item.options:
        return _option_label(item_id, value, flow, locale)
    return str(value)


def _option_label(item_id: str, value: str, flow: Flow, locale: str) -> str:
    option = flow.item(item_id).option(value)
    return _label(option.label, locale) if option is not None else value


def answer_appendix(flow: Flow, answers: Answers, locale: str = "en") -> list[AppendixRow]:
    """Every question asked, in order, with its answer in words (skipped ones included)."""
    rows: list[AppendixRow] = []
    for question in questions(flow, answers):
        if question.key not in answers:
            continue
        prompt = _label(question.item.prompt, locale)
        if question.repeat_value is not None and question.section.repeat_for is not None:
            option = flow.item(question.section.repeat_for).option(question.repeat_value)
            prompt = prompt.replace("{option}", _label(option.label, locale) if option
                                    else question.repeat_value)
        item_id, _ = split_key(question.key)
        rows.append(AppendixRow(_label(question.section.title, locale), question.key, prompt,
                                answer_text(flow, item_id, answers[question.key].value, locale)))
    return rows


def summary_context(report: Report, locale: str = "en") -> dict[str, Any]:
    """What `summary.txt.j2` needs."""
    name = report.child_name or CHILD_WORDS.get(locale, CHILD_WORDS["en"])[0]
    return {"report": report, "locale": locale, "name": name}


def caregiver_summary(report: Report, locale: str = "en") -> str:
    """The plain-text summary sent in chat (always within Telegram's 4096 characters)."""
    locale = report_locale(locale)
    template = document_environment().get_template(SUMMARY_TEMPLATE.format(locale=locale))
    text = template.render(summary_context(report, locale)).strip() + "\n"
    if len(text) > TELEGRAM_LIMIT:
        # The template is tested against a worst case; this only guards future edits.
        text = text[: TELEGRAM_LIMIT - 2].rstrip() + "…\n"
    return text


def data_uri(png: bytes) -> str:
    """A PNG as a `data:` URI, so the HTML report works offline as one file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def clinician_context(report: Report, appendix: list[AppendixRow], locale: str,
                      map_png: bytes, history_png: bytes) -> dict[str, Any]:
    """What `report.html.j2` needs."""
    name = report.child_name or CHILD_WORDS.get(locale, CHILD_WORDS["en"])[1]
    return {"report": report, "locale": locale, "name": name,
            "appendix": appendix, "map_png": data_uri(map_png),
            "timeline_png": data_uri(history_png)}


def clinician_html(report: Report, appendix: list[AppendixRow], locale: str = "en",
                   charts: tuple[bytes, bytes] | None = None) -> str:
    """The self-contained HTML report (charts drawn unless given as (map, timeline) PNGs)."""
    locale = report_locale(locale)
    map_png, history_png = charts or (functional_map_png(report, locale),
                                      timeline_png(report, locale))
    template = document_environment().get_template(CLINICIAN_TEMPLATE.format(locale=locale))
    return template.render(clinician_context(report, appendix, locale, map_png, history_png))


def write_clinician_report(report: Report, answers_appendix: list[AppendixRow],
                           folder: Path, locale: str = "en",
                           stem_suffix: str | None = None) -> list[Path]:
    """Write the HTML report and its two charts as PNG files; return the three paths."""
    locale = report_locale(locale)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{report.flow_id}-{stem_suffix or f'{report.generated_at:%Y%m%d-%H%M%S}'}"
    map_png, history_png = functional_map_png(report, locale), timeline_png(report, locale)
    html = clinician_html(report, answers_appendix, locale, (map_png, history_png))
    paths = [folder / f"{stem}.html", folder / f"{stem}-brain-map.png",
             folder / f"{stem}-timeline.png"]
    paths[0].write_text(html, encoding="utf-8")
    paths[1].write_bytes(map_png)
    paths[2].write_bytes(history_png)
    return paths


def scored_interview(repo: UnitOfWork, catalog: FlowCatalog, interview_id: str,
                     now: datetime, locale: str = "en") -> tuple[Report, list[AppendixRow]] | None:
    """Score a stored interview (inside `Store.read`); None if unknown or its flow has no rules."""
    record = repo.interviews.get(interview_id)
    if record is None or not has_rules(record.flow_id):
        return None
    flow = catalog.get(record.flow_key)
    answers: Answers = {
        key: Answer(decode_value(value) if value is not None else None, skips)
        for key, (value, skips) in repo.answers.current(interview_id).items()
    }
    return build_report(flow, answers, now), answer_appendix(flow, answers, locale)


async def write_interview_report(store: Backend, catalog: FlowCatalog, interview_id: str,
                                 folder: Path, now: datetime,
                                 locale: str = "en") -> list[Path] | None:
    """Write a stored interview's clinician report (HTML + 2 PNGs), audited as an export.

    For the operator's own tools (`hearth report`, the console): no person is asking, so no
    access check happens here; the audit event records that the operator exported it.
    """
    scored = await store.read(
        lambda repo: scored_interview(repo, catalog, interview_id, now, locale))
    if scored is None:
        return None
    report, appendix = scored
    # Drawing the charts takes a few hundred milliseconds: off the event loop.
    paths = await asyncio.to_thread(write_clinician_report, report, appendix, folder, locale,
                                    interview_id)
    await store.run(lambda repo: repo.audit.add("exported", interview_id=interview_id,
                                                person_id=None, now=now, detail="operator"))
    return paths
