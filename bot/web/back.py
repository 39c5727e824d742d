"""`GET /back/{token}` and `POST /back`: a family on the web comes back to its page.

A family is known by its browser's session, which ends (idle, too old, another phone). The
clinician gives it a one-time link (bot/inbox.py: `family_links`); opening it shows one
button and spends nothing (link previews and scanners fetch links), and pressing it makes
this browser that family's web person again: its plan, check-in and interview are there.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Protocol

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot import inbox
from bot.service import DialogueService
from bot.web.forms import FormError, read_form
from bot.web.pages import stylesheet_path, words
from bot.web.security import RateLimiter, csrf_ok, csrf_token
from bot.web.sessions import Browser, Sessions
from messages.render import LOCALES, environment, say

TEMPLATE = "web/back.html.j2"


class _Config(Protocol):
    @property
    def cookie_name(self) -> str: ...
    @property
    def lifetime(self) -> timedelta: ...


class WebChannel(Protocol):
    """What these pages use of the web app (bot/web/app.py: WebChannel)."""

    service: DialogueService
    sessions: Sessions
    per_link: RateLimiter

    @property
    def config(self) -> _Config: ...
    def _hint(self, request: Request) -> str | None: ...
    def _limited(self, request: Request, link: str | None = None) -> Response | None: ...
    async def _browser(self, request: Request) -> tuple[Browser, bool]: ...
    def set_cookie(self, response: Response, cookie: str) -> None: ...
    def _link_key(self, code: str) -> str: ...
    def _client(self, request: Request) -> str: ...


def _draw(web: WebChannel, request: Request, *, csrf: str = "", token: str = "",
          failed: bool = False, status: int = 200) -> HTMLResponse:
    hint = (web._hint(request) or "en").split("-")[0].lower()
    lang = hint if hint in LOCALES else "en"
    html = environment().get_template(TEMPLATE).render(
        lang=lang, css=stylesheet_path(), csrf=csrf, token=token, failed=failed,
        home=words(lang, "back_to_start"),
        t=lambda name, **params: say(lang, inbox.LIBRARY, name, "web", **params),
    )
    return HTMLResponse(html, status_code=status)


async def landing(web: WebChannel, request: Request) -> Response:
    """The link's page: one button. Nothing is spent or changed on GET."""
    token = str(request.path_params["token"])[:100]
    if (refused := web._limited(request, link=token)) is not None:
        return refused
    browser, fresh = await web._browser(request)
    response = _draw(web, request, csrf=csrf_token(browser.cookie), token=token)
    if fresh:
        web.set_cookie(response, browser.cookie)
    return response


async def come_back(web: WebChannel, request: Request) -> Response:
    """Spend the link: this browser becomes the family's web person (a new session)."""
    if (refused := web._limited(request)) is not None:
        return refused
    browser = await web.sessions.open(request.cookies.get(web.config.cookie_name))
    try:
        form = await read_form(request)
    except FormError:
        return _draw(web, request, failed=True, status=400)
    if browser is None or not csrf_ok(browser.cookie, form.get("csrf", "")):
        return _draw(web, request, failed=True, status=403)
    token = form.get("token", "").strip()
    if not web.per_link.allow(web._link_key(token)) or not web.per_link.allow(
            "address:" + web._client(request)):
        return _draw(web, request, failed=True, status=429)
    user_id = await web.service.store.run(
        partial(inbox.come_back, token=token, now=web.service.clock()))
    if user_id is None:
        return _draw(web, request, failed=True, status=400)
    family = await web.sessions.create(user_id=user_id, replacing=browser.row.token_hash)
    response = RedirectResponse("/", status_code=303)
    web.set_cookie(response, family.cookie)
    return response
