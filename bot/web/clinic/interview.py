"""`GET /clinic/interviews/{id}`: one interview: its report, answers with revisions, audit."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.web.clinic.auth import require_clinician, workspace


async def page(request: Request) -> Response:
    await require_clinician(request)
    return workspace(request).refusal(request, "not_found", 404)
