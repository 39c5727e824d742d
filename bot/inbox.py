"""The web family's inbox: what the plan's sends leave for families the web cannot push to.

Telegram gets the plan, its check-in and a re-assessment reminder as messages the moment
the scheduler sends them (bot/plan_jobs.py). The web has no push: the same sends are kept
per person in the store (`uow.inbox`, sealed like answers) in the transaction that marks
them sent, and the family's page shows them when it is opened (`shown`, read-only).

- The plan is kept as it was sent, in the clinician's words; "got it" (a POST, the
  `inb:r:<id>` button, bot/features/inbox.py) marks it read.
- The check-in is drawn from the plan's items as they stand: each question not answered
  yet, with the same buttons (and the same feature, bot/features/plan.py) as on Telegram,
  so answering it anywhere closes it everywhere.
- A re-assessment shows its "Start now" button while the follow-up is open and not yet
  taken up.

A family that answers on Telegram but answered part of the interview on the web before
(a "both" invitation, carried over by a resume code) gets the plan and the check-in in
that web person's inbox too (`web_family`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot import plans
from bot.access import LOCAL_WEB_URL, is_clinician
from bot.replies import Reply, Say
from flows.catalog import FlowCatalog
from flows.lifecycle import State, is_open
from store.contract import UnitOfWork
from store.records import InterviewRecord, Person
from store.repos.inbox import InboxEntry

WEB = "web"
LIBRARY = "inbox.j2"
#: The "got it" button: `inb:r:<inbox entry id>`.
PREFIX = "inb:"
#: What "how did it go?" follows (the same rule as the Telegram check-in).
TRIED_IT = ("yes", "partly")
#: How long a link back to a family's page works, and how many one family may be given an
#: hour (each is a way in: not minted in bulk).
LINK_TTL = timedelta(days=30)
LINKS_PER_HOUR = 5


def web_family(uow: UnitOfWork, interview: InterviewRecord) -> list[int]:
    """The family's people on the web: the respondent when on the web, and whoever answered
    the interview on the web before it moved on (a resume code): never a clinician."""
    family = plans.family_of(uow, interview)
    if family is None:
        return []
    found = [family.id] if family.channel == WEB else []
    for author in {r.answered_by for r in uow.answers.history(interview.id)} - {family.id}:
        person = uow.people.by_id(author) if author is not None else None
        if person is not None and _reachable_on_web(person, interview):
            found.append(person.id)
    return sorted(found)


def _reachable_on_web(person: Person, interview: InterviewRecord) -> bool:
    return (person.channel == WEB and person.id != interview.owner_id
            and not is_clinician(person) and not person.external_id.startswith("erased:"))


def keep(uow: UnitOfWork, people: list[int], interview_id: str, kind: str,
         body: dict[str, Any], now: datetime) -> None:
    """One message into each of these people's inboxes (in the caller's transaction)."""
    for person_id in people:
        uow.inbox.add(person_id, interview_id, kind, body, now=now)


def send_plan(
    uow: UnitOfWork, catalog: FlowCatalog, interview: InterviewRecord, channel: str, *,
    by: int | None, now: datetime,
) -> tuple[bool, Say | None]:
    """Send the plan (bot/plans.py: send_plan) and keep it for the family's web people:
    (whether it went anywhere, the message for a chat on `channel` or None).

    A family on the web gets it in its inbox whichever channel the clinician used."""
    say = plans.send_plan(uow, catalog, interview, channel, by=by, now=now)
    if say is None and channel != WEB:
        web = plans.send_plan(uow, catalog, interview, WEB, by=by, now=now)
        if web is None:
            return False, None
        keep(uow, web_family(uow, interview), interview.id, "plan", web.params, now)
        return True, None
    if say is None:
        return False, None
    keep(uow, web_family(uow, interview), interview.id, "plan", say.params, now)
    return True, say


def may_answer_checkin(uow: UnitOfWork, interview: InterviewRecord, person_id: int) -> bool:
    """The family answers the check-in: its respondent, or a web person it was sent to."""
    return interview.respondent_id == person_id or uow.inbox.has(
        person_id, interview.id, "checkin")


def answered_already(tried: str | None, went: str | None, kind: str) -> bool:
    """Whether this check-in question ("t": tried, "w": went) has its answer already (in
    another channel, or a second tap): each is answered once."""
    if kind == "t":
        return tried is not None
    return went is not None or tried not in TRIED_IT


# -- the way back: a one-time link to the family's page ----------------------------------


def link_hash(token: str) -> str:
    """What the store keeps of a link's token."""
    return hashlib.sha256(("back:" + token).encode()).hexdigest()


def new_links(uow: UnitOfWork, web_url: str | None, interview: InterviewRecord,
              now: datetime) -> list[str]:
    """A one-time link back to their page for each of the family's people on the web, for
    the clinician to give them (a family whose browser session ended is a stranger to the
    site); only the hash is kept. None past the hourly limit."""
    links: list[str] = []
    for person_id in web_family(uow, interview):
        if uow.inbox.links_since(person_id, now - timedelta(hours=1)) >= LINKS_PER_HOUR:
            continue
        token = secrets.token_urlsafe(32)
        uow.inbox.add_link(link_hash(token), person_id, now=now, expires_at=now + LINK_TTL)
        links.append(f"{web_url or LOCAL_WEB_URL}/back/{token}")
    return links


def family_links(uow: UnitOfWork, web_url: str | None, interview: InterviewRecord,
                 now: datetime) -> list[Say]:
    """`new_links` as the chat says them: shown once, never stored with the reply."""
    return [Say(message="family_link", library=LIBRARY,
                params={"link": None, "days": LINK_TTL.days}, secret={"link": link})
            for link in new_links(uow, web_url, interview, now)]


def come_back(uow: UnitOfWork, token: str, now: datetime) -> str | None:
    """Spend a link back (once): the family's web person's opaque id, which the browser
    presenting it becomes; None when it opens nothing (unknown, used, expired, erased)."""
    if not token or len(token) > 100:
        return None
    person_id = uow.inbox.use_link(link_hash(token), now=now)
    person = uow.people.by_id(person_id) if person_id is not None else None
    if person is None or person.channel != WEB or person.external_id.startswith("erased:") \
            or is_clinician(person):
        return None
    uow.audit.add("family_back", interview_id=None, person_id=person.id, now=now)
    return person.external_id


# -- the page -----------------------------------------------------------------------------


@dataclass
class Shown:
    """What the family's page shows of its inbox: above the page, and (read plans) below."""

    locale: str
    top: list[Reply] = field(default_factory=list)
    below: list[Reply] = field(default_factory=list)


def shown(uow: UnitOfWork, channel: str, external_id: str) -> Shown | None:
    """The person's inbox as their page shows it now; None for someone unknown. Writes
    nothing (the web's GET)."""
    person = uow.people.find(channel, external_id)
    if person is None:
        return None
    page = Shown(person.locale)
    newest: dict[tuple[str, str], InboxEntry] = {}
    for entry in uow.inbox.of_person(person.id):  # newest first: a plan sent again wins
        newest.setdefault((entry.kind, entry.interview_id), entry)
    for entry in sorted(newest.values(), key=lambda e: e.id):  # oldest first on the page
        if entry.kind == "plan":
            (page.below if entry.read_at is not None else page.top).append(_plan(entry))
        elif entry.kind == "checkin":
            page.top.extend(_checkin(uow, entry))
        else:
            page.top.extend(_reassess(uow, person, entry))
    return page


def _plan(entry: InboxEntry) -> Say:
    unread = entry.read_at is None
    return Say(message="plan", library=LIBRARY, params={**entry.body, "unread": unread},
               choices=[("got_it", f"{PREFIX}r:{entry.id}")] if unread else [])


def _checkin(uow: UnitOfWork, entry: InboxEntry) -> list[Reply]:
    """Each check-in question still open, as the Telegram check-in asks it."""
    plan = uow.plans.plan(entry.interview_id)
    if plan is None or plan.checkin_at is None:
        return []
    words = {int(i["n"]): i for i in entry.body.get("items", [])}
    questions: list[Reply] = []
    for item in plan.items:
        shown_as = words.get(item.position)
        if item.status != "sent" or shown_as is None:
            continue
        if not answered_already(item.tried, item.went, "t"):
            questions.append(Say(
                message="checkin_tried", library=plans.LIBRARY,
                params={"n": item.position, "title": shown_as["title"],
                        "words": shown_as["words"]},
                choices=[(f"tried_{v}", plans.payload("t", entry.interview_id, item.position, v))
                         for v in ("yes", "partly", "no", "unknown")],
            ))
        elif not answered_already(item.tried, item.went, "w"):
            questions.append(Say(
                message="checkin_went", library=plans.LIBRARY, params={"n": item.position},
                choices=[(f"went_{v}", plans.payload("w", entry.interview_id, item.position, v))
                         for v in ("better", "same", "worse", "too_soon")],
            ))
    if not questions:
        return []
    intro = Say(message="checkin_intro", library=plans.LIBRARY,
                params={"nickname": entry.body.get("nickname"),
                        "count": int(entry.body.get("count", len(words)))})
    return [intro, *questions]


def _reassess(uow: UnitOfWork, person: Person, entry: InboxEntry) -> list[Reply]:
    """The reminder, while its follow-up is open, theirs, and not yet taken up."""
    follow_up = uow.interviews.get(entry.interview_id)
    if follow_up is None or not is_open(State(follow_up.state)) \
            or follow_up.respondent_id != person.id or person.active_interview == follow_up.id:
        return []
    return [Say(message="reassess_due", library=plans.LIBRARY,
                params={"nickname": entry.body.get("nickname"),
                        "months": entry.body.get("months")},
                choices=[("button_start", plans.payload("r", follow_up.id))])]
