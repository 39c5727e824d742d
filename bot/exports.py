"""Render an `Export`: the scored report when the report builder can, else the answer list."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from bot.model import Attachment, Outbound
from bot.replies import Export
from bot.reporting import current_ratings
from bot.wording import Wording
from flows.answers import decode_value
from flows.engine import Answer, Answers
from flows.schema import Flow
from messages.render import say

LIBRARY = "clinician.j2"


def _m(locale: str, name: str, **params: Any) -> str:
    return say(locale, LIBRARY, name, **params)


def answers_of(export: Export) -> Answers:
    """The engine's view of the exported answers (a skipped row counts as one skip)."""
    return {
        row.key: Answer(decode_value(row.value), 0) if row.value is not None else Answer(None, 1)
        for row in export.rows
    }


def render_export(renderer: Wording, export: Export, locale: str) -> list[Outbound]:
    """The scored report for a submitted interview whose flow has rules; else the answers."""
    flow = renderer.catalog.get(export.flow)
    if export.state == "submitted":
        scored = _scored(flow, export, locale)
        if scored is not None:
            return scored
    return [_answer_list(renderer, flow, export, locale)]


def _scored(flow: Flow, export: Export, locale: str) -> list[Outbound] | None:
    # The report builder is optional: a deployment (or a flow) without it still gets the
    # plain answer list, which is the whole record.
    try:
        from bot import reports
        from scoring import build_report, has_rules
    except ImportError:
        return None
    if not has_rules(flow.id):
        return None
    answers = answers_of(export)
    report = build_report(flow, answers, export.at, current_ratings(export.ratings))
    if export.audience == "caregiver":
        return [Outbound(reports.caregiver_summary(report, locale, flow))]
    html = reports.clinician_html(report, reports.answer_appendix(flow, answers, locale), locale,
                                  flow=flow, safety=export.safety, informants=export.informants,
                                  ratings=export.ratings)
    caption = _m(
        locale, "report_caption", nickname=export.nickname, interview_id=export.interview_id
    )
    attachment = Attachment(
        f"hearth-report-{export.interview_id}.html", html.encode("utf-8"), "text/html"
    )
    return [Outbound(caption, attachment=attachment)]


def _answer_list(renderer: Wording, flow: Flow, export: Export, locale: str) -> Outbound:
    rows = [
        {
            "number": number,
            "section": renderer.section_title(flow, row.key, locale),
            "prompt": renderer.prompt(flow, row.key, locale),
            "display": renderer.display(flow, row.key, row.value, locale),
        }
        for number, row in enumerate(export.rows, start=1)
    ]
    document = _m(
        locale,
        "answer_list",
        title=flow.text(flow.title, locale),
        nickname=export.nickname,
        state=export.state,
        at=f"{export.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        interview_id=export.interview_id,
        rows=rows,
    )
    caption = _m(
        locale,
        "report_caption" if export.audience == "clinician" else "summary_caption",
        nickname=export.nickname,
        interview_id=export.interview_id,
    )
    attachment = Attachment(
        f"hearth-answers-{export.interview_id}.txt",
        (document + "\n").encode("utf-8"),
        "text/plain; charset=utf-8",
    )
    return Outbound(caption, attachment=attachment)
