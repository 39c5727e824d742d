"""`GET /clinic/`: the clinician's caseload, sortable, filterable and paged by plain links."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.web.clinic.auth import require_clinician, workspace
from bot.web.clinic.layout import render
from bot.workspace import CaseloadQuery, caseload_view

TEMPLATE = "web/clinic_caseload.html.j2"


async def page(request: Request) -> Response:
    clinician = await require_clinician(request)
    web = workspace(request)
    query = CaseloadQuery.parse(request.query_params)
    now = web.clock()
    view = await web.store.run(
        lambda uow: caseload_view(uow, web.service.catalog, clinician.person_id, query, now))
    if view is None:  # the role went between the check and the read
        return web.refusal(request, "no_longer_clinician", 403, clear_cookie=True)
    return render(clinician, TEMPLATE, current="caseload", view=view, query=query)
