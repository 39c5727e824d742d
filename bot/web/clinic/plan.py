"""`GET/POST /clinic/interviews/{id}/plan`: notes, the plan, its review date, sending it,
and the re-assessment schedule. Authorised and audited in bot/plan_desk.py."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot.plan_desk import change_plan, family_links, plan_page
from bot.web.clinic.auth import Clinician, require_clinician, require_csrf, workspace
from bot.web.clinic.layout import INTERVIEW_TABS, NavItem, render, tabs
from bot.web.forms import FormError, read_form
from messages.render import LOCALES, has_macro, say

TEMPLATE = "web/clinic_plan.html.j2"
WORDS = "clinic_plan.j2"
#: Removing an item (messages/<locale>/clinic_plan_edits.j2).
EDITS = "clinic_plan_edits.j2"
#: The family's link back to its web page (messages/<locale>/clinic_family_link.j2).
LINKS = "clinic_family_link.j2"

INTERVIEW_TABS.append(NavItem("/plan", "tab_plan", "plan"))


def _words(locale: str) -> Any:
    lang = locale if locale in LOCALES else "en"

    def word(name: str, **params: Any) -> str:
        # The page's words, and the removal's and the family link's in their own files.
        library = next((lib for lib in (WORDS, EDITS) if has_macro(lang, lib, name)), LINKS)
        return say(lang, library, name, "web", **params)

    return word


async def _draw(request: Request, clinician: Clinician, interview_id: str, *,
                said: str = "", ok: bool = True, status: int = 200,
                links: list[str] | None = None) -> Response:
    web = workspace(request)
    page = await web.store.run(partial(plan_page, catalog=web.service.catalog,
                                       person_id=clinician.person_id,
                                       interview_id=interview_id, now=web.clock()))
    if page is None:
        return web.refusal(request, "not_found", 404)
    page.links = links or []
    return render(clinician, TEMPLATE, current="caseload", status=status, page=page,
                  tabs=tabs(interview_id, "plan"), p=_words(clinician.locale), said=said,
                  ok=ok)


async def show(request: Request) -> Response:
    clinician = await require_clinician(request)
    return await _draw(request, clinician, str(request.path_params["interview_id"])[:40])


async def change(request: Request) -> Response:
    clinician = await require_clinician(request)
    web = workspace(request)
    try:
        form = await read_form(request)
    except FormError:
        return web.refusal(request, "bad_form", 400)
    await require_csrf(request, clinician, form)
    interview_id = str(request.path_params["interview_id"])[:40]
    if form.get("action") == "family_link":
        links = await web.store.run(partial(
            family_links, person_id=clinician.person_id, interview_id=interview_id,
            web_url=web.service.access.web_url, now=web.clock()))
        if links is None:
            return web.refusal(request, "not_found", 404)
        # Shown on this response only (no-store, as every page); the store keeps a hash.
        return await _draw(request, clinician, interview_id, links=links,
                           said="" if links else "family_link_none", ok=bool(links),
                           status=200 if links else 400)
    done = await web.store.run(partial(change_plan, catalog=web.service.catalog,
                                       person_id=clinician.person_id,
                                       interview_id=interview_id, form=form, now=web.clock()))
    if done is None:
        return web.refusal(request, "not_found", 404)
    said, ok = done
    return await _draw(request, clinician, interview_id, said=said, ok=ok,
                       status=200 if ok else 400)
