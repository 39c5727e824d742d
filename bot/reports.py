"""Turn a scored `Report` into what people receive: the chat summary and the clinician's files."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.data.load import current_answers
from bot.files import private_folder, write_private
from bot.informant_report import informant_section
from bot.rating_report import ratings_section
from bot.replies import InformantForm, RatingNote, SafetyNote
from bot.reporting import current_ratings, informant_forms, rating_notes, safety_notes
from flows.catalog import FlowCatalog
from flows.engine import AgeValue, Answers, Value, questions, split_key
from flows.schema import Flow
from messages.render import LOCALES, document_environment, messages_dir, say
from scoring import build_report, has_rules
from scoring.chart import functional_map_png, timeline_png
from scoring.report import Recommendation, Report
from scoring.rules import bundled_rules
from store.backend import Backend
from store.contract import UnitOfWork

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


@lru_cache(maxsize=4)
def report_words(locale: str) -> dict[str, dict[str, str]]:
    """The words reports and charts are drawn with (messages/<locale>/report_words.yaml)."""
    chosen = locale if locale in LOCALES else "en"
    path = messages_dir() / chosen / "report_words.yaml"
    loaded: dict[str, dict[str, str]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def age_text(age: AgeValue | None, locale: str) -> str:
    """An age as people say it ("6 years 4 months", "3 to 4 years"): the one way reports
    and charts write it."""
    return say(locale, "values.j2", "age_span", age=age)


def answer_text(flow: Flow, item_id: str, value: Value | None, locale: str) -> str:
    """An answer in words: option labels, an age in years and months, or "(skipped)"."""
    if value is None:
        return say(locale, "values.j2", "skipped")
    item = flow.item(item_id)
    if isinstance(value, AgeValue):
        words = age_text(value, locale)
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


@lru_cache(maxsize=8)
def _bundled_flow(flow_id: str, version: int) -> Flow | None:
    catalog = FlowCatalog.bundled(flow_id)
    key = f"{flow_id}@{version}"
    return catalog.get(key) if key in catalog.flows else None


def _options(flow: Flow | None, item_id: str | None, values: tuple[str, ...] | str | None,
             locale: str) -> list[str]:
    """Option values of one item in words (the flow's labels)."""
    if values is None or item_id is None:
        return []
    chosen = (values,) if isinstance(values, str) else values
    if flow is None or not flow.has_item(item_id):
        return list(chosen)
    return [_option_label(item_id, v, flow, locale) for v in chosen]


def _option(flow: Flow | None, item_id: str | None, value: str | None,
            locale: str) -> str | None:
    """One option value in words, or None when not given."""
    words = _options(flow, item_id, value, locale)
    return words[0] if words else None


def _builds_on(report: Report, flow: Flow | None, locale: str) -> dict[str, list[str]]:
    items = bundled_rules(report.flow_id).scoring.items
    return {rec.id: _options(flow, items.strengths, rec.builds_on, locale)
            for rec in report.recommendations}


def _family_steps(report: Report) -> tuple[list[Recommendation], list[Recommendation]]:
    """What the family tries at home, in order; and what to ask a professional about."""
    asks = [r for r in report.recommendations if r.stage in ("safety", "referral")]
    steps = [r for r in report.recommendations if r.stage not in ("safety", "referral")]
    return steps, asks


def summary_context(report: Report, locale: str = "en",
                    flow: Flow | None = None) -> dict[str, Any]:
    """What `summary.txt.j2` needs."""
    words = report_words(locale)
    flow = flow or _bundled_flow(report.flow_id, report.flow_version)
    items = bundled_rules(report.flow_id).scoring.items
    name = report.child_name or words["child"]["summary"]
    steps, asks = _family_steps(report)
    return {"report": report, "locale": locale, "name": name, "steps": steps, "asks": asks,
            "strengths": _options(flow, items.strengths, report.strengths, locale),
            "builds_on": _builds_on(report, flow, locale),
            "note": report.family_note}


def caregiver_summary(report: Report, locale: str = "en", flow: Flow | None = None) -> str:
    """The plain-text summary sent in chat (always within Telegram's 4096 characters)."""
    locale = report_locale(locale)
    template = document_environment().get_template(SUMMARY_TEMPLATE.format(locale=locale))
    text = template.render(summary_context(report, locale, flow)).strip() + "\n"
    if len(text) > TELEGRAM_LIMIT:
        # The template is tested against a worst case; this only guards future edits.
        text = text[: TELEGRAM_LIMIT - 2].rstrip() + "…\n"
    return text


def data_uri(png: bytes) -> str:
    """A PNG as a `data:` URI, so the HTML report works offline as one file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def chart_pngs(report: Report, locale: str) -> tuple[bytes, bytes]:
    """The functional brain map and the timeline, drawn with the locale's words."""
    words = report_words(locale)["chart"]
    return (functional_map_png(report, words, age_text(report.age, locale), locale),
            timeline_png(report, words, locale))


def _trigger_words(trigger: str, report: Report, flow: Flow | None,
                   rows: Mapping[str, AppendixRow], locale: str) -> str:
    """One thing a recommendation rests on, as a clinician reads it: the question and its
    answer, or the score in words (never an internal id)."""
    words = report_words(locale)["scores"]
    if trigger in rows:
        row = rows[trigger]
        return f"{row.prompt} — {row.answer}"
    kind, _, rest = trigger.partition(":")
    if kind == "score":
        head, _, detail = rest.partition(".")
        if head == "region":
            region = next((r for r in report.regions if r.id == detail), None)
            if region is not None:
                return f"{words['region']}: {_label(region.label, locale)} ({region.band.value})"
        if head == "risk" and detail:
            period = next((p for p in report.periods if p.period == detail), None)
            if period is not None:
                return f"{words['risk']}: {_label(period.label, locale)} ({period.band})"
        if head == "experience" and detail:
            items = bundled_rules(report.flow_id).scoring.adversity.item
            return f"{words['experience']}: {', '.join(_options(flow, items, detail, locale))}"
        if head in words:
            return words[head]
    if kind == "recommendation":
        return ""
    return trigger  # an answer the appendix does not hold (not asked): shown as is


def clinician_context(report: Report, appendix: list[AppendixRow], locale: str,
                      map_png: bytes, history_png: bytes,
                      flow: Flow | None = None) -> dict[str, Any]:
    """What `report.html.j2` needs."""
    words = report_words(locale)
    flow = flow or _bundled_flow(report.flow_id, report.flow_version)
    items = bundled_rules(report.flow_id).scoring.items
    rows = {row.key: row for row in appendix}
    name = report.child_name or words["child"]["report"]
    triggers = {rec.id: [t for t in (_trigger_words(k, report, flow, rows, locale)
                                     for k in rec.triggered_by) if t]
                for rec in report.recommendations}
    facts = [rows[key] for key in ("respondent", "living", "child_gender", "home_language",
                                   "custody", "day_place", "diagnoses") if key in rows]
    scoring_rules = bundled_rules(report.flow_id).scoring
    state = rows.get(scoring_rules.functioning.state_item)
    a = scoring_rules.adversity
    experiences = [{
        "entry": e,
        "when": [_label(p.short, locale) for p in report.periods if p.period in e.periods],
        "severity": _option(flow, a.severity_item, e.severity, locale),
        "pattern": _option(flow, a.pattern_item, e.pattern, locale),
        "control": _option(flow, a.predictability_item, e.predictability, locale),
    } for e in report.adversities]
    strained = [rows[k].prompt if k in rows else k for k in report.caregiving.strained_items]
    steps, asks = _family_steps(report)
    return {"report": report, "locale": locale, "name": name, "age": age_text(report.age, locale),
            "appendix": appendix, "map_png": data_uri(map_png),
            "timeline_png": data_uri(history_png), "triggers": triggers, "facts": facts,
            "state": state.answer if state is not None else None,
            "respondent": rows["respondent"].answer if "respondent" in rows else None,
            "urgent": _options(flow, items.urgent, report.urgent, locale),
            "stress_signs": _options(flow, items.stress_signs, report.stress_signs, locale),
            "helpers": _options(flow, items.helpers, report.helpers, locale),
            "helpers_rating": _option(flow, items.helpers_rating, report.helpers_rating, locale),
            "helpers_often": _option(flow, items.helpers_often, report.helpers_often, locale),
            "strengths": _options(flow, items.strengths, report.strengths, locale),
            "builds_on": _builds_on(report, flow, locale),
            "steps": steps, "asks": asks, "experiences": experiences, "strained": strained,
            "note": report.family_note, "safety": [], "informants": None, "ratings": None}


def clinician_html(report: Report, appendix: list[AppendixRow], locale: str = "en",
                   charts: tuple[bytes, bytes] | None = None, flow: Flow | None = None,
                   safety: Sequence[SafetyNote] = (),
                   informants: Sequence[InformantForm] = (),
                   ratings: Sequence[RatingNote] = ()) -> str:
    """The self-contained HTML report (charts drawn unless given as (map, timeline) PNGs),
    with what the safety net caught (`safety`) at the top, the second informants' views
    beside the family's (`informants`), and the clinician's `ratings` (the report must
    have been built with them: bot/ratings.py `current`)."""
    locale = report_locale(locale)
    map_png, history_png = charts or chart_pngs(report, locale)
    template = document_environment().get_template(CLINICIAN_TEMPLATE.format(locale=locale))
    context = clinician_context(report, appendix, locale, map_png, history_png, flow)
    context["safety"] = [
        {"at": f"{note.at:%Y-%m-%d %H:%M} UTC", "kind": note.kind,
         "concern": note.concern, "message": note.message}
        for note in safety
    ]
    context["informants"] = informant_section(report, informants, locale)
    context["ratings"] = ratings_section(report, informants, ratings, locale)
    return template.render(context)


def write_clinician_report(report: Report, answers_appendix: list[AppendixRow],
                           folder: Path, locale: str = "en",
                           stem_suffix: str | None = None,
                           safety: Sequence[SafetyNote] = (),
                           informants: Sequence[InformantForm] = (),
                           ratings: Sequence[RatingNote] = ()) -> list[Path]:
    """Write the HTML report and its two charts as PNG files; return the three paths.

    Each file is 0600 and a folder made for them 0700, whatever the umask (bot/files.py).
    """
    locale = report_locale(locale)
    private_folder(folder)
    stem = f"{report.flow_id}-{stem_suffix or f'{report.generated_at:%Y%m%d-%H%M%S}'}"
    map_png, history_png = chart_pngs(report, locale)
    html = clinician_html(report, answers_appendix, locale, (map_png, history_png),
                          safety=safety, informants=informants, ratings=ratings)
    paths = [folder / f"{stem}.html", folder / f"{stem}-brain-map.png",
             folder / f"{stem}-timeline.png"]
    write_private(paths[0], html.encode("utf-8"))
    write_private(paths[1], map_png)
    write_private(paths[2], history_png)
    return paths


def scored_interview(repo: UnitOfWork, catalog: FlowCatalog, interview_id: str,
                     now: datetime, locale: str = "en") -> tuple[Report, list[AppendixRow]] | None:
    """Score a stored interview (inside `Store.read`); None if unknown or its flow has no rules."""
    record = repo.interviews.get(interview_id)
    if record is None or not has_rules(record.flow_id):
        return None
    flow = catalog.get(record.flow_key)
    answers = current_answers(repo, interview_id)
    ratings = current_ratings(rating_notes(repo, interview_id))
    return build_report(flow, answers, now, ratings), answer_appendix(flow, answers, locale)


def _informant_forms(repo: UnitOfWork, catalog: FlowCatalog,
                     interview_id: str) -> list[InformantForm]:
    record = repo.interviews.get(interview_id)
    return informant_forms(repo, catalog, record) if record is not None else []


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
    notes = await store.read(lambda repo: safety_notes(repo, interview_id))
    forms = await store.read(lambda repo: _informant_forms(repo, catalog, interview_id))
    ratings = await store.read(lambda repo: rating_notes(repo, interview_id))
    # Drawing the charts takes a few hundred milliseconds: off the event loop.
    paths = await asyncio.to_thread(write_clinician_report, report, appendix, folder, locale,
                                    interview_id, notes, forms, ratings)
    await store.run(lambda repo: repo.audit.add("exported", interview_id=interview_id,
                                                person_id=None, now=now, detail="operator"))
    return paths
