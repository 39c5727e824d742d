"""Clinicians' sign-in to the web workspace: `/web` gives a one-time link, the web redeems it."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import caseload
from bot.access import LOCAL_WEB_URL, AccessPolicy, is_clinician
from bot.context import StepContext
from bot.model import Kind
from bot.replies import Say
from bot.router import Interest
from store.contract import UnitOfWork
from store.records import Person

LIBRARY = "clinic.j2"
#: How long a sign-in link works: long enough to open it on a computer, short enough that
#: one left in a chat's history is dead by the time anyone scrolls back to it.
LINK_TTL = timedelta(minutes=15)
#: Links a clinician may ask for per hour: a stolen chat cannot mint them without end.
LINKS_PER_HOUR = 5
#: 256 random bits, URL-safe (43 characters).
TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{40,64}$")
#: What a redeemed link is recorded as (never the token).
SIGNED_IN = "web_signin"


def link_hash(token: str) -> str:
    """What the store keeps of a link's token: its SHA-256 (apart from invitation hashes)."""
    return hashlib.sha256(f"clinic:{token}".encode()).hexdigest()


def signin_url(access: AccessPolicy, token: str) -> str:
    """`{HEARTH_WEB_URL}/clinic/signin/{token}` (the local address when not configured)."""
    return f"{access.web_url or LOCAL_WEB_URL}/clinic/signin/{token}"


@dataclass(frozen=True)
class IssuedLink:
    url: str
    expires: datetime


def issue_link(uow: UnitOfWork, access: AccessPolicy, person: Person, *,
               now: datetime) -> IssuedLink | None:
    """A fresh one-time link for a clinician, stored hashed; None past the hourly limit.

    The caller checks the person is a clinician (the bot's `/web`, the operator's CLI).
    """
    uow.clinic.prune_links(now - timedelta(days=1))
    if uow.clinic.links_since(person.id, now - timedelta(hours=1)) >= LINKS_PER_HOUR:
        return None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + LINK_TTL
    uow.clinic.add_link(link_hash(token), person.id, now=now, expires_at=expires)
    uow.audit.add("web_link", interview_id=None, person_id=person.id, now=now)
    return IssuedLink(signin_url(access, token), expires)


def redeem_link(uow: UnitOfWork, token: str, session_hash: str, *, now: datetime) -> int | None:
    """Spend a link on a new workspace session (stored by `session_hash`): the clinician's
    person id, or None (malformed, unknown, used, expired, or no longer a clinician)."""
    if not _TOKEN_SHAPE.match(token):
        return None
    digest = link_hash(token)
    link = uow.clinic.link(digest)
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        return None
    person = uow.people.by_id(link.person_id)
    if link.used_at is not None or now >= link.expires_at or person is None or not (
        is_clinician(person)
    ):
        uow.audit.add("denied", interview_id=None, person_id=link.person_id, now=now,
                      detail="web_signin")
        return None
    if not uow.clinic.use_link(digest, now=now):  # used meanwhile: single use holds
        return None
    uow.clinic.add_session(session_hash, person.id, now=now)
    uow.audit.add(SIGNED_IN, interview_id=None, person_id=person.id, now=now)
    return person.id


class WebSignIn:
    """`/web`: a registered clinician gets a one-time link to the web workspace."""

    name = "web_signin"
    interest = Interest(commands=frozenset({"web"}))

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not inbound.private or inbound.kind is not Kind.COMMAND or inbound.payload != "web":
            return False
        if not caseload.require_clinician(ctx, "web"):
            return True
        issued = issue_link(ctx.uow, ctx.access, ctx.person, now=ctx.now)
        if issued is None:
            ctx.say("web_link_limited", library=LIBRARY, limit=LINKS_PER_HOUR)
            return True
        ctx.replies.append(Say(
            message="web_link",
            library=LIBRARY,
            params={"link": None, "minutes": int(LINK_TTL.total_seconds() // 60)},
            # Shown once: only its hash is stored, not even in the delivery.
            secret={"link": issued.url},
        ))
        return True
