"""`GET /clinic/interviews/{id}`: one interview: its report with the charts inline, the
informants side by side, every answer's revisions, the audit trail."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re

from starlette.requests import Request
from starlette.responses import Response

from bot.reports import clinician_html
from bot.web.clinic.auth import require_clinician, workspace
from bot.web.clinic.layout import render, tabs
from bot.workspace_interview import InterviewView, interview_view

TEMPLATE = "web/clinic_interview.html.j2"
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_BODY = re.compile(r"<body>(.*)</body>", re.S)


def report_parts(view: InterviewView) -> tuple[str, str]:
    """The report (bot/reports.py, the same document `/report` sends) as (its <style>
    text, its body's markup); charts drawn into it as data: images."""
    assert view.report is not None
    report, appendix = view.report
    html = clinician_html(report, appendix, view.locale, None, view.flow, view.safety,
                          view.informants, view.ratings)
    style, body = _STYLE.search(html), _BODY.search(html)
    return (style.group(1) if style else ""), (body.group(1) if body else "")


def policy(style: str) -> str:
    """This page's Content-Security-Policy: the family pages' one, plus the report's own
    stylesheet (by its hash, not 'unsafe-inline') and its charts as data: images."""
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'self' 'sha256-{digest}'; img-src 'self' data:; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


async def page(request: Request) -> Response:
    clinician = await require_clinician(request)
    web = workspace(request)
    interview_id = str(request.path_params["interview_id"])[:64]
    now = web.clock()
    view = await web.store.run(lambda uow: interview_view(
        uow, web.service.catalog, clinician.person_id, interview_id, now))
    if view is None:  # unknown and someone else's look the same: no existence oracle
        return render(clinician, "web/clinic_signin.html.j2", token="", notice="not_found",
                      status=404)
    style, body = "", ""
    if view.report is not None:
        # Drawing the charts takes a few hundred milliseconds: off the event loop.
        style, body = await asyncio.to_thread(report_parts, view)
    headers = {"content-security-policy": policy(style)} if style else None
    return render(clinician, TEMPLATE, current="caseload", view=view, report_style=style,
                  report_body=body, tabs=tabs(view.record.id, "overview"), headers=headers)
