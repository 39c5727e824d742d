"""The workspace's own endpoints: sign-in by one-time link, sign-out, its stylesheet."""

from __future__ import annotations

import hashlib
from typing import Protocol
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.features.web_signin import redeem_link
from bot.service import DialogueService
from bot.web.clinic import caseload, interview, pdf, plan, ratings
from bot.web.clinic.auth import IDLE, LIFETIME, Refused, require_clinician, require_csrf
from bot.web.clinic.layout import clinic_stylesheet, render
from bot.web.forms import FormError, read_form
from bot.web.security import RateLimiter, new_secret, token_hash
from store.contract import UnitOfWork


class Channel(Protocol):
    """What the workspace uses of the web channel (bot/web/app.py: WebChannel): its
    service, its limits, how it reads a request's address and language."""

    service: DialogueService
    per_address: RateLimiter
    per_link: RateLimiter

    @property
    def secure(self) -> bool: ...
    def _client(self, request: Request) -> str: ...
    @staticmethod
    def _hint(request: Request) -> str | None: ...


SIGNIN_PAGE = "web/clinic_signin.html.j2"


class ClinicWeb:
    """What the workspace shares across requests: the store, the limits, the cookie."""

    def __init__(self, web: Channel) -> None:
        self.web = web
        self.service = web.service
        self.store = web.service.store
        self.clock = web.service.clock
        self.secure = web.secure

    @property
    def cookie_name(self) -> str:
        # Its own cookie, apart from the family pages' session: a clinician's browser may
        # also hold a family's (testing a link), and the two never open each other.
        return "__Host-hearth-clinic" if self.secure else "hearth-clinic"

    def check_rate(self, request: Request, link: str | None = None) -> None:
        """Per address, and per sign-in link: `Refused` (429) past the limits."""
        allowed = self.web.per_address.allow(self.web._client(request))
        if allowed and link is not None:
            key = "clinic:" + hashlib.sha256(link.encode()).hexdigest()[:32]
            allowed = self.web.per_link.allow(key) and self.web.per_link.allow(
                "clinic-address:" + self.web._client(request))
        if not allowed:
            refused = self.refusal(request, "too_many", 429)
            refused.headers["retry-after"] = "60"
            raise Refused(refused)

    def refusal(self, request: Request, notice: str, status: int, *,
                clear_cookie: bool = False) -> Response:
        """A page that only says why (signed out, forbidden, too many requests)."""
        response = render(None, SIGNIN_PAGE, lang=self.web._hint(request), notice=notice,
                          token="", status=status)
        if clear_cookie:
            self.drop_cookie(response)
        return response

    def drop_cookie(self, response: Response) -> None:
        response.delete_cookie(self.cookie_name, path="/", secure=self.secure, httponly=True,
                               samesite="lax")

    # -- endpoints ----------------------------------------------------------------------------

    async def signin_page(self, request: Request) -> Response:
        """GET: a "Sign in" button for the link's token. Nothing is spent on GET (link
        previews and scanners fetch links)."""
        token = str(request.path_params.get("token", ""))[:100]
        self.check_rate(request, token or None)
        return render(None, SIGNIN_PAGE, lang=self.web._hint(request), token=token,
                      notice="" if token else "signin_needed")

    async def signin(self, request: Request) -> Response:
        """POST: spend the link, bind a new session to the clinician, go to the caseload."""
        try:
            form = await read_form(request)
        except FormError:
            return self.refusal(request, "bad_form", 400)
        token = form.get("token", "")[:100]
        self.check_rate(request, token)
        if not self._same_site(request):
            return self.refusal(request, "forbidden", 403)
        cookie = new_secret()
        now = self.clock()

        def enter(uow: UnitOfWork) -> int | None:
            # Expired sessions go here: signing in is rare, and the table stays small.
            uow.clinic.prune_sessions(idle_before=now - IDLE, created_before=now - LIFETIME)
            return redeem_link(uow, token, token_hash(cookie), now=now)

        person = await self.store.run(enter)
        if person is None:
            return self.refusal(request, "signin_failed", 403)
        response = RedirectResponse("/clinic/", status_code=303)
        response.set_cookie(self.cookie_name, cookie, path="/", secure=self.secure,
                            httponly=True, samesite="lax")  # a browser-session cookie
        return response

    async def signout(self, request: Request) -> Response:
        clinician = await require_clinician(request)
        try:
            form = await read_form(request)
        except FormError:
            return self.refusal(request, "bad_form", 400)
        await require_csrf(request, clinician, form)
        now = self.clock()

        def end(uow: UnitOfWork) -> None:
            uow.clinic.end_session(clinician.session.token_hash)
            uow.audit.add("web_signout", interview_id=None, person_id=clinician.person_id,
                          now=now)

        await self.store.run(end)
        response = self.refusal(request, "signed_out", 200, clear_cookie=True)
        return response

    async def css(self, request: Request) -> Response:
        return Response(clinic_stylesheet(), media_type="text/css",
                        headers={"cache-control": "public, max-age=31536000, immutable"})

    @staticmethod
    def _same_site(request: Request) -> bool:
        """A sign-in form posted from this site (no login CSRF: another site cannot sign a
        browser into a workspace with a link of its own)."""
        site = request.headers.get("sec-fetch-site")
        if site is not None:
            # Set by the browser itself, and decisive: a real browser's Origin on this
            # POST is "null", as our pages' `Referrer-Policy: no-referrer` makes it.
            return site in ("same-origin", "none")
        origin = request.headers.get("origin")
        return origin is None or urlsplit(origin).netloc == request.headers.get("host", "")


def _clinic(request: Request) -> ClinicWeb:
    web: ClinicWeb = request.app.state.clinic
    return web


def routes() -> list[Route]:
    """The workspace's routes; `create_app` adds them, sets `app.state.clinic` and turns a
    `Refused` raised anywhere (by `require_clinician`) into its response."""

    async def signin_page(request: Request) -> Response:
        return await _clinic(request).signin_page(request)

    async def signin(request: Request) -> Response:
        return await _clinic(request).signin(request)

    async def signout(request: Request) -> Response:
        return await _clinic(request).signout(request)

    async def css(request: Request) -> Response:
        return await _clinic(request).css(request)

    return [
        Route("/clinic/signin", signin_page, methods=["GET"]),
        Route("/clinic/signin/{token}", signin_page, methods=["GET"]),
        Route("/clinic/signin", signin, methods=["POST"]),
        Route("/clinic/signout", signout, methods=["POST"]),
        Route("/static/clinic.css", css, methods=["GET"]),
        Route("/clinic/", caseload.page, methods=["GET"]),
        Route("/clinic/interviews/{interview_id}", interview.page, methods=["GET"]),
        Route("/clinic/interviews/{interview_id}/plan", plan.show, methods=["GET"]),
        Route("/clinic/interviews/{interview_id}/plan", plan.change, methods=["POST"]),
        Route("/clinic/interviews/{interview_id}/report.pdf", pdf.report_pdf, methods=["GET"]),
        *ratings.routes(),
    ]
