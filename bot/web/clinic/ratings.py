"""`GET/POST /clinic/interviews/{id}/ratings`: the clinician rates functions of the map.

One form per function (a value on the map's scale and a reason), the family's view and
every earlier rating beside it, and which view the scores use. Who may, and the audit,
are bot/workspace_ratings.py's (the same checks as `/rate`); this module draws and reads.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.clinic.auth import Clinician, require_clinician, require_csrf, workspace
from bot.web.clinic.layout import INTERVIEW_TABS, NavItem, render, tabs
from bot.web.forms import FormError, read_form
from bot.workspace_ratings import RatingsView, rate, ratings_view, withdraw
from messages.render import LOCALES, say

TEMPLATE = "web/clinic_ratings.html.j2"
LIBRARY = "clinic_ratings.j2"
#: The words of withdrawing a rating (messages/<locale>/rating_edits.j2).
EDITS = "rating_edits.j2"
#: The longest reason kept from the page (a paragraph; the bot's is one message).
MAX_REASON = 2000

if not any(tab.key == "ratings" for tab in INTERVIEW_TABS):
    INTERVIEW_TABS.append(NavItem("/ratings", "tab_ratings", "ratings"))


def _words(locale: str, library: str = LIBRARY) -> Any:
    lang = locale if locale in LOCALES else "en"
    return lambda name, **params: say(lang, library, name, "web", **params)


def _interview_id(request: Request) -> str:
    return str(request.path_params["interview_id"])[:64]


def _page(clinician: Clinician, view: RatingsView, *, status: int = 200, problem: str = "",
          saved: str = "", typed: dict[str, str] | None = None,
          withdrawn: bool = False) -> Response:
    locale = clinician.locale if clinician.locale in LOCALES else "en"
    return render(clinician, TEMPLATE, current="caseload", view=view, r=_words(locale),
                  w=_words(locale, EDITS), locale=locale, problem=problem, saved=saved,
                  typed=typed or {},
                  tabs=tabs(view.record.id, "ratings"), status=status, withdrawn=withdrawn)


def _not_found(clinician: Clinician) -> Response:
    # Unknown, someone else's, and without a map look the same: no existence oracle.
    return render(clinician, "web/clinic_signin.html.j2", token="", notice="not_found",
                  status=404)


async def page(request: Request) -> Response:
    clinician = await require_clinician(request)
    web = workspace(request)
    view = await web.store.run(partial(ratings_view, catalog=web.service.catalog,
                                       person_id=clinician.person_id,
                                       interview_id=_interview_id(request), now=web.clock()))
    if view is None:
        return _not_found(clinician)
    saved = request.query_params.get("saved", "")[:40]
    return _page(clinician, view, saved=saved if any(r.function == saved
                                                       for r in view.rows) else "",
                 withdrawn=request.query_params.get("withdrawn", "") == "1")


async def post(request: Request) -> Response:
    clinician = await require_clinician(request)
    web = workspace(request)
    try:
        form = await read_form(request)
    except FormError:
        return web.refusal(request, "bad_form", 400)
    await require_csrf(request, clinician, form)
    function, value = form.get("function", "")[:40], form.get("value", "")[:20]
    reason = form.get("reason", "")[:MAX_REASON]
    withdrawing = form.get("action", "") == "withdraw"
    if withdrawing:
        done = await web.store.run(partial(
            withdraw, catalog=web.service.catalog, person_id=clinician.person_id,
            interview_id=_interview_id(request), function=function, reason=reason,
            now=web.clock()))
    else:
        done = await web.store.run(partial(
            rate, catalog=web.service.catalog, person_id=clinician.person_id,
            interview_id=_interview_id(request), function=function, value=value,
            reason=reason, now=web.clock()))
    if done is None:
        return _not_found(clinician)
    view, problem = done
    if problem is not None:
        # Nothing was kept: the same page, the problem said beside that function's form,
        # what was typed still in it.
        return _page(clinician, view, status=400, problem=problem.value,
                     typed={"function": function, "value": value, "reason": reason,
                            "action": "withdraw" if withdrawing else "rate"})
    # Post/redirect/get: a reload does not rate twice.
    where = f"/clinic/interviews/{quote(view.record.id)}/ratings?saved={quote(function)}"
    if withdrawing:
        where += "&withdrawn=1"
    return RedirectResponse(where + f"#f-{quote(function)}", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/clinic/interviews/{interview_id}/ratings", page, methods=["GET"]),
        Route("/clinic/interviews/{interview_id}/ratings", post, methods=["POST"]),
    ]
