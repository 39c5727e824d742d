"""The web channel's ASGI app: requests -> `Inbound`s, the person's messages -> HTML pages."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.model import Inbound, Kind, Outbound
from bot.service import DialogueService
from bot.settings import Settings
from bot.web import back
from bot.web.clinic.app import ClinicWeb
from bot.web.clinic.app import routes as clinic_routes
from bot.web.clinic.auth import Refused
from bot.web.forms import FormError, read_form
from bot.web.inbox import InboxPage, from_inbox, with_inbox
from bot.web.middleware import Guard
from bot.web.pages import MAX_ANSWER_CHARS, Page, PageBuilder, merge, stylesheet, with_notice
from bot.web.security import (
    ClientAddress,
    RateLimiter,
    csrf_ok,
    csrf_token,
    new_nonce,
    nonce_delivery,
)
from bot.web.sessions import Browser, LastForms, Sessions

CHANNEL = "web"
log = logging.getLogger(__name__)
#: Commands a form may send (the buttons the pages draw, and the interview's own words).
COMMANDS = frozenset({
    "start", "back", "skip", "pause", "resume", "review", "edit", "submit", "status", "help",
    "language", "code", "continue", "forget", "lowexposure",
})


#: A posted form -> its `Inbound`, or a refusal: (the web.j2 notice, its parameters).
MakeInbound = Callable[
    [Request, Browser, dict[str, str], str], Inbound | tuple[str, dict[str, object]]
]


@dataclass(frozen=True)
class WebConfig:
    """What the app needs of the settings."""

    secure: bool = False
    trusted_proxies: tuple[str, ...] = ()
    idle: timedelta = timedelta(hours=72)
    lifetime: timedelta = timedelta(days=30)
    rate_per_minute: int = 120
    #: Tries per minute at one invitation link or resume code, and per address at any.
    link_rate_per_minute: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> WebConfig:
        return cls(
            secure=(settings.web_url or "").startswith("https://"),
            trusted_proxies=tuple(settings.trusted_proxies),
            idle=timedelta(hours=settings.web_idle_hours),
            lifetime=timedelta(days=settings.web_session_days),
            rate_per_minute=settings.web_rate_per_minute,
        )

    @property
    def cookie_name(self) -> str:
        # __Host- cookies are bound to this host and path "/", and must be Secure.
        return "__Host-hearth" if self.secure else "hearth"


class WebChannel:
    """Each endpoint turns a request into one `Inbound` or one read-only view."""

    def __init__(self, service: DialogueService, config: WebConfig) -> None:
        self.service = service
        self.config = config
        self.pages = PageBuilder(service.catalog)
        self.sessions = Sessions(service.store, service.clock, config.idle, config.lifetime)
        self.replied = LastForms()
        self.inbox = InboxPage(service)
        self.address = ClientAddress(config.trusted_proxies)
        burst = max(10, config.rate_per_minute // 2)
        self.per_address = RateLimiter(config.rate_per_minute, burst)
        self.per_link = RateLimiter(config.link_rate_per_minute, config.link_rate_per_minute)

    @property
    def secure(self) -> bool:
        return self.config.secure

    # -- endpoints ----------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        """The person's current page. Never moves the interview."""
        if (refused := self._limited(request)) is not None:
            return refused
        browser, fresh = await self._browser(request)
        return await self._page(request, browser, fresh)

    async def landing(self, request: Request) -> Response:
        """An invitation link: a "Begin" form that posts the code; nothing happens on GET."""
        code = str(request.path_params["code"])[:64]
        if (refused := self._limited(request, link=code)) is not None:
            return refused
        browser, fresh = await self._browser(request)
        page = self.pages.page(self._hint(request) or "en", [], invite=code)
        return self._html(page, browser, fresh)

    async def step(self, request: Request) -> Response:
        """A posted form: one step, then 303 to the page that shows its replies."""
        return await self._post(request, self._inbound)

    async def resume(self, request: Request) -> Response:
        """A resume code typed on the welcome page: `continue CODE`."""
        return await self._post(request, self._resume_inbound)

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def css(self, request: Request) -> Response:
        return Response(stylesheet(), media_type="text/css",
                        headers={"cache-control": "public, max-age=31536000, immutable"})

    # -- posting ------------------------------------------------------------------------------

    async def _post(self, request: Request, make: MakeInbound) -> Response:
        if (refused := self._limited(request)) is not None:
            return refused
        browser = await self.sessions.open(request.cookies.get(self.config.cookie_name))
        try:
            form = await read_form(request)
        except FormError:
            return await self._refused(request, browser, "bad_form", 400)
        if browser is None or not csrf_ok(browser.cookie, form.get("csrf", "")):
            return await self._refused(request, browser, "forbidden", 403)
        max_age = self.config.lifetime.total_seconds()
        delivery = nonce_delivery(browser.cookie, form.get("nonce", ""), max_age)
        if delivery is None:
            return await self._refused(request, browser, "stale_form", 400)
        made = make(request, browser, form, delivery)
        if isinstance(made, tuple):
            name, params = made
            status = {"too_many": 429, "bad_form": 400}.get(name, 422)
            return await self._refused(request, browser, name, status, **params)
        replies = await self.service.handle(made)
        failed = [m for m in replies if m.key.endswith(".store_failed")]
        if failed:
            return await self._page(request, browser, False, extra=failed, status=503)
        if any(m.key.endswith(".erased") for m in replies):
            return self._erased(request, replies)
        self.replied.remember(browser.row.token_hash, delivery)
        if any(m.once or m.attachment is not None for m in replies):
            # A code shown once is not in the stored outcome a GET would replay: this page
            # is the only one that has it (a reload re-posts the same nonce: one step).
            mine = [m for m in replies if m.chat_id in (None, browser.user_id)]
            return await self._page(request, browser, False, extra=mine, replace=True)
        await self.sessions.seen(browser)
        return RedirectResponse("/", status_code=303)

    def _erased(self, request: Request, replies: list[Outbound]) -> Response:
        """Erased: the session went with the person; say so once, and drop the cookie."""
        page = self.pages.page(self._hint(request) or "en", replies)
        page.begin = page.resume = page.privacy = False
        page.nav, page.answer, page.home = [], None, True
        response = self._html(page, None, False)
        response.delete_cookie(self.config.cookie_name, path="/", secure=self.config.secure,
                               httponly=True, samesite="lax")
        return response

    def _inbound(self, request: Request, browser: Browser, form: dict[str, str],
                 delivery: str) -> Inbound | tuple[str, dict[str, object]]:
        def inbound(kind: Kind, payload: str, args: str = "") -> Inbound:
            return Inbound(CHANNEL, browser.user_id, browser.user_id, kind, payload, delivery,
                           args, locale_hint=self._hint(request))

        if "choice" in form:
            payload = form["choice"]
            if not payload or len(payload) > 128 or not payload.isprintable():
                return ("bad_form", {})
            return inbound(Kind.CHOICE, payload)
        if "command" in form:
            name = form["command"]
            args = form.get("args", "").strip()
            if name not in COMMANDS or len(args) > 100:
                return ("bad_form", {})
            if name == "start" and args and not self.per_link.allow(self._link_key(args)):
                return ("too_many", {})
            return inbound(Kind.COMMAND, name, args)
        if "text" in form:
            text = form["text"].replace("\r\n", "\n").strip()
            if not text:
                return ("empty_text", {})
            if len(text) > MAX_ANSWER_CHARS:
                return ("too_long", {"limit": MAX_ANSWER_CHARS})
            word, _, rest = text.partition(" ")
            if word.startswith("/") and len(word) > 1:
                # As in Telegram and the console: "/name args" is a command (/new, /report).
                return inbound(Kind.COMMAND, word[1:].casefold(), rest.strip())
            return inbound(Kind.TEXT, text)
        return ("bad_form", {})

    def _resume_inbound(self, request: Request, browser: Browser, form: dict[str, str],
                        delivery: str) -> Inbound | tuple[str, dict[str, object]]:
        code = form.get("code", "").strip()
        if not code or len(code) > 40:
            return ("bad_form", {})
        if not self.per_link.allow(self._link_key(code)) or not self.per_link.allow(
            "address:" + self._client(request)
        ):
            return ("too_many", {})
        return Inbound(CHANNEL, browser.user_id, browser.user_id, Kind.COMMAND, "continue",
                       delivery, code, locale_hint=self._hint(request))

    # -- pages --------------------------------------------------------------------------------

    async def _browser(self, request: Request) -> tuple[Browser, bool]:
        browser = await self.sessions.open(request.cookies.get(self.config.cookie_name))
        if browser is None:
            return await self.sessions.create(), True
        await self.sessions.seen(browser)
        return browser, False

    async def _messages(self, request: Request, browser: Browser, *,
                        with_last: bool = True) -> tuple[str, list[Outbound]]:
        """The replies of the last form posted (kept with its delivery), then the view now."""
        last, view = await self.service.view(
            CHANNEL, browser.user_id, self._hint(request),
            after=self.replied.last(browser.row.token_hash) if with_last else None,
        )
        pending: list[Outbound] = []
        if last is not None:
            pending = [m for m in await self.service.render(last)
                       if m.chat_id in (None, browser.user_id)]
        now = await self.service.render(view)
        top, below = await self.inbox.messages(browser.user_id, view.locale, now)
        return view.locale, with_inbox(pending, now, top, below)

    async def _page(self, request: Request, browser: Browser, fresh: bool, *,
                    extra: list[Outbound] | None = None, status: int = 200,
                    replace: bool = False) -> Response:
        """The page now; `extra` above it, or with `replace` instead of the last replies."""
        locale, messages = await self._messages(request, browser, with_last=not replace)
        extra = extra or []
        page = self.pages.page(locale, merge(extra, messages) if replace else extra + messages)
        if from_inbox(page.messages):
            # A family with a plan: "erase everything" is theirs here too, and "begin" would
            # start an interview nobody asked for.
            page.privacy, page.begin = True, False
        return self._html(page, browser, fresh, status)

    async def _refused(self, request: Request, browser: Browser | None, notice: str,
                       status: int, **params: object) -> Response:
        """A form not taken: say why, above the page as it is now (nothing was changed)."""
        if browser is None:
            page = self.pages.page(self._hint(request) or "en", [])
            page.begin = page.resume = False
            page.messages, page.home = [], True
            return self._html(with_notice(page, notice, **params), None, False, status)
        locale, messages = await self._messages(request, browser)
        page = with_notice(self.pages.page(locale, messages), notice, **params)
        return self._html(page, browser, False, status)

    def _html(
        self, page: Page, browser: Browser | None, fresh: bool, status: int = 200
    ) -> Response:
        cookie = browser.cookie if browser is not None else ""
        html = self.pages.html(page, csrf=csrf_token(cookie) if cookie else "",
                               nonce=new_nonce(cookie) if cookie else "")
        response = HTMLResponse(html, status_code=status)
        if fresh and browser is not None:
            self.set_cookie(response, browser.cookie)
        return response

    def set_cookie(self, response: Response, cookie: str) -> None:
        """The session's cookie on a response (a new browser, a family come back)."""
        response.set_cookie(
            self.config.cookie_name, cookie,
            max_age=int(self.config.lifetime.total_seconds()), path="/",
            secure=self.config.secure, httponly=True, samesite="lax",
        )

    # -- limits -------------------------------------------------------------------------------

    def _client(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return self.address.of(peer, request.headers.get("x-forwarded-for"))

    @staticmethod
    def _link_key(code: str) -> str:
        return "link:" + hashlib.sha256(code.strip().encode()).hexdigest()[:32]

    def _limited(self, request: Request, link: str | None = None) -> Response | None:
        allowed = self.per_address.allow(self._client(request))
        if allowed and link is not None:
            allowed = self.per_link.allow(self._link_key(link))
        if allowed:
            return None
        page = with_notice(self.pages.page(self._hint(request) or "en", []), "too_many")
        page.begin = page.resume = False
        page.messages, page.home = [], True
        response = self._html(page, None, False, 429)
        response.headers["retry-after"] = "60"
        return response

    @staticmethod
    def _hint(request: Request) -> str | None:
        accepted = request.headers.get("accept-language", "")
        return accepted.split(",")[0].split(";")[0].strip() or None


def create_app(service: DialogueService, config: WebConfig | None = None) -> Guard:
    """The web channel over `service` (the same one Telegram and the console use)."""
    web = WebChannel(service, config or WebConfig())

    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("web request failed", exc_info=exc)
        return _error_page(web, request, "failed", 500)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return _error_page(web, request, "not_found" if status == 404 else "bad_form", status)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return exc.response

    app = Starlette(
        routes=[
            Route("/", web.index, methods=["GET"]),
            Route("/start/{code}", web.landing, methods=["GET"]),
            Route("/step", web.step, methods=["POST"]),
            Route("/continue", web.resume, methods=["POST"]),
            Route("/back/{token}", partial(back.landing, web), methods=["GET"]),
            Route("/back", partial(back.come_back, web), methods=["POST"]),
            Route("/healthz", web.healthz, methods=["GET"]),
            Route("/static/app.css", web.css, methods=["GET"]),
            *clinic_routes(),
        ],
        exception_handlers={500: failed, 404: not_found, 405: not_found, Refused: refused},
    )
    app.state.web = web
    app.state.clinic = ClinicWeb(web)
    return Guard(app)


def _error_page(web: WebChannel, request: Request, notice: str, status: int) -> Response:
    page = with_notice(web.pages.page(web._hint(request) or "en", []), notice)
    page.begin = page.resume = False
    page.messages, page.home = [], True
    return web._html(page, None, False, status)
