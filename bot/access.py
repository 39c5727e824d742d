"""Access policy: who is an operator, invitation codes and their hashes, who may see what."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from store.contract import UnitOfWork
from store.records import InterviewRecord, Invite, Person

if TYPE_CHECKING:
    from bot.settings import Settings

#: Bytes of randomness in an invitation code: 128 bits, 22 URL-safe characters, which fits
#: Telegram's /start parameter (at most 64 characters of A-Z a-z 0-9 _ -).
CODE_BYTES = 16
_CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_INTERVIEW_ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

#: The channel an operator's bare id (no "channel:" prefix) refers to.
DEFAULT_CHANNEL = "telegram"

WRONG_CODE = "invite_code"

#: The web app's address when HEARTH_WEB_URL is not set (`hearth web`'s default).
LOCAL_WEB_URL = "http://127.0.0.1:8080"

#: Where an invitation may be answered: `/new <nickname> [web|telegram|both]`.
CHANNELS = ("web", "telegram", "both")


@dataclass(frozen=True)
class InviteLinks:
    """An invitation's links, per channel (None: not asked for, or not configured)."""

    telegram: str | None
    web: str | None


@dataclass(frozen=True)
class AccessPolicy:
    """The operator's access settings, checked when built."""

    #: "channel:id" of the people who may register clinicians.
    admins: frozenset[str] = field(default_factory=frozenset)
    #: The bot's username, for invitation deep links; without it the code is shown alone.
    bot_username: str | None = None
    #: The web channel's public base URL (HEARTH_WEB_URL), for `<url>/start/<code>` links.
    web_url: str | None = None
    invite_ttl: timedelta = timedelta(days=7)
    #: How long a resume code works (bot/features/resume.py), at most: also until the
    #: interview ends.
    resume_ttl: timedelta = timedelta(days=7)
    wrong_codes_allowed: int = 5
    wrong_code_window: timedelta = timedelta(hours=1)
    #: How long a "/forget" waits for its confirmation.
    erase_window: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.invite_ttl <= timedelta(0):
            raise ValueError(f"invite_ttl must be positive, got {self.invite_ttl}")
        if self.resume_ttl <= timedelta(0):
            raise ValueError(f"resume_ttl must be positive, got {self.resume_ttl}")
        if self.wrong_codes_allowed < 1:
            raise ValueError(
                f"wrong_codes_allowed must be at least 1, got {self.wrong_codes_allowed}"
            )
        if self.wrong_code_window <= timedelta(0) or self.erase_window <= timedelta(0):
            raise ValueError("wrong_code_window and erase_window must be positive")
        if self.bot_username is not None and not re.fullmatch(r"\w{3,64}", self.bot_username):
            raise ValueError(f"bot_username must be a Telegram username, got {self.bot_username!r}")
        bad = [a for a in self.admins if a.count(":") != 1 or not all(a.split(":"))]
        if bad:
            raise ValueError(f"admin ids must look like 'channel:id', got {sorted(bad)}")

    @classmethod
    def build(
        cls,
        admin_ids: list[str] | tuple[str, ...] = (),
        *,
        bot_username: str | None = None,
        invite_ttl: timedelta = timedelta(days=7),
        web_url: str | None = None,
    ) -> AccessPolicy:
        """From operator input: bare ids mean Telegram ids; a leading '@' is dropped."""
        admins = frozenset(
            a if ":" in a else f"{DEFAULT_CHANNEL}:{a}" for a in (x.strip() for x in admin_ids) if a
        )
        username = bot_username.lstrip("@") if bot_username else None
        return cls(
            admins=admins,
            bot_username=username or None,
            invite_ttl=invite_ttl,
            web_url=web_url.rstrip("/") if web_url else None,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        """The policy an operator configured (HEARTH_ADMIN_IDS, _BOT_USERNAME, _INVITE_DAYS,
        _WEB_URL)."""
        return cls.build(
            settings.admin_ids,
            bot_username=settings.bot_username,
            invite_ttl=timedelta(days=settings.invite_days),
            # Set by the operator, not a default: web-core's Settings may default it to the
            # local address, and only a configured web channel makes "both" the default.
            web_url=settings.web_url if "web_url" in settings.model_fields_set else None,
        )

    def is_admin(self, channel: str, user_id: str) -> bool:
        """Whether this channel's user may register clinicians."""
        return f"{channel}:{user_id}" in self.admins

    def invite_link(self, code: str) -> str | None:
        """The deep link that opens the bot with `/start <code>`, if the username is known."""
        if self.bot_username is None:
            return None
        return f"https://t.me/{self.bot_username}?start={code}"

    def default_channel(self) -> str:
        """Where an invitation is answered when the clinician does not say: both places
        once the web channel is configured, else Telegram."""
        return "both" if self.web_url else "telegram"

    def invite_links(self, code: str, channel: str | None = None) -> InviteLinks:
        """The links that open an invitation in `channel` ("web", "telegram", "both").

        The one place invitation links are built (`/new`, `/invite`, `/informant`, the CLI).
        A web link without HEARTH_WEB_URL uses the web app's local address, which is what
        `hearth web` serves by default.
        """
        channel = channel or self.default_channel()
        telegram = self.invite_link(code) if channel in ("telegram", "both") else None
        base = self.web_url or LOCAL_WEB_URL
        web = f"{base}/start/{code}" if channel in ("web", "both") else None
        return InviteLinks(telegram=telegram, web=web)


#: Telegram start links that are not invitations begin with these: a book-club check-in's
#: "r_" (bot/bookclub.py LINK_PREFIX). A random invitation code began with one 1 time in
#: 4,096 and opened "unknown book-club link" instead of the interview.
NOT_AN_INVITATION = ("r_",)


def new_code() -> str:
    """A fresh, unguessable invitation code, never one another start link could claim."""
    while (code := secrets.token_urlsafe(CODE_BYTES)).startswith(NOT_AN_INVITATION):
        pass
    return code


def code_hash(code: str) -> str:
    """What the store keeps instead of the code: its SHA-256, in hex."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def find_invite(repo: UnitOfWork, code: str) -> Invite | None:
    """The invitation this code opens, or None (malformed or unknown).

    The lookup is by hash: its timing depends on the hash of the guess, which a guesser
    cannot steer towards a stored hash, so it leaks nothing about real codes. The final
    comparison is constant-time anyway, so that holds whatever index the store uses.
    """
    if not _CODE_SHAPE.match(code):
        return None
    digest = code_hash(code)
    invite = repo.access.invite(digest)
    if invite is None or not hmac.compare_digest(invite.code_hash, digest):
        return None
    return invite


def guessing_wait(
    uow: UnitOfWork, policy: AccessPolicy, person_id: int, kind: str, now: datetime
) -> int | None:
    """Minutes this person must wait before trying a code of `kind` again, or None.

    Wrong codes are counted per kind over `wrong_code_window`; checked before the code,
    so guessing stops counting once `wrong_codes_allowed` is reached.
    """
    access = uow.access
    window_start = now - policy.wrong_code_window
    access.forget_attempts(person_id, kind, window_start)
    if access.attempts_since(person_id, kind, window_start) < policy.wrong_codes_allowed:
        return None
    oldest = access.oldest_attempt_since(person_id, kind, window_start)
    wait = (oldest or now) + policy.wrong_code_window - now
    return max(1, math.ceil(wait.total_seconds() / 60))


def plausible_interview_id(text: str) -> bool:
    """Whether text could be an interview id (anything else is 'not found' without a query)."""
    return bool(_INTERVIEW_ID_SHAPE.match(text))


def is_clinician(person: Person) -> bool:
    """Clinicians create, list, open and export interviews for families."""
    return person.role == "clinician"


def may_access(person: Person, interview: InterviewRecord) -> bool:
    """A person sees an interview they own or answer for, and no other.

    A clinician owns the interviews they created; a caregiver owns the ones they started
    and answers for the ones they were invited to.
    """
    return person.id in (interview.owner_id, interview.respondent_id)


# -- the one authorisation check (issue 20; docs/security.md "Roles") ----------------------
#
# Every channel (bot commands, the web workspace, the CLI's person-facing paths) asks these
# questions and nothing else. They read the person's role and memberships from the store on
# every call, so a role taken back or a membership ended counts at the very next request,
# on every channel, web sessions included: nothing is cached in a session.


def supervises(uow: UnitOfWork, supervisor: Person, owner_id: int) -> bool:
    """Whether `supervisor` is a clinician who supervises an organisation `owner_id` is in."""
    return is_clinician(supervisor) and owner_id in uow.teams.supervised_by(supervisor.id)


def may_change(person: Person, interview: InterviewRecord) -> bool:
    """Who may change an interview as a clinician (answer it, invite, follow up, ask an
    informant): the clinician who owns it, alone; a family answers through may_access."""
    return is_clinician(person) and interview.owner_id == person.id


def may_read(uow: UnitOfWork, person: Person, interview: InterviewRecord) -> bool:
    """Who may read an interview as a clinician (list, report, export, its pages, the PDF):
    its owner, or a supervisor of an organisation the owner belongs to. Supervisors read
    and do not change: the owner stays answerable for what the interview says."""
    return may_change(person, interview) or supervises(uow, person, interview.owner_id)


def caseload_owners(uow: UnitOfWork, person: Person) -> list[int]:
    """Whose interviews a clinician's caseload lists: their own, and their team's if they
    supervise one (an empty list for anyone who is not a clinician)."""
    if not is_clinician(person):
        return []
    team = uow.teams.supervised_by(person.id)
    return [person.id, *(member for member in team if member != person.id)]


def may_transfer(uow: UnitOfWork, person: Person, interview: InterviewRecord) -> bool:
    """The owner hands an interview on, and so may a supervisor of the owner's organisation
    (a clinician away, a caseload rebalanced); the operator does it from the CLI."""
    return may_read(uow, person, interview)


def may_export_full_report(person: Person, interview: InterviewRecord) -> bool:
    """The full report is for the clinician who owns the interview.

    For callers that hold no unit of work; with one, `may_read` also lets the owner's
    supervisors read it.
    """
    return may_change(person, interview)
