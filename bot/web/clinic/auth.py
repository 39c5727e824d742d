"""Who is asking in the workspace: `require_clinician`, checked afresh on every request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.access import is_clinician
from bot.service import Clock, DialogueService
from bot.web.security import csrf_ok, csrf_token, token_hash
from store.backend import Backend
from store.contract import UnitOfWork
from store.records import ClinicSession, Person

#: A workspace session ends after this long unused, and this long after sign-in at most:
#: shorter than a family's (a clinician's screen shows many families).
IDLE = timedelta(hours=12)
LIFETIME = timedelta(days=7)
#: Its last use is written at most this often (a page view is otherwise a read only).
SEEN_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class Clinician:
    """The signed-in clinician of one request."""

    person_id: int
    role: str
    #: Their organisation(s) by name (bot/teams.py); None when in none. What they may read
    #: is never decided from this: bot/access.py reads the store on every check.
    org: str | None
    locale: str
    cookie: str
    session: ClinicSession

    @property
    def csrf(self) -> str:
        """The token every workspace form posts back (an HMAC of the cookie)."""
        return csrf_token(self.cookie)


class Refused(Exception):
    """A request the workspace does not serve: its response (303 to sign-in, 403, 429)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class Workspace(Protocol):
    """What every workspace page may use of the app (bot/web/clinic/app.py: ClinicWeb)."""

    service: DialogueService
    store: Backend
    clock: Clock

    @property
    def cookie_name(self) -> str: ...
    def check_rate(self, request: Request, link: str | None = None) -> None: ...
    def refusal(self, request: Request, notice: str, status: int, *,
                clear_cookie: bool = False) -> Response: ...


def workspace(request: Request) -> Workspace:
    """The workspace of this app (`create_app` sets it on the app's state)."""
    web: Workspace = request.app.state.clinic
    return web


def _lookup(uow: UnitOfWork, digest: str) -> tuple[ClinicSession, Person, str | None] | None:
    row = uow.clinic.session_of(digest)
    person = uow.people.by_id(row.person_id) if row is not None else None
    if row is None or person is None:
        return None
    return row, person, team_of(uow, person)


def team_of(uow: UnitOfWork, person: Person) -> str | None:
    """The organisation(s) a clinician belongs to, by name, for the page header."""
    names = {org.id: org.name for org in uow.teams.orgs()}
    return ", ".join(names[m.org_id] for m in uow.teams.memberships_of(person.id)) or None


async def require_clinician(request: Request) -> Clinician:
    """The clinician signed in on this browser, or `Refused`: 303 to sign-in (no session),
    403 (a session whose person is no longer a clinician: it ends here), 429 (flooding).

    The role is read from the store on every request, never cached: a clinician whose role
    is taken back loses the workspace at the next click, in every open tab.
    """
    web = workspace(request)
    web.check_rate(request)
    cookie = request.cookies.get(web.cookie_name, "")
    found = None
    if cookie and len(cookie) <= 100:
        digest = token_hash(cookie)
        found = await web.store.read(lambda uow: _lookup(uow, digest))
    now = web.clock()
    if found is None or _expired(found[0], now):
        raise Refused(RedirectResponse("/clinic/signin", status_code=303))
    row, person, org = found
    if not is_clinician(person):
        await web.store.run(lambda uow: _ended(uow, row, person, now))
        raise Refused(web.refusal(request, "no_longer_clinician", 403, clear_cookie=True))
    if now - row.seen_at >= SEEN_EVERY:
        await web.store.run(lambda uow: uow.clinic.seen(row.token_hash, now=now))
    return Clinician(person.id, person.role, org, person.locale, cookie, row)


async def require_csrf(request: Request, clinician: Clinician, form: dict[str, str]) -> None:
    """A workspace POST carries the session's CSRF token, or is refused (403)."""
    if not csrf_ok(clinician.cookie, form.get("csrf", "")):
        raise Refused(workspace(request).refusal(request, "forbidden", 403))


def _expired(row: ClinicSession, now: datetime) -> bool:
    return now - row.seen_at > IDLE or now - row.created_at > LIFETIME


def _ended(uow: UnitOfWork, row: ClinicSession, person: Person, now: datetime) -> None:
    uow.clinic.end_session(row.token_hash)
    uow.audit.add("denied", interview_id=None, person_id=person.id, now=now, detail="web")
