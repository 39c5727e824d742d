"""`GET /clinic/interviews/{id}/report.pdf`: the printable report (bot/pdf.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.pdf import PAPERS, PdfUnavailable, interview_pdf
from bot.reports import report_locale
from bot.web.clinic.auth import require_clinician, workspace
from bot.web.clinic.layout import render


async def report_pdf(request: Request) -> Response:
    """The PDF for whoever may read the interview (bot/access.py `may_read`, checked and
    audited in bot/pdf.py); `?paper=letter` for US Letter, A4 otherwise."""
    clinician = await require_clinician(request)
    web = workspace(request)
    interview_id = str(request.path_params["interview_id"])[:64]
    paper = request.query_params.get("paper", "A4")
    try:
        pdf = await interview_pdf(
            web.store, web.service.catalog, interview_id, web.clock(),
            locale=report_locale(clinician.locale),
            paper=paper if paper in PAPERS else "A4",
            person_id=clinician.person_id,
        )
    except PdfUnavailable:
        return render(clinician, "web/clinic_signin.html.j2", token="",
                      notice="pdf_unavailable", status=503)
    if pdf is None:  # unknown, unscored and someone else's look the same
        return render(clinician, "web/clinic_signin.html.j2", token="", notice="not_found",
                      status=404)
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="report-{interview_id}.pdf"',
        "cache-control": "no-store",
    })
